"""What an audit says about one object: the single computation behind every audit row.

The Batch Operations audit handler (audit/handler.py) and the command line's local audit
(anon_s3ol/findings.py) both call audit_image, so a bucket audited either way reads the same:

    format     the detected format ("jpeg", "heif", ...), None when not recognised
    served     whether a viewer would get the image (the transform strips it) or a refusal
    reason     why it is refused (the ImageError's message, or the read's), None when served
    removed    the kinds of metadata the strip removes (metadata/kinds.py's names, sorted)
    kept       pictures kept beyond the primary, by kind (gain maps and the like), sorted
    found      removed, plus "owner/serial" (an owner's name or a camera or lens serial number in
               the EXIF) and "c2pa" (a C2PA manifest) when present, sorted
    bytes_in   the original's size
    bytes_out  the stripped image's size, None when refused

Pure: bytes in, a row out. The row travels as compact JSON (a Batch Operations result
string) and is read back with row_from_json, which checks every field, because a
completion report is data from outside.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import metadata
from metadata import FULL_VIEW, ImageError
from metadata.kinds import GPS

from .reply import one_line

OWNER_OR_SERIAL = "owner/serial"
C2PA = "c2pa"
# EXIF fields that name a person, or one camera or lens: (read_exif's group, piexif's tag name).
IDENTIFYING_FIELDS = (
    ("Image", "Artist"),
    ("Image", "CameraSerialNumber"),
    ("Exif", "CameraOwnerName"),
    ("Exif", "BodySerialNumber"),
    ("Exif", "LensSerialNumber"),
)
# A C2PA manifest store is a JUMBF superbox whose description box ("jumd": a 16-byte type UUID,
# one toggles byte, then the label) is labelled "c2pa" (C2PA Technical Specification, "JUMBF"),
# whatever carries it: JPEG APP11, a JPEG XL jumb box, a PNG caBX chunk, a HEIF uuid box.
JUMBF_DESCRIPTION = b"jumd"
C2PA_LABEL = b"c2pa"
LABEL_OFFSET = len(JUMBF_DESCRIPTION) + 16 + 1
# Description boxes looked at, at most: a manifest store comes first in its superbox.
MAX_DESCRIPTIONS = 64

JSON_FIELDS = ("format", "served", "reason", "removed", "kept", "found", "gps", "bytes", "bytes_out")
# A reason read back from a report is cut to this many characters (the transform's are one short line).
MAX_REASON_CHARS = 300
# A row read back holds at most this many kinds in a list (metadata/kinds.py names about a dozen).
MAX_KINDS = 32
MAX_KIND_CHARS = 40


class AuditRow(NamedTuple):
    format: str | None
    served: bool
    reason: str | None
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    found: tuple[str, ...]
    bytes_in: int
    bytes_out: int | None

    @property
    def gps(self) -> bool:
        return GPS in self.found


def has_c2pa_manifest(data: bytes) -> bool:
    start = 0
    for _ in range(MAX_DESCRIPTIONS):
        at = data.find(JUMBF_DESCRIPTION, start)
        if at < 0:
            return False
        if data[at + LABEL_OFFSET : at + LABEL_OFFSET + len(C2PA_LABEL)] == C2PA_LABEL:
            return True
        start = at + 1
    return False


def names_owner_or_serial(data: bytes) -> bool:
    """An identifying EXIF field with a value, or one left out of the JSON for its size (still there)."""
    try:
        exif = metadata.read_exif(data, view=FULL_VIEW)
    except ImageError:
        return False
    omitted = set(exif.get("omitted", ()))
    return any(
        exif.get(group, {}).get(name) not in (None, "") or f"{group}.{name}" in omitted
        for group, name in IDENTIFYING_FIELDS
    )


def refused_row(reason: str, size: int, data: bytes | None = None) -> AuditRow:
    """The row of an object a viewer would not get, and why; its format when the first bytes name one."""
    image_format = None
    if data:
        try:
            image_format = metadata.detect_format(data)
        except ImageError:
            pass
    return AuditRow(image_format, False, one_line(reason), (), (), (), size, None)


def audit_image(data: bytes, *, keep_copyright: bool = False) -> AuditRow:
    """What the transform would do with `data`: serve it stripped of these kinds, or refuse it."""
    try:
        result = metadata.clean(data, keep_copyright=keep_copyright)
    except ImageError as error:
        return refused_row(str(error), len(data), data)
    found = set(result.removed)
    if names_owner_or_serial(data):
        found.add(OWNER_OR_SERIAL)
    if has_c2pa_manifest(data):
        found.add(C2PA)
    return AuditRow(result.format, True, None, result.removed, result.kept, tuple(sorted(found)), len(data), len(result.data))


def row_json(row: AuditRow) -> str:
    """The row as compact JSON with a fixed key order (a completion report's ResultMessage)."""
    values = (row.format, row.served, row.reason, list(row.removed), list(row.kept), list(row.found), row.gps, row.bytes_in, row.bytes_out)  # noqa: E501
    return json.dumps(dict(zip(JSON_FIELDS, values)), separators=(",", ":"), ensure_ascii=False)


class RowError(ValueError):
    """A serialised row that is not one this module wrote."""


def _kinds(value: object, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_KINDS:
        raise RowError(f"{field} is not a list of at most {MAX_KINDS} kinds")
    if not all(isinstance(kind, str) and 0 < len(kind) <= MAX_KIND_CHARS for kind in value):
        raise RowError(f"{field} holds something other than a kind's name")
    return tuple(sorted(value))


def _size(value: object, field: str, *, optional: bool) -> int | None:
    if value is None and optional:
        return None
    if type(value) is not int or value < 0:
        raise RowError(f"{field} is not a size")
    return value


def row_from_json(text: str) -> AuditRow:
    """The row row_json wrote, every field checked; RowError otherwise."""
    try:
        document = json.loads(text)
    except ValueError:
        raise RowError("not JSON") from None
    if not isinstance(document, dict) or set(document) != set(JSON_FIELDS):
        raise RowError(f"not an object with exactly the fields {', '.join(JSON_FIELDS)}")
    image_format, reason = document["format"], document["reason"]
    if image_format is not None and not (isinstance(image_format, str) and 0 < len(image_format) <= MAX_KIND_CHARS):
        raise RowError("format is not a format's name")
    if reason is not None and not isinstance(reason, str):
        raise RowError("reason is not text")
    served, gps = document["served"], document["gps"]
    if not (isinstance(served, bool) and isinstance(gps, bool)):
        raise RowError("served and gps must be true or false")
    if served == (reason is not None):
        raise RowError("a row has a reason exactly when it is refused")
    row = AuditRow(
        image_format,
        served,
        None if reason is None else reason[:MAX_REASON_CHARS],
        _kinds(document["removed"], "removed"),
        _kinds(document["kept"], "kept"),
        _kinds(document["found"], "found"),
        _size(document["bytes"], "bytes", optional=False),
        _size(document["bytes_out"], "bytes_out", optional=True),
    )
    if row.gps != gps:
        raise RowError("gps disagrees with found")
    return row
