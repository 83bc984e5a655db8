"""AV1 item payloads and av1C: real Pillow (libavif) encodes pass byte for byte; planted T.35
metadata, padding and other OBUs a picture does not need are removed; HDR metadata stays;
what cannot be delimited is refused."""

from __future__ import annotations

import image_builders as b
import payload_builders as pb
import pytest
from metadata import ImageError
from metadata.formats import av1
from metadata.limits import MAX_CODED_UNITS
from operation_counts import CopyCountingBytes, count_calls
from payload_builders import obu


def _real_av1() -> list[pb.RealItem]:
    return [item for item in pb.real_items() if item.type == b"av01"]


def _split(payload: bytes) -> tuple[bytes, bytes]:
    """A real payload as (everything before its frame OBUs, the frame OBUs)."""
    found = pb.obus(payload)
    first_frame = next(i for i, (kind, _) in enumerate(found) if kind in (pb.FRAME, pb.TILE_GROUP, pb.FRAME_HEADER))
    return b"".join(unit for _, unit in found[:first_frame]), b"".join(unit for _, unit in found[first_frame:])


@pytest.mark.parametrize("item", _real_av1(), ids=lambda item: item.name)
def test_real_payload_and_av1c_are_served_as_they_are(item):
    assert av1.check_obus(item.payload) is item.payload
    assert av1.check_av1c(item.config) is item.config
    assert [kind for kind, _ in pb.obus(item.payload)][:2] == [pb.TEMPORAL_DELIMITER, pb.SEQUENCE_HEADER]


def test_planted_t35_metadata_is_removed_and_the_rest_kept_byte_for_byte():
    payload = pb.real_item(b"av01").payload
    head, frames = _split(payload)
    planted = head + pb.t35_metadata() + frames + pb.t35_metadata()
    assert av1.check_obus(planted) == payload


@pytest.mark.parametrize(
    "planted",
    [
        pb.metadata_obu(3, b"\x00" + b.SECRET),  # scalability
        pb.metadata_obu(5, b.SECRET),  # timecode
        pb.metadata_obu(6, b.SECRET),  # unregistered user private
        pb.metadata_obu(31, b.SECRET),
        obu(pb.PADDING, b.SECRET),
        obu(pb.REDUNDANT_FRAME_HEADER, b.SECRET),
        obu(0, b.SECRET),
        obu(9, b.SECRET),
        obu(14, b.SECRET),
        obu(pb.METADATA, pb.leb128(pb.ITUT_T35) + b.SECRET, extension=0x08),
    ],
    ids=["scalability", "timecode", "private-6", "private-31", "padding", "redundant-frame-header", "reserved-0", "reserved-9", "reserved-14", "t35-extension"],
)
def test_obus_a_picture_does_not_need_are_removed(planted):
    payload = pb.real_item(b"av01").payload
    head, frames = _split(payload)
    assert av1.check_obus(head + planted + frames + planted) == payload


def test_hdr_metadata_is_kept_in_the_item_and_in_av1c():
    payload = pb.real_item(b"av01").payload
    head, frames = _split(payload)
    with_hdr = head + pb.hdr_cll() + pb.hdr_mdcv() + frames
    assert av1.check_obus(with_hdr) is with_hdr
    config = pb.real_item(b"av01").config + pb.hdr_cll() + pb.hdr_mdcv()
    assert av1.check_av1c(config) is config


@pytest.mark.parametrize(
    "planted",
    [
        pb.metadata_obu(pb.HDR_CLL, b"\x03\xe8\x01\x90", trailing=b""),
        pb.metadata_obu(pb.HDR_CLL, b"\x03\xe8\x01\x90" + b.SECRET),
        pb.metadata_obu(pb.HDR_CLL, b"\x03\xe8\x01\x90", trailing=b"\x81"),
        pb.metadata_obu(pb.HDR_MDCV, b"\x00" * 23),
    ],
    ids=["no-trailing-bits", "bytes-after", "bad-trailing-bits", "short-mdcv"],
)
def test_hdr_metadata_of_the_wrong_size_is_refused(planted):
    head, frames = _split(pb.real_item(b"av01").payload)
    size = 4 if planted[2] == pb.HDR_CLL else 24
    with pytest.raises(ImageError, match=rf"^AV1: HDR metadata OBU \(type {planted[2]}\) at offset {len(head)} is not {size} bytes of fields and trailing bits$"):
        av1.check_obus(head + planted + frames)


def test_obu_extension_headers_are_read():
    frame = obu(pb.FRAME, b"\x10" * 20, extension=0x20)
    padding = obu(pb.PADDING, b.SECRET, extension=0x20)
    assert av1.check_obus(padding + frame) == frame


def test_the_last_obu_may_fill_the_payload_without_a_size():
    head, frames = _split(pb.real_item(b"av01").payload)
    sizeless = obu(pb.FRAME, b"\x10" * 20, sized=False)
    payload = head + sizeless
    assert av1.check_obus(payload) is payload  # one run, ending exactly at the payload's end
    assert av1.check_obus(head + frames + obu(pb.PADDING, b.SECRET, sized=False)) == head + frames


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (obu(pb.FRAME, b"\x00" * 8)[:-1], "OBU of 8 bytes at offset 0 runs past the 9-byte payload"),
        (bytes((pb.FRAME << 3 | 2,)) + b"\x80" * 8 + b"\x00", "leb128 size at offset 1 is longer than 8 bytes"),
        (bytes((pb.FRAME << 3 | 2,)) + pb.leb128(1 << 32) + b"\x00", "leb128 size at offset 1 is over 2^32 - 1"),
        # the largest size leb128 may give is read as a size (and this one runs past)
        (bytes((pb.FRAME << 3 | 2,)) + pb.leb128((1 << 32) - 1) + b"\x00", "OBU of 4294967295 bytes at offset 0 runs past the 7-byte payload"),
        (bytes((pb.FRAME << 3 | 2,)) + b"\x80\x80", "leb128 size at offset 1 runs past the data"),
        (bytes((pb.FRAME << 3 | 2,)), "leb128 size at offset 1 runs past the data"),
        (bytes((pb.FRAME << 3 | 6,)), "OBU at offset 0 ends inside its header"),
        (b"\x80" + obu(pb.FRAME, b"\x00"), "OBU at offset 0 has its forbidden bit set"),
        (obu(pb.TILE_LIST, b"\x00\x00\x00\x00") + obu(pb.FRAME, b"\x00"), "tile list OBU at offset 0"),
        (obu(pb.TEMPORAL_DELIMITER, b.SECRET) + obu(pb.FRAME, b"\x00"), "temporal delimiter OBU of 13 bytes at offset 0 (it has none)"),
        (obu(pb.SEQUENCE_HEADER, b"\x00") + pb.t35_metadata(), "av01 item of 23 bytes holds no frame or tile group"),
        (b"", "av01 item of 0 bytes holds no frame or tile group"),
    ],
    ids=["truncated", "leb128-9-bytes", "leb128-over-32-bits", "leb128-largest", "leb128-cut", "no-size-byte", "cut-extension", "forbidden-bit",
         "tile-list", "td-with-payload", "no-frame", "empty"],
)
def test_payloads_that_cannot_be_delimited_are_refused(payload, reason):
    with pytest.raises(ImageError) as refused:
        av1.check_obus(payload)
    assert str(refused.value) == f"AV1: {reason}"


def test_a_last_obu_of_just_its_header_without_a_size_is_read():
    frame = obu(pb.FRAME, b"\x10" * 20)
    for last in (obu(pb.PADDING, sized=False), obu(pb.PADDING, extension=0x20, sized=False)):
        assert av1.check_obus(frame + last) == frame


def test_leb128_with_padding_bytes_is_read_up_to_eight_bytes():
    frame_body = b"\x10" * 5
    padded = bytes((pb.FRAME << 3 | 2,)) + pb.leb128(len(frame_body), width=8) + frame_body
    assert av1.check_obus(padded) is padded


def test_many_removed_obus_take_linear_time_and_too_many_are_refused(monkeypatch):
    # MAX_CODED_UNITS OBUs, all but one padding: each OBU's size is read once (one pass over
    # offsets) and no bytes are copied out of the payload before the one join of the kept run.
    frame = obu(pb.FRAME, b"\x10" * 16)
    payload = CopyCountingBytes(obu(pb.PADDING, b"\x00") * (MAX_CODED_UNITS - 1) + frame)
    sizes_read = count_calls(monkeypatch, av1, "read_leb128")
    assert av1.check_obus(payload) == frame
    assert sizes_read.count == MAX_CODED_UNITS
    assert payload.copies.count == 0
    with pytest.raises(ImageError, match=f"more than {MAX_CODED_UNITS} OBUs"):
        av1.check_obus(obu(pb.PADDING) + payload)


def test_kept_obus_around_removed_ones_are_joined_in_order():
    frames = [obu(pb.TILE_GROUP, bytes((i,)) * 3) for i in range(5)]
    planted = [frames[0], pb.t35_metadata(), frames[1], frames[2], obu(pb.PADDING, b.SECRET), pb.t35_metadata(), *frames[3:], obu(pb.PADDING)]
    assert av1.check_obus(b"".join(planted)) == b"".join(frames)


# ---------------------------------------------------------------- av1C


def test_av1c_keeps_its_sequence_header_and_hdr_metadata_and_drops_the_rest():
    item = pb.real_item(b"av01")
    sequence_header = next(unit for kind, unit in pb.obus(item.payload) if kind == pb.SEQUENCE_HEADER)
    kept = item.config + sequence_header + pb.hdr_cll()
    planted = item.config + sequence_header + pb.t35_metadata() + obu(pb.FRAME, b.SECRET) + pb.hdr_cll() + obu(pb.PADDING, b.SECRET)
    assert av1.check_av1c(planted) == kept
    assert av1.check_av1c(kept) is kept


def test_av1c_of_its_four_fixed_bytes_alone_is_served():
    config = b"\x81\x00\x0c\x00"
    assert av1.check_av1c(config) is config


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (b"\x81\x00\x0c", "'av1C' of 3 bytes, shorter than its 4 fixed bytes"),
        (b"\x01\x00\x0c\x00", "'av1C' marker and version byte 0x01 (only 0x81 is defined)"),
        (b"\x82\x00\x0c\x00", "'av1C' marker and version byte 0x82 (only 0x81 is defined)"),
        (b"\x81\x00\x0c\x00" + obu(pb.SEQUENCE_HEADER, b"\x00" * 9)[:-2], "OBU of 9 bytes at offset 0 runs past the 9-byte payload"),
        (b"\x81\x00\x0c\x00" + obu(pb.TILE_LIST, b"\x00"), "tile list OBU at offset 0"),
    ],
    ids=["short", "no-marker", "version-2", "truncated-obu", "tile-list"],
)
def test_malformed_av1c_is_refused(config, reason):
    with pytest.raises(ImageError) as refused:
        av1.check_av1c(config)
    assert str(refused.value) == f"AV1: {reason}"
