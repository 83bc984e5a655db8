"""A bounded reader for TIFF-structured data: EXIF blocks and TIFF files.

Byte layout (TIFF 6.0, section 2):
    header   "II" 42 (little-endian) or "MM" 42 (big-endian), then u32 offset of IFD0
    IFD      u16 entry count, entries of 12 bytes, u32 offset of the next IFD (0 = none)
    entry    u16 tag, u16 type, u32 count, 4 bytes holding the value when it fits,
             else the u32 offset of the value

Every offset and every count times type size is checked against the data before a
value is read, IFDs are visited at most once (a loop is an error), and entry counts
are capped, so a hostile block costs time and memory in proportion to its size.

A TIFF file's page chain is read strictly (its IFDs say where the pixels are). An
EXIF block is read leniently (read_exif_ifds): the block is removed whatever it
holds, so what matters is what can be read from it. Entries whose value lies past
the data are skipped, an entry table cut short yields the entries that fit, and a
sub-IFD that loops or points outside the data is treated as absent.
piexif.load does none of this (it builds a struct format of `count` characters), so
the core reads IFDs here and uses piexif for its tag table and for writing.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from .errors import ImageError
from .limits import MAX_IFD_ENTRIES

LITTLE_ENDIAN_HEADER = b"II*\x00"
BIG_ENDIAN_HEADER = b"MM\x00*"
HEADER_SIZE = 8
ENTRY_SIZE = 12

# Field types: size in bytes and the struct code of one element.
BYTE, ASCII, SHORT, LONG, RATIONAL = 1, 2, 3, 4, 5
SBYTE, UNDEFINED, SSHORT, SLONG, SRATIONAL = 6, 7, 8, 9, 10
FLOAT, DOUBLE, IFD_POINTER = 11, 12, 13
TYPE_SIZES = {
    BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, SBYTE: 1, UNDEFINED: 1,
    SSHORT: 2, SLONG: 4, SRATIONAL: 8, FLOAT: 4, DOUBLE: 8, IFD_POINTER: 4,
}  # fmt: skip
_STRUCT_CODES = {
    BYTE: "B", SHORT: "H", LONG: "I", SBYTE: "b", SSHORT: "h", SLONG: "i",
    FLOAT: "f", DOUBLE: "d", IFD_POINTER: "I", RATIONAL: "I", SRATIONAL: "i",
}  # fmt: skip
INTEGER_TYPES = frozenset({BYTE, SHORT, LONG, SBYTE, SSHORT, SLONG, IFD_POINTER})
RATIONAL_TYPES = frozenset({RATIONAL, SRATIONAL})
FLOAT_TYPES = frozenset({FLOAT, DOUBLE})

# Tags that point at other IFDs.
EXIF_IFD_TAG = 0x8769
GPS_IFD_TAG = 0x8825
INTEROP_IFD_TAG = 0xA005


class IfdEntry(NamedTuple):
    tag: int
    type: int
    count: int
    value_offset: int  # where the value's bytes start; -1 for a type this reader does not know

    @property
    def known_type(self) -> bool:
        return self.value_offset >= 0


class Ifd(NamedTuple):
    offset: int
    entries: dict[int, IfdEntry]  # the first entry wins when a tag repeats
    next_offset: int


class TiffReader:
    """Reads IFDs and values from one TIFF-structured buffer."""

    def __init__(
        self,
        data: bytes | memoryview,
        fmt: str,
        *,
        lenient: bool = False,
        strict_tags: frozenset[int] = frozenset(),
    ):
        """lenient: a malformed IFD is read as far as it goes and an entry whose value lies
        outside the data is skipped; strict_tags: tags that refuse even then (a TIFF page's
        pixel structure, without which the image data cannot be delimited)."""
        self.data = data
        self.fmt = fmt
        self.lenient = lenient
        self.strict_tags = strict_tags
        self.skipped_entries = 0
        head = bytes(data[:4])
        if head == LITTLE_ENDIAN_HEADER:
            self.byte_order = "<"
        elif head == BIG_ENDIAN_HEADER:
            self.byte_order = ">"
        else:
            raise ImageError(f"{fmt}: no TIFF header (II*\\0 or MM\\0*) at offset 0")
        if len(data) < HEADER_SIZE:
            raise ImageError(f"{fmt}: TIFF header at offset 0 is cut short")
        self.first_ifd_offset = self._u32(4)
        self._visited: set[int] = set()

    def _u16(self, offset: int) -> int:
        return struct.unpack_from(self.byte_order + "H", self.data, offset)[0]

    def _u32(self, offset: int) -> int:
        return struct.unpack_from(self.byte_order + "I", self.data, offset)[0]

    def read_ifd(self, offset: int, name: str) -> Ifd:
        """The IFD at `offset`; each IFD may be read once (a second visit is a loop)."""
        size = len(self.data)
        if offset in self._visited:
            raise ImageError(f"{self.fmt}: {name} IFD at offset {offset} was already read (IFD loop)")
        if offset < HEADER_SIZE or offset + 2 > size:
            raise ImageError(f"{self.fmt}: {name} IFD offset {offset} is outside the data ({size} bytes)")
        self._visited.add(offset)
        count = self._u16(offset)
        # An EXIF block's IFD is read as far as the limit; a TIFF page's (strict_tags) is refused,
        # as its next-page pointer lies after the whole table.
        if count > MAX_IFD_ENTRIES and self.lenient and not self.strict_tags:
            count = MAX_IFD_ENTRIES
        if count > MAX_IFD_ENTRIES:
            raise ImageError(f"{self.fmt}: {name} IFD at offset {offset} declares {count} entries")
        table_end = offset + 2 + count * ENTRY_SIZE
        if table_end > size and self.lenient:
            table_end = offset + 2 + (size - offset - 2) // ENTRY_SIZE * ENTRY_SIZE
        elif table_end > size:
            raise ImageError(f"{self.fmt}: {name} IFD at offset {offset} runs past the end of the data")
        # The next-IFD pointer is optional at the very end of EXIF blocks written by some cameras.
        next_offset = self._u32(table_end) if table_end + 4 <= size else 0
        entries: dict[int, IfdEntry] = {}
        for position in range(offset + 2, table_end, ENTRY_SIZE):
            entry = self._read_entry(position, name)
            if entry is not None:
                entries.setdefault(entry.tag, entry)
        return Ifd(offset, entries, next_offset)

    def _read_entry(self, position: int, name: str) -> IfdEntry | None:
        tag, field_type, count = struct.unpack_from(self.byte_order + "HHI", self.data, position)
        item_size = TYPE_SIZES.get(field_type)
        if item_size is None:
            return IfdEntry(tag, field_type, count, -1)
        value_size = item_size * count
        if value_size <= 4:
            return IfdEntry(tag, field_type, count, position + 8)
        value_offset = self._u32(position + 8)
        if value_offset + value_size > len(self.data):
            if self.lenient and tag not in self.strict_tags:
                self.skipped_entries += 1
                return None
            msg = (
                f"{self.fmt}: tag 0x{tag:04x} of the {name} IFD (entry at offset {position}) "
                f"has {value_size} bytes at offset {value_offset}, past the end of the data"
            )
            raise ImageError(msg)
        return IfdEntry(tag, field_type, count, value_offset)

    def raw(self, entry: IfdEntry, limit: int | None = None) -> bytes:
        """The value's bytes (ASCII, UNDEFINED, BYTE), or only its first `limit` bytes."""
        size = TYPE_SIZES[entry.type] * entry.count
        if limit is not None:
            size = min(size, limit)
        return bytes(self.data[entry.value_offset : entry.value_offset + size])

    def size_of(self, entry: IfdEntry) -> int:
        return TYPE_SIZES[entry.type] * entry.count

    def values(self, entry: IfdEntry) -> tuple:
        """Numbers of a numeric entry; rationals as (numerator, denominator) pairs."""
        code = _STRUCT_CODES[entry.type]
        if entry.type in RATIONAL_TYPES:
            flat = struct.unpack_from(f"{self.byte_order}{2 * entry.count}{code}", self.data, entry.value_offset)
            return tuple(zip(flat[0::2], flat[1::2]))
        return struct.unpack_from(f"{self.byte_order}{entry.count}{code}", self.data, entry.value_offset)

    def first_int(self, ifd: Ifd, tag: int) -> int | None:
        """The first value of an integer tag, or None when it is absent or not an integer."""
        entry = ifd.entries.get(tag)
        if entry is None or entry.type not in INTEGER_TYPES or entry.count < 1:
            return None
        return self.values(entry._replace(count=1))[0]

    def ints(self, ifd: Ifd, tag: int) -> tuple[int, ...]:
        entry = ifd.entries.get(tag)
        if entry is None or entry.type not in INTEGER_TYPES:
            return ()
        return self.values(entry)

    def sub_ifd(self, ifd: Ifd, tag: int, name: str) -> Ifd | None:
        """The IFD a pointer tag (Exif, GPS, Interop) refers to, if the tag is there."""
        if tag not in ifd.entries:
            return None
        offset = self.first_int(ifd, tag)
        if offset is None:
            raise ImageError(f"{self.fmt}: the {name} IFD pointer in the IFD at offset {ifd.offset} is not an offset")
        return self.read_ifd(offset, name)


class ExifIfds(NamedTuple):
    """The IFDs of an EXIF block; absent ones are None."""

    reader: TiffReader
    ifd0: Ifd
    exif: Ifd | None
    gps: Ifd | None
    interop: Ifd | None
    ifd1: Ifd | None


def readable_sub_ifd(reader: TiffReader, ifd: Ifd | None, tag: int, name: str) -> Ifd | None:
    if ifd is None:
        return None
    try:
        return reader.sub_ifd(ifd, tag, name)
    except ImageError:
        return None


def read_exif_ifds(data: bytes | memoryview, fmt: str) -> ExifIfds:
    """IFD0, its Exif and GPS IFDs, the Exif IFD's Interop IFD and IFD1 (the thumbnail's),
    read leniently: whatever can be read. ImageError only when IFD0 itself cannot be
    found (no TIFF header, header cut short, IFD0 offset outside the data)."""
    reader = TiffReader(data, fmt, lenient=True)
    ifd0 = reader.read_ifd(reader.first_ifd_offset, "IFD0")
    exif = readable_sub_ifd(reader, ifd0, EXIF_IFD_TAG, "Exif")
    gps = readable_sub_ifd(reader, ifd0, GPS_IFD_TAG, "GPS")
    interop = readable_sub_ifd(reader, exif, INTEROP_IFD_TAG, "Interop")
    ifd1 = None
    if ifd0.next_offset:
        try:
            ifd1 = reader.read_ifd(ifd0.next_offset, "IFD1")
        except ImageError:
            ifd1 = None
    return ExifIfds(reader, ifd0, exif, gps, interop, ifd1)
