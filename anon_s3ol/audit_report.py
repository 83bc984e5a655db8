"""The audit's output: a row per file as it comes (a table, JSON or CSV), then the summary.

Every writer holds the summary's counts only, never the rows, so its memory does not
grow with the number of files. The JSON document is written as it goes too:
{"source": ..., "rows": [...], "summary": {...}}, each row
{"key", "format", "served", "reason" (refused only), "gps", "found", "removed", "kept",
"bytes", "bytes_out"}.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from typing import TextIO

from .findings import C2PA, GPS, OWNER_OR_SERIAL, Finding

UNKNOWN_FORMAT = "unknown"
# The CSV's yes/no columns, in order: the kinds a photo's owner most wants to know about.
FLAG_COLUMNS = (
    ("gps", GPS),
    ("owner_serial", OWNER_OR_SERIAL),
    ("xmp", "xmp"),
    ("iptc", "iptc"),
    ("thumbnail", "thumbnail"),
    ("c2pa", C2PA),
)
CSV_COLUMNS = ("key", "format", "served", "reason", *(name for name, _ in FLAG_COLUMNS), "found", "kept", "bytes", "bytes_out")


def row_document(finding: Finding) -> dict:
    row = {"key": finding.key, "format": finding.format, "served": finding.served}
    if not finding.served:
        row["reason"] = finding.reason
    row.update(
        gps=finding.gps,
        found=list(finding.found),
        removed=list(finding.removed),
        kept=list(finding.kept),
        bytes=finding.bytes_in,
        bytes_out=finding.bytes_out,
    )
    return row


class Summary:
    """Counts over the rows seen so far."""

    def __init__(self) -> None:
        self.files = 0
        self.served = 0
        self.formats: Counter[str] = Counter()
        self.found: Counter[str] = Counter()
        self.kept: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()
        self.bytes_in = 0
        self.bytes_out = 0

    def add(self, finding: Finding) -> None:
        self.files += 1
        self.formats[finding.format or UNKNOWN_FORMAT] += 1
        self.bytes_in += finding.bytes_in
        if finding.served:
            self.served += 1
            self.bytes_out += finding.bytes_out or 0
            self.found.update(finding.found)
            self.kept.update(finding.kept)
        else:
            self.refusals[finding.reason or ""] += 1

    @property
    def refused(self) -> int:
        return self.files - self.served

    def document(self) -> dict:
        return {
            "files": self.files,
            "served": self.served,
            "refused": self.refused,
            "formats": dict(sorted(self.formats.items())),
            "found": dict(sorted(self.found.items())),
            "gps": self.found[GPS],
            "kept": dict(sorted(self.kept.items())),
            "bytes": self.bytes_in,
            "bytes_out": self.bytes_out,
        }

    def lines(self) -> list[str]:
        def counts(counter: Counter[str]) -> str:
            return ", ".join(f"{name} {count}" for name, count in sorted(counter.items())) or "none"

        return [
            f"{self.files} files: {self.served} served, {self.refused} refused",
            f"formats: {counts(self.formats)}",
            f"GPS found in {self.found[GPS]}, an owner's name or a serial number in {self.found[OWNER_OR_SERIAL]}",
            f"metadata found: {counts(self.found)}",
            f"pictures kept: {counts(self.kept)}",
            f"bytes: {self.bytes_in} in, {self.bytes_out} out (served files)",
        ]


def table_line(finding: Finding) -> str:
    if not finding.served:
        return f"{finding.key}: {finding.format or UNKNOWN_FORMAT}, refused: {finding.reason}; {finding.bytes_in} bytes"
    found = ", ".join(finding.found) or "no metadata"
    kept = f"; kept {', '.join(finding.kept)}" if finding.kept else ""
    return f"{finding.key}: {finding.format}, served; found {found}{kept}; {finding.bytes_in} -> {finding.bytes_out} bytes"


class TableWriter:
    """A line per file, then the summary's lines."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.summary = Summary()

    def start(self, source: str) -> None:
        pass

    def row(self, finding: Finding) -> None:
        self.summary.add(finding)
        print(table_line(finding), file=self.out, flush=True)

    def finish(self) -> None:
        print("", file=self.out)
        for line in self.summary.lines():
            print(line, file=self.out)
        self.out.flush()


class JsonWriter:
    """One JSON document, written as the rows come."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.summary = Summary()

    def start(self, source: str) -> None:
        self.out.write('{"source": ' + json.dumps(source, ensure_ascii=False) + ', "rows": [')

    def row(self, finding: Finding) -> None:
        separator = ",\n  " if self.summary.files else "\n  "
        self.summary.add(finding)
        self.out.write(separator + json.dumps(row_document(finding), ensure_ascii=False))
        self.out.flush()

    def finish(self) -> None:
        closing = "\n]" if self.summary.files else "]"
        self.out.write(closing + ', "summary": ' + json.dumps(self.summary.document()) + "}\n")
        self.out.flush()


class CsvWriter:
    """The rows as CSV into `rows`; the summary's lines to `out`."""

    def __init__(self, rows: TextIO, out: TextIO) -> None:
        self.rows = csv.writer(rows)
        self.file = rows
        self.out = out
        self.summary = Summary()

    def start(self, source: str) -> None:
        self.rows.writerow(CSV_COLUMNS)

    def row(self, finding: Finding) -> None:
        self.summary.add(finding)
        flags = ["yes" if kind in finding.found else "no" for _, kind in FLAG_COLUMNS]
        self.rows.writerow(
            [
                finding.key,
                finding.format or UNKNOWN_FORMAT,
                "yes" if finding.served else "no",
                finding.reason or "",
                *flags,
                ";".join(finding.found),
                ";".join(finding.kept),
                finding.bytes_in,
                "" if finding.bytes_out is None else finding.bytes_out,
            ]
        )

    def finish(self) -> None:
        self.file.flush()
        for line in self.summary.lines():
            print(line, file=self.out)
        self.out.flush()
