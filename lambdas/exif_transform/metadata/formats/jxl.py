"""JPEG XL: drop the metadata boxes of a container, pass a bare codestream through.

Byte layout (ISO/IEC 18181-1 codestream, 18181-2 container; boxes as in isobmff.py):
    codestream  FF 0A, then the SizeHeader (bits, least significant first):
                div8 (1); height: div8 ? (1 + u(5)) * 8 : 1 + U32(9, 13, 18, 30 bits);
                ratio (3); width: ratio ? height * ratio : like height
    container   "JXL " signature box (12 bytes: 00 00 00 0C 'JXL ' 0D 0A 87 0A), then
                ftyp (major brand "jxl "), optional jxll (level), then the codestream in
                one jxlc box or in jxlp parts (u32be index, top bit set on the last part);
                Exif (u32be offset to the TIFF header, then TIFF), "xml " (XMP), jumb
                (JUMBF: C2PA), brob (Brotli-compressed box: its first 4 bytes name the
                wrapped type), jbrd (JPEG reconstruction data), jhgm (gain map) may sit
                anywhere after ftyp, between jxlp parts too

The container keeps ftyp, jxll and the codestream boxes as they are (their order, and
so every jxlp index, is unchanged); every other box goes. The codestream carries the
orientation, so no EXIF tag needs keeping; with keep_copyright a minimal Exif box holds
Copyright and Artist. A brob-wrapped EXIF cannot be read without Brotli, which the
standard library lacks: read_exif reports such an image as having no EXIF.
"""

from __future__ import annotations

import struct

from .. import kinds
from ..byte_reader import ByteReader
from ..errors import ImageError
from ..exif_block import exif_facts, minimal_exif
from ..kinds import Stripped
from ..limits import MAX_PIXELS
from .contract import DROP, KEEP, Answer, Format, Handler
from .isobmff import Box, BoxBudget, box, check_brand_list, read_box

FMT = "JPEG XL"
CODESTREAM_SIGNATURE = b"\xff\x0a"
CONTAINER_SIGNATURE = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
SIGNATURE_PAYLOAD = b"\r\n\x87\n"
JXL_BRAND = b"jxl "
FTYP, JXLL, JXLC, JXLP, EXIF, BROB = b"ftyp", b"jxll", b"jxlc", b"jxlp", b"Exif", b"brob"
LAST_PART = 0x80000000
TIFF_HEADERS = (b"MM\x00*", b"II*\x00")
EXIF_OFFSET_SIZE = 4
# Width / height for the SizeHeader's ratio codes 1..7.
RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}
SIZE_BITS = (9, 13, 18, 30)
# Enough bytes for the signature and the longest SizeHeader (2 + 1 + 2 + 30 + 3 + 2 + 30 bits).
SIZE_HEADER_BYTES = 11


class _Bits:
    """Reads a JPEG XL bit field: least significant bit of each byte first."""

    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "little")
        self.size = len(data) * 8
        self.pos = 0

    def read(self, count: int) -> int:
        if self.pos + count > self.size:
            raise ImageError(f"{FMT}: codestream too short for its size header")
        bits = (self.value >> self.pos) & ((1 << count) - 1)
        self.pos += count
        return bits

    def dimension(self, div8: bool) -> int:
        if div8:
            return (1 + self.read(5)) * 8
        return 1 + self.read(SIZE_BITS[self.read(2)])


def check_codestream_start(start: bytes, offset: int) -> tuple[int, int]:
    """Width and height from the signature and SizeHeader at the start of a codestream."""
    if start[:2] != CODESTREAM_SIGNATURE:
        raise ImageError(f"{FMT}: no codestream signature FF 0A at offset {offset}")
    bits = _Bits(start[2:SIZE_HEADER_BYTES])
    div8 = bool(bits.read(1))
    height = bits.dimension(div8)
    ratio = bits.read(3)
    if ratio:
        numerator, denominator = RATIOS[ratio]
        width = height * numerator // denominator
    else:
        width = bits.dimension(div8)
    if width * height > MAX_PIXELS:
        raise ImageError(f"{FMT}: codestream at offset {offset} declares {width}x{height} pixels, over the limit of {MAX_PIXELS}")
    return width, height


class _Walk:
    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.exif_blocks: list[memoryview] = []
        self.kept: list[Box] = []
        self.codestream = bytearray()  # its first bytes, for the size header
        self.whole = False  # a jxlc box was seen
        self.parts = 0  # jxlp boxes seen
        self.last_part = False


def _file_type(walk: _Walk, data: bytes, part: Box) -> Answer:
    if part.start != len(CONTAINER_SIGNATURE):
        raise ImageError(f"{FMT}: a second 'ftyp' box at offset {part.start}")
    if data[part.payload_start : part.payload_start + 4] != JXL_BRAND:
        raise ImageError(f"{FMT}: 'ftyp' box at offset {part.start} has no 'jxl ' brand")
    check_brand_list(part, FMT)
    return KEEP


def _level(walk: _Walk, data: bytes, part: Box) -> Answer:
    # jxll: one byte, the codestream's conformance level (5 or 10)
    if part.end - part.payload_start != 1:
        walk.removed.add(kinds.OTHER)
        return DROP
    return KEEP


def _codestream_start(walk: _Walk, payload: memoryview) -> None:
    if len(walk.codestream) < SIZE_HEADER_BYTES:
        walk.codestream += payload[: SIZE_HEADER_BYTES - len(walk.codestream)]


def _whole_codestream(walk: _Walk, data: bytes, part: Box) -> Answer:
    if walk.whole or walk.parts:
        raise ImageError(f"{FMT}: a 'jxlc' box at offset {part.start} after other codestream boxes")
    walk.whole = True
    _codestream_start(walk, memoryview(data)[part.payload_start : part.end])
    return KEEP


def _codestream_part(walk: _Walk, data: bytes, part: Box) -> Answer:
    # jxlp: u32be index (top bit: last part), then a piece of the codestream
    reader = ByteReader(data, FMT, part.payload_start, part.end)
    index = reader.u32be(f"index of the 'jxlp' box at offset {part.start}")
    if walk.whole or walk.last_part or index & ~LAST_PART != walk.parts:
        raise ImageError(f"{FMT}: 'jxlp' box at offset {part.start} is out of sequence")
    walk.parts += 1
    walk.last_part = bool(index & LAST_PART)
    _codestream_start(walk, reader.take(reader.remaining, "jxlp payload"))
    return KEEP


def _exif(walk: _Walk, data: bytes, part: Box) -> Answer:
    walk.exif_blocks.append(memoryview(data)[part.payload_start : part.end])
    return DROP


def _drop_as(kind: str):  # noqa: ANN202 - a handler's run
    def drop(walk: _Walk, data: bytes, part: Box) -> Answer:
        walk.removed.add(kind)
        return DROP

    return drop


WRAPPED_KINDS = {EXIF: kinds.EXIF, b"xml ": kinds.XMP}


def _compressed(walk: _Walk, data: bytes, part: Box) -> Answer:
    wrapped = bytes(data[part.payload_start : part.payload_start + 4])
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
}


def _parse(data: bytes) -> _Walk:
    if data[: len(CONTAINER_SIGNATURE)] != CONTAINER_SIGNATURE:
        raise ImageError(f"{FMT}: no 'JXL ' signature box at offset 0")
    walk = _Walk()
    budget = BoxBudget(FMT)
    reader = ByteReader(data, FMT, start=len(CONTAINER_SIGNATURE))
    while not reader.at_end():
        start = reader.pos
        complete = walk.whole or walk.last_part
        try:
            part = read_box(reader, budget)
        except ImageError:
            if not complete:
                raise
            walk.removed.add(kinds.TRAILER)  # bytes that are not a box, after the codestream
            break
        if start == len(CONTAINER_SIGNATURE) and part.type != FTYP:
            raise ImageError(f"{FMT}: box at offset {start} is {part.name()!r}, not 'ftyp'")
        handler = BOX_HANDLERS.get(part.type) or Handler(part.name(), _drop_as(kinds.OTHER))
        if handler.run(walk, data, part) is KEEP:
            walk.kept.append(part)
    if not (walk.whole or walk.last_part):
        raise ImageError(f"{FMT}: no complete codestream ('jxlc', or 'jxlp' parts up to the last)")
    check_codestream_start(bytes(walk.codestream), len(CONTAINER_SIGNATURE))
    return walk


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


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    if data[:2] == CODESTREAM_SIGNATURE:
        check_codestream_start(data[:SIZE_HEADER_BYTES], 0)
        return Stripped(data, frozenset())
    walk = _parse(data)
    exif = _minimal_exif(walk, keep_copyright)
    view = memoryview(data)
    pieces: list[bytes | memoryview] = [view[: len(CONTAINER_SIGNATURE)]]
    for part in walk.kept:
        if exif is not None and part.type in (JXLC, JXLP):
            pieces.append(box(EXIF, exif))
            exif = None
        pieces.append(view[part.start : part.end])
    return Stripped(b"".join(pieces), frozenset(walk.removed))


def find_exif(data: bytes) -> memoryview | None:
    """The TIFF structure of the first plain Exif box (a brob-compressed one cannot be read)."""
    if data[:2] == CODESTREAM_SIGNATURE:
        check_codestream_start(data[:SIZE_HEADER_BYTES], 0)
        return None
    blocks = _parse(data).exif_blocks
    return _exif_tiff(blocks[0], 0) if blocks else None


def _matches(head: bytes) -> bool:
    return head[:2] == CODESTREAM_SIGNATURE or head[:12] == CONTAINER_SIGNATURE


FORMAT = Format("jxl", "image/jxl", _matches, strip, find_exif)
