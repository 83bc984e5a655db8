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
              above, an IDAT (or fdAT) cut off by the end of the file kept as it is
              (its bytes up to the end: they have passed through before the end is
              known), any other cut-off chunk or chunk header dropped (metadata, or
              a display chunk whose CRC cannot be checked); no IEND is added.
    bad CRC   an IDAT failing its CRC is kept as it is; any other chunk failing its
              CRC is refused (its length is as doubtful as its data).
A damaged IDAT's length is checked against its deflate stream (png_image_data.py), so
a wrong length cannot carry the chunks after it into the output. Still refused: no
IHDR, no IDAT (complete or cut off) before the end, an unknown critical chunk.

The file is walked as it arrives (PngWalk, below); strip() drives the same walk over the
whole input. Image data is never held: what is decided only after the first byte (a
damaged IDAT, an fdAT failing its CRC) cuts the stream.
"""

from __future__ import annotations

import struct
import zlib
from functools import partial
from typing import Callable

from .. import kinds
from ..exif_block import plan_exif
from ..errors import ImageError
from ..icc_profile import inflate_profile, is_icc_profile
from ..raw_profile import RAW_EXIF_KEYWORDS, decode_raw_profile, keyword_of_chunk, text_of_chunk
from ..limits import MAX_HELD_IDAT, MAX_PIXELS, MAX_STREAM_HEAD_BYTES
from ..kinds import Stripped
from .contract import DROP, KEEP, Answer, Format, Handler
from .png_image_data import ImageDataCheck, inflated_size
from .ranged_input import RangedInput
from .walks import Cursor, Step

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


def _image_data(walk: _Walk, data: memoryview | None, offset: int) -> Answer:
    """An IDAT, checked as its first data byte arrives (or whole, when it has none)."""
    if walk.colour_type == PALETTE_COLOUR_TYPE and not walk.palette_seen:
        raise ImageError(f"{FMT}: IDAT at offset {offset} before the PLTE a palette image needs")
    walk.image_data_seen = True
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


def _text(walk: _Walk, data: memoryview) -> Answer:
    """A text chunk, or what the end of the file left of one: its keyword names its kind."""
    keyword = keyword_of_chunk(data, MAX_KEYWORD)
    walk.removed.add(TEXT_KEYWORD_KINDS.get(keyword, kinds.COMMENT))
    return DROP


def _text_chunk(name: bytes, walk: _Walk, data: memoryview, offset: int) -> Answer:
    """A tEXt, zTXt or iTXt chunk (its type bound in the table below): dropped, and held
    for find_exif when it is one of ImageMagick's raw EXIF profiles."""
    if keyword_of_chunk(data, MAX_KEYWORD) in RAW_EXIF_KEYWORDS:
        walk.raw_exif_chunks.append((name, data))
    return _text(walk, data)


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
    b"tEXt": Handler("tEXt", partial(_text_chunk, b"tEXt")),
    b"zTXt": Handler("zTXt", partial(_text_chunk, b"zTXt")),
    b"iTXt": Handler("iTXt", partial(_text_chunk, b"iTXt")),
    b"tIME": Handler("tIME", _time),
}


def _is_chunk_type(name: bytes) -> bool:
    return all(0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A for c in name)


# Kinds of metadata a cut-off chunk held, by chunk type (any other: OTHER).
CUT_OFF_KINDS = {b"eXIf": kinds.EXIF, b"tEXt": kinds.COMMENT, b"zTXt": kinds.COMMENT, b"iTXt": kinds.COMMENT, b"tIME": kinds.COMMENT}


def _cut_off(walk: _Walk, name: bytes, body: memoryview) -> None:
    """A chunk the end of the file cuts, or one dropped unread (over MAX_STREAM_HEAD_BYTES):
    dropped, its kind noted from its type or its first bytes. (An IDAT or fdAT with data
    passes through, PngWalk._data, and is kept to the end of the file.)"""
    if name in (b"tEXt", b"zTXt", b"iTXt"):
        _text(walk, body)  # its keyword, when it is there, names the kind
    elif name != IEND:
        walk.removed.add(CUT_OFF_KINDS.get(name, kinds.OTHER))



# --- The walk, pushed a chunk at a time (metadata/streaming.py's contract) ------------------
#
# The head (signature, IHDR and every chunk up to the first IDAT with data) is held, so the
# minimal eXIf can go right after IHDR; it goes out when the image data begins. (A first
# eXIf after the image data is replaced by its minimal block where it is.) Then chunk by
# chunk: an IDAT's data is held until its CRC vouches for it (at most MAX_HELD_IDAT), so a
# damaged IDAT whose length swallowed the chunks after it is never written; only then is
# the image data inflated (png_image_data.ImageDataCheck), the IDATs already written
# re-read with ranged reads. A longer IDAT, or a walk without ranged reads, passes through
# as it comes, its data inflated as it passes and only bytes after the deflate stream's end
# held until the CRC. An fdAT's data (after the first IDAT) passes through, its CRC computed
# on the way. Any other chunk is held whole (at most MAX_STREAM_HEAD_BYTES), checked and
# kept or dropped by the handlers above; a longer ancillary chunk that is dropped anyway is
# walked over. A refusal after the first byte (a damaged IDAT that runs past its deflate
# stream, an fdAT or other chunk failing its CRC) cuts the stream.

_SIGNATURE, _CHUNK, _HELD, _DATA, _CRC, _SKIP, _AFTER, _END = range(8)
# Image data that passes through instead of being held.
PASSING = (IDAT, b"fdAT")
READ_PIECE = 1024 * 1024  # strip() feeds the walk the whole input this much at a time


class PngWalk(Cursor):
    """Strips one PNG pushed a chunk at a time: feed(chunk) -> bytes, finish() -> bytes.

    The minimal eXIf goes right after IHDR when the first eXIf comes before the image data
    (where browsers read it). When it comes only after, its Copyright and Artist (with
    keep_copyright) replace it where it is: putting them after IHDR would mean reading the
    whole file before the first byte.
    """

    def __init__(self, size: int, read_range: Callable[[int, int], bytes | memoryview] | None, keep_copyright: bool) -> None:
        super().__init__(_SIGNATURE)
        self.walk = _Walk()
        self._keep_copyright = keep_copyright
        # To re-read the image data already written when an IDAT turns out damaged.
        self._reads = RangedInput(read_range, size, FMT) if read_range is not None else None
        self._first_idat: int | None = None  # input offset of the first IDAT with data
        self._head: list[bytes] = []  # held until the image data begins
        self._in_head = True
        self._exif_place = -1
        self._start = 0  # input offset of the chunk being walked
        self._name = b""
        self._length = 0
        self._left = 0  # _DATA: data bytes of the passing chunk still to come
        self._crc = 0
        self._opened = False  # _DATA: the passing chunk's header written
        self._prefix = bytearray()  # _SKIP: the first bytes of the chunk walked over
        self._held: list[bytes] = []  # IDAT data not yet vouched for by its CRC
        self._held_size = 0
        self._check: ImageDataCheck | None = None  # None until the image data must be inflated
        self.data = b""  # the whole output, when driven over a whole input (_whole)
        self.removed: frozenset[str] = frozenset()
        self.kept: frozenset[str] = frozenset()

    # --- the contract ---

    def _check_head(self) -> None:
        if self._in_head and sum(len(blob) for blob in self._head) + len(self._buf) > MAX_STREAM_HEAD_BYTES:
            raise ImageError(f"{FMT}: no image data begins in the first {MAX_STREAM_HEAD_BYTES} bytes (the most a head may hold)")

    # --- stepping ---

    def _write(self, blob: bytes) -> None:
        (self._head if self._in_head else self._out).append(blob)

    def _steps(self) -> dict[int, Step]:
        return {_SIGNATURE: self._signature, _CHUNK: self._chunk_header, _HELD: self._held_chunk,
                _DATA: self._data, _CRC: self._data_crc, _SKIP: self._skip, _AFTER: self._after,
                _END: lambda final: False}  # fmt: skip

    def _signature(self, final: bool) -> bool:
        if len(self._buf) < len(SIGNATURE) and not final:
            return False
        if bytes(self._buf[: len(SIGNATURE)]) != SIGNATURE:
            raise ImageError(f"{FMT}: no PNG signature at offset 0")
        self._write(SIGNATURE)
        self._at = len(SIGNATURE)
        self._state = _CHUNK
        return True

    def _chunk_header(self, final: bool) -> bool:
        at, walk = self._at, self.walk
        available = len(self._buf) - at
        if available < CHUNK_HEADER_SIZE:
            if final:
                if available:
                    walk.removed.add(kinds.OTHER)  # a chunk header cut off: its bytes go
                self._state = _END
            return False
        start = self._base + at
        length, name = struct.unpack_from(">I4s", self._buf, at)
        if not _is_chunk_type(name):
            raise ImageError(f"{FMT}: chunk at offset {start} has an invalid type {name!r}")
        if length > MAX_CHUNK_LENGTH:
            raise ImageError(f"{FMT}: {name.decode()} chunk at offset {start} declares {length} bytes")
        if not walk.header_seen and name != b"IHDR":
            raise ImageError(f"{FMT}: first chunk at offset {start} is {name.decode()}, not IHDR")
        self._start, self._name, self._length = start, name, length
        if length and (name == IDAT or (name in PASSING and walk.image_data_seen)):
            self._at = at + CHUNK_HEADER_SIZE
            self._left = length
            self._crc = zlib.crc32(name)
            self._opened = False
            self._state = _DATA
        elif CHUNK_HEADER_SIZE + length + CRC_SIZE > MAX_STREAM_HEAD_BYTES and name[0] & ANCILLARY_BIT and name not in _DISPLAY_CHUNKS:
            # Too long to hold, and dropped whatever it holds: walked over, its CRC checked.
            self._at = at + CHUNK_HEADER_SIZE
            self._left = length
            self._crc = zlib.crc32(name)
            self._prefix = bytearray()
            self._state = _SKIP
        else:
            if CHUNK_HEADER_SIZE + length + CRC_SIZE > MAX_STREAM_HEAD_BYTES:
                raise ImageError(f"{FMT}: {name.decode()} chunk at offset {start} is longer than the {MAX_STREAM_HEAD_BYTES} bytes a chunk held whole may be")
            self._state = _HELD
        return True

    def _held_chunk(self, final: bool) -> bool:
        """A chunk other than image data: held whole, checked, kept or dropped."""
        at, walk, name, start = self._at, self.walk, self._name, self._start
        size = CHUNK_HEADER_SIZE + self._length + CRC_SIZE
        if len(self._buf) - at < size:
            if final:
                body = memoryview(bytes(self._buf[at + CHUNK_HEADER_SIZE : at + CHUNK_HEADER_SIZE + self._length]))
                _cut_off(walk, name, body)
                self._at = len(self._buf)
                self._state = _END
            return False
        chunk = bytes(self._buf[at : at + size])
        self._at = at + size
        body = memoryview(chunk)[CHUNK_HEADER_SIZE:-CRC_SIZE]
        crc = int.from_bytes(chunk[-CRC_SIZE:], "big")
        if zlib.crc32(body, zlib.crc32(name)) != crc:
            if name != IDAT:
                raise ImageError(f"{FMT}: {name.decode()} chunk at offset {start} fails its CRC check")
            self._judge_damage()  # an empty IDAT
        if name == IEND:
            if not walk.image_data_seen:
                raise ImageError(f"{FMT}: IEND at offset {start} before any IDAT")
            self._write(chunk)
            self._state = _AFTER
            return True
        handler = CHUNK_HANDLERS.get(name)
        if handler is None:
            if not name[0] & ANCILLARY_BIT:
                raise ImageError(f"{FMT}: unknown critical chunk {name.decode()} at offset {start}")
            handler = Handler(name.decode(), _unknown_ancillary)
        decision = handler.run(walk, body, start)
        if decision is KEEP:
            self._write(chunk)
        elif decision is not DROP:
            self._write(_chunk(name, decision))
        if name == b"eXIf" and len(walk.exif_blocks) == 1 and not walk.exif_before_image_data:
            self._late_exif(body)
        if name == b"IHDR":
            self._exif_place = len(self._head)
        if self._in_head and walk.image_data_seen:
            self._write_head()
        self._state = _CHUNK
        return True

    def _inflating(self) -> ImageDataCheck:
        """The image data's inflater, caught up with every IDAT byte walked so far: the
        chunks before this one re-read with ranged reads, then this one's held bytes."""
        if self._check is None:
            check = ImageDataCheck(self.walk.inflated_size, FMT)
            if self._first_idat is not None:  # (nothing to re-read when this is the first IDAT: _first_idat == _start)
                _feed_image_data(self._reads, check, self._first_idat, self._start)
            for piece in self._held:
                check.feed(piece)
            self._check = check
        return self._check

    def _judge_damage(self) -> None:
        """The IDAT just walked is damaged (its CRC fails, or the file ends inside it)."""
        check = self._inflating()
        check.damaged(check.consumed)

    def _data(self, final: bool) -> bool:
        """An IDAT's (or fdAT's) data, written as it comes."""
        at, name = self._at, self._name
        if not self._opened:
            if at >= len(self._buf):
                if final:
                    self.walk.removed.add(kinds.OTHER)  # only its header: dropped
                    self._state = _END
                return False
            self._opened = True
            if name == IDAT:
                _image_data(self.walk, None, self._start)
                if self._in_head:
                    self._write_head()
                if self._first_idat is None:
                    self._first_idat = self._start
                if self._check is None and (self._reads is None or self._length > MAX_HELD_IDAT):
                    self._inflating()  # too long to hold (or nothing to re-read): inflated as it passes
            self._write(struct.pack(">I", self._length) + name)
        step = min(self._left, len(self._buf) - at)
        if step:
            piece = bytes(self._buf[at : at + step])
            self._at = at + step
            self._left -= step
            self._crc = zlib.crc32(piece, self._crc)
            if name == IDAT:
                self._pass_image_data(piece)
            else:
                self._write(piece)
        if self._left:
            if final:  # cut off by the end of the file: kept to its last byte
                self._cut_off_data()
            return False
        self._state = _CRC
        return True

    def _pass_image_data(self, piece: bytes) -> None:
        """Held until the chunk's CRC; or, once the data is inflated as it passes, written
        up to the deflate stream's end (and the Adler-32), anything after it held."""
        check = self._check
        if check is None:
            self._hold(piece)
            return
        start = check.consumed
        check.feed(piece)
        until = check.kept_until()
        if self._held:
            kept = 0  # already past the deflate stream's end
        else:
            kept = len(piece) if until is None else max(0, min(len(piece), until - start))
        if kept:
            self._write(piece[:kept])  # the whole piece is not copied: a full slice of bytes is the bytes
        if kept < len(piece):
            self._hold(piece[kept:])

    def _hold(self, piece: bytes) -> None:
        self._held.append(piece)
        self._held_size += len(piece)
        if self._held_size > MAX_STREAM_HEAD_BYTES:
            raise ImageError(f"{FMT}: the {self._name.decode()} chunk at offset {self._start} holds more than {MAX_STREAM_HEAD_BYTES} bytes after the end of its image data")

    def _release(self) -> None:
        self._out.extend(self._held)
        self._held, self._held_size = [], 0

    def _cut_off_data(self) -> None:
        if self._name == IDAT:
            self._judge_damage()
        self._release()
        self._write(bytes(self._buf[self._at :]))  # a CRC cut off too: its bytes as they are
        self._at = len(self._buf)
        self._state = _END

    def _data_crc(self, final: bool) -> bool:
        at = self._at
        if len(self._buf) - at < CRC_SIZE:
            if final:
                self._cut_off_data()
            return False
        crc = bytes(self._buf[at : at + CRC_SIZE])
        self._at = at + CRC_SIZE
        if int.from_bytes(crc, "big") != self._crc:
            if self._name != IDAT:
                raise ImageError(f"{FMT}: {self._name.decode()} chunk at offset {self._start} fails its CRC check")
            self._judge_damage()
        self._release()
        self._write(crc)
        self._state = _CHUNK
        return True

    def _skip(self, final: bool) -> bool:
        """A long ancillary chunk walked over as it comes: only its first bytes kept, for
        the kind of metadata a text chunk's keyword names."""
        at = self._at
        step = min(self._left, len(self._buf) - at)
        if step:
            piece = self._buf[at : at + step]
            self._crc = zlib.crc32(piece, self._crc)
            if len(self._prefix) <= MAX_KEYWORD:
                self._prefix += piece[: MAX_KEYWORD + 1 - len(self._prefix)]
            self._at = at = at + step
            self._left -= step
        if self._left or len(self._buf) - at < CRC_SIZE:
            if final:
                _cut_off(self.walk, self._name, memoryview(bytes(self._prefix)))
                self._at = len(self._buf)
                self._state = _END
            return False
        if int.from_bytes(self._buf[at : at + CRC_SIZE], "big") != self._crc:
            raise ImageError(f"{FMT}: {self._name.decode()} chunk at offset {self._start} fails its CRC check")
        self._at = at + CRC_SIZE
        _cut_off(self.walk, self._name, memoryview(bytes(self._prefix)))
        self._state = _CHUNK
        return True

    def _after(self, final: bool) -> bool:
        if self._at < len(self._buf):
            self.walk.removed.add(kinds.TRAILER)
        self._at = len(self._buf)
        return False

    # --- the head and the end ---

    def _write_head(self) -> None:
        """The image data begins: the head goes out, the minimal eXIf right after IHDR."""
        walk = self.walk
        self._in_head = False
        minimal = plan_exif(walk.exif_blocks, self._keep_copyright, FMT).minimal  # None for no blocks
        if minimal is not None:
            self._head.insert(self._exif_place, _chunk(b"eXIf", minimal))
        head, self._head = self._head, []
        self._out.extend(head)

    def _late_exif(self, block: memoryview) -> None:
        """The first eXIf, after the image data: browsers ignore it there, so its minimal
        block never rotates the image; with keep_copyright it keeps its place."""
        minimal = plan_exif([block], self._keep_copyright, FMT, orientation_shown=False).minimal
        if minimal is not None:
            self._write(_chunk(b"eXIf", minimal))

    def _conclude(self) -> None:
        walk = self.walk
        if not walk.header_seen:
            raise ImageError(f"{FMT}: the file ends before a complete IHDR chunk")
        if not walk.image_data_seen:
            raise ImageError(f"{FMT}: the file ends before any IDAT")
        # Browsers read eXIf only before the image data: one after it is ignored, and its
        # replacement must not start rotating the image.
        plan = plan_exif(walk.exif_blocks, self._keep_copyright, FMT, orientation_shown=walk.exif_before_image_data)
        self.removed = frozenset(walk.removed | plan.removed)


# Image data is re-read this much at a time to catch the inflater up.
REREAD_PIECE = 1024 * 1024


def _feed_image_data(reads: RangedInput, check: ImageDataCheck, start: int, stop: int) -> None:
    """Feeds `check` the data of every IDAT in the input's chunks from `start` to `stop`,
    followed by their lengths as the walk followed them."""
    pos = start
    while pos < stop:
        length, name = struct.unpack(">I4s", bytes(reads(pos, pos + CHUNK_HEADER_SIZE)))
        if name == IDAT:
            data_start = pos + CHUNK_HEADER_SIZE
            for offset in range(data_start, data_start + length, REREAD_PIECE):
                check.feed(bytes(reads(offset, min(offset + REREAD_PIECE, data_start + length))))
        pos += CHUNK_HEADER_SIZE + length + CRC_SIZE


def _whole(data: bytes | memoryview, keep_copyright: bool) -> PngWalk:
    view = memoryview(data)
    walk = PngWalk(len(view), lambda start, end: view[start:end], keep_copyright)
    out = [walk.feed(view[offset : offset + READ_PIECE]) for offset in range(0, len(view), READ_PIECE)]
    out.append(walk.finish())
    walk.data = b"".join(out)
    return walk


def open_walk(size: int, read_range: Callable[[int, int], bytes] | None, keep_copyright: bool) -> PngWalk:
    """The walk metadata/streaming.py drives for a PNG file."""
    return PngWalk(size, read_range, keep_copyright)


def _chunk(name: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + name + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(name)))


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    """The streaming walk driven over the whole input (one code path for both)."""
    walk = _whole(data, keep_copyright)
    return Stripped(walk.data, walk.removed)


def find_exif(data: bytes) -> bytes | memoryview | None:
    """The first eXIf chunk's data, else the EXIF of ImageMagick's first readable
    "Raw profile type exif" text chunk, after checking the whole file's structure."""
    walk = _whole(data, False).walk
    if walk.exif_blocks:
        return walk.exif_blocks[0]
    for name, chunk in walk.raw_exif_chunks:
        text = text_of_chunk(name, chunk)
        block = decode_raw_profile(text) if text is not None else None
        if block is not None:
            return block
    return None


FORMAT = Format("png", "image/png", lambda head: head[: len(SIGNATURE)] == SIGNATURE, strip, find_exif, open_walk)
