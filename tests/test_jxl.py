"""JPEG XL: containers built around real codestreams (pillow-jxl-plugin), with metadata
boxes between and after the codestream boxes; bare codestreams pass through."""

from __future__ import annotations

import re
import struct
import time

import gain_map_builders as gmb
import image_builders as b
from jxl_bit_builders import single_symbol_icc_stream
import isobmff_builders as ib
import metadata
import pytest
from hypothesis import given
from hypothesis import strategies as st
from isobmff_builders import box
from jxl_shapes import (
    BROB_EXIF,
    EXIF,
    GAIN_MAP_CODESTREAM,
    HOSTILE,
    JBRD,
    JUMB,
    MALFORMED_GAIN_MAP,
    TRAILER,
    XML,
    bare_codestream,
    container_of,
    gain_map_box,
    gain_map_metadata,
    jxlp_parts,
)
from metadata import ImageError
from metadata.formats import jxl
from metadata.formats.jxl_gain_map import check_gain_map
from metadata.limits import MAX_JXL_ICC_STREAM
from metadata_checks import assert_refused
from property_settings import examples

GPS_BYTES = struct.pack(">IIIIII", 52, 1, 31, 1, 1234, 100)
KEPT_TYPES = (b"JXL ", b"ftyp", b"jxll", b"jxlc", b"jxlp")


def _codestream_boxes(data: bytes) -> list[bytes]:
    return [data[s:e] for kind, s, _, e in ib.boxes(data) if kind in KEPT_TYPES]


def assert_clean(data: bytes) -> None:
    assert b.SECRET not in data
    assert GPS_BYTES not in data
    assert b"<x:xmpmeta" not in data
    assert set(ib.top_level_types(data)) <= set(KEPT_TYPES)


@pytest.mark.parametrize("parts", [1, 3])
def test_container_loses_every_metadata_box(parts):
    everything = [(0, ib.jxl_exif_box(EXIF)), (0, box(b"jxll", b"\x05")), (1, XML), (1, JUMB), (parts, BROB_EXIF), (parts, JBRD), (parts, MALFORMED_GAIN_MAP)]
    original = ib.jxl_container(*everything, parts=parts)
    result = metadata.clean(original)
    assert (result.format, result.mime_type) == ("jxl", "image/jxl")
    assert set(result.removed) >= {"exif", "gps", "xmp", "other"}
    assert_clean(result.data)
    assert _codestream_boxes(result.data) == _codestream_boxes(original)  # byte for byte, in order
    assert ib.decoded_rgba(result.data) == ib.decoded_rgba(original)
    assert metadata.strip(result.data) == result.data
    assert metadata.clean(result.data).removed == ()


def test_pillow_jxl_plugin_encode_is_stripped():
    original = ib.encode_jxl(b.pattern(size=(40, 24)), exif=EXIF, xmp=b.XMP_PACKET, use_container=True)
    assert b.SECRET in original
    stripped = metadata.strip(original)
    assert_clean(stripped)
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)


def test_bare_codestream_passes_through():
    codestream = ib.encode_jxl(b.pattern(size=(40, 24)), use_container=False)
    assert metadata.clean(codestream) == (codestream, "jxl", "image/jxl", (), ())
    assert metadata.read_exif(codestream) == {}


def test_read_exif_reads_the_exif_box_and_not_a_compressed_one():
    assert metadata.read_exif(ib.jxl_container((0, ib.jxl_exif_box(EXIF))), view="full")["GPS"]["GPSLatitudeRef"] == "S"
    assert metadata.read_exif(ib.jxl_container((0, BROB_EXIF))) == {}


@pytest.mark.parametrize("level", [b"", b"\x05\x05"], ids=["empty", "two-bytes"])
def test_level_box_of_other_than_one_byte_is_removed(level):
    original = ib.jxl_container((0, box(b"jxll", level)))
    result = metadata.clean(original)
    assert result.removed == ("other",)
    assert ib.top_level_types(result.data) == [b"JXL ", b"ftyp", b"jxlc"]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [(b"\x00\x01", "Exif box 0 is 2 bytes"), (struct.pack(">I", 9) + b"MM\x00*", "Exif box 0 points its TIFF header past its end")],
    ids=["short", "offset-past-the-end"],
)
def test_read_exif_refuses_a_malformed_first_exif_box(payload, reason):
    with pytest.raises(ImageError, match=re.escape(f"JPEG XL: {reason}")):
        metadata.read_exif(ib.jxl_container((0, box(b"Exif", payload)), (1, ib.jxl_exif_box(EXIF))))


def test_keep_copyright_keeps_a_minimal_exif_box():
    original = ib.jxl_container((0, ib.jxl_exif_box(EXIF)), (1, XML))
    stripped = metadata.strip(original, keep_copyright=True)
    assert b.OWNER_COPYRIGHT in stripped and b.OWNER_ARTIST in stripped
    assert b.SECRET not in stripped and GPS_BYTES not in stripped
    exif = metadata.read_exif(stripped, view="full")
    assert exif == {"Image": {"Copyright": b.OWNER_COPYRIGHT.decode(), "Artist": b.OWNER_ARTIST.decode()}}
    assert metadata.strip(stripped, keep_copyright=True) == stripped
    assert metadata.clean(stripped, keep_copyright=True).removed == ()
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused(case):
    assert_refused(HOSTILE[case](), reason="JPEG XL")


@examples(150)
@given(st.data())
def test_mutated_files_strip_or_raise_image_error(draw):
    seed = ib.jxl_container((0, ib.jxl_exif_box(EXIF)), (1, XML), (1, gain_map_box()), (2, JUMB), parts=2)
    data = bytearray(seed)
    for _ in range(draw.draw(st.integers(1, 4))):
        position = draw.draw(st.integers(0, len(data) - 1))
        data[position] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.one_of(st.none(), st.integers(0, len(data))))
    mutated = bytes(data if cut is None else data[:cut])
    try:
        stripped = metadata.strip(mutated)
    except ImageError:
        return
    # A mutated jxlp size can carry a metadata box into the codestream's frame data, served as
    # the TOC sizes it (as a JPEG's scan data is): no planted metadata (XMP, the Exif block, the
    # JUMBF secret) outside the codestream boxes.
    outside = b"".join(stripped[s:e] for kind, s, _, e in ib.boxes(stripped) if kind not in (b"jxlc", b"jxlp"))
    assert b"<x:xmpmeta" not in outside
    assert b.SECRET not in outside
    assert EXIF[6:] not in outside and b"Exif\x00\x00" not in outside
    assert metadata.strip(stripped) == stripped


# ---------------------------------------------------------------- nothing after the last frame


def _parts_of(data: bytes) -> list[tuple[int, bytes]]:
    """(index field, payload) of every jxlp box."""
    return [(int.from_bytes(data[p : p + 4], "big"), data[p + 4 : e]) for kind, _, p, e in ib.boxes(data) if kind == b"jxlp"]


def _assert_served_codestream(original: bytes, stripped: bytes) -> None:
    assert b.SECRET not in stripped and b"<x:xmpmeta" not in stripped
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)
    assert metadata.strip(stripped) == stripped
    assert metadata.clean(stripped).removed == ()


@pytest.mark.parametrize("options", [{}, {"lossless": True}, {"effort": 1}], ids=["vardct", "lossless", "effort1"])
def test_bare_codestream_loses_the_bytes_after_its_last_frame(options):
    codestream = bare_codestream((300, 200), **options)
    result = metadata.clean(codestream + TRAILER)
    assert result.data == codestream
    assert result.removed == ("trailer",)
    _assert_served_codestream(codestream, result.data)


def test_jxlc_box_loses_the_bytes_after_its_last_frame():
    codestream = bare_codestream()
    original = ib.jxl_container((1, XML), codestream=codestream + TRAILER)
    result = metadata.clean(original)
    assert [data for kind, _, p, e in ib.boxes(result.data) for data in [result.data[p:e]] if kind == b"jxlc"] == [codestream]
    assert set(result.removed) == {"trailer", "xmp"}
    _assert_served_codestream(ib.jxl_container(codestream=codestream), result.data)


def test_jxlp_parts_lose_the_bytes_after_the_last_frame_inside_the_last_part():
    codestream = bare_codestream((300, 200))
    third = len(codestream) // 3
    original = container_of(*jxlp_parts(codestream[:third], codestream[third : 2 * third], codestream[2 * third :] + TRAILER))
    result = metadata.clean(original)
    assert _parts_of(result.data) == [(0, codestream[:third]), (1, codestream[third : 2 * third]), (0x80000002, codestream[2 * third :])]
    assert result.removed == ("trailer",)
    _assert_served_codestream(codestream, result.data)


def test_jxlp_part_after_the_last_frame_goes_and_the_part_before_becomes_the_last():
    codestream = bare_codestream((300, 200))
    half = len(codestream) // 2
    first, second, third = jxlp_parts(codestream[:half], codestream[half:], TRAILER)
    result = metadata.clean(container_of(first, second, XML, third))
    assert _parts_of(result.data) == [(0, codestream[:half]), (0x80000001, codestream[half:])]
    assert set(result.removed) == {"trailer", "xmp"}
    _assert_served_codestream(codestream, result.data)


def test_jxlp_part_cut_inside_loses_the_rest_and_the_parts_after_it():
    codestream = bare_codestream((300, 200))
    half = len(codestream) // 2
    original = container_of(*jxlp_parts(codestream[:half], codestream[half:] + TRAILER[:10], TRAILER[10:]))
    result = metadata.clean(original)
    assert _parts_of(result.data) == [(0, codestream[:half]), (0x80000001, codestream[half:])]
    _assert_served_codestream(codestream, result.data)


def test_codestream_that_ends_before_its_last_frame_is_refused():
    codestream = bare_codestream((300, 200))
    assert_refused(codestream[:-100], reason="ends inside a frame's sections")
    assert_refused(ib.jxl_container(codestream=codestream[:-100]), reason="ends inside a frame's sections")
    assert_refused(container_of(*jxlp_parts(codestream[:100], codestream[100:-1])), reason="ends inside")


# ---------------------------------------------------------------- the gain map (jhgm) is a picture


SRGB_ENCODING = b"\x01"  # a ColorEncoding bundle with all_default set, padded to the byte
ICC_STREAM = single_symbol_icc_stream(300)


GOOD_GAIN_MAPS = {
    "single channel": lambda: gain_map_box(),
    "the Ultra HDR fit as a record": lambda: gain_map_box(metadata_bytes=gmb.ISO_PARAMETERS),
    "three channels, common denominator": lambda: gain_map_box(metadata_bytes=gain_map_metadata(channels=3, common_denominator=True)),
    "colour encoding and alternate ICC": lambda: gain_map_box(encoding=SRGB_ENCODING, icc=ICC_STREAM),
    "lossless gain map": lambda: gain_map_box(codestream=ib.encode_jxl(b.pattern("L", size=(300, 200)), use_container=False, lossless=True)),
}


@pytest.mark.parametrize("case", sorted(GOOD_GAIN_MAPS))
@pytest.mark.parametrize("parts", [1, 2])
def test_gain_map_box_is_kept_byte_for_byte(case, parts):
    gain_map = GOOD_GAIN_MAPS[case]()
    original = ib.jxl_container((0, ib.jxl_exif_box(EXIF)), (1, gain_map), (1, XML), parts=parts)
    result = metadata.clean(original)
    assert result.kept == ("gain map",)
    assert [result.data[s:e] for kind, s, _, e in ib.boxes(result.data) if kind == b"jhgm"] == [gain_map]
    assert b.SECRET not in result.data and GPS_BYTES not in result.data
    assert ib.decoded_rgba(result.data) == ib.decoded_rgba(original)
    assert metadata.strip(result.data) == result.data
    assert metadata.clean(result.data).removed == ()


def _long_metadata() -> bytes:
    return gain_map_metadata() + b"\x00"


NOT_A_RECORD = "metadata is not an ISO 21496-1 record of version 0 exactly as long as its fields"
MALFORMED_GAIN_MAPS = {
    "version 1": (lambda: gain_map_box(version=1), "version 1, only 0"),
    "metadata longer than its fields": (lambda: gain_map_box(metadata_bytes=_long_metadata()), NOT_A_RECORD),
    "metadata shorter than its fields": (lambda: gain_map_box(metadata_bytes=gain_map_metadata()[:-4]), NOT_A_RECORD),
    "metadata version 1": (lambda: gain_map_box(metadata_bytes=struct.pack(">HH", 1, 1) + gain_map_metadata()[4:]), NOT_A_RECORD),
    "metadata without parameters": (lambda: gain_map_box(metadata_bytes=struct.pack(">HH", 0, 0)), NOT_A_RECORD),
    "colour encoding with a spare byte": (lambda: gain_map_box(encoding=SRGB_ENCODING + b"\x00"), "colour encoding of 2 bytes holds 1"),
    "colour encoding with padding bits set": (lambda: gain_map_box(encoding=b"\x03"), "padding bits"),
    "ICC size past the end": (lambda: gain_map_box(icc_size=10**6), "alternate ICC profile needs 1000000 bytes"),
    "ICC stream with a spare byte": (lambda: gain_map_box(icc=ICC_STREAM + b"\x00"), "holds more than its stream"),
    "ICC that is not an ICC stream": (lambda: gain_map_box(icc=b"\xff" * 8), "alternate ICC profile: the codestream ends inside"),
    "bytes after the gain map codestream": (lambda: gain_map_box(codestream=GAIN_MAP_CODESTREAM + b.SECRET), "13 bytes after its codestream's last frame"),
    "gain map codestream cut short": (lambda: gain_map_box(codestream=GAIN_MAP_CODESTREAM[:-5]), "ends inside a frame's sections"),
    "no gain map codestream": (lambda: gain_map_box(codestream=b""), "no codestream signature"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_GAIN_MAPS))
def test_malformed_gain_map_box_is_dropped(case):
    gain_map, reason = MALFORMED_GAIN_MAPS[case]
    with pytest.raises(ImageError, match=reason):
        check_gain_map(memoryview(gain_map()[8:]))
    original = ib.jxl_container((1, gain_map()))
    result = metadata.clean(original)
    assert result.kept == () and result.removed == ("other",)
    assert b"jhgm" not in result.data and b.SECRET not in result.data
    assert ib.decoded_rgba(result.data) == ib.decoded_rgba(original)


def test_second_gain_map_box_is_dropped():
    first, second = gain_map_box(), gain_map_box(metadata_bytes=gain_map_metadata(channels=3))
    result = metadata.clean(ib.jxl_container((1, first), (1, second)))
    assert [result.data[s:e] for kind, s, _, e in ib.boxes(result.data) if kind == b"jhgm"] == [first]
    assert result.removed == ("other",) and result.kept == ("gain map",)


def test_gain_map_after_a_malformed_one_is_dropped_unread():
    malformed, good = gain_map_box(version=1), gain_map_box()
    result = metadata.clean(ib.jxl_container((1, malformed), (1, good)))
    assert result.kept == () and b"jhgm" not in result.data


def test_many_gain_map_boxes_cost_one_check():
    slow = gain_map_box(icc=single_symbol_icc_stream(MAX_JXL_ICC_STREAM))  # about a second to walk
    started = time.perf_counter()
    result = metadata.clean(ib.jxl_container(*[(1, slow)] * 20))
    assert result.kept == ("gain map",)
    assert time.perf_counter() - started < 8  # one walk (about a second), not twenty


def test_gain_map_box_of_max_gain_map_bytes_is_kept_and_one_byte_larger_dropped(monkeypatch):
    # MAX_GAIN_MAP_BYTES (32 MB) patched to this box's payload size, at the module that reads it.
    gain_map = gain_map_box()
    payload = len(gain_map) - 8
    assert int.from_bytes(gain_map[:4], "big") == len(gain_map) and gain_map[4:8] == b"jhgm"
    original = ib.jxl_container((1, gain_map))
    monkeypatch.setattr(jxl, "MAX_GAIN_MAP_BYTES", payload)
    assert metadata.clean(original).kept == ("gain map",)
    monkeypatch.setattr(jxl, "MAX_GAIN_MAP_BYTES", payload - 1)
    result = metadata.clean(original)
    assert result.kept == () and result.removed == ("other",) and b"jhgm" not in result.data

def test_compressed_gain_map_box_is_dropped():
    result = metadata.clean(ib.jxl_container((1, box(b"brob", b"jhgm", b"brotli " + b.SECRET))))
    assert result.kept == () and result.removed == ("other",)


@pytest.mark.parametrize("keep_copyright", [False, True])
def test_everything_at_once_leaves_the_codestream_and_the_gain_map(keep_copyright):
    codestream = bare_codestream((300, 200))
    third = len(codestream) // 3
    gain_map = gain_map_box()
    first, second, third_part = jxlp_parts(codestream[:third], codestream[third : 2 * third], codestream[2 * third :] + TRAILER)
    original = container_of(ib.jxl_exif_box(EXIF), first, XML, JUMB, gain_map, second, BROB_EXIF, JBRD, third_part, XML)
    result = metadata.clean(original, keep_copyright=keep_copyright)
    assert {"exif", "gps", "xmp", "other", "trailer"} <= set(result.removed)
    assert result.kept == ("gain map",)
    assert b.SECRET not in result.data and GPS_BYTES not in result.data and b"<x:xmpmeta" not in result.data
    assert (b.OWNER_COPYRIGHT in result.data) == keep_copyright
    assert b"".join(payload for _, payload in _parts_of(result.data)) == codestream
    assert [result.data[s:e] for kind, s, _, e in ib.boxes(result.data) if kind == b"jhgm"] == [gain_map]
    assert ib.decoded_rgba(result.data) == ib.decoded_rgba(codestream)
    assert metadata.strip(result.data, keep_copyright=keep_copyright) == result.data
    assert metadata.clean(result.data, keep_copyright=keep_copyright).removed == ()
