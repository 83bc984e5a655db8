"""The two shapes of streaming walk (metadata/streaming.py), written once.

Cursor: a walk that reads its input as it comes, a state table of steps over the bytes
held from the first one not yet walked (JPEG, GIF, PNG).

PlannedWalk: a walk whose output was planned from ranged reads before the first byte
(WebP, HEIF): the planned head goes first, then the kept runs of the input pass through
as they arrive, the bytes read ahead checked again as they stream.
"""

from __future__ import annotations

from typing import Callable, Sequence

from ..errors import ImageError

Step = Callable[[bool], bool]  # step(final) -> True to run the next step now, False to wait for input


class Cursor:
    """The input held from the first byte not yet walked; a subclass names its steps (_steps),
    and may bound what it holds (_check_head) and check the whole walk at finish (_conclude)."""

    def __init__(self, state: int) -> None:
        self._buf = bytearray()
        self._base = 0  # input offset of _buf[0]
        self._at = 0  # index in _buf of the first byte not yet walked
        self._state = state
        self._out: list[bytes | bytearray | memoryview] = []

    def feed(self, chunk: bytes | bytearray | memoryview) -> bytes:
        self._buf += chunk
        self._walk(final=False)
        self._check_head()
        return self._take()

    def finish(self) -> bytes:
        self._walk(final=True)
        self._conclude()
        return self._take()

    def _steps(self) -> dict[int, Step]:
        raise NotImplementedError

    def _check_head(self) -> None:
        """Refuses, after each feed, a head held past the format's limit."""

    def _conclude(self) -> None:
        """At finish: checks the input was a whole image, and settles what was removed."""

    def _walk(self, *, final: bool) -> None:
        """Runs the steps as far as the input held goes, then lets go of the bytes walked."""
        steps = self._steps()
        while steps[self._state](final):
            pass
        if self._at:
            del self._buf[: self._at]
            self._base += self._at
            self._at = 0

    def _total(self) -> int:
        """The input's length so far."""
        return self._base + len(self._buf)

    def _take(self) -> bytes:
        out, self._out = self._out, []
        if len(out) == 1 and isinstance(out[0], bytes):  # one blob (a scan passed in place): no copy
            return out[0]
        return b"".join(out)


class PlannedWalk:
    """The input of a declared size passed through along planned (start, end) runs, in order,
    none empty and none overlapping (WebP's are whole chunks; HEIF's are item extents, and
    heif.extents refuses one of 0 bytes).

    A subclass checks the bytes it read ahead (_verify) and may follow each run's parts
    (_passed, _run_done); its finish() calls _end() first."""

    def __init__(self, fmt: str, size: int, head: bytes, runs: Sequence[tuple[int, int]]) -> None:
        self._fmt = fmt
        self.size = size
        self._head: bytes | None = head
        self._runs = runs
        self._next = 0  # the first run not yet passed
        self._at = 0  # input offset of the next byte fed

    def feed(self, chunk: bytes | bytearray | memoryview) -> bytes:
        view = memoryview(chunk)
        start, end = self._at, self._at + len(view)
        if end > self.size:
            raise ImageError(f"{self._fmt}: the input is longer than its declared {self.size} bytes")
        out: list[bytes | memoryview] = []
        if self._head is not None:
            out.append(self._head)
            self._head = None
        self._verify(start, view)
        while self._next < len(self._runs) and self._runs[self._next][0] < end:
            run_start, run_end = self._runs[self._next]
            low, high = max(start, run_start), min(end, run_end)
            if low < high:  # not so for an empty chunk fed inside a run
                part = view[low - start : high - start]
                out.append(part)
                self._passed(self._next, part)
            if run_end > end:
                break
            self._run_done(self._next)
            self._next += 1
        self._at = end
        return b"".join(out)

    def _end(self) -> bytes:
        """The input must be whole; the planned head if no byte came (an empty input)."""
        if self._at != self.size:
            raise ImageError(f"{self._fmt}: the input ended at offset {self._at}, before its declared size {self.size}")
        return self.feed(b"") if self._head is not None else b""

    def _verify(self, start: int, view: memoryview) -> None:
        """Checks the bytes fed at input offset `start` against what was read ahead."""

    def _passed(self, number: int, part: memoryview) -> None:
        """Part of run `number` has passed through."""

    def _run_done(self, number: int) -> None:
        """Run `number` has passed through whole."""
