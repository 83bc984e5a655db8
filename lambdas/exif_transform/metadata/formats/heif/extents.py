"""HEIF item extents: where each item's bytes are, checked against the box that holds them.

Extents are file offsets inside an mdat box (construction method 0) or offsets inside
idat (method 1); method 2 (offsets into another item) is refused. File bytes are read
with ranged reads (the whole input, or a streamed file's parts before its first byte). The mdat boxes are
indexed once, sorted by their start, so placing an extent is a binary search whatever
the number of mdat boxes (a file of tens of thousands of empty mdat boxes once took
minutes here).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

from ...errors import ImageError
from .tables import CONSTRUCTION_FILE, CONSTRUCTION_IDAT, FMT, ReadRange, Tables, error


class Range(NamedTuple):
    method: int  # CONSTRUCTION_FILE: offsets in the file; CONSTRUCTION_IDAT: in idat's payload
    start: int
    end: int


class ExtentIndex:
    """The containers extents may point into, indexed once per file; `read_range(start, end)`
    reads file bytes (the meta box, idat included, is already held by the tables)."""

    def __init__(self, size: int, read_range: ReadRange, tables: Tables) -> None:
        self.size = size
        self.read_range = read_range
        self.tables = tables
        self._starts = [mdat.payload_start for mdat in tables.mdats]  # in file order: sorted
        self._ends = [mdat.end for mdat in tables.mdats]
        self.idat_start = tables.idat.payload_start if tables.idat is not None else 0
        self.idat_size = tables.idat.end - tables.idat.payload_start if tables.idat is not None else 0

    def _inside(self, method: int, start: int, end: int) -> bool:
        if method == CONSTRUCTION_IDAT:
            return self.tables.idat is not None and 0 <= start and end <= self.idat_size
        position = bisect_right(self._starts, start) - 1
        return position >= 0 and end <= self._ends[position]

    def raw_ranges(self, item_id: int) -> list[Range]:
        """The extents as the file states them, unchecked (for items that are dropped)."""
        location = self.tables.locations.get(item_id)
        if location is None or location.method not in (CONSTRUCTION_FILE, CONSTRUCTION_IDAT):
            return []
        return [Range(location.method, e.offset, e.offset + e.length) for e in location.extents]

    def ranges(self, item_id: int) -> list[Range]:
        """The extents of a kept item, each inside its data box and none overlapping another."""
        location = self.tables.locations.get(item_id)
        if location is None:
            return []
        if location.method not in (CONSTRUCTION_FILE, CONSTRUCTION_IDAT):
            raise error(f"item {item_id} uses construction method {location.method}", self.tables.meta.start)
        found = []
        for extent in location.extents:
            end = extent.offset + extent.length
            if extent.length == 0 or not self._inside(location.method, extent.offset, end):
                raise error(
                    f"an extent of item {item_id} ({extent.length} bytes at {extent.offset}) is outside its data box",
                    self.tables.meta.start,
                )
            found.append(Range(location.method, extent.offset, end))
        ordered = sorted(found)
        for before, after in zip(ordered, ordered[1:]):
            if after.start < before.end:
                raise error(f"the extents of item {item_id} overlap each other", self.tables.meta.start)
        return found

    def read(self, piece: Range) -> bytes | memoryview:
        """A piece's bytes: from the held meta box (idat), or a ranged read of the file."""
        if piece.method == CONSTRUCTION_IDAT:
            return self.tables.meta_data[self.idat_start + piece.start : self.idat_start + piece.end]
        got = self.read_range(piece.start, piece.end)
        if len(got) != piece.end - piece.start:
            raise error(f"a read of {piece.end - piece.start} bytes gave {len(got)}", piece.start)
        return got

    def gather(self, pieces: list[Range]) -> bytes:
        return b"".join(self.read(piece) for piece in pieces)

    def payload(self, item_id: int, limit: int, what: str) -> bytes:
        """A metadata item's bytes (Exif, XMP), at most `limit` of them."""
        pieces = self.ranges(item_id)
        if sum(piece.end - piece.start for piece in pieces) > limit:
            raise ImageError(f"{FMT}: {what} item {item_id} is larger than {limit} bytes")
        return self.gather(pieces)
