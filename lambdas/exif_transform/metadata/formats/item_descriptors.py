"""Derived image items of HEIF/AVIF: their descriptors, parsed exactly.

A derived item's payload is a small descriptor, not coded picture data; a decoder reads
its fields and nothing after them, so any byte beyond the fields (or a field missing) is
refused: there is no way to remove bytes from a descriptor without changing it.

Byte layout (ISO/IEC 23008-12:2022, 6.6.2; libheif libheif/image-items/grid.cc,
overlay.cc; libavif src/read.c avifParseImageGridBox, avifParseToneMappedImageBox):
    grid   u8 version = 0, u8 flags (bit 0: 32-bit sizes, else 16-bit),
           u8 rows_minus_one, u8 columns_minus_one, output_width, output_height;
           rows * columns 'dimg' inputs, exactly
    iovl   u8 version = 0, u8 flags (bit 0 as for grid), 4 x u16 canvas_fill_value,
           output_width, output_height, then per 'dimg' input: signed horizontal and
           vertical offset (16 or 32 bits each)
    iden   no payload at all; exactly one 'dimg' input
    tmap   u8 version = 0, then ISO 21496-1 gain-map metadata (libavif
           avifParseGainMapMetadata; libultrahdr gainmapmetadata.cpp for flag bits 2-3):
           u16 minimum_version = 0, u16 writer_version >= minimum_version,
           u8 flags: bit 7 is_multichannel (3 channels, else 1), bit 6
              use_base_colour_space, bit 3 use_common_denominator, bit 2
              backward_direction, bits 5, 4, 1, 0 reserved (0);
           without a common denominator: base and alternate HDR headroom (u32 n, u32 d
              each), then per channel gain_map_min (s32 n, u32 d), gain_map_max (s32,
              u32), gamma (u32, u32), base_offset (s32, u32), alternate_offset (s32, u32);
           with one: u32 common denominator, then the same numerators without their
              denominators (2 + 5 per channel, u32 each);
           exactly two 'dimg' inputs (the base image, then the gain map)
"""

from __future__ import annotations

from ..byte_reader import ByteReader
from ..errors import ImageError

DESCRIPTOR_VERSION = 0
WIDE_SIZES = 0x01  # grid/iovl flag: 32-bit output sizes and offsets
GRID_FIXED = 4  # version, flags, rows_minus_one, columns_minus_one
OVERLAY_FIXED = 2 + 4 * 2  # version, flags, four canvas fill values
FIELD_BYTES = {0: 2, WIDE_SIZES: 4}

TMAP_HEADER = 1 + 2 + 2 + 1  # version, minimum_version, writer_version, flags
GAIN_MAP_METADATA_VERSION = 0  # the only ISO 21496-1 minimum_version there is
MULTICHANNEL, BASE_COLOUR_SPACE, COMMON_DENOMINATOR, BACKWARD_DIRECTION = 0x80, 0x40, 0x08, 0x04
TMAP_KNOWN_FLAGS = MULTICHANNEL | BASE_COLOUR_SPACE | COMMON_DENOMINATOR | BACKWARD_DIRECTION
HEADROOM_FRACTIONS, CHANNEL_FRACTIONS = 2, 5
FRACTION_PART = 4  # a u32/s32 numerator or denominator
TMAP_INPUTS = 2
IDENTITY_INPUTS = 1


def _exact_size(payload: bytes, size: int, what: str) -> None:
    if len(payload) != size:
        raise ImageError(f"HEIF: {what} is {len(payload)} bytes, its fields take {size}")


def _version_and_flags(payload: bytes, what: str) -> int:
    reader = ByteReader(payload, f"HEIF {what}")
    version = reader.u8("version")
    flags = reader.u8("flags")
    if version != DESCRIPTOR_VERSION:
        raise ImageError(f"HEIF: {what} version {version} (only {DESCRIPTOR_VERSION} is defined)")
    if flags & ~WIDE_SIZES:
        raise ImageError(f"HEIF: {what} sets reserved flags {flags:#04x}")
    return FIELD_BYTES[flags & WIDE_SIZES]


def check_grid(payload: bytes, input_count: int) -> bytes:
    """An ImageGrid descriptor, exactly its fields, with rows * columns inputs."""
    field = _version_and_flags(payload, "grid descriptor")
    _exact_size(payload, GRID_FIXED + 2 * field, "grid descriptor")
    rows, columns = payload[2] + 1, payload[3] + 1
    if rows * columns != input_count:
        raise ImageError(f"HEIF: grid of {rows} x {columns} tiles has {input_count} 'dimg' inputs")
    width = int.from_bytes(payload[GRID_FIXED : GRID_FIXED + field], "big")
    height = int.from_bytes(payload[GRID_FIXED + field :], "big")
    if not width or not height:
        raise ImageError(f"HEIF: grid output size {width} x {height}")
    return payload


def check_overlay(payload: bytes, input_count: int) -> bytes:
    """An ImageOverlay descriptor: fill colour, output size, one offset pair per input."""
    field = _version_and_flags(payload, "overlay descriptor")
    if input_count < 1:
        raise ImageError("HEIF: overlay with no 'dimg' inputs")
    _exact_size(payload, OVERLAY_FIXED + 2 * field + input_count * 2 * field, "overlay descriptor")
    width = int.from_bytes(payload[OVERLAY_FIXED : OVERLAY_FIXED + field], "big")
    height = int.from_bytes(payload[OVERLAY_FIXED + field : OVERLAY_FIXED + 2 * field], "big")
    if not width or not height:
        raise ImageError(f"HEIF: overlay output size {width} x {height}")
    return payload


def check_identity(payload: bytes, input_count: int) -> bytes:
    """An identity derivation has no payload and exactly one input."""
    _exact_size(payload, 0, "identity ('iden') item")
    if input_count != IDENTITY_INPUTS:
        raise ImageError(f"HEIF: identity ('iden') item has {input_count} 'dimg' inputs, not 1")
    return payload


def check_tone_map(payload: bytes, input_count: int) -> bytes:
    """A 'tmap' item: version 0 and ISO 21496-1 gain-map metadata, exactly its fields."""
    what = "tone-map ('tmap') item"
    reader = ByteReader(payload, f"HEIF {what}")
    version = reader.u8("version")
    if version != DESCRIPTOR_VERSION:
        raise ImageError(f"HEIF: {what} version {version} (only {DESCRIPTOR_VERSION} is defined)")
    minimum = reader.u16be("minimum_version")
    reader.u16be("writer_version")  # any value is at least minimum_version, which must be 0
    flags = reader.u8("flags")
    if minimum != GAIN_MAP_METADATA_VERSION:
        raise ImageError(f"HEIF: {what} needs gain-map metadata version {minimum}")
    if flags & ~TMAP_KNOWN_FLAGS:
        raise ImageError(f"HEIF: {what} sets reserved flags {flags:#04x}")
    channels = 3 if flags & MULTICHANNEL else 1
    fractions = HEADROOM_FRACTIONS + CHANNEL_FRACTIONS * channels
    if flags & COMMON_DENOMINATOR:
        fields = 1 + fractions  # the denominator once, then the numerators
    else:
        fields = 2 * fractions
    _exact_size(payload, TMAP_HEADER + fields * FRACTION_PART, what)
    if input_count != TMAP_INPUTS:
        raise ImageError(f"HEIF: {what} has {input_count} 'dimg' inputs, not {TMAP_INPUTS}")
    return payload
