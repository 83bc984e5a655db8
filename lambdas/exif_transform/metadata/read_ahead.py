"""Reads a streamed strip makes before its first byte, and the check that the bytes which
then stream are the ones read.

A format whose output head depends on facts from all over the file (WebP's RIFF size
and VP8X flags) reads them first with read_range(start, end), in windows, a bounded
number of times. Each read is remembered by its SHA-256; as the input streams, every
read's range is hashed again and compared, so a file changed between the reads (another
version of the object) is never served with a head that describes something else: the
stream fails (before its first byte it is refused, after it is cut).
"""

from __future__ import annotations

import hashlib
from typing import Callable

from .errors import ImageError

WINDOW = 64 * 1024  # a small read brings this much, for the headers that follow it


class ReadAhead:
    """Bounded reads of one file: at most max_reads ranged reads, windows of WINDOW bytes."""

    def __init__(self, size: int, read_range: Callable[[int, int], bytes], fmt: str, max_reads: int) -> None:
        self.size = size
        self._read_range = read_range
        self._fmt = fmt
        self._max_reads = max_reads
        self._window: memoryview = memoryview(b"")
        self._origin = 0
        self.reads: list[tuple[int, int, bytes]] = []  # start, end, digest of every read

    def read(self, start: int, end: int) -> memoryview:
        """Bytes start..end of the file (end at most its size)."""
        if self._origin <= start and end <= self._origin + len(self._window):
            return self._window[start - self._origin : end - self._origin]
        stop = max(end, min(self.size, start + WINDOW))
        if len(self.reads) >= self._max_reads:
            raise ImageError(f"{self._fmt}: more than {self._max_reads} reads to find its structure (at offset {start})")
        got = memoryview(self._read_range(start, stop))
        if len(got) != stop - start:
            raise ImageError(f"{self._fmt}: a read of {stop - start} bytes at offset {start} gave {len(got)}")
        self.reads.append((start, stop, hashlib.sha256(got).digest()))
        self._window, self._origin = got, start
        return got[: end - start]

    def check(self) -> SameBytes:
        return SameBytes(self.reads, self._fmt)


class SameBytes:
    """Fed the input as it streams: each range read ahead must hash as it did."""

    def __init__(self, reads: list[tuple[int, int, bytes]], fmt: str) -> None:
        self._reads = sorted(reads)
        self._fmt = fmt
        self._next = 0
        self._open: list[tuple[int, int, bytes, object]] = []  # start, end, digest, hash so far

    def update(self, offset: int, view: memoryview) -> None:
        end = offset + len(view)
        while self._next < len(self._reads) and self._reads[self._next][0] < end:
            start, stop, digest = self._reads[self._next]
            self._open.append((start, stop, digest, hashlib.sha256()))
            self._next += 1
        still = []
        for start, stop, digest, hashed in self._open:
            low, high = max(start, offset), min(stop, end)
            if low < high:
                hashed.update(view[low - offset : high - offset])
            if stop <= end:
                if hashed.digest() != digest:
                    raise ImageError(f"{self._fmt}: the bytes at offset {start} differ from the ones read before the first byte (changed while read?)")
            else:
                still.append((start, stop, digest, hashed))
        self._open = still
