"""The JPEG XL gain-map box ('jhgm'): an HDR gain map, kept as it is once every byte of
it is accounted for.

Byte layout (libjxl lib/extras/gain_map.cc JxlGainMapReadBundle):
    u8     jhgm_version (0)
    u16be  size of the gain-map metadata, then the metadata: an ISO 21496-1 record
           with its parameters, exactly as long as its fields (gain_map_metadata.py)
    u8     size of the colour encoding, then a ColorEncoding bundle (JPEG XL header
           bits, zero-padded to the byte)
    u32be  size of the alternate ICC profile, then the profile, compressed as a codestream's
           ICC stream and zero-padded to the byte (libjxl JxlICCProfileEncode)
    rest   the gain map: a bare JPEG XL codestream, which must end exactly at the box end
A box that breaks any of this is not a gain map a viewer can use, and is dropped. The
alternate ICC profile is kept as it is, like the primary image's profile in the codestream.
"""

from __future__ import annotations

from ..byte_reader import ByteReader
from ..errors import ImageError
from ..gain_map_metadata import has_parameters
from .jxl_bits import BitReader
from .jxl_codestream import codestream_end, colour_encoding, icc_stream_end

FMT = "JPEG XL 'jhgm' gain map"
BUNDLE_VERSION = 0


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
    if not has_parameters(reader.take(reader.u16be("metadata size"), "metadata")):
        raise ImageError(f"{FMT}: metadata is not an ISO 21496-1 record of version 0 exactly as long as its fields")
    encoded = reader.take(reader.u8("colour encoding size"), "colour encoding")
    if encoded:
        _check_colour_encoding(encoded)
    icc = reader.take(reader.u32be("alternate ICC profile size"), "alternate ICC profile")
    if icc and icc_stream_end(icc, f"{FMT} alternate ICC profile") != len(icc):
        raise ImageError(f"{FMT}: alternate ICC profile of {len(icc)} bytes holds more than its stream")
    codestream = payload[reader.pos :]  # the rest, however long
    end = codestream_end([codestream], f"{FMT} codestream")
    if end != len(codestream):
        raise ImageError(f"{FMT}: {len(codestream) - end} bytes after its codestream's last frame")
