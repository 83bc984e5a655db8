"""GIF: drop comment and metadata extensions, keep every frame's bytes as they are.

Byte layout (GIF89a specification):
    header      "GIF87a" or "GIF89a"
    screen      u16le width, u16le height, packed flags, background index, aspect ratio;
                a global colour table of 3 * 2^(n+1) bytes follows when bit 7 of the flags is set
    extension   21 <label> then data sub-blocks: <size 1-255> <size bytes> ... 00
    image       2C, u16le left, top, width, height, packed flags, optional local colour
                table, LZW minimum code size (1), data sub-blocks ... 00
    trailer     3B

Blocks are copied rather than decoded and re-encoded: Pillow's GIF writer would
re-quantise frames whose combined colours exceed 256 and merge or crop frames, while
copying the image blocks keeps every frame, its timing, disposal and the loop count
exactly. Each frame's data is still run through Pillow's LZW decoder (into a scratch
buffer) to check that the data ends where the image does.

Extensions are dispatched through one table keyed by label (application extensions
by their identifier): what display needs is kept (graphic control, loop count, ICC
profile, plain text), everything else goes.
"""

from __future__ import annotations

from PIL import Image

from .. import kinds
from ..byte_reader import ByteReader
from ..byte_spans import SpanWriter
from ..icc_profile import is_icc_profile
from ..errors import ImageError
from ..limits import MAX_DECODED_PIXELS, MAX_GIF_DECODED_PIXELS, MAX_PIXELS
from ..kinds import Stripped
from .contract import DROP, KEEP, Answer, Format, Handler

FMT = "GIF"
SIGNATURES = (b"GIF87a", b"GIF89a")
EXTENSION, IMAGE, TRAILER = 0x21, 0x2C, 0x3B
GRAPHIC_CONTROL, COMMENT, PLAIN_TEXT, APPLICATION = 0xF9, 0xFE, 0x01, 0xFF
COLOUR_TABLE_FLAG = 0x80
INTERLACE_FLAG = 0x40
MIN_CODE_SIZE, MAX_CODE_SIZE = 2, 8
# An encoder may put the end-of-information code (up to 12 bits) in a sub-block of its own.
MAX_DATA_AFTER_END = 3
GRAPHIC_CONTROL_SIZE = 4
PLAIN_TEXT_HEADER_SIZE = 12
APPLICATION_ID_SIZE = 11  # 8-byte identifier and 3-byte authentication code

# Application extensions, by identifier + authentication code.
LOOP_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
LOOP_SUB_BLOCK = 3  # sub-block id 1, u16le loop count
ICC_APPLICATION = b"ICCRGBG1012"
APPLICATION_KINDS = {
    b"XMP DataXMP": kinds.XMP,
    b"MGK8BIM0000": kinds.PHOTOSHOP,
    b"MGKIPTC0000": kinds.IPTC,
}


def _colour_table_size(flags: int) -> int:
    return 3 * (2 ** ((flags & 0x07) + 1)) if flags & COLOUR_TABLE_FLAG else 0


def _sub_blocks(reader: ByteReader, what: str) -> list[memoryview]:
    """Reads data sub-blocks up to and including the 00 terminator."""
    blocks = []
    while True:
        size = reader.u8(f"sub-block size in {what}")
        if size == 0:
            return blocks
        blocks.append(reader.take(size, f"sub-block in {what}"))


def _skip_sub_blocks(reader: ByteReader, what: str) -> None:
    while True:
        size = reader.u8(f"sub-block size in {what}")
        if size == 0:
            return
        reader.skip(size, f"sub-block in {what}")


def _exact_blocks(blocks: list[memoryview], sizes: tuple[int, ...], what: str, offset: int) -> None:
    if tuple(len(block) for block in blocks) != sizes:
        raise ImageError(f"{FMT}: {what} at offset {offset} has sub-blocks of {[len(b) for b in blocks]} bytes")


class _Walk:
    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.images = 0
        self.decoded_pixels = 0


def _graphic_control(walk: _Walk, reader: ByteReader, offset: int) -> Answer:
    _exact_blocks(_sub_blocks(reader, "graphic control extension"), (GRAPHIC_CONTROL_SIZE,), "graphic control extension", offset)
    return KEEP


def _plain_text(walk: _Walk, reader: ByteReader, offset: int) -> Answer:
    # Text drawn onto the canvas: image content, not metadata (and the graphic control
    # extension before it applies to it, so dropping it would re-time the next frame).
    blocks = _sub_blocks(reader, "plain text extension")
    if not blocks or len(blocks[0]) != PLAIN_TEXT_HEADER_SIZE:
        raise ImageError(f"{FMT}: plain text extension at offset {offset} has no 12-byte header")
    return KEEP


def _comment(walk: _Walk, reader: ByteReader, offset: int) -> Answer:
    _skip_sub_blocks(reader, f"the comment extension at offset {offset}")
    walk.removed.add(kinds.COMMENT)
    return DROP


def _application(walk: _Walk, reader: ByteReader, offset: int) -> Answer:
    blocks = _sub_blocks(reader, f"the application extension at offset {offset}")
    identifier = bytes(blocks[0]) if blocks else b""
    if len(identifier) != APPLICATION_ID_SIZE:
        walk.removed.add(kinds.OTHER)  # malformed, and not one display needs: dropped whole
        return DROP
    if identifier in LOOP_APPLICATIONS:
        _exact_blocks(blocks, (APPLICATION_ID_SIZE, LOOP_SUB_BLOCK), "loop extension", offset)
        if blocks[1][0] != 1:
            raise ImageError(f"{FMT}: loop extension at offset {offset} has sub-block id {blocks[1][0]}")
        return KEEP
    if identifier == ICC_APPLICATION:
        if is_icc_profile(b"".join(blocks[1:])):
            return KEEP
        walk.removed.add(kinds.OTHER)  # not a valid profile: dropped, the image still served
        return DROP
    walk.removed.add(APPLICATION_KINDS.get(identifier, kinds.OTHER))
    return DROP


def _unknown_extension(walk: _Walk, reader: ByteReader, offset: int) -> Answer:
    _skip_sub_blocks(reader, f"the extension at offset {offset}")
    walk.removed.add(kinds.OTHER)
    return DROP


EXTENSION_HANDLERS: dict[int, Handler] = {
    GRAPHIC_CONTROL: Handler("graphic control extension", _graphic_control),
    PLAIN_TEXT: Handler("plain text extension", _plain_text),
    COMMENT: Handler("comment extension", _comment),
    APPLICATION: Handler("application extension", _application),
}


def _image(walk: _Walk, reader: ByteReader, offset: int) -> None:
    reader.skip(4, "image position")
    width = reader.u16le("image width")
    height = reader.u16le("image height")
    flags = reader.u8("image descriptor flags")
    if not 0 < width * height <= MAX_DECODED_PIXELS:
        raise ImageError(f"{FMT}: image at offset {offset} declares {width}x{height} pixels")
    walk.decoded_pixels += width * height
    if walk.decoded_pixels > MAX_GIF_DECODED_PIXELS:
        raise ImageError(f"{FMT}: the frames hold more than {MAX_GIF_DECODED_PIXELS} pixels")
    reader.skip(_colour_table_size(flags), f"local colour table of the image at offset {offset}")
    code_size = reader.u8(f"LZW minimum code size of the image at offset {offset}")
    if not MIN_CODE_SIZE <= code_size <= MAX_CODE_SIZE:
        raise ImageError(f"{FMT}: image at offset {offset} has an LZW minimum code size of {code_size}")
    _check_image_data(reader, offset, (width, height), code_size, bool(flags & INTERLACE_FLAG))
    walk.images += 1


def _check_image_data(reader: ByteReader, offset: int, size: tuple[int, int], code_size: int, interlaced: bool) -> None:
    """Reads the image's data sub-blocks, decoding them to find where the image ends.

    A damaged size byte can make the sub-block chain run on through the blocks that
    follow (a comment, an XMP extension) and still look well-formed. The LZW stream
    ends with the image's last pixel, so sub-blocks left over after that end are not
    image data and the file is refused. Pillow's C decoder does the decoding, through
    the same Image._getdecoder call ImageFile.load makes (Pillow is pinned).
    """
    decoder = Image._getdecoder("P", "gif", (code_size, interlaced))
    decoder.setimage(Image.core.new("P", size), (0, 0, *size))
    pending: bytes | None = b""  # data the decoder has not consumed yet; None once it has ended
    left_over = 0
    while True:
        start = reader.pos
        length = reader.u8(f"sub-block size in the image at offset {offset}")
        reader.skip(length, f"sub-block in the image at offset {offset}")
        if length == 0:
            break
        if pending is None:
            left_over += 1 + length
            continue
        pending += bytes(reader.view(start, reader.pos))
        consumed, error = decoder.decode(pending)
        if error < 0:
            raise ImageError(f"{FMT}: the image data at offset {offset} does not decode (error {error})")
        pending = None if consumed < 0 else pending[consumed:]
    if left_over > MAX_DATA_AFTER_END:
        raise ImageError(f"{FMT}: the image at offset {offset} has {left_over} bytes of data after its end")


def _parse_screen(reader: ByteReader) -> None:
    width = reader.u16le("screen width")
    height = reader.u16le("screen height")
    flags = reader.u8("screen flags")
    reader.skip(2, "background colour and aspect ratio")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{FMT}: logical screen declares {width}x{height} pixels, over the limit of {MAX_PIXELS}")
    reader.skip(_colour_table_size(flags), "global colour table")


def _parse(data: bytes) -> tuple[SpanWriter, _Walk]:
    if data[:6] not in SIGNATURES:
        raise ImageError(f"{FMT}: no GIF87a/GIF89a signature at offset 0")
    walk = _Walk()
    writer = SpanWriter(data)
    reader = ByteReader(data, FMT, start=len(SIGNATURES[0]))
    _parse_screen(reader)
    writer.keep(0, reader.pos)
    while True:
        start = reader.pos
        introducer = reader.u8("block introducer")
        if introducer == TRAILER:
            if walk.images == 0:
                raise ImageError(f"{FMT}: trailer at offset {start} before any image")
            writer.keep(start, reader.pos)
            break
        if introducer == IMAGE:
            _image(walk, reader, start)
            writer.keep(start, reader.pos)
        elif introducer == EXTENSION:
            label = reader.u8("extension label")
            handler = EXTENSION_HANDLERS.get(label) or Handler(f"extension 0x{label:02x}", _unknown_extension)
            if handler.run(walk, reader, start) is KEEP:
                writer.keep(start, reader.pos)
        else:
            raise ImageError(f"{FMT}: unknown block introducer 0x{introducer:02x} at offset {start}")
    if not reader.at_end():
        walk.removed.add(kinds.TRAILER)
    return writer, walk


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    """GIF carries no EXIF, so there is no orientation or copyright to keep."""
    writer, walk = _parse(data)
    return Stripped(writer.join(), frozenset(walk.removed))


def find_exif(data: bytes) -> None:
    """GIF has no EXIF block; the walk still checks the file's structure."""
    _parse(data)


FORMAT = Format("gif", "image/gif", lambda head: head[:6] in SIGNATURES, strip, find_exif)
