"""`anon-s3ol audit`: every file under a folder or an S3 prefix, as the service would see it.

The listing is streamed; `workers` threads read and examine files concurrently, at most
WINDOW_PER_WORKER * workers of them in flight and at most BYTE_BUDGET bytes read but not
yet examined (a file larger than the whole budget waits to be read alone), and rows are
written in listing order as they complete. So memory stays bounded whatever the number
of files. A file larger than the service's input limit is refused without being read.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Iterator, Protocol, TextIO

from serving.settings import DEFAULT_MAX_INPUT_BYTES

from .audit_report import CsvWriter, JsonWriter, TableWriter
from .errors import CommandError
from .findings import Finding, examine, refusal
from .progress import Progress
from .s3_access import is_s3, parse_location, s3_client
from .sources import BucketSource, Entry, FolderSource, Unreadable

# The deployment's default MaxInputBytes: a larger object is answered 413.
MAX_INPUT_BYTES = DEFAULT_MAX_INPUT_BYTES
WINDOW_PER_WORKER = 4
# Bytes read and not yet examined, across all workers (a strip holds its input and output).
BYTE_BUDGET = 256 * 1024 * 1024


class Source(Protocol):
    name: str

    def entries(self) -> Iterator[Entry]: ...

    def read(self, entry: Entry, max_bytes: int) -> bytes: ...


class ByteBudget:
    """Bytes in flight, bounded: take() waits until `size` fits or nothing else is held."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self.condition = threading.Condition()

    def take(self, size: int) -> None:
        with self.condition:
            self.condition.wait_for(lambda: self.held == 0 or self.held + size <= self.limit)
            self.held += size

    def give_back(self, size: int) -> None:
        with self.condition:
            self.held -= size
            self.condition.notify_all()


def audit_entry(source: Source, entry: Entry, *, max_bytes: int, budget: ByteBudget) -> Finding:
    if entry.size > max_bytes:  # refused unread, as the service refuses it (413)
        return refusal(entry.key, entry.size, f"larger than the {max_bytes}-byte input limit the service accepts (MaxInputBytes)")
    held = min(entry.size, budget.limit)
    budget.take(held)
    try:
        try:
            data = source.read(entry, max_bytes)
        except Unreadable as error:
            return refusal(entry.key, entry.size, str(error))
        return examine(entry.key, data)
    finally:
        budget.give_back(held)


def audited(source: Source, entries: Iterator[Entry], *, workers: int, max_bytes: int) -> Iterator[Finding]:
    """The Finding for each entry, in the entries' order, `workers` at a time."""
    budget = ByteBudget(BYTE_BUDGET)
    window: deque[Future[Finding]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="audit")
    try:
        for entry in entries:
            window.append(pool.submit(audit_entry, source, entry, max_bytes=max_bytes, budget=budget))
            if len(window) >= WINDOW_PER_WORKER * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def open_source(text: str, *, workers: int) -> Source:
    if is_s3(text):
        return BucketSource(s3_client(connections=workers), parse_location(text))
    return FolderSource(Path(text).expanduser())


def _writer(as_json: bool, csv_file: TextIO | None, out: TextIO):  # noqa: ANN202 - one of the report's writers
    if as_json:
        return JsonWriter(out)
    if csv_file is not None:
        return CsvWriter(csv_file, out)
    return TableWriter(out)


def run_audit(text: str, *, as_json: bool, csv_path: str | None, workers: int, out: TextIO, err: TextIO) -> int:
    source = open_source(text, workers=workers)
    entries = source.entries()
    # The first entry is fetched before anything is printed: a missing bucket, a denied
    # listing or no credentials stop the command with no half-written report.
    first = next(entries, None)
    listed = entries if first is None else chain([first], entries)
    csv_file = None
    if csv_path is not None:
        try:
            csv_file = open(csv_path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as error:
            raise CommandError(f"{csv_path}: cannot write the CSV: {error.strerror or type(error).__name__}") from None
    progress = Progress(err)
    try:
        writer = _writer(as_json, csv_file, out)
        writer.start(source.name)
        for finding in audited(source, listed, workers=workers, max_bytes=MAX_INPUT_BYTES):
            progress.clear()
            writer.row(finding)
            progress.update(writer.summary.files, writer.summary.refused)
        progress.clear()
        writer.finish()
    finally:
        progress.clear()
        if csv_file is not None:
            csv_file.close()
    return 0
