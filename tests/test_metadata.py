"""The transform's core (metadata.py): strip and read_exif on generated images.

Outputs are read back with Pillow and with the small test-side walkers of
image_builders, never with the core's own parsers.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zlib

import piexif
from PIL import ImageCms
import pytest
from PIL import Image

import image_builders as b
import tiff_shapes as t
import metadata
from metadata import kinds as metadata_kinds
from metadata import ImageError
from metadata.formats import tiff as tiff_format
from metadata.limits import MAX_PIXELS
from metadata_checks import HOSTILE_MEMORY_LIMIT, ORIENTATION_ENTRY, assert_refused, assert_same_display, bounded_memory, exif_of, expected_kept_exif
from webp_shapes import WEBP_HOSTILE

ORIENTATIONS = range(1, 9)
APP0, APP1, APP2, APP14 = 0xE0, 0xE1, 0xE2, 0xEE
DECODING_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC4, 0xDB, 0xDD})  # SOF0-2, DHT, DQT, DRI


# ---------------------------------------------------------------- interface and detection

BUILDERS = {
    "jpeg": lambda: b.jpeg(6),
    "png": lambda: b.png(6),
    "webp": lambda: b.webp(6),
    "tiff": lambda: b.tiff(6),
    "gif": lambda: b.gif(),
}


@pytest.mark.parametrize("image_format", sorted(BUILDERS))
def test_clean_reports_format_mime_type_and_sorted_kinds(image_format):
    data = BUILDERS[image_format]()
    result = metadata.clean(data)
    assert isinstance(result, metadata.StripResult)
    assert result.format == image_format == metadata.detect_format(data)
    assert result.mime_type == metadata.MIME_TYPES[image_format] == Image.MIME[Image.open(io.BytesIO(data)).format]
    assert result.removed == tuple(sorted(result.removed))
    assert set(result.removed) <= metadata_kinds.ALL_KINDS
    assert result.kept == tuple(sorted(result.kept)) and set(result.kept) <= metadata_kinds.ALL_KEPT
    assert metadata.strip(data) == result.data
    assert isinstance(result.data, bytes)


def test_keep_copyright_is_keyword_only():
    with pytest.raises(TypeError):
        metadata.strip(b.jpeg(), True)  # type: ignore[misc]


def _pillow(image_format: str) -> bytes:
    buffer = io.BytesIO()
    b.pattern().save(buffer, image_format)
    return buffer.getvalue()


UNSUPPORTED = {
    "empty": (b"", "empty"),
    "random": (bytes(range(7, 250, 3)) * 10, "unrecognised"),
    "mp4": (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(64), "ISOBMFF"),
    "pdf": (None, "PDF"),
    "bmp": (None, "BMP"),
    "bigtiff": (b"II+\x00\x08\x00\x00\x00" + bytes(32), "BigTIFF"),
    "text": (b"<html>not an image</html>", "unrecognised"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_input_is_refused(name):
    data, reason = UNSUPPORTED[name]
    if data is None:
        data = _pillow(name.upper())
    with pytest.raises(ImageError, match=reason):
        metadata.detect_format(data)
    assert_refused(data, reason=reason)


# A JPEG cut short inside its scan data is served (tests/test_jpeg_gain_map.py), and so
# is a PNG cut after its image data starts (tests/test_png_damaged.py).
@pytest.mark.parametrize("image_format", sorted(set(BUILDERS) - {"jpeg", "png"}))
def test_truncated_images_are_refused(image_format):
    data = BUILDERS[image_format]()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        assert_refused(data[:cut], reason=f"^{image_format.upper() if image_format != 'webp' else 'WebP'}: ")


# ---------------------------------------------------------------- JPEG


def _kept_jpeg_markers(data: bytes) -> list[tuple[int, bytes]]:
    """The segments of `data` a lossless strip must keep, by the test's own rules."""

    def keep(marker: int, payload: bytes) -> bool:
        if marker in DECODING_MARKERS:
            return True
        if marker == APP0:
            return payload.startswith(b"JFIF\x00")
        if marker == APP2:
            return payload.startswith(b"ICC_PROFILE\x00")
        if marker == APP14:
            return payload.startswith(b"Adobe")
        return False

    return [(marker, payload) for marker, payload in b.jpeg_structure(data).markers if keep(marker, payload)]


JPEG_VARIANTS = {
    "baseline": {},
    "progressive": {"progressive": True},
    "cmyk": {"mode": "CMYK"},
    "grey": {"mode": "L"},
}


@pytest.mark.parametrize("variant", sorted(JPEG_VARIANTS))
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_jpeg_strip_is_lossless_and_keeps_only_orientation(variant, orientation):
    original = b.jpeg(orientation, **JPEG_VARIANTS[variant])
    stripped = metadata.strip(original)
    before, after = b.jpeg_structure(original), b.jpeg_structure(stripped)
    assert after.scan == before.scan  # SOS to EOI, byte for byte
    assert after.trailer == b""
    minimal_exif = [(m, p) for m, p in after.markers if m == APP1]
    assert [(m, p) for m, p in after.markers if m != APP1] == _kept_jpeg_markers(original)
    assert len(minimal_exif) == (0 if orientation == 1 else 1)
    assert exif_of(stripped) == expected_kept_exif(orientation, keep_copyright=False)
    assert b.metadata_problems(stripped) == []
    assert b.decoded(stripped).tobytes() == b.decoded(original).tobytes()
    assert_same_display(original, stripped)


def test_jpeg_cmyk_keeps_the_adobe_segment_that_says_how_to_decode_it():
    original = b.jpeg(mode="CMYK")
    assert b.jpeg_structure(original).payloads(APP14), "Pillow writes an Adobe segment for CMYK"
    stripped = metadata.strip(original)
    assert b.jpeg_structure(stripped).payloads(APP14) == b.jpeg_structure(original).payloads(APP14)
    assert b.decoded(stripped).mode == "CMYK"


def test_jpeg_removes_every_kind_of_metadata():
    original = b.jpeg_with_everything(orientation=6)
    assert len(b.metadata_problems(original)) > 5  # the checker sees the planted metadata
    result = metadata.clean(original)
    assert set(result.removed) == {
        "comment", "exif", "gps", "makernote", "mpf", "other", "photoshop", "thumbnail", "trailer", "xmp", "iptc",
    }  # fmt: skip
    assert b.metadata_problems(result.data) == []
    assert exif_of(result.data) == {b.ORIENTATION_TAG: 6}
    assert result.data.endswith(b"\xff\xd9")  # the MPF secondary image after EOI is gone
    assert b.jpeg_structure(result.data).scan == b.jpeg_structure(original).scan
    assert Image.open(io.BytesIO(result.data)).format == "JPEG"
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()


@pytest.mark.parametrize("icc", [True, False])
def test_jpeg_icc_profile_is_kept_exactly_when_present(icc):
    stripped = metadata.strip(b.jpeg(6, icc=icc))
    assert Image.open(io.BytesIO(stripped)).info.get("icc_profile") == (b.icc_profile() if icc else None)


def test_jpeg_multi_segment_icc_profile_is_kept_whole():
    big_profile = b.icc_profile() + bytes(70_000)
    big_profile = struct.pack(">I", len(big_profile)) + big_profile[4:]
    buffer = io.BytesIO()
    b.pattern().save(buffer, "JPEG", icc_profile=big_profile, exif=b.exif_block(3))
    stripped = metadata.strip(buffer.getvalue())
    assert len(b.jpeg_structure(stripped).payloads(APP2)) == 2
    assert Image.open(io.BytesIO(stripped)).info["icc_profile"] == big_profile


def test_jpeg_icc_profile_is_written_back_where_its_chunk_was_and_not_at_a_later_app2():
    # SOI, JFIF, DQT, ICC chunk, the other tables, an APP2 of another kind just before SOS:
    # the profile goes back after the DQT, neither right after the first segment (JFIF) nor
    # at the later APP2.
    plain = b.jpeg(exif=False, comment=False, xmp=False, icc=False)
    structure = b.jpeg_structure(plain)
    after_dqt = structure.offsets[[marker for marker, _ in structure.markers].index(0xDB) + 1]
    assert structure.markers[0][0] == APP0 and after_dqt > structure.offset_of(0xDB)
    icc = b.jpeg_segment(APP2, b"ICC_PROFILE\x00\x01\x01" + b.icc_profile())
    expected = plain[:after_dqt] + icc + plain[after_dqt:]
    original = b.insert_before_sos(expected, b.jpeg_segment(APP2, b"FPXR\x00" + b.SECRET))
    result = metadata.clean(original)
    assert result.data == expected
    assert result.removed == ("other",)


def test_jpeg_icc_chunk_that_swallowed_the_next_segment_is_dropped():
    original = b.jpeg(exif=False, comment=False, xmp=False)
    structure = b.jpeg_structure(original)
    icc_payload = structure.payloads(APP2)[0]
    stretched = b.jpeg_segment(APP2, icc_payload + b.jpeg_segment(0xFE, b"comment " + b.SECRET))
    position = original.index(b"\xff\xe2")
    rebuilt = original[:position] + stretched + original[position + 2 + 2 + len(icc_payload) :]
    result = metadata.clean(rebuilt)
    assert result.removed == ("other",)
    assert b.SECRET not in result.data
    assert b.jpeg_structure(result.data).payloads(APP2) == []
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()


def test_jpeg_jfif_thumbnail_is_removed_and_the_jfif_header_kept():
    original = b.jpeg(exif=False, comment=False, xmp=False, icc=False)
    app0_length = 2 + int.from_bytes(original[4:6], "big")
    original = original[:2] + b.jfif_with_thumbnail() + original[2 + app0_length :]
    result = metadata.clean(original)
    assert result.removed == ("thumbnail",)
    assert b.jpeg_structure(result.data).payloads(APP0) == [b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00"]
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()


def test_jpeg_metadata_between_scans_is_removed():
    original = b.jpeg(progressive=True, exif=False, xmp=False, comment=False)
    structure = b.jpeg_structure(original)
    second_scan = original.index(b"\xff\xda", structure.scan_start + 2)
    dht_before = original.rindex(b"\xff\xc4", 0, second_scan)
    injected = b.jpeg_segment(0xFE, b"late " + b.SECRET) + b.jpeg_segment(APP1, b.XMP_NAMESPACE + b.XMP_PACKET)
    original = original[:dht_before] + injected + original[dht_before:]
    result = metadata.clean(original)
    assert result.removed == ("comment", "xmp")
    assert b.metadata_problems(result.data) == []
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()


MPF_INDEX = b"MPF\x00MM\x00\x2a" + struct.pack(">IH", 8, 0) + bytes(4)  # an index of no tags
ISO_VERSION_RECORD = b"urn:iso:std:iso:ts:21496:-1\x00" + bytes(4)

# A segment between two scans, which no decoder reads: (marker, payload, what is reported removed).
JPEG_LATE_SEGMENTS = {
    "ICC chunk": (APP2, b"ICC_PROFILE\x00\x01\x01" + b.icc_profile(), ("other",)),
    "ISO 21496-1 record": (APP2, ISO_VERSION_RECORD, ("other",)),
    "MPF index": (APP2, MPF_INDEX, ("mpf",)),
    "XMP packet": (APP1, b.XMP_NAMESPACE + b.XMP_PACKET, ("xmp",)),
}


@pytest.mark.parametrize("name", sorted(JPEG_LATE_SEGMENTS))
def test_jpeg_segment_between_scans_is_dropped_and_reported_by_kind(name):
    marker, payload, removed = JPEG_LATE_SEGMENTS[name]
    plain = b.jpeg(progressive=True, exif=False, xmp=False, comment=False, icc=False)
    second_scan = plain.index(b"\xff\xda", b.jpeg_structure(plain).scan_start + 2)
    result = metadata.clean(plain[:second_scan] + b.jpeg_segment(marker, payload) + plain[second_scan:])
    assert result.data == plain
    assert result.removed == removed


@pytest.mark.parametrize("orientation", [1, 6])
def test_jpeg_keep_copyright_keeps_copyright_and_artist(orientation):
    original = b.jpeg(orientation)
    assert exif_of(metadata.strip(original, keep_copyright=True)) == expected_kept_exif(orientation, True)
    assert exif_of(metadata.strip(original, keep_copyright=False)) == expected_kept_exif(orientation, False)


def test_jpeg_without_metadata_comes_back_unchanged():
    original = b.jpeg(exif=False, comment=False, xmp=False)
    result = metadata.clean(original)
    assert result.data == original
    assert result.removed == ()


JFIF_HEADER = b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00"  # version, units, densities, no thumbnail
ADOBE_HEADER = b"Adobe\x00\x64\x00\x00\x00\x00\x01"  # version 100, no flags, YCbCr transform
PHOTOSHOP_WITHOUT_IPTC = b"Photoshop 3.0\x00" + b"8BIM\x03\xed\x00\x00" + struct.pack(">I", 4) + b.SECRET[:4]

# An APPn or COM segment put first: (marker, payload, the payload kept or None, what is reported removed).
JPEG_APP_SEGMENTS = {
    "JFIF header alone": (APP0, JFIF_HEADER, JFIF_HEADER, ()),
    "JFIF header with bytes after it": (APP0, JFIF_HEADER + b.SECRET, JFIF_HEADER, ("other",)),
    "JFIF with a thumbnail": (APP0, JFIF_HEADER[:12] + b"\x01\x01" + bytes(3), JFIF_HEADER, ("thumbnail",)),
    "JFIF header a byte short": (APP0, JFIF_HEADER[:13], None, ("other",)),
    "JFXX thumbnail": (APP0, b"JFXX\x00\x10" + b.SECRET, None, ("thumbnail",)),
    "APP0 of another kind": (APP0, b"AVI1" + b.SECRET * 2, None, ("other",)),
    "APP1 neither EXIF nor XMP": (APP1, b"abc\x00" + b.SECRET, None, ("other",)),
    "extended XMP": (APP1, b.extended_xmp_payload(), None, ("xmp",)),
    "Photoshop with IPTC": (0xED, b.photoshop_iptc_payload(), None, ("iptc", "photoshop")),
    "Photoshop without IPTC": (0xED, PHOTOSHOP_WITHOUT_IPTC, None, ("photoshop",)),
    "APP2 of another kind": (APP2, b"FPXR\x00" + b.SECRET, None, ("other",)),
    "MPF index": (APP2, MPF_INDEX, None, ("mpf",)),
    "ISO 21496-1 record": (APP2, ISO_VERSION_RECORD, None, ("other",)),
    "APP13 of another kind": (0xED, b"Adobe_CM\x00" + b.SECRET, None, ("other",)),
    "Adobe header alone": (APP14, ADOBE_HEADER, ADOBE_HEADER, ()),
    "Adobe header with bytes after it": (APP14, ADOBE_HEADER + b.SECRET, ADOBE_HEADER, ("other",)),
    "Adobe header a byte short": (APP14, ADOBE_HEADER[:11], None, ("other",)),
    "APP14 of another kind": (APP14, b"Ducky" + b.SECRET * 2, None, ("other",)),
    "APP15": (0xEF, b.SECRET, None, ("other",)),
    "comment": (0xFE, b.SECRET, None, ("comment",)),
}


@pytest.mark.parametrize("name", sorted(JPEG_APP_SEGMENTS))
def test_jpeg_app_segment_is_kept_cut_to_its_header_or_dropped_by_what_it_is(name):
    marker, payload, kept, removed = JPEG_APP_SEGMENTS[name]
    plain = b.jpeg(exif=False, comment=False, xmp=False, icc=False)
    result = metadata.clean(plain[:2] + b.jpeg_segment(marker, payload) + plain[2:])
    assert result.data == plain[:2] + (b.jpeg_segment(marker, kept) if kept is not None else b"") + plain[2:]
    assert result.removed == removed


def test_jpeg_minimal_exif_follows_the_jfif_segment():
    stripped = metadata.strip(b.jpeg(8))
    markers = [marker for marker, _ in b.jpeg_structure(stripped).markers]
    assert markers[:2] == [APP0, APP1]


# Where the minimal EXIF block goes: after a JFIF segment only when JFIF is the first
# segment (it must stay first), else right after SOI, wherever the EXIF block was.
# case: (the input's parts after SOI, the parts the minimal block follows in the output).
JPEG_EXIF_PLACES = {
    "tables first": (("tables", "EXIF"), ()),
    "JFIF first, another JFIF later": (("JFIF", "tables", "JFIF", "EXIF"), ("JFIF",)),
}


@pytest.mark.parametrize("case", sorted(JPEG_EXIF_PLACES))
def test_jpeg_minimal_exif_goes_after_soi_or_after_a_first_jfif_only(case):
    layout, before_exif = JPEG_EXIF_PLACES[case]
    plain = b.jpeg(exif=False, comment=False, xmp=False, icc=False)
    structure = b.jpeg_structure(plain)
    parts = {
        "JFIF": b.jpeg_segment(APP0, JFIF_HEADER),
        "tables": plain[structure.offset_of(0xDB) : structure.offset_of(0xC0)],  # the DQT segments
        "EXIF": b.jpeg_segment(APP1, b.exif_block(6)),
    }
    rest = plain[structure.offset_of(0xC0) :]  # SOF, DHT, SOS, scan data, EOI
    original = b"\xff\xd8" + b"".join(parts[name] for name in layout) + rest
    stripped = metadata.strip(original)
    exif_at = stripped.index(b"\xff\xe1")
    assert exif_at == 2 + sum(len(parts[name]) for name in before_exif)
    exif_end = exif_at + 2 + int.from_bytes(stripped[exif_at + 2 : exif_at + 4], "big")
    assert stripped[:exif_at] + stripped[exif_end:] == original.replace(parts["EXIF"], b"")
    assert exif_of(stripped) == expected_kept_exif(6, keep_copyright=False)


def _sof_offset(data: bytes) -> int:
    return b.jpeg_structure(data).offset_of(0xC0)


def _replace_sof_size(data: bytes, width: int, height: int) -> bytes:
    position = _sof_offset(data) + 5  # FF C0, length (2), precision (1), then height and width
    return data[:position] + struct.pack(">HH", height, width) + data[position + 4 :]


def _after_soi(data: bytes, *segments: bytes) -> bytes:
    return data[:2] + b"".join(segments) + data[2:]


def _before_sos(data: bytes, *segments: bytes) -> bytes:
    return b.insert_before_sos(data, *segments)


def _sof(components: int, extra: bytes = b"") -> bytes:
    """An SOF0 payload: 8-bit, 24x40, `components` components of 3 bytes each."""
    return b"\x08\x00\x18\x00\x28" + bytes([components]) + b"\x01\x11\x00" * components + extra


def _dht(counts: list[int], symbols: bytes) -> bytes:
    return b"\x00" + bytes(counts + [0] * (16 - len(counts))) + symbols


_SEG = b.jpeg_segment
_SCAN_AT = lambda data: b.jpeg_structure(data).scan_start  # noqa: E731

# case: (how b.jpeg(6) is damaged, the whole message of the refusal, given that image).
# Inserted segments right after SOI start at offset 2; ByteReader offsets count from the payload.
# A JPEG without EOI (cut short in its scan data) is served: tests/test_jpeg_gain_map.py.
JPEG_HOSTILE = {
    "absurd dimensions": (
        lambda data: _replace_sof_size(data, 65535, 65535),
        lambda data: f"SOF at offset {_sof_offset(data)} declares 65535x65535 pixels, over the limit of 250000000",
    ),
    "zero width": (lambda data: _replace_sof_size(data, 0, 24), lambda data: f"SOF at offset {_sof_offset(data)} declares 0x24 pixels"),
    "zero height": (lambda data: _replace_sof_size(data, 40, 0), lambda data: f"SOF at offset {_sof_offset(data)} declares 40x0 pixels"),
    "second SOF": (
        lambda data: _after_soi(data, _SEG(0xC0, _sof(1))),
        lambda data: f"second frame header (SOF) at offset {_sof_offset(data) + 13}",
    ),
    "SOF without components": (lambda data: _after_soi(data, _SEG(0xC0, _sof(0))), lambda _: "SOF at offset 2 declares 0 components"),
    "SOF with 5 components": (lambda data: _after_soi(data, _SEG(0xC0, _sof(5))), lambda _: "SOF at offset 2 declares 5 components"),
    "SOF one byte long": (lambda data: _after_soi(data, _SEG(0xC0, _sof(1, b"\x00"))), lambda _: "SOF segment at offset 2 has length 12, expected 11"),
    "SOF empty": (lambda data: _after_soi(data, _SEG(0xC0, b"")), lambda _: "SOF precision needs 1 bytes but 0 are left at offset 0"),
    "SOF without height": (lambda data: _after_soi(data, _SEG(0xC0, b"\x08")), lambda _: "SOF height needs 2 bytes but 0 are left at offset 1"),
    "SOF without width": (lambda data: _after_soi(data, _SEG(0xC0, b"\x08\x00\x18")), lambda _: "SOF width needs 2 bytes but 0 are left at offset 3"),
    "SOF without count": (lambda data: _after_soi(data, _SEG(0xC0, _sof(0)[:5])), lambda _: "SOF component count needs 1 bytes but 0 are left at offset 5"),
    "no SOF before SOS": (lambda data: data[:2] + data[data.index(b"\xff\xda") :], lambda _: "scan (SOS) at offset 2 comes before any frame header (SOF)"),
    "SOS empty": (lambda data: _before_sos(data, _SEG(0xDA, b"")), lambda data: f"SOS at offset {_SCAN_AT(data)} declares 0 components"),
    "SOS with 5 components": (
        lambda data: _before_sos(data, _SEG(0xDA, b"\x05" + bytes(13))),
        lambda data: f"SOS at offset {_SCAN_AT(data)} declares 5 components",
    ),
    "SOS one byte long": (
        lambda data: _before_sos(data, _SEG(0xDA, b"\x01" + bytes(6))),
        lambda data: f"SOS segment at offset {_SCAN_AT(data)} has length 9, expected 8",
    ),
    "bad DQT": (lambda data: _after_soi(data, _SEG(0xDB, b"\x00" + bytes(10))), lambda _: "DQT table in the segment at offset 2 needs 64 bytes but 10 are left at offset 1"),
    "short 16-bit DQT": (lambda data: _after_soi(data, _SEG(0xDB, b"\x13" + bytes(64))), lambda _: "DQT table in the segment at offset 2 needs 128 bytes but 64 are left at offset 1"),
    "DQT precision 2": (lambda data: _after_soi(data, _SEG(0xDB, b"\x20" + bytes(64))), lambda _: "DQT segment at offset 2 has a bad table spec 0x20"),
    "DQT table 4": (lambda data: _after_soi(data, _SEG(0xDB, b"\x04" + bytes(64))), lambda _: "DQT segment at offset 2 has a bad table spec 0x04"),
    "bad DHT": (lambda data: _after_soi(data, _SEG(0xC4, _dht([255] * 16, b""))), lambda _: "DHT segment at offset 2 declares 4080 symbols"),
    "DHT of 257 symbols": (lambda data: _after_soi(data, _SEG(0xC4, _dht([255, 2], bytes(257)))), lambda _: "DHT segment at offset 2 declares 257 symbols"),
    "DHT class 2": (lambda data: _after_soi(data, _SEG(0xC4, b"\x20" + _dht([1], b"\x00")[1:])), lambda _: "DHT segment at offset 2 has a bad table spec 0x20"),
    "DHT table 4": (lambda data: _after_soi(data, _SEG(0xC4, b"\x04" + _dht([1], b"\x00")[1:])), lambda _: "DHT segment at offset 2 has a bad table spec 0x04"),
    "DHT counts cut": (lambda data: _after_soi(data, _SEG(0xC4, b"\x00" + bytes(3))), lambda _: "DHT code counts in the segment at offset 2 needs 16 bytes but 3 are left at offset 1"),
    "DHT symbols cut": (lambda data: _after_soi(data, _SEG(0xC4, _dht([5], b"ab"))), lambda _: "DHT symbols in the segment at offset 2 needs 5 bytes but 2 are left at offset 17"),
    "DQT not followed by a marker": (
        lambda data: _after_soi(data, _SEG(0xDB, b"\x00" + bytes(64)) + b"\x00"),
        lambda _: "the DQT segment at offset 2 does not end at a marker",
    ),
    "DRI of 3 bytes": (lambda data: _after_soi(data, _SEG(0xDD, bytes(3))), lambda _: "DRI segment at offset 2 has length 5, expected 4"),
    "DNL of 1 byte": (lambda data: _after_soi(data, _SEG(0xDC, bytes(1))), lambda _: "DNL segment at offset 2 has length 3, expected 4"),
    "DAC of 3 bytes": (lambda data: _after_soi(data, _SEG(0xCC, b"\x00\x11\x10")), lambda _: "DAC segment at offset 2 has an odd or empty length"),
    "DAC empty": (lambda data: _after_soi(data, _SEG(0xCC, b"")), lambda _: "DAC segment at offset 2 has an odd or empty length"),
    "segment length past the end": (lambda data: data[:2] + b"\xff\xe1\xff\xffExif\x00\x00", lambda _: "APP1 segment starting at offset 2 needs 65533 bytes but 6 are left at offset 6"),
    "segment length cut": (lambda data: data[:2] + b"\xff\xfe\x00", lambda _: "length of the COM segment needs 2 bytes but 1 are left at offset 4"),
    "segment length 1": (lambda data: _after_soi(data, b"\xff\xfe\x00\x01"), lambda _: "COM segment at offset 2 has length 1"),
    "segment length 0": (lambda data: _after_soi(data, b"\xff\xfe\x00\x00"), lambda _: "COM segment at offset 2 has length 0"),
    # A segment that ends exactly at the end of the input is whole: the input lacks the next marker.
    "empty COM then nothing": (lambda data: data[:2] + _SEG(0xFE, b""), lambda _: "no marker after offset 6 (truncated file)"),
    "COM then nothing": (lambda data: data[:2] + _SEG(0xFE, b"ab"), lambda _: "no marker after offset 8 (truncated file)"),
    "unknown marker": (lambda data: _after_soi(data, b"\xff\x4f\x00\x04ab"), lambda _: "unsupported marker 0xFF4F at offset 2"),
    "hierarchical frame": (
        lambda data: data[: _sof_offset(data) + 1] + b"\xc5" + data[_sof_offset(data) + 2 :],
        lambda data: f"unsupported marker 0xFFC5 at offset {_sof_offset(data)}",
    ),
    "EOI before any scan": (lambda data: _after_soi(data, b"\xff\xd9"), lambda _: "end-of-image marker at offset 2 before any scan"),
    "only SOI": (lambda data: b"\xff\xd8\xff", lambda _: "no marker after offset 2 (truncated file)"),
    # A restart marker between segments is skipped: the search goes on after it.
    "only SOI and RST0": (lambda data: b"\xff\xd8\xff\xd0", lambda _: "no marker after offset 4 (truncated file)"),
    # Before any scan, a table segment that ends the input does not end at a marker.
    "DQT then nothing": (lambda data: data[:2] + _SEG(0xDB, b"\x00" + bytes(64)), lambda _: "the DQT segment at offset 2 does not end at a marker"),
    "DQT followed by FF 00": (
        lambda data: _after_soi(data, _SEG(0xDB, b"\x00" + bytes(64)) + b"\xff\x00"),
        lambda _: "the DQT segment at offset 2 does not end at a marker",
    ),
}


@pytest.mark.parametrize("case", sorted(JPEG_HOSTILE))
def test_jpeg_malformed_structure_is_refused_naming_the_segment_and_its_offset(case):
    damage, message = JPEG_HOSTILE[case]
    original = b.jpeg(6)
    assert_refused(damage(original), reason=f"^{re.escape('JPEG: ' + message(original))}$")


# Decoding segments at the edge of what is accepted: kept byte for byte.
JPEG_DECODING_SEGMENTS = {
    "DRI": _SEG(0xDD, b"\x00\x10"),
    "DNL": _SEG(0xDC, b"\x00\x18"),
    "DAC": _SEG(0xCC, b"\x00\x11"),
    "16-bit DQT, table 3": _SEG(0xDB, b"\x13" + bytes(range(128))),
    "two DQT tables in one": _SEG(0xDB, b"\x02" + bytes(64) + b"\x03" + bytes(64)),
    "DHT class 1, table 3, 256 symbols": _SEG(0xC4, b"\x13" + _dht([255, 1], bytes(range(256)))[1:]),
    "two DHT tables in one": _SEG(0xC4, _dht([1], b"\x00") + b"\x12" + _dht([0, 2], b"\x01\x02")[1:]),
}


@pytest.mark.parametrize("name", sorted(JPEG_DECODING_SEGMENTS))
def test_jpeg_decoding_segment_of_the_right_length_is_kept_byte_for_byte(name):
    original = b.jpeg(exif=False, comment=False, xmp=False, icc=False)
    with_segment = _before_sos(original, JPEG_DECODING_SEGMENTS[name])
    assert metadata.strip(with_segment) == with_segment


# ---------------------------------------------------------------- hostile EXIF (in a JPEG)



def _jpeg_with_exif(tiff_structure: bytes) -> bytes:
    clean_jpeg = b.jpeg(exif=False, comment=False, xmp=False, icc=False)
    return b.insert_after_soi(clean_jpeg, b.jpeg_segment(APP1, b"Exif\x00\x00" + tiff_structure))


# Each case: a malformed TIFF structure, and the orientation readable from what is left of
# IFD0 (1 when IFD0 cannot be found at all, as a browser would show the image).
MALFORMED_EXIF = {
    # IFD0's next pointer (IFD1) points back at IFD0.
    "IFD loop": (b.tiff_header() + b.ifd_bytes([ORIENTATION_ENTRY], next_offset=8), 6),
    # The Exif pointer points at IFD0 itself.
    "Exif IFD is IFD0": (b.tiff_header() + b.ifd_bytes([ORIENTATION_ENTRY, (0x8769, 4, 1, struct.pack(">I", 8))]), 6),
    # GPS and Exif pointers share an IFD.
    "shared sub-IFD": (
        b.tiff_header()
        + b.ifd_bytes([ORIENTATION_ENTRY, (0x8769, 4, 1, struct.pack(">I", 50)), (0x8825, 4, 1, struct.pack(">I", 50))])
        + b.ifd_bytes([]),
        6,
    ),
    # An Exif pointer that is text, not an offset.
    "Exif pointer not an offset": (b.tiff_header() + b.ifd_bytes([ORIENTATION_ENTRY, (0x8769, 2, 4, b"abc\x00")]), 6),
    # 4 billion SHORTs: piexif would build a 4-billion-character struct format.
    "huge value count": (b.tiff_header() + b.ifd_bytes([(0x0102, 3, 0xFFFFFFFF, struct.pack(">I", 26)), ORIENTATION_ENTRY]), 6),
    "value past the end": (b.tiff_header() + b.ifd_bytes([(0x010F, 2, 100, struct.pack(">I", 20)), ORIENTATION_ENTRY]), 6),
    "entry table past the end": (b.tiff_header() + struct.pack(">H", 60000) + b.ifd_bytes([ORIENTATION_ENTRY])[2:] + bytes(10), 6),
    "IFD offset past the end": (b.tiff_header(first_ifd=10_000) + b.ifd_bytes([ORIENTATION_ENTRY]), 1),
    "IFD offset inside the header": (b.tiff_header(first_ifd=2) + b.ifd_bytes([ORIENTATION_ENTRY]), 1),
    "no TIFF header": (b"XX\x00*" + bytes(30), 1),
    "header cut short": (b"MM\x00*\x00", 1),
    "GPS pointer past the end": (b.tiff_header() + b.ifd_bytes([ORIENTATION_ENTRY, (0x8825, 4, 1, struct.pack(">I", 0x7FFFFFFF))]), 6),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_EXIF))
def test_malformed_exif_is_removed_whole_and_the_image_served_in_bounded_memory(case):
    structure, orientation = MALFORMED_EXIF[case]
    original = _jpeg_with_exif(structure)
    with bounded_memory():
        result = metadata.clean(original)
        exif = metadata.read_exif(original, view="full")
    assert "exif" in result.removed
    assert exif_of(result.data) == expected_kept_exif(orientation, keep_copyright=False)
    assert b.metadata_problems(result.data) == []
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()
    assert exif.get("Image", {}).get("Orientation", 1) == orientation
    json.dumps(exif, allow_nan=False)


def test_well_formed_inline_exif_is_accepted():
    """The malformed cases above differ from this one only in what makes them malformed."""
    data = _jpeg_with_exif(b.tiff_header() + b.ifd_bytes([ORIENTATION_ENTRY]))
    assert exif_of(metadata.strip(data)) == {b.ORIENTATION_TAG: 6}
    assert metadata.read_exif(data) == {"Image": {"Orientation": 6}}


# ---------------------------------------------------------------- PNG

def _neutral_icc_name(chunk: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    """An iCCP chunk as the strip writes it: the same compressed profile, named "ICC profile"."""
    name, data = chunk
    if name != b"iCCP":
        return chunk
    return name, b"ICC profile" + data[data.index(b"\x00") :]


PNG_KEPT_CHUNKS = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"iCCP", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"acTL", b"fcTL", b"fdAT"})


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P"])
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_png_strip_removes_metadata_chunks_and_keeps_image_chunks(mode, orientation):
    original = b.png(orientation, mode=mode)
    result = metadata.clean(original)
    kept = [_neutral_icc_name(chunk) for chunk in b.png_chunks(original) if chunk[0] in PNG_KEPT_CHUNKS]
    output = b.png_chunks(result.data)
    assert [chunk for chunk in output if chunk[0] != b"eXIf"] == kept
    exif_chunks = [index for index, (name, _) in enumerate(output) if name == b"eXIf"]
    assert exif_chunks == ([] if orientation == 1 else [1])  # right after IHDR
    assert exif_of(result.data) == expected_kept_exif(orientation, keep_copyright=False)
    assert set(result.removed) == {"comment", "exif", "gps", "makernote", "other", "thumbnail", "xmp"}
    assert b.metadata_problems(result.data) == []
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()
    assert_same_display(original, result.data)


@pytest.mark.parametrize("icc", [True, False])
def test_png_icc_profile_is_kept_exactly_when_present(icc):
    stripped = metadata.strip(b.png(3, icc=icc))
    assert Image.open(io.BytesIO(stripped)).info.get("icc_profile") == (b.icc_profile() if icc else None)


def test_apng_keeps_every_frame_and_its_timing():
    original = b.png(6, animated=True)
    stripped = metadata.strip(original)
    assert b.frames(stripped) == b.frames(original)
    assert len(b.frames(stripped)) == 3
    assert b.metadata_problems(stripped) == []


def test_png_keep_copyright():
    stripped = metadata.strip(b.png(1), keep_copyright=True)
    assert exif_of(stripped) == expected_kept_exif(1, keep_copyright=True)


def test_png_text_bomb_is_dropped_without_being_inflated():
    bomb = zlib.compress(bytes(200 * 1024 * 1024), 9)  # 200 MB of zeros in about 200 KB
    original = b.png_insert_before_iend(b.png(exif=False, text=False, icc=False), b.png_chunk(b"zTXt", b"Comment\x00\x00" + bomb))
    with bounded_memory(limit=len(original) * 4 + HOSTILE_MEMORY_LIMIT):
        result = metadata.clean(original)
    assert result.removed == ("comment",)
    assert len(result.data) < 10_000


def _png_with_ihdr(width: int, height: int, methods: bytes | None = None, *, size: int = 13) -> bytes:
    """The builder's PNG without metadata (RGB, 8 bits), its IHDR declaring width x height and, when
    given, other bit depth, colour type, compression, filter and interlace bytes; cut or padded to `size`."""
    original = b.png(exif=False, text=False, icc=False)
    ihdr = struct.pack(">II", width, height) + (original[24:29] if methods is None else methods)
    return original[:8] + b.png_chunk(b"IHDR", (ihdr + bytes(size))[:size]) + original[33:]


def _png_with_second_ihdr(data: bytes) -> bytes:
    return data[:33] + data[8:33] + data[33:]


PNG_HOSTILE = {
    "absurd dimensions": lambda data: _png_with_ihdr(100_000, 100_000),
    "zero width": lambda data: _png_with_ihdr(0, 10),
    "zero height": lambda data: _png_with_ihdr(10, 0),
    "width over 2^31 - 1": lambda data: _png_with_ihdr(2**31, 1),
    "height over 2^31 - 1": lambda data: _png_with_ihdr(1, 2**31),
    "width of 2^31 - 1": lambda data: _png_with_ihdr(2**31 - 1, 1),
    "height of 2^31 - 1": lambda data: _png_with_ihdr(1, 2**31 - 1),
    "one pixel over the limit": lambda data: _png_with_ihdr(MAX_PIXELS + 1, 1),
    "IHDR of 12 bytes": lambda data: _png_with_ihdr(40, 24, size=12),
    "IHDR of 14 bytes": lambda data: _png_with_ihdr(40, 24, size=14),
    "second IHDR": _png_with_second_ihdr,
    "RGB of 4 bits": lambda data: _png_with_ihdr(40, 24, bytes((4, 2, 0, 0, 0))),
    "colour type 5": lambda data: _png_with_ihdr(40, 24, bytes((8, 5, 0, 0, 0))),
    "compression method 1": lambda data: _png_with_ihdr(40, 24, bytes((8, 2, 1, 0, 0))),
    "filter method 1": lambda data: _png_with_ihdr(40, 24, bytes((8, 2, 0, 1, 0))),
    "interlace method 2": lambda data: _png_with_ihdr(40, 24, bytes((8, 2, 0, 0, 2))),
    "palette image without PLTE": lambda data: _png_with_ihdr(40, 24, bytes((8, 3, 0, 0, 0))),
    "bad CRC": lambda data: data[:29] + bytes([data[29] ^ 1]) + data[30:],
    "chunk length past the end": lambda data: data[:33] + struct.pack(">I", 0x7FFFFFF0) + data[37:],
    "no IDAT": lambda data: data[:33] + data[-12:],
    "unknown critical chunk": lambda data: data[:33] + b.png_chunk(b"CgBI", b"\x00" * 4) + data[33:],
    "invalid chunk type": lambda data: data[:33] + b.png_chunk(b"t3Xt", b"x") + data[33:],
    "not IHDR first": lambda data: data[:8] + b.png_chunk(b"tEXt", b"a\x00b") + data[8:],
}

INVALID_IHDR = "PNG: IHDR at offset 8 has an invalid bit depth, colour type or method"
PNG_REASONS = {
    "absurd dimensions": "PNG: IHDR at offset 8 declares 100000x100000 pixels, over the limit of 250000000",
    "zero width": "PNG: IHDR at offset 8 declares 0x10 pixels",
    "zero height": "PNG: IHDR at offset 8 declares 10x0 pixels",
    "width over 2^31 - 1": "PNG: IHDR at offset 8 declares 2147483648x1 pixels",
    "height over 2^31 - 1": "PNG: IHDR at offset 8 declares 1x2147483648 pixels",
    "width of 2^31 - 1": "PNG: IHDR at offset 8 declares 2147483647x1 pixels, over the limit of 250000000",
    "height of 2^31 - 1": "PNG: IHDR at offset 8 declares 1x2147483647 pixels, over the limit of 250000000",
    "one pixel over the limit": "PNG: IHDR at offset 8 declares 250000001x1 pixels, over the limit of 250000000",
    "IHDR of 12 bytes": "PNG: IHDR chunk at offset 8 is 12 bytes, expected 13",
    "IHDR of 14 bytes": "PNG: IHDR chunk at offset 8 is 14 bytes, expected 13",
    "second IHDR": "PNG: second IHDR chunk at offset 33",
    "RGB of 4 bits": INVALID_IHDR,
    "colour type 5": INVALID_IHDR,
    "compression method 1": INVALID_IHDR,
    "filter method 1": INVALID_IHDR,
    "interlace method 2": INVALID_IHDR,
    "palette image without PLTE": "PNG: IDAT at offset 33 before the PLTE a palette image needs",
    "bad CRC": "PNG: IHDR chunk at offset 8 fails its CRC check",
    # A chunk running past the end of the file is a file cut short: served from its image data on, but this
    # one cuts it before any IDAT.
    "chunk length past the end": "PNG: the file ends before any IDAT",
    "no IDAT": "PNG: IEND at offset 33 before any IDAT",
    "unknown critical chunk": "PNG: unknown critical chunk CgBI at offset 33",
    "invalid chunk type": "PNG: chunk at offset 33 has an invalid type b't3Xt'",
    "not IHDR first": "PNG: first chunk at offset 8 is tEXt, not IHDR",
}


@pytest.mark.parametrize("case", sorted(PNG_HOSTILE))
def test_png_malformed_structure_is_refused(case):
    assert_refused(PNG_HOSTILE[case](b.png(6)), reason=f"^{re.escape(PNG_REASONS[case])}$")


# Headers at the edges of what IHDR may declare: (width, height, bit depth, colour type, interlace).
PNG_EDGE_HEADERS = {
    "one pixel": (1, 1, 8, 2, 0),
    "the pixel limit": (MAX_PIXELS, 1, 8, 2, 0),
    "interlaced": (40, 24, 8, 2, 1),
    "grey of 1 bit": (40, 24, 1, 0, 0),
    "grey of 16 bits": (40, 24, 16, 0, 0),
    "RGB of 16 bits": (40, 24, 16, 2, 0),
    "grey and alpha of 8 bits": (40, 24, 8, 4, 0),
    "RGBA of 16 bits": (40, 24, 16, 6, 0),
}


@pytest.mark.parametrize("case", sorted(PNG_EDGE_HEADERS))
def test_png_header_at_the_edges_of_what_ihdr_may_declare_is_served_unchanged(case):
    """The image data is not inflated when every CRC holds, so the builder's IDAT does for any header."""
    width, height, depth, colour, interlace = PNG_EDGE_HEADERS[case]
    original = _png_with_ihdr(width, height, bytes((depth, colour, 0, 0, interlace)))
    assert metadata.strip(original) == original


def _png_with_palette_of(size: int) -> bytes:
    """A palette PNG without metadata whose PLTE chunk (right after IHDR) is `size` bytes: its
    own palette, cut or padded with black entries."""
    original = b.png(mode="P", exif=False, text=False, icc=False)
    chunks = b.png_chunks(original)
    assert [name for name, _ in chunks[:2]] == [b"IHDR", b"PLTE"]
    palette = (chunks[1][1] + bytes(3 * 256))[:size]
    return original[:33] + b.png_chunk(b"PLTE", palette) + b"".join(b.png_chunk(*chunk) for chunk in chunks[2:])


@pytest.mark.parametrize("size", [3, 3 * 256])
def test_png_palette_of_1_to_256_entries_is_kept(size):
    original = _png_with_palette_of(size)
    assert metadata.strip(original) == original


@pytest.mark.parametrize("size", [0, 4, 3 * 256 - 1, 3 * 256 + 3])
def test_png_palette_not_of_1_to_256_whole_entries_is_refused(size):
    assert_refused(_png_with_palette_of(size), reason=f"^{re.escape(f'PNG: PLTE chunk at offset 33 is {size} bytes')}$")


# ---------------------------------------------------------------- WebP

VP8X_ICC, VP8X_ALPHA, VP8X_EXIF, VP8X_XMP, VP8X_ANIMATION = 0x20, 0x10, 0x08, 0x04, 0x02
WEBP_VARIANTS = {
    "lossy": {},
    "lossless-alpha": {"lossless": True, "mode": "RGBA"},
    "animated": {"animated": True},
}


@pytest.mark.parametrize("variant", sorted(WEBP_VARIANTS))
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_webp_strip_removes_exif_and_xmp_chunks(variant, orientation):
    original = b.webp(orientation, **WEBP_VARIANTS[variant])
    result = metadata.clean(original)
    before, after = b.riff_chunks(original), b.riff_chunks(result.data)
    image_chunks = [chunk for chunk in before if chunk[0] in (b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L")]
    assert [chunk for chunk in after if chunk[0] not in (b"VP8X", b"EXIF")] == image_chunks
    assert after[0][0] == b"VP8X"
    flags = after[0][1][0]
    assert flags & (VP8X_ICC | VP8X_ALPHA | VP8X_ANIMATION) == before[0][1][0] & (VP8X_ICC | VP8X_ALPHA | VP8X_ANIMATION)
    assert not flags & VP8X_XMP
    assert bool(flags & VP8X_EXIF) == (orientation != 1) == any(name == b"EXIF" for name, _ in after)
    assert after[0][1][4:] == before[0][1][4:]  # canvas size
    assert int.from_bytes(result.data[4:8], "little") == len(result.data) - 8
    assert set(result.removed) == {"exif", "gps", "makernote", "thumbnail", "xmp"}
    assert exif_of(result.data) == expected_kept_exif(orientation, keep_copyright=False)
    assert b.metadata_problems(result.data) == []
    assert b.frames(result.data) == b.frames(original)
    assert_same_display(original, result.data)


@pytest.mark.parametrize("icc", [True, False])
def test_webp_icc_profile_is_kept_exactly_when_present(icc):
    stripped = metadata.strip(b.webp(6, icc=icc))
    assert Image.open(io.BytesIO(stripped)).info.get("icc_profile") == (b.icc_profile() if icc else None)
    assert bool(b.riff_chunks(stripped)[0][1][0] & VP8X_ICC) == icc


def test_webp_keep_copyright():
    stripped = metadata.strip(b.webp(5), keep_copyright=True)
    assert exif_of(stripped) == expected_kept_exif(5, keep_copyright=True)


@pytest.mark.parametrize("lossless", [False, True])
def test_webp_without_metadata_comes_back_unchanged(lossless):
    original = b.webp_simple(lossless)
    assert metadata.clean(original) == (original, "webp", "image/webp", (), ())


@pytest.mark.parametrize("lossless", [False, True])
def test_simple_webp_with_a_stray_exif_chunk_becomes_extended_to_keep_orientation(lossless):
    simple = b.webp_simple(lossless)
    original = b.riff_file([*(b.riff_chunk(*chunk) for chunk in b.riff_chunks(simple)), b.riff_chunk(b"EXIF", b.tiff_structure(b.exif_block(6)))])
    stripped = metadata.strip(original)
    chunks = b.riff_chunks(stripped)
    assert [name for name, _ in chunks] == [b"VP8X", b.riff_chunks(simple)[0][0], b"EXIF"]
    width, height = Image.open(io.BytesIO(simple)).size
    assert chunks[0][1][4:] == (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    assert exif_of(stripped) == {b.ORIENTATION_TAG: 6}
    assert b.decoded(stripped).tobytes() == b.decoded(simple).tobytes()


# The refusal of each hostile file, given the valid file it was made from.
WEBP_REASONS = {
    "absurd canvas": lambda data: "WebP: VP8X canvas at offset 12 declares 16777216x16777216 pixels, over the limit of 250000000",
    "RIFF size past the end": lambda data: f"WebP: RIFF size {len(data) + 100} at offset 4 does not fit the {len(data)} bytes of data",
    "odd RIFF size": lambda data: f"WebP: RIFF size {len(data) - 9} at offset 4 does not fit the {len(data)} bytes of data",
    "chunk size past the end": lambda data: f"WebP: b'VP8X' chunk starting at offset 12 needs 4294967040 bytes but {len(data) - 20} are left at offset 20",
    "no image chunk": lambda data: "WebP: a still image needs a VP8 or VP8L chunk and no ANMF frames",
    "unknown chunk inside a frame": lambda data: f"WebP: ANMF frame at offset {WEBP_HOSTILE['unknown chunk inside a frame'](data).index(b'ANMF')} holds a b'XMP ' chunk",
    "first chunk not an image header": lambda data: "WebP: first chunk at offset 12 is b'EXIF', not VP8X, VP8 or VP8L",
    "broken VP8 header": lambda data: "WebP: VP8 chunk at offset 12 has no key frame header",
}


@pytest.mark.parametrize("case", sorted(WEBP_HOSTILE))
def test_webp_malformed_structure_is_refused(case):
    data = b.webp(6)
    assert_refused(WEBP_HOSTILE[case](data), reason=f"^{re.escape(WEBP_REASONS[case](data))}$")


# ---------------------------------------------------------------- GIF


@pytest.mark.parametrize("animated", [False, True])
def test_gif_strip_removes_comment_and_extensions_and_keeps_frames(animated):
    original = b.gif(animated=animated)
    result = metadata.clean(original)
    assert set(result.removed) == {"comment", "photoshop", "trailer", "xmp"}
    assert b.metadata_problems(result.data) == []
    assert b.frames(result.data) == b.frames(original)
    if animated:
        image = Image.open(io.BytesIO(result.data))
        assert image.n_frames == 3 and image.info["loop"] == 0
        assert [f[1]["duration"] for f in b.frames(result.data)] == [100, 200, 300]
        assert [f[1]["disposal"] for f in b.frames(result.data)] == [1, 2, 1]
    # Only extension blocks and the trailer went: the image blocks are the input's bytes.
    without_extensions = b.gif(animated=animated, comment=False, extensions=False)
    assert result.data[6:] == without_extensions[6:]  # Pillow writes GIF87a when it has no extension


def test_gif_unknown_extension_label_is_dropped():
    original = b.gif(extensions=False, comment=False)
    injected = original[:-1] + b"\x21\x77" + b.gif_sub_blocks(b.SECRET) + b"\x3b"
    result = metadata.clean(injected)
    assert result.removed == ("other",)
    assert result.data == original


def _first_image_data_end(data: bytes) -> int:
    """Offset of the 00 that ends the first image's data sub-blocks (test-side walk)."""
    position = data.index(b"\x2c", 13 + 3 * 256)  # the builder's GIFs have a 256-colour table
    position += 10 + 1  # image descriptor, LZW minimum code size
    while data[position]:
        position += 1 + data[position]
    return position


def test_gif_frame_data_running_on_past_the_image_end_is_refused():
    """A damaged size byte can pull the next block into a frame: the LZW end gives it away."""
    original = b.gif(comment=False, extensions=False)
    end = _first_image_data_end(original)
    swallowed = b"\x21\xfe" + b.gif_sub_blocks(b"comment " + b.SECRET)
    hostile = original[:end] + bytes((len(swallowed),)) + swallowed + original[end:]
    assert_refused(hostile, reason="after its end")


def test_gif_end_of_information_code_in_a_sub_block_of_its_own_is_accepted():
    original = b.gif(comment=False, extensions=False)
    end = _first_image_data_end(original)
    padded = original[:end] + b"\x01\x00" + original[end:]  # one stray byte after the end: tolerated
    assert b.frames(metadata.strip(padded)) == b.frames(original)


GIF_HOSTILE = {
    "absurd screen": lambda data: data[:6] + struct.pack("<HH", 65535, 65535) + data[10:],
    "sub-block past the end": lambda data: data[:-1] + b"\x21\xfe\xff" + b"short",
    "no trailer": lambda data: data[: data.rindex(b"\x3b")],
    "unknown block": lambda data: data[:-1] + b"\x99\x3b",
    "no image": lambda data: data[: 13 + 3 * 256] + b"\x3b",
    "bad graphic control": lambda data: data[:-1] + b"\x21\xf9\x02ab\x00" + b"\x3b",
}


# The refusal of each hostile file, given the valid file it was made from.
GIF_REASONS = {
    "absurd screen": lambda data: "GIF: logical screen declares 65535x65535 pixels, over the limit of 250000000",
    "sub-block past the end": lambda data: (
        f"GIF: sub-block in the extension at offset {len(data) - 1} needs 255 bytes but 5 are left at offset {len(data) + 2}"
    ),
    "no trailer": lambda data: f"GIF: block introducer needs 1 bytes but 0 are left at offset {data.rindex(b';')}",
    "unknown block": lambda data: f"GIF: unknown block introducer 0x99 at offset {len(data) - 1}",
    "no image": lambda data: f"GIF: trailer at offset {13 + 3 * 256} before any image",
    "bad graphic control": lambda data: f"GIF: graphic control extension at offset {len(data) - 1} has sub-blocks of [2] bytes",
}


@pytest.mark.parametrize("case", sorted(GIF_HOSTILE))
def test_gif_malformed_structure_is_refused(case):
    original = b.gif(comment=False, extensions=False)
    assert original[10] & 0x80 and original[10] & 0x07 == 7, "the builder's GIF has a 256-colour global table"
    assert_refused(GIF_HOSTILE[case](original), reason=f"^{re.escape(GIF_REASONS[case](original))}$")


# ---------------------------------------------------------------- TIFF

TIFF_MODES = ["RGB", "RGBA", "L", "CMYK", "1", "P", "I;16", "F"]


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_tiff_strip_removes_metadata_and_applies_orientation_to_the_pixels(orientation):
    original = b.tiff(orientation)
    result = metadata.clean(original)
    assert set(result.removed) == {"comment", "exif", "gps", "iptc", "makernote", "photoshop", "xmp"}
    assert b.metadata_problems(result.data) == []
    assert b.ORIENTATION_TAG not in exif_of(result.data)
    assert Image.open(io.BytesIO(result.data)).info.get("icc_profile") == b.icc_profile()
    assert_same_display(original, result.data)


@pytest.mark.parametrize("mode", TIFF_MODES)
def test_tiff_resave_is_lossless_for_each_mode(mode):
    original = b.tiff(6, mode=mode, exif=False, icc=False)
    stripped = metadata.strip(original)
    before, after = b.decoded(original), b.decoded(stripped)
    assert (after.mode, after.size) == (before.mode, before.size)
    assert after.tobytes() == before.tobytes()
    assert b.metadata_problems(stripped) == []


@pytest.mark.parametrize("compression", ["tiff_lzw", "tiff_adobe_deflate", "packbits", "jpeg"])
def test_tiff_compression_is_kept_when_lossless(compression):
    original = b.tiff(3, compression=compression, icc=False)
    stripped = metadata.strip(original)
    expected = "tiff_adobe_deflate" if compression == "jpeg" else compression
    assert Image.open(io.BytesIO(stripped)).info["compression"] == expected
    assert b.decoded(stripped).tobytes() == b.decoded(original).tobytes()
    assert b.metadata_problems(stripped) == []


def test_tiff_keeps_every_page_and_drops_reduced_resolution_previews():
    original = b.tiff(6, pages=3, reduced_page=True)
    assert Image.open(io.BytesIO(original)).n_frames == 4
    result = metadata.clean(original)
    assert "thumbnail" in result.removed
    assert len(b.frames(result.data)) == 3
    assert b.frames(result.data) == b.frames(original)[:3]
    assert b.metadata_problems(result.data) == []


@pytest.mark.parametrize("keep_copyright", [False, True])
def test_tiff_keep_copyright(keep_copyright):
    stripped = metadata.strip(b.tiff(6), keep_copyright=keep_copyright)
    tags = exif_of(stripped)
    assert {tag: tags[tag] for tag in (b.COPYRIGHT_TAG, b.ARTIST_TAG) if tag in tags} == {
        tag: value for tag, value in expected_kept_exif(None, keep_copyright).items()
    }


def test_tiff_icc_tag_that_is_not_a_profile_is_dropped():
    buffer = io.BytesIO()
    b.pattern().save(buffer, "TIFF", tiffinfo={34675: b"serial " + b.SECRET + bytes(200)})
    result = metadata.clean(buffer.getvalue())
    assert "other" in result.removed
    assert b.SECRET not in result.data
    assert "icc_profile" not in b.decoded(result.data).info
    assert b.decoded(result.data).tobytes() == b.pattern().tobytes()


def _profile(space: str) -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile(space)).tobytes()


@pytest.mark.parametrize(
    ("profiles", "kept"),
    [((_profile("sRGB"), _profile("sRGB")), _profile("sRGB")), ((_profile("sRGB"), _profile("XYZ")), None)],
    ids=["same-on-every-page", "one-per-page"],
)
def test_tiff_icc_profile_is_kept_only_when_every_page_has_the_same(profiles, kept):
    pages = [t.grey(4, 3, tags={t.ICC_PROFILE: (t.UNDEFINED, profile)}) for profile in profiles]
    original = t.tiff_file(*pages)
    assert [Image.open(io.BytesIO(original)).info["icc_profile"], _second_page_info(original)["icc_profile"]] == list(profiles)
    result = metadata.clean(original)
    assert b.decoded(result.data).info.get("icc_profile") == kept
    assert result.removed == (() if kept else ("other",))


def _second_page_info(data: bytes) -> dict:
    image = Image.open(io.BytesIO(data))
    image.seek(1)
    return image.info


@pytest.mark.parametrize(
    ("mode", "source", "written"),
    [
        ("1", "group4", "group4"),
        ("1", "group3", "group3"),
        ("1", "tiff_ccitt", "tiff_ccitt"),
        ("1", "raw", "raw"),
        ("1", "zstd", "tiff_adobe_deflate"),  # kept only when lossless or bilevel: zstd is written as Deflate
        ("L", "zstd", "tiff_adobe_deflate"),
    ],
)
def test_tiff_bilevel_compressions_are_kept_for_bilevel_pages(mode, source, written):
    buffer = io.BytesIO()
    Image.new(mode, (16, 4)).save(buffer, "TIFF", compression=source)
    assert Image.open(io.BytesIO(buffer.getvalue())).info["compression"] == source
    stripped = metadata.strip(buffer.getvalue())
    assert Image.open(io.BytesIO(stripped)).info["compression"] == written
    assert b.decoded(stripped).tobytes() == Image.new(mode, (16, 4)).tobytes()


@pytest.mark.parametrize(
    ("tag", "kind", "value", "removed"),
    [
        (270, t.ASCII, b"caption\x00", "comment"),  # ImageDescription
        (271, t.ASCII, b"Maker\x00", "exif"),  # Make: a tag of piexif's Image table
        (700, t.BYTE, b"<x:xmpmeta/>", "xmp"),
        (0x9C9B, t.BYTE, b"T\x00\x00\x00", "comment"),  # XPTitle
        (0xC000, t.SHORT, [7], "other"),  # a private tag no table names
    ],
)
def test_tiff_dropped_tags_are_reported_by_kind(tag, kind, value, removed):
    result = metadata.clean(t.tiff_file(t.grey(4, 3, tags={tag: (kind, value)})))
    assert result.removed == (removed,)
    assert tag not in Image.open(io.BytesIO(result.data)).tag_v2


def test_tiff_makernote_is_reported_from_an_exif_ifd_read_leniently():
    """The Exif IFD's first entry points past the end of the file; its MakerNote is still found, for the log."""
    def page(exif_at: int) -> t.Page:
        return t.grey(4, 3, tags={t.EXIF_IFD: (t.LONG, [exif_at])})

    at = len(t.tiff_file(page(0)))
    exif_ifd = struct.pack("<H", 2)
    exif_ifd += struct.pack("<HHII", 0x829A, t.RATIONAL, 1, 100_000)  # ExposureTime, past the end
    exif_ifd += struct.pack("<HHI", 0x927C, t.UNDEFINED, 4) + b"NOTE"  # MakerNote
    original = t.tiff_file(page(at)) + exif_ifd + struct.pack("<I", 0)
    result = metadata.clean(original)
    assert set(result.removed) == {"exif", "makernote"}
    assert b.decoded(result.data).tobytes() == bytes(range(12))


def test_tiff_kept_copyright_and_artist_lose_only_their_trailing_nuls():
    notices = {t.COPYRIGHT: b"(c) Studio X\x00\x00", t.ARTIST: b"X Ann\x00"}  # an X at either end stays
    original = t.tiff_file(t.grey(4, 3, tags={tag: (t.ASCII, text) for tag, text in notices.items()}))
    tags = Image.open(io.BytesIO(metadata.strip(original, keep_copyright=True))).tag_v2
    assert (tags[t.COPYRIGHT], tags[t.ARTIST]) == ("(c) Studio X", "X Ann")


@pytest.mark.parametrize(
    ("subfile", "reduced"),
    [({t.NEW_SUBFILE_TYPE: (t.LONG, [1])}, True), ({t.SUBFILE_TYPE: (t.SHORT, [2])}, True), ({t.SUBFILE_TYPE: (t.SHORT, [3])}, False), ({t.NEW_SUBFILE_TYPE: (t.LONG, [2])}, False)],
    ids=["NewSubfileType-reduced", "SubfileType-reduced", "SubfileType-page", "NewSubfileType-page"],
)
def test_tiff_reduced_resolution_pages_are_dropped_whichever_tag_says_so(subfile, reduced):
    original = t.tiff_file(t.grey(4, 3), t.grey(2, 2, tags=subfile))
    result = metadata.clean(original)
    assert len(b.frames(result.data)) == (1 if reduced else 2)
    assert result.removed == (("thumbnail",) if reduced else ())


def test_tiff_whose_every_page_is_reduced_is_refused():
    original = t.tiff_file(t.grey(2, 2, tags={t.SUBFILE_TYPE: (t.SHORT, [2])}))
    with pytest.raises(ImageError, match="^TIFF: every page is a reduced-resolution copy$"):
        metadata.strip(original)


def test_tiff_that_would_lose_bits_per_sample_is_refused():
    """Pillow reads 16-bit RGB as 8-bit RGB: re-saving it would not be lossless."""
    rgb16 = dict(t.grey(2, 2, bytes(24)).tags) | {
        t.BITS_PER_SAMPLE: (t.SHORT, [16, 16, 16]), t.PHOTOMETRIC: (t.SHORT, [2]), t.SAMPLES_PER_PIXEL: (t.SHORT, [3])
    }
    original = t.tiff_file(t.Page(rgb16, [bytes(range(24))]))
    assert b.decoded(original).mode == "RGB"
    with pytest.raises(ImageError, match="^TIFF: re-saving page 0 would lose bits per sample$"):
        metadata.strip(original)


def test_tiff_whose_page_chain_pillow_reads_otherwise_is_refused(monkeypatch):
    """Pillow counts the pages itself; should it see another number than the chain the checks walked, the
    checks did not see what would be decoded."""
    walked = tiff_format._page_chain
    monkeypatch.setattr(tiff_format, "_page_chain", lambda reader: walked(reader) * 2)
    with pytest.raises(ImageError, match=r"^TIFF: Pillow sees 1 pages, the IFD chain has 2$"):
        metadata.strip(t.tiff_file(t.grey(4, 3)))


@pytest.mark.parametrize(
    ("output", "kept", "allowed", "bits", "reason"),
    [
        (t.tiff_file(t.grey(4, 3, tags={270: (t.ASCII, b"x\x00"), 271: (t.ASCII, b"y\x00")})), 1, tiff_format.STRUCTURE_TAGS, 8,
         "TIFF: the re-saved page 0 still carries tags [270, 271]"),
        (t.tiff_file(t.grey(4, 3), t.grey(4, 3)), 1, tiff_format.STRUCTURE_TAGS, 8, "TIFF: the re-saved file has 2 pages instead of 1"),
        (t.tiff_file(t.grey(4, 3)), 1, tiff_format.STRUCTURE_TAGS, 16, "TIFF: re-saving page 0 would lose bits per sample"),
        (t.tiff_file(t.grey(4, 3, tags={t.BITS_PER_SAMPLE: None})), 1, tiff_format.STRUCTURE_TAGS, 2,
         "TIFF: re-saving page 0 would lose bits per sample"),  # no BitsPerSample: one bit
        (b"not a TIFF file", 1, tiff_format.STRUCTURE_TAGS, 8, "TIFF output: no TIFF header (II*\\0 or MM\\0*) at offset 0"),
    ],
    ids=["extra-tags", "extra-page", "fewer-bits", "one-bit-by-default", "not-a-tiff"],
)
def test_tiff_output_check_refuses_what_should_not_be_served(output, kept, allowed, bits, reason):
    """The last check, on what Pillow wrote (which never carries these here, so they are made by hand)."""
    with pytest.raises(ImageError, match=f"^{re.escape(reason)}$"):
        tiff_format._verify_output(output, kept, set(allowed), bits)


def test_tiff_that_pillow_cannot_read_as_tiff_is_not_read_as_another_format():
    """3-bit greyscale is a mode Pillow's TIFF reader lacks; "PCD_" at offset 2048 is all its Photo CD reader
    asks. The file is refused as a TIFF Pillow cannot read, never decoded as a Photo CD image."""
    page = t.tiff_file(t.grey(4, 3, bytes(12), tags={t.BITS_PER_SAMPLE: (t.SHORT, [3])}))
    original = page + bytes(2048 - len(page)) + b"PCD_" + bytes(2048)
    assert Image.open(io.BytesIO(original)).format == "PCD"
    with pytest.raises(ImageError, match="^TIFF: Pillow cannot decode the image: UnidentifiedImageError: "):
        metadata.strip(original)


def test_tiff_that_pillow_reads_but_cannot_write_is_refused():
    """Grey with associated (premultiplied) alpha: ExtraSamples 1. Pillow reads it as mode La, and writes no La."""
    tags = {t.BITS_PER_SAMPLE: (t.SHORT, [8, 8]), t.SAMPLES_PER_PIXEL: (t.SHORT, [2]), 338: (t.SHORT, [1])}
    original = t.tiff_file(t.grey(2, 2, bytes(range(8)), tags=tags))
    assert b.decoded(original).mode == "La"
    with pytest.raises(ImageError, match=r"^TIFF: Pillow cannot write the La image losslessly: cannot write mode La as TIFF$"):
        metadata.strip(original)


def test_tiff_output_check_accepts_the_kept_pages_and_tags():
    output = t.tiff_file(t.grey(4, 3, tags={t.COPYRIGHT: (t.ASCII, b"c\x00")}), t.grey(4, 3))
    assert tiff_format._verify_output(output, 2, set(tiff_format.STRUCTURE_TAGS) | {t.COPYRIGHT}, 8) is None


@pytest.mark.parametrize("builder", [lambda: b.png(exif=False), lambda: b.webp_simple()])
def test_bytes_after_the_end_of_the_image_are_dropped(builder):
    original = builder()
    result = metadata.clean(original + b"appended " + b.SECRET)
    assert "trailer" in result.removed
    assert b.SECRET not in result.data
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()


def _tiff_ifd0(data: bytes) -> int:
    return struct.unpack_from("<I", data, 4)[0]


def _tiff_set_entry(data: bytes, tag: int, value: int) -> bytes:
    """Sets the 4-byte value of an IFD0 entry in a little-endian TIFF."""
    ifd = _tiff_ifd0(data)
    count = struct.unpack_from("<H", data, ifd)[0]
    for index in range(count):
        position = ifd + 2 + 12 * index
        if struct.unpack_from("<H", data, position)[0] == tag:
            out = bytearray(data)
            struct.pack_into("<HI", out, position + 2, 4, 1)
            struct.pack_into("<I", out, position + 8, value)
            return bytes(out)
    raise AssertionError(f"no tag {tag}")


def _tiff_loop(data: bytes) -> bytes:
    ifd = _tiff_ifd0(data)
    count = struct.unpack_from("<H", data, ifd)[0]
    out = bytearray(data)
    struct.pack_into("<I", out, ifd + 2 + 12 * count, ifd)
    return bytes(out)


TIFF_HOSTILE = {
    "page chain loop": _tiff_loop,
    "absurd dimensions": lambda data: _tiff_set_entry(_tiff_set_entry(data, 256, 100_000), 257, 100_000),
    "strip past the end": lambda data: _tiff_set_entry(data, 273, len(data) + 10),
    "no width": lambda data: _tiff_set_entry(data, 256, 0),
    "IFD0 past the end": lambda data: data[:4] + struct.pack("<I", len(data) + 8) + data[8:],
}


TIFF_REASONS = {
    "page chain loop": "^TIFF: page 1 IFD at offset \\d+ was already read \\(IFD loop\\)$",
    "absurd dimensions": "100000x100000 pixels, over the limit",
    "strip past the end": "running past the end of the data",
    "no width": "no valid width and height",
    "IFD0 past the end": "^TIFF: page 0 IFD offset \\d+ is outside the data",
}


def test_tiff_exif_ifd_past_the_end_is_dropped_and_the_image_served():
    original = b.tiff(6, icc=False)
    damaged = _tiff_set_entry(original, 0x8769, len(original) + 100)
    result = metadata.clean(damaged)
    assert "exif" in result.removed
    assert b.metadata_problems(result.data) == []
    assert_same_display(original, result.data)


def test_tiff_corrupt_compressed_strip_is_refused():
    original = b.tiff(6, compression="tiff_lzw", icc=False)
    with Image.open(io.BytesIO(original)) as image:
        offset, size = image.tag_v2[273][0], image.tag_v2[279][0]
    corrupt = original[:offset] + b"\xff" * size + original[offset + size :]
    with pytest.raises(ImageError, match="^TIFF: Pillow cannot decode the image: OSError: "):
        metadata.strip(corrupt)


@pytest.mark.parametrize("case", sorted(TIFF_HOSTILE))
def test_tiff_malformed_structure_is_refused(case):
    original = b.tiff(6, icc=False)
    assert original[:2] == b"II"
    hostile = TIFF_HOSTILE[case](original)
    with bounded_memory():
        with pytest.raises(ImageError, match=TIFF_REASONS[case]):
            metadata.strip(hostile)


# ---------------------------------------------------------------- idempotence

IDEMPOTENCE_CASES = {
    "jpeg": lambda: b.jpeg(6),
    "jpeg-everything": lambda: b.jpeg_with_everything(),
    "jpeg-cmyk": lambda: b.jpeg(5, mode="CMYK"),
    "png": lambda: b.png(7),
    "apng": lambda: b.png(2, animated=True),
    "webp": lambda: b.webp(8),
    "webp-animated": lambda: b.webp(6, animated=True),
    "webp-simple": lambda: b.webp_simple(),
    "gif": lambda: b.gif(animated=True),
    "tiff": lambda: b.tiff(6),
    "tiff-pages": lambda: b.tiff(3, pages=2, reduced_page=True, compression="tiff_lzw"),
}


@pytest.mark.parametrize("keep_copyright", [False, True])
@pytest.mark.parametrize("case", sorted(IDEMPOTENCE_CASES))
def test_strip_is_idempotent_and_the_second_pass_removes_nothing(case, keep_copyright):
    once = metadata.strip(IDEMPOTENCE_CASES[case](), keep_copyright=keep_copyright)
    again = metadata.clean(once, keep_copyright=keep_copyright)
    assert again.data == once
    assert again.removed == ()


# ---------------------------------------------------------------- read_exif


def _expected_degrees(parts, negative: bool) -> float:
    value = sum(numerator / denominator / 60**index for index, (numerator, denominator) in enumerate(parts))
    return -value if negative else value


def test_read_exif_groups_names_and_types():
    data = b.jpeg(6)
    exif = metadata.read_exif(data, view="full")
    json.dumps(exif, allow_nan=False)
    assert sorted(exif) == ["Exif", "GPS", "Image", "Interop"]
    image, details, gps = exif["Image"], exif["Exif"], exif["GPS"]
    assert image["Make"] == "Camera " + b.SECRET.decode()  # ASCII without its trailing NUL
    assert image["Orientation"] == 6
    assert image["XResolution"] == 300.0
    assert image["Copyright"] == b.OWNER_COPYRIGHT.decode()
    assert details["ExposureTime"] == 1 / 250
    assert details["ExposureBiasValue"] == -1 / 3  # SRATIONAL
    assert details["SubjectDistance"] is None  # zero denominator
    assert details["ISOSpeedRatings"] == 400
    assert details["ExifVersion"] == "0232"
    assert details["UserComment"] == "comment " + b.SECRET.decode()  # without "ASCII\0\0\0"
    assert details["ComponentsConfiguration"] == [1, 2, 3, 0]
    assert details["SceneType"] == 1
    assert details["MakerNote"] == {"type": "UNDEFINED", "count": len(b.exif_dict()["Exif"][piexif.ExifIFD.MakerNote])}
    assert gps["GPSVersionID"] == [2, 2, 0, 0]
    assert gps["GPSLatitudeRef"] == "S"
    assert gps["GPSLatitude"] == [n / d for n, d in b.GPS_LATITUDE]
    assert gps["GPSProcessingMethod"] == "GPS " + b.SECRET.decode()
    assert gps["latitude"] == pytest.approx(_expected_degrees(b.GPS_LATITUDE, negative=True))
    assert gps["longitude"] == pytest.approx(_expected_degrees(b.GPS_LONGITUDE, negative=True))
    assert exif["Interop"] == {"InteroperabilityIndex": "R98"}
    for group in exif.values():
        assert not any(isinstance(value, bytes) for value in group.values())
        assert "JPEGInterchangeFormat" not in group and "thumbnail" not in group


def test_read_exif_matches_piexif_for_the_plain_values():
    """Cross-check against piexif.load on a well-formed block (piexif is safe on trusted input)."""
    data = b.jpeg(3)
    expected = piexif.load(data)
    exif = metadata.read_exif(data, view="full")
    pointers = {piexif.ImageIFD.ExifTag, piexif.ImageIFD.GPSTag, piexif.ExifIFD.InteroperabilityTag}
    for group, ifd in (("Image", "0th"), ("Exif", "Exif"), ("GPS", "GPS")):
        for tag, value in expected[ifd].items():
            name = piexif.TAGS[group][tag]["name"]
            if tag in pointers:
                assert name not in exif[group], f"{name} is an offset, not a value"
            elif isinstance(value, int):
                assert exif[group][name] == value, name
            elif isinstance(value, bytes) and piexif.TAGS[group][tag]["type"] == 2:
                assert exif[group][name] == value.decode(), name


@pytest.mark.parametrize("builder", [lambda: b.png(6), lambda: b.webp(6)])
def test_read_exif_is_the_same_whatever_the_container(builder):
    for view in metadata.EXIF_VIEWS:
        assert metadata.read_exif(builder(), view=view) == metadata.read_exif(b.jpeg(6), view=view)


def test_read_exif_of_a_tiff_reports_its_ifd0():
    exif = metadata.read_exif(b.tiff(6), view="full")
    assert exif["Image"]["ImageWidth"] == 40 and exif["Image"]["Make"] == "Camera " + b.SECRET.decode()
    assert "XMLPacket" not in exif["Image"]  # XMP is not EXIF
    assert exif["GPS"]["latitude"] == pytest.approx(_expected_degrees(b.GPS_LATITUDE, negative=True))
    json.dumps(exif, allow_nan=False)


def test_read_exif_unicode_user_comment_and_windows_xp_tags():
    comment = "Grüße " + b.SECRET.decode()
    exif = piexif.dump(
        {
            "0th": {piexif.ImageIFD.XPTitle: tuple(("Titel " + b.SECRET.decode()).encode("utf-16-le"))},
            "Exif": {piexif.ExifIFD.UserComment: b"UNICODE\x00" + comment.encode("utf-16-be")},
        }
    )
    buffer = io.BytesIO()
    b.pattern().save(buffer, "JPEG", exif=exif)
    result = metadata.read_exif(buffer.getvalue(), view="full")
    assert result["Exif"]["UserComment"] == comment
    assert result["Image"]["XPTitle"] == "Titel " + b.SECRET.decode()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(lambda: b.jpeg(exif=False), id="jpeg-xmp-only"),
        pytest.param(lambda: b.png(exif=False), id="png-text-only"),
        pytest.param(lambda: b.webp(exif=False), id="webp-xmp-only"),
        pytest.param(lambda: b.gif(), id="gif"),
    ],
)
def test_read_exif_without_exif_is_empty(data):
    assert metadata.read_exif(data()) == {}


def test_read_exif_omits_gps_decimal_degrees_without_a_hemisphere():
    exif = piexif.dump({"GPS": {piexif.GPSIFD.GPSLatitude: b.GPS_LATITUDE, piexif.GPSIFD.GPSLongitude: b.GPS_LONGITUDE}})
    buffer = io.BytesIO()
    b.pattern().save(buffer, "JPEG", exif=exif)
    gps = metadata.read_exif(buffer.getvalue(), view="full")["GPS"]
    assert "latitude" not in gps and "longitude" not in gps
    assert gps["GPSLatitude"][0] == 52.0


def test_read_exif_non_finite_floats_become_null():
    entries = [(0x0102, 11, 1, struct.pack(">f", math.inf)), ORIENTATION_ENTRY]  # BitsPerSample as FLOAT
    data = _jpeg_with_exif(b.tiff_header() + b.ifd_bytes(sorted(entries)))
    exif = metadata.read_exif(data, view="full")
    assert exif["Image"]["BitsPerSample"] is None
    json.dumps(exif, allow_nan=False)
