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
"""

from __future__ import annotations

import struct

from .. import kinds
from ..byte_reader import ByteReader
from ..errors import ImageError
from ..exif_block import exif_facts, minimal_exif
from ..kinds import Stripped
from .contract import DROP, KEEP, Answer, Format, Handler
from .isobmff import Box, BoxBudget, box, check_brand_list, read_box
from .jxl_codestream import codestream_end
from .jxl_gain_map import check_gain_map

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


def _whole_codestream(walk: _Walk, data: bytes, part: Box) -> Answer:
    if walk.whole or walk.parts:
        raise ImageError(f"{FMT}: a 'jxlc' box at offset {part.start} after other codestream boxes")
    walk.whole = True
    walk.codestream.append(part)
    return KEEP


def _codestream_part(walk: _Walk, data: bytes, part: Box) -> Answer:
    # jxlp: u32be index (top bit: last part), then a piece of the codestream
    reader = ByteReader(data, FMT, part.payload_start, part.end)
    index = reader.u32be(f"index of the 'jxlp' box at offset {part.start}")
    if walk.whole or walk.last_part or index & ~LAST_PART != walk.parts:
        raise ImageError(f"{FMT}: 'jxlp' box at offset {part.start} is out of sequence")
    walk.parts += 1
    walk.last_part = bool(index & LAST_PART)
    walk.codestream.append(part)
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


def _gain_map(walk: _Walk, data: bytes, part: Box) -> Answer:
    """The first jhgm box is kept when it is a whole gain map; a malformed one, and any
    after the first (unread: each check may walk a codestream and an ICC stream), go."""
    first = not walk.gain_map_seen
    walk.gain_map_seen = True
    if first:
        try:
            check_gain_map(memoryview(data)[part.payload_start : part.end])
        except ImageError:
            pass
        else:
            walk.gain_map = True
            return KEEP
    walk.removed.add(kinds.OTHER)
    return DROP


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
    GAIN_MAP: Handler("jhgm", _gain_map),
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
    return walk


def _payload(data: bytes, part: Box) -> memoryview:
    """A codestream box's piece of the codestream (a jxlp part after its index)."""
    skip = PART_INDEX_SIZE if part.type == JXLP else 0
    return memoryview(data)[part.payload_start + skip : part.end]


def _cut_codestream(walk: _Walk, data: bytes) -> dict[int, bytes | None]:
    """Rewrites of the codestream boxes (by start offset; None: dropped) that leave out
    the bytes after the last frame."""
    pieces = [_payload(data, part) for part in walk.codestream]
    end = codestream_end(pieces, FMT)
    rewrites: dict[int, bytes | None] = {}
    if end == sum(len(piece) for piece in pieces):
        return rewrites
    walk.removed.add(kinds.TRAILER)
    start = 0
    for index, (part, piece) in enumerate(zip(walk.codestream, pieces)):
        if start >= end:
            rewrites[part.start] = None
        elif start + len(piece) > end:
            kept = piece[: end - start]
            if part.type == JXLC:
                rewrites[part.start] = box(JXLC, kept)
            else:
                rewrites[part.start] = box(JXLP, struct.pack(">I", index | LAST_PART), kept)
        elif start + len(piece) == end and part.type == JXLP:
            rewrites[part.start] = box(JXLP, struct.pack(">I", index | LAST_PART), piece)
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


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    if data[:2] == CODESTREAM_SIGNATURE:
        end = codestream_end([memoryview(data)], FMT)
        return Stripped(data[:end], frozenset({kinds.TRAILER}) if end < len(data) else frozenset())
    walk = _parse(data)
    rewrites = _cut_codestream(walk, data)
    exif = _minimal_exif(walk, keep_copyright)
    view = memoryview(data)
    pieces: list[bytes | memoryview] = [view[: len(CONTAINER_SIGNATURE)]]
    for part in walk.kept:
        if exif is not None and part.type in (JXLC, JXLP):
            pieces.append(box(EXIF, exif))
            exif = None
        if part.start in rewrites:
            pieces.append(rewrites[part.start] or b"")
        else:
            pieces.append(view[part.start : part.end])
    kept = frozenset({kinds.GAIN_MAP}) if walk.gain_map else frozenset()
    return Stripped(b"".join(pieces), frozenset(walk.removed), kept=kept)


def find_exif(data: bytes) -> memoryview | None:
    """The TIFF structure of the first plain Exif box (a brob-compressed one cannot be
    read), after checking the codestream as strip does."""
    if data[:2] == CODESTREAM_SIGNATURE:
        codestream_end([memoryview(data)], FMT)
        return None
    walk = _parse(data)
    _cut_codestream(walk, data)
    blocks = walk.exif_blocks
    return _exif_tiff(blocks[0], 0) if blocks else None


def _matches(head: bytes) -> bool:
    return head[:2] == CODESTREAM_SIGNATURE or head[:12] == CONTAINER_SIGNATURE


FORMAT = Format("jxl", "image/jxl", _matches, strip, find_exif)
