"""The dispatcher h15-heif calls for every kept item: each coding type reaches its checker,
JPEG items go through the JPEG strip, other types are refused by a printable name; and,
seeded from real payloads, planted units never survive and every output is a fixed point."""

from __future__ import annotations

import io

import image_builders as b
import payload_builders as pb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metadata import ImageError
from metadata_checks import bounded_memory
from metadata.formats.heif.payloads import SizeOnly
from metadata.formats.item_payloads import check_decoder_config, check_item_payload
from PIL import Image


def _check(item: pb.RealItem, payload: bytes | None = None) -> bytes:
    return check_item_payload(
        item.type, item.payload if payload is None else payload, config=item.config, input_count=0, properties=item.properties
    )


@pytest.mark.parametrize("item", pb.real_items(), ids=lambda item: item.name)
def test_real_items_and_their_configs_pass_unchanged(item):
    assert _check(item) is item.payload
    assert check_decoder_config(item.config_type, item.config) is item.config


def test_hevc_items_are_cleaned_with_the_length_size_of_their_hvcc():
    item = pb.real_item(b"hvc1")
    config = bytearray(item.config)
    config[21] = config[21] & 0xFC | 1  # two-byte lengths
    (slice_unit,) = pb.nal_units(item.payload)
    planted = pb.length_prefixed(pb.sei_user_data(), slice_unit, size=2)
    cleaned = check_item_payload(b"hvc1", planted, config=bytes(config), input_count=0, properties=item.properties)
    assert cleaned == pb.length_prefixed(slice_unit, size=2)
    with pytest.raises(ImageError, match=r"^HEIF: HEVC \('hvc1'\) item has no 'hvcC' property$"):
        check_item_payload(b"hvc1", item.payload, config=None, input_count=0, properties={})


def test_av1_items_are_cleaned_of_t35_metadata():
    item = pb.real_item(b"av01")
    planted = item.payload + pb.t35_metadata()
    assert _check(item, planted) == item.payload


@pytest.mark.parametrize("orientation", [None, 1, 6])
def test_jpeg_items_lose_their_own_exif_xmp_and_comments(orientation):
    # The JPEG strip's rule: only a minimal EXIF block with a non-default Orientation stays.
    original = b.jpeg(orientation)
    assert b.SECRET in original and b"Exif\x00\x00" in original
    cleaned = check_item_payload(b"jpeg", original, config=None, input_count=0, properties={})
    assert b.metadata_problems(cleaned) == []
    assert dict(Image.open(io.BytesIO(cleaned)).getexif()) == ({} if orientation in (None, 1) else {b.ORIENTATION_TAG: 6})
    assert Image.open(io.BytesIO(cleaned)).tobytes() == Image.open(io.BytesIO(original)).tobytes()
    assert check_item_payload(b"jpeg", cleaned, config=None, input_count=0, properties={}) == cleaned


def test_jpeg_items_that_are_not_jpeg_are_refused():
    with pytest.raises(ImageError, match="JPEG"):
        check_item_payload(b"jpeg", b"\xff\xd8\xff\xe0" + b.SECRET, config=None, input_count=0, properties={})


def test_derived_items_reach_their_descriptor_checks_with_the_input_count():
    assert check_item_payload(b"grid", pb.grid(2, 2, 64, 64), config=None, input_count=4, properties={}) == pb.grid(2, 2, 64, 64)
    with pytest.raises(ImageError, match="grid descriptor is 21 bytes"):
        check_item_payload(b"grid", pb.grid(2, 2, 64, 64) + b.SECRET, config=None, input_count=4, properties={})
    with pytest.raises(ImageError, match="grid of 2 x 2 tiles has 3 'dimg' inputs"):
        check_item_payload(b"grid", pb.grid(2, 2, 64, 64), config=None, input_count=3, properties={})
    assert check_item_payload(b"iovl", pb.overlay([(0, 0)], 9, 9), config=None, input_count=1, properties={})
    assert check_item_payload(b"iden", b"", config=None, input_count=1, properties={}) == b""
    assert check_item_payload(b"tmap", pb.tone_map(), config=None, input_count=2, properties={}) == pb.tone_map()
    with pytest.raises(ImageError, match="tone-map"):
        check_item_payload(b"tmap", pb.tone_map() + b"\x00", config=None, input_count=2, properties={})


def test_raw_sample_items_take_their_size_from_their_properties():
    properties = {b"ispe": pb.ispe_payload(4, 3), b"uncC": pb.full_property(1, b"rgb3"), b"mskC": pb.full_property(0, b"\x08")}
    assert check_item_payload(b"unci", b"\x01" * 36, config=None, input_count=0, properties=properties)
    assert check_item_payload(b"mski", b"\x01" * 12, config=None, input_count=0, properties=properties)
    with pytest.raises(ImageError, match="holds 37 bytes, its properties give 36"):
        check_item_payload(b"unci", b"\x01" * 37, config=None, input_count=0, properties=properties)


@pytest.mark.parametrize(("item_type", "size"), [(b"unci", 36), (b"mski", 12)])
def test_raw_sample_items_too_large_to_read_ahead_are_checked_by_their_size_alone(item_type, size):
    # heif/payloads.py hands such an item over as a SizeOnly: a length, no bytes to convert.
    properties = {b"ispe": pb.ispe_payload(4, 3), b"uncC": pb.full_property(1, b"rgb3"), b"mskC": pb.full_property(0, b"\x08")}
    sized = SizeOnly(size)
    assert check_item_payload(item_type, sized, config=None, input_count=0, properties=properties) is sized
    with pytest.raises(ImageError, match=rf"^HEIF: .* item holds {size + 1} bytes, its properties give {size}$"):
        check_item_payload(item_type, SizeOnly(size + 1), config=None, input_count=0, properties=properties)


@pytest.mark.parametrize(
    ("item_type", "shown"),
    [(b"vvc1", "'vvc1'"), (b"avc1", "'avc1'"), (b"j2k1", "'j2k1'"), (b"Exif", "'Exif'"), (b"\x00\xff\n\x7f", "00ff0a7f"), (b"\xe9t\xe9!", "e974e921")],
)
def test_other_item_types_are_refused_by_a_printable_name(item_type, shown):
    with pytest.raises(ImageError, match=f"image items of type {shown} are not supported") as refused:
        check_item_payload(item_type, b.SECRET, config=None, input_count=0, properties={})
    assert b.SECRET.decode() not in str(refused.value)


def test_coded_items_with_derivation_inputs_are_refused():
    item = pb.real_item(b"av01")
    with pytest.raises(ImageError, match="coded item of type 'av01' has 2 'dimg' inputs"):
        check_item_payload(b"av01", item.payload, config=item.config, input_count=2, properties=item.properties)


def test_decoder_configs_other_than_hvcc_and_av1c_are_refused():
    with pytest.raises(ImageError, match="decoder configuration 'avcC' is not supported"):
        check_decoder_config(b"avcC", b"\x01\x64\x00\x1f\xff")


# ---------------------------------------------------------------- seeded from real payloads

HEVC_PLANTS = (
    pb.sei_user_data(),
    pb.nal(pb.SUFFIX_SEI, b"\x05\x10" + b.SECRET),
    pb.nal(pb.AUD, b.SECRET),
    pb.nal(pb.FILLER, b.SECRET),
    pb.nal(23, b.SECRET),
    pb.nal(45, b.SECRET, layer=3),
    pb.nal(62, b.SECRET, temporal_id_plus1=7),
)
AV1_PLANTS = (
    pb.t35_metadata(),
    pb.metadata_obu(6, b.SECRET),
    pb.obu(pb.PADDING, b.SECRET),
    pb.obu(pb.PADDING, b.SECRET, extension=0x48),
    pb.obu(pb.REDUNDANT_FRAME_HEADER, b.SECRET),
    pb.obu(11, b.SECRET),
    pb.obu(pb.METADATA, pb.leb128(pb.ITUT_T35) + b.SECRET, extension=0x10),
)


def _units(item: pb.RealItem) -> list[bytes]:
    if item.type == b"hvc1":
        return [pb.length_prefixed(unit) for unit in pb.nal_units(item.payload)]
    return [unit for _, unit in pb.obus(item.payload)]


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_planted_units_never_survive_and_the_picture_stays_byte_for_byte(draw):
    item = draw.draw(st.sampled_from(pb.real_items()))
    units = _units(item)
    plants = [pb.length_prefixed(p) for p in HEVC_PLANTS] if item.type == b"hvc1" else list(AV1_PLANTS)
    for _ in range(draw.draw(st.integers(1, 6))):
        units.insert(draw.draw(st.integers(0, len(units))), draw.draw(st.sampled_from(plants)))
    cleaned = _check(item, b"".join(units))
    assert b.SECRET not in cleaned
    assert cleaned == item.payload
    assert _check(item, cleaned) is cleaned


def _seeds() -> list[tuple[str, bytes, bytes | None, int, dict[bytes, bytes]]]:
    """(what, payload, config, inputs, properties): item payloads and configs to mutate."""
    seeds = []
    for item in pb.real_items():
        seeds.append((item.type.decode(), item.payload, item.config, 0, item.properties))
        seeds.append((item.config_type.decode(), item.config, None, 0, {}))
    item = pb.real_item(b"av01")
    sequence_header = next(unit for kind, unit in pb.obus(item.payload) if kind == pb.SEQUENCE_HEADER)
    seeds.append(("av1C", item.config + sequence_header + pb.hdr_cll(), None, 0, {}))
    seeds.append(("grid", pb.grid(2, 3, 300, 200), None, 6, {}))
    seeds.append(("iovl", pb.overlay([(1, 2), (3, 4)], 30, 20), None, 2, {}))
    seeds.append(("tmap", pb.tone_map(channels=3), None, 2, {}))
    return seeds


def _run(what: str, payload: bytes, config: bytes | None, inputs: int, properties: dict[bytes, bytes]) -> bytes:
    if what in ("hvcC", "av1C"):
        return check_decoder_config(what.encode(), payload)
    return check_item_payload(what.encode(), payload, config=config, input_count=inputs, properties=properties)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_payloads_are_refused_or_cleaned_to_a_fixed_point(draw):
    what, seed, config, inputs, properties = draw.draw(st.sampled_from(_seeds()))
    data = bytearray(seed)
    for _ in range(draw.draw(st.integers(1, 4))):
        position = draw.draw(st.integers(0, min(len(data) - 1, 80)))  # headers, lengths, sizes
        data[position] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.one_of(st.none(), st.integers(0, len(data))))
    mutated = bytes(data if cut is None else data[:cut])
    try:
        checked = _run(what, mutated, config, inputs, properties)
    except ImageError as refused:
        assert "\\x" not in str(refused)  # messages name types as text or hex, never raw bytes
        return
    assert len(checked) <= len(mutated)
    assert _run(what, checked, config, inputs, properties) == checked


@pytest.mark.parametrize("item", [pb.real_item(b"hvc1"), pb.real_item(b"av01")], ids=lambda item: item.name)
def test_payloads_given_as_memoryviews_are_read_like_bytes(item):
    planted = item.payload + (pb.length_prefixed(pb.sei_user_data()) if item.type == b"hvc1" else pb.t35_metadata())
    cleaned = check_item_payload(item.type, memoryview(planted), config=item.config, input_count=0, properties=item.properties)
    assert type(cleaned) is bytes and cleaned == item.payload
    unchanged = check_item_payload(item.type, memoryview(item.payload), config=item.config, input_count=0, properties=item.properties)
    assert type(unchanged) is bytes and unchanged == item.payload
    config = check_decoder_config(item.config_type, memoryview(item.config))
    assert type(config) is bytes and config == item.config


HOSTILE = [
    ("hvc1", b"\xff\xff\xff\xff" + pb.nal(pb.IDR_W_RADL), "runs past"),
    ("hvc1", pb.length_prefixed(pb.nal(pb.PREFIX_SEI, b"\x05")) * 1_000_000, "more than 8192 NAL units"),
    ("av01", bytes((pb.FRAME << 3 | 2,)) + pb.leb128((1 << 32) - 1) + b"\x00", "runs past"),
    ("av01", pb.obu(pb.PADDING) * 1_000_000, "more than 8192 OBUs"),
    ("hvcC", pb.real_item(b"hvc1").config[:22] + b"\xff" + (bytes((pb.SPS,)) + b"\xff\xff") * 255, "65535 NAL units needs"),
    ("unci", b"\x00" * 16, "at most"),
    ("mski", b"\x00" * 16, "at most"),
]


@pytest.mark.parametrize(("what", "payload", "reason"), HOSTILE, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(HOSTILE)])
def test_hostile_payloads_are_refused_in_bounded_memory(what, payload, reason):
    item = pb.real_item(b"hvc1")
    huge = {b"ispe": pb.ispe_payload(0xFFFFFFFF, 0xFFFFFFFF), b"uncC": pb.full_property(1, b"rgba"), b"mskC": pb.full_property(0, b"\x10")}
    with bounded_memory(), pytest.raises(ImageError, match=reason):
        _run(what, payload, item.config, 0, huge)
