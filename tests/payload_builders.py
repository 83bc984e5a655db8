"""HEIF/AVIF item payloads for the payload checks: real ones taken out of pillow-heif and
Pillow encodes (with isobmff_builders' reader, not the core), and tiny builders for the
NAL units, OBUs and descriptors encoders never write.

Every planted unit carries image_builders.SECRET, so a test can search the output for it.
"""

from __future__ import annotations

import functools
import struct
from typing import NamedTuple

import image_builders as b
import isobmff_builders as ib


class RealItem(NamedTuple):
    name: str
    type: bytes
    payload: bytes
    config_type: bytes
    config: bytes
    properties: dict[bytes, bytes]  # property payloads after the 8-byte box header


@functools.lru_cache(maxsize=None)
def real_items() -> tuple[RealItem, ...]:
    """Every coded item (colour and alpha) of real HEIC and AVIF encodes."""
    found = []
    encodes = (
        ("heic RGB", ib.encode_heic(b.pattern("RGB", (64, 48), 1))),
        ("heic RGBA", ib.encode_heic(b.pattern("RGBA", (40, 24), 2))),
        ("avif RGB", ib.encode_avif(b.pattern("RGB", (64, 48), 3))),
        ("avif RGBA", ib.encode_avif(b.pattern("RGBA", (40, 24), 4))),
    )
    for name, data in encodes:
        heif = ib.read_heif(data)
        for item in heif.items.values():
            properties = {raw[4:8]: raw[8:] for raw, _ in item.properties}
            config_type = b"hvcC" if item.type == b"hvc1" else b"av1C"
            found.append(RealItem(f"{name} item {item.id}", item.type, item.data, config_type, properties[config_type], properties))
    return tuple(found)


def real_item(item_type: bytes) -> RealItem:
    return next(item for item in real_items() if item.type == item_type)


# --- HEVC -------------------------------------------------------------------------------------

VPS, SPS, PPS, AUD, FILLER, PREFIX_SEI, SUFFIX_SEI = 32, 33, 34, 35, 38, 39, 40
IDR_W_RADL = 19


def nal(unit_type: int, body: bytes = b"", *, layer: int = 0, temporal_id_plus1: int = 1) -> bytes:
    """A NAL unit: the two-byte header (H.265 7.3.1.2), then the body."""
    header = unit_type << 9 | layer << 3 | temporal_id_plus1
    return struct.pack(">H", header) + body


def sei_user_data(text: bytes = b.SECRET) -> bytes:
    """A prefix SEI NAL unit holding user_data_unregistered (payload type 5): a UUID, then text."""
    payload = b"\x11" * 16 + text
    return nal(PREFIX_SEI, bytes((5, len(payload))) + payload + b"\x80")


def length_prefixed(*units: bytes, size: int = 4) -> bytes:
    return b"".join(len(unit).to_bytes(size, "big") + unit for unit in units)


def nal_units(payload: bytes, size: int = 4) -> list[bytes]:
    """The NAL units of a length-prefixed payload (the test's own reader)."""
    units, position = [], 0
    while position < len(payload):
        length = int.from_bytes(payload[position : position + size], "big")
        units.append(payload[position + size : position + size + length])
        position += size + length
    return units


def hvcc_array(unit_type: int, *units: bytes, complete: bool = True) -> bytes:
    return bytes((complete << 7 | unit_type,)) + struct.pack(">H", len(units)) + b"".join(struct.pack(">H", len(u)) + u for u in units)


def hvcc_with(config: bytes, *arrays: bytes) -> bytes:
    """A real hvcC's fixed fields and arrays with more arrays added after them."""
    return config[:22] + bytes((config[22] + len(arrays),)) + config[23:] + b"".join(arrays)


# --- AV1 --------------------------------------------------------------------------------------

SEQUENCE_HEADER, TEMPORAL_DELIMITER, FRAME_HEADER, TILE_GROUP, METADATA = 1, 2, 3, 4, 5
FRAME, REDUNDANT_FRAME_HEADER, TILE_LIST, PADDING = 6, 7, 8, 15
HDR_CLL, HDR_MDCV, ITUT_T35 = 1, 2, 4


def leb128(value: int, width: int = 0) -> bytes:
    """value in leb128, padded with continuation bytes to `width` bytes when asked."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte)
        if not value and len(out) >= width:
            break
    for index in range(len(out) - 1):
        out[index] |= 0x80
    return bytes(out)


def obu(obu_type: int, payload: bytes = b"", *, extension: int | None = None, sized: bool = True) -> bytes:
    """An OBU: header, [extension byte], [leb128 size], payload (AV1 5.3)."""
    header = obu_type << 3 | (0x04 if extension is not None else 0) | (0x02 if sized else 0)
    out = bytes((header,))
    if extension is not None:
        out += bytes((extension,))
    return out + (leb128(len(payload)) if sized else b"") + payload


def metadata_obu(metadata_type: int, fields: bytes, trailing: bytes = b"\x80") -> bytes:
    return obu(METADATA, leb128(metadata_type) + fields + trailing)


def hdr_cll(max_cll: int = 1000, max_fall: int = 400) -> bytes:
    return metadata_obu(HDR_CLL, struct.pack(">HH", max_cll, max_fall))


def hdr_mdcv() -> bytes:
    primaries = struct.pack(">6H", 35400, 14600, 8500, 39850, 6550, 2300)
    return metadata_obu(HDR_MDCV, primaries + struct.pack(">HHII", 15635, 16450, 10_000_000, 50))


def t35_metadata(text: bytes = b.SECRET) -> bytes:
    """ITU-T T.35 metadata (HDR10+ and vendor data): country code, provider, then bytes."""
    return metadata_obu(ITUT_T35, b"\xb5\x00\x3c" + text)


def obus(payload: bytes) -> list[tuple[int, bytes]]:
    """(type, whole OBU) of each OBU of a payload whose OBUs all carry sizes (the test's own reader)."""
    found, position = [], 0
    while position < len(payload):
        header = payload[position]
        after = position + 1 + (1 if header & 0x04 else 0)
        size, shift = 0, 0
        while True:
            byte = payload[after]
            after += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        found.append((header >> 3 & 15, payload[position : after + size]))
        position = after + size
    return found


# --- derived items ----------------------------------------------------------------------------


def grid(rows: int, columns: int, width: int, height: int, *, wide: bool = False) -> bytes:
    size = ">II" if wide else ">HH"
    return bytes((0, int(wide), rows - 1, columns - 1)) + struct.pack(size, width, height)


def overlay(offsets: list[tuple[int, int]], width: int, height: int, *, wide: bool = False) -> bytes:
    field = "i" if wide else "h"
    size = "I" if wide else "H"
    out = bytes((0, int(wide))) + struct.pack(">4H", 0, 0, 0, 0xFFFF) + struct.pack(f">{size}{size}", width, height)
    return out + b"".join(struct.pack(f">{field}{field}", x, y) for x, y in offsets)


def tone_map(*, channels: int = 1, common_denominator: bool = False, writer_version: int = 0, flags: int = 0) -> bytes:
    """A tmap payload (ISO 21496-1 as libavif's avifParseToneMappedImageBox reads it)."""
    flags |= (0x80 if channels == 3 else 0) | (0x08 if common_denominator else 0)
    out = struct.pack(">BHHB", 0, 0, writer_version, flags)
    if common_denominator:
        return out + struct.pack(">I", 64) + struct.pack(">2I", 0, 832) + struct.pack(">5i", 0, 192, 64, 1, 1) * channels
    headroom = struct.pack(">4I", 0, 1, 13, 1)
    return out + headroom + struct.pack(">iIiIIIiIiI", 0, 1, 3, 1, 1, 1, 1, 64, 1, 64) * channels


def full_property(version: int, *fields: bytes) -> bytes:
    """A full-box property payload: version, flags (0), fields."""
    return bytes((version, 0, 0, 0)) + b"".join(fields)


def ispe_payload(width: int, height: int) -> bytes:
    return full_property(0, struct.pack(">II", width, height))
