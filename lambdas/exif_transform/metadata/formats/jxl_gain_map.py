"""The JPEG XL gain-map box ('jhgm'): an HDR gain map, kept as it is once every byte of
it is accounted for.

Byte layout (libjxl lib/extras/gain_map.cc JxlGainMapReadBundle; ISO 21496-1 for the
metadata, as libavif avifParseGainMapMetadata reads it):
    u8     jhgm_version (0)
    u16be  size of the gain-map metadata, then the metadata:
           u16 minimum_version (0), u16 writer_version (>= minimum_version),
           u8 flags: bit 7 multichannel (3 channels, else 1), bit 6 use_base_colour_space,
              bit 3 use_common_denominator, bit 2 backward_direction, the rest 0;
           without a common denominator: base and alternate HDR headroom (u32 n, u32 d
              each), then per channel gain_map_min (s32, u32), gain_map_max (s32, u32),
              gamma (u32, u32), base_offset (s32, u32), alternate_offset (s32, u32);
           with one: u32 common denominator, then the same numerators alone
    u8     size of the colour encoding, then a ColorEncoding bundle (JPEG XL header
           bits, zero-padded to the byte)
    u32be  size of the alternate ICC profile (compressed), then the profile
    rest   the gain map: a bare JPEG XL codestream, which must end exactly at the box end
A box that breaks any of this is not a gain map a viewer can use, and is dropped.
"""

from __future__ import annotations

from ..byte_reader import ByteReader
from ..errors import ImageError
from .jxl_bits import BitReader
from .jxl_codestream import codestream_end, colour_encoding

FMT = "JPEG XL 'jhgm' gain map"
BUNDLE_VERSION = 0
METADATA_VERSION = 0  # the only ISO 21496-1 minimum_version there is
MULTICHANNEL, BASE_COLOUR_SPACE, COMMON_DENOMINATOR, BACKWARD_DIRECTION = 0x80, 0x40, 0x08, 0x04
KNOWN_FLAGS = MULTICHANNEL | BASE_COLOUR_SPACE | COMMON_DENOMINATOR | BACKWARD_DIRECTION
METADATA_HEADER = 2 + 2 + 1  # minimum_version, writer_version, flags
HEADROOM_FRACTIONS, CHANNEL_FRACTIONS = 2, 5
FRACTION_PART = 4  # a u32/s32 numerator or denominator


def check_metadata(metadata: memoryview) -> None:
    """ISO 21496-1 gain-map metadata, exactly as long as its fields."""
    reader = ByteReader(metadata, f"{FMT} metadata")
    minimum = reader.u16be("minimum_version")
    writer = reader.u16be("writer_version")
    flags = reader.u8("flags")
    if minimum != METADATA_VERSION or writer < minimum:
        raise ImageError(f"{FMT}: metadata version {minimum} (writer {writer}), only {METADATA_VERSION} is defined")
    if flags & ~KNOWN_FLAGS:
        raise ImageError(f"{FMT}: metadata sets reserved flags {flags:#04x}")
    fractions = HEADROOM_FRACTIONS + CHANNEL_FRACTIONS * (3 if flags & MULTICHANNEL else 1)
    fields = 1 + fractions if flags & COMMON_DENOMINATOR else 2 * fractions
    if len(metadata) != METADATA_HEADER + fields * FRACTION_PART:
        raise ImageError(f"{FMT}: metadata is {len(metadata)} bytes, its fields take {METADATA_HEADER + fields * FRACTION_PART}")


def _check_colour_encoding(encoded: memoryview) -> None:
    reader = BitReader([encoded], f"{FMT} colour encoding")
    colour_encoding(reader)
    reader.zero_pad_to_byte()
    if reader.byte_pos() != len(encoded):
        raise ImageError(f"{FMT}: colour encoding of {len(encoded)} bytes holds {reader.byte_pos()} bytes of fields")


def check_gain_map(payload: memoryview) -> None:
    """Raises ImageError unless `payload` is a whole gain-map bundle."""
    reader = ByteReader(payload, FMT)
    version = reader.u8("version")
    if version != BUNDLE_VERSION:
        raise ImageError(f"{FMT}: version {version}, only {BUNDLE_VERSION} is defined")
    check_metadata(reader.take(reader.u16be("metadata size"), "metadata"))
    encoded = reader.take(reader.u8("colour encoding size"), "colour encoding")
    if encoded:
        _check_colour_encoding(encoded)
    reader.take(reader.u32be("alternate ICC profile size"), "alternate ICC profile")
    codestream = reader.take(reader.remaining, "gain map codestream")
    end = codestream_end([codestream], f"{FMT} codestream")
    if end != len(codestream):
        raise ImageError(f"{FMT}: {len(codestream) - end} bytes after its codestream's last frame")
