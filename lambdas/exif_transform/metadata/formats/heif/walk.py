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
from ..walks import PlannedWalk
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


class HeifWalk(PlannedWalk):
    """Strips one HEIF/AVIF file pushed a chunk at a time: feed(chunk) -> bytes, finish() -> bytes."""

    def __init__(self, size: int, read_range: Callable[[int, int], bytes] | None, keep_copyright: bool) -> None:
        if read_range is None:
            raise ImageError(f"{FMT}: a streamed strip needs ranged reads of the file (its meta box and box headers)")
        self.tables = parse(size, read_range)
        self.index = ExtentIndex(size, read_range, self.tables)
        self.plan: Plan = plan(self.tables, self.index, keep_copyright)
        payloads = check(self.tables, self.index, self.plan)
        output = build(size, self.tables, self.index, self.plan, payloads)
        super().__init__(FMT, size, output.head, [(run.start, run.end) for run in output.runs])
        self.mime_type = mime_type(self.tables)
        self._run_blocks = [run.block for run in output.runs]
        self._tail = output.tail
        self._blocks = payloads.blocks
        self._last_run = {block: number for number, block in enumerate(self._run_blocks)}
        self._checks: dict[int, Any] = {}
        # What was read ahead and decided on, compared with the bytes that stream: (start, bytes).
        self._read: list[tuple[int, bytes | memoryview]] = [
            (self.tables.ftyp.payload_start, self.tables.ftyp_payload),
            (self.tables.meta.start, self.tables.meta_data.data),
        ]
        self._removed = frozenset(self.plan.removed | payloads.removed)
        self.removed: frozenset[str] = frozenset()
        self.kept: frozenset[str] = frozenset()

    def _verify(self, start: int, view: memoryview) -> None:
        end = start + len(view)
        for origin, held in self._read:
            low, high = max(start, origin), min(end, origin + len(held))
            if low < high and view[low - start : high - start] != held[low - origin : high - origin]:
                raise ImageError(f"{FMT}: the box at offset {origin} differs from the one read before the first byte (changed while read?)")

    def _passed(self, number: int, part: memoryview) -> None:
        self._check(self._run_blocks[number]).update(part)

    def _run_done(self, number: int) -> None:
        block = self._run_blocks[number]
        if self._last_run[block] == number:
            self._check(block).done()

    def _check(self, block: int) -> Any:
        found = self._checks.get(block)
        if found is None:
            verify = self._blocks[block].verify
            found = self._checks[block] = verify() if verify is not None else _Unchecked()
        return found

    def finish(self) -> bytes:
        head = self._end()
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
