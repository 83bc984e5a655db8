"""WebP: drop the EXIF and XMP chunks, keep the image chunks as they are.

Byte layout (RFC 9649):
    header  "RIFF" <u32le size of what follows> "WEBP"
    chunk   <4-byte FourCC> <u32le payload size> <payload> <one pad byte if the size is odd>
    simple  one VP8 (lossy) or VP8L (lossless) chunk
    extended  VP8X first: flags (1), reserved (3), canvas width - 1 (u24le), height - 1 (u24le),
            then ICCP, ANIM, the image (ALPH + VP8, VP8L, or ANMF frames), EXIF, XMP
    ANMF    x/2, y/2, width - 1, height - 1, duration (u24le each), flags (1), then the
            frame's own ALPH/VP8/VP8L chunks

Chunks are dispatched through one table keyed by the FourCC. The output keeps the
image, colour profile and animation chunks, fixes the RIFF size, and rewrites the
VP8X flags to say which of ICC profile and EXIF remain.
"""

from __future__ import annotations

import struct
from typing import Callable

from .. import kinds
from ..byte_reader import ByteReader
from ..byte_spans import SpanWriter
from ..exif_block import plan_exif
from ..icc_profile import is_icc_profile
from ..errors import ImageError
from ..limits import MAX_PIXELS
from ..kinds import Stripped
from .contract import DROP, KEEP, Answer, Format, Handler

FMT = "WebP"
RIFF, WEBP = b"RIFF", b"WEBP"
RIFF_HEADER_SIZE = 12
CHUNK_HEADER_SIZE = 8
VP8X_SIZE = 10
ANMF_HEADER_SIZE = 16
# VP8X flags (RFC 9649, section 2.7)
ICC_FLAG, ALPHA_FLAG, EXIF_FLAG, XMP_FLAG, ANIMATION_FLAG = 0x20, 0x10, 0x08, 0x04, 0x02
# VP8 key frame: 3-byte frame tag, start code 9D 01 2A, u16le width and height (14 bits each).
VP8_START_CODE = b"\x9d\x01\x2a"
VP8_HEADER_SIZE = 10
# VP8L: signature 2F, then 14 bits width - 1, 14 bits height - 1, 1 bit alpha, 3 bits version.
VP8L_SIGNATURE = 0x2F
VP8L_HEADER_SIZE = 5
FRAME_CHUNKS = frozenset({b"ALPH", b"VP8 ", b"VP8L"})


class _Walk:
    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.exif_blocks: list[memoryview] = []
        self.flags: int | None = None  # VP8X flags, None for a simple file
        self.canvas = (0, 0)  # VP8X canvas width - 1, height - 1
        self.icc = False
        self.bitstream: tuple[int, int, bool] | None = None  # width, height, alpha of the first VP8/VP8L
        self.stills = 0  # top-level VP8/VP8L chunks
        self.frames = 0  # ANMF chunks



def _check_pixels(width: int, height: int, what: str, offset: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageError(f"{FMT}: {what} at offset {offset} declares {width}x{height} pixels, over the limit of {MAX_PIXELS}")


def _vp8_size(payload: memoryview, offset: int) -> tuple[int, int, bool]:
    if len(payload) < VP8_HEADER_SIZE or payload[3:6] != VP8_START_CODE:
        raise ImageError(f"{FMT}: VP8 chunk at offset {offset} has no key frame header")
    width, height = struct.unpack_from("<HH", payload, 6)
    return width & 0x3FFF, height & 0x3FFF, False


def _vp8l_size(payload: memoryview, offset: int) -> tuple[int, int, bool]:
    if len(payload) < VP8L_HEADER_SIZE or payload[0] != VP8L_SIGNATURE:
        raise ImageError(f"{FMT}: VP8L chunk at offset {offset} has no VP8L signature")
    bits = int.from_bytes(payload[1:5], "little")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)


def _extended_header(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    if offset != RIFF_HEADER_SIZE:
        raise ImageError(f"{FMT}: VP8X chunk at offset {offset} is not the first chunk")
    if len(payload) != VP8X_SIZE:
        raise ImageError(f"{FMT}: VP8X chunk at offset {offset} is {len(payload)} bytes, expected {VP8X_SIZE}")
    reader = ByteReader(payload, FMT)
    walk.flags = reader.u8("VP8X flags")
    reader.skip(3, "VP8X reserved bytes")
    walk.canvas = (reader.u24le("canvas width"), reader.u24le("canvas height"))
    _check_pixels(walk.canvas[0] + 1, walk.canvas[1] + 1, "VP8X canvas", offset)
    return KEEP  # rewritten with new flags once the walk is done


def _bitstream(walk: _Walk, payload: memoryview, offset: int, name: bytes) -> None:
    size = _vp8_size(payload, offset) if name == b"VP8 " else _vp8l_size(payload, offset)
    _check_pixels(size[0], size[1], name.decode().strip(), offset)
    if walk.bitstream is None:
        walk.bitstream = size


def _still(name: bytes) -> Callable[[_Walk, memoryview, int], Answer]:
    """A top-level VP8 or VP8L chunk: the still image's bitstream."""

    def still(walk: _Walk, payload: memoryview, offset: int) -> Answer:
        _bitstream(walk, payload, offset, name)
        walk.stills += 1
        return KEEP

    return still


def _frame(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    # The frame's own chunks must all be image chunks: an ANMF is kept whole.
    reader = ByteReader(payload, FMT)
    reader.skip(ANMF_HEADER_SIZE, f"ANMF header at offset {offset}")
    while not reader.at_end():
        inner_offset = offset + CHUNK_HEADER_SIZE + reader.pos
        inner_name, inner_payload = _read_chunk(reader, inner_offset)
        if inner_name not in FRAME_CHUNKS:
            raise ImageError(f"{FMT}: ANMF frame at offset {offset} holds a {inner_name!r} chunk")
        if inner_name != b"ALPH":
            _bitstream(walk, inner_payload, inner_offset, inner_name)
    walk.frames += 1
    return KEEP


def _icc(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    # An invalid profile is dropped and the VP8X ICC flag cleared (_vp8x reads walk.icc).
    if walk.icc or not is_icc_profile(payload):
        walk.removed.add(kinds.OTHER)
        return DROP
    walk.icc = True
    return KEEP


def _keep(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    return KEEP


def _exif(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    walk.exif_blocks.append(payload)  # kinds are added once every block has been read
    return DROP


def _drop_as(kind: str) -> Callable[[_Walk, memoryview, int], Answer]:
    def drop(walk: _Walk, payload: memoryview, offset: int) -> Answer:
        walk.removed.add(kind)
        return DROP

    return drop


_drop_other = _drop_as(kinds.OTHER)  # any chunk the table does not list

CHUNK_HANDLERS: dict[bytes, Handler] = {
    b"VP8X": Handler("VP8X", _extended_header),
    b"VP8 ": Handler("VP8", _still(b"VP8 ")),
    b"VP8L": Handler("VP8L", _still(b"VP8L")),
    b"ALPH": Handler("ALPH", _keep),
    b"ANMF": Handler("ANMF", _frame),
    b"ANIM": Handler("ANIM", _keep),
    b"ICCP": Handler("ICCP", _icc),
    b"EXIF": Handler("EXIF", _exif),
    b"XMP ": Handler("XMP", _drop_as(kinds.XMP)),
}


def _read_chunk(reader: ByteReader, offset: int) -> tuple[bytes, memoryview]:
    name = bytes(reader.take(4, "chunk FourCC"))
    size = reader.u32le(f"size of the {name!r} chunk at offset {offset}")
    payload = reader.take(size, f"{name!r} chunk starting at offset {offset}")
    if size % 2:
        reader.skip(1, f"pad byte of the {name!r} chunk at offset {offset}")
    return name, payload


class _Parsed:
    def __init__(self, writer: SpanWriter, walk: _Walk, vp8x_place: int):
        self.writer = writer
        self.walk = walk
        self.vp8x_place = vp8x_place


def _parse(data: bytes) -> _Parsed:
    if data[:4] != RIFF or data[8:12] != WEBP:
        raise ImageError(f"{FMT}: no RIFF/WEBP header at offset 0")
    riff_size = int.from_bytes(data[4:8], "little")
    body_end = 8 + riff_size
    if riff_size % 2 or riff_size < 4 or body_end > len(data):
        raise ImageError(f"{FMT}: RIFF size {riff_size} at offset 4 does not fit the {len(data)} bytes of data")
    writer = SpanWriter(data)
    walk = _Walk()
    reader = ByteReader(data, FMT, start=RIFF_HEADER_SIZE, end=body_end)
    vp8x_place = writer.mark()
    while not reader.at_end():
        start = reader.pos
        name, payload = _read_chunk(reader, start)
        if start == RIFF_HEADER_SIZE and name not in (b"VP8X", b"VP8 ", b"VP8L"):
            raise ImageError(f"{FMT}: first chunk at offset {start} is {name!r}, not VP8X, VP8 or VP8L")
        handler = CHUNK_HANDLERS.get(name) or Handler(repr(name), _drop_other)
        if handler.run(walk, payload, start) is KEEP and name != b"VP8X":
            writer.keep(start, reader.pos)
    animated = walk.flags is not None and bool(walk.flags & ANIMATION_FLAG)
    if animated and (walk.frames == 0 or walk.stills):
        raise ImageError(f"{FMT}: an animated file needs ANMF frames and no other image chunk")
    if not animated and (walk.stills == 0 or walk.frames):
        raise ImageError(f"{FMT}: a still image needs a VP8 or VP8L chunk and no ANMF frames")
    if body_end < len(data):
        walk.removed.add(kinds.TRAILER)
    return _Parsed(writer, walk, vp8x_place)


def _chunk(name: bytes, payload: bytes) -> bytes:
    return name + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")


def _vp8x(walk: _Walk, exif: bool) -> bytes | None:
    """The VP8X chunk the output needs, or None when it stays a simple file."""
    if walk.flags is None:
        if not exif:
            return None
        # A simple file that keeps EXIF becomes an extended one; the canvas is the bitstream's.
        width, height, alpha = walk.bitstream
        flags = ALPHA_FLAG if alpha else 0
        canvas = (width - 1, height - 1)
    else:
        flags = walk.flags & (ALPHA_FLAG | ANIMATION_FLAG)
        canvas = walk.canvas
    flags |= (ICC_FLAG if walk.icc else 0) | (EXIF_FLAG if exif else 0)
    payload = bytes((flags, 0, 0, 0)) + canvas[0].to_bytes(3, "little") + canvas[1].to_bytes(3, "little")
    return _chunk(b"VP8X", payload)


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    parsed = _parse(data)
    plan = plan_exif(parsed.walk.exif_blocks, keep_copyright, FMT)
    writer = parsed.writer
    vp8x = _vp8x(parsed.walk, plan.minimal is not None)
    if vp8x is not None:
        writer.insert(parsed.vp8x_place, vp8x)
    if plan.minimal is not None:
        writer.add(_chunk(b"EXIF", plan.minimal))
    header = RIFF + struct.pack("<I", writer.size() + len(WEBP)) + WEBP
    writer.insert(0, header)
    removed = parsed.walk.removed | plan.removed
    return Stripped(writer.join(), frozenset(removed))


def find_exif(data: bytes) -> memoryview | None:
    """The first EXIF chunk's payload, after checking the whole file's structure."""
    blocks = _parse(data).walk.exif_blocks
    return blocks[0] if blocks else None


FORMAT = Format("webp", "image/webp", lambda head: head[:4] == RIFF and head[8:12] == WEBP, strip, find_exif)
