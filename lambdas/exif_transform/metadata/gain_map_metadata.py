"""ISO 21496-1 gain map metadata: the binary record, checked to be exactly as long as its fields.

The same record sits in a JPEG APP2 segment (after the identifier ISO_21496_ID), a HEIF/AVIF
`tmap` item and a JPEG XL `jhgm` box. Layout (all big-endian; as libultrahdr's
lib/src/gainmapmetadata.cpp and Skia's src/core/SkGainmapInfo.cpp read it):

    minimum_version  u16   0: a reader that knows version 0 understands the record
    writer_version   u16
    -- a primary image's record ends here ("version only") --
    flags            u8    bit 7 is_multichannel (3 channels, else 1), bit 6
                           use_base_colour_space, bit 2 backward direction, bit 3
                           use_common_denominator; the other bits are reserved
    common denominator:      u32 denominator, u32 base_hdr_headroom_n,
                             u32 alternate_hdr_headroom_n,
                             per channel 5 x u32 (gain_map_min, gain_map_max, gamma,
                             base_offset, alternate_offset numerators)
    otherwise:               u32 n + u32 d for each headroom,
                             per channel 5 x (u32 n + u32 d)

Nothing in the record is metadata about the photographer, but a record longer than its
fields could carry anything after them: such a record, or one of an unknown version, is
not kept.
"""

from __future__ import annotations

ISO_21496_ID = b"urn:iso:std:iso:ts:21496:-1\x00"
VERSION_SIZE = 4  # minimum_version and writer_version
MULTICHANNEL = 0x80
COMMON_DENOMINATOR = 0x08
FIELD = 4


def record_size(record: bytes | memoryview) -> int | None:
    """The size the record's own fields give it (4 for a version-only record); None when
    its minimum_version is not 0 or it is too short to hold its flags."""
    if len(record) < VERSION_SIZE or record[0] or record[1]:
        return None
    if len(record) == VERSION_SIZE:
        return VERSION_SIZE
    flags = record[VERSION_SIZE]
    channels = 3 if flags & MULTICHANNEL else 1
    if flags & COMMON_DENOMINATOR:
        fields = 3 + 5 * channels
    else:
        fields = 4 + 10 * channels
    return VERSION_SIZE + 1 + FIELD * fields


def is_exact_record(record: bytes | memoryview) -> bool:
    """Whether the record is of version 0 and exactly as long as its fields."""
    return record_size(record) == len(record)


def has_parameters(record: bytes | memoryview) -> bool:
    """Whether an exact record carries gain-map parameters (a gain map's), not only a version."""
    return is_exact_record(record) and len(record) > VERSION_SIZE
