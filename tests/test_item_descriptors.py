"""Derived items (grid, iovl, iden, tmap) and raw-sample items (unci, mski): exact sizes,
every byte after the fields or a field missing refused, input counts checked."""

from __future__ import annotations

import re
import struct

import image_builders as b
import payload_builders as pb
import pytest
from metadata import ImageError
from metadata.formats import item_descriptors as d
from metadata.formats import uncompressed as u
from metadata.limits import MAX_PIXELS
from payload_builders import full_property, ispe_payload


def _cut_reasons(reader_name: str, fields: list[tuple[str, int]]):
    """(cut length, the exact refusal) for every length short of the fields (name, size):
    a payload cut inside a field is refused naming that field, the bytes it needs, those
    left and its offset."""
    start = 0
    for name, size in fields:
        for length in range(start, start + size):
            yield length, f"{reader_name}: {name} needs {size} bytes but {length - start} are left at offset {start}"
        start += size


# ---------------------------------------------------------------- grid


@pytest.mark.parametrize(("rows", "columns", "wide"), [(1, 1, False), (2, 3, False), (256, 256, True)])
def test_grid_descriptors_of_both_field_sizes_pass(rows, columns, wide):
    descriptor = pb.grid(rows, columns, 512 * columns, 512 * rows, wide=wide)
    assert len(descriptor) == (12 if wide else 8)
    assert d.check_grid(descriptor, rows * columns) is descriptor


@pytest.mark.parametrize(
    ("descriptor", "inputs", "reason"),
    [
        (pb.grid(2, 2, 128, 128) + b.SECRET, 4, "grid descriptor is 21 bytes, its fields take 8"),
        (pb.grid(2, 2, 128, 128)[:-1], 4, "grid descriptor is 7 bytes, its fields take 8"),
        (pb.grid(2, 2, 128, 128, wide=True)[:8], 4, "grid descriptor is 8 bytes, its fields take 12"),
        (pb.grid(2, 2, 128, 128), 3, r"grid of 2 x 2 tiles has 3 'dimg' inputs"),
        (pb.grid(2, 2, 128, 128), 5, r"grid of 2 x 2 tiles has 5 'dimg' inputs"),
        (b"\x01" + pb.grid(1, 1, 64, 64)[1:], 1, "grid descriptor version 1"),
        (b"\x00\x02" + pb.grid(1, 1, 64, 64)[2:], 1, "grid descriptor sets reserved flags 0x02"),
        (pb.grid(1, 1, 0, 64), 1, "^HEIF: grid output size 0 x 64$"),
        # the height is read from its own field, not from the bytes before it
        (pb.grid(1, 1, 64, 0), 1, "^HEIF: grid output size 64 x 0$"),
        (pb.grid(1, 1, 64, 0, wide=True), 1, "^HEIF: grid output size 64 x 0$"),
        (b"", 1, "version needs 1 bytes"),
    ],
    ids=["trailing", "short", "wide-cut", "too-few-inputs", "too-many-inputs", "version", "flags", "zero-width", "zero-height", "zero-height-wide", "empty"],
)
def test_bad_grid_descriptors_are_refused(descriptor, inputs, reason):
    with pytest.raises(ImageError, match=reason):
        d.check_grid(descriptor, inputs)


# ---------------------------------------------------------------- iovl


@pytest.mark.parametrize("wide", [False, True])
def test_overlay_descriptor_has_one_offset_pair_per_input(wide):
    descriptor = pb.overlay([(0, 0), (-16, 32), (100, -7)], 256, 128, wide=wide)
    assert d.check_overlay(descriptor, 3) is descriptor
    with pytest.raises(ImageError, match="overlay descriptor is"):
        d.check_overlay(descriptor, 2)
    with pytest.raises(ImageError, match="overlay descriptor is"):
        d.check_overlay(descriptor + b.SECRET, 3)
    with pytest.raises(ImageError, match="^HEIF: overlay with no 'dimg' inputs$"):
        d.check_overlay(pb.overlay([], 256, 128, wide=wide), 0)
    # The offsets after the output size are not read as part of it.
    with pytest.raises(ImageError, match="^HEIF: overlay output size 256 x 0$"):
        d.check_overlay(pb.overlay([(-16, 32)], 256, 0, wide=wide), 1)
    with pytest.raises(ImageError, match="^HEIF: overlay output size 0 x 128$"):
        d.check_overlay(pb.overlay([(-16, 32)], 0, 128, wide=wide), 1)
    with pytest.raises(ImageError, match="overlay descriptor version 1"):
        d.check_overlay(b"\x01" + descriptor[1:], 3)


# ---------------------------------------------------------------- iden


def test_identity_has_no_payload_and_one_input():
    assert d.check_identity(b"", 1) == b""
    with pytest.raises(ImageError, match=r"identity \('iden'\) item is 13 bytes, its fields take 0"):
        d.check_identity(b.SECRET, 1)
    with pytest.raises(ImageError, match=r"identity \('iden'\) item has 2 'dimg' inputs, not 1"):
        d.check_identity(b"", 2)


# ---------------------------------------------------------------- tmap


@pytest.mark.parametrize(
    ("options", "size"),
    [({}, 62), ({"channels": 3}, 142), ({"common_denominator": True}, 38), ({"channels": 3, "common_denominator": True}, 78),
     ({"flags": 0x40 | 0x04}, 62)],
    ids=["one-channel", "three-channels", "common-denominator", "three-common", "base-colour-space-backward"],
)
def test_tone_map_metadata_of_every_layout_passes(options, size):
    payload = pb.tone_map(**options)
    assert len(payload) == size
    assert d.check_tone_map(payload, 2) is payload


@pytest.mark.parametrize(
    ("payload", "inputs", "reason"),
    [
        (pb.tone_map() + b.SECRET, 2, r"tone-map \('tmap'\) item is 75 bytes, its fields take 62"),
        (pb.tone_map()[:-4], 2, "is 58 bytes, its fields take 62"),
        (pb.tone_map(channels=3)[:62], 2, "is 62 bytes, its fields take 142"),
        (pb.tone_map(), 1, "has 1 'dimg' inputs, not 2"),
        (b"\x01" + pb.tone_map()[1:], 2, "version 1"),
        (b"\x00\x00\x01" + pb.tone_map()[3:], 2, "needs gain-map metadata version 1"),
        (pb.tone_map(flags=0x01), 2, "sets reserved flags 0x01"),
        (pb.tone_map(flags=0x20), 2, "sets reserved flags 0x20"),
        (b"\x00\x00\x00", 2, "writer_version needs 2 bytes"),
    ],
    ids=["trailing", "short", "three-channels-cut", "one-input", "version", "minimum-version", "flag-0", "flag-5", "cut-header"],
)
def test_bad_tone_map_items_are_refused(payload, inputs, reason):
    with pytest.raises(ImageError, match=reason):
        d.check_tone_map(payload, inputs)


@pytest.mark.parametrize(
    ("check", "whole", "inputs", "reader_name", "fields"),
    [
        (d.check_grid, pb.grid(1, 1, 64, 64), 1, "HEIF grid descriptor", [("version", 1), ("flags", 1)]),
        (d.check_overlay, pb.overlay([(0, 0)], 9, 9), 1, "HEIF overlay descriptor", [("version", 1), ("flags", 1)]),
        (d.check_tone_map, pb.tone_map(), 2, "HEIF tone-map ('tmap') item", [("version", 1), ("minimum_version", 2), ("writer_version", 2), ("flags", 1)]),
    ],
    ids=["grid", "iovl", "tmap"],
)
def test_a_descriptor_cut_inside_its_header_is_refused_naming_the_field(check, whole, inputs, reader_name, fields):
    for length, reason in _cut_reasons(reader_name, fields):
        with pytest.raises(ImageError) as refused:
            check(whole[:length], inputs)
        assert str(refused.value) == reason


def test_a_newer_writer_version_with_the_same_fields_passes_and_extra_fields_are_refused():
    newer = pb.tone_map(writer_version=3)
    assert d.check_tone_map(newer, 2) is newer
    with pytest.raises(ImageError, match="its fields take 62"):
        d.check_tone_map(newer + struct.pack(">I", 7), 2)


# ---------------------------------------------------------------- mski


@pytest.mark.parametrize("bits", [8, 16])
def test_mask_payload_is_width_times_height_samples(bits):
    properties = {b"ispe": ispe_payload(30, 20), b"mskC": full_property(0, bytes((bits,)))}
    payload = b"\x7f" * (30 * 20 * bits // 8)
    assert u.check_mask(payload, properties) is payload
    with pytest.raises(ImageError, match=rf"^HEIF: mask \('mski'\) item holds {len(payload) + 13} bytes, its properties give {len(payload)}$"):
        u.check_mask(payload + b.SECRET, properties)
    with pytest.raises(ImageError, match="its properties give"):
        u.check_mask(payload[:-1], properties)


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({b"mskC": full_property(0, b"\x08")}, r"^HEIF: mask \('mski'\) item has no 'ispe' property$"),
        ({b"ispe": ispe_payload(30, 20)}, r"^HEIF: mask \('mski'\) item has no 'mskC' property$"),
        ({b"ispe": ispe_payload(30, 20), b"mskC": full_property(0, b"\x01")}, "1 bits per pixel"),
        ({b"ispe": ispe_payload(30, 20), b"mskC": full_property(0, b"\x08\x00")}, "'mskC' has 1 bytes after its fields"),
        ({b"ispe": ispe_payload(30, 20) + b"\x00", b"mskC": full_property(0, b"\x08")}, "'ispe' has 1 bytes after its fields"),
        ({b"ispe": ispe_payload(0, 20), b"mskC": full_property(0, b"\x08")}, "0 x 20 pixels"),
        ({b"ispe": ispe_payload(65535, 65535), b"mskC": full_property(0, b"\x08")},
         rf"^HEIF: mask \('mski'\) item of 65535 x 65535 pixels \(at most {MAX_PIXELS} are served\)$"),
    ],
    ids=["no-ispe", "no-mskc", "one-bit", "long-mskc", "long-ispe", "zero-width", "too-many-pixels"],
)
def test_masks_without_a_supported_layout_are_refused(properties, reason):
    with pytest.raises(ImageError, match=reason):
        u.check_mask(b"\x00" * 600, properties)


@pytest.mark.parametrize(("width", "height"), [(MAX_PIXELS, 1), (1, MAX_PIXELS), (15625, 16000)])
def test_an_image_of_exactly_max_pixels_is_sized_and_one_more_is_refused(width, height):
    assert width * height == MAX_PIXELS
    assert u.image_size({b"ispe": ispe_payload(width, height)}, "mask ('mski')") == (width, height)
    wider = {b"ispe": ispe_payload(width + 1, height)}
    with pytest.raises(ImageError, match=rf"^HEIF: mask \('mski'\) item of {width + 1} x {height} pixels \(at most {MAX_PIXELS} are served\)$"):
        u.image_size(wider, "mask ('mski')")


# ---------------------------------------------------------------- unci


def _uncc_v0(components: list[tuple[int, int]], *, interleave: int = 1, sampling: int = 0, flags: int = 0, layout=(0, 0, 0, 0, 0)) -> bytes:
    """uncC version 0 with (bit depth, align size) unsigned components."""
    fields = [struct.pack(">4sI", b"\x00\x00\x00\x00", len(components))]
    fields += [struct.pack(">HBBB", i, bits - 1, 0, align) for i, (bits, align) in enumerate(components)]
    fields.append(struct.pack(">BBBB5I", sampling, interleave, 0, flags, *layout))
    return full_property(0, *fields)


@pytest.mark.parametrize(
    ("uncc", "pixel_bytes"),
    [
        (full_property(1, b"rgb3"), 3),
        (full_property(1, b"rgba"), 4),
        (full_property(1, b"abgr"), 4),
        (_uncc_v0([(8, 0), (8, 0), (8, 0)]), 3),
        (_uncc_v0([(16, 2), (16, 2), (16, 2), (16, 0)], interleave=0, flags=0x80), 8),
        (_uncc_v0([(8, 1)]), 1),
    ],
    ids=["rgb3", "rgba", "abgr", "rgb8", "rgba16-planar-le", "grey8"],
)
def test_uncompressed_payload_size_follows_from_uncc(uncc, pixel_bytes):
    properties = {b"ispe": ispe_payload(7, 5), b"uncC": uncc, b"cmpd": struct.pack(">IHHH", 3, 4, 5, 6)}
    payload = b"\x55" * (7 * 5 * pixel_bytes)
    assert u.check_uncompressed(payload, properties) is payload
    with pytest.raises(ImageError, match=rf"^HEIF: uncompressed \('unci'\) item holds {len(payload) + 13} bytes, its properties give {len(payload)}$"):
        u.check_uncompressed(payload + b.SECRET, properties)


@pytest.mark.parametrize(
    ("uncc", "extra", "reason"),
    [
        (full_property(1, b"2vuy"), {}, r"^HEIF: uncompressed \('unci'\) profile 32767579 is not supported \(rgb3, rgba, abgr are\)$"),
        (full_property(1, b"rgb3\x00"), {}, "'uncC' has 1 bytes after its fields"),
        (full_property(2, b"rgb3"), {}, "'uncC' version 2"),
        (_uncc_v0([(10, 0)]), {}, "component of 10 bits"),
        (_uncc_v0([(8, 4)]), {}, "alignment 4 is not supported"),
        (_uncc_v0([(8, 0)], sampling=2), {}, "layout .* is not supported"),
        (_uncc_v0([(8, 0)], interleave=2), {}, "layout .* is not supported"),
        (_uncc_v0([(8, 0)], flags=0x40), {}, "layout .* is not supported"),
        (_uncc_v0([(8, 0)], layout=(0, 4, 0, 0, 0)), {}, "layout .* is not supported"),
        (_uncc_v0([(8, 0)], layout=(0, 0, 0, 1, 0)), {}, "layout .* is not supported"),
        (_uncc_v0([]), {}, "layout .* is not supported"),
        (_uncc_v0([(8, 0)]) + b"\x00", {}, "'uncC' has 1 bytes after its fields"),
        (full_property(0, b"\x00" * 4, struct.pack(">I", 0xFFFFFFFF)), {},
         "^HEIF 'uncC' property: 4294967295 components needs 21474836475 bytes but 0 are left at offset 12$"),
        (full_property(1, b"rgb3"), {b"cmpC": b"\x00" * 12}, r"compressed uncompressed \('unci'\) items \('cmpC'\)"),
        (full_property(1, b"rgb3"), {b"icef": b"\x00" * 12}, r"\('icef'\) are not supported"),
    ],
    ids=["yuv-profile", "long-v1", "version-2", "10-bit", "align-4", "subsampled", "row-interleave", "block-pad", "row-align",
         "tiles", "no-components", "long-v0", "huge-count", "cmpC", "icef"],
)
def test_uncompressed_layouts_beyond_the_common_ones_are_refused(uncc, extra, reason):
    properties = {b"ispe": ispe_payload(7, 5), b"uncC": uncc, **extra}
    with pytest.raises(ImageError, match=reason):
        u.check_uncompressed(b"\x55" * 105, properties)


@pytest.mark.parametrize(
    ("properties", "missing"),
    [({b"uncC": full_property(1, b"rgb3")}, "ispe"), ({b"ispe": ispe_payload(7, 5)}, "uncC")],
)
def test_uncompressed_item_without_its_size_or_layout_property_is_refused(properties, missing):
    with pytest.raises(ImageError, match=rf"^HEIF: uncompressed \('unci'\) item has no '{missing}' property$"):
        u.check_uncompressed(b"\x55" * 105, properties)


# Each property's fields in order, (name the reader gives, size).
_FULL_BOX = [("version", 1), ("flags", 3)]
_ISPE_FIELDS = [*_FULL_BOX, ("image_width", 4), ("image_height", 4)]
_MSKC_FIELDS = [*_FULL_BOX, ("bits_per_pixel", 1)]
_UNCC_V1_FIELDS = [*_FULL_BOX, ("profile", 4)]
_UNCC_V0_FIELDS = [
    *_FULL_BOX, ("profile", 4), ("component_count", 4), ("2 components", 10),
    ("sampling_type", 1), ("interleave_type", 1), ("block_size", 1), ("flags", 1),
    ("pixel_size", 4), ("row_align_size", 4), ("tile_align_size", 4), ("num_tile_cols_minus_one", 4), ("num_tile_rows_minus_one", 4),
]


@pytest.mark.parametrize(
    ("box_type", "whole", "fields"),
    [
        (b"ispe", ispe_payload(7, 5), _ISPE_FIELDS),
        (b"mskC", full_property(0, b"\x08"), _MSKC_FIELDS),
        (b"uncC", full_property(1, b"rgb3"), _UNCC_V1_FIELDS),
        (b"uncC", _uncc_v0([(8, 0), (8, 0)]), _UNCC_V0_FIELDS),
    ],
    ids=["ispe", "mskC", "uncC-v1", "uncC-v0"],
)
def test_a_cut_property_is_refused_naming_the_field_it_cuts(box_type, whole, fields):
    assert len(whole) == sum(size for _, size in fields)
    check = u.check_mask if box_type in (b"ispe", b"mskC") else u.check_uncompressed
    whole_properties = {b"ispe": ispe_payload(7, 5), b"mskC": full_property(0, b"\x08"), b"uncC": full_property(1, b"rgb3")}
    for length, reason in _cut_reasons(f"HEIF '{box_type.decode()}' property", fields):
        properties = {**whole_properties, box_type: whole[:length]}
        with pytest.raises(ImageError, match=f"^{re.escape(reason)}$"):
            check(b"\x00" * 105, properties)
