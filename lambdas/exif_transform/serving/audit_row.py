"""One audited object as a row, and the summary of many: the audit's single vocabulary.

The Batch Operations audit handler (audit/handler.py) and the command line's local audit
(anon_s3ol) both build their rows here, so a bucket audited by either reads the same:

    format  the detected format ("jpeg", "heif", ...), None when not recognised
    served  whether a viewer would get the image (the transform strips it) or a refusal
    reason  why it is refused (the ImageError's message, or the read's), None when served
    found   the kinds of metadata a strip removes (metadata/kinds.py's names, sorted)
    kept    pictures kept beyond the primary, by kind (gain maps and the like), sorted
    gps     a GPS IFD is present
    owner   the EXIF names an owner or carries a serial number (OWNER_FIELDS)
    bytes   the original's size

Pure: bytes in, a row out. The row travels as compact JSON (a Batch Operations result
string, a line of `--json` output) and is read back with row_from_json, which checks
every field, because a completion report is data from outside.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import NamedTuple

import metadata
from metadata import FULL_VIEW, ImageError
from metadata.kinds import GPS

# EXIF fields that name a person or identify one camera, by read_exif's group and piexif's tag name.
OWNER_FIELDS = {
    "Image": ("Artist", "CameraSerialNumber"),
    "Exif": ("BodySerialNumber", "CameraOwnerName", "LensSerialNumber"),
}
ROW_FIELDS = ("format", "served", "reason", "found", "kept", "gps", "owner", "bytes")
# A reason read back from a report is cut to this many characters (the transform's are one short line).
MAX_REASON_CHARS = 300
# A row read back holds at most this many kinds in found or kept (metadata/kinds.py names a dozen).
MAX_KINDS = 32
MAX_KIND_CHARS = 40


class AuditRow(NamedTuple):
    format: str | None
    served: bool
    reason: str | None
    found: tuple[str, ...]
    kept: tuple[str, ...]
    gps: bool
    owner: bool
    bytes: int


def refused_row(reason: str, size: int, image_format: str | None = None) -> AuditRow:
    """The row of an object a viewer would not get, and why."""
    return AuditRow(image_format, False, reason, (), (), False, False, size)


def _names_owner(exif: dict) -> bool:
    omitted = set(exif.get("omitted", ()))
    return any(
        name in exif.get(group, {}) or f"{group}.{name}" in omitted
        for group, names in OWNER_FIELDS.items()
        for name in names
    )


def audit_image(data: bytes, *, keep_copyright: bool = False) -> AuditRow:
    """What the transform would do with `data`: serve it stripped of these kinds, or refuse it."""
    try:
        stripped = metadata.clean(data, keep_copyright=keep_copyright)
    except ImageError as error:
        try:
            image_format = metadata.detect_format(data)
        except ImageError:
            image_format = None
        return refused_row(str(error), len(data), image_format)
    # StripResult.kept arrives with the multi-picture work (shared interface 2); absent means none kept.
    kept = tuple(sorted(getattr(stripped, "kept", ())))
    # The strip has checked the structure; read_exif reads the EXIF block leniently and never refuses a
    # file the strip accepted, but a surprise there must not turn a served image into a refusal.
    try:
        owner = _names_owner(metadata.read_exif(data, view=FULL_VIEW))
    except ImageError:
        owner = False
    return AuditRow(stripped.format, True, None, stripped.removed, kept, GPS in stripped.removed, owner, len(data))


def row_json(row: AuditRow) -> str:
    """The row as compact JSON with a fixed key order (a completion report's ResultMessage)."""
    return json.dumps(
        {
            "format": row.format,
            "served": row.served,
            "reason": row.reason,
            "found": list(row.found),
            "kept": list(row.kept),
            "gps": row.gps,
            "owner": row.owner,
            "bytes": row.bytes,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


class RowError(ValueError):
    """A serialised row that is not one this module wrote."""


def _kinds(value: object, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_KINDS:
        raise RowError(f"{field} is not a list of at most {MAX_KINDS} kinds")
    if not all(isinstance(kind, str) and 0 < len(kind) <= MAX_KIND_CHARS for kind in value):
        raise RowError(f"{field} holds something other than a kind's name")
    return tuple(sorted(value))


def row_from_json(text: str) -> AuditRow:
    """The row row_json wrote, every field checked; RowError otherwise."""
    try:
        document = json.loads(text)
    except ValueError:
        raise RowError("not JSON") from None
    if not isinstance(document, dict) or set(document) != set(ROW_FIELDS):
        raise RowError(f"not an object with exactly the fields {', '.join(ROW_FIELDS)}")
    image_format, reason, size = document["format"], document["reason"], document["bytes"]
    if image_format is not None and not (isinstance(image_format, str) and 0 < len(image_format) <= MAX_KIND_CHARS):
        raise RowError("format is not a format's name")
    if reason is not None and not isinstance(reason, str):
        raise RowError("reason is not text")
    if type(size) is not int or size < 0:
        raise RowError("bytes is not a size")
    flags = [document[name] for name in ("served", "gps", "owner")]
    if not all(isinstance(flag, bool) for flag in flags):
        raise RowError("served, gps and owner must be true or false")
    served, gps, owner = flags
    if served == (reason is not None):
        raise RowError("a row has a reason exactly when it is refused")
    return AuditRow(
        image_format,
        served,
        None if reason is None else reason[:MAX_REASON_CHARS],
        _kinds(document["found"], "found"),
        _kinds(document["kept"], "kept"),
        gps,
        owner,
        size,
    )


class Summary:
    """Counts over rows, fed one at a time so an audit of any size holds only the counts."""

    def __init__(self) -> None:
        self.objects = 0
        self.bytes = 0
        self.formats: Counter[str] = Counter()
        self.refused = 0
        self.gps = 0
        self.owner = 0
        self.found: Counter[str] = Counter()

    def add(self, row: AuditRow) -> None:
        self.objects += 1
        self.bytes += row.bytes
        self.formats[row.format or "unrecognised"] += 1
        self.refused += not row.served
        self.gps += row.gps
        self.owner += row.owner
        self.found.update(row.found)

    def lines(self) -> list[str]:
        """The summary a person reads after the rows."""
        formats = ", ".join(f"{name} {count}" for name, count in sorted(self.formats.items())) or "none"
        found = ", ".join(f"{kind} {count}" for kind, count in sorted(self.found.items())) or "none"
        return [
            f"{self.objects} objects, {self.bytes} bytes",
            f"formats: {formats}",
            f"served: {self.objects - self.refused}, refused: {self.refused}",
            f"GPS found in {self.gps}, an owner's name or a serial number in {self.owner}",
            f"metadata found: {found}",
        ]
