"""Uncompressed HEIF items (unci) and masks (mski): the payload size their properties give.

Their payload is raw samples, so its size follows from the image size and the sample
layout; a payload of any other size is refused (bytes after the last row would be
served unseen). Property payloads are the box contents after the 8-byte box header,
version and flags included (every property here is a full box).

Byte layout (ISO/IEC 23008-12:2022 6.5.3 'ispe'; ISO/IEC 23001-17:2024 'uncC', 'cmpd';
ISO/IEC 23008-12 amendment 'mskC'; libheif libheif/codecs/uncompressed/unc_boxes.cc
Box_uncC::parse and fill_uncC_and_cmpd_from_profile, libheif/image-items/mask_image.cc):
    ispe   version/flags (4), u32 image_width, u32 image_height
    mskC   version/flags (4), u8 bits_per_pixel
    uncC   version/flags (4), u32 profile
           version 1: nothing more; the profile names the layout ('rgb3', 'rgba',
              'abgr' are 8-bit pixel-interleaved RGB(A))
           version 0: u32 component_count, then per component: u16 component_index,
              u8 bit_depth_minus_one, u8 component_format, u8 component_align_size;
              u8 sampling_type, u8 interleave_type, u8 block_size,
              u8 flags (components_little_endian, block_pad_lsb, block_little_endian,
              block_reversed, pad_unknown, 3 reserved), u32 pixel_size,
              u32 row_align_size, u32 tile_align_size, u32 num_tile_cols_minus_one,
              u32 num_tile_rows_minus_one
    cmpd   the components' types: not needed for the size, so not read

Supported exactly (every other layout is refused, naming what is not supported):
    mski   8 or 16 bits per pixel (what libheif decodes): width * height * bytes
    unci   version 1 profiles rgb3 (3 bytes a pixel), rgba and abgr (4 bytes);
           version 0 with 8- or 16-bit unsigned integer components, no subsampling,
           component or pixel interleave, no blocks, no pixel, row or tile alignment,
           one tile: width * height * the components' bytes;
           no 'cmpC'/'icef' (compressed unci is refused)
"""

from __future__ import annotations

import struct

from ..byte_reader import ByteReader
from ..errors import ImageError
from ..limits import MAX_PIXELS

FMT = "HEIF"
ISPE, UNCC, MSKC = b"ispe", b"uncC", b"mskC"
COMPRESSION_PROPERTIES = (b"cmpC", b"icef")
MASK_BITS = frozenset({8, 16})
PROFILE_PIXEL_BYTES = {b"rgb3": 3, b"rgba": 4, b"abgr": 4}
COMPONENT_BYTES = {8: 1, 16: 2}  # the supported bit depths and the bytes of a sample
UNSIGNED_INTEGER = 0
NO_SUBSAMPLING = 0
COMPONENT_INTERLEAVE, PIXEL_INTERLEAVE = 0, 1
COMPONENTS_LITTLE_ENDIAN = 0x80
COMPONENT = struct.Struct(">HBBB")  # index, bit depth minus one, format, align size


def _property(properties: dict[bytes, bytes], box_type: bytes, item: str) -> tuple[ByteReader, int]:
    """A reader after the property's version and flags, and its version."""
    payload = properties.get(box_type)
    if payload is None:
        raise ImageError(f"{FMT}: {item} item has no '{box_type.decode()}' property")
    reader = ByteReader(payload, f"{FMT} '{box_type.decode()}' property")
    version = reader.u8("version")
    reader.skip(3, "flags")
    return reader, version


def _end(reader: ByteReader, what: str) -> None:
    if not reader.at_end():
        raise ImageError(f"{FMT}: {what} has {reader.remaining} bytes after its fields")


def image_size(properties: dict[bytes, bytes], item: str) -> tuple[int, int]:
    """(width, height) from the item's ispe, within MAX_PIXELS."""
    reader, _ = _property(properties, ISPE, item)
    width, height = reader.u32be("image_width"), reader.u32be("image_height")
    _end(reader, "'ispe'")
    if not width or not height or width * height > MAX_PIXELS:
        raise ImageError(f"{FMT}: {item} item of {width} x {height} pixels (at most {MAX_PIXELS} are served)")
    return width, height


def _exact(payload: bytes, size: int, item: str) -> bytes:
    if len(payload) != size:
        raise ImageError(f"{FMT}: {item} item holds {len(payload)} bytes, its properties give {size}")
    return payload


def check_mask(payload: bytes, properties: dict[bytes, bytes]) -> bytes:
    """A mski item: width * height samples of 8 or 16 bits."""
    width, height = image_size(properties, "mask ('mski')")
    reader, _ = _property(properties, MSKC, "mask ('mski')")
    bits = reader.u8("bits_per_pixel")
    _end(reader, "'mskC'")
    if bits not in MASK_BITS:
        raise ImageError(f"{FMT}: mask ('mski') item of {bits} bits per pixel (8 and 16 are supported)")
    return _exact(payload, width * height * bits // 8, "mask ('mski')")


def _pixel_bytes(properties: dict[bytes, bytes]) -> int:
    """Bytes per pixel of the supported uncC layouts; ImageError for the others."""
    item = "uncompressed ('unci')"
    reader, version = _property(properties, UNCC, item)
    profile = bytes(reader.take(4, "profile"))
    if version == 1:
        _end(reader, "'uncC'")
        if profile not in PROFILE_PIXEL_BYTES:
            raise ImageError(f"{FMT}: {item} profile {profile.hex()} is not supported (rgb3, rgba, abgr are)")
        return PROFILE_PIXEL_BYTES[profile]
    if version != 0:
        raise ImageError(f"{FMT}: 'uncC' version {version}")
    count = reader.u32be("component_count")
    components = reader.take(count * COMPONENT.size, f"{count} components")
    total = 0
    for _index, bits_minus_one, component_format, align in COMPONENT.iter_unpack(components):
        bits = bits_minus_one + 1
        size = COMPONENT_BYTES.get(bits)
        if size is None or component_format != UNSIGNED_INTEGER or align not in (0, size):
            raise ImageError(f"{FMT}: {item} component of {bits} bits, format {component_format}, alignment {align} is not supported")
        total += size
    sampling, interleave, block = reader.u8("sampling_type"), reader.u8("interleave_type"), reader.u8("block_size")
    flags = reader.u8("flags")
    layout = [reader.u32be(name) for name in ("pixel_size", "row_align_size", "tile_align_size", "num_tile_cols_minus_one", "num_tile_rows_minus_one")]
    _end(reader, "'uncC'")
    if (
        not count
        or sampling != NO_SUBSAMPLING
        or interleave not in (COMPONENT_INTERLEAVE, PIXEL_INTERLEAVE)
        or block
        or flags & ~COMPONENTS_LITTLE_ENDIAN
        or any(layout)
    ):
        raise ImageError(f"{FMT}: {item} layout (sampling {sampling}, interleave {interleave}, blocks, alignment or tiles) is not supported")
    return total


def check_uncompressed(payload: bytes, properties: dict[bytes, bytes]) -> bytes:
    """An unci item of a supported layout: exactly width * height * bytes per pixel."""
    item = "uncompressed ('unci')"
    for box_type in COMPRESSION_PROPERTIES:
        if box_type in properties:
            raise ImageError(f"{FMT}: compressed {item} items ('{box_type.decode()}') are not supported")
    width, height = image_size(properties, item)
    return _exact(payload, width * height * _pixel_bytes(properties), item)
