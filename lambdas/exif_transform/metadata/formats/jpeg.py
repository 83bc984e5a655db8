"""JPEG: drop the metadata segments, keep every byte the decoder needs as it is.

Byte layout (ITU-T T.81, annex B):
    SOI      FF D8
    segment  FF <marker> <u16be length, counting itself> <payload>    (repeated)
    SOS      a segment followed by entropy-coded data, in which FF is followed by
             00 (a stuffed FF) or D0-D7 (a restart marker); FF then a marker that may
             follow a scan (tables, SOS, APPn, COM, EOI) ends it
    EOI      FF D9
    after    MPF secondary images, appended videos, padding: never part of the image,
             except an HDR gain map listed in the MPF index (formats/jpeg_gain_map.py)

Segments are dispatched through one table keyed by the marker byte. Segments that
decoding needs (frame and scan headers, tables) are checked for an exact, well-formed
length and kept; JFIF, Adobe and a valid ICC profile are kept; metadata segments are
dropped; markers the table does not know are an error, because the core cannot tell
what they carry. Between segments the next marker is found as libjpeg finds it, so a
metadata segment whose length is wrong is dropped with the bytes up to that marker.
The scan data is never decoded, only searched for its end marker.

A file cut short after its first scan began is served as far as it goes (browsers
show what they can decode of it): scan data running to the end is kept as it is, a
segment cut off is dropped. One cut before any scan data is refused.

Beside a kept gain map (jpeg_gain_map.py), the primary keeps its ISO 21496-1 APP2
record (gain_map_metadata.py), an XMP packet rebuilt from hdrgm:Version and a
GContainer directory with the gain map's new length (xmp_rendering.py) and a new MPF
index (mpf.py); the gain map keeps its ISO 21496-1 record and its XMP reduced to the
rendering namespaces. Without a gain map all of these go.
"""

from __future__ import annotations

import re
import struct
from functools import partial
from typing import Callable, NamedTuple

from .. import kinds
from ..byte_reader import ByteReader
from ..exif_block import EXIF_HEADER, exif_facts, plan_exif
from ..gain_map_metadata import ISO_21496_ID, has_parameters, is_exact_record
from ..icc_profile import is_icc_profile
from ..errors import ImageError
from ..limits import MAX_GAIN_MAP_BYTES, MAX_PIXELS, MAX_STREAM_HEAD_BYTES
from ..kinds import Stripped
from ..xmp_rendering import primary_xmp, read_rendering, rendering_xmp
from . import jpeg_gain_map, mpf
from .contract import DROP, KEEP, Answer, Format, Handler
from .walks import Cursor, Step

FMT = "JPEG"
MARKER_PREFIX = 0xFF
SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
DHT, DAC, DQT, DNL, DRI = 0xC4, 0xCC, 0xDB, 0xDC, 0xDD
COM = 0xFE
APP0, APP1, APP2, APP13, APP14 = 0xE0, 0xE1, 0xE2, 0xED, 0xEE
# Non-hierarchical frames that libjpeg-turbo decodes: baseline, extended, progressive,
# lossless, in Huffman and arithmetic coding (hierarchical SOF5-7/13-15 are refused).
SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC9, 0xCA, 0xCB})
MAX_SEGMENT_LENGTH = 0xFFFF

JFIF_ID = b"JFIF\x00"
JFXX_ID = b"JFXX\x00"
# "JFIF\0", version (2), density unit (1), x and y density (2 + 2), thumbnail width
# and height (1 + 1), then width * height * 3 bytes of RGB thumbnail.
JFIF_HEADER_SIZE = 14
JFIF_THUMBNAIL_DIMS = slice(12, 14)
ADOBE_ID = b"Adobe"
# "Adobe", version (2), flags0 (2), flags1 (2), colour transform (1).
ADOBE_SIZE = 12
ADOBE_NEUTRAL_FIELDS = b"\x00\x64\x00\x00\x00\x00"  # version 100, no flags
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXTENSION_ID = b"http://ns.adobe.com/xmp/extension/\x00"
ICC_ID = b"ICC_PROFILE\x00"
# "ICC_PROFILE\0", chunk number (1-based), chunk count, then a piece of the profile.
ICC_CHUNK_HEADER = len(ICC_ID) + 2
MPF_ID = b"MPF\x00"
PHOTOSHOP_ID = b"Photoshop 3.0\x00"
IPTC_RESOURCE = b"8BIM\x04\x04"

MARKER_PREFIX_BYTE = b"\xff"
# Between segments: FF then any byte but 00 and FF (libjpeg's next_marker). The last FF
# of a fill run is the one that matches, so a long run costs one pass.
_MARKER = re.compile(rb"\xff[^\x00\xff]")
RST0, RST7, TEM = 0xD0, 0xD7, 0x01
IGNORED_BETWEEN_SEGMENTS = frozenset({TEM, *range(RST0, RST7 + 1)})

class _IccChunk(NamedTuple):
    number: int  # 1-based
    count: int
    piece: memoryview  # this chunk's part of the profile
    offset: int
    segment: bytes = b""  # the whole segment as it came, set by _place; written back when the profile is valid


class _Walk:
    """What the walk over one file has found so far."""

    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.exif_blocks: list[memoryview] = []
        self.icc_chunks: list[_IccChunk] = []
        self.icc_damaged = False
        self.frame_seen = False
        self.scans = 0
        # Read before the first scan, written back only beside a kept gain map (strip).
        self.xmp_packet: bytes | None = None  # the first standard XMP packet
        self.xmp_offset = -1
        self.iso_segments: list[tuple[int, bytes]] = []  # (offset, payload) of exact ISO 21496-1 records
        self.iso_place = -1
        self.mpf_payload: bytes | None = None  # the first MPF index
        self.mpf_offset = -1
        self.mpf_place = -1

    def drop(self, kind: str) -> None:
        self.removed.add(kind)


def _exactly(payload: memoryview, size: int, name: str, offset: int) -> None:
    if len(payload) != size:
        raise ImageError(f"{FMT}: {name} segment at offset {offset} has length {len(payload) + 2}, expected {size + 2}")


# --- Segments decoding needs: checked, then kept ------------------------------------------


def _frame_header(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    # precision (1), height (2), width (2), component count (1), 3 bytes per component
    reader = ByteReader(payload, FMT)
    reader.u8("SOF precision")
    height = reader.u16be("SOF height")
    width = reader.u16be("SOF width")
    components = reader.u8("SOF component count")
    if walk.frame_seen:
        raise ImageError(f"{FMT}: second frame header (SOF) at offset {offset}")
    if not 1 <= components <= 4:
        raise ImageError(f"{FMT}: SOF at offset {offset} declares {components} components")
    _exactly(payload, 6 + 3 * components, "SOF", offset)
    if width == 0 or height == 0:
        raise ImageError(f"{FMT}: SOF at offset {offset} declares {width}x{height} pixels")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{FMT}: SOF at offset {offset} declares {width}x{height} pixels, over the limit of {MAX_PIXELS}")
    walk.frame_seen = True
    return KEEP


def _scan_header(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    # component count (1), 2 bytes per component, spectral start/end and approximation (3)
    if not walk.frame_seen:
        raise ImageError(f"{FMT}: scan (SOS) at offset {offset} comes before any frame header (SOF)")
    components = payload[0] if len(payload) else 0
    if not 1 <= components <= 4:
        raise ImageError(f"{FMT}: SOS at offset {offset} declares {components} components")
    _exactly(payload, 4 + 2 * components, "SOS", offset)
    walk.scans += 1
    return KEEP


def _quantization_tables(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    # per table: precision << 4 | table id (1), then 64 values of 1 or 2 bytes
    reader = ByteReader(payload, FMT)
    while not reader.at_end():
        spec = reader.u8("DQT table spec")
        precision, table_id = spec >> 4, spec & 0x0F
        if precision > 1 or table_id > 3:
            raise ImageError(f"{FMT}: DQT segment at offset {offset} has a bad table spec 0x{spec:02x}")
        reader.skip(64 * (precision + 1), f"DQT table in the segment at offset {offset}")
    return KEEP


def _huffman_tables(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    # per table: class << 4 | table id (1), 16 code-length counts, then the symbols
    reader = ByteReader(payload, FMT)
    while not reader.at_end():
        spec = reader.u8("DHT table spec")
        if spec >> 4 > 1 or spec & 0x0F > 3:
            raise ImageError(f"{FMT}: DHT segment at offset {offset} has a bad table spec 0x{spec:02x}")
        symbols = sum(reader.take(16, f"DHT code counts in the segment at offset {offset}"))
        if symbols > 256:
            raise ImageError(f"{FMT}: DHT segment at offset {offset} declares {symbols} symbols")
        reader.skip(symbols, f"DHT symbols in the segment at offset {offset}")
    return KEEP


def _two_byte_field(walk: _Walk, payload: memoryview, offset: int, *, name: str) -> Answer:
    # Bound per marker with functools.partial, not built as a closure at import, so that
    # mutation testing reaches its body.
    _exactly(payload, 2, name, offset)
    return KEEP


def _arithmetic_conditioning(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    if not payload or len(payload) % 2:
        raise ImageError(f"{FMT}: DAC segment at offset {offset} has an odd or empty length")
    return KEEP


# --- APPn and COM: kept only when they change how the image decodes ------------------------


def _app0(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    if payload[: len(JFIF_ID)] == JFIF_ID and len(payload) >= JFIF_HEADER_SIZE:
        # The JFIF header stays (density, version); its optional thumbnail goes.
        header = payload[:JFIF_HEADER_SIZE]
        if len(payload) == JFIF_HEADER_SIZE and not any(header[JFIF_THUMBNAIL_DIMS]):
            return KEEP
        walk.drop(kinds.THUMBNAIL if any(header[JFIF_THUMBNAIL_DIMS]) else kinds.OTHER)
        return bytes(header[: JFIF_THUMBNAIL_DIMS.start]) + b"\x00\x00"
    walk.drop(kinds.THUMBNAIL if payload[: len(JFXX_ID)] == JFXX_ID else kinds.OTHER)
    return DROP


def _app1(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    if payload[: len(EXIF_HEADER)] == EXIF_HEADER:
        walk.exif_blocks.append(payload)  # kinds are added once every block has been read
    elif payload[: len(XMP_ID)] == XMP_ID and walk.xmp_packet is None and walk.scans == 0:
        walk.xmp_packet, walk.xmp_offset = bytes(payload[len(XMP_ID) :]), offset
    elif payload[: len(XMP_ID)] == XMP_ID or payload[: len(XMP_EXTENSION_ID)] == XMP_EXTENSION_ID:
        walk.drop(kinds.XMP)
    else:
        walk.drop(kinds.OTHER)
    return DROP


def _app2(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    if payload[: len(ICC_ID)] == ICC_ID and len(payload) >= ICC_CHUNK_HEADER and walk.scans == 0:
        # Written back once every chunk has been seen and the profile checked (_icc_segments).
        number, count = payload[len(ICC_ID)], payload[len(ICC_ID) + 1]
        walk.icc_chunks.append(_IccChunk(number, count, payload[ICC_CHUNK_HEADER:], offset))
        return DROP
    if payload[: len(ICC_ID)] == ICC_ID:
        walk.drop(kinds.OTHER)  # a chunk after the first scan, which decoders never read
        return DROP
    if payload[: len(ISO_21496_ID)] == ISO_21496_ID and walk.scans == 0 and is_exact_record(payload[len(ISO_21496_ID) :]):
        walk.iso_segments.append((offset, bytes(payload)))
        return DROP
    if payload[: len(MPF_ID)] == MPF_ID and walk.mpf_payload is None and walk.scans == 0:
        walk.mpf_payload, walk.mpf_offset = bytes(payload), offset
        return DROP
    walk.drop(kinds.MPF if payload[: len(MPF_ID)] == MPF_ID else kinds.OTHER)
    return DROP


def _app13(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    if payload[: len(PHOTOSHOP_ID)] == PHOTOSHOP_ID:
        walk.drop(kinds.PHOTOSHOP)
        if IPTC_RESOURCE in bytes(payload):  # a memoryview has no substring search
            walk.drop(kinds.IPTC)
    else:
        walk.drop(kinds.OTHER)
    return DROP


def _app14(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    # The Adobe segment says whether CMYK/YCCK data is colour-transformed.
    if payload[: len(ADOBE_ID)] == ADOBE_ID and len(payload) >= ADOBE_SIZE:
        if len(payload) == ADOBE_SIZE:
            return KEEP
        walk.drop(kinds.OTHER)
        return bytes(payload[:ADOBE_SIZE])
    walk.drop(kinds.OTHER)
    return DROP


def _other_app(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    walk.drop(kinds.OTHER)
    return DROP


def _comment(walk: _Walk, payload: memoryview, offset: int) -> Answer:
    walk.drop(kinds.COMMENT)
    return DROP


SOF_NAMES = {0xC0: "SOF0", 0xC1: "SOF1", 0xC2: "SOF2", 0xC3: "SOF3", 0xC9: "SOF9", 0xCA: "SOF10", 0xCB: "SOF11"}

# Segments decoding needs: kept, so their length must be right.
DECODING_SEGMENTS = frozenset({*SOF_MARKERS, SOS, DQT, DHT, DRI, DNL, DAC})

SEGMENT_HANDLERS: dict[int, Handler] = {
    **{marker: Handler(SOF_NAMES[marker], _frame_header) for marker in SOF_MARKERS},
    SOS: Handler("SOS", _scan_header),
    DQT: Handler("DQT", _quantization_tables),
    DHT: Handler("DHT", _huffman_tables),
    DRI: Handler("DRI", partial(_two_byte_field, name="DRI")),
    DNL: Handler("DNL", partial(_two_byte_field, name="DNL")),
    DAC: Handler("DAC", _arithmetic_conditioning),
    **{marker: Handler(f"APP{marker - APP0}", _other_app) for marker in range(APP0, APP0 + 16)},
    APP0: Handler("APP0", _app0),
    APP1: Handler("APP1", _app1),
    APP2: Handler("APP2", _app2),
    APP13: Handler("APP13", _app13),
    APP14: Handler("APP14", _app14),
    COM: Handler("COM", _comment),
}

# In entropy-coded data, the end: FF then a marker that may follow a scan.
_SCAN_END = re.compile(b"\\xff[" + b"".join(b"\\x%02x" % marker for marker in sorted({*SEGMENT_HANDLERS, EOI})) + b"]")


def _icc_segments(walk: _Walk) -> bytes | None:
    """The APP2 ICC segments as they came, when they make one valid profile; else None.

    Decoders assemble the profile from every chunk before the first scan, so the
    chunks must be numbered 1..count with one count, and together pass the ICC check.
    """
    chunks = walk.icc_chunks
    count = chunks[0].count
    numbers = sorted(chunk.number for chunk in chunks)
    if walk.icc_damaged or any(chunk.count != count for chunk in chunks) or numbers != list(range(1, count + 1)):
        return None
    profile = b"".join(chunk.piece for chunk in sorted(chunks, key=lambda chunk: chunk.number))
    if not is_icc_profile(profile):
        return None
    return b"".join(chunk.segment for chunk in chunks)


def _wrong_length(walk: _Walk, marker: int, decision: Answer, payload: memoryview, offset: int) -> Answer:
    """What becomes of a segment whose length does not land on the next marker.

    The bytes up to the next marker are skipped (never served). A segment decoding
    needs can no longer be delimited: the image is refused. Of the kept APPn segments
    only what a decoder reads of them survives, rebuilt from its fields: the Adobe
    colour transform; a JFIF header (density only) and ICC chunks are dropped.
    """
    walk.drop(kinds.OTHER)
    if marker in DECODING_SEGMENTS:
        name = SEGMENT_HANDLERS[marker].name
        raise ImageError(f"{FMT}: the {name} segment at offset {offset} does not end at a marker")
    if marker == APP2:
        if walk.scans == 0:  # after the first scan, the profile has been assembled
            walk.icc_damaged = True
        walk.iso_segments = [(at, segment) for at, segment in walk.iso_segments if at != offset]
        if walk.mpf_offset == offset:
            walk.mpf_payload = None
            walk.drop(kinds.MPF)
    if marker == APP1 and walk.xmp_offset == offset:
        walk.xmp_packet = None
        walk.drop(kinds.XMP)
    if marker == APP14 and decision is not DROP:
        return ADOBE_ID + ADOBE_NEUTRAL_FIELDS + bytes((payload[ADOBE_SIZE - 1],))
    return DROP


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > MAX_SEGMENT_LENGTH:
        raise ImageError(f"{FMT}: a rewritten {SEGMENT_HANDLERS[marker].name} segment would not fit in 64 KB")
    return struct.pack(">BBH", MARKER_PREFIX, marker, len(payload) + 2) + payload


# --- The walk, pushed a chunk at a time (metadata/streaming.py's contract) ------------------
#
# The head (SOI up to the end of the first SOS segment) is held: the minimal EXIF block,
# the ICC profile, the XMP packet and the MPF index are written back into it, and every
# segment they depend on comes before the first scan. From the first scan on, bytes pass
# through as they are found: scan data up to the marker that ends it ("copy n"), the
# segments between scans one at a time (at most 64 KB, "need k"), nothing after EOI
# ("skip n"). Two facts would come later and are decided without them:
#   - an EXIF block after the first scan is removed and reported, but never decides the
#     orientation or the Copyright kept (decoders read EXIF before the first scan only);
#   - an APP2 segment after the first scan whose length is wrong no longer voids the ICC
#     profile (decoders assemble the profile before the first scan).
# A kept gain map needs the stripped primary's size and the gain map itself before the
# head is written: both are found with read_range before the first byte (_look_up_gain_map).

# Where the walk is between two chunks.
_START = "start"  # before SOI
_MARKERS = "markers"  # looking for the next marker (fill and stray bytes skipped)
_SEGMENT = "segment"  # a marker found: waiting for its length and payload
_LOOKAHEAD = "lookahead"  # a segment read: does its length land on a marker?
_SCAN = "scan"  # entropy-coded data, passed through until a marker ends it
_AFTER = "after"  # after EOI (or the end of the walk): nothing more is part of the image

# What the walk strips.
PRIMARY = "primary"  # a whole file: a gain map listed in its MPF index is looked up with
# read_range; without read_range (one codestream alone), nothing after its EOI is looked at
GAIN_MAP = "gain map"  # an image after the primary, kept only if it says it is a gain map

# The pieces whole inputs are fed in (one piece held at a time), and the reads a walk makes
# of the primary through read_range to size it before a gain map (each one a ranged GET when
# streaming from S3: larger pieces, fewer round trips, one piece held at a time).
READ_PIECE = 1024 * 1024
SCOUT_PIECE = 8 * 1024 * 1024

_FILL_RUN = re.compile(rb"\xff*")


class _GainMapPlan(NamedTuple):
    gain_map: _GainMap
    body_bytes: int  # what the primary after its head strips to
    primary_end: int


class JpegWalk(Cursor):
    """Strips one JPEG pushed a chunk at a time: feed(chunk) -> bytes, finish() -> bytes.

    `size` is the input's total length and read_range(start, end) reads any part of it
    (used only for a gain map, before the first byte is written). After an ImageError the
    walk is unusable; metadata/streaming.py refuses any further call.
    """

    def __init__(
        self,
        *,
        size: int,
        read_range: Callable[[int, int], bytes] | None,
        keep_copyright: bool,
        role: str = PRIMARY,
        allow_truncated: bool = True,
        emit: bool = True,
    ) -> None:
        super().__init__(_START)
        self.size = size
        self._read_range = read_range
        self._keep_copyright = keep_copyright
        self._role = role
        self._allow_truncated = allow_truncated
        self._emit = emit
        self.walk = _Walk()
        self._head: list[bytes | bytearray] = []  # held until the first scan begins
        self._in_head = True
        self._exif_place = -1
        self._icc_place = -1
        self._first_segment = True
        self.body_bytes = 0  # written after the head (the head is not counted)
        self.end: int | None = None  # just after EOI; the input's length when cut short
        # _MARKERS: where the search began (for "bytes after the last segment"), the offset
        # its message names, and whether anything but fill bytes was skipped.
        self._search_from = 0
        self._message_from = 0
        self._skipped = False
        self._segment_at = 0  # _SEGMENT: input offset of the marker's FF
        self._marker = 0
        self._pending: tuple[int, int, bytes, Answer] | None = None  # _LOOKAHEAD: marker, start, segment, decision
        self._scan_from = 0
        self._removed: set[str] = set()
        self._head_exif: list[memoryview] = []
        self._later_exif: bytes | None = None  # the first EXIF block after the first scan
        self._later_exif_kinds: set[str] = set()
        self._plan: _GainMapPlan | None = None
        self.not_gain_map = False
        self.removed: frozenset[str] = frozenset()
        self.kept: frozenset[str] = frozenset()

    # --- the contract ---

    def feed(self, chunk: bytes | bytearray | memoryview) -> bytes:
        if self._state == _SCAN and not self._buf:
            chunk = self._scan_in_place(chunk)
        return super().feed(chunk)

    def _check_head(self) -> None:
        if self._in_head and self._total() > MAX_STREAM_HEAD_BYTES:
            raise ImageError(f"{FMT}: no scan begins in the first {MAX_STREAM_HEAD_BYTES} bytes (the most a head may hold)")

    def first_exif(self) -> memoryview | bytes | None:
        """The first EXIF block of the file (before or after the first scan)."""
        return self._head_exif[0] if self._head_exif else self._later_exif

    # --- stepping ---

    def _steps(self) -> dict[int, Step]:
        return {
            _START: self._start,
            _MARKERS: self._markers,
            _SEGMENT: self._segment,
            _LOOKAHEAD: self._lookahead,
            _SCAN: self._scan,
            _AFTER: self._after,
        }

    def _write(self, blob: bytes | bytearray | memoryview) -> None:
        if self._in_head:
            self._head.append(blob)
        elif blob:
            self.body_bytes += len(blob)
            if self._emit:
                self._out.append(blob)

    def _cut_short(self, error: ImageError) -> None:
        """The input ends here: served as far as its image data goes once a scan has begun
        (allow_truncated), refused before."""
        if not self._allow_truncated or self.walk.scans == 0:
            raise error
        self.end = self._total()  # the primary ends here: no MPF entry can lie after it (_look_up_gain_map)
        self._state = _AFTER

    def _start(self, final: bool) -> bool:
        if len(self._buf) < 2 and not final:
            return False
        if self._buf[:2] != bytes((MARKER_PREFIX, SOI)):
            raise ImageError(f"{FMT}: no start-of-image marker at offset 0")
        self._write(bytes(self._buf[:2]))
        self._exif_place = len(self._head)
        self._at = 2
        self._search(2)
        return True

    def _search(self, offset: int) -> None:
        self._state = _MARKERS
        self._search_from = self._message_from = offset
        self._skipped = False

    def _note_skipped(self, start: int, end: int) -> None:
        if self._buf.count(MARKER_PREFIX_BYTE, start, end) != end - start:
            self._skipped = True

    def _markers(self, final: bool) -> bool:
        """The next marker, as libjpeg's next_marker finds it: bytes that are not FF are
        skipped, fill bytes swallowed, FF 00 skipped, and restart or TEM markers between
        segments ignored (libjpeg's read_markers does). Anything skipped but fill bytes
        means a segment length that did not land on the next marker."""
        buf = self._buf
        found = _MARKER.search(buf, self._at)
        if found is None:
            # A last FF may begin a marker with the next chunk's first byte.
            stop = len(buf) - 1 if len(buf) > self._at and buf[-1] == MARKER_PREFIX and not final else len(buf)
            self._note_skipped(self._at, stop)
            self._at = stop
            if final:
                self._cut_short(ImageError(f"{FMT}: no marker after offset {self._message_from} (truncated file)"))
                if self._search_from < self._total():
                    self.walk.drop(kinds.OTHER)  # bytes after the last segment that lead to no marker
            return final
        marker_at = found.start()
        marker = buf[marker_at + 1]
        self._note_skipped(self._at, marker_at)
        self._at = found.end()
        if marker in IGNORED_BETWEEN_SEGMENTS:
            self._skipped = True  # the marker byte itself is not a fill byte
            self._message_from = self._base + self._at
            return True
        start = self._base + marker_at
        if self._skipped:
            self.walk.drop(kinds.OTHER)  # bytes before the first marker, or after a wrong length
        if marker == EOI:
            if self.walk.scans == 0:
                raise ImageError(f"{FMT}: end-of-image marker at offset {start} before any scan")
            self._write(b"\xff\xd9")
            self.end = start + 2
            self._state = _AFTER
            self._at_end_of_image()
            return True
        if marker not in SEGMENT_HANDLERS:
            raise ImageError(f"{FMT}: unsupported marker 0xFF{marker:02X} at offset {start}")
        self._marker, self._segment_at = marker, start
        self._at = marker_at  # the segment is read from its FF, however many chunks it takes
        self._state = _SEGMENT
        return True

    def _segment(self, final: bool) -> bool:
        handler = SEGMENT_HANDLERS[self._marker]
        start = self._segment_at
        index = start - self._base
        available = len(self._buf) - index - 2
        if available < 2:
            if final:
                what = f"length of the {handler.name} segment"
                self._segment_cut(ImageError(f"{FMT}: {what} needs 2 bytes but {available} are left at offset {start + 2}"))
            return final
        length = struct.unpack_from(">H", self._buf, index + 2)[0]
        payload_size = max(length - 2, 0)
        if available - 2 < payload_size:
            if final:
                what = f"{handler.name} segment starting at offset {start}"
                left = available - 2
                self._segment_cut(ImageError(f"{FMT}: {what} needs {payload_size} bytes but {left} are left at offset {start + 4}"))
            return final
        if length < 2:
            raise ImageError(f"{FMT}: {handler.name} segment at offset {start} has length {length}")
        segment = bytes(self._buf[index : index + 4 + payload_size])
        self._at = index + 4 + payload_size
        decision = handler.run(self.walk, memoryview(segment)[4:], start)
        if not self._in_head and self.walk.exif_blocks:
            self._later_exif_blocks()
        if self._marker == SOS:
            self._place(SOS, start, segment, decision)
            return True
        self._pending = (self._marker, start, segment, decision)
        self._state = _LOOKAHEAD
        return True

    def _segment_cut(self, error: ImageError) -> None:
        self._cut_short(error)
        self.walk.drop(kinds.OTHER)  # the segment cut off

    def _lookahead(self, final: bool) -> bool:
        """Whether the segment just read is followed by a marker (fill bytes allowed); a
        run of fill bytes is walked over as it comes, only its last FF held."""
        marker, start, segment, decision = self._pending
        end = start + len(segment)
        run_end = _FILL_RUN.match(self._buf, self._at).end()
        if run_end == len(self._buf):
            if not final:
                self._at = max(self._at, run_end - 1)
                return False
            lands = False
            ends_the_file = end == self._total() and self._allow_truncated and self.walk.scans > 0
        else:
            lands = run_end > self._at and self._buf[run_end] != 0x00
            ends_the_file = False
        if not ends_the_file and not lands:
            decision = _wrong_length(self.walk, marker, decision, memoryview(segment)[4:], start)
        self._pending = None
        self._place(marker, start, segment, decision)
        self._search(end)
        return True

    def _place(self, marker: int, start: int, segment: bytes, decision: Answer) -> None:
        """Writes a segment as decided, and takes the marks the head's inserts go to."""
        walk = self.walk
        if decision is KEEP:
            self._write(segment)
        elif decision is not DROP:
            self._write(_segment(marker, decision))
        if self._in_head:
            if marker == APP2 and walk.icc_chunks and self._icc_place < 0:
                self._icc_place = len(self._head)
            if marker == APP2 and walk.iso_segments and walk.iso_place < 0:
                walk.iso_place = len(self._head)
            if marker == APP2 and walk.mpf_payload is not None and walk.mpf_place < 0:
                walk.mpf_place = len(self._head)
            if walk.icc_chunks and walk.icc_chunks[-1].offset == start:
                walk.icc_chunks[-1] = walk.icc_chunks[-1]._replace(segment=segment)
            if self._first_segment and marker == APP0 and decision is not DROP:
                self._exif_place = len(self._head)  # after JFIF, which must stay the first segment
        self._first_segment = False
        if marker == SOS:
            if self._in_head:
                self._write_head()
            self._state = _SCAN
            self._scan_from = start + len(segment)

    def _scan(self, final: bool) -> bool:
        """Scan data up to the FF of the first marker that can follow a scan. FF 00
        (stuffing), restart markers, fill bytes (FF FF 00 is one stuffed FF to libjpeg)
        and a stray FF before any other byte stay scan data, kept byte for byte."""
        buf = self._buf
        found = _SCAN_END.search(buf, self._at)
        if found is not None:
            self._pass(found.start())
            self._search(self._base + found.start())
            return True
        held = 1 if len(buf) > self._at and buf[-1] == MARKER_PREFIX and not final else 0
        self._pass(len(buf) - held)
        if final:
            self._cut_short(ImageError(f"{FMT}: scan data from offset {self._scan_from} has no end marker (truncated file)"))
        return final

    def _scan_in_place(self, chunk: bytes | bytearray | memoryview) -> memoryview:
        """Scan data searched in the caller's chunk itself (one copy fewer for the bulk of
        the file); what follows the scan, or a last FF, is left for the buffer."""
        view = memoryview(chunk)
        found = _SCAN_END.search(view)
        stop = found.start() if found is not None else len(view) - (1 if len(view) and view[-1] == MARKER_PREFIX else 0)
        if stop:
            self.body_bytes += stop
            if self._emit:
                self._out.append(bytes(view[:stop]))
            self._base += stop
        return view[stop:]

    def _pass(self, stop: int) -> None:
        """Scan data up to `stop` (never before self._at) written, or only counted when the walk writes nothing."""
        if self._emit:
            self._write(bytes(self._buf[self._at : stop]))  # _write drops an empty blob
        else:
            self.body_bytes += stop - self._at
        self._at = stop

    def _after(self, final: bool) -> bool:
        self._at = len(self._buf)  # nothing after the image is kept (a gain map was written at EOI)
        return False

    # --- the head, the gain map, the end ---

    def _later_exif_blocks(self) -> None:
        """EXIF blocks after the first scan: removed and reported, never read for what to keep."""
        for block in self.walk.exif_blocks:
            if self._later_exif is None:
                self._later_exif = bytes(block)
            self._later_exif_kinds |= exif_facts(block, FMT).kinds
        self.walk.exif_blocks.clear()

    def _write_head(self) -> None:
        walk = self.walk
        self._in_head = False
        removed = self._removed
        self._head_exif = list(walk.exif_blocks)
        walk.exif_blocks.clear()
        plan = plan_exif(self._head_exif, self._keep_copyright, FMT)
        removed |= plan.removed
        inserts: list[tuple[int, bytes | bytearray]] = []
        if plan.minimal is not None:
            inserts.append((self._exif_place, _segment(APP1, EXIF_HEADER + plan.minimal)))
        if walk.icc_chunks:
            icc_segments = _icc_segments(walk)
            if icc_segments is None:
                walk.drop(kinds.OTHER)
            else:
                inserts.append((self._icc_place, icc_segments))
        if self._role == GAIN_MAP:
            if not self._gain_map_inserts(inserts):
                self.not_gain_map = True  # the walk goes on to its end; _strip_gain_map throws its output away
                return
        else:
            self._plan = self._look_up_gain_map()
            if self._plan is None:
                self._alone_inserts()
            else:
                mpf_segment = self._primary_inserts(inserts)
        _insert(self._head, inserts)
        if self._plan is not None:
            self._write_index(mpf_segment)
        head, self._head = self._head, []
        if self._emit:
            self._out.extend(head)

    def _xmp_insert(self, inserts: list, packet: bytes | None) -> None:
        """The rebuilt XMP packet right after the EXIF block; "xmp" is removed unless the
        input's packet was exactly the one rebuilt (a second strip changes nothing)."""
        if self.walk.xmp_packet is not None and packet != self.walk.xmp_packet:
            self._removed.add(kinds.XMP)
        if packet is not None:
            inserts.append((self._exif_place, _segment(APP1, XMP_ID + packet)))

    def _alone_inserts(self) -> None:
        """The image alone: what describes a gain map goes (and, at the end, all after EOI)."""
        walk = self.walk
        if walk.xmp_packet is not None:
            self._removed.add(kinds.XMP)
        if walk.iso_segments:
            self._removed.add(kinds.OTHER)
        if walk.mpf_payload is not None:
            self._removed.add(kinds.MPF)

    def _gain_map_inserts(self, inserts: list) -> bool:
        """A gain map keeps its ISO 21496-1 record and its XMP reduced to the rendering
        namespaces; False when its own metadata does not say it is a gain map."""
        walk = self.walk
        iso_segments = [segment for _, segment in walk.iso_segments]
        if not jpeg_gain_map.says_gain_map(walk.xmp_packet, iso_segments):
            return False
        self._xmp_insert(inserts, rendering_xmp(walk.xmp_packet) if walk.xmp_packet is not None else None)
        records = [segment for segment in iso_segments if has_parameters(segment[len(ISO_21496_ID) :])]
        if records:
            inserts.append((walk.iso_place, _segment(APP2, records[0])))
        if len(records) != len(iso_segments) or len(records) > 1:
            self._removed.add(kinds.OTHER)
        if walk.mpf_payload is not None:
            self._removed.add(kinds.MPF)
        return True

    def _primary_inserts(self, inserts: list) -> bytearray:
        walk, plan = self.walk, self._plan
        facts = read_rendering(walk.xmp_packet) if walk.xmp_packet is not None else None
        self._xmp_insert(inserts, primary_xmp(facts, len(plan.gain_map.data)) if facts is not None else None)
        if walk.iso_segments:
            inserts.append((walk.iso_place, _segment(APP2, walk.iso_segments[0][1])))
            if len(walk.iso_segments) > 1:
                self._removed.add(kinds.OTHER)
        # The index's size is fixed, so the primary's size is known before it is written.
        mpf_segment = bytearray(jpeg_gain_map.mpf_segment_size())
        inserts.append((walk.mpf_place, mpf_segment))
        return mpf_segment

    def _write_index(self, mpf_segment: bytearray) -> None:
        plan = self._plan
        index_at = 0
        for blob in self._head:
            if blob is mpf_segment:
                break
            index_at += len(blob)
        primary_size = sum(len(blob) for blob in self._head) + plan.body_bytes
        index = mpf.read_index(self.walk.mpf_payload)
        payload = jpeg_gain_map.mpf_index(index, plan.gain_map.entry, primary_size, index_at, len(plan.gain_map.data))
        mpf_segment[:] = _segment(APP2, payload)
        if payload != self.walk.mpf_payload:
            self._removed.add(kinds.MPF)
        if plan.gain_map.start != plan.primary_end or plan.gain_map.end != self.size:
            self._removed.add(kinds.TRAILER)  # other images or padding around the gain map
        self._removed |= plan.gain_map.removed
        self.kept = frozenset({kinds.GAIN_MAP})

    def _look_up_gain_map(self) -> _GainMapPlan | None:
        """The gain map the MPF index lists, when one strips cleanly, with the primary's facts
        the new index needs: where its EOI is and what its body strips to. Both are read with
        read_range before the first byte (the primary is walked twice, one piece at a time)."""
        walk = self.walk
        if walk.mpf_payload is None or self._read_range is None:
            return None
        try:
            index = mpf.read_index(walk.mpf_payload)
        except mpf.MpfError:
            return None  # the index and every image after the primary go; the primary is served
        scout = JpegWalk(size=self.size, read_range=None, keep_copyright=self._keep_copyright, emit=False)
        offset = 0
        while scout._state != _AFTER and offset < self.size:  # noqa: SLF001 - a walk of the same class
            piece = self._read_range(offset, min(offset + SCOUT_PIECE, self.size))
            if not piece:
                raise ImageError(f"{FMT}: the input ended at offset {offset}, before its declared size {self.size}")
            scout.feed(piece)
            offset += len(piece)
        scout.finish()
        # A primary cut short ends at the input's end (_cut_short): no entry lies after it.
        for candidate in jpeg_gain_map.candidates(index, walk.mpf_offset, scout.end, self.size):
            if candidate.end - candidate.start > MAX_GAIN_MAP_BYTES:
                continue  # dropped with the other images
            try:
                stripped = _strip_gain_map(self._read_range(candidate.start, candidate.end), self._keep_copyright)
            except ImageError:
                continue  # not a JPEG that strips cleanly: dropped with the other images
            if stripped is not None:
                gain_map = _GainMap(candidate.entry, candidate.start, candidate.end, *stripped)
                return _GainMapPlan(gain_map, scout.body_bytes, scout.end)
        return None

    def _at_end_of_image(self) -> None:
        plan = self._plan
        if plan is None:
            return
        if self.end != plan.primary_end or self.body_bytes != plan.body_bytes:
            raise ImageError(f"{FMT}: the primary image read differs from the one measured before (changed while read?)")
        self._write(plan.gain_map.data)

    def _conclude(self) -> None:
        """What was removed, once the whole input has been walked (which set end: at EOI,
        or where the input was cut short)."""
        if self._plan is None and self.end < self._total():
            self._removed.add(kinds.TRAILER)
        # EXIF blocks after the first scan: every kind any of them held. (The head's blocks are
        # in plan_exif's report, but for a lone minimal block, whose only kind, "exif", every
        # later block reports too.)
        self._removed |= self._later_exif_kinds
        self.removed = frozenset(self._removed | self.walk.removed)


def _insert(parts: list, inserts: list[tuple[int, bytes | bytearray]]) -> None:
    """Inserts blobs at marks taken during the walk, in the order listed for one mark."""
    # Back to front, so an insert never moves a mark still to be used.
    for place, blob in reversed(sorted(inserts, key=lambda insert: insert[0])):
        if place >= 0:
            parts.insert(place, blob)


class _GainMap(NamedTuple):
    entry: mpf.MpEntry
    start: int  # its bytes in the input
    end: int
    data: bytes  # stripped
    removed: frozenset[str]


def _whole(walk: JpegWalk, data: bytes | memoryview) -> bytes:
    """A walk fed a whole input, one piece at a time."""
    view = memoryview(data)
    out = [walk.feed(view[offset : offset + READ_PIECE]) for offset in range(0, len(view), READ_PIECE)]
    out.append(walk.finish())
    return b"".join(out)


def _strip_gain_map(piece: bytes, keep_copyright: bool) -> tuple[bytes, frozenset[str]] | None:
    """A gain-map JPEG stripped; None when it does not say it is a gain map. ImageError when
    it does not strip cleanly (it is then dropped, never refused)."""
    walk = JpegWalk(size=len(piece), read_range=None, keep_copyright=keep_copyright, role=GAIN_MAP, allow_truncated=False)
    data = _whole(walk, piece)
    if walk.not_gain_map:
        return None
    return data, walk.removed


def open_walk(size: int, read_range: Callable[[int, int], bytes] | None, keep_copyright: bool) -> JpegWalk:
    """The walk metadata/streaming.py drives for a JPEG file."""
    return JpegWalk(size=size, read_range=read_range, keep_copyright=keep_copyright)


def strip_codestream(data: bytes, keep_copyright: bool) -> Stripped:
    """One JPEG codestream alone (a HEIF `jpeg` item): nothing after its EOI is kept, and
    one cut short is refused."""
    walk = JpegWalk(size=len(data), read_range=None, keep_copyright=keep_copyright, allow_truncated=False)
    out = _whole(walk, data)
    return Stripped(out, walk.removed)


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    """The streaming walk driven over the whole input (one code path for both)."""
    view = memoryview(data)
    walk = open_walk(len(view), lambda start, end: view[start:end], keep_copyright)
    out = _whole(walk, view)
    return Stripped(out, walk.removed, kept=walk.kept)


def find_exif(data: bytes) -> memoryview | bytes | None:
    """The first EXIF block (APP1 "Exif"), after checking the whole file's structure."""
    walk = JpegWalk(size=len(data), read_range=None, keep_copyright=False, emit=False)
    _whole(walk, data)
    return walk.first_exif()


FORMAT = Format("jpeg", "image/jpeg", lambda head: head[:3] == b"\xff\xd8\xff", strip, find_exif, open_walk)
