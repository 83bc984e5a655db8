"""JPEG gain maps (Ultra HDR, Apple, ISO 21496-1) survive with a rewritten MPF index, other
MPF images go, and a JPEG cut short in its scan data is served.

Every output is read back with the test-side walkers of image_builders/gain_map_builders
and with Pillow, never with the core's own parsers.
"""

from __future__ import annotations

import io
import re
import struct

import pytest
from PIL import Image, ImageFile

import gain_map_builders as g
import image_builders as b
import metadata
from metadata import ImageError
from metadata.formats import jpeg, mpf
from metadata.limits import MAX_GAIN_MAP_TRIES, MAX_MPF_IMAGES
from metadata_checks import assert_refused, bounded_memory, exif_of, expected_kept_exif
from operation_counts import count_calls

GAIN_MAP = "gain map"
DEPENDENT = 0xC0000000  # the dependent parent and child flags of an MP entry's attribute
PRIMARY_VERSION = {f"{{{g.HDRGM}}}Version": "1.0"}
# Offsets in the big-endian MPF payload g.mpf_payload writes (after "MPF\0"): TIFF header 4,
# IFD offset 8, tag count 12, NumberOfImages value 34, MPEntry count 42 and offset 46,
# entry 1 at 54 (size 58, offset 62), entry 2 at 70 (size 74, offset 78).
IFD_OFFSET, TAG_COUNT, IMAGE_COUNT, ENTRY_BYTES, ENTRY_OFFSET = 8, 12, 34, 42, 46
PRIMARY_OFFSET, GAIN_MAP_SIZE, GAIN_MAP_OFFSET = 62, 74, 78


class Case:
    def __init__(self, build, gain_map_entry: int, primary_xmp: bool, gain_map_xmp: dict[str, str]):
        self.build = build
        self.gain_map_entry = gain_map_entry  # its index in the input's MPF list
        self.primary_xmp = primary_xmp  # whether the output primary keeps an hdrgm packet
        self.gain_map_xmp = gain_map_xmp  # the gain map's rendering properties, as planted


ULTRA_HDR_PROPERTIES = {f"{{{g.HDRGM}}}{name}": value for name, value in g.GAIN_MAP_PARAMETERS.items()}
APPLE_PROPERTIES = {
    f"{{{g.APDI}}}AuxiliaryImageType": g.APPLE_AUX_TYPE,
    f"{{{g.APDI}}}StoredFormat": "1278226488",
    f"{{{g.APPLE_GAIN_MAP}}}HDRGainMapVersion": "131072",
    f"{{{g.APPLE_GAIN_MAP}}}HDRGainMapHeadroom": "2.569",
}
CASES = {
    "ultra hdr": Case(g.ultra_hdr, 1, True, ULTRA_HDR_PROPERTIES),
    "ultra hdr progressive": Case(lambda: g.ultra_hdr(progressive=True), 1, True, ULTRA_HDR_PROPERTIES),
    "ultra hdr without iso": Case(lambda: g.ultra_hdr(iso=False), 1, True, ULTRA_HDR_PROPERTIES),
    "iso 21496-1 only": Case(g.iso_only, 1, True, {}),
    "apple": Case(g.apple_hdr, 1, False, APPLE_PROPERTIES),
}


def _image_at(data: bytes, entry_index: int) -> bytes:
    tiff_at, entries = g.mpf_entries(data)
    entry = entries[entry_index]
    start = tiff_at + entry.offset
    return data[start : start + entry.size]


def _split(output: bytes) -> tuple[bytes, bytes]:
    """The output's primary and gain map, by its MPF index, checking the index on the way."""
    tiff_at, entries = g.mpf_entries(output)
    assert len(entries) == 2
    primary, gain_map = entries
    assert primary.offset == 0 and primary.size == g.primary_end(output)
    start = tiff_at + gain_map.offset
    assert start == g.primary_end(output), "the gain map follows the primary's EOI"
    assert output[start : start + 2] == b"\xff\xd8", "the MPF offset points at an SOI"
    assert start + gain_map.size == len(output), "the gain map's size runs to the end of the file"
    assert primary.attribute & 0xFFFFFF == g.TYPE_PRIMARY and gain_map.attribute & 0xFFFFFF == g.TYPE_UNDEFINED
    return output[:start], output[start:]


def _mpf_payload(data: bytes) -> bytes:
    (payload,) = [payload for marker, payload in g.segments(data) if marker == g.APP2 and payload.startswith(g.MPF_ID)]
    return payload


def _assert_index_is_exactly(original: bytes, output: bytes) -> None:
    """The output's index: the three tags, in the input's byte order, the primary's attribute
    and the gain map's with the dependent-image flags cleared, no attribute IFD."""
    order = "<" if _mpf_payload(original)[4:6] == b"II" else ">"
    primary, gain_map = g.mpf_entries(original)[1][0], [entry for entry in g.mpf_entries(original)[1] if entry.attribute & 0xFFFFFF == 0][0]
    tiff_at = g.mpf_entries(output)[0]
    primary_size = g.primary_end(output)
    expected = g.mpf_payload(
        [(primary.attribute & ~DEPENDENT, primary_size, 0), (gain_map.attribute & ~DEPENDENT, len(output) - primary_size, primary_size - tiff_at)],
        order,
        attribute_ifd=False,
    )
    assert _mpf_payload(output) == expected


def _assert_no_metadata(jpeg: bytes) -> None:
    assert b.SECRET not in jpeg
    assert b"Exif\x00\x00" not in jpeg
    assert not Image.open(io.BytesIO(jpeg)).getexif()
    assert b"Photoshop" not in jpeg and b"comment" not in jpeg
    for packet in g.xmp_packets(jpeg):
        assert g.namespaces_in(packet) <= g.RENDERING_NAMESPACES


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_gain_map_survives_with_its_parameters_and_nothing_else(name):
    case = CASES[name]
    original = case.build()
    original_primary = original[: g.primary_end(original)]
    original_gain_map = _image_at(original, case.gain_map_entry)
    result = metadata.clean(original)

    assert result.kept == (GAIN_MAP,)
    assert {"exif", "gps", "comment", "xmp"} <= set(result.removed)
    primary, gain_map = _split(result.data)
    _assert_index_is_exactly(original, result.data)
    # The segments kept stay where they were: JFIF first, the XMP, ISO 21496-1 record and index in place.
    dropped = {(g.APP1, b"Exif"), (0xFE, b"comm")}
    assert [(m, p[:4]) for m, p in g.segments(primary)] == [(m, p[:4]) for m, p in g.segments(original_primary) if (m, p[:4]) not in dropped]

    # Pictures: scan data byte for byte, and the same pixels through Pillow.
    assert b.jpeg_structure(primary).scan == b.jpeg_structure(original_primary).scan
    assert b.jpeg_structure(gain_map).scan == b.jpeg_structure(original_gain_map).scan
    assert g.pixels(primary) == g.pixels(original_primary)
    assert g.pixels(gain_map) == g.pixels(original_gain_map)
    assert g.decoded_frames(result.data)[0] == g.pixels(original_primary)

    # Gain-map parameters: the ISO 21496-1 records as they were, the XMP values unchanged.
    assert g.iso_records(gain_map) == g.iso_records(original_gain_map)
    assert g.iso_records(primary) == g.iso_records(original_primary)
    packets = g.xmp_packets(gain_map)
    assert [g.xmp_properties(packet) for packet in packets] == ([case.gain_map_xmp] if case.gain_map_xmp else [])

    # The primary's XMP: hdrgm:Version and a directory with the gain map's new length.
    if case.primary_xmp:
        (packet,) = g.xmp_packets(primary)
        assert {k: v for k, v in g.xmp_properties(packet).items() if k.startswith(f"{{{g.HDRGM}}}")} == PRIMARY_VERSION
        items = [dict(item.attrib) for item in g.ElementTree.fromstring(packet).iter(f"{{{g.CONTAINER}}}Item")]
        assert items[1] == {
            f"{{{g.ITEM}}}Semantic": "GainMap",
            f"{{{g.ITEM}}}Mime": "image/jpeg",
            f"{{{g.ITEM}}}Length": str(len(gain_map)),
        }
    else:
        assert g.xmp_packets(primary) == []

    _assert_no_metadata(primary)
    _assert_no_metadata(gain_map)
    again = metadata.clean(result.data)
    assert again.data == result.data and again.removed == () and again.kept == (GAIN_MAP,)


@pytest.mark.parametrize("keep_copyright", [False, True])
def test_a_kept_gain_map_keeps_copyright_and_artist_when_asked_like_its_primary(keep_copyright):
    result = metadata.clean(g.ultra_hdr(), keep_copyright=keep_copyright)
    primary, gain_map = _split(result.data)
    assert exif_of(primary) == expected_kept_exif(None, keep_copyright)
    assert exif_of(gain_map) == expected_kept_exif(None, keep_copyright)


ADOBE_HEADER = b"Adobe\x00\x64\x00\x00\x00\x00\x01"  # version 100, no flags, YCbCr: kept as it is


def test_the_primary_iso_record_and_index_go_back_where_they_were_between_kept_segments():
    # Kept Adobe segments around the ISO 21496-1 record, tables between it and the index, and
    # an APP2 of another kind after the tables: each rewritten segment goes back to its own
    # place, not after the first segment (JFIF) nor at the later APP2.
    gain_map = _image_at(g.ultra_hdr(), 1)
    adobe = b.jpeg_segment(0xEE, ADOBE_HEADER)
    primary = g.with_segments(
        g.plain_jpeg((64, 48)),
        b.jpeg_segment(g.APP1, g.XMP_ID + g.ultra_hdr_primary_xmp(len(gain_map))),
        adobe,
        b.jpeg_segment(g.APP2, g.ISO_ID + g.ISO_VERSION_ONLY),
        adobe,
    )
    primary = b.insert_before_sos(primary, b.jpeg_segment(g.APP2, b"FPXR\x00" + b.SECRET))
    original = g.with_mpf(primary, [(g.TYPE_UNDEFINED, gain_map)])
    original_primary = original[: g.primary_end(original)]
    result = metadata.clean(original)
    assert result.kept == (GAIN_MAP,)
    output_primary, _ = _split(result.data)
    dropped = {(g.APP1, b"Exif"), (0xFE, b"comm"), (g.APP2, b"FPXR")}
    kept = [(m, p[:4]) for m, p in g.segments(original_primary) if (m, p[:4]) not in dropped]
    assert [(m, p[:4]) for m, p in g.segments(output_primary)] == kept
    assert [m for m, _ in kept][:7] == [0xE0, g.APP1, 0xEE, g.APP2, 0xEE, g.APP2, 0xDB]  # JFIF, XMP, ISO, index
    assert g.iso_records(output_primary) == [g.ISO_VERSION_ONLY]
    assert b.SECRET not in result.data


def test_pillow_reads_the_apple_output_as_a_two_frame_mpo():
    # Pillow opens Ultra HDR files (hdrgm in the primary's XMP) as plain JPEGs on purpose;
    # Apple's files it opens as MPO, through the MPF index.
    original = g.apple_hdr()
    output = metadata.strip(original)
    image = Image.open(io.BytesIO(output))
    assert image.format == "MPO" and image.n_frames == 2
    assert g.decoded_frames(output) == [g.pixels(original[: g.primary_end(original)]), g.pixels(_image_at(original, 1))]


def test_the_apple_matte_after_the_gain_map_goes():
    original = g.apple_hdr()
    matte = _image_at(original, 2)
    output = metadata.strip(original)
    assert b.jpeg_structure(matte).scan not in output
    assert b"portraiteffectsmatte" not in output
    assert "trailer" in metadata.clean(original).removed


def test_previews_and_disparity_images_go_with_the_index():
    original = g.preview_and_disparity()
    result = metadata.clean(original)
    assert result.kept == ()
    assert {"mpf", "trailer"} <= set(result.removed)
    assert g.mpf_entries(result.data) is None
    assert len(result.data) == g.primary_end(result.data)
    assert b.jpeg_structure(result.data).scan == b.jpeg_structure(original).scan
    assert Image.open(io.BytesIO(result.data)).format == "JPEG"
    assert b.SECRET not in result.data


# --- the MPF index on its own (metadata/formats/mpf.py) -------------------------------------

# The second entry's attribute and size have their top bit set: they are read unsigned.
INDEX = g.mpf_payload([(g.REPRESENTATIVE | g.TYPE_PRIMARY, 1000, 0), (g.DEPENDENT_PARENT, 0xFFFFFF00, 900)], attribute_ifd=False)
INDEX_ENTRIES = (mpf.MpEntry(g.REPRESENTATIVE | g.TYPE_PRIMARY, 1000, 0), mpf.MpEntry(g.DEPENDENT_PARENT, 0xFFFFFF00, 900))
MPF_INDEX_OF_ONE = g.mpf_payload([(g.TYPE_PRIMARY, 1000, 0)], attribute_ifd=False)  # an index of the primary alone


def _index_with(at: int, value: bytes) -> bytes:
    return INDEX[:at] + value + INDEX[at + len(value) :]


def _index_of_tags(count: int) -> bytes:
    """INDEX with `count` tags in its IFD: its three, then filler LONG tags."""
    entries_at = 8 + 2 + 12 * count + 4
    ifd = struct.pack(">HHI", 0xB000, 7, 4) + b"0100" + struct.pack(">HHII", 0xB001, 4, 1, 2)
    ifd += struct.pack(">HHII", 0xB002, 7, 32, entries_at)
    ifd += b"".join(struct.pack(">HHII", 0xB100 + n, 4, 1, 0) for n in range(count - 3))
    return g.MPF_ID + b"MM\x00\x2a" + struct.pack(">IH", 8, count) + ifd + bytes(4) + INDEX[54:]


MPF_REFUSALS = {
    "not an MPF index": (b"MPX\x00" + INDEX[4:], "the APP2 segment is not an MPF index"),
    "no TIFF header": (_index_with(4, b"MM\x00\x2b"), "no TIFF header after the MPF identifier"),
    "IFD offset cut": (INDEX[:10], "MP Index IFD offset needs 4 bytes but 2 are left at offset 4"),
    "IFD past the end": (_index_with(IFD_OFFSET, struct.pack(">I", 0xFFFF0000)), "MP Index IFD entry count needs 2 bytes but 0 are left at offset 4294901760"),
    "IFD entry cut": (INDEX[:19], "MP Index IFD entry needs 8 bytes but 5 are left at offset 10"),
    "IFD value cut": (INDEX[:23], "MP Index IFD value needs 4 bytes but 1 are left at offset 18"),
    "33 tags": (_index_of_tags(33), "the MP Index IFD declares 33 tags"),
    "40000 tags": (_index_with(TAG_COUNT, struct.pack(">H", 40000)), "the MP Index IFD declares 40000 tags"),  # read unsigned
    "no NumberOfImages": (_index_with(26, b"\xb0\x0f"), "the MP Index IFD lacks NumberOfImages or MPEntry"),
    "no MPEntry": (_index_with(38, b"\xb0\x0f"), "the MP Index IFD lacks NumberOfImages or MPEntry"),
    "no images": (_index_with(IMAGE_COUNT, struct.pack(">I", 0)), "NumberOfImages is 0, expected 1 to 64"),
    "65 images": (_index_with(IMAGE_COUNT, struct.pack(">I", 65)), "NumberOfImages is 65, expected 1 to 64"),
    "NumberOfImages a SHORT": (_index_with(28, b"\x00\x03"), "NumberOfImages is 2, expected 1 to 64"),
    "NumberOfImages twice over": (_index_with(30, struct.pack(">I", 2)), "NumberOfImages is 2, expected 1 to 64"),
    "entry list of the wrong length": (_index_with(ENTRY_BYTES, struct.pack(">I", 17)), "the MPEntry list holds 17 bytes for 2 images"),
    "entry list a LONG": (_index_with(40, b"\x00\x04"), "the MPEntry list holds 32 bytes for 2 images"),
    "entries past the end": (_index_with(ENTRY_OFFSET, struct.pack(">I", 0x7FFFFFFF)), "MP entry needs 16 bytes but 0 are left at offset 2147483647"),
    "primary offset not zero": (_index_with(PRIMARY_OFFSET, struct.pack(">I", 4)), "MP entry 1 has offset 4"),
    "second offset zero": (_index_with(GAIN_MAP_OFFSET, struct.pack(">I", 0)), "MP entry 2 has offset 0"),
}


@pytest.mark.parametrize("case", sorted(MPF_REFUSALS))
def test_a_malformed_index_is_refused_by_the_index_reader_naming_what_is_wrong(case):
    payload, message = MPF_REFUSALS[case]
    with pytest.raises(mpf.MpfError, match=f"^{re.escape('JPEG MPF: ' + message)}$"):
        mpf.read_index(payload)


@pytest.mark.parametrize("order", [">", "<"])
@pytest.mark.parametrize("attribute_ifd", [False, True])
def test_an_index_is_read_in_either_byte_order(order, attribute_ifd):
    payload = g.mpf_payload([(entry.attribute, entry.size, entry.offset) for entry in INDEX_ENTRIES], order, attribute_ifd=attribute_ifd)
    assert mpf.read_index(payload) == mpf.MpIndex(order, INDEX_ENTRIES)


def test_an_index_of_the_primary_alone_is_read():
    primary = INDEX_ENTRIES[0]
    payload = g.mpf_payload([(primary.attribute, primary.size, 0)])
    assert mpf.read_index(payload) == mpf.MpIndex(">", (primary,))


def test_an_index_of_32_tags_is_read():
    assert mpf.read_index(_index_of_tags(32)) == mpf.MpIndex(">", INDEX_ENTRIES)


@pytest.mark.parametrize("order", [">", "<"])
@pytest.mark.parametrize("images", [1, 2, 3])
def test_a_written_index_holds_three_tags_and_the_entries_without_dependent_flags(order, images):
    attributes = [DEPENDENT | g.REPRESENTATIVE | g.TYPE_PRIMARY, 0x40000000 | g.TYPE_UNDEFINED, g.TYPE_DISPARITY][:images]
    sizes = [0xFFFFFF00, 200, 300]  # sizes past 2**31 are written unsigned
    entries = [mpf.MpEntry(attribute, sizes[n], 1000 * n) for n, attribute in enumerate(attributes)]
    expected = g.mpf_payload([(entry.attribute & ~DEPENDENT, entry.size, entry.offset) for entry in entries], order, attribute_ifd=False)
    assert mpf.index_payload(order, entries) == expected
    assert mpf.index_size(images) == len(expected)


# --- what is dropped, never refused -------------------------------------------------------


def _patch_mpf(data: bytes, at: int, value: bytes) -> bytes:
    """`data` with bytes of its MPF payload (big-endian, from "MPF\\0") replaced in place."""
    start = data.index(g.MPF_ID)
    return data[: start + at] + value + data[start + at + len(value) :]


def _u32(value: int) -> bytes:
    return struct.pack(">I", value)


MALFORMED_INDEX = {
    "byte order": lambda data: _patch_mpf(data, 4, b"XX\x00\x2a"),
    "index past the segment": lambda data: _patch_mpf(data, IFD_OFFSET, _u32(0xFFFF0000)),
    "too many tags": lambda data: _patch_mpf(data, TAG_COUNT, struct.pack(">H", 5000)),
    "no images": lambda data: _patch_mpf(data, IMAGE_COUNT, _u32(0)),
    "too many images": lambda data: _patch_mpf(data, IMAGE_COUNT, _u32(100_000)),
    "entry list of the wrong length": lambda data: _patch_mpf(data, ENTRY_BYTES, _u32(17)),
    "entries past the segment": lambda data: _patch_mpf(data, ENTRY_OFFSET, _u32(0x7FFFFFFF)),
    "primary offset not zero": lambda data: _patch_mpf(data, PRIMARY_OFFSET, _u32(4)),
    "gain map inside the primary": lambda data: _patch_mpf(data, GAIN_MAP_OFFSET, _u32(16)),
    "gain map past the end": lambda data: _patch_mpf(data, GAIN_MAP_SIZE, _u32(0xFFFFFF00)),
    "gain map not at an SOI": lambda data: _patch_mpf(
        data, GAIN_MAP_OFFSET, _u32(struct.unpack(">I", data[data.index(g.MPF_ID) + 78 :][:4])[0] + 1)
    ),
    "gain map cut short": lambda data: _patch_mpf(
        data, GAIN_MAP_SIZE, _u32(struct.unpack(">I", data[data.index(g.MPF_ID) + 74 :][:4])[0] - 40)
    ),
}


def _assert_primary_only(original: bytes, result: metadata.StripResult) -> None:
    """Served as the primary alone, with nothing that describes a gain map."""
    assert result.kept == ()
    assert "mpf" in result.removed
    assert len(result.data) == g.primary_end(result.data), "nothing after the primary's EOI"
    assert g.mpf_entries(result.data) is None
    assert g.xmp_packets(result.data) == [] and g.iso_records(result.data) == []
    assert b.jpeg_structure(result.data).scan == b.jpeg_structure(original).scan
    assert g.pixels(result.data) == g.pixels(original[: g.primary_end(original)])
    _assert_no_metadata(result.data)


@pytest.mark.parametrize("case", sorted(MALFORMED_INDEX))
def test_a_malformed_index_drops_the_index_and_the_images_after_the_primary(case):
    original = MALFORMED_INDEX[case](g.ultra_hdr())
    with bounded_memory():
        result = metadata.clean(original)
    _assert_primary_only(original, result)
    assert metadata.strip(result.data) == result.data


def _mpf_segment_at(data: bytes) -> tuple[int, bytes]:
    """Where the primary's MPF segment starts, and the segment."""
    structure = b.jpeg_structure(data)
    for (marker, payload), offset in zip(structure.markers, structure.offsets):
        if marker == g.APP2 and payload.startswith(g.MPF_ID):
            return offset, b.jpeg_segment(g.APP2, payload)
    raise AssertionError("no MPF index")


def _before_the_index(data: bytes, inserted: bytes) -> bytes:
    """Bytes put before the MPF segment, which moves the index and the images after the
    primary alike: the index's offsets, from its own TIFF header, still hold."""
    at, _ = _mpf_segment_at(data)
    return data[:at] + inserted + data[at:]


def test_an_index_whose_length_is_wrong_drops_the_images_after_the_primary():
    original = g.ultra_hdr()
    at, segment = _mpf_segment_at(original)
    damaged = original[: at + len(segment)] + b"\x00" + original[at + len(segment) :]
    _assert_primary_only(original, metadata.clean(damaged))  # the same scans as the undamaged file


def test_an_index_copy_whose_length_is_wrong_does_not_hide_the_index_after_it():
    original = g.ultra_hdr()
    _, segment = _mpf_segment_at(original)
    result = metadata.clean(_before_the_index(original, segment + b"\x00"))
    assert result.kept == (GAIN_MAP,)
    _, gain_map = _split(result.data)
    assert b.jpeg_structure(gain_map).scan == b.jpeg_structure(_image_at(original, 1)).scan


def test_a_primary_xmp_whose_length_is_wrong_is_not_rebuilt():
    original = g.ultra_hdr()
    structure = b.jpeg_structure(original)
    xmp_at = structure.offset_of(g.APP1)
    xmp_end = xmp_at + 4 + len(structure.payloads(g.APP1)[0])
    assert structure.payloads(g.APP1)[0].startswith(g.XMP_ID)
    result = metadata.clean(original[:xmp_end] + b"\x00" + original[xmp_end:])
    assert result.kept == (GAIN_MAP,)
    primary, _ = _split(result.data)
    assert g.xmp_packets(primary) == []
    assert {"xmp", "other"} <= set(result.removed)


def test_a_primary_iso_record_whose_length_is_wrong_is_not_written_back():
    original = g.ultra_hdr()
    broken = b.jpeg_segment(g.APP2, g.ISO_ID + g.ISO_PARAMETERS) + b"\x00"
    result = metadata.clean(b.insert_after_soi(original, broken))
    assert result.kept == (GAIN_MAP,)
    primary, _ = _split(result.data)
    assert g.iso_records(primary) == [g.ISO_VERSION_ONLY]


def _ultra_hdr_with_gain_map(gain_map: bytes) -> bytes:
    primary = g.with_segments(g.plain_jpeg((64, 48)), b.jpeg_segment(g.APP1, g.XMP_ID + g.ultra_hdr_primary_xmp(len(gain_map))))
    return g.with_mpf(primary, [(g.TYPE_UNDEFINED, gain_map)])


def _gain_map(*segments: bytes) -> bytes:
    return g.with_segments(g.plain_jpeg((32, 24), mode="L", seed=7), *segments)


GAIN_MAP_XMP = b.jpeg_segment(g.APP1, g.XMP_ID + g.ultra_hdr_gain_map_xmp())
NOT_KEPT = {
    "says nothing of a gain map": _gain_map(),
    "an unknown marker": b"\xff\xd8\xff\x4f\x00\x04ab" + _gain_map(GAIN_MAP_XMP)[2:],
    "only the primary's version record": _gain_map(b.jpeg_segment(g.APP2, g.ISO_ID + g.ISO_VERSION_ONLY)),
    "a record with bytes after its fields": _gain_map(b.jpeg_segment(g.APP2, g.ISO_ID + g.ISO_PARAMETERS + b.SECRET)),
    "an apple depth map": _gain_map(b.jpeg_segment(g.APP1, g.XMP_ID + g.apple_depth_xmp())),
    "xmp with entities": _gain_map(
        b.jpeg_segment(g.APP1, g.XMP_ID + b'<!DOCTYPE x [<!ENTITY a "' + b"a" * 1000 + b'">]>' + g.ultra_hdr_gain_map_xmp())
    ),
    "not a jpeg": b"\xff\xd8" + b.SECRET * 10,
}


@pytest.mark.parametrize("case", sorted(NOT_KEPT))
def test_an_image_that_is_not_a_clean_gain_map_is_dropped(case):
    original = _ultra_hdr_with_gain_map(NOT_KEPT[case])
    _assert_primary_only(original, metadata.clean(original))


def test_a_gain_map_record_with_a_smuggled_tail_goes_but_the_gain_map_stays():
    gain_map = _gain_map(GAIN_MAP_XMP, b.jpeg_segment(g.APP2, g.ISO_ID + g.ISO_PARAMETERS + b.SECRET))
    result = metadata.clean(_ultra_hdr_with_gain_map(gain_map))
    assert result.kept == (GAIN_MAP,)
    _, kept = _split(result.data)
    assert g.iso_records(kept) == []
    assert b.SECRET not in result.data


def _stripped_ultra_hdr_parts() -> tuple[bytes, bytes]:
    """A stripped Ultra HDR (which strips to itself, nothing removed) as its primary without
    the MPF segment, and its gain map: parts g.with_mpf puts back together."""
    stripped = metadata.strip(g.ultra_hdr())
    end = g.primary_end(stripped)
    primary, gain_map = stripped[:end], stripped[end:]
    at = primary.index(g.MPF_ID) - 4
    return primary[:at] + primary[at + 2 + struct.unpack(">H", primary[at + 2 : at + 4])[0] :], gain_map


def _after_iso_record(jpeg_bytes: bytes, segment: bytes) -> bytes:
    """`segment` put right after the image's (first) ISO 21496-1 record."""
    at = jpeg_bytes.index(g.ISO_ID) - 4
    end = at + 2 + struct.unpack(">H", jpeg_bytes[at + 2 : at + 4])[0]
    return jpeg_bytes[:end] + segment + jpeg_bytes[end:]


ISO_PARAMETER_SEGMENT = b.jpeg_segment(g.APP2, g.ISO_ID + g.ISO_PARAMETERS)
ISO_VERSION_SEGMENT = b.jpeg_segment(g.APP2, g.ISO_ID + g.ISO_VERSION_ONLY)
# A segment added to the primary or the gain map of a stripped Ultra HDR: the output is the same
# as without it, and what it adds to the kinds removed (the rebuilt index is "mpf" in all).
EXTRA_DESCRIPTIONS = {
    "nothing added": ("gain map", b"", ()),
    "a second parameter record in the gain map": ("gain map", ISO_PARAMETER_SEGMENT, ("other",)),
    "a version record beside the gain map's parameters": ("gain map", ISO_VERSION_SEGMENT, ("other",)),
    "an MPF index in the gain map": ("gain map", b.jpeg_segment(g.APP2, MPF_INDEX_OF_ONE), ()),
    "a second version record in the primary": ("primary", ISO_VERSION_SEGMENT, ("other",)),
}


@pytest.mark.parametrize("case", sorted(EXTRA_DESCRIPTIONS))
def test_a_second_gain_map_description_goes_and_is_reported(case):
    where, segment, reported = EXTRA_DESCRIPTIONS[case]
    primary, gain_map = _stripped_ultra_hdr_parts()
    if where == "primary":
        primary = _after_iso_record(primary, segment)
    else:
        gain_map = _after_iso_record(gain_map, segment)
    result = metadata.clean(g.with_mpf(primary, [(g.TYPE_UNDEFINED, gain_map)]))
    assert result.kept == (GAIN_MAP,)
    assert result.removed == tuple(sorted({"mpf", *reported}))
    kept_primary, kept_gain_map = _split(result.data)
    assert g.iso_records(kept_primary) == [g.ISO_VERSION_ONLY] and g.iso_records(kept_gain_map) == [g.ISO_PARAMETERS]
    assert g.MPF_ID not in kept_gain_map
    assert result.data == metadata.strip(g.ultra_hdr())  # as if the segment had never been there


def test_padding_and_a_preview_around_the_gain_map_go():
    gain_map = _gain_map(GAIN_MAP_XMP)
    preview = g.plain_jpeg((32, 24), seed=4)
    primary = g.with_segments(g.plain_jpeg((64, 48)), b.jpeg_segment(g.APP1, g.XMP_ID + g.ultra_hdr_primary_xmp(len(gain_map))))
    original = g.with_mpf(
        primary, [(g.TYPE_LARGE_THUMBNAIL, preview), (g.TYPE_UNDEFINED, gain_map)], padding=b"pad " + b.SECRET
    )
    result = metadata.clean(original)
    assert result.kept == (GAIN_MAP,)
    assert "trailer" in result.removed
    _, kept = _split(result.data)
    assert b.jpeg_structure(kept).scan == b.jpeg_structure(gain_map).scan
    assert b.jpeg_structure(preview).scan not in result.data
    assert b.SECRET not in result.data


def test_many_entries_pointing_at_one_large_image_are_tried_a_bounded_number_of_times(monkeypatch):
    # 64 undefined-type entries over one 4 MB JPEG that is not a gain map.
    large = g.plain_jpeg((1600, 1200))
    filler = b.jpeg_segment(0xEF, bytes(60_000)) * 64
    large = large[:2] + filler + large[2:]
    primary = g.plain_jpeg((64, 48))
    original = g.with_mpf(primary, [(g.TYPE_UNDEFINED, large)])
    entries = [(g.REPRESENTATIVE | g.TYPE_PRIMARY, 0, 0)] + [(g.TYPE_UNDEFINED, len(large), 0)] * 63
    tiff_at, real = g.mpf_entries(original)
    entries = [(entries[0][0], real[0].size, 0)] + [(0, len(large), real[1].offset)] * 63
    segment_at = original.index(g.MPF_ID) - 4
    old_length = struct.unpack(">H", original[segment_at + 2 : segment_at + 4])[0]
    new_segment = b.jpeg_segment(g.APP2, g.mpf_payload(entries, attribute_ifd=False))
    grown = len(new_segment) - (old_length + 2)
    entries = [(entries[0][0], real[0].size + grown, 0)] + [(0, len(large), real[1].offset + grown)] * 63
    new_segment = b.jpeg_segment(g.APP2, g.mpf_payload(entries, attribute_ifd=False))
    hostile = original[:segment_at] + new_segment + original[segment_at + old_length + 2 :]
    assert g.mpf_entries(hostile)[1][5].offset + g.mpf_entries(hostile)[0] == g.primary_end(hostile)
    tries = count_calls(monkeypatch, jpeg, "_strip_gain_map")
    with bounded_memory(64 * 1024 * 1024):
        result = metadata.clean(hostile)
    assert tries.count == MAX_GAIN_MAP_TRIES
    _assert_primary_only(hostile, result)


# --- a JPEG cut short ---------------------------------------------------------------------


def _sos_offsets(data: bytes) -> list[int]:
    """Where every SOS segment starts (FF DA cannot occur inside entropy-coded data)."""
    offsets, at = [], b.jpeg_structure(data).scan_start
    while at >= 0:
        offsets.append(at)
        at = data.find(b"\xff\xda", at + 2)
    return offsets


def _decoded_truncated(data: bytes) -> Image.Image:
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.7, 0.99])
def test_a_jpeg_cut_short_in_its_scan_data_is_served_as_far_as_it_goes(fraction):
    full = b.jpeg(6, size=(160, 120))
    scan_data_at = _sos_offsets(full)[0] + 2 + 12  # after the SOS segment (3 components)
    cut = scan_data_at + int((len(full) - 2 - scan_data_at) * fraction)
    result = metadata.clean(full[:cut])
    whole = metadata.strip(full)
    # The scan data is the input's, byte for byte, up to the cut; nothing is added.
    assert result.data == whole[: len(whole) - (len(full) - cut)]
    assert _decoded_truncated(result.data).size == (160, 120)
    assert b.SECRET not in result.data
    assert dict(Image.open(io.BytesIO(result.data)).getexif()) == {b.ORIENTATION_TAG: 6}
    assert metadata.read_exif(full[:cut]) == metadata.read_exif(full)
    assert metadata.strip(result.data) == result.data


def test_a_segment_cut_off_after_the_first_scan_is_dropped():
    full = b.jpeg(progressive=True, size=(160, 120), icc=False)
    second_scan = _sos_offsets(full)[1]
    # A comment between two scans, cut off inside its secret text.
    comment = b.jpeg_segment(0xFE, b"comment " + b.SECRET * 4)
    with_comment = full[:second_scan] + comment + full[second_scan:]
    cut_data = with_comment[: second_scan + 20]
    result = metadata.clean(cut_data)
    assert b"SECRET" not in result.data and b"comment" not in result.data
    assert result.data == metadata.strip(full[:second_scan])
    assert "other" in result.removed
    # A scan header cut off goes the same way.
    assert metadata.strip(full[: second_scan + 5]) == metadata.strip(full[:second_scan])
    assert _decoded_truncated(result.data).size == (160, 120)


@pytest.mark.parametrize(("after", "removed"), [(b"", ("comment",)), (b"\x00junk", ("comment", "other"))])
def test_a_comment_ending_the_input_after_the_first_scan_is_dropped_and_only_bytes_after_it_reported(after, removed):
    full = b.jpeg(progressive=True, size=(160, 120), icc=False, exif=False, xmp=False, comment=False)
    second_scan = _sos_offsets(full)[1]
    result = metadata.clean(full[:second_scan] + b.jpeg_segment(0xFE, b"comment " + b.SECRET) + after)
    assert result.data == metadata.strip(full[:second_scan])
    assert result.removed == removed


@pytest.mark.parametrize(("after", "refused"), [(b"", False), (b"\xff", True), (b"\xff\xff", True)])
def test_a_table_ending_the_input_after_the_first_scan_is_served_only_if_no_byte_follows_it(after, refused):
    full = b.jpeg(progressive=True, size=(160, 120), icc=False, exif=False, xmp=False, comment=False)
    second_scan = _sos_offsets(full)[1]
    table = b.jpeg_segment(0xDB, b"\x00" + bytes(range(1, 65)))
    data = full[:second_scan] + table + after
    if refused:
        message = f"JPEG: the DQT segment at offset {second_scan} does not end at a marker"
        with pytest.raises(ImageError, match=f"^{re.escape(message)}$"):
            metadata.strip(data)
    else:
        assert metadata.strip(data) == metadata.strip(full[:second_scan]) + table


@pytest.mark.parametrize("where", ["inside the EXIF segment", "inside a table", "inside the frame header", "in the SOS header"])
def test_a_jpeg_cut_before_its_scan_data_is_refused(where):
    full = b.jpeg(6)
    structure = b.jpeg_structure(full)
    cuts = {
        "inside the EXIF segment": structure.offset_of(0xE1) + 30,
        "inside a table": structure.offset_of(0xDB) + 10,
        "inside the frame header": structure.offset_of(0xC0) + 6,
        "in the SOS header": structure.scan_start + 6,
    }
    assert_refused(full[: cuts[where]], reason="needs .* bytes|truncated")


# A primary cut short ends where the input ends: no image can follow it, not even one its
# index places inside the bytes that are left.
CUT_PRIMARY_INDEXES = {
    "gain map past the cut": lambda data: data,
    "gain map entry inside what is left": lambda data: _patch_mpf(_patch_mpf(data, GAIN_MAP_OFFSET, _u32(16)), GAIN_MAP_SIZE, _u32(100)),
}


@pytest.mark.parametrize("index", sorted(CUT_PRIMARY_INDEXES))
def test_an_ultra_hdr_cut_in_its_primary_keeps_no_gain_map_description(index):
    original = CUT_PRIMARY_INDEXES[index](g.ultra_hdr())
    cut = original[: g.primary_end(original) - 30]
    result = metadata.clean(cut)
    assert result.kept == ()
    for described in (g.MPF_ID, g.XMP_ID, g.ISO_ID, b.SECRET):
        assert described not in result.data
    assert result.data.endswith(cut[-100:])  # the primary's scan data as far as it goes


def test_an_ultra_hdr_cut_in_its_gain_map_serves_the_primary_alone():
    original = g.ultra_hdr()
    cut = original[:-30]
    _assert_primary_only(cut, metadata.clean(cut))


def test_image_data_that_cannot_be_delimited_is_still_refused():
    with pytest.raises(ImageError, match="before any scan"):
        metadata.strip(b"\xff\xd8\xff\xd9")


def test_a_jpeg_codestream_alone_keeps_nothing_after_its_eoi_and_refuses_a_cut():
    from metadata.formats import jpeg  # noqa: PLC0415 - the entry point HEIF `jpeg` items use

    original = g.ultra_hdr()
    alone = jpeg.strip_codestream(original, False)
    assert alone.kept == frozenset() and {"mpf", "trailer", "xmp"} <= alone.removed
    assert alone.data == metadata.strip(original[: g.primary_end(original)])
    assert g.MPF_ID not in alone.data and g.ISO_ID not in alone.data and b.SECRET not in alone.data
    sos_at = b.jpeg_structure(original).scan_start
    scan_data_at = sos_at + 2 + int.from_bytes(original[sos_at + 2 : sos_at + 4], "big")  # after the SOS segment
    message = f"JPEG: scan data from offset {scan_data_at} has no end marker (truncated file)"
    with pytest.raises(ImageError, match=f"^{re.escape(message)}$"):
        jpeg.strip_codestream(original[: g.primary_end(original) - 30], False)


@pytest.mark.parametrize("keep_copyright", [False, True])
def test_a_jpeg_codestream_alone_keeps_copyright_and_artist_when_asked(keep_copyright):
    alone = jpeg.strip_codestream(b.jpeg(6), keep_copyright)
    assert exif_of(alone.data) == expected_kept_exif(6, keep_copyright)


# --- the gain map's limits, at and one past each (metadata/limits.py) ------------------------

DECOY = NOT_KEPT["says nothing of a gain map"]


def _with_images_before_the_gain_map(images: list[tuple[int, bytes]]) -> bytes:
    gain_map = _gain_map(GAIN_MAP_XMP)
    primary = g.with_segments(g.plain_jpeg((64, 48)), b.jpeg_segment(g.APP1, g.XMP_ID + g.ultra_hdr_primary_xmp(len(gain_map))))
    return g.with_mpf(primary, [*images, (g.TYPE_UNDEFINED, gain_map)])


def _assert_gain_map_kept(original: bytes) -> None:
    result = metadata.clean(original)
    assert result.kept == (GAIN_MAP,)
    _, kept = _split(result.data)
    assert b.jpeg_structure(kept).scan == b.jpeg_structure(_gain_map(GAIN_MAP_XMP)).scan


def test_an_index_of_max_mpf_images_is_read_and_one_longer_dropped():
    # The primary, previews (never gain-map candidates) and the gain map last.
    preview = (g.TYPE_LARGE_THUMBNAIL, g.plain_jpeg((8, 8), seed=4))
    at = _with_images_before_the_gain_map([preview] * (MAX_MPF_IMAGES - 2))
    assert len(g.mpf_entries(at)[1]) == MAX_MPF_IMAGES
    _assert_gain_map_kept(at)
    past = _with_images_before_the_gain_map([preview] * (MAX_MPF_IMAGES - 1))
    assert len(g.mpf_entries(past)[1]) == MAX_MPF_IMAGES + 1
    _assert_primary_only(past, metadata.clean(past))


def test_the_gain_map_is_found_at_the_last_try_and_not_one_after():
    at = _with_images_before_the_gain_map([(g.TYPE_UNDEFINED, DECOY)] * (MAX_GAIN_MAP_TRIES - 1))
    _assert_gain_map_kept(at)
    past = _with_images_before_the_gain_map([(g.TYPE_UNDEFINED, DECOY)] * MAX_GAIN_MAP_TRIES)
    _assert_primary_only(past, metadata.clean(past))


@pytest.mark.parametrize("case", ["a larger gain map", "not a jpeg"])
def test_an_image_passed_over_before_the_gain_map_leaves_the_gain_map_kept(monkeypatch, case):
    # MAX_GAIN_MAP_BYTES patched down to the gain map's size: the larger one before it is
    # passed over unread, the one that does not strip cleanly is dropped; either way the next is tried.
    monkeypatch.setattr(jpeg, "MAX_GAIN_MAP_BYTES", len(_gain_map(GAIN_MAP_XMP)))
    larger = g.with_segments(g.plain_jpeg((64, 48), mode="L", seed=9), GAIN_MAP_XMP)
    assert len(larger) > len(_gain_map(GAIN_MAP_XMP))
    image = {"a larger gain map": larger, "not a jpeg": NOT_KEPT["not a jpeg"]}[case]
    _assert_gain_map_kept(_with_images_before_the_gain_map([(g.TYPE_UNDEFINED, image)]))


def _entries_running_past_the_end(data: bytes, count: int) -> bytes:
    """`data` with MPF entries 1..count made one byte longer than what is left of the file."""
    tiff_at, entries = g.mpf_entries(data)
    for index in range(1, count + 1):
        data = _patch_mpf(data, 58 + 16 * index, _u32(len(data) - (tiff_at + entries[index].offset) + 1))
    return data


@pytest.mark.parametrize(
    ("case", "kept"),
    [("empty", True), ("one byte", False), ("past the end", True)],
)
def test_only_entries_of_one_byte_or_more_inside_the_file_are_tried(case, kept):
    # MAX_GAIN_MAP_TRIES such entries before the gain map: each one tried uses up a try.
    images = {"empty": b"", "one byte": b"x", "past the end": DECOY}[case]
    original = _with_images_before_the_gain_map([(g.TYPE_UNDEFINED, images)] * MAX_GAIN_MAP_TRIES)
    if case == "past the end":
        original = _entries_running_past_the_end(original, MAX_GAIN_MAP_TRIES)
    if kept:
        _assert_gain_map_kept(original)
    else:
        _assert_primary_only(original, metadata.clean(original))


def test_a_gain_map_of_max_gain_map_bytes_is_kept_and_one_byte_larger_dropped(monkeypatch):
    # MAX_GAIN_MAP_BYTES (32 MB) patched down to this gain map's size, at the module that reads it.
    original = _ultra_hdr_with_gain_map(_gain_map(GAIN_MAP_XMP))
    size = len(_gain_map(GAIN_MAP_XMP))
    monkeypatch.setattr(jpeg, "MAX_GAIN_MAP_BYTES", size)
    _assert_gain_map_kept(original)
    monkeypatch.setattr(jpeg, "MAX_GAIN_MAP_BYTES", size - 1)
    _assert_primary_only(original, metadata.clean(original))


def _gain_map_xmp_with_tail(tail: str) -> bytes:
    """The gain map's hdrgm packet with 62 properties of 256 '>' (each written back as 1,024
    characters, '&gt;') and one more, `tail`: a packet that grows past 64 KB when rebuilt."""
    attributes = " ".join(f'hdrgm:{name}="{value}"' for name, value in g.GAIN_MAP_PARAMETERS.items())
    attributes += "".join(f' hdrgm:Wide{n}="{">" * 256}"' for n in range(62)) + f' hdrgm:Tail="{tail}"'
    return g.xmp_packet(attributes, namespaces=f'xmlns:hdrgm="{g.HDRGM}"')


def test_a_gain_map_whose_rebuilt_xmp_fills_a_segment_is_kept_and_one_byte_more_dropped():
    # The tail ">" * 121 + "x" * 103 is written back as 484 + 103 characters: the rebuilt APP1
    # segment's length is then 65535, the most its 16-bit field holds.
    fits = _ultra_hdr_with_gain_map(_gain_map(b.jpeg_segment(g.APP1, g.XMP_ID + _gain_map_xmp_with_tail(">" * 121 + "x" * 103))))
    result = metadata.clean(fits)
    assert result.kept == (GAIN_MAP,)
    _, kept = _split(result.data)
    structure = b.jpeg_structure(kept)
    (packet,) = structure.payloads(g.APP1)
    assert len(packet) + 2 == 0xFFFF
    assert g.xmp_properties(packet[len(g.XMP_ID) :])[f"{{{g.HDRGM}}}Tail"] == ">" * 121 + "x" * 103
    one_more = _ultra_hdr_with_gain_map(_gain_map(b.jpeg_segment(g.APP1, g.XMP_ID + _gain_map_xmp_with_tail(">" * 121 + "x" * 104))))
    _assert_primary_only(one_more, metadata.clean(one_more))
