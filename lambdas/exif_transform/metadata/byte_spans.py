"""Builds an output from runs of the input plus a few new pieces, copying once.

Strippers keep most of the input as it is (JPEG scan data, PNG IDAT, WebP VP8);
they describe the output as kept ranges and inserted blobs, and the bytes are
copied a single time when the output is joined.
"""

from __future__ import annotations


class SpanWriter:
    """Collects kept ranges of `data` (merged when adjacent) and inserted blobs."""

    def __init__(self, data: bytes):
        self._view = memoryview(data)
        self._parts: list[bytes | bytearray | memoryview] = []
        self._run: tuple[int, int] | None = None

    def keep(self, start: int, end: int) -> None:
        if self._run is not None and self._run[1] == start:
            self._run = (self._run[0], end)
            return
        self._flush()
        self._run = (start, end)

    def add(self, blob: bytes) -> None:
        self._flush()
        self._parts.append(blob)

    def mark(self) -> int:
        """A place, between what has been written so far and what follows, for insert()."""
        self._flush()
        return len(self._parts)

    def insert(self, place: int, blob: bytes) -> None:
        self._flush()
        self._parts.insert(place, blob)

    def offset_of(self, blob: bytes | bytearray) -> int:
        """Where an inserted or added blob (this very object) begins in the output."""
        self._flush()
        offset = 0
        for part in self._parts:
            if part is blob:
                return offset
            offset += len(part)
        raise ValueError("the blob is not part of the output")

    def size(self) -> int:
        """The length of the output so far."""
        self._flush()
        return sum(len(part) for part in self._parts)

    def join(self) -> bytes:
        self._flush()
        return b"".join(self._parts)

    def _flush(self) -> None:
        if self._run is not None:
            start, end = self._run
            self._parts.append(self._view[start:end])
            self._run = None
