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
from typing import Callable, NamedTuple

from .. import kinds
from ..byte_reader import ByteReader
from ..byte_spans import SpanWriter
from ..exif_block import EXIF_HEADER, plan_exif
from ..gain_map_metadata import ISO_21496_ID, has_parameters, is_exact_record
from ..icc_profile import is_icc_profile
from ..errors import ImageError
from ..limits import MAX_PIXELS
from ..kinds import Stripped
from ..xmp_rendering import primary_xmp, read_rendering, rendering_xmp
from . import jpeg_gain_map, mpf
from .contract import DROP, KEEP, Answer, Format, Handler

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
    segment: bytes  # the whole segment as it came, written back when the profile is valid


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
        self.truncated = False  # the file ends inside the image data

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


def _two_byte_field(name: str) -> Callable[[_Walk, memoryview, int], Answer]:
    def check(walk: _Walk, payload: memoryview, offset: int) -> Answer:
        _exactly(payload, 2, name, offset)
        return KEEP

    return check


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
        walk.icc_chunks.append(_IccChunk(number, count, payload[ICC_CHUNK_HEADER:], offset, b""))
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
    DRI: Handler("DRI", _two_byte_field("DRI")),
    DNL: Handler("DNL", _two_byte_field("DNL")),
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


def _next_marker(data: bytes, pos: int) -> tuple[int, int, bool]:
    """The next marker from `pos`, as libjpeg's next_marker finds it.

    Bytes that are not FF are skipped, fill bytes (FF FF...) swallowed, FF 00 skipped,
    and restart or TEM markers between segments ignored (libjpeg's read_markers does).
    Answers the marker, the offset just after it, and whether anything other than fill
    bytes was skipped (a segment length that did not land on the next marker).
    """
    start = pos
    while True:
        found = _MARKER.search(data, pos)
        if found is None:
            raise ImageError(f"{FMT}: no marker after offset {pos} (truncated file)")
        marker = data[found.start() + 1]
        pos = found.end()
        if marker not in IGNORED_BETWEEN_SEGMENTS:
            break
    marker_at = found.start()
    skipped = data.count(MARKER_PREFIX_BYTE, start, marker_at) != marker_at - start
    return marker, pos, skipped


def _end_of_scan(data: bytes, pos: int) -> int:
    """Where a scan's entropy-coded data ends: at the FF of the first marker that can
    follow a scan. FF 00 (stuffing), restart markers, fill bytes (FF FF 00 is one
    stuffed FF to libjpeg) and a stray FF before any other byte stay scan data, kept
    byte for byte, so a decoder meets exactly what it met in the original."""
    found = _SCAN_END.search(data, pos)
    if found is None:
        raise ImageError(f"{FMT}: scan data from offset {pos} has no end marker (truncated file)")
    return found.start()


class _Parsed:
    def __init__(self, writer: SpanWriter, walk: _Walk, exif_place: int, end: int):
        self.writer = writer
        self.walk = walk
        self.exif_place = exif_place
        self.end = end  # just after the image's EOI in the input (its length when cut short)
        self.icc_segments: bytes | None = None  # the ICC chunks to write back, at icc_place
        self.icc_place = -1


def _parse(data: bytes, *, allow_truncated: bool) -> _Parsed:
    if data[:2] != bytes((MARKER_PREFIX, SOI)):
        raise ImageError(f"{FMT}: no start-of-image marker at offset 0")
    writer = SpanWriter(data)
    writer.keep(0, 2)
    exif_place = writer.mark()
    icc_place = -1
    walk = _Walk()
    reader = ByteReader(data, FMT)
    pos = 2
    first_segment = True

    def cut_short(error: ImageError) -> None:
        """The file ends here: served as far as its image data goes once a scan has
        begun (allow_truncated), refused before."""
        if not allow_truncated or walk.scans == 0:
            raise error
        walk.truncated = True

    while True:
        try:
            marker, pos, skipped = _next_marker(data, pos)
        except ImageError as error:
            cut_short(error)
            if pos < len(data):
                walk.drop(kinds.OTHER)  # bytes after the last segment that lead to no marker
            break
        start = pos - 2  # the FF just before the marker byte; fill bytes are dropped
        if skipped:
            walk.drop(kinds.OTHER)  # bytes before the first marker, or after a wrong length
        if marker == EOI:
            if walk.scans == 0:
                raise ImageError(f"{FMT}: end-of-image marker at offset {start} before any scan")
            writer.keep(start, pos)
            break
        handler = SEGMENT_HANDLERS.get(marker)
        if handler is None:
            raise ImageError(f"{FMT}: unsupported marker 0xFF{marker:02X} at offset {start}")
        reader.pos = pos
        try:
            length = reader.u16be(f"length of the {handler.name} segment")
            payload = reader.take(max(length - 2, 0), f"{handler.name} segment starting at offset {start}")
        except ImageError as error:
            cut_short(error)
            walk.drop(kinds.OTHER)  # the segment cut off
            break
        if length < 2:
            raise ImageError(f"{FMT}: {handler.name} segment at offset {start} has length {length}")
        pos = reader.pos
        decision = handler.run(walk, payload, start)
        ends_the_file = pos == len(data) and allow_truncated and walk.scans > 0  # then cut_short below
        if marker != SOS and not ends_the_file and not _lands_on_marker(data, pos):
            decision = _wrong_length(walk, marker, decision, payload, start)
        if decision is KEEP:
            writer.keep(start, pos)
        elif decision is not DROP:
            writer.add(_segment(marker, decision))
        if marker == APP2 and walk.icc_chunks and icc_place < 0:
            icc_place = writer.mark()
        if marker == APP2 and walk.iso_segments and walk.iso_place < 0:
            walk.iso_place = writer.mark()
        if marker == APP2 and walk.mpf_payload is not None and walk.mpf_place < 0:
            walk.mpf_place = writer.mark()
        if walk.icc_chunks and walk.icc_chunks[-1].offset == start:
            walk.icc_chunks[-1] = walk.icc_chunks[-1]._replace(segment=bytes(data[start:pos]))
        if first_segment and marker == APP0 and decision is not DROP:
            exif_place = writer.mark()  # after JFIF, which must stay the first segment
        first_segment = False
        if marker == SOS:
            try:
                scan_end = _end_of_scan(data, pos)
            except ImageError as error:
                cut_short(error)
                writer.keep(pos, len(data))  # the scan data as far as it goes
                pos = len(data)
                break
            writer.keep(pos, scan_end)
            pos = scan_end
    parsed = _Parsed(writer, walk, exif_place, len(data) if walk.truncated else pos)
    if walk.icc_chunks:
        parsed.icc_segments = _icc_segments(walk)
        parsed.icc_place = icc_place
        if parsed.icc_segments is None:
            walk.drop(kinds.OTHER)
    return parsed


def _lands_on_marker(data: bytes, pos: int) -> bool:
    """Whether a segment that ends at `pos` is followed by a marker (fill bytes allowed)."""
    while pos < len(data) and data[pos] == MARKER_PREFIX:
        pos += 1
        if pos < len(data) and data[pos] not in (0x00, MARKER_PREFIX):
            return True
    return False


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


def _write(writer: SpanWriter, inserts: list[tuple[int, bytes | bytearray]]) -> None:
    """Inserts blobs at marks taken during the walk, in the order listed for one mark."""
    # Back to front, so an insert never moves a mark still to be used.
    for place, blob in reversed(sorted(inserts, key=lambda insert: insert[0])):
        if place >= 0:
            writer.insert(place, blob)


def _common_inserts(parsed: _Parsed, keep_copyright: bool, removed: set[str]) -> list[tuple[int, bytes | bytearray]]:
    """The minimal EXIF block and the ICC profile, as every JPEG gets them back."""
    walk = parsed.walk
    plan = plan_exif(walk.exif_blocks, keep_copyright, FMT)
    removed |= walk.removed | plan.removed
    inserts: list[tuple[int, bytes | bytearray]] = []
    if plan.minimal is not None:
        inserts.append((parsed.exif_place, _segment(APP1, EXIF_HEADER + plan.minimal)))
    if parsed.icc_segments is not None:
        inserts.append((parsed.icc_place, parsed.icc_segments))
    return inserts


def _xmp_insert(parsed: _Parsed, packet: bytes | None, removed: set[str]) -> list[tuple[int, bytes]]:
    """The rebuilt XMP packet right after the EXIF block; "xmp" is removed unless the
    input's packet was exactly the one rebuilt (a second strip changes nothing)."""
    if parsed.walk.xmp_packet is not None and packet != parsed.walk.xmp_packet:
        removed.add(kinds.XMP)
    return [] if packet is None else [(parsed.exif_place, _segment(APP1, XMP_ID + packet))]


class _GainMap(NamedTuple):
    entry: mpf.MpEntry
    start: int  # its bytes in the input
    end: int
    data: bytes  # stripped
    removed: frozenset[str]


def _strip_gain_map(piece: bytes, keep_copyright: bool) -> tuple[bytes, frozenset[str]] | None:
    """A gain-map JPEG stripped by the JPEG rules, with its ISO 21496-1 record and its XMP
    reduced to the rendering namespaces; None when it does not say it is a gain map.
    ImageError when it does not strip cleanly (it is then dropped, never refused)."""
    parsed = _parse(piece, allow_truncated=False)
    walk = parsed.walk
    iso_segments = [segment for _, segment in walk.iso_segments]
    if not jpeg_gain_map.says_gain_map(walk.xmp_packet, iso_segments):
        return None
    removed: set[str] = set()
    inserts = _common_inserts(parsed, keep_copyright, removed)
    packet = rendering_xmp(walk.xmp_packet) if walk.xmp_packet is not None else None
    inserts += _xmp_insert(parsed, packet, removed)
    records = [segment for segment in iso_segments if has_parameters(segment[len(ISO_21496_ID) :])]
    if records:
        inserts.append((walk.iso_place, _segment(APP2, records[0])))
    if len(records) != len(iso_segments) or len(records) > 1:
        removed.add(kinds.OTHER)
    if walk.mpf_payload is not None:
        removed.add(kinds.MPF)
    if parsed.end < len(piece):
        removed.add(kinds.TRAILER)
    _write(parsed.writer, inserts)
    return parsed.writer.join(), frozenset(removed)


def _find_gain_map(data: bytes, primary: _Parsed, keep_copyright: bool) -> tuple[mpf.MpIndex, _GainMap] | None:
    """The primary's MPF index and its gain map, when it lists one that strips cleanly."""
    walk = primary.walk
    if walk.mpf_payload is None or walk.truncated:
        return None
    try:
        index = mpf.read_index(walk.mpf_payload)
    except mpf.MpfError:
        return None  # the index and every image after the primary go; the primary is served
    for candidate in jpeg_gain_map.candidates(index, walk.mpf_offset, primary.end, len(data)):
        try:
            stripped = _strip_gain_map(data[candidate.start : candidate.end], keep_copyright)
        except ImageError:
            continue  # not a JPEG that strips cleanly: dropped with the other images
        if stripped is not None:
            return index, _GainMap(candidate.entry, candidate.start, candidate.end, *stripped)
    return None


def _alone(parsed: _Parsed, inserts: list[tuple[int, bytes | bytearray]], removed: set[str], size: int) -> Stripped:
    """The image alone: what describes a gain map goes with everything after its EOI."""
    walk = parsed.walk
    inserts += _xmp_insert(parsed, None, removed)
    if walk.iso_segments:
        removed.add(kinds.OTHER)
    if walk.mpf_payload is not None:
        removed.add(kinds.MPF)
    if parsed.end < size:
        removed.add(kinds.TRAILER)
    _write(parsed.writer, inserts)
    return Stripped(parsed.writer.join(), frozenset(removed))


def strip_codestream(data: bytes, keep_copyright: bool) -> Stripped:
    """One JPEG codestream alone (a HEIF `jpeg` item): nothing after its EOI is kept, and
    one cut short is refused."""
    parsed = _parse(data, allow_truncated=False)
    removed: set[str] = set()
    return _alone(parsed, _common_inserts(parsed, keep_copyright, removed), removed, len(data))


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    primary = _parse(data, allow_truncated=True)
    walk = primary.walk
    removed: set[str] = set()
    inserts = _common_inserts(primary, keep_copyright, removed)
    found = _find_gain_map(data, primary, keep_copyright)
    if found is None:
        return _alone(primary, inserts, removed, len(data))

    index, gain_map = found
    facts = read_rendering(walk.xmp_packet) if walk.xmp_packet is not None else None
    packet = primary_xmp(facts, len(gain_map.data)) if facts is not None else None
    inserts += _xmp_insert(primary, packet, removed)
    if walk.iso_segments:
        inserts.append((walk.iso_place, _segment(APP2, walk.iso_segments[0][1])))
        if len(walk.iso_segments) > 1:
            removed.add(kinds.OTHER)
    # The index's size is fixed, so the primary's size is known before the index is written.
    mpf_segment = bytearray(jpeg_gain_map.mpf_segment_size())
    inserts.append((walk.mpf_place, mpf_segment))
    _write(primary.writer, inserts)
    primary_size = primary.writer.size()
    index_at = primary.writer.offset_of(mpf_segment)
    payload = jpeg_gain_map.mpf_index(index, gain_map.entry, primary_size, index_at, len(gain_map.data))
    mpf_segment[:] = _segment(APP2, payload)
    if payload != walk.mpf_payload:
        removed.add(kinds.MPF)
    if gain_map.start != primary.end or gain_map.end != len(data):
        removed.add(kinds.TRAILER)  # other images or padding around the gain map
    primary.writer.add(gain_map.data)
    return Stripped(primary.writer.join(), frozenset(removed | gain_map.removed), kept=frozenset({kinds.GAIN_MAP}))


def find_exif(data: bytes) -> memoryview | None:
    """The first EXIF block (APP1 "Exif"), after checking the whole file's structure."""
    blocks = _parse(data, allow_truncated=True).walk.exif_blocks
    return blocks[0] if blocks else None


FORMAT = Format("jpeg", "image/jpeg", lambda head: head[:3] == b"\xff\xd8\xff", strip, find_exif)
