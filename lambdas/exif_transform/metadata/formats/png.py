"""PNG (and APNG): drop the metadata chunks, keep the image chunks as they are.

Byte layout (PNG 3rd edition, section 5):
    signature  89 50 4E 47 0D 0A 1A 0A
    chunk      <u32be length> <4-letter type> <data> <u32be CRC of type and data>
               IHDR first, IEND last; a lower-case first letter marks an ancillary chunk

Chunks are dispatched through one table keyed by the chunk type. The table lists the
ancillary chunks that change how the image looks (transparency, colour, animation)
and keeps them (a valid iCCP profile under a neutral name); text, time and EXIF chunks
are dropped; any other ancillary chunk is
dropped too (the core cannot vouch for what an unknown chunk carries), and an
unknown critical chunk is an error, as PNG decoders treat it. Every CRC is checked,
so a damaged chunk header cannot turn metadata into a chunk that is kept.

Damaged files browsers show (Chromium draws the rows it could decode):
    cut off   a file that ends without IEND (between chunks, inside a chunk header,
              inside a chunk) is served as far as it goes: every complete chunk as
              above, an IDAT cut off by the end of the file kept as it is (its
              bytes up to the end), any other cut-off chunk or chunk header dropped
              (metadata, or a display chunk whose CRC cannot be checked); no IEND
              is added.
    bad CRC   an IDAT failing its CRC is kept as it is; any other chunk failing its
              CRC is refused (its length is as doubtful as its data).
A damaged IDAT's length is checked against its deflate stream (png_image_data.py), so
a wrong length cannot carry the chunks after it into the output. Still refused: no
IHDR, no IDAT (complete or cut off) before the end, an unknown critical chunk.
"""

from __future__ import annotations

import struct
import zlib

from .. import kinds
from ..byte_reader import ByteReader
from ..byte_spans import SpanWriter
from ..exif_block import plan_exif
from ..errors import ImageError
from ..icc_profile import inflate_profile, is_icc_profile
from ..raw_profile import RAW_EXIF_KEYWORDS, decode_raw_profile, keyword_of_chunk, text_of_chunk
from ..limits import MAX_PIXELS
from ..kinds import Stripped
from .contract import DROP, KEEP, Answer, Format, Handler
from .png_image_data import check_damaged_image_data, inflated_size

FMT = "PNG"
SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK_LENGTH = 2**31 - 1
CHUNK_HEADER_SIZE = 8  # length, type
CRC_SIZE = 4
IDAT, IEND = b"IDAT", b"IEND"
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
ICC_PROFILE_NAME = b"ICC profile"
ZLIB_METHOD = 0


class _Walk:
    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.exif_blocks: list[memoryview] = []
        self.exif_before_image_data = False  # where browsers read the first eXIf
        self.raw_exif_chunks: list[tuple[bytes, memoryview]] = []  # ImageMagick's text-chunk EXIF
        self.header_seen = False
        self.palette_seen = False
        self.icc_seen = False
        self.colour_type = -1
        self.inflated_size = 0  # of the image data, from IHDR
        self.image_data_seen = False
        self.image_data: list[memoryview] = []  # every IDAT's data, for a damaged one's check
        self.image_data_size = 0  # their total length
        self.damaged_end = 0  # end of the last damaged IDAT's data, in their concatenation


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
    walk.inflated_size = inflated_size(width, height, depth, colour, bool(interlace))
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
    walk.image_data.append(data)
    walk.image_data_size += len(data)
    return KEEP


def _keep(walk: _Walk, data: memoryview, offset: int) -> Answer:
    return KEEP


def _exif(walk: _Walk, data: memoryview, offset: int) -> Answer:
    if not walk.exif_blocks:
        walk.exif_before_image_data = not walk.image_data_seen
    walk.exif_blocks.append(data)  # kinds are added once every block has been read
    return DROP


# iCCP: keyword (1-79 bytes) 00, compression method (1, 0 = zlib), compressed profile.
def _icc(walk: _Walk, data: memoryview, offset: int) -> Answer:
    """A valid profile is kept under a neutral name (the keyword is free text, and may
    name a person or a place); an invalid one, a second one, or one after the image
    data (decoders ignore it there) is dropped."""
    keyword_end = bytes(data[: MAX_KEYWORD + 1]).find(b"\x00")
    valid = not walk.icc_seen and not walk.image_data_seen and keyword_end > 0 and len(data) > keyword_end + 1
    if valid and data[keyword_end + 1] == ZLIB_METHOD:
        profile = inflate_profile(data[keyword_end + 2 :])
        valid = profile is not None and is_icc_profile(profile)
    else:
        valid = False
    if not valid:
        walk.removed.add(kinds.OTHER)
        return DROP
    walk.icc_seen = True
    if bytes(data[:keyword_end]) == ICC_PROFILE_NAME:
        return KEEP
    walk.removed.add(kinds.OTHER)  # the profile's name
    return ICC_PROFILE_NAME + b"\x00" + bytes(data[keyword_end + 1 :])


def _text(walk: _Walk, data: memoryview, offset: int) -> Answer:
    keyword = keyword_of_chunk(data, MAX_KEYWORD)
    walk.removed.add(TEXT_KEYWORD_KINDS.get(keyword, kinds.COMMENT))
    return DROP


def _text_chunk(name: bytes):
    def text(walk: _Walk, data: memoryview, offset: int) -> Answer:
        if keyword_of_chunk(data, MAX_KEYWORD) in RAW_EXIF_KEYWORDS:
            walk.raw_exif_chunks.append((name, data))
        return _text(walk, data, offset)

    return text


def _time(walk: _Walk, data: memoryview, offset: int) -> Answer:
    walk.removed.add(kinds.COMMENT)
    return DROP


def _unknown_ancillary(walk: _Walk, data: memoryview, offset: int) -> Answer:
    walk.removed.add(kinds.OTHER)
    return DROP


_DISPLAY_CHUNKS = (
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"cICP", b"mDCV", b"cLLI",  # colour
    b"sBIT", b"bKGD", b"pHYs",  # significant bits, background, pixel aspect
    b"acTL", b"fcTL", b"fdAT",  # APNG animation
)  # fmt: skip

CHUNK_HANDLERS: dict[bytes, Handler] = {
    b"IHDR": Handler("IHDR", _header),
    b"PLTE": Handler("PLTE", _palette),
    b"IDAT": Handler("IDAT", _image_data),
    # Ancillary chunks that change what the decoded image looks like.
    **{name: Handler(name.decode(), _keep) for name in _DISPLAY_CHUNKS},
    b"iCCP": Handler("iCCP", _icc),
    b"eXIf": Handler("eXIf", _exif),
    b"tEXt": Handler("tEXt", _text_chunk(b"tEXt")),
    b"zTXt": Handler("zTXt", _text_chunk(b"zTXt")),
    b"iTXt": Handler("iTXt", _text_chunk(b"iTXt")),
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
    ended = False  # IEND was read
    while not reader.at_end():
        start = reader.pos
        if reader.remaining < CHUNK_HEADER_SIZE:
            walk.removed.add(kinds.OTHER)  # a chunk header cut off: its bytes go
            break
        length = reader.u32be("chunk length")
        name = bytes(reader.take(4, "chunk type"))
        if not _is_chunk_type(name):
            raise ImageError(f"{FMT}: chunk at offset {start} has an invalid type {name!r}")
        if length > MAX_CHUNK_LENGTH:
            raise ImageError(f"{FMT}: {name.decode()} chunk at offset {start} declares {length} bytes")
        if not walk.header_seen and name != b"IHDR":
            raise ImageError(f"{FMT}: first chunk at offset {start} is {name.decode()}, not IHDR")
        if reader.remaining < length + CRC_SIZE:
            body = reader.take(min(length, reader.remaining), f"{name.decode()} chunk cut off at offset {start}")
            if _cut_off(walk, name, body, start):
                writer.keep(start, len(data))
            break
        body = reader.take(length, f"{name.decode()} chunk starting at offset {start}")
        crc = reader.u32be(f"CRC of the {name.decode()} chunk at offset {start}")
        if zlib.crc32(body, zlib.crc32(name)) != crc:
            if name != IDAT:
                raise ImageError(f"{FMT}: {name.decode()} chunk at offset {start} fails its CRC check")
            walk.damaged_end = walk.image_data_size + len(body)
        if name == IEND:
            if not walk.image_data_seen:
                raise ImageError(f"{FMT}: IEND at offset {start} before any IDAT")
            writer.keep(start, reader.pos)
            ended = True
            break
        handler = CHUNK_HANDLERS.get(name)
        if handler is None:
            if not name[0] & ANCILLARY_BIT:
                raise ImageError(f"{FMT}: unknown critical chunk {name.decode()} at offset {start}")
            handler = Handler(name.decode(), _unknown_ancillary)
        decision = handler.run(walk, body, start)
        if decision is KEEP:
            writer.keep(start, reader.pos)
        elif decision is not DROP:
            writer.add(_chunk(name, decision))
        if name == b"IHDR":
            exif_place = writer.mark()
    if not walk.header_seen:
        raise ImageError(f"{FMT}: the file ends before a complete IHDR chunk")
    if not walk.image_data_seen:
        raise ImageError(f"{FMT}: the file ends before any IDAT")
    if ended and not reader.at_end():
        walk.removed.add(kinds.TRAILER)
    if walk.damaged_end:
        check_damaged_image_data(walk.image_data, walk.damaged_end, walk.inflated_size, FMT)
    return _Parsed(writer, walk, exif_place)


# Kinds of metadata a cut-off chunk held, by chunk type (any other: OTHER).
CUT_OFF_KINDS = {b"eXIf": kinds.EXIF, b"tEXt": kinds.COMMENT, b"zTXt": kinds.COMMENT, b"iTXt": kinds.COMMENT, b"tIME": kinds.COMMENT}


def _cut_off(walk: _Walk, name: bytes, body: memoryview, start: int) -> bool:
    """Whether the chunk the end of the file cuts is kept: an IDAT with data is, to the
    end of the file, as a decoder reads it; any other is dropped."""
    if name == IDAT and body:
        _image_data(walk, body, start)
        walk.damaged_end = walk.image_data_size
        return True
    if name in (b"tEXt", b"zTXt", b"iTXt"):
        _text(walk, body, start)  # its keyword, when it is there, names the kind
    elif name != IEND:
        walk.removed.add(CUT_OFF_KINDS.get(name, kinds.OTHER))
    return False


def _chunk(name: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + name + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(name)))


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    parsed = _parse(data)
    # Browsers read eXIf only before the image data: one after it is ignored, and its
    # replacement must not start rotating the image.
    walk = parsed.walk
    plan = plan_exif(walk.exif_blocks, keep_copyright, FMT, orientation_shown=walk.exif_before_image_data)
    if plan.minimal is not None:
        # Right after IHDR, before the image data, where browsers read it.
        parsed.writer.insert(parsed.exif_place, _chunk(b"eXIf", plan.minimal))
    return Stripped(parsed.writer.join(), frozenset(parsed.walk.removed | plan.removed))


def find_exif(data: bytes) -> bytes | memoryview | None:
    """The first eXIf chunk's data, else the EXIF of ImageMagick's first readable
    "Raw profile type exif" text chunk, after checking the whole file's structure."""
    walk = _parse(data).walk
    if walk.exif_blocks:
        return walk.exif_blocks[0]
    for name, chunk in walk.raw_exif_chunks:
        text = text_of_chunk(name, chunk)
        block = decode_raw_profile(text) if text is not None else None
        if block is not None:
            return block
    return None


FORMAT = Format("png", "image/png", lambda head: head[: len(SIGNATURE)] == SIGNATURE, strip, find_exif)
