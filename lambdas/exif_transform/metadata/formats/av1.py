"""AV1 in AVIF: the av1C decoder configuration and an av01 item's OBUs.

Byte layout (AV1 Bitstream & Decoding Process Specification, 5.3 and 5.8; AV1 Codec ISO
Media File Format Binding v1.3.0, 2.3 and 2.4; libavif src/obu.c avifSequenceHeaderParse,
src/read.c avifParseCodecConfiguration; dav1d src/obu.c):
    OBU    u8 header: forbidden bit (1) = 0, obu_type (4), obu_extension_flag (1),
              obu_has_size_field (1), obu_reserved_1bit (1)
           [u8 extension: temporal_id (3), spatial_id (2), reserved (3)]
           [obu_size: leb128, at most 8 bytes, value below 2^32 (AV1 4.10.5)]
           payload of obu_size bytes; without a size field the OBU fills the rest, which
           the ISOBMFF binding (2.4) allows for the last OBU of a sample only
    metadata OBU payload: metadata_type (leb128), its fields, trailing bits (a 1 bit,
           then 0 bits to the byte boundary: one 0x80 byte after byte-aligned fields)
              HDR_CLL (1): u16 max_cll, u16 max_fall
              HDR_MDCV (2): 3 x (u16 x, u16 y) primaries, u16 x, u16 y white point,
                            u32 luminance_max, u32 luminance_min
    av1C   u8 marker (1) = 1 + version (7) = 1; u8 seq_profile (3), seq_level_idx_0 (5);
           u8 tier, high_bitdepth, twelve_bit, monochrome, subsampling x and y (1 each),
              chroma_sample_position (2); u8 reserved (3), initial presentation delay (5)
           configOBUs: sequence header and metadata OBUs only (AVIF 1.2, 2.2.1)
    av01   the item's payload: the OBUs of one temporal unit

What is served, per OBU type (AV1 6.2.2):
    1 sequence header, 3 frame header, 4 tile group, 6 frame          kept
    2 temporal delimiter (empty: libavif with libaom writes one first)  kept; one with a
                                                                       payload is refused
    5 metadata of type HDR_CLL or HDR_MDCV, exactly its fields         kept
    5 metadata of any other type (ITU-T T.35: HDR10+ and vendor data,
      scalability, timecode, user private)                             removed
    7 redundant frame header, 15 padding                               removed (the ISOBMFF
      binding, 2.4: SHOULD NOT be used; a padding OBU's payload is bytes a decoder skips)
    0, 9-14 reserved                                                   removed (AV1 6.2.1:
      decoders ignore them)
    8 tile list                                                        refused (the ISOBMFF
      binding, 2.4: SHALL NOT be used)
A set forbidden bit, an obu_size that runs past the payload or overflows leb128's
bounds, or an HDR metadata OBU of the wrong size is refused. Removing whole OBUs keeps
the rest delimited, since each kept OBU carries its own size (or is the last).
The payloads of kept sequence headers, frame headers and tile data are not parsed.
"""

from __future__ import annotations

from ..errors import ImageError
from ..limits import MAX_CODED_UNITS

FMT = "AV1"
SEQUENCE_HEADER, TEMPORAL_DELIMITER, FRAME_HEADER, TILE_GROUP = 1, 2, 3, 4
METADATA, FRAME, TILE_LIST = 5, 6, 8  # 7 redundant frame header, 15 padding: removed
KEPT_TYPES = frozenset({SEQUENCE_HEADER, TEMPORAL_DELIMITER, FRAME_HEADER, TILE_GROUP, FRAME})
CODED_TYPES = frozenset({FRAME, TILE_GROUP})
CONFIG_TYPES = frozenset({SEQUENCE_HEADER})  # plus HDR metadata, in av1C's configOBUs
REFUSED_TYPES = {TILE_LIST: "tile list"}
FORBIDDEN_BIT, EXTENSION_FLAG, HAS_SIZE_FIELD = 0x80, 0x04, 0x02
# leb128 (AV1 4.10.5): at most 8 bytes, and the value must fit in 32 bits.
MAX_LEB128_BYTES = 8
MAX_LEB128_VALUE = (1 << 32) - 1
TRAILING_BITS = b"\x80"
HDR_CLL, HDR_MDCV = 1, 2
HDR_METADATA_SIZES = {HDR_CLL: 4, HDR_MDCV: 24}  # their fields' bytes, before trailing bits
AV1C_FIXED_SIZE = 4
AV1C_MARKER_AND_VERSION = 0x81


def read_leb128(data: bytes | memoryview, position: int, end: int) -> tuple[int, int]:
    """(value, position after it) of the leb128 at data[position:end]."""
    value = 0
    for index in range(MAX_LEB128_BYTES):
        if position + index >= end:
            raise ImageError(f"{FMT}: leb128 size at offset {position} runs past the data")
        byte = data[position + index]
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if value > MAX_LEB128_VALUE:
                raise ImageError(f"{FMT}: leb128 size at offset {position} is over 2^32 - 1")
            return value, position + index + 1
    raise ImageError(f"{FMT}: leb128 size at offset {position} is longer than {MAX_LEB128_BYTES} bytes")


def hdr_metadata(payload: memoryview, offset: int) -> bool:
    """True for an HDR_CLL or HDR_MDCV metadata OBU payload (exactly its fields), False for
    any other metadata type (to remove); a wrong-sized HDR payload is refused."""
    metadata_type, fields = read_leb128(payload, 0, len(payload))
    size = HDR_METADATA_SIZES.get(metadata_type)
    if size is None:
        return False
    if len(payload) != fields + size + len(TRAILING_BITS) or payload[fields + size :] != TRAILING_BITS:
        raise ImageError(f"{FMT}: HDR metadata OBU (type {metadata_type}) at offset {offset} is not {size} bytes of fields and trailing bits")
    return True


def check_obus(payload: bytes, *, config: bool = False) -> bytes:
    """The OBUs a decoder needs (and HDR metadata); the same bytes when nothing goes.

    In an av01 item (config False) the payload must hold a frame or tile group; in av1C's
    configOBUs (config True) only sequence headers and HDR metadata are kept.
    Linear: one pass over offsets; kept OBUs are gathered as runs of adjacent OBUs, so the
    output is one join of a few slices. At most MAX_CODED_UNITS OBUs are read."""
    kept_types = CONFIG_TYPES if config else KEPT_TYPES
    runs: list[tuple[int, int]] = []  # (start, end) of kept OBUs that follow each other
    coded = False
    units = 0
    position, end = 0, len(payload)
    while position < end:
        units += 1
        if units > MAX_CODED_UNITS:
            raise ImageError(f"{FMT}: more than {MAX_CODED_UNITS} OBUs")
        header = payload[position]
        if header & FORBIDDEN_BIT:
            raise ImageError(f"{FMT}: OBU at offset {position} has its forbidden bit set")
        obu_type = header >> 3 & 0x0F
        after = position + 1 + (1 if header & EXTENSION_FLAG else 0)
        if after > end:
            raise ImageError(f"{FMT}: OBU at offset {position} ends inside its header")
        if header & HAS_SIZE_FIELD:
            size, body = read_leb128(payload, after, end)
            if size > end - body:
                raise ImageError(f"{FMT}: OBU of {size} bytes at offset {position} runs past the {end}-byte payload")
        else:
            body, size = after, end - after  # the last OBU, filling the rest
        next_position = body + size
        if obu_type in REFUSED_TYPES:
            raise ImageError(f"{FMT}: {REFUSED_TYPES[obu_type]} OBU at offset {position}")
        if obu_type == TEMPORAL_DELIMITER and size:
            raise ImageError(f"{FMT}: temporal delimiter OBU of {size} bytes at offset {position} (it has none)")
        if obu_type == METADATA:
            keep = hdr_metadata(memoryview(payload)[body:next_position], position)
        else:
            keep = obu_type in kept_types
        if keep:
            if runs and runs[-1][1] == position:
                runs[-1] = (runs[-1][0], next_position)
            else:
                runs.append((position, next_position))
            coded = coded or obu_type in CODED_TYPES
        position = next_position
    if not config and not coded:
        raise ImageError(f"{FMT}: av01 item of {end} bytes holds no frame or tile group")
    if runs == [(0, end)]:
        return payload
    view = memoryview(payload)
    return b"".join(view[run_start:run_end] for run_start, run_end in runs)


def check_av1c(payload: bytes) -> bytes:
    """The av1C payload: its four fixed bytes, then configOBUs checked by check_obus."""
    if len(payload) < AV1C_FIXED_SIZE:
        raise ImageError(f"{FMT}: 'av1C' of {len(payload)} bytes, shorter than its {AV1C_FIXED_SIZE} fixed bytes")
    if payload[0] != AV1C_MARKER_AND_VERSION:
        raise ImageError(f"{FMT}: 'av1C' marker and version byte {payload[0]:#04x} (only 0x81 is defined)")
    obus = payload[AV1C_FIXED_SIZE:]
    if not obus:
        return payload
    checked = check_obus(obus, config=True)
    return payload if checked is obus else payload[:AV1C_FIXED_SIZE] + checked
