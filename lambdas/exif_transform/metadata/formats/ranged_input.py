"""An input read in ranges, for a format whose facts lie beyond the bytes that have
arrived (a JPEG XL codestream's end, a container's boxes): read_range(start, end), the
caller's bounded read of any part of the file, with the last piece kept.

Headers are read a few bytes at a time, so each read asks for at least PIECE bytes and
the next reads inside it cost nothing; a read of PIECE or more goes through uncached.
A RangedSpan is a part of the input that reads nothing until it is sliced and turned
into bytes, so jxl_bits.BitReader can walk a codestream of any size a window at a time.
"""

from __future__ import annotations

from typing import Callable

from ..errors import ImageError

PIECE = 256 * 1024


class RangedInput:
    def __init__(self, read_range: Callable[[int, int], "bytes | memoryview"], size: int, fmt: str) -> None:
        self._read_range = read_range
        self.size = size
        self._fmt = fmt
        self._start = 0
        self._piece: bytes | memoryview = b""
        self.reads = 0  # ranged reads made, for tests and logs

    def __call__(self, start: int, end: int) -> bytes | memoryview:
        end = min(end, self.size)
        if start >= end:
            return b""
        if self._start <= start and end <= self._start + len(self._piece):
            return self._piece[start - self._start : end - self._start]
        wanted = max(end, min(self.size, start + PIECE))
        self.reads += 1
        piece = self._read_range(start, wanted)
        if len(piece) != wanted - start:
            raise ImageError(f"{self._fmt}: the input ended at offset {start + len(piece)}, before its declared size {self.size}")
        if wanted - start <= PIECE:
            self._start, self._piece = start, piece
        return piece[: end - start]

    def span(self, start: int, end: int) -> RangedSpan:
        return RangedSpan(self, start, end)


class RangedSpan:
    """Bytes [start, end) of a RangedInput, read when turned into bytes."""

    __slots__ = ("_input", "start", "end")

    def __init__(self, ranged: RangedInput, start: int, end: int) -> None:
        self._input = ranged
        self.start = start
        self.end = max(start, end)

    def __len__(self) -> int:
        return self.end - self.start

    def __getitem__(self, key: slice) -> RangedSpan:
        first, last, _ = key.indices(len(self))
        return RangedSpan(self._input, self.start + first, self.start + last)  # __init__ makes a reversed slice empty

    def __bytes__(self) -> bytes:
        return bytes(self._input(self.start, self.end))
