"""JPEG XL: containers built around real codestreams (pillow-jxl-plugin), with metadata
boxes between and after the codestream boxes; bare codestreams pass through."""

from __future__ import annotations

import re
import struct

import gain_map_builders as gmb
import image_builders as b
from jxl_bit_builders import Bits, single_symbol_icc_stream
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
from metadata.formats import isobmff, jxl
from metadata.formats.jxl_gain_map import check_gain_map
from metadata_checks import assert_refused
from operation_counts import count_calls
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


# A brob box is named by its first 4 bytes, the type it wraps (then Brotli data, never read).
BROB_KINDS = {b"Exif": ("exif",), b"xml ": ("xmp",), b"jumb": ("other",), b"Ex": ("other",)}


@pytest.mark.parametrize("wrapped", sorted(BROB_KINDS), ids=lambda wrapped: wrapped.decode().strip() or "short")
def test_compressed_box_is_removed_as_the_kind_it_wraps(wrapped):
    data = container_of(box(b"brob", wrapped, b"brotli bytes " if len(wrapped) == 4 else b""), JXLC)
    result = metadata.clean(data)
    assert (result.data, result.removed) == (container_of(JXLC), BROB_KINDS[wrapped])


@pytest.mark.parametrize("level", [b"", b"\x05\x05"], ids=["empty", "two-bytes"])
def test_level_box_of_other_than_one_byte_is_removed(level):
    original = ib.jxl_container((0, box(b"jxll", level)))
    result = metadata.clean(original)
    assert result.removed == ("other",)
    assert ib.top_level_types(result.data) == [b"JXL ", b"ftyp", b"jxlc"]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x00\x01", "Exif box 0 is 2 bytes"),
        (struct.pack(">I", 9) + b"MM\x00*", "Exif box 0 points its TIFF header past its end"),
        (struct.pack(">I", 1), "Exif box 0 points its TIFF header past its end"),  # its offset alone
    ],
    ids=["short", "offset-past-the-end", "offset-alone-past-the-end"],
)
def test_read_exif_refuses_a_malformed_first_exif_box(payload, reason):
    with pytest.raises(ImageError, match=re.escape(f"JPEG XL: {reason}")):
        metadata.read_exif(ib.jxl_container((0, box(b"Exif", payload)), (1, ib.jxl_exif_box(EXIF))))


def test_exif_box_whose_offset_points_at_its_end_is_read_as_empty():
    assert metadata.read_exif(container_of(box(b"Exif", struct.pack(">I", 0)), JXLC)) == {}
    assert metadata.read_exif(container_of(box(b"Exif", struct.pack(">I", 2), b"MM"), JXLC)) == {}


def test_exif_box_without_its_offset_is_read_from_its_tiff_header():
    # pillow-jxl-plugin 1.3 writes the TIFF structure straight after the box header
    data = container_of(box(b"Exif", EXIF[len(b"Exif\x00\x00") :]), JXLC)
    assert metadata.read_exif(data, view="full")["GPS"]["GPSLatitudeRef"] == "S"
    assert metadata.clean(data).removed == EXIF_KINDS


def test_malformed_exif_box_does_not_stop_the_reading_of_the_ones_after_it():
    data = container_of(box(b"Exif", b"\x00\x01"), ib.jxl_exif_box(EXIF), JXLC)
    assert metadata.clean(data).removed == EXIF_KINDS


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


# The refusal of each HOSTILE file (jxl_shapes.py); \\d+ where the encoder decides the size.
HOSTILE_REASONS = {
    "truncated": r"JPEG XL: box 'jxlc' declares (\d+) bytes but (\d+) are left at offset 32$",
    "no-codestream": r"JPEG XL: no complete codestream \('jxlc', or 'jxlp' parts up to the last\)$",
    "last-part-missing": r"JPEG XL: no complete codestream \('jxlc', or 'jxlp' parts up to the last\)$",
    "parts-out-of-order": r"JPEG XL: 'jxlp' box at offset 32 is out of sequence$",
    "jxlc-and-jxlp": r"JPEG XL: a 'jxlc' box at offset \d+ after other codestream boxes$",
    "no-ftyp": r"JPEG XL: box at offset 12 is 'jxlc', not 'ftyp'$",
    "box-size-huge": r"JPEG XL: box 'jxlc' declares 4294967280 bytes but \d+ are left at offset 32$",
    "box-size-1-short": r"JPEG XL: box 'jxlc' declares \d+ bytes but \d+ are left at offset 32$",
    "codestream-without-signature": r"JPEG XL: no codestream signature FF 0A \(at byte 2 of the codestream\)$",
    "bare-huge-size": r"JPEG XL: the codestream declares 2147483648x1073741824 pixels, over the limit of 250000000 \(at byte 6 ",
    "bare-truncated": r"JPEG XL: the codestream ends inside a header field \(at byte 2 of the codestream\)$",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused(case):
    assert_refused(HOSTILE[case](), reason=HOSTILE_REASONS[case])


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


# The refusals, whole (GM names the box in every message; no character of it is special in a pattern);
# \d+ stands for byte counts that depend on the encoder's gain-map codestream.
GM = "JPEG XL 'jhgm' gain map"
NOT_A_RECORD = rf"^{GM}: metadata is not an ISO 21496-1 record of version 0 exactly as long as its fields$"
MALFORMED_GAIN_MAPS = {
    "version 1": (lambda: gain_map_box(version=1), f"^{GM}: version 1, only 0 is defined$"),
    "metadata longer than its fields": (lambda: gain_map_box(metadata_bytes=_long_metadata()), NOT_A_RECORD),
    "metadata shorter than its fields": (lambda: gain_map_box(metadata_bytes=gain_map_metadata()[:-4]), NOT_A_RECORD),
    "metadata version 1": (lambda: gain_map_box(metadata_bytes=struct.pack(">HH", 1, 1) + gain_map_metadata()[4:]), NOT_A_RECORD),
    "metadata without parameters": (lambda: gain_map_box(metadata_bytes=struct.pack(">HH", 0, 0)), NOT_A_RECORD),
    "colour encoding with a spare byte": (lambda: gain_map_box(encoding=SRGB_ENCODING + b"\x00"), f"^{GM}: colour encoding of 2 bytes holds 1 bytes of fields$"),
    "colour encoding with padding bits set": (
        lambda: gain_map_box(encoding=b"\x03"),
        rf"^{GM} colour encoding: padding bits before a byte boundary are not zero \(at byte 1 of the codestream\)$",
    ),
    "ICC size past the end": (lambda: gain_map_box(icc_size=10**6), rf"^{GM}: alternate ICC profile needs 1000000 bytes but \d+ are left at offset 69$"),
    "ICC stream with a spare byte": (lambda: gain_map_box(icc=ICC_STREAM + b"\x00"), f"^{GM}: alternate ICC profile of 5 bytes holds more than its stream$"),
    "ICC that is not an ICC stream": (
        lambda: gain_map_box(icc=b"\xff" * 8),
        rf"^{GM} alternate ICC profile: the codestream ends inside a header field \(at byte 7 of the codestream\)$",
    ),
    "bytes after the gain map codestream": (
        lambda: gain_map_box(codestream=GAIN_MAP_CODESTREAM + b.SECRET),
        f"^{GM}: 13 bytes after its codestream's last frame$",
    ),
    "gain map codestream cut short": (
        lambda: gain_map_box(codestream=GAIN_MAP_CODESTREAM[:-5]),
        rf"^{GM} codestream: the codestream ends inside a frame's sections \(at byte \d+ of the codestream\)$",
    ),
    "no gain map codestream": (
        lambda: gain_map_box(codestream=b""),
        rf"^{GM} codestream: no codestream signature FF 0A \(at byte 0 of the codestream\)$",
    ),
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


def test_gain_map_cut_inside_a_field_before_its_codestream_is_refused_naming_the_field():
    metadata_bytes = gain_map_metadata()
    payload = gain_map_box(encoding=SRGB_ENCODING, icc=ICC_STREAM)[8:]
    fields = [
        ("version", 1), ("metadata size", 2), ("metadata", len(metadata_bytes)), ("colour encoding size", 1), ("colour encoding", len(SRGB_ENCODING)),
        ("alternate ICC profile size", 4), ("alternate ICC profile", len(ICC_STREAM)),
    ]
    assert payload[sum(size for _, size in fields) :] == GAIN_MAP_CODESTREAM
    start = 0
    for name, size in fields:
        for length in range(start, start + size):
            with pytest.raises(ImageError) as refused:
                check_gain_map(memoryview(payload[:length]))
            assert str(refused.value) == f"{GM}: {name} needs {size} bytes but {length - start} are left at offset {start}"
        start += size


def test_second_gain_map_box_is_dropped():
    first, second = gain_map_box(), gain_map_box(metadata_bytes=gain_map_metadata(channels=3))
    result = metadata.clean(ib.jxl_container((1, first), (1, second)))
    assert [result.data[s:e] for kind, s, _, e in ib.boxes(result.data) if kind == b"jhgm"] == [first]
    assert result.removed == ("other",) and result.kept == ("gain map",)


def test_gain_map_after_a_malformed_one_is_dropped_unread():
    malformed, good = gain_map_box(version=1), gain_map_box()
    result = metadata.clean(ib.jxl_container((1, malformed), (1, good)))
    assert result.kept == () and b"jhgm" not in result.data


def test_many_gain_map_boxes_cost_one_check(monkeypatch):
    # Only the first jhgm box is read and checked (a check can walk an ICC stream of
    # metadata.limits.MAX_JXL_ICC_STREAM bytes); the others are dropped unread.
    checks = count_calls(monkeypatch, jxl, "check_gain_map")
    result = metadata.clean(ib.jxl_container(*[(1, gain_map_box())] * 20))
    assert result.kept == ("gain map",)
    assert checks.count == 1


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


# ---------------------------------------------------------------- alternate ICC profile: entropy errors


def _ans_icc_stream_not_in_its_final_state() -> bytes:
    """A compressed ICC profile of 300 bytes coded with ANS (one cluster, a distribution of
    the single symbol 0, so no byte moves the state) whose state is not the final 0x130000."""
    bits = Bits().u64(300)
    bits.put(0, 1).put(1, 1).put(0, 2).put(0, 1)  # no LZ77, one cluster, ANS
    bits.put(0, 2).put(5, 3)  # log alphabet size 5; hybrid config: split exponent 5
    bits.put(1, 2).put(0, 1)  # one-symbol distribution, symbol 0
    return bits.put(0x130001, 32).data()


def test_alternate_icc_profile_entropy_error_names_the_icc_profile():
    gain_map = gain_map_box(icc=_ans_icc_stream_not_in_its_final_state())
    # 15 bits of size, 13 of entropy code, 32 of state: refused at bit 60, byte 7
    reason = "JPEG XL 'jhgm' gain map alternate ICC profile: ICC profile entropy code: ANS stream does not end in its final state (at byte 7 of"
    with pytest.raises(ImageError, match=re.escape(reason)):
        check_gain_map(memoryview(gain_map[8:]))
    assert metadata.clean(ib.jxl_container((1, gain_map))).removed == ("other",)


# ---------------------------------------------------------------- box headers, the Exif budget, the held walk

CODESTREAM = bare_codestream()
JXLC = box(b"jxlc", CODESTREAM)
AFTER_JXLC = 32 + len(JXLC)  # container_of: 12-byte signature box, 20-byte ftyp, then the boxes
UNREADABLE_EXIF = box(b"Exif", bytes(4), b"no TIFF header here")
EXIF_KINDS = ("exif", "gps", "makernote", "thumbnail")  # what EXIF (jxl_shapes) holds

# Before the codestream box (after it, a box that cannot be read is a trailer: see below).
MALFORMED_BOXES = {
    "second ftyp": (container_of(box(b"ftyp", b"jxl \x00\x00\x00\x00jxl "), JXLC), "a second 'ftyp' box at offset 32"),
    "jxlp index cut short": (container_of(box(b"jxlp", b"\x00\x00\x00")), "index of the 'jxlp' box at offset 32 needs 4 bytes but 3 are left at offset 40"),
    "box size cut short": (container_of(b"\x00\x00\x00"), "box size needs 4 bytes but 3 are left at offset 32"),
    "box type cut short": (container_of(b"\x00\x00\x00\x08Ex"), "box type needs 4 bytes but 2 are left at offset 36"),
    "largesize cut short": (container_of(struct.pack(">I4sI", 1, b"Exif", 0)), "box largesize needs 4 bytes but 0 are left at offset 44"),
    "largesize cut short in its first half": (container_of(struct.pack(">I4sH", 1, b"Exif", 0)), "box largesize needs 4 bytes but 2 are left at offset 40"),
    "box longer than the file": (container_of(struct.pack(">I4s", 100, b"Exif") + bytes(10)), "box 'Exif' declares 100 bytes but 18 are left at offset 32"),
    "ftyp without the jxl brand": (ib.JXL_SIGNATURE + box(b"ftyp", b"jxl\x00\x00\x00\x00\x00jxl ") + JXLC, "'ftyp' box at offset 12 has no 'jxl ' brand"),
    "ftyp of a brand and a half": (ib.JXL_SIGNATURE + box(b"ftyp", b"jxl \x00\x00\x00\x00jx") + JXLC, "'ftyp' box of 10 bytes at offset 12"),
    "box shorter than its header": (container_of(struct.pack(">I4s", 7, b"Exif"), JXLC), "box 'Exif' declares 7 bytes, less than its 8-byte header at offset 32"),
    "largesize box shorter than its header": (container_of(struct.pack(">I4sQ", 1, b"Exif", 15), JXLC), "box 'Exif' declares 15 bytes, less than its 16-byte header at offset 32"),
    "uuid box shorter than its header": (container_of(struct.pack(">I4s", 23, b"uuid") + bytes(16), JXLC), "box 'uuid' declares 23 bytes, less than its 24-byte header at offset 32"),
    "uuid usertype cut short": (container_of(struct.pack(">I4s", 0, b"uuid") + bytes(15)), "uuid box usertype needs 16 bytes but 15 are left at offset 40"),
    "box type not ASCII": (container_of(struct.pack(">I", 4) + b"\xff\x00Ex", JXLC), "box 'ff004578' declares 4 bytes, less than its 8-byte header at offset 32"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_BOXES))
def test_malformed_box_header_is_refused_for_its_reason(case):
    data, reason = MALFORMED_BOXES[case]
    assert_refused(data, reason=re.escape(f"JPEG XL: {reason}") + "$")


PART = jxlp_parts(CODESTREAM)[0]  # the one and last part
CODESTREAM_AFTER_ITS_END = {
    "jxlp after a jxlc": (container_of(JXLC, box(b"jxlp", struct.pack(">I", 0), CODESTREAM)), AFTER_JXLC),
    "jxlp after the last part": (container_of(PART, box(b"jxlp", struct.pack(">I", 1), b"\x00")), 32 + len(PART)),
}


@pytest.mark.parametrize("case", sorted(CODESTREAM_AFTER_ITS_END))
def test_jxlp_box_after_a_complete_codestream_is_refused(case):
    data, offset = CODESTREAM_AFTER_ITS_END[case]
    assert_refused(data, reason=re.escape(f"JPEG XL: 'jxlp' box at offset {offset} is out of sequence") + "$")


def test_container_without_its_signature_box_is_refused_by_the_walk():
    # metadata.strip sends only a signature box to jxl; the walk checks it all the same
    with pytest.raises(ImageError, match=re.escape("JPEG XL: no 'JXL ' signature box at offset 0")):
        jxl.strip(b"\x00\x00\x00\x0cJXL \r\n\x87\x0b" + container_of(JXLC)[12:], False)
    with pytest.raises(ImageError, match=re.escape("JPEG XL: no 'JXL ' signature box at offset 0")):
        jxl.open_walk(0, None, False).finish()  # an empty input, held


WELL_FORMED_HEADERS = {
    # size 1: a 64-bit size after the type, payload from byte 16
    "largesize codestream box": (container_of(struct.pack(">I4sQ", 1, b"jxlc", 16 + len(CODESTREAM)) + CODESTREAM), ()),
    # size 0: the box runs to the end of the file
    "codestream box to the end": (container_of(struct.pack(">I4s", 0, b"jxlc") + CODESTREAM), ()),
    "uuid box": (container_of(JXLC, box(b"uuid", bytes(range(16)), b.SECRET)), ("other",)),
    "box of its header alone": (container_of(box(b"abcd"), JXLC), ("other",)),
    "Exif box to the end": (container_of(JXLC, struct.pack(">I4s", 0, b"Exif") + bytes(4) + EXIF), EXIF_KINDS),
    # after the codestream, what cannot be read as a box goes as a trailer
    "box shorter than its header after the codestream": (container_of(JXLC, struct.pack(">I4s", 7, b"Exif")), ("trailer",)),
    "box header cut short after the codestream": (container_of(JXLC, b"\x00\x00\x00"), ("trailer",)),
}


@pytest.mark.parametrize("case", sorted(WELL_FORMED_HEADERS))
def test_box_header_of_every_size_form_is_walked(case):
    data, removed = WELL_FORMED_HEADERS[case]
    result = metadata.clean(data)
    kept = data if not removed else container_of(JXLC)
    assert (result.data, result.removed) == (kept, removed)


def test_codestream_box_to_the_end_loses_its_trailer_and_gets_its_size():
    data = container_of(struct.pack(">I4s", 0, b"jxlc") + CODESTREAM + TRAILER)
    result = metadata.clean(data)
    assert (result.data, result.removed) == (container_of(JXLC), ("trailer",))


@pytest.mark.parametrize("over", [0, 1])
def test_exif_boxes_past_the_head_budget_are_removed_unread(monkeypatch, over):
    # The third Exif box (with GPS) is read only while the payloads of all three fit in
    # MAX_STREAM_HEAD_BYTES (the budget counts every box read, not the last one).
    data = container_of(UNREADABLE_EXIF, UNREADABLE_EXIF, ib.jxl_exif_box(EXIF), JXLC)
    monkeypatch.setattr(jxl, "MAX_STREAM_HEAD_BYTES", 2 * (len(UNREADABLE_EXIF) - 8) + len(ib.jxl_exif_box(EXIF)) - 8 - over)
    result = metadata.clean(data)
    assert result.data == container_of(JXLC)
    assert result.removed == (("exif",) if over else EXIF_KINDS)


def test_exif_box_over_the_head_budget_alone_is_read_as_empty(monkeypatch):
    monkeypatch.setattr(jxl, "MAX_STREAM_HEAD_BYTES", len(EXIF))
    data = container_of(ib.jxl_exif_box(EXIF), JXLC)  # a 4-byte offset, then EXIF: one byte over
    with pytest.raises(ImageError, match=re.escape("JPEG XL: Exif box 0 is 0 bytes")):
        metadata.read_exif(data)
    assert metadata.clean(data).removed == ("exif",)


def test_keep_copyright_without_copyright_or_artist_writes_no_exif_box():
    result = metadata.clean(container_of(UNREADABLE_EXIF, JXLC), keep_copyright=True)
    assert (result.data, result.removed) == (container_of(JXLC), ("exif",))


def _read_range(data: bytes):  # noqa: ANN202
    return lambda start, end: memoryview(data)[start:end]


@pytest.mark.parametrize("over", [0, 1])
def test_walk_without_ranged_reads_holds_the_input_up_to_the_limit(monkeypatch, over):
    data = container_of(UNREADABLE_EXIF, JXLC) + TRAILER
    monkeypatch.setattr(jxl, "MAX_STREAM_HEAD_BYTES", len(data) - over)
    walk = jxl.open_walk(len(data), None, False)
    assert walk.feed(data[:100]) == b""
    if over:
        with pytest.raises(ImageError, match=re.escape(f"JPEG XL: over the {len(data) - 1} bytes held without ranged reads")):
            walk.feed(data[100:])
        return
    assert walk.feed(data[100:]) == b""
    assert walk.finish() == container_of(JXLC)
    assert walk.removed == {"exif", "trailer"}


def test_walk_finished_before_any_chunk_is_refused():
    data = container_of(JXLC)
    walk = jxl.open_walk(len(data), _read_range(data), False)
    with pytest.raises(ImageError, match=re.escape(f"JPEG XL: the input ended at offset 0, before its declared size {len(data)}")):
        walk.finish()


def test_walk_fed_more_than_its_declared_size_is_refused():
    data = container_of(JXLC)
    walk = jxl.open_walk(len(data), _read_range(data), False)
    with pytest.raises(ImageError, match=re.escape(f"JPEG XL: the input is longer than its declared size {len(data)}")):
        walk.feed(data + b"x")


def test_codestream_box_one_byte_longer_than_its_codestream_loses_that_byte():
    result = metadata.clean(container_of(box(b"jxlc", CODESTREAM, b"X")))
    assert (result.data, result.removed) == (container_of(JXLC), ("trailer",))


def test_minimal_exif_box_is_reported_again_when_not_alone():
    stripped = metadata.strip(container_of(ib.jxl_exif_box(EXIF), JXLC), keep_copyright=True)
    minimal = next(stripped[start:end] for kind, start, _, end in ib.boxes(stripped) if kind == b"Exif")
    assert metadata.clean(stripped, keep_copyright=True).removed == ()  # already minimal: nothing to log
    twice = container_of(minimal, minimal, JXLC)
    assert metadata.clean(twice, keep_copyright=True).removed == ("exif",)
    with_xmp = container_of(minimal, XML, JXLC)
    assert metadata.clean(with_xmp, keep_copyright=True).removed == ("exif", "xmp")


def test_box_past_the_box_budget_is_refused(monkeypatch):
    monkeypatch.setattr(isobmff, "MAX_BOXES", 3)  # read by BoxBudget, at the module that defines it
    assert metadata.strip(container_of(XML, JXLC)) == container_of(JXLC)  # ftyp, xml, jxlc: 3 boxes
    assert_refused(container_of(XML, XML, JXLC), reason=re.escape(f"JPEG XL: more than 3 boxes (at offset {32 + 2 * len(XML)})") + "$")


@pytest.mark.parametrize("fed", [False, True], ids=["finished-at-once", "fed"])
def test_walk_names_the_input_its_ranged_reads_found_short(fed):
    data = container_of(JXLC)
    walk = jxl.open_walk(len(data) + 10, _read_range(data), False)
    reason = f"JPEG XL: the input ended at offset {len(data)}, before its declared size {len(data) + 10}"
    with pytest.raises(ImageError, match="^" + re.escape(reason) + "$"):
        walk.feed(data[:100]) if fed else walk.finish()


@pytest.mark.parametrize("split", [33, 36])
def test_box_header_changed_in_the_chunk_after_its_first_bytes_is_refused(split):
    data = container_of(XML, JXLC)
    measured = data.replace(b"xml ", b"skip", 1)  # what the ranged reads saw: its type, bytes 36 to 40
    walk = jxl.open_walk(len(data), _read_range(measured), False)
    walk.feed(data[:split])
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the box at offset 32 differs from the one measured before (changed while read?)")):
        walk.feed(data[split:])


@pytest.mark.parametrize("chunk", [1, 3, 8, 13, 100])
def test_walk_fed_in_chunks_gives_what_strip_gives(chunk):
    data = container_of(ib.jxl_exif_box(EXIF), XML, *jxlp_parts(CODESTREAM[:50], CODESTREAM[50:] + TRAILER), XML)
    expected = metadata.strip(data, keep_copyright=True)
    walk = jxl.open_walk(len(data), _read_range(data), True)
    out = b"".join(walk.feed(data[start : start + chunk]) for start in range(0, len(data), chunk)) + walk.finish()
    assert out == expected
    assert b.SECRET not in out and b"<x:xmpmeta" not in out
