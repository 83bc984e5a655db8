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

It streams (WebpWalk): the RIFF size and VP8X flags depend on every chunk kept, so the
chunk headers are read first with ranged reads (_plan: windows of 64 KB, at most
MAX_WEBP_HEADER_READS), with the payloads that decide (VP8X, ICCP, EXIF whole, a
bitstream's first 10 bytes, an ANMF frame's own chunk headers); then the kept chunks
pass through as they arrive. strip() is the same walk over the whole input.
"""

from __future__ import annotations

import struct
from functools import partial
from typing import Callable, NamedTuple

from .. import kinds
from ..byte_reader import ByteReader, Placed
from ..exif_block import plan_exif
from ..icc_profile import is_icc_profile
from ..errors import ImageError
from ..limits import MAX_PIXELS, MAX_WEBP_HEADER_READS, MAX_WEBP_READ_AHEAD
from ..read_ahead import ReadAhead
from ..kinds import Stripped
from .contract import DROP, KEEP, Answer, Format, Handler
from .walks import PlannedWalk

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
        self.has_still = False  # a top-level VP8/VP8L chunk seen
        self.has_frames = False  # an ANMF chunk seen



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
    """The first chunk's VP8X (_plan has refused one there of any size but VP8X_SIZE): flags,
    3 reserved bytes, canvas width - 1 and height - 1 (u24le each)."""
    if offset != RIFF_HEADER_SIZE:
        raise ImageError(f"{FMT}: VP8X chunk at offset {offset} is not the first chunk")
    walk.flags = payload[0]
    walk.canvas = (int.from_bytes(payload[4:7], "little"), int.from_bytes(payload[7:], "little"))
    _check_pixels(walk.canvas[0] + 1, walk.canvas[1] + 1, "VP8X canvas", offset)
    return KEEP  # rewritten with new flags once the walk is done


def _bitstream(walk: _Walk, payload: memoryview, offset: int, name: bytes) -> None:
    size = _vp8_size(payload, offset) if name == b"VP8 " else _vp8l_size(payload, offset)
    _check_pixels(size[0], size[1], name.decode().strip(), offset)
    if walk.bitstream is None:
        walk.bitstream = size


def _still(name: bytes, walk: _Walk, payload: memoryview, offset: int) -> Answer:
    """A top-level VP8 or VP8L chunk (its FourCC bound in the table below): the still
    image's bitstream."""
    _bitstream(walk, payload, offset, name)
    walk.has_still = True
    return KEEP


def _frame_at(walk: _Walk, reads: ReadAhead, start: int, end: int, offset: int) -> None:
    """An ANMF chunk's payload (start..end): its own chunks must all be image chunks, and it
    is kept whole. Only their headers (and a bitstream's first bytes) are read."""
    if end - start < ANMF_HEADER_SIZE:
        raise ImageError(f"{FMT}: ANMF header at offset {offset} needs {ANMF_HEADER_SIZE} bytes but {end - start} are left at offset {start}")
    position = start + ANMF_HEADER_SIZE
    while position < end:
        inner_name, inner_start, inner_end, position = _chunk_header(reads, position, end)
        if inner_name not in FRAME_CHUNKS:
            raise ImageError(f"{FMT}: ANMF frame at offset {offset} holds a {inner_name!r} chunk")
        if inner_name != b"ALPH":
            head = reads.read(inner_start, min(inner_end, inner_start + VP8_HEADER_SIZE))
            _bitstream(walk, head, inner_start - CHUNK_HEADER_SIZE, inner_name)
    walk.has_frames = True


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


def _drop_as(kind: str, walk: _Walk, payload: memoryview, offset: int) -> Answer:
    """A chunk dropped as metadata of `kind` (bound in the table below)."""
    walk.removed.add(kind)
    return DROP


OTHER_CHUNK = Handler("other", partial(_drop_as, kinds.OTHER))  # any chunk the table does not list

CHUNK_HANDLERS: dict[bytes, Handler] = {
    b"VP8X": Handler("VP8X", _extended_header),
    b"VP8 ": Handler("VP8", partial(_still, b"VP8 ")),
    b"VP8L": Handler("VP8L", partial(_still, b"VP8L")),
    b"ALPH": Handler("ALPH", _keep),
    # ANMF: _frame_at, which reads the frame's own chunk headers
    b"ANIM": Handler("ANIM", _keep),
    b"ICCP": Handler("ICCP", _icc),
    b"EXIF": Handler("EXIF", _exif),
    b"XMP ": Handler("XMP", partial(_drop_as, kinds.XMP)),
}


def _chunk_header(reads: ReadAhead, start: int, end: int) -> tuple[bytes, int, int, int]:
    """The chunk at `start` (inside ..end): its FourCC, where its payload starts and ends,
    and where the next chunk starts (after a pad byte when its size is odd)."""
    head = reads.read(start, min(end, start + CHUNK_HEADER_SIZE))
    reader = ByteReader(Placed(head, start), FMT, start=start, end=end)
    name = bytes(reader.take(4, "chunk FourCC"))
    size = reader.u32le(f"size of the {name!r} chunk at offset {start}")
    payload_start = reader.pos
    reader.skip(size, f"{name!r} chunk starting at offset {start}")
    if size % 2:
        reader.skip(1, f"pad byte of the {name!r} chunk at offset {start}")
    return name, payload_start, payload_start + size, reader.pos


# What is read of a chunk's payload to decide on it: the whole of VP8X, ICCP and EXIF, the
# first bytes of a bitstream (its size), nothing of the rest.
WHOLE_PAYLOADS = frozenset({b"VP8X", b"ICCP", b"EXIF"})
BITSTREAMS = frozenset({b"VP8 ", b"VP8L"})


class _Planned(NamedTuple):
    walk: _Walk
    kept: list[tuple[int, int]]  # the chunks copied as they are, in file order
    reads: ReadAhead


def _plan(size: int, read_range: Callable[[int, int], bytes]) -> _Planned:
    """Every chunk header (and what decides on each chunk) read ahead; nothing written yet."""
    reads = ReadAhead(size, read_range, FMT, MAX_WEBP_HEADER_READS)
    header = reads.read(0, min(size, RIFF_HEADER_SIZE))
    if header[:4] != RIFF or header[8:12] != WEBP:
        raise ImageError(f"{FMT}: no RIFF/WEBP header at offset 0")
    riff_size = int.from_bytes(header[4:8], "little")
    body_end = 8 + riff_size
    if riff_size % 2 or riff_size < 4 or body_end > size:
        raise ImageError(f"{FMT}: RIFF size {riff_size} at offset 4 does not fit the {size} bytes of data")
    walk = _Walk()
    kept: list[tuple[int, int]] = []
    held = 0
    position = RIFF_HEADER_SIZE
    while position < body_end:
        start = position
        name, payload_start, payload_end, position = _chunk_header(reads, start, body_end)
        if start == RIFF_HEADER_SIZE and name not in (b"VP8X", b"VP8 ", b"VP8L"):
            raise ImageError(f"{FMT}: first chunk at offset {start} is {name!r}, not VP8X, VP8 or VP8L")
        if name == b"ANMF":
            _frame_at(walk, reads, payload_start, payload_end, start)
            kept.append((start, position))
            continue
        if name == b"VP8X" and payload_end - payload_start != VP8X_SIZE and start == RIFF_HEADER_SIZE:
            raise ImageError(f"{FMT}: VP8X chunk at offset {start} is {payload_end - payload_start} bytes, expected {VP8X_SIZE}")
        payload = memoryview(b"")
        if name in WHOLE_PAYLOADS and (name != b"VP8X" or start == RIFF_HEADER_SIZE):
            held += payload_end - payload_start
            if held > MAX_WEBP_READ_AHEAD:
                raise ImageError(f"{FMT}: its ICC profile and EXIF chunks are over {MAX_WEBP_READ_AHEAD} bytes")
            payload = reads.read(payload_start, payload_end)
        elif name in BITSTREAMS:
            payload = reads.read(payload_start, min(payload_end, payload_start + VP8_HEADER_SIZE))
        handler = CHUNK_HANDLERS.get(name, OTHER_CHUNK)
        if handler.run(walk, payload, start) is KEEP and name != b"VP8X":
            kept.append((start, position))
    animated = walk.flags is not None and bool(walk.flags & ANIMATION_FLAG)
    if animated and (not walk.has_frames or walk.has_still):
        raise ImageError(f"{FMT}: an animated file needs ANMF frames and no other image chunk")
    if not animated and (not walk.has_still or walk.has_frames):
        raise ImageError(f"{FMT}: a still image needs a VP8 or VP8L chunk and no ANMF frames")
    if body_end < size:
        walk.removed.add(kinds.TRAILER)
    return _Planned(walk, kept, reads)


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


class WebpWalk(PlannedWalk):
    """Strips one WebP pushed a chunk at a time: feed(chunk) -> bytes, finish() -> bytes.

    Every chunk header is read first (read_range, bounded: _plan), so the RIFF size and the
    VP8X chunk are written before the first chunk; then the kept chunks pass through as
    they arrive (the image chunks are never held) and the minimal EXIF chunk, if any, ends
    the file. The bytes read ahead are checked again as they stream (read_ahead.SameBytes)."""

    def __init__(self, size: int, read_range: Callable[[int, int], bytes] | None, keep_copyright: bool) -> None:
        if read_range is None:
            raise ImageError(f"{FMT}: a streamed strip needs ranged reads of the file (its chunk headers)")
        planned = _plan(size, read_range)
        exif = plan_exif(planned.walk.exif_blocks, keep_copyright, FMT)
        vp8x = _vp8x(planned.walk, exif.minimal is not None) or b""
        self._tail = _chunk(b"EXIF", exif.minimal) if exif.minimal is not None else b""
        runs = planned.kept
        body = len(vp8x) + sum(end - start for start, end in runs) + len(self._tail)
        super().__init__(FMT, size, RIFF + struct.pack("<I", body + len(WEBP)) + WEBP + vp8x, runs)
        self._same = planned.reads.check()
        self._removed = frozenset(planned.walk.removed | exif.removed)
        self.removed: frozenset[str] = frozenset()
        self.kept: frozenset[str] = frozenset()

    def _verify(self, start: int, view: memoryview) -> None:
        self._same.update(start, view)

    def finish(self) -> bytes:
        head = self._end()
        self.removed = self._removed
        return head + self._tail


def open_walk(size: int, read_range: Callable[[int, int], bytes] | None, keep_copyright: bool) -> WebpWalk:
    """The walk metadata/streaming.py drives for a WebP file."""
    return WebpWalk(size, read_range, keep_copyright)


READ_PIECE = 1024 * 1024  # the pieces a whole input is fed in


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    """The streaming walk driven over the whole input (one code path for both)."""
    view = memoryview(data)
    walk = open_walk(len(view), lambda start, end: view[start:end], keep_copyright)
    out = [walk.feed(view[offset : offset + READ_PIECE]) for offset in range(0, len(view), READ_PIECE)]
    out.append(walk.finish())
    return Stripped(b"".join(out), walk.removed)


def find_exif(data: bytes) -> memoryview | None:
    """The first EXIF chunk's payload, after checking the whole file's structure."""
    view = memoryview(data)
    blocks = _plan(len(view), lambda start, end: view[start:end]).walk.exif_blocks
    return blocks[0] if blocks else None


FORMAT = Format("webp", "image/webp", lambda head: head[:4] == RIFF and head[8:12] == WEBP, strip, find_exif, open_walk)
