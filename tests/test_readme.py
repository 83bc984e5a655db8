"""What the README states about the code, checked against the code: the reply table ("How the transform
replies") against serving/error_table.py (every row of the error table has a README row with its status, error
code and message, and every README error row is one the error table can give), and generate.py's report (the
templates and their resource counts) against the committed templates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import generate

from function_url.payload_limits import BUFFERED_LIMIT, STREAMED_LIMIT
from metadata import ImageError
from serving.byte_range import RangeNotSatisfiableError
from serving.error_table import UNEXPECTED_ERROR, describe
from serving.errors import (
    InvalidKeyError,
    MethodNotAllowedError,
    OriginalTooLargeError,
    ResponseTooLargeError,
    RoleReadDeniedError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)

README = Path(__file__).resolve().parents[1] / "README.md"
NO_CODE = "–"

# One failure of each kind the error table tells apart (UpstreamStatusError by status).
FAILURES = [
    UpstreamStatusError(404),
    UpstreamStatusError(403),
    UpstreamStatusError(304),
    UpstreamStatusError(412),
    UpstreamStatusError(500),
    OriginalTooLargeError(1),
    ImageError("not an image"),
    RangeNotSatisfiableError(10),
    UpstreamTimeoutError("slow"),
    UpstreamUnreachableError("down"),
    RoleReadDeniedError("denied"),
    InvalidKeyError("empty"),
    MethodNotAllowedError("POST"),
    ResponseTooLargeError(7, 6, BUFFERED_LIMIT.advice),
    ResponseTooLargeError(201, 200, STREAMED_LIMIT.advice),
    KeyError("anything else"),
]


def readme_rows() -> list[tuple[list[int], list[str], str]]:
    """(statuses, codes, message) of each error row: `412 / 304` and `PreconditionFailed / –` are two answers."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### How the transform replies\n", 1)[1].lstrip("\n").split("\n\n", 1)[0]
    rows = []
    for line in section.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        _, status, code, message = cells
        statuses = [int(s) for s in re.findall(r"\b\d{3}\b", status.split("+")[0])]
        if statuses and statuses[0] < 300:
            continue  # 200 and 206: not errors
        codes = [c.strip().strip("`") for c in code.split("/")]
        rows.append((statuses, codes, message))
    return rows


def test_every_answer_of_the_error_table_has_its_readme_row() -> None:
    rows = readme_rows()
    assert len(rows) >= 12, "the README's reply table was not found"
    for failure in FAILURES:
        status, code, message = describe(failure)
        shown_code = code or NO_CODE
        matching = [
            row_message for statuses, codes, row_message in rows
            if status in statuses and shown_code == codes[statuses.index(status) if len(codes) > 1 else 0]
        ]
        if isinstance(failure, ResponseTooLargeError):
            # One row for both limits: the message with the buffered advice, the streamed advice beside it.
            prefix = message.split("; ")[0]
            assert any(prefix in m and failure.advice in m for m in matching), (failure, matching)
            continue
        if status == 304:
            assert matching, (failure, rows)
            continue
        assert any(message in m.split(" / ") or m == message for m in matching), (failure, message, matching)


def test_every_readme_error_row_is_an_answer_of_the_error_table() -> None:
    answers = {describe(failure)[:2] for failure in FAILURES} | {UNEXPECTED_ERROR[:2]}
    for statuses, codes, message in readme_rows():
        for status, code in zip(statuses, codes if len(codes) == len(statuses) else codes * len(statuses)):
            assert (status, None if code == NO_CODE else code) in answers, (status, code, message)


def test_the_unexpected_failure_is_the_last_row() -> None:
    statuses, codes, message = readme_rows()[-1]
    assert (statuses[0], codes[0], message) == UNEXPECTED_ERROR


def test_generate_report_in_the_readme_lists_every_template_with_its_resource_count() -> None:
    text = README.read_text(encoding="utf-8")
    report = dict(re.findall(r"^templates/([a-z-]+)\.json: (\d+) resources, 0 cfn-lint findings$", text, re.MULTILINE))
    templates = Path(__file__).resolve().parents[1] / "templates"
    expected = {
        stack.name: str(len(json.loads((templates / f"{stack.name}.json").read_text())["Resources"]))
        for stack in generate.stacks()
    }
    assert report == expected
    count = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}[len(expected)]
    assert f"Builds the {count} templates" in text
