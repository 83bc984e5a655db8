"""GIF: drop comment and metadata extensions, keep every frame's bytes as they are.

Byte layout (GIF89a specification):
    header      "GIF87a" or "GIF89a"
    screen      u16le width, u16le height, packed flags, background index, aspect ratio;
                a global colour table of 3 * 2^(n+1) bytes follows when bit 7 of the flags is set
    extension   21 <label> then data sub-blocks: <size 1-255> <size bytes> ... 00
    image       2C, u16le left, top, width, height, packed flags, optional local colour
                table, LZW minimum code size (1), data sub-blocks ... 00
    trailer     3B

The walk is pushed a chunk at a time (GifWalk, below); strip() drives it over the whole
input. Blocks are copied rather than decoded and re-encoded: Pillow's GIF writer would
re-quantise frames whose combined colours exceed 256 and merge or crop frames, while
copying the image blocks keeps every frame, its timing, disposal and the loop count
exactly. Each frame's data is still run through Pillow's LZW decoder (into a scratch
buffer) to check that the data ends where the image does.

The extensions display may need are held and dispatched through one table keyed by
label (application extensions by their identifier): what display needs is kept (graphic
control, loop count, ICC profile, plain text), everything else goes. A comment or an
unknown extension is dropped unread, walked over as it comes (GifWalk._skip).
"""

from __future__ import annotations

from PIL import Image

from .. import kinds
from ..byte_reader import ByteReader
from ..icc_profile import is_icc_profile
from ..errors import ImageError
from ..limits import MAX_DECODED_PIXELS, MAX_GIF_DECODED_PIXELS, MAX_ICC_PROFILE_BYTES, MAX_PIXELS
from ..kinds import Stripped
from .contract import DROP, KEEP, Answer, Format, Handler
from .walks import Cursor, Step

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


def _exact_blocks(blocks: list[memoryview], sizes: tuple[int, ...], what: str, offset: int) -> None:
    if tuple(len(block) for block in blocks) != sizes:
        raise ImageError(f"{FMT}: {what} at offset {offset} has sub-blocks of {[len(b) for b in blocks]} bytes")


class _Walk:
    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.has_image = False
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


def _application(walk: _Walk, reader: ByteReader, offset: int) -> Answer:
    """The loop count or an ICC profile: GifWalk._hold walks over, unread, every application
    extension whose first sub-block is an 11-byte identifier of neither."""
    blocks = _sub_blocks(reader, f"the application extension at offset {offset}")
    identifier = bytes(blocks[0]) if blocks else None
    if identifier in LOOP_APPLICATIONS:
        _exact_blocks(blocks, (APPLICATION_ID_SIZE, LOOP_SUB_BLOCK), "loop extension", offset)
        if blocks[1][0] != 1:
            raise ImageError(f"{FMT}: loop extension at offset {offset} has sub-block id {blocks[1][0]}")
        return KEEP
    if identifier == ICC_APPLICATION and is_icc_profile(b"".join(blocks[1:])):
        return KEEP
    # Malformed (no 11-byte identifier), or not a valid profile: dropped whole, the image still served.
    walk.removed.add(kinds.OTHER)
    return DROP


EXTENSION_HANDLERS: dict[int, Handler] = {
    GRAPHIC_CONTROL: Handler("graphic control extension", _graphic_control),
    PLAIN_TEXT: Handler("plain text extension", _plain_text),
    APPLICATION: Handler("application extension", _application),
}


class _LzwCheck:
    """Decodes one image's data as its sub-blocks come, to find where the image ends.

    A damaged size byte can make the sub-block chain run on through the blocks that
    follow (a comment, an XMP extension) and still look well-formed. The LZW stream
    ends with the image's last pixel, so sub-blocks left over after that end are not
    image data and the file is refused. Pillow's C decoder does the decoding, through
    the same Image._getdecoder call ImageFile.load makes (Pillow is pinned).
    """

    def __init__(self, offset: int, size: tuple[int, int], code_size: int, interlaced: bool) -> None:
        self.offset = offset
        self.decoder = Image._getdecoder("P", "gif", (code_size, interlaced))
        self.decoder.setimage(Image.core.new("P", size), (0, 0, *size))
        self.pending: bytes | None = b""  # data the decoder has not consumed yet; None once it has ended
        self.left_over = 0

    def sub_block(self, block: bytes) -> None:
        """One sub-block, its size byte included."""
        if self.pending is None:
            self.left_over += len(block)
            if self.left_over > MAX_DATA_AFTER_END:
                raise ImageError(f"{FMT}: the image at offset {self.offset} has {self.left_over} bytes of data after its end")
            return
        self.pending += block
        consumed, error = self.decoder.decode(self.pending)
        if error < 0:
            raise ImageError(f"{FMT}: the image data at offset {self.offset} does not decode (error {error})")
        self.pending = None if consumed < 0 else self.pending[consumed:]


# --- The walk, pushed a chunk at a time (metadata/streaming.py's contract) ------------------
#
# The header, the screen and its colour table go out first. Then block by block: an image's
# descriptor and colour table are checked, then its data sub-blocks pass through as they
# come (each one decoded to find the image's end, "need k / copy n"); a comment, an unknown
# extension or an application extension that is dropped is walked over as it comes ("skip
# n"); the extensions display needs (graphic control, loop count, ICC profile, plain text)
# are held whole, at most MAX_HELD_EXTENSION bytes, and checked by the handlers above.
# A refusal after the first byte (frame data running past its end) cuts the stream.

# The most a kept extension may hold: an ICC profile (MAX_ICC_PROFILE_BYTES) in sub-blocks.
MAX_HELD_EXTENSION = MAX_ICC_PROFILE_BYTES + MAX_ICC_PROFILE_BYTES // 255 + 64 * 1024
HELD_LABELS = frozenset(EXTENSION_HANDLERS)  # graphic control, plain text, application
SCREEN_SIZE = 7  # width, height, flags, background, aspect

_HEADER, _BLOCK, _DESCRIPTOR, _IMAGE_DATA, _HOLD, _SKIP, _AFTER = range(7)


class GifWalk(Cursor):
    """Strips one GIF pushed a chunk at a time: feed(chunk) -> bytes, finish() -> bytes."""

    def __init__(self) -> None:
        super().__init__(_HEADER)
        self.walk = _Walk()
        self._block_start = 0  # input offset of the block being walked
        self._label = 0
        self._lzw: _LzwCheck | None = None
        self.data = b""  # the whole output, when driven over a whole input (_whole)
        self.removed: frozenset[str] = frozenset()
        self.kept: frozenset[str] = frozenset()

    def _conclude(self) -> None:
        # finish() walked with final=True, and then every step but _after moves on or refuses
        # (a file cut before its trailer is refused by the step it ends in), so the walk is here
        # in _after. The check stays as the last line of defence: a step changed to wait at the end
        # of the file would otherwise serve a GIF with no trailer and no refusal.
        if self._state != _AFTER:
            raise ImageError(f"{FMT}: the file ends before its trailer")
        self.removed = frozenset(self.walk.removed)

    def _steps(self) -> dict[int, Step]:
        return {
            _HEADER: self._header,
            _BLOCK: self._block,
            _DESCRIPTOR: self._descriptor,
            _IMAGE_DATA: self._image_data,
            _HOLD: self._hold,
            _SKIP: self._skip,
            _AFTER: self._after,
        }

    def _header(self, final: bool) -> bool:
        screen_end = len(SIGNATURES[0]) + SCREEN_SIZE
        if not final and len(self._buf) < screen_end:
            return False
        if bytes(self._buf[:6]) not in SIGNATURES:
            raise ImageError(f"{FMT}: no GIF87a/GIF89a signature at offset 0")
        if not final and len(self._buf) < screen_end + _colour_table_size(self._buf[10]):  # 10: the screen flags
            return False
        reader = ByteReader(bytes(self._buf), FMT, start=len(SIGNATURES[0]))
        _parse_screen(reader)
        self._out.append(bytes(self._buf[: reader.pos]))
        self._at = reader.pos
        self._state = _BLOCK
        return True

    def _block(self, final: bool) -> bool:
        buf, at = self._buf, self._at
        start = self._base + at
        if len(buf) - at < 1:
            if final:
                raise ImageError(f"{FMT}: block introducer needs 1 bytes but 0 are left at offset {start}")
            return False
        introducer = buf[at]
        self._block_start = start
        if introducer == TRAILER:
            if not self.walk.has_image:
                raise ImageError(f"{FMT}: trailer at offset {start} before any image")
            self._out.append(b"\x3b")
            self._at = at + 1
            self._state = _AFTER
            return True
        if introducer == IMAGE:
            self._state = _DESCRIPTOR
            return True
        if introducer != EXTENSION:
            raise ImageError(f"{FMT}: unknown block introducer 0x{introducer:02x} at offset {start}")
        if len(buf) - at < 2:
            if final:
                raise ImageError(f"{FMT}: extension label needs 1 bytes but 0 are left at offset {start + 1}")
            return False
        self._label = buf[at + 1]
        if self._label in HELD_LABELS:
            self._state = _HOLD
        else:
            self.walk.removed.add(kinds.COMMENT if self._label == COMMENT else kinds.OTHER)
            self._at = at + 2
            self._state = _SKIP
        return True

    def _sub_blocks_over(self, start: int) -> bool:
        """Whether the sub-block chain from buffer index `start` ends (its 00) in the buffer."""
        buf, pos = self._buf, start
        while pos < len(buf):
            if buf[pos] == 0:
                return True
            pos += 1 + buf[pos]
        return False

    def _hold(self, final: bool) -> bool:
        """An extension display may need: held whole, then checked by its handler. An
        application extension whose identifier says it is dropped is walked over instead."""
        at = self._at
        if self._label == APPLICATION and len(self._buf) - at >= 3 + APPLICATION_ID_SIZE and self._buf[at + 2] == APPLICATION_ID_SIZE:
            identifier = bytes(self._buf[at + 3 : at + 3 + APPLICATION_ID_SIZE])
            if identifier not in LOOP_APPLICATIONS and identifier != ICC_APPLICATION:
                self.walk.removed.add(APPLICATION_KINDS.get(identifier, kinds.OTHER))
                self._at = at + 2
                self._state = _SKIP
                return True
        if not final and not self._sub_blocks_over(at + 2):
            # MAX_HELD_EXTENSION bytes held and the extension not over yet: it has more.
            if len(self._buf) - at >= MAX_HELD_EXTENSION:
                raise ImageError(f"{FMT}: the extension at offset {self._block_start} is longer than {MAX_HELD_EXTENSION} bytes")
            return False
        reader = ByteReader(bytes(self._buf), FMT, start=at + 2)
        reader_offset = self._base
        handler = EXTENSION_HANDLERS[self._label]
        try:
            decision = handler.run(self.walk, reader, self._block_start)
        except ImageError as error:
            raise _shifted(error, reader_offset) from None
        if decision is KEEP:
            self._out.append(bytes(self._buf[at : reader.pos]))
        self._at = reader.pos
        self._state = _BLOCK
        return True

    def _skip(self, final: bool) -> bool:
        """Sub-blocks walked over as they come; nothing held."""
        buf = self._buf
        while self._at < len(buf):
            size = buf[self._at]
            if size == 0:
                self._at += 1
                self._state = _BLOCK
                return True
            if len(buf) - self._at < 1 + size:
                break
            self._at += 1 + size
        if final:
            raise self._cut_off(f"the extension at offset {self._block_start}")
        return False

    def _cut_off(self, what: str) -> ImageError:
        """The refusal, at finish, of sub-blocks the input ends inside: the first not walked is cut off."""
        buf, at = self._buf, self._at
        where = self._base + at
        if at >= len(buf):
            return ImageError(f"{FMT}: sub-block size in {what} needs 1 bytes but 0 are left at offset {where}")
        return ImageError(f"{FMT}: sub-block in {what} needs {buf[at]} bytes but {len(buf) - at - 1} are left at offset {where + 1}")

    def _descriptor(self, final: bool) -> bool:
        at = self._at
        # Introducer, position and size, flags (at + 9), the local colour table, the LZW code size.
        if not final and (len(self._buf) - at < 11 or len(self._buf) - at < 11 + _colour_table_size(self._buf[at + 9])):
            return False
        reader = ByteReader(bytes(self._buf), FMT, start=at + 1)
        try:
            lzw = _image_header(self.walk, reader, self._block_start)
        except ImageError as error:
            raise _shifted(error, self._base) from None
        self._lzw = lzw
        self._out.append(bytes(self._buf[at : reader.pos]))
        self._at = reader.pos
        self._state = _IMAGE_DATA
        return True

    def _image_data(self, final: bool) -> bool:
        """The image's data sub-blocks: decoded to find its end, written as they come."""
        buf = self._buf
        while self._at < len(buf):
            size = buf[self._at]
            if len(buf) - self._at < 1 + size:
                break
            block = bytes(buf[self._at : self._at + 1 + size])
            self._at += 1 + size
            if size == 0:
                self._out.append(block)
                self.walk.has_image = True
                self._state = _BLOCK
                return True
            self._lzw.sub_block(block)
            self._out.append(block)
        if final:
            raise self._cut_off(f"the image at offset {self._block_start}")
        return False

    def _after(self, final: bool) -> bool:
        if self._at < len(self._buf):
            self.walk.removed.add(kinds.TRAILER)
        self._at = len(self._buf)
        return False


def _shifted(error: ImageError, base: int) -> ImageError:
    """An error a handler raised over the buffer, its offsets as they are in the input."""
    if not base:
        return error
    import re  # noqa: PLC0415 - only on refusal

    return ImageError(re.sub(r"at offset (\d+)$", lambda m: f"at offset {int(m[1]) + base}", str(error)))


def _image_header(walk: _Walk, reader: ByteReader, offset: int) -> _LzwCheck:
    """An image descriptor, its local colour table and LZW code size, checked."""
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
    return _LzwCheck(offset, (width, height), code_size, bool(flags & INTERLACE_FLAG))


def _parse_screen(reader: ByteReader) -> None:
    width = reader.u16le("screen width")
    height = reader.u16le("screen height")
    flags = reader.u8("screen flags")
    reader.skip(2, "background colour and aspect ratio")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{FMT}: logical screen declares {width}x{height} pixels, over the limit of {MAX_PIXELS}")
    reader.skip(_colour_table_size(flags), "global colour table")


READ_PIECE = 1024 * 1024


def _whole(data: bytes) -> GifWalk:
    walk = GifWalk()
    view = memoryview(data)
    out = [walk.feed(view[offset : offset + READ_PIECE]) for offset in range(0, len(view), READ_PIECE)]
    out.append(walk.finish())
    walk.data = b"".join(out)
    return walk


def open_walk(size: int, read_range: object, keep_copyright: bool) -> GifWalk:  # noqa: ARG001 - GIF needs neither
    """The walk metadata/streaming.py drives for a GIF file."""
    return GifWalk()


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    """GIF carries no EXIF, so there is no orientation or copyright to keep. The streaming
    walk driven over the whole input (one code path for both)."""
    walk = _whole(data)
    return Stripped(walk.data, walk.removed)


def find_exif(data: bytes) -> None:
    """GIF has no EXIF block; the walk still checks the file's structure."""
    _whole(data)


FORMAT = Format("gif", "image/gif", lambda head: head[:6] in SIGNATURES, strip, find_exif, open_walk)
