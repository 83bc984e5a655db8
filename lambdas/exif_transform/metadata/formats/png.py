"""PNG (and APNG): drop the metadata chunks, keep the image chunks as they are.

Byte layout (PNG 3rd edition, section 5):
    signature  89 50 4E 47 0D 0A 1A 0A
    chunk      <u32be length> <4-letter type> <data> <u32be CRC of type and data>
               IHDR first, IEND last; a lower-case first letter marks an ancillary chunk

Chunks are dispatched through one table keyed by the chunk type. The table lists the
ancillary chunks that change how the image looks (transparency, colour, animation)
and keeps them; text, time and EXIF chunks are dropped; any other ancillary chunk is
dropped too (the core cannot vouch for what an unknown chunk carries), and an
unknown critical chunk is an error, as PNG decoders treat it. Every CRC is checked,
so a damaged chunk header cannot turn metadata into a chunk that is kept.
"""

from __future__ import annotations

import struct
import zlib

from .. import kinds
from ..byte_reader import ByteReader
from ..byte_spans import SpanWriter
from ..exif_block import plan_exif
from ..errors import ImageError
from ..limits import MAX_PIXELS
from ..kinds import Stripped
from .contract import DROP, KEEP, Answer, Format, Handler

FMT = "PNG"
SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK_LENGTH = 2**31 - 1
ANCILLARY_BIT = 0x20  # set in the first letter of an ancillary chunk's type
# IHDR: width (4), height (4), bit depth, colour type, compression, filter, interlace (1 each)
IHDR_SIZE = 13
ALLOWED_BIT_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
PALETTE_COLOUR_TYPE = 3

# Keywords of text chunks that hold a known kind of metadata (ImageMagick's raw profiles, XMP).
TEXT_KEYWORD_KINDS = {
    b"XML:com.adobe.xmp": kinds.XMP,
    b"Raw profile type exif": kinds.EXIF,
    b"Raw profile type APP1": kinds.EXIF,
    b"Raw profile type xmp": kinds.XMP,
    b"Raw profile type iptc": kinds.IPTC,
    b"Raw profile type 8bim": kinds.PHOTOSHOP,
}
MAX_KEYWORD = 79


class _Walk:
    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.exif_blocks: list[memoryview] = []
        self.header_seen = False
        self.palette_seen = False
        self.colour_type = -1
        self.image_data_seen = False



def _header(walk: _Walk, data: memoryview, offset: int) -> Answer:
    if walk.header_seen:
        raise ImageError(f"{FMT}: second IHDR chunk at offset {offset}")
    if len(data) != IHDR_SIZE:
        raise ImageError(f"{FMT}: IHDR chunk at offset {offset} is {len(data)} bytes, expected {IHDR_SIZE}")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", data)
    if not (0 < width <= MAX_CHUNK_LENGTH and 0 < height <= MAX_CHUNK_LENGTH):
        raise ImageError(f"{FMT}: IHDR at offset {offset} declares {width}x{height} pixels")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{FMT}: IHDR at offset {offset} declares {width}x{height} pixels, over the limit of {MAX_PIXELS}")
    if depth not in ALLOWED_BIT_DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        raise ImageError(f"{FMT}: IHDR at offset {offset} has an invalid bit depth, colour type or method")
    walk.header_seen = True
    walk.colour_type = colour
    return KEEP


def _palette(walk: _Walk, data: memoryview, offset: int) -> Answer:
    if not data or len(data) % 3 or len(data) > 3 * 256:
        raise ImageError(f"{FMT}: PLTE chunk at offset {offset} is {len(data)} bytes")
    walk.palette_seen = True
    return KEEP


def _image_data(walk: _Walk, data: memoryview, offset: int) -> Answer:
    if walk.colour_type == PALETTE_COLOUR_TYPE and not walk.palette_seen:
        raise ImageError(f"{FMT}: IDAT at offset {offset} before the PLTE a palette image needs")
    walk.image_data_seen = True
    return KEEP


def _keep(walk: _Walk, data: memoryview, offset: int) -> Answer:
    return KEEP


def _exif(walk: _Walk, data: memoryview, offset: int) -> Answer:
    walk.exif_blocks.append(data)  # kinds are added once every block has been read
    return DROP


def _keyword_kind(data: memoryview) -> str:
    keyword = bytes(data[: MAX_KEYWORD + 1]).split(b"\x00", 1)[0]
    return TEXT_KEYWORD_KINDS.get(keyword, kinds.COMMENT)


def _text(walk: _Walk, data: memoryview, offset: int) -> Answer:
    walk.removed.add(_keyword_kind(data))
    return DROP


def _time(walk: _Walk, data: memoryview, offset: int) -> Answer:
    walk.removed.add(kinds.COMMENT)
    return DROP


def _unknown_ancillary(walk: _Walk, data: memoryview, offset: int) -> Answer:
    walk.removed.add(kinds.OTHER)
    return DROP


_DISPLAY_CHUNKS = (
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"mDCV", b"cLLI",  # colour
    b"sBIT", b"bKGD", b"pHYs",  # significant bits, background, pixel aspect
    b"acTL", b"fcTL", b"fdAT",  # APNG animation
)  # fmt: skip

CHUNK_HANDLERS: dict[bytes, Handler] = {
    b"IHDR": Handler("IHDR", _header),
    b"PLTE": Handler("PLTE", _palette),
    b"IDAT": Handler("IDAT", _image_data),
    # Ancillary chunks that change what the decoded image looks like.
    **{name: Handler(name.decode(), _keep) for name in _DISPLAY_CHUNKS},
    b"eXIf": Handler("eXIf", _exif),
    b"tEXt": Handler("tEXt", _text),
    b"zTXt": Handler("zTXt", _text),
    b"iTXt": Handler("iTXt", _text),
    b"tIME": Handler("tIME", _time),
}


class _Parsed:
    def __init__(self, writer: SpanWriter, walk: _Walk, exif_place: int):
        self.writer = writer
        self.walk = walk
        self.exif_place = exif_place


def _is_chunk_type(name: bytes) -> Answer:
    return all(0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A for c in name)


def _parse(data: bytes) -> _Parsed:
    if data[: len(SIGNATURE)] != SIGNATURE:
        raise ImageError(f"{FMT}: no PNG signature at offset 0")
    writer = SpanWriter(data)
    walk = _Walk()
    reader = ByteReader(data, FMT, start=len(SIGNATURE))
    writer.keep(0, reader.pos)
    exif_place = -1
    while True:
        start = reader.pos
        length = reader.u32be("chunk length")
        name = bytes(reader.take(4, "chunk type"))
        if not _is_chunk_type(name):
            raise ImageError(f"{FMT}: chunk at offset {start} has an invalid type {name!r}")
        if length > MAX_CHUNK_LENGTH:
            raise ImageError(f"{FMT}: {name.decode()} chunk at offset {start} declares {length} bytes")
        body = reader.take(length, f"{name.decode()} chunk starting at offset {start}")
        crc = reader.u32be(f"CRC of the {name.decode()} chunk at offset {start}")
        if zlib.crc32(body, zlib.crc32(name)) != crc:
            raise ImageError(f"{FMT}: {name.decode()} chunk at offset {start} fails its CRC check")
        if not walk.header_seen and name != b"IHDR":
            raise ImageError(f"{FMT}: first chunk at offset {start} is {name.decode()}, not IHDR")
        if name == b"IEND":
            if not walk.image_data_seen:
                raise ImageError(f"{FMT}: IEND at offset {start} before any IDAT")
            writer.keep(start, reader.pos)
            break
        handler = CHUNK_HANDLERS.get(name)
        if handler is None:
            if not name[0] & ANCILLARY_BIT:
                raise ImageError(f"{FMT}: unknown critical chunk {name.decode()} at offset {start}")
            handler = Handler(name.decode(), _unknown_ancillary)
        if handler.run(walk, body, start) is KEEP:
            writer.keep(start, reader.pos)
        if name == b"IHDR":
            exif_place = writer.mark()
    if not reader.at_end():
        walk.removed.add(kinds.TRAILER)
    return _Parsed(writer, walk, exif_place)


def _chunk(name: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + name + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(name)))


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    parsed = _parse(data)
    plan = plan_exif(parsed.walk.exif_blocks, keep_copyright, FMT)
    if plan.minimal is not None:
        # Right after IHDR: eXIf must come before the image data to be read by browsers.
        parsed.writer.insert(parsed.exif_place, _chunk(b"eXIf", plan.minimal))
    return Stripped(parsed.writer.join(), frozenset(parsed.walk.removed | plan.removed))


def find_exif(data: bytes) -> memoryview | None:
    """The first eXIf chunk's data, after checking the whole file's structure."""
    blocks = _parse(data).walk.exif_blocks
    return blocks[0] if blocks else None


FORMAT = Format("png", "image/png", lambda head: head[: len(SIGNATURE)] == SIGNATURE, strip, find_exif)
