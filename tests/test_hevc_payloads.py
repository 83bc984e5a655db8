"""HEVC item payloads and hvcC: real pillow-heif encodes pass byte for byte; planted SEI user
data and NAL units a picture does not need are removed; what cannot be delimited is refused."""

from __future__ import annotations

import image_builders as b
import payload_builders as pb
import pytest
from metadata import ImageError
from metadata.formats import hevc
from metadata.limits import MAX_CODED_UNITS
from operation_counts import CopyCountingBytes, count_calls
from payload_builders import nal


def _real_hevc() -> list[pb.RealItem]:
    return [item for item in pb.real_items() if item.type == b"hvc1"]


@pytest.mark.parametrize("item", _real_hevc(), ids=lambda item: item.name)
def test_real_payload_and_hvcc_are_served_as_they_are(item):
    assert hevc.check_hvc1(item.payload, hevc.length_size(item.config)) is item.payload
    assert hevc.check_hvcc(item.config) is item.config


def test_planted_sei_user_data_is_removed_and_the_slices_kept_byte_for_byte():
    item = pb.real_item(b"hvc1")
    (slice_unit,) = pb.nal_units(item.payload)
    planted = pb.length_prefixed(pb.sei_user_data(), slice_unit, nal(pb.SUFFIX_SEI, b"\x05\x10" + b.SECRET + b"\x80"))
    assert hevc.check_hvc1(planted, 4) == item.payload


@pytest.mark.parametrize(
    "unit_type",
    [pb.AUD, 36, 37, pb.FILLER, pb.PREFIX_SEI, pb.SUFFIX_SEI, 10, 15, 22, 23, 24, 31, 41, 47, 48, 63],
)
def test_nal_units_other_than_slices_and_parameter_sets_are_removed(unit_type):
    item = pb.real_item(b"hvc1")
    (slice_unit,) = pb.nal_units(item.payload)
    planted = pb.length_prefixed(nal(unit_type, b.SECRET), slice_unit, nal(unit_type, b.SECRET))
    assert hevc.check_hvc1(planted, 4) == item.payload


@pytest.mark.parametrize("unit_type", [0, 1, 9, 16, 21, pb.VPS, pb.SPS, pb.PPS])
def test_coded_slices_and_parameter_sets_are_kept(unit_type):
    item = pb.real_item(b"hvc1")
    payload = pb.length_prefixed(nal(unit_type, b"\x01\x02"), item.payload[4:])
    assert hevc.check_hvc1(payload, 4) is payload


@pytest.mark.parametrize("size", [1, 2, 4])
def test_every_length_size_of_hvcc_is_read(size):
    units = [nal(pb.PREFIX_SEI, b.SECRET), nal(pb.IDR_W_RADL, b"\xaf" * 40)]
    assert hevc.check_hvc1(pb.length_prefixed(*units, size=size), size) == pb.length_prefixed(units[1], size=size)


def test_length_size_comes_from_hvcc_and_three_bytes_are_refused():
    config = bytearray(pb.real_item(b"hvc1").config)
    for minus_one, size in ((0, 1), (1, 2), (3, 4)):
        config[21] = config[21] & 0xFC | minus_one
        assert hevc.length_size(bytes(config)) == size
    config[21] = config[21] & 0xFC | 2
    with pytest.raises(ImageError, match=r"^HEVC: 'hvcC' lengthSizeMinusOne 2 \(only 0, 1 and 3 are allowed\)$"):
        hevc.length_size(bytes(config))
    with pytest.raises(ImageError, match=r"^HEVC: 'hvcC' lengthSizeMinusOne 2 \(only 0, 1 and 3 are allowed\)$"):
        hevc.check_hvcc(bytes(config))


def test_length_size_needs_the_22_fixed_bytes_of_hvcc_and_no_more():
    fixed = pb.real_item(b"hvc1").config[:22]
    assert hevc.length_size(fixed) == (fixed[21] & 3) + 1
    with pytest.raises(ImageError, match=r"^HEVC: 'hvcC' of 21 bytes, shorter than its 22-byte fixed fields$"):
        hevc.length_size(fixed[:21])


def test_length_sizes_other_than_one_two_and_four_are_refused():
    payload = b"\x00\x00\x04" + nal(pb.IDR_W_RADL, b"\x00")
    with pytest.raises(ImageError, match="^HEVC: NAL unit length size 3$"):
        hevc.check_hvc1(payload, 3)


def test_a_nal_unit_of_just_its_two_byte_header_is_read():
    header_only_slice = nal(pb.IDR_W_RADL)
    assert len(header_only_slice) == 2
    assert hevc.check_hvc1(pb.length_prefixed(nal(pb.AUD), header_only_slice), 4) == pb.length_prefixed(header_only_slice)


@pytest.mark.parametrize(("layer", "temporal_id_plus1"), [(0, 1), (1, 7), (32, 1), (63, 7)])
def test_nal_units_of_every_layer_and_temporal_id_are_treated_alike(layer, temporal_id_plus1):
    slice_unit = nal(pb.IDR_W_RADL, b"\xaf" * 8, layer=layer, temporal_id_plus1=temporal_id_plus1)
    sei = nal(pb.PREFIX_SEI, b.SECRET, layer=layer, temporal_id_plus1=temporal_id_plus1)
    assert hevc.check_hvc1(pb.length_prefixed(sei, slice_unit), 4) == pb.length_prefixed(slice_unit)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (pb.length_prefixed(nal(pb.IDR_W_RADL, b"\x00" * 8))[:-1], "NAL unit of 10 bytes at offset 0 runs past the item's 13 bytes"),
        (pb.length_prefixed(nal(pb.IDR_W_RADL, b"\x00" * 8)) + b"\x00\x00", "hvc1 item ends inside a NAL unit length at offset 14"),
        (b"\xff\xff\xff\xff" + nal(pb.IDR_W_RADL), "NAL unit of 4294967295 bytes at offset 0 runs past the item's 6 bytes"),
        (pb.length_prefixed(b"", nal(pb.IDR_W_RADL)), "hvc1 item has a NAL unit of 0 bytes at offset 0, shorter than its header"),
        # a whole length field, then nothing: an empty unit, not a cut length
        (pb.length_prefixed(nal(pb.IDR_W_RADL, b"\x00")) + b"\x00" * 4, "hvc1 item has a NAL unit of 0 bytes at offset 7, shorter than its header"),
        (pb.length_prefixed(b"\x26"), "hvc1 item has a NAL unit of 1 bytes at offset 0, shorter than its header"),
        (pb.length_prefixed(b"\xa6\x01\x00"), "hvc1 item has a NAL unit with its forbidden_zero_bit set at offset 0"),
        (pb.length_prefixed(nal(pb.IDR_W_RADL, b"\x00", temporal_id_plus1=0)), "hvc1 item has a NAL unit with nuh_temporal_id_plus1 0 at offset 0"),
        (pb.length_prefixed(pb.sei_user_data(), nal(pb.SPS, b"\x01")), "hvc1 item of 45 bytes holds no coded slice"),
        (b"", "hvc1 item of 0 bytes holds no coded slice"),
    ],
    ids=["truncated", "cut-length", "huge-length", "empty-unit", "empty-last-unit", "one-byte-unit", "forbidden-bit", "temporal-id-0", "no-slice",
         "empty"],
)
def test_payloads_that_cannot_be_delimited_are_refused(payload, reason):
    with pytest.raises(ImageError) as refused:
        hevc.check_hvc1(payload, 4)
    assert str(refused.value) == f"HEVC: {reason}"


def test_many_removed_units_take_linear_time_and_too_many_are_refused(monkeypatch):
    # MAX_CODED_UNITS units, all but one SEI: each unit's header is read once (one pass over
    # offsets) and no bytes are copied out of the payload before the one join of the kept run.
    units = [nal(pb.PREFIX_SEI, b"\x05")] * (MAX_CODED_UNITS - 1) + [nal(pb.IDR_W_RADL, b"\xaf" * 16)]
    payload = CopyCountingBytes(pb.length_prefixed(*units))
    headers_read = count_calls(monkeypatch, hevc, "nal_type")
    assert hevc.check_hvc1(payload, 4) == pb.length_prefixed(units[-1])
    assert headers_read.count == MAX_CODED_UNITS
    assert payload.copies.count == 0
    with pytest.raises(ImageError, match=f"hvc1 item has more than {MAX_CODED_UNITS} NAL units"):
        hevc.check_hvc1(pb.length_prefixed(nal(pb.PREFIX_SEI, b"\x05"), *units), 4)


def test_kept_units_around_removed_ones_are_joined_in_order():
    slices = [nal(1, bytes((i,)) * 3) for i in range(6)]
    units = [slices[0], slices[1], pb.sei_user_data(), slices[2], pb.sei_user_data(), pb.sei_user_data(), *slices[3:], nal(pb.AUD, b"\x50")]
    assert hevc.check_hvc1(pb.length_prefixed(*units), 4) == pb.length_prefixed(*slices)


# ---------------------------------------------------------------- hvcC


def test_sei_arrays_in_hvcc_are_removed_and_num_of_arrays_rewritten():
    config = pb.real_item(b"hvc1").config
    planted = pb.hvcc_with(config, pb.hvcc_array(pb.PREFIX_SEI, pb.sei_user_data()), pb.hvcc_array(pb.SUFFIX_SEI, nal(pb.SUFFIX_SEI, b.SECRET)))
    cleaned = hevc.check_hvcc(planted)
    assert cleaned == config
    assert cleaned[22] == config[22] == 3


def test_an_sei_array_between_parameter_sets_goes_and_the_order_stays():
    config = pb.real_item(b"hvc1").config
    arrays, position = [], 23
    for _ in range(config[22]):
        count = int.from_bytes(config[position + 1 : position + 3], "big")
        end = position + 3
        for _ in range(count):
            end += 2 + int.from_bytes(config[end : end + 2], "big")
        arrays.append(config[position:end])
        position = end
    sei = pb.hvcc_array(pb.PREFIX_SEI, pb.sei_user_data())
    planted = config[:22] + bytes((4,)) + arrays[0] + sei + b"".join(arrays[1:])
    assert len(arrays) == 3
    assert hevc.check_hvcc(planted) == config


def test_hvcc_of_its_fixed_fields_and_no_arrays_is_served_and_one_byte_less_is_refused():
    fixed = pb.real_item(b"hvc1").config[:22]
    empty = fixed + b"\x00"
    assert hevc.check_hvcc(empty) is empty
    with pytest.raises(ImageError, match=r"^HEVC: 'hvcC' of 22 bytes, shorter than its 23-byte fixed fields$"):
        hevc.check_hvcc(fixed)


def test_hvcc_of_exactly_max_coded_units_header_only_units_is_served_and_one_more_is_refused():
    # Each unit is its two-byte length and two-byte header, ending exactly at the payload's end.
    fixed = pb.real_item(b"hvc1").config[:22]
    header_only = nal(pb.SPS)
    at_limit = fixed + b"\x01" + pb.hvcc_array(pb.SPS, *[header_only] * MAX_CODED_UNITS)
    assert hevc.check_hvcc(at_limit) is at_limit
    half = MAX_CODED_UNITS // 2
    over = fixed + b"\x02" + pb.hvcc_array(pb.SPS, *[header_only] * half) + pb.hvcc_array(pb.SPS, *[header_only] * (half + 1))
    with pytest.raises(ImageError, match=f"^HEVC: 'hvcC' has more than {MAX_CODED_UNITS} NAL units$"):
        hevc.check_hvcc(over)


def _cut_after_array_type(c: bytes) -> bytes:
    return c[:22] + b"\x01" + bytes((pb.SPS,)) + b"\x00"


def _second_length_cut(c: bytes) -> bytes:
    # two units promised, the first long enough that the second's length field is cut
    return c[:22] + b"\x01" + bytes((pb.SPS,)) + b"\x00\x02" + b"\x00\x06" + nal(pb.SPS, b"\x00" * 4) + b"\x00"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda c: c + b"\x00", "HEVC: 'hvcC' has 1 bytes after its 3 arrays"),
        (lambda c: c[:-1], "HEVC 'hvcC': NAL unit needs 6 bytes but 5 are left at offset 104"),
        (lambda c: c[:20], "HEVC: 'hvcC' of 20 bytes, shorter than its 23-byte fixed fields"),
        (lambda c: b"\x02" + c[1:], "HEVC: 'hvcC' configurationVersion 2 (only 1 is defined)"),
        (lambda c: c[:22] + b"\x04" + c[23:], "HEVC 'hvcC': NAL_unit_type needs 1 bytes but 0 are left at offset 110"),
        (_cut_after_array_type, "HEVC 'hvcC': numNalus needs 2 bytes but 1 are left at offset 24"),
        (_second_length_cut, "HEVC 'hvcC': nalUnitLength needs 2 bytes but 1 are left at offset 34"),
        (lambda c: c[:22] + b"\x01" + bytes((pb.SPS,)) + b"\xff\xff", "HEVC 'hvcC': array 0's 65535 NAL units needs 262140 bytes but 0 are left at offset 26"),
        (lambda c: c[:22] + b"\x01" + pb.hvcc_array(pb.SPS, nal(pb.PPS, b"\x01")), "HEVC: 'hvcC' has a NAL unit at offset 28 not of its array's type 33"),
        (lambda c: c[:22] + b"\x01" + pb.hvcc_array(pb.PREFIX_SEI, b"\x4e") + b"\x00", "HEVC: 'hvcC' has a NAL unit of 1 bytes at offset 28, shorter than its header"),
        (lambda c: c[:22] + b"\x02" + (bytes((pb.SPS,)) + b"\x10\x01" + b"\x00\x02\x42\x01" * 0x1001) * 2, "HEVC: 'hvcC' has more than 8192 NAL units"),
    ],
    ids=["trailing", "cut", "short", "version", "missing-array", "cut-count", "cut-second-length", "huge-count", "wrong-type", "short-sei",
         "too-many-units"],
)
def test_malformed_hvcc_is_refused(mutate, reason):
    with pytest.raises(ImageError) as refused:
        hevc.check_hvcc(mutate(pb.real_item(b"hvc1").config))
    assert str(refused.value) == reason
