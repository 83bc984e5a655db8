"""A bit writer for hand-built JPEG XL structures: fields least significant bit first,
as ISO/IEC 18181-1 lays them out (the tests build the codestreams and streams that
encoders never write with it)."""

from __future__ import annotations


class Bits:
    """Writes JPEG XL fields: least significant bit first."""

    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def put(self, value: int, bits: int) -> Bits:
        assert 0 <= value < 1 << bits or bits == 0 and value == 0
        self.value |= value << self.count
        self.count += bits
        return self

    def u32(self, selector: int, value: int = 0, bits: int = 0) -> Bits:
        return self.put(selector, 2).put(value, bits)

    def u64(self, value: int) -> Bits:
        if value == 0:
            return self.put(0, 2)
        self.put(3, 2).put(value & 0xFFF, 12)
        value >>= 12
        while value:
            self.put(1, 1).put(value & 0xFF, 8)
            value >>= 8
        return self.put(0, 1)

    def u8(self, value: int) -> Bits:
        """libjxl DecodeVarLenUint8: 0, or 1 + 3 bits of n + n bits."""
        if value == 0:
            return self.put(0, 1)
        n = value.bit_length() - 1
        return self.put(1, 1).put(n, 3).put(value - (1 << n), n)

    def pad(self) -> Bits:
        self.count = -(-self.count // 8) * 8
        return self

    def data(self) -> bytes:
        return self.value.to_bytes(-(-self.count // 8), "little")


def single_symbol_icc_stream(size: int) -> bytes:
    """A compressed ICC profile stream (libjxl WriteICC layout, zero-padded to the byte)
    of `size` zero bytes: its U64 size, then an entropy code of one cluster whose prefix
    code has a single symbol, so the bytes themselves take no bits."""
    bits = Bits().u64(size)
    bits.put(0, 1).put(1, 1).put(0, 2)  # no LZ77, simple cluster map: one cluster
    bits.put(1, 1).put(15, 4).put(0, 1)  # prefix codes, split exponent 15, alphabet of 1
    return bits.data()


# The prefix code of ANS log counts, as libjxl's 7-bit lookup table in dec_ans.cc ReadHistogram
# lists it: log count -> (index of its first entry, which is the code read first bit lowest, length).
# 13 is the run code.
LOG_COUNT_CODES = {
    10: (0, 3), 7: (2, 3), 6: (4, 3), 8: (5, 3), 9: (6, 3), 3: (3, 4), 5: (7, 4), 4: (9, 4),
    1: (11, 4), 2: (15, 4), 0: (17, 5), 11: (33, 6), 12: (1, 7), 13: (65, 7),
}  # fmt: skip
ANS_FINAL_STATE = 0x130000


def log_count_histogram(shift: int, codes: list, extra: list[tuple[int, int]] = (), alphabet: int | None = None) -> Bits:
    """An ANS distribution of log counts (ISO/IEC 18181-1 C.2.5, libjxl ReadHistogram): the
    two Bools 0 0, the shift (unary length, then its low bits), the alphabet size less 3, the
    log count codes (`("run", n)` for a run of n copies of the previous count), then the
    `extra` (value, bits) of the counts, in order. `alphabet` defaults to what `codes` cover."""
    bits = Bits().put(0, 2)
    length = min(3, (shift + 1).bit_length() - 1)
    bits.put((1 << length) - 1, length)
    if length < 3:
        bits.put(0, 1)
    bits.put(shift + 1 - (1 << length), length)
    covered = sum(code[1] if isinstance(code, tuple) else 1 for code in codes)
    bits.u8((covered if alphabet is None else alphabet) - 3)
    for code in codes:
        if isinstance(code, tuple):
            bits.put(*LOG_COUNT_CODES[13]).u8(code[1] - 4)
        else:
            bits.put(*LOG_COUNT_CODES[code])
    for value, width in extra:
        bits.put(value, width)
    return bits


def then(bits: Bits, more: Bits) -> Bits:
    """`more` written after `bits`."""
    return bits.put(more.value, more.count)


def exact_histogram(counts: list[int]) -> Bits:
    """An ANS distribution of exactly `counts` (4096 in all, at least 3 of them, none 4096):
    log counts with shift 13, which reads every low bit of every count (a count n is log count
    n.bit_length(), then its n.bit_length() - 1 low bits); the first largest is implied."""
    logs = [count.bit_length() for count in counts]
    omitted = logs.index(max(logs))
    extra = [
        (count - (1 << (log - 1)), log - 1) for index, (count, log) in enumerate(zip(counts, logs)) if log and index != omitted
    ]
    return log_count_histogram(13, logs, extra)


def ans_slots(counts: list[int], log_alpha: int) -> list[list[int]]:
    """For each symbol, the states (positions in 0..4095) that decode to it, by the rank it
    decodes them to: the alias table of ISO/IEC 18181-1 C.2.6 as libjxl writes it
    (ans_common.cc InitAliasTable, AliasTable::Lookup), inverted by trying every position."""
    size, entry = 1 << log_alpha, 4096 >> log_alpha
    counts = counts + [0] * (size - len(counts))
    if 4096 in counts:  # one symbol: bucket i holds its ranks i * entry onwards
        table = [(0, counts.index(4096), index * entry) for index in range(size)]
    else:
        cutoffs, right, offsets = list(counts), [0] * size, [0] * size
        overfull = [index for index in range(size) if cutoffs[index] > entry]
        underfull = [index for index in range(size) if cutoffs[index] < entry]
        while overfull:
            over, under = overfull.pop(), underfull.pop()
            cutoffs[over] -= entry - cutoffs[under]
            right[under], offsets[under] = over, cutoffs[over]
            if cutoffs[over] < entry:
                underfull.append(over)
            elif cutoffs[over] > entry:
                overfull.append(over)
        # each bucket's (cutoff, symbol past the cutoff, its rank at the cutoff)
        table = [
            (0, index, 0) if cutoffs[index] == entry else (cutoffs[index], right[index], offsets[index] - cutoffs[index])
            for index in range(size)
        ]
    slots: list[list[int | None]] = [[None] * count for count in counts]
    for position in range(4096):
        bucket, inside = divmod(position, entry)
        cutoff, past, rank = table[bucket]
        symbol, rank = (past, rank + inside) if inside >= cutoff else (bucket, inside)
        assert slots[symbol][rank] is None, "two positions decode to one rank"
        slots[symbol][rank] = position
    return slots  # every rank filled: 4096 positions, 4096 ranks, none twice


def ans_icc_stream(
    histogram: Bits, log_alpha: int, symbols: list[int], counts: list[int] | None = None, state_xor: int = 0
) -> bytes:
    """A compressed ICC profile stream of `symbols`, zero-padded to the byte: one cluster
    coded with ANS over `histogram`, whose counts are `counts` (default: uniform, every one of
    the 2^log_alpha symbols with 4096 >> log_alpha), then the state (XOR `state_xor`, to
    corrupt it) and its 16-bit refills from a plain rANS encoder run backwards from the final
    state: a symbol of count f takes state x to (x // f) * 4096 + the position of rank x % f."""
    bits = Bits().u64(len(symbols))
    bits.put(0, 1).put(1, 1).put(0, 2)  # no LZ77, simple cluster map: one cluster
    bits.put(0, 1).put(log_alpha - 5, 2)  # ANS, log alphabet size
    bits.put(log_alpha, (log_alpha + 1 - 1).bit_length())  # split exponent log_alpha, in ceil(log2(log_alpha + 1)) bits
    then(bits, histogram)
    counts = counts or [4096 >> log_alpha] * (1 << log_alpha)
    slots = ans_slots(counts, log_alpha)
    state, refills = ANS_FINAL_STATE, []
    for symbol in reversed(symbols):
        frequency = counts[symbol]
        if state >> 20 >= frequency:
            refills.append(state & 0xFFFF)
            state >>= 16
        state = (state // frequency << 12) + slots[symbol][state % frequency]
    bits.put(state ^ state_xor, 32)
    for refill in reversed(refills):
        bits.put(refill, 16)
    return bits.data()


# RFC 7932 section 3.5: the order of the code length code lengths, and the fixed code of
# each (0..5) as (value read first bit lowest, bits).
CODE_LENGTH_ORDER = (1, 2, 3, 4, 0, 5, 17, 6, 16, 7, 8, 9, 10, 11, 12, 13, 14, 15)
CODE_LENGTH_CODE_CODES = {0: (0, 2), 1: (7, 4), 2: (3, 3), 3: (2, 2), 4: (1, 2), 5: (15, 4)}


def canonical_codes(lengths: dict[int, int]) -> dict[int, tuple[int, int]]:
    """RFC 7932 section 3.2: symbol -> (code, length) of the canonical prefix code."""
    codes, code, previous = {}, 0, 0
    for symbol, length in sorted(lengths.items(), key=lambda item: (item[1], item[0])):
        code <<= length - previous
        codes[symbol] = (code, length)
        code, previous = code + 1, length
    return codes


def put_code(bits: Bits, code: tuple[int, int]) -> Bits:
    """A prefix code's code, its most significant bit first."""
    value, length = code
    for shift in reversed(range(length)):
        bits.put(value >> shift & 1, 1)
    return bits


def complex_prefix_code(length_code: dict[int, int], lengths: list, hskip: int = 0) -> Bits:
    """A complex prefix code (RFC 7932 section 3.5): HSKIP, the code length code lengths of
    `length_code` (code length or repeat code -> its length) in CODE_LENGTH_ORDER from
    `hskip` on, up to the last one given (all 18 when they do not fill the code space),
    then `lengths` coded with them (no bits each when there is one): a length, or
    (16, extra) to repeat the previous length, (17, extra) to repeat zero."""
    bits = Bits().put(hskip, 2)
    full = sum(32 >> length for length in length_code.values()) == 32
    last = max(CODE_LENGTH_ORDER.index(symbol) for symbol in length_code) if full else len(CODE_LENGTH_ORDER) - 1
    for symbol in CODE_LENGTH_ORDER[hskip : last + 1]:
        bits.put(*CODE_LENGTH_CODE_CODES[length_code.get(symbol, 0)])
    codes = canonical_codes(length_code) if len(length_code) > 1 else dict.fromkeys(length_code, (0, 0))
    for length in lengths:
        if isinstance(length, tuple):
            put_code(bits, codes[length[0]]).put(length[1], 2 if length[0] == 16 else 3)
        else:
            put_code(bits, codes[length])
    return bits


def prefix_icc_stream(size_bits: Bits, code: Bits, symbol_codes: dict[int, tuple[int, int]], symbols: list[int], config: Bits | None = None) -> Bits:
    """A compressed ICC profile of `symbols` (its bits: .data() zero-pads them to the byte): one cluster with the
    alphabet size `size_bits` (after its Bool), the prefix `code`, the hybrid integer
    `config` (default: split exponent 15, values below 2^15 as they are), each symbol
    coded as `symbol_codes` gives it."""
    bits = Bits().u64(len(symbols)).put(0, 1).put(1, 1).put(0, 2)  # no LZ77, one cluster
    bits.put(1, 1)  # prefix codes
    then(bits, config if config is not None else Bits().put(15, 4))
    then(bits.put(1, 1), size_bits)
    then(bits, code)
    for symbol in symbols:
        put_code(bits, symbol_codes[symbol])
    return bits
