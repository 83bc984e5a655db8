"""JPEG XL: drop the metadata boxes of a container, and anything after the codestream.

Byte layout (ISO/IEC 18181-1 codestream, 18181-2 container; boxes as in isobmff.py):
    codestream  FF 0A, headers, then frames up to the one marked is_last
                (jxl_codestream.py finds where that frame ends)
    container   "JXL " signature box (12 bytes: 00 00 00 0C 'JXL ' 0D 0A 87 0A), then
                ftyp (major brand "jxl "), optional jxll (level), then the codestream in
                one jxlc box or in jxlp parts (u32be index, top bit set on the last part);
                Exif (u32be offset to the TIFF header, then TIFF), "xml " (XMP), jumb
                (JUMBF: C2PA), brob (Brotli-compressed box: its first 4 bytes name the
                wrapped type), jbrd (JPEG reconstruction data), jhgm (gain map) may sit
                anywhere after ftyp, between jxlp parts too

The container keeps ftyp, jxll and the codestream boxes as they are (their order, and
so every jxlp index, is unchanged), and the gain-map box (jhgm) when every byte of it is
accounted for (jxl_gain_map.py: ISO 21496-1 metadata of exactly its size, a colour
encoding, an alternate ICC profile, a gain-map codestream ending at the box end); every
other box goes, and so does a malformed or brob-compressed gain map. The codestream
carries the orientation, so no EXIF tag needs keeping; with keep_copyright a minimal
Exif box holds Copyright and Artist. A brob-wrapped EXIF cannot be read without Brotli,
which the standard library lacks: read_exif reports such an image as having no EXIF.

Nothing after the codestream's last frame is served. Its end is found from its headers
(SizeHeader, ImageMetadata, the ICC stream, then each frame header and TOC up to the
frame marked is_last, a permuted TOC included), never guessed; bytes after it are
dropped: a bare codestream is cut there, a jxlc box is rewritten shorter, and of jxlp
parts the one holding the end is rewritten shorter and marked last, the parts after it
go. A codestream whose end cannot be found (cut short, a header or TOC that does not
parse, over the limits) is refused.

The file is stripped as it arrives (JxlWalk, below): every fact is read first with bounded
ranged reads (the boxes' headers, the payloads the handlers read, the codestream's headers
and TOCs), then the input passes through the plan they make. strip() drives the same walk
over the whole input.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import Callable, NamedTuple

from .. import kinds
from ..errors import ImageError
from ..exif_block import exif_facts, minimal_exif
from ..kinds import Stripped
from ..limits import MAX_GAIN_MAP_BYTES, MAX_STREAM_HEAD_BYTES
from .contract import DROP, KEEP, Answer, Format, Handler
from .isobmff import (
    BOX_HEADER_SIZE, LARGE_BOX_HEADER_SIZE, SIZE_IS_64_BIT, SIZE_TO_END, USERTYPE_SIZE, UUID,
    Box, BoxBudget, box, box_header, check_brand_list,
)
from .jxl_codestream import codestream_end
from .jxl_gain_map import check_gain_map
from .ranged_input import RangedInput, RangedSpan

Read = Callable[[int, int], "bytes | memoryview"]

FMT = "JPEG XL"
CODESTREAM_SIGNATURE = b"\xff\x0a"
CONTAINER_SIGNATURE = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
SIGNATURE_PAYLOAD = b"\r\n\x87\n"
JXL_BRAND = b"jxl "
FTYP, JXLL, JXLC, JXLP, EXIF, BROB = b"ftyp", b"jxll", b"jxlc", b"jxlp", b"Exif", b"brob"
GAIN_MAP = b"jhgm"
LAST_PART = 0x80000000
PART_INDEX_SIZE = 4
TIFF_HEADERS = (b"MM\x00*", b"II*\x00")
EXIF_OFFSET_SIZE = 4


class _Walk:
    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.exif_blocks: list[memoryview] = []
        self.kept: list[Box] = []
        self.codestream: list[Box] = []  # the jxlc box or the jxlp parts
        self.gain_map = False  # a jhgm box is kept
        self.gain_map_seen = False  # a jhgm box was read
        self.whole = False  # a jxlc box was seen
        self.parts = 0  # jxlp boxes seen
        self.last_part = False
        self.headers: list[tuple[int, bytes]] = []  # every box's header, checked as it passes
        self.exif_bytes = 0  # of the Exif boxes read


def _file_type(walk: _Walk, read: Read, part: Box) -> Answer:
    if part.start != len(CONTAINER_SIGNATURE):
        raise ImageError(f"{FMT}: a second 'ftyp' box at offset {part.start}")
    if bytes(read(part.payload_start, min(part.end, part.payload_start + 4))) != JXL_BRAND:
        raise ImageError(f"{FMT}: 'ftyp' box at offset {part.start} has no 'jxl ' brand")
    check_brand_list(part, FMT)
    return KEEP


def _level(walk: _Walk, read: Read, part: Box) -> Answer:
    # jxll: one byte, the codestream's conformance level (5 or 10)
    if part.end - part.payload_start != 1:
        walk.removed.add(kinds.OTHER)
        return DROP
    return KEEP


def _whole_codestream(walk: _Walk, read: Read, part: Box) -> Answer:
    if walk.whole or walk.parts:
        raise ImageError(f"{FMT}: a 'jxlc' box at offset {part.start} after other codestream boxes")
    walk.whole = True
    walk.codestream.append(part)
    return KEEP


def _codestream_part(walk: _Walk, read: Read, part: Box) -> Answer:
    # jxlp: u32be index (top bit: last part), then a piece of the codestream
    field = bytes(read(part.payload_start, min(part.end, part.payload_start + PART_INDEX_SIZE)))
    if len(field) < PART_INDEX_SIZE:
        what = f"index of the 'jxlp' box at offset {part.start}"
        raise ImageError(f"{FMT}: {what} needs {PART_INDEX_SIZE} bytes but {len(field)} are left at offset {part.payload_start}")
    index = int.from_bytes(field, "big")
    if walk.whole or walk.last_part or index & ~LAST_PART != walk.parts:
        raise ImageError(f"{FMT}: 'jxlp' box at offset {part.start} is out of sequence")
    walk.parts += 1
    walk.last_part = bool(index & LAST_PART)
    walk.codestream.append(part)
    return KEEP


def _exif(walk: _Walk, read: Read, part: Box) -> Answer:
    # Read whole (before the first byte, for the minimal Exif box); past MAX_STREAM_HEAD_BYTES
    # of Exif boxes in all, one is removed unread, as a malformed one is.
    size = part.end - part.payload_start
    if walk.exif_bytes + size > MAX_STREAM_HEAD_BYTES:
        walk.exif_blocks.append(memoryview(b""))
    else:
        walk.exif_bytes += size
        walk.exif_blocks.append(memoryview(read(part.payload_start, part.end)))
    return DROP


def _drop_as(kind: str):  # noqa: ANN202 - a handler's run
    def drop(walk: _Walk, read: Read, part: Box) -> Answer:
        walk.removed.add(kind)
        return DROP

    return drop


WRAPPED_KINDS = {EXIF: kinds.EXIF, b"xml ": kinds.XMP}


def _gain_map(walk: _Walk, read: Read, part: Box) -> Answer:
    """The first jhgm box is kept when it is a whole gain map; a malformed one, one over
    MAX_GAIN_MAP_BYTES (read whole to be checked), and any after the first (unread: each
    check may walk a codestream and an ICC stream), go."""
    first = not walk.gain_map_seen
    walk.gain_map_seen = True
    if first and part.end - part.payload_start <= MAX_GAIN_MAP_BYTES:
        try:
            check_gain_map(memoryview(read(part.payload_start, part.end)))
        except ImageError:
            pass
        else:
            walk.gain_map = True
            return KEEP
    walk.removed.add(kinds.OTHER)
    return DROP


def _compressed(walk: _Walk, read: Read, part: Box) -> Answer:
    wrapped = bytes(read(part.payload_start, min(part.end, part.payload_start + 4)))
    walk.removed.add(WRAPPED_KINDS.get(wrapped, kinds.OTHER))
    return DROP


BOX_HANDLERS: dict[bytes, Handler] = {
    FTYP: Handler("ftyp", _file_type),
    JXLL: Handler("jxll", _level),
    JXLC: Handler("jxlc", _whole_codestream),
    JXLP: Handler("jxlp", _codestream_part),
    EXIF: Handler("Exif", _exif),
    b"xml ": Handler("xml", _drop_as(kinds.XMP)),
    b"jumb": Handler("jumb", _drop_as(kinds.OTHER)),  # JUMBF: C2PA manifests
    BROB: Handler("brob", _compressed),
    b"jbrd": Handler("jbrd", _drop_as(kinds.OTHER)),  # rebuilds the original JPEG and its APPn data
    GAIN_MAP: Handler("jhgm", _gain_map),
}


def _parse(read: Read, size: int) -> _Walk:
    """Every box of the container, their headers and the payloads the handlers need read
    with `read` (ranged reads before the first byte; slices of a whole input)."""
    if bytes(read(0, min(size, len(CONTAINER_SIGNATURE)))) != CONTAINER_SIGNATURE:
        raise ImageError(f"{FMT}: no 'JXL ' signature box at offset 0")
    walk = _Walk()
    budget = BoxBudget(FMT)
    pos = len(CONTAINER_SIGNATURE)
    while pos < size:
        complete = walk.whole or walk.last_part
        try:
            part = _box_at(read, pos, size, budget)
        except ImageError:
            if not complete:
                raise
            walk.removed.add(kinds.TRAILER)  # bytes that are not a box, after the codestream
            break
        if pos == len(CONTAINER_SIGNATURE) and part.type != FTYP:
            raise ImageError(f"{FMT}: box at offset {pos} is {part.name()!r}, not 'ftyp'")
        handler = BOX_HANDLERS.get(part.type) or Handler(part.name(), _drop_as(kinds.OTHER))
        if handler.run(walk, read, part) is KEEP:
            walk.kept.append(part)
        walk.headers.append((part.start, bytes(read(part.start, part.payload_start))))
        pos = part.end
    if not (walk.whole or walk.last_part):
        raise ImageError(f"{FMT}: no complete codestream ('jxlc', or 'jxlp' parts up to the last)")
    return walk


# The most a box header takes: size, type, 64-bit size, usertype.
MAX_BOX_HEADER = 8 + 8 + 16


def _box_at(read: Read, pos: int, size: int, budget: BoxBudget) -> Box:
    """The box at `pos`, from its header alone, checked as isobmff.read_box checks it
    (the same messages) against the input's size."""
    budget.spend(pos)
    header = bytes(read(pos, min(size, pos + MAX_BOX_HEADER)))
    at = 0

    def take(count: int, what: str) -> bytes:
        nonlocal at
        if at + count > len(header):
            raise ImageError(f"{FMT}: {what} needs {count} bytes but {max(len(header) - at, 0)} are left at offset {pos + at}")
        at += count
        return header[at - count : at]

    box_size = int.from_bytes(take(4, "box size"), "big")
    box_type = take(4, "box type")
    header_size = BOX_HEADER_SIZE
    if box_size == SIZE_IS_64_BIT:
        box_size = int.from_bytes(take(4, "box largesize") + take(4, "box largesize"), "big")
        header_size = LARGE_BOX_HEADER_SIZE
    elif box_size == SIZE_TO_END:
        box_size = size - pos
    usertype = b""
    if box_type == UUID:
        usertype = take(USERTYPE_SIZE, "uuid box usertype")
        header_size += USERTYPE_SIZE
    name = box_type.decode("latin-1") if box_type.isascii() else box_type.hex()
    if box_size < header_size:
        raise ImageError(f"{FMT}: box {name!r} declares {box_size} bytes, less than its {header_size}-byte header at offset {pos}")
    if box_size > size - pos:
        raise ImageError(f"{FMT}: box {name!r} declares {box_size} bytes but {size - pos} are left at offset {pos}")
    return Box(box_type, pos, pos + header_size, pos + box_size, usertype)


def _payload(part: Box, reads: RangedInput) -> RangedSpan:
    """A codestream box's piece of the codestream (a jxlp part after its index)."""
    skip = PART_INDEX_SIZE if part.type == JXLP else 0
    return reads.span(part.payload_start + skip, part.end)


def _cut_codestream(walk: _Walk, reads: RangedInput) -> dict[int, tuple[bytes, int, int] | None]:
    """Rewrites of the codestream boxes (by start offset; None: dropped) that leave out the
    bytes after the last frame: a new header, then the input's bytes [start, end)."""
    pieces = [_payload(part, reads) for part in walk.codestream]
    end = codestream_end(pieces, FMT)
    rewrites: dict[int, tuple[bytes, int, int] | None] = {}
    if end == sum(len(piece) for piece in pieces):
        return rewrites
    walk.removed.add(kinds.TRAILER)
    start = 0
    for index, (part, piece) in enumerate(zip(walk.codestream, pieces)):
        if start >= end:
            rewrites[part.start] = None
        elif start + len(piece) >= end:  # a jxlp part ending at `end` too, to mark it the last
            kept = end - start
            if part.type == JXLC:
                header = box_header(JXLC, kept)
            else:
                header = box_header(JXLP, PART_INDEX_SIZE + kept) + struct.pack(">I", index | LAST_PART)
            rewrites[part.start] = (header, piece.start, piece.start + kept)
        start += len(piece)
    return rewrites


def _exif_tiff(block: memoryview, index: int) -> memoryview:
    # Exif box: u32be offset from after this field to the TIFF header, then the block.
    # Some writers (pillow-jxl-plugin 1.3) leave the offset out and start with the TIFF header.
    if bytes(block[:4]) in TIFF_HEADERS:
        return block
    if len(block) < EXIF_OFFSET_SIZE:
        raise ImageError(f"{FMT}: Exif box {index} is {len(block)} bytes")
    offset = int.from_bytes(block[:EXIF_OFFSET_SIZE], "big")
    if offset > len(block) - EXIF_OFFSET_SIZE:
        raise ImageError(f"{FMT}: Exif box {index} points its TIFF header past its end")
    return block[EXIF_OFFSET_SIZE + offset :]


def _minimal_exif(walk: _Walk, keep_copyright: bool) -> bytes | None:
    """The payload of the Exif box the output keeps (Copyright and Artist), or None."""
    facts = []
    for index, block in enumerate(walk.exif_blocks):
        walk.removed.add(kinds.EXIF)
        try:
            facts.append(exif_facts(_exif_tiff(block, index), FMT))
        except ImageError:
            continue  # a malformed EXIF box goes all the same
        walk.removed |= facts[-1].kinds
    if not keep_copyright or not facts:
        return None
    tiff = minimal_exif(facts[0]._replace(orientation=1), True)
    if tiff is None:
        return None
    payload = struct.pack(">I", 0) + tiff
    if len(walk.exif_blocks) == 1 and bytes(walk.exif_blocks[0]) == payload and walk.removed == {kinds.EXIF}:
        walk.removed.clear()  # already the minimal box: a second strip logs nothing
    return payload


# --- The walk, pushed a chunk at a time (metadata/streaming.py's contract) ------------------
#
# Everything the output depends on is read before the first byte, with ranged reads
# (ranged_input.py): the boxes' headers, the payloads the handlers read (ftyp, a jxlp
# index, the Exif boxes, the jhgm box) and the codestream's headers, each frame's header
# and TOC up to the last frame (its sections are skipped, never read). That makes a plan:
# which input ranges are copied, and what is written before them (a rewritten codestream
# box's header, the minimal Exif box). The input then passes through the plan a chunk at
# a time, nothing held: kept boxes are copied as they come, every other box is skipped.
# Each box's header is checked again as it passes and the input must end where it was
# measured, so an object that changed between the ranged reads and the stream is refused
# (the stream cut) rather than served as planned for the other one.


class _Step(NamedTuple):
    start: int  # input offset where `prefix` is written, then [start, end) copied
    end: int
    prefix: bytes


class _Plan(NamedTuple):
    steps: list[_Step]
    checks: list[tuple[int, bytes]]  # (offset, bytes the input must hold there)
    removed: frozenset[str]
    kept: frozenset[str]
    first_exif: memoryview | None  # the payload of the first plain Exif box


def _plan(reads: RangedInput, keep_copyright: bool) -> _Plan:
    size = reads.size
    if bytes(reads(0, 2)) == CODESTREAM_SIGNATURE:
        end = codestream_end([reads.span(0, size)], FMT)
        removed = frozenset({kinds.TRAILER}) if end < size else frozenset()
        return _Plan([_Step(0, end, b"")], [(0, CODESTREAM_SIGNATURE)], removed, frozenset(), None)
    walk = _parse(reads, size)
    rewrites = _cut_codestream(walk, reads)
    first_exif = walk.exif_blocks[0] if walk.exif_blocks else None
    exif = _minimal_exif(walk, keep_copyright)
    steps = [_Step(0, len(CONTAINER_SIGNATURE), b"")]
    for part in walk.kept:
        prefix = b""
        if exif is not None and part.type in (JXLC, JXLP):
            prefix, exif = box(EXIF, exif), None
        if part.start not in rewrites:
            steps.append(_Step(part.start, part.end, prefix))
        elif rewrites[part.start] is not None:  # None (dropped) never for the first, which takes the prefix
            header, start, end = rewrites[part.start]
            steps.append(_Step(start, end, prefix + header))
    kept = frozenset({kinds.GAIN_MAP}) if walk.gain_map else frozenset()
    checks = [(0, CONTAINER_SIGNATURE), *walk.headers]
    return _Plan(steps, checks, frozenset(walk.removed), kept, first_exif)


class JxlWalk:
    """Strips one JPEG XL file pushed a chunk at a time: feed(chunk) -> bytes, finish() -> bytes.

    `size` is the input's length and read_range(start, end) reads any part of it: the plan
    is made from ranged reads when the first chunk arrives. Without read_range the input
    is held until finish and planned there (at most MAX_STREAM_HEAD_BYTES).
    """

    def __init__(self, size: int, read_range: Read | None, keep_copyright: bool) -> None:
        self._size = size
        self._read_range = read_range
        self._keep_copyright = keep_copyright
        self._plan: _Plan | None = None
        self._steps: deque[list] = deque()
        self._checks: deque[tuple[int, bytes]] = deque()
        self._pos = 0  # input offset of the next byte fed
        self._held = bytearray()  # without read_range only
        self.first_exif: memoryview | None = None
        self.removed: frozenset[str] = frozenset()
        self.kept: frozenset[str] = frozenset()

    def feed(self, chunk: bytes | bytearray | memoryview) -> bytes:
        if self._read_range is None:
            self._held += chunk
            if len(self._held) > MAX_STREAM_HEAD_BYTES:
                raise ImageError(f"{FMT}: over the {MAX_STREAM_HEAD_BYTES} bytes held without ranged reads")
            return b""
        if self._plan is None:
            self._make_plan(RangedInput(self._read_range, self._size, FMT))
        return self._pass(memoryview(chunk))

    def finish(self) -> bytes:
        if self._read_range is None:
            held = bytes(self._held)
            self._size = len(held)
            self._read_range = lambda start, end: memoryview(held)[start:end]
            self._held = bytearray()
            out = self.feed(held)  # an empty input too: its plan refuses it (no signature box)
        else:
            out = b""
        if self._plan is None:
            self._make_plan(RangedInput(self._read_range, self._size, FMT))
        if self._pos != self._size:
            raise ImageError(f"{FMT}: the input ended at offset {self._pos}, before its declared size {self._size}")
        self.removed, self.kept = self._plan.removed, self._plan.kept
        return out

    def _make_plan(self, reads: RangedInput) -> None:
        self._plan = _plan(reads, self._keep_copyright)
        self._steps = deque([list(step) for step in self._plan.steps])
        self._checks = deque(self._plan.checks)
        self.first_exif = self._plan.first_exif

    def _pass(self, view: memoryview) -> bytes:
        """The chunk at [pos, pos + len): the planned ranges in it copied, the rest skipped."""
        pos, stop = self._pos, self._pos + len(view)
        if stop > self._size:
            raise ImageError(f"{FMT}: the input is longer than its declared size {self._size}")
        self._check(view, pos, stop)
        out = []
        steps = self._steps
        while steps and steps[0][0] <= stop:
            step = steps[0]
            if step[2]:
                out.append(step[2])
                step[2] = b""
            first, last = max(step[0], pos), min(step[1], stop)
            if last > first:
                out.append(bytes(view[first - pos : last - pos]))
            if step[1] > stop:
                break
            steps.popleft()
        self._pos = stop
        return b"".join(out)

    def _check(self, view: memoryview, pos: int, stop: int) -> None:
        checks = self._checks
        while checks and checks[0][0] < stop:
            offset, expected = checks[0]
            first, last = max(offset, pos), min(offset + len(expected), stop)
            if view[first - pos : last - pos] != expected[first - offset : last - offset]:
                raise ImageError(f"{FMT}: the box at offset {offset} differs from the one measured before (changed while read?)")
            if offset + len(expected) > stop:
                break
            checks.popleft()


READ_PIECE = 1024 * 1024  # strip() feeds the walk the whole input this much at a time


def _whole(data: bytes | memoryview, keep_copyright: bool) -> tuple[JxlWalk, bytes]:
    view = memoryview(data)
    walk = JxlWalk(len(view), lambda start, end: view[start:end], keep_copyright)
    out = [walk.feed(view[offset : offset + READ_PIECE]) for offset in range(0, len(view), READ_PIECE)]
    out.append(walk.finish())
    return walk, b"".join(out)


def open_walk(size: int, read_range: Read | None, keep_copyright: bool) -> JxlWalk:
    """The walk metadata/streaming.py drives for a JPEG XL file."""
    return JxlWalk(size, read_range, keep_copyright)


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    """The streaming walk driven over the whole input (one code path for both)."""
    walk, out = _whole(data, keep_copyright)
    return Stripped(out, walk.removed, kept=walk.kept)


def find_exif(data: bytes) -> memoryview | None:
    """The TIFF structure of the first plain Exif box (a brob-compressed one cannot be
    read), after checking the codestream as strip does."""
    walk, _ = _whole(data, False)
    return _exif_tiff(walk.first_exif, 0) if walk.first_exif is not None else None


def _matches(head: bytes) -> bool:
    return head[:2] == CODESTREAM_SIGNATURE or head[:12] == CONTAINER_SIGNATURE


FORMAT = Format("jxl", "image/jxl", _matches, strip, find_exif, open_walk)
