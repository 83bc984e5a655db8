"""HEVC in HEIF: the hvcC decoder configuration and an hvc1 item's NAL units.

Byte layout (ISO/IEC 14496-15:2022, 8.3.3.1.2 HEVCDecoderConfigurationRecord; libheif
libheif/codecs/hevc_boxes.cc Box_hvcC::parse; ITU-T H.265 7.3.1.2 and table 7-1):
    hvcC   u8 configurationVersion = 1
           u8 profile space (2), tier (1), profile idc (5)
           u32 profile compatibility flags, 6 bytes constraint indicator flags
           u8 level idc
           u16 reserved (4) + min_spatial_segmentation_idc (12)
           u8 reserved (6) + parallelismType (2)
           u8 reserved (6) + chromaFormat (2)
           u8 reserved (5) + bitDepthLumaMinus8 (3)
           u8 reserved (5) + bitDepthChromaMinus8 (3)
           u16 avgFrameRate
           u8 constantFrameRate (2), numTemporalLayers (3), temporalIdNested (1),
              lengthSizeMinusOne (2: 0, 1 or 3)
           u8 numOfArrays, then per array:
              u8 array_completeness (1), reserved (1), NAL_unit_type (6)
              u16 numNalus, then per NAL unit: u16 nalUnitLength, the NAL unit
    hvc1   the item's payload: NAL units, each after a big-endian length of
           lengthSizeMinusOne + 1 bytes
    NAL    u16 header: forbidden_zero_bit (1), nal_unit_type (6), nuh_layer_id (6),
           nuh_temporal_id_plus1 (3); then the payload

What is served, per NAL unit type (H.265 table 7-1):
    0-9, 16-21     coded slices (VCL): kept
    32, 33, 34     VPS, SPS, PPS: kept, in the item and in hvcC's arrays
    10-15, 22-31   reserved VCL types: removed (H.265 7.4.2.2: decoders ignore them)
    35-38          access unit delimiter, end of sequence/bitstream, filler: removed
                   (a single coded picture needs none of them)
    39, 40         prefix and suffix SEI (user data, time codes, camera data): removed
    41-63          reserved and unspecified: removed
hvcC arrays of any other type (SEI arrays carry user data) are removed and numOfArrays
rewritten. A length that runs past the payload, a zero or one-byte NAL unit, a set
forbidden bit or a zero temporal ID is refused: the payload cannot be delimited.
NAL units of every nuh_layer_id are treated alike (a base-layer decoder skips the
others). The payloads of the kept NAL units are not parsed further (an SPS's extension
bits are beyond this check).
"""

from __future__ import annotations

import struct

from ..byte_reader import ByteReader
from ..errors import ImageError
from ..limits import MAX_CODED_UNITS

FMT = "HEVC"
CONFIGURATION_VERSION = 1
HVCC_FIXED_SIZE = 22  # the fixed fields before numOfArrays
LENGTH_SIZE_OFFSET = 21  # the byte whose low two bits are lengthSizeMinusOne
LENGTH_SIZES = frozenset({1, 2, 4})
LENGTH_FIELDS = {1: struct.Struct(">B"), 2: struct.Struct(">H"), 4: struct.Struct(">I")}
NAL_HEADER_SIZE = 2
VPS, SPS, PPS = 32, 33, 34
PARAMETER_SETS = frozenset({VPS, SPS, PPS})
CODED_SLICES = frozenset({*range(0, 10), *range(16, 22)})
KEPT_NAL_TYPES = CODED_SLICES | PARAMETER_SETS


def nal_type(data: bytes | memoryview, start: int, length: int, where: str, offset: int) -> int:
    """The type of the NAL unit data[start:start + length], after checking its header's fixed
    bits; `where` and `offset` name the unit in messages."""
    if length < NAL_HEADER_SIZE:
        raise ImageError(f"{FMT}: {where} has a NAL unit of {length} bytes at offset {offset}, shorter than its header")
    first, second = data[start], data[start + 1]
    if first & 0x80:
        raise ImageError(f"{FMT}: {where} has a NAL unit with its forbidden_zero_bit set at offset {offset}")
    if second & 0x07 == 0:
        raise ImageError(f"{FMT}: {where} has a NAL unit with nuh_temporal_id_plus1 0 at offset {offset}")
    return first >> 1 & 0x3F


def length_size(hvcc: bytes) -> int:
    """The size of the NAL unit length fields of an hvc1 item, from its hvcC payload."""
    if len(hvcc) < HVCC_FIXED_SIZE:
        raise ImageError(f"{FMT}: 'hvcC' of {len(hvcc)} bytes, shorter than its {HVCC_FIXED_SIZE}-byte fixed fields")
    size = (hvcc[LENGTH_SIZE_OFFSET] & 3) + 1
    if size not in LENGTH_SIZES:
        raise ImageError(f"{FMT}: 'hvcC' lengthSizeMinusOne {size - 1} (only 0, 1 and 3 are allowed)")
    return size


def check_hvcc(payload: bytes) -> bytes:
    """The hvcC payload with only its VPS, SPS and PPS arrays; the same bytes when nothing goes."""
    if len(payload) < HVCC_FIXED_SIZE + 1:
        raise ImageError(f"{FMT}: 'hvcC' of {len(payload)} bytes, shorter than its {HVCC_FIXED_SIZE + 1}-byte fixed fields")
    if payload[0] != CONFIGURATION_VERSION:
        raise ImageError(f"{FMT}: 'hvcC' configurationVersion {payload[0]} (only {CONFIGURATION_VERSION} is defined)")
    length_size(payload)
    count = payload[HVCC_FIXED_SIZE]  # numOfArrays, within the length checked above
    reader = ByteReader(payload, f"{FMT} 'hvcC'", start=HVCC_FIXED_SIZE + 1)
    kept: list[memoryview] = []
    total = 0
    for index in range(count):
        start = reader.pos
        array_type = reader.u8("NAL_unit_type") & 0x3F
        units = reader.u16be("numNalus")
        # every NAL unit takes at least its length and header: checked before the loop
        reader.need(units * (2 + NAL_HEADER_SIZE), f"array {index}'s {units} NAL units")
        total += units
        if total > MAX_CODED_UNITS:
            raise ImageError(f"{FMT}: 'hvcC' has more than {MAX_CODED_UNITS} NAL units")
        for _ in range(units):
            size = reader.u16be("nalUnitLength")
            unit_start = reader.pos
            reader.skip(size, "NAL unit")
            if nal_type(payload, unit_start, size, "'hvcC'", unit_start) != array_type:
                raise ImageError(f"{FMT}: 'hvcC' has a NAL unit at offset {unit_start} not of its array's type {array_type}")
        if array_type in PARAMETER_SETS:
            kept.append(reader.view(start, reader.pos))
    if not reader.at_end():
        raise ImageError(f"{FMT}: 'hvcC' has {reader.remaining} bytes after its {count} arrays")
    if len(kept) == count:
        return payload
    return b"".join((payload[:HVCC_FIXED_SIZE], bytes((len(kept),)), *kept))


def check_hvc1(payload: bytes, size: int) -> bytes:
    """An hvc1 item's NAL units (lengths of `size` bytes) with only coded slices and parameter
    sets; the same bytes when nothing goes.

    Linear: one pass over offsets; kept units are gathered as runs of adjacent units, so
    the output is one join of a few slices. At most MAX_CODED_UNITS units are read."""
    length_field = LENGTH_FIELDS.get(size)
    if length_field is None:
        raise ImageError(f"{FMT}: NAL unit length size {size}")
    runs: list[tuple[int, int]] = []  # (start, end) of kept units that follow each other
    slices = units = 0
    position, end = 0, len(payload)
    while position < end:
        units += 1
        if units > MAX_CODED_UNITS:
            raise ImageError(f"{FMT}: hvc1 item has more than {MAX_CODED_UNITS} NAL units")
        if end - position < size:
            raise ImageError(f"{FMT}: hvc1 item ends inside a NAL unit length at offset {position}")
        (length,) = length_field.unpack_from(payload, position)
        body = position + size
        if length > end - body:
            raise ImageError(f"{FMT}: NAL unit of {length} bytes at offset {position} runs past the item's {end} bytes")
        unit_type = nal_type(payload, body, length, "hvc1 item", position)
        next_position = body + length
        if unit_type in KEPT_NAL_TYPES:
            if runs and runs[-1][1] == position:
                runs[-1] = (runs[-1][0], next_position)
            else:
                runs.append((position, next_position))
            if unit_type in CODED_SLICES:
                slices += 1
        position = next_position
    if not slices:
        raise ImageError(f"{FMT}: hvc1 item of {end} bytes holds no coded slice")
    if runs == [(0, end)]:
        return payload
    view = memoryview(payload)
    return b"".join(view[run_start:run_end] for run_start, run_end in runs)
