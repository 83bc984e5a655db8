"""The JPEG XL entropy code, decoded only to find where an entropy-coded stream ends.

Two streams sit between a codestream's headers and the data of its frames: the ICC
profile (when the colour encoding wants one) and a frame's TOC permutation (when its
sections are permuted). Neither carries a length, so the end of the codestream can only
be found by decoding their symbols. Layout (ISO/IEC 18181-1 annex C; ported from j40's
j40.h, checked against libjxl lib/jxl/dec_ans.cc, dec_context_map.cc):
    code        LZ77 parameters (Bool, then min_symbol, min_length and a length
                configuration), a context map (clusters), then per cluster either a
                Brotli prefix code (RFC 7932 section 3) or an ANS distribution
                (12-bit, with the alias table), each with a hybrid-uint configuration
    symbols     ANS: a 32-bit state read first, 16 bits refilled, 0x130000 at the end;
                tokens beyond min_symbol are LZ77 copies (window of 2^20 values)
Every count read is capped: at most 256 clusters, alphabets of at most 2^15 symbols,
hybrid integers of at most 31 extra bits; the caller caps how many symbols it decodes.
"""

from __future__ import annotations

from .jxl_bits import BitReader, ceil_log2

DIST_BITS = 12
DIST_SUM = 1 << DIST_BITS
ANS_FINAL_STATE = 0x130000
MAX_CLUSTERS = 256
MAX_PREFIX_ALPHABET = 1 << 15
MAX_HYBRID_BITS = 31
LZ77_WINDOW = 1 << 20
LZ77_MIN_SYMBOL = ((224, 0), (512, 0), (4096, 0), (8, 15))
LZ77_MIN_LENGTH = ((3, 0), (4, 0), (5, 2), (9, 8))
LZ77_LENGTH_SPLIT = 8
# RFC 7932 section 3.5: the order of the code length code lengths, and their own fixed
# code, by the next 4 bits (first bit read lowest): (code length, bits used).
CODE_LENGTH_ORDER = (1, 2, 3, 4, 0, 5, 17, 6, 16, 7, 8, 9, 10, 11, 12, 13, 14, 15)
CODE_LENGTH_CODE = (
    (0, 2), (4, 2), (3, 2), (2, 3), (0, 2), (4, 2), (3, 2), (1, 4),
    (0, 2), (4, 2), (3, 2), (2, 3), (0, 2), (4, 2), (3, 2), (5, 4),
)  # fmt: skip
REPEAT_PREVIOUS = 16  # code lengths 16 and 17 repeat the previous length and zero
MAX_CODE_LENGTH = 15
FAST_BITS = 9  # a prefix code's lookup table has at most 2^9 entries
# ANS log counts (libjxl kLogCountLut), by the next 4 bits: (log count, bits used);
# 0b0001 is the start of a longer code (_log_count). Log count 13 starts a run.
LOG_COUNT_CODE = (
    (10, 3), None, (7, 3), (3, 4), (6, 3), (8, 3), (9, 3), (5, 4),
    (10, 3), (4, 4), (7, 3), (1, 4), (6, 3), (8, 3), (9, 3), (2, 4),
)  # fmt: skip
LOG_COUNT_RUN = 13


class EntropyError(Exception):
    """A malformed entropy-coded stream (turned into ImageError by the caller)."""


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise EntropyError(what)


class _PrefixCode:
    """A canonical prefix code, read most significant code bit first. Codes of up to
    FAST_BITS bits are found in one table lookup on the next bits (first read lowest);
    longer ones bit by bit."""

    def __init__(self, lengths: list[int]) -> None:
        used = sorted((length, symbol) for symbol, length in enumerate(lengths) if length)
        self.single = used[0][1] if len(used) == 1 else None
        self.max_length = used[-1][0] if used else 0
        self.fast_bits = min(self.max_length, FAST_BITS)
        self.fast: list[tuple[int, int] | None] = [None] * (1 << self.fast_bits)
        self.codes: dict[tuple[int, int], int] = {}
        code, previous = 0, 0
        for length, symbol in used:
            code <<= length - previous
            self.codes[(length, code)] = symbol
            if length <= self.fast_bits:
                reversed_code = int(format(code, f"0{length}b")[::-1], 2)
                for high in range(1 << (self.fast_bits - length)):
                    self.fast[reversed_code | high << length] = (symbol, length)
            code += 1
            previous = length

    def decode(self, reader: BitReader) -> int:
        if self.single is not None:
            return self.single
        entry = self.fast[reader.peek(self.fast_bits)]
        if entry is not None:
            reader.skip(entry[1], "a prefix code")
            return entry[0]
        code = 0
        for length in range(1, self.max_length + 1):
            code = code << 1 | reader.u(1, "a prefix code")
            symbol = self.codes.get((length, code))
            if symbol is not None:
                return symbol
        raise EntropyError("invalid prefix code")


def _single(symbol: int) -> _PrefixCode:
    """The code of one symbol, which takes no bits."""
    code = _PrefixCode([])
    code.single = symbol
    return code


def _simple_prefix_code(reader: BitReader, size: int) -> _PrefixCode:
    count = reader.u(2) + 1
    symbols = [reader.u(ceil_log2(size)) for _ in range(count)]
    _check(all(symbol < size for symbol in symbols) and len(set(symbols)) == count, "invalid simple prefix code")
    if count == 1:
        return _single(symbols[0])
    if count == 4 and reader.u(1):
        code_lengths = (1, 2, 3, 3)
    else:
        code_lengths = {2: (1, 1), 3: (1, 2, 2), 4: (2, 2, 2, 2)}[count]
    lengths = [0] * size
    for symbol, length in zip(symbols, code_lengths):
        lengths[symbol] = length
    return _PrefixCode(lengths)


def _complex_prefix_code(reader: BitReader, size: int, skip: int) -> _PrefixCode:
    length_lengths = [0] * len(CODE_LENGTH_ORDER)
    space, used = 32, 0
    for index in range(skip, len(CODE_LENGTH_ORDER)):
        length, bits = CODE_LENGTH_CODE[reader.peek(4)]
        reader.skip(bits, "a prefix code")
        length_lengths[CODE_LENGTH_ORDER[index]] = length
        if length:
            space -= 32 >> length
            used += 1
            if space <= 0:
                break
    _check(used == 1 or space == 0, "invalid prefix code lengths")
    length_code = _PrefixCode(length_lengths)
    lengths = [0] * size
    previous, repeat, repeat_length, space, symbol = 8, 0, 0, 1 << MAX_CODE_LENGTH, 0
    while symbol < size and space > 0:
        code = length_code.decode(reader)
        if code < REPEAT_PREVIOUS:
            repeat = 0
            lengths[symbol] = code
            symbol += 1
            if code:
                previous = code
                space -= (1 << MAX_CODE_LENGTH) >> code
            continue
        extra = 2 if code == REPEAT_PREVIOUS else 3
        new_length = previous if code == REPEAT_PREVIOUS else 0
        if repeat_length != new_length:
            repeat, repeat_length = 0, new_length
        old = repeat
        if repeat > 0:
            repeat = (repeat - 2) << extra
        repeat += reader.u(extra) + 3
        delta = repeat - old
        _check(symbol + delta <= size, "prefix code lengths run past the alphabet")
        lengths[symbol : symbol + delta] = [repeat_length] * delta
        symbol += delta
        if repeat_length:
            space -= delta << (MAX_CODE_LENGTH - repeat_length)
    _check(space == 0, "incomplete prefix code")
    return _PrefixCode(lengths)


def _prefix_code(reader: BitReader, size: int) -> _PrefixCode:
    if size == 1:
        return _single(0)
    skip = reader.u(2)
    if skip == 1:
        return _simple_prefix_code(reader, size)
    return _complex_prefix_code(reader, size, skip)


def _ans_u8(reader: BitReader) -> int:
    if not reader.u(1):
        return 0
    bits = reader.u(3)
    return reader.u(bits) + (1 << bits)


def _log_count(reader: BitReader) -> int:
    bits = reader.peek(7)
    entry = LOG_COUNT_CODE[bits & 15]
    if entry is None:  # 0001, then a 1 (log count 0), 01 (11), 000 (12) or 100 (13)
        entry = (0, 5) if bits & 16 else (11, 6) if bits & 32 else (13, 7) if bits & 64 else (12, 7)
    reader.skip(entry[1], "an ANS distribution")
    return entry[0]


def _ans_counts(reader: BitReader, log_alpha: int) -> list[int]:
    size = 1 << log_alpha
    counts = [0] * size
    kind = reader.u(2)  # two Bools, the first in the low bit
    if kind == 1:  # one symbol
        symbol = _ans_u8(reader)
        _check(symbol < size, "ANS symbol out of range")
        counts[symbol] = DIST_SUM
    elif kind == 3:  # two symbols
        first, second = _ans_u8(reader), _ans_u8(reader)
        _check(first != second and first < size and second < size, "ANS symbols out of range")
        counts[first] = reader.u(DIST_BITS)
        counts[second] = DIST_SUM - counts[first]
    elif kind == 2:  # flat
        alphabet = _ans_u8(reader) + 1
        _check(alphabet <= size, "ANS alphabet too large")
        share, extra = divmod(DIST_SUM, alphabet)
        counts[:alphabet] = [share + 1] * extra + [share] * (alphabet - extra)
    else:
        _read_log_counts(reader, counts)
    return counts


def _read_log_counts(reader: BitReader, counts: list[int]) -> None:
    length = 0
    while length < 3 and reader.u(1):
        length += 1
    shift = reader.u(length) + (1 << length) - 1
    _check(shift <= DIST_BITS + 1, "ANS shift out of range")
    alphabet = _ans_u8(reader) + 3
    _check(alphabet <= len(counts), "ANS alphabet too large")
    codes, largest, omitted, read = [], -1, 0, 0
    while read < alphabet:
        code = _log_count(reader)
        if code == LOG_COUNT_RUN:
            run = _ans_u8(reader) + 4
            codes.append(-run)
            read += run
        else:
            if code > largest:  # the first largest count is implied by the others
                largest, omitted = code, read
            codes.append(code)
            read += 1
    _check(read == alphabet and largest >= 0, "invalid ANS log counts")
    total = filled = 0
    for code in codes:
        if code < 0:  # a run of the previous count
            _check(filled - 1 != omitted, "ANS run after the omitted count")
            previous = counts[filled - 1] if filled else 0
            counts[filled : filled - code] = [previous] * -code
            total -= previous * code
            filled -= code
            continue
        if code and filled != omitted:
            code -= 1
            bits = min(max(0, shift - ((DIST_BITS - code) >> 1)), code)
            counts[filled] = (1 << code) + (reader.u(bits) << (code - bits))
            total += counts[filled]
        filled += 1
    _check(total < DIST_SUM, "invalid ANS counts")  # the implied count is at least 1
    counts[omitted] = DIST_SUM - total


class _AnsCode:
    """An ANS distribution with its alias table (j40 j40__init_alias_map)."""

    def __init__(self, counts: list[int], log_alpha: int) -> None:
        size = len(counts)
        self.counts = counts
        self.log_bucket = DIST_BITS - log_alpha
        bucket = 1 << self.log_bucket
        self.cutoff = list(counts)
        self.offset = [0] * size
        self.symbol = list(range(size))
        present = [symbol for symbol, count in enumerate(counts) if count]
        if len(present) == 1:
            self.cutoff = [0] * size
            self.symbol = [present[0]] * size
            self.offset = [index << self.log_bucket for index in range(size)]
            return
        under = [index for index in range(size) if counts[index] < bucket]
        over = [index for index in range(size) if counts[index] > bucket]
        # Every branch of _ans_counts makes the counts sum to DIST_SUM, size buckets' worth:
        # while a bucket holds more than its share, as much is missing from buckets still
        # under, so `under` is never empty here.
        while over:
            top, low = over[-1], under.pop()
            self.cutoff[top] -= bucket - self.cutoff[low]
            self.symbol[low] = top
            self.offset[low] = self.cutoff[top] - self.cutoff[low]
            if self.cutoff[top] < bucket:
                over.pop()
                under.append(top)
            elif self.cutoff[top] == bucket:
                over.pop()

    def decode(self, state: int) -> tuple[int, int]:
        """The symbol and the next state (before refilling)."""
        index = state & (DIST_SUM - 1)
        bucket, position = index >> self.log_bucket, index & ((1 << self.log_bucket) - 1)
        if position < self.cutoff[bucket]:
            symbol, offset = bucket, 0
        else:
            symbol, offset = self.symbol[bucket], self.offset[bucket]
        return symbol, self.counts[symbol] * (state >> DIST_BITS) + offset + position


def _hybrid_config(reader: BitReader, log_alpha: int) -> tuple[int, int, int]:
    split = reader.u(ceil_log2(log_alpha + 1))
    _check(split <= log_alpha, "hybrid integer split out of range")
    if split == log_alpha:
        return split, 0, 0
    msb = reader.u(ceil_log2(split + 1))
    _check(msb <= split, "hybrid integer configuration out of range")
    lsb = reader.u(ceil_log2(split - msb + 1))
    _check(msb + lsb <= split, "hybrid integer configuration out of range")
    return split, msb, lsb


def _hybrid(reader: BitReader, token: int, config: tuple[int, int, int]) -> int:
    split, msb, lsb = config
    if token < 1 << split:
        return token
    bits = split - (msb + lsb) + ((token - (1 << split)) >> (msb + lsb))
    _check(bits <= MAX_HYBRID_BITS, "hybrid integer too large")
    low = token & ((1 << lsb) - 1)
    token >>= lsb
    extra = reader.u(bits, "a hybrid integer")
    return (((1 << msb | (token & ((1 << msb) - 1))) << bits | extra) << lsb) | low


def _cluster_map(reader: BitReader, contexts: int) -> list[int]:
    if contexts == 1:
        return [0]
    if reader.u(1):  # simple: a fixed number of bits each
        bits = reader.u(2)
        clusters = [reader.u(bits) for _ in range(contexts)]
    else:
        move_to_front = reader.u(1)
        nested = EntropyCode(reader, 1, allow_lz77=contexts > 2)
        symbols = SymbolReader(nested, reader)
        clusters = [symbols.decode(0) for _ in range(contexts)]
        symbols.finish()
        if move_to_front:
            order = list(range(MAX_CLUSTERS))
            for index, position in enumerate(clusters):
                _check(position < MAX_CLUSTERS, "cluster index out of range")
                clusters[index] = order.pop(position)
                order.insert(0, clusters[index])
    _check(all(cluster < min(contexts, MAX_CLUSTERS) for cluster in clusters), "cluster index out of range")
    _check(set(clusters) == set(range(max(clusters) + 1)), "clusters not numbered in order")
    return clusters


class EntropyCode:
    """The code of one entropy-coded stream with `contexts` contexts."""

    def __init__(self, reader: BitReader, contexts: int, allow_lz77: bool = True) -> None:
        self.lz77 = bool(reader.u(1))
        self.min_symbol = self.min_length = 0
        if self.lz77:
            _check(allow_lz77, "LZ77 where it is not allowed")
            self.min_symbol = reader.u32(LZ77_MIN_SYMBOL)
            self.min_length = reader.u32(LZ77_MIN_LENGTH)
            self.length_config = _hybrid_config(reader, LZ77_LENGTH_SPLIT)
            contexts += 1  # the last context codes LZ77 distances
        self.contexts = contexts
        self.cluster_map = _cluster_map(reader, contexts)
        clusters = max(self.cluster_map) + 1
        self.use_prefix = bool(reader.u(1))
        self.prefix: list[_PrefixCode] = []
        self.ans: list[_AnsCode] = []
        if self.use_prefix:
            self.configs = [_hybrid_config(reader, MAX_CODE_LENGTH) for _ in range(clusters)]
            sizes = []
            for _ in range(clusters):
                if reader.u(1):
                    bits = reader.u(4)
                    sizes.append(1 + (1 << bits) + reader.u(bits))
                else:
                    sizes.append(1)
            _check(max(sizes) <= MAX_PREFIX_ALPHABET, "prefix code alphabet too large")
            self.prefix = [_prefix_code(reader, size) for size in sizes]
        else:
            log_alpha = 5 + reader.u(2)
            self.configs = [_hybrid_config(reader, log_alpha) for _ in range(clusters)]
            self.ans = [_AnsCode(_ans_counts(reader, log_alpha), log_alpha) for _ in range(clusters)]


class SymbolReader:
    """Decodes the symbols of one stream coded with `code`."""

    def __init__(self, code: EntropyCode, reader: BitReader) -> None:
        self.code = code
        self.reader = reader
        self.state = 0 if code.use_prefix else reader.u(32, "the ANS state")
        self.window: list[int] = []
        self.copy_left = 0
        self.copy_pos = 0

    def _token(self, cluster: int) -> int:
        if self.code.use_prefix:
            return self.code.prefix[cluster].decode(self.reader)
        symbol, state = self.code.ans[cluster].decode(self.state)
        if state < 1 << 16:
            state = state << 16 | self.reader.u(16, "the ANS state")
        self.state = state
        return symbol

    def _copied(self) -> int:
        position = self.copy_pos
        self.copy_pos += 1
        value = self.window[position] if 0 <= position < len(self.window) else 0
        self.window.append(value)
        return value

    def decode(self, context: int) -> int:
        code = self.code
        if self.copy_left:
            self.copy_left -= 1
            return self._copied()
        cluster = code.cluster_map[context]
        token = self._token(cluster)
        if code.lz77 and token >= code.min_symbol:
            length = _hybrid(self.reader, token - code.min_symbol, code.length_config) + code.min_length
            distance_cluster = code.cluster_map[code.contexts - 1]
            distance = _hybrid(self.reader, self._token(distance_cluster), code.configs[distance_cluster]) + 1
            distance = min(distance, len(self.window), LZ77_WINDOW)
            self.copy_pos = len(self.window) - distance
            self.copy_left = length - 1
            return self._copied()
        config = code.configs[cluster]
        value = token if token < 1 << config[0] else _hybrid(self.reader, token, config)
        if code.lz77:
            self.window.append(value)
        return value

    def finish(self) -> None:
        """An ANS stream ends in its initial state."""
        _check(self.code.use_prefix or self.state == ANS_FINAL_STATE, "ANS stream does not end in its final state")
