"""MPF (CIPA DC-007 Multi-Picture Format): read a JPEG's APP2 "MPF" index, write a new one.

Layout of the APP2 payload (CIPA DC-007 section 5.2, as exiftool's
lib/Image/ExifTool/MPF.pm reads it and Google's libultrahdr lib/src/multipictureformat.cpp
writes it for Ultra HDR):

    "MPF\\0"
    TIFF header    "II" 2A 00 | "MM" 00 2A, u32 offset of the MP Index IFD; every offset
                   below counts from the TIFF header's first byte
    MP Index IFD   u16 entry count, 12-byte entries (u16 tag, u16 type, u32 count, u32
                   value or offset), u32 offset of the MP Attribute IFD (0: none)
        B000 MPFVersion      UNDEFINED x 4   "0100"
        B001 NumberOfImages  LONG x 1
        B002 MPEntry         UNDEFINED x 16 per image, at an offset
        B003 ImageUIDList, B004 TotalFrames: optional, never written here
    MP Entry       u32 attribute (bit 31 dependent parent, bit 30 dependent child, bit 29
                   representative, bits 24-26 data format (0: JPEG), bits 0-23 type:
                   0x000000 undefined, 0x01000x large thumbnail, 0x020001 panorama,
                   0x020002 disparity, 0x020003 multi-angle, 0x030000 baseline primary),
                   u32 size, u32 offset (0 for the first image, the primary itself),
                   u16 + u16 dependent image entry numbers

The MP Attribute IFD (per-image capture details: viewpoint, convergence angle, pan
layout) is never written back: a new index holds exactly the three tags above.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ..byte_reader import ByteReader
from ..errors import ImageError
from ..limits import MAX_MPF_IMAGES

MPF_ID = b"MPF\x00"
LITTLE_ENDIAN_HEADER = b"II\x2a\x00"
BIG_ENDIAN_HEADER = b"MM\x00\x2a"
VERSION_TAG, IMAGE_COUNT_TAG, ENTRY_TAG = 0xB000, 0xB001, 0xB002
UNDEFINED, LONG = 7, 4
VERSION = b"0100"
IFD_ENTRY_SIZE = 12
MP_ENTRY_SIZE = 16
MAX_INDEX_TAGS = 32  # the index defines five tags; room for vendors' extras

# Attribute fields.
DEPENDENT_FLAGS = 0xC0000000  # dependent parent / child: their entry numbers are not kept
FORMAT_MASK = 0x07000000
JPEG_FORMAT = 0
TYPE_MASK = 0x00FFFFFF
TYPE_UNDEFINED = 0x000000
TYPE_BASELINE_PRIMARY = 0x030000

FMT = "JPEG MPF"


class MpfError(ImageError):
    """An MPF index that cannot be read: the JPEG drops it and the images after the primary."""


class MpEntry(NamedTuple):
    attribute: int
    size: int
    offset: int  # from the index's TIFF header; 0 for the primary

    @property
    def type_code(self) -> int:
        return self.attribute & TYPE_MASK

    @property
    def is_jpeg(self) -> bool:
        return self.attribute & FORMAT_MASK == JPEG_FORMAT


class MpIndex(NamedTuple):
    byte_order: str  # "<" or ">", for struct
    entries: tuple[MpEntry, ...]


def read_index(payload: bytes | memoryview) -> MpIndex:
    """The MP entries of an APP2 "MPF" payload; MpfError when the index is malformed."""
    view = memoryview(payload)
    if bytes(view[: len(MPF_ID)]) != MPF_ID:
        raise MpfError(f"{FMT}: the APP2 segment is not an MPF index")
    tiff = view[len(MPF_ID) :]
    header = bytes(tiff[:4])
    if header not in (LITTLE_ENDIAN_HEADER, BIG_ENDIAN_HEADER):
        raise MpfError(f"{FMT}: no TIFF header after the MPF identifier")
    order = "<" if header == LITTLE_ENDIAN_HEADER else ">"
    try:
        return _read_ifd(tiff, order)
    except MpfError:
        raise
    except ImageError as error:  # a field past the end (ByteReader's message names it)
        raise MpfError(str(error)) from error


def _read_ifd(tiff: memoryview, order: str) -> MpIndex:
    u16, u32 = struct.Struct(order + "H"), struct.Struct(order + "I")
    reader = ByteReader(tiff, FMT, 4)
    reader.pos = u32.unpack(reader.take(4, "MP Index IFD offset"))[0]
    count = u16.unpack(reader.take(2, "MP Index IFD entry count"))[0]
    if count > MAX_INDEX_TAGS:
        raise MpfError(f"{FMT}: the MP Index IFD declares {count} tags")
    tags: dict[int, tuple[int, int, bytes]] = {}
    for _ in range(count):
        tag, kind, number = struct.unpack(order + "HHI", reader.take(8, "MP Index IFD entry"))
        tags.setdefault(tag, (kind, number, bytes(reader.take(4, "MP Index IFD value"))))
    if IMAGE_COUNT_TAG not in tags or ENTRY_TAG not in tags:
        raise MpfError(f"{FMT}: the MP Index IFD lacks NumberOfImages or MPEntry")
    kind, number, value = tags[IMAGE_COUNT_TAG]
    images = u32.unpack(value)[0]
    if kind != LONG or number != 1 or not 1 <= images <= MAX_MPF_IMAGES:
        raise MpfError(f"{FMT}: NumberOfImages is {images}, expected 1 to {MAX_MPF_IMAGES}")
    kind, number, value = tags[ENTRY_TAG]
    if kind != UNDEFINED or number != MP_ENTRY_SIZE * images:
        raise MpfError(f"{FMT}: the MPEntry list holds {number} bytes for {images} images")
    entries_reader = ByteReader(tiff, FMT, u32.unpack(value)[0])
    entries = []
    for index in range(images):
        attribute, size, offset, _, _ = struct.unpack(order + "IIIHH", entries_reader.take(MP_ENTRY_SIZE, "MP entry"))
        if (index == 0) != (offset == 0):
            raise MpfError(f"{FMT}: MP entry {index + 1} has offset {offset}")
        entries.append(MpEntry(attribute, size, offset))
    return MpIndex(order, tuple(entries))


def index_size(images: int) -> int:
    """The length of the APP2 payload index_payload writes for `images` images."""
    return len(MPF_ID) + 8 + 2 + 3 * IFD_ENTRY_SIZE + 4 + MP_ENTRY_SIZE * images


def index_payload(byte_order: str, entries: list[MpEntry]) -> bytes:
    """A new APP2 "MPF" payload listing `entries` (offsets from its TIFF header), with
    the dependent-image flags and entry numbers cleared and no attribute IFD."""
    header = LITTLE_ENDIAN_HEADER if byte_order == "<" else BIG_ENDIAN_HEADER
    ifd_offset = 8
    entries_offset = ifd_offset + 2 + 3 * IFD_ENTRY_SIZE + 4
    parts = [
        MPF_ID,
        header,
        struct.pack(byte_order + "IH", ifd_offset, 3),
        struct.pack(byte_order + "HHI", VERSION_TAG, UNDEFINED, len(VERSION)) + VERSION,
        struct.pack(byte_order + "HHII", IMAGE_COUNT_TAG, LONG, 1, len(entries)),
        struct.pack(byte_order + "HHII", ENTRY_TAG, UNDEFINED, MP_ENTRY_SIZE * len(entries), entries_offset),
        struct.pack(byte_order + "I", 0),
    ]
    for entry in entries:
        parts.append(struct.pack(byte_order + "IIIHH", entry.attribute & ~DEPENDENT_FLAGS, entry.size, entry.offset, 0, 0))
    return b"".join(parts)
