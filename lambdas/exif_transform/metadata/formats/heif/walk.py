"""HEIF: the strip of one file as it arrives (formats/contract.py's open_walk).

Before the first byte everything is decided from ranged reads (read_range): the box
headers and meta box (tables.parse), what is kept (selection.plan), the kept data small
enough to check ahead (payloads.check), the new ftyp, meta and mdat header (layout.build).
Then the input is read once, front to back: the kept ranges pass through in input order
as they arrive (each checked as it passes: stream_checks.py), everything else is skipped,
and the new payloads follow the last range. Nothing is held but the planned head and
tail, the meta box, one unit header, and the part of a chunk being copied.

The bytes read ahead must be the bytes that stream: the ftyp and meta boxes are compared
as they pass, and each kept block is checked again (its hash, or its units).
"""

from __future__ import annotations

from typing import Any, Callable

from ...errors import ImageError
from .brands import AVIF_BRANDS, HEIC_BRANDS
from .extents import ExtentIndex
from .layout import build
from .payloads import check
from .selection import Plan, plan
from .tables import FMT, Tables, parse


def mime_type(tables: Tables) -> str:
    if tables.brands & AVIF_BRANDS:
        return "image/avif"
    if tables.brands & HEIC_BRANDS:
        return "image/heic"
    return "image/heif"


class HeifWalk:
    """Strips one HEIF/AVIF file pushed a chunk at a time: feed(chunk) -> bytes, finish() -> bytes."""

    def __init__(self, size: int, read_range: Callable[[int, int], bytes] | None, keep_copyright: bool) -> None:
        if read_range is None:
            raise ImageError(f"{FMT}: a streamed strip needs ranged reads of the file (its meta box and box headers)")
        self.size = size
        self.tables = parse(size, read_range)
        self.index = ExtentIndex(size, read_range, self.tables)
        self.plan: Plan = plan(self.tables, self.index, keep_copyright)
        payloads = check(self.tables, self.index, self.plan)
        output = build(size, self.tables, self.index, self.plan, payloads)
        self.mime_type = mime_type(self.tables)
        self._head: bytes | None = output.head
        self._runs = output.runs
        self._tail = output.tail
        self._blocks = payloads.blocks
        self._last_run = {run.block: number for number, run in enumerate(self._runs)}
        self._checks: dict[int, Any] = {}
        self._next = 0  # the first run not yet passed
        self._at = 0  # input offset of the next byte fed
        # What was read ahead and decided on, compared with the bytes that stream: (start, bytes).
        self._read: list[tuple[int, bytes | memoryview]] = [
            (self.tables.ftyp.payload_start, self.tables.ftyp_payload),
            (self.tables.meta.start, self.tables.meta_data.data),
        ]
        self._removed = frozenset(self.plan.removed | payloads.removed)
        self.removed: frozenset[str] = frozenset()
        self.kept: frozenset[str] = frozenset()

    def feed(self, chunk: bytes | bytearray | memoryview) -> bytes:
        view = memoryview(chunk)
        start, end = self._at, self._at + len(view)
        if end > self.size:
            raise ImageError(f"{FMT}: the input is longer than its declared {self.size} bytes")
        out: list[bytes | memoryview] = []
        if self._head is not None:
            out.append(self._head)
            self._head = None
        for origin, held in self._read:
            low, high = max(start, origin), min(end, origin + len(held))
            if low < high and view[low - start : high - start] != held[low - origin : high - origin]:
                raise ImageError(f"{FMT}: the box at offset {origin} differs from the one read before the first byte (changed while read?)")
        while self._next < len(self._runs) and self._runs[self._next].start < end:
            run = self._runs[self._next]
            low, high = max(start, run.start), min(end, run.end)
            if low < high:
                part = view[low - start : high - start]
                out.append(part)
                self._check(run.block).update(part)
            if run.end > end:
                break
            if self._last_run[run.block] == self._next:
                self._check(run.block).done()
            self._next += 1
        self._at = end
        return b"".join(out)

    def _check(self, block: int) -> Any:
        found = self._checks.get(block)
        if found is None:
            verify = self._blocks[block].verify
            found = self._checks[block] = verify() if verify is not None else _Unchecked()
        return found

    def finish(self) -> bytes:
        if self._at != self.size:
            raise ImageError(f"{FMT}: the input ended at offset {self._at}, before its declared size {self.size}")
        head = self.feed(b"") if self._head is not None else b""
        self.removed, self.kept = self._removed, self.plan.kept
        return head + b"".join(self._tail)


class _Unchecked:
    """A block whose check took only its size (uncompressed samples)."""

    def update(self, part: memoryview) -> None:
        pass

    def done(self) -> None:
        pass


def open_walk(size: int, read_range: Callable[[int, int], bytes] | None, keep_copyright: bool) -> HeifWalk:
    """The walk metadata/streaming.py drives for a HEIF/AVIF file."""
    return HeifWalk(size, read_range, keep_copyright)
