"""A bounded reader: every field read is checked against the bytes that are left.

Format parsers never slice with a length taken from the file; they ask the reader,
which raises ImageError naming the format, the field and the offset when a length
runs past the end.
"""

from __future__ import annotations

import struct

from .errors import ImageError


class Placed:
    """Bytes read from part of a larger file, indexed by their offsets in that file (a
    streamed HEIF's meta box, read at its place), so positions and messages stay the file's."""

    __slots__ = ("data", "origin")

    def __init__(self, data: bytes | memoryview, origin: int) -> None:
        self.data = data
        self.origin = origin  # the file offset of data[0]

    def __len__(self) -> int:
        return self.origin + len(self.data)

    def __getitem__(self, part: slice) -> memoryview:
        return memoryview(self.data)[part.start - self.origin : part.stop - self.origin]


class ByteReader:
    """Reads fixed-size fields from data[start:end], front to back (data may be Placed:
    start, end and every position are then offsets in the whole file)."""

    __slots__ = ("_data", "_end", "_origin", "fmt", "pos")

    def __init__(self, data: bytes | memoryview | Placed, fmt: str, start: int = 0, end: int | None = None):
        self._origin = 0
        if isinstance(data, Placed):
            self._origin = data.origin
            data = data.data
        self._data = data
        self._end = self._origin + len(data) if end is None else end
        self.fmt = fmt
        self.pos = start

    @property
    def remaining(self) -> int:
        return self._end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self._end

    def error(self, what: str, offset: int | None = None) -> ImageError:
        where = self.pos if offset is None else offset
        return ImageError(f"{self.fmt}: {what} at offset {where}")

    def need(self, size: int, what: str) -> None:
        if size < 0 or size > self.remaining:
            msg = f"{what} needs {size} bytes but {max(self.remaining, 0)} are left"
            raise self.error(msg)

    def take(self, size: int, what: str) -> memoryview:
        """The next `size` bytes as a view (no copy)."""
        self.need(size, what)
        start = self.pos
        self.pos += size
        return memoryview(self._data)[start - self._origin : self.pos - self._origin]

    def view(self, start: int, end: int) -> memoryview:
        """Bytes already read, as a view."""
        return memoryview(self._data)[start - self._origin : end - self._origin]

    def skip(self, size: int, what: str) -> None:
        self.need(size, what)
        self.pos += size

    def _unpack(self, layout: struct.Struct, what: str):
        self.need(layout.size, what)
        value = layout.unpack_from(self._data, self.pos - self._origin)
        self.pos += layout.size
        return value

    def u8(self, what: str) -> int:
        return self._unpack(_U8, what)[0]

    def u16be(self, what: str) -> int:
        return self._unpack(_U16BE, what)[0]

    def u16le(self, what: str) -> int:
        return self._unpack(_U16LE, what)[0]

    def u24le(self, what: str) -> int:
        low, high = self._unpack(_U16LE_U8, what)
        return low | (high << 16)

    def u32be(self, what: str) -> int:
        return self._unpack(_U32BE, what)[0]

    def u32le(self, what: str) -> int:
        return self._unpack(_U32LE, what)[0]


_U8 = struct.Struct("B")
_U16BE = struct.Struct(">H")
_U16LE = struct.Struct("<H")
_U16LE_U8 = struct.Struct("<HB")
_U32BE = struct.Struct(">I")
_U32LE = struct.Struct("<I")
