"""serving/audit_row.py: one audited image as a row, and the row as JSON and back (the Batch Operations result
string). The command line's rows come from the same function (tests/test_cli_audit.py)."""

from __future__ import annotations

import json

import piexif
import pytest

import cli_fixtures as cf
import image_builders as ib

from serving.audit_row import (
    C2PA,
    MAX_REASON_CHARS,
    OWNER_OR_SERIAL,
    AuditRow,
    RowError,
    audit_image,
    refused_row,
    row_from_json,
    row_json,
)


def jpeg_with_exif(exif: dict) -> bytes:
    """A JPEG whose only metadata is this EXIF."""
    return ib._jpeg_bytes(ib.pattern(), exif=piexif.dump(exif))


def exif_without_owner() -> dict:
    exif = ib.exif_dict(gps=False, owner=False, thumbnail=False)
    del exif["Exif"][piexif.ExifIFD.BodySerialNumber]
    return exif


def test_a_jpeg_with_everything_is_served_and_its_kinds_listed():
    data = ib.jpeg()
    row = audit_image(data)
    assert (row.served, row.reason, row.format, row.bytes_in) == (True, None, "jpeg", len(data))
    assert 0 < row.bytes_out < len(data)
    assert row.gps is True
    assert {"exif", "gps", "xmp", "comment", "makernote", "thumbnail"} <= set(row.removed)
    # Artist and BodySerialNumber are in the builder's EXIF: found, though the strip files them under exif.
    assert set(row.found) == set(row.removed) | {OWNER_OR_SERIAL}
    assert list(row.found) == sorted(row.found)
    assert list(row.removed) == sorted(row.removed)


def test_no_gps_and_no_owner_when_the_exif_has_neither():
    row = audit_image(jpeg_with_exif(exif_without_owner()))
    assert row.served is True
    assert row.gps is False
    assert OWNER_OR_SERIAL not in row.found
    assert "exif" in row.found


@pytest.mark.parametrize(
    ("ifd", "tag"),
    [
        ("0th", piexif.ImageIFD.Artist),
        ("0th", piexif.ImageIFD.CameraSerialNumber),
        ("Exif", piexif.ExifIFD.BodySerialNumber),
        ("Exif", piexif.ExifIFD.CameraOwnerName),
        ("Exif", piexif.ExifIFD.LensSerialNumber),
    ],
)
def test_each_identifying_field_alone_is_found(ifd, tag):
    exif = exif_without_owner()
    exif[ifd][tag] = b"someone"
    assert OWNER_OR_SERIAL in audit_image(jpeg_with_exif(exif)).found


def test_a_c2pa_manifest_is_found():
    assert C2PA in audit_image(cf.jpeg_with_c2pa()).found
    assert C2PA not in audit_image(ib.jpeg()).found


def test_an_image_without_metadata_is_served_with_nothing_found():
    data = ib.png(icc=False, exif=False, text=False)
    row = audit_image(data)
    assert row == AuditRow("png", True, None, (), (), (), len(data), row.bytes_out)
    assert row.bytes_out == len(data), "nothing to remove: the same bytes"


def test_an_unsupported_format_is_refused_with_its_name():
    data = b"%PDF-1.7\n" + bytes(100)
    row = audit_image(data)
    assert (row.served, row.format, row.reason, row.bytes_in, row.bytes_out) == (
        False, None, "unsupported image format: PDF", len(data), None,
    )  # fmt: skip


def test_a_truncated_jpeg_is_refused_with_its_format():
    row = audit_image(ib.jpeg()[:200])
    assert (row.served, row.format) == (False, "jpeg")
    assert row.reason
    assert row.found == ()


def test_the_reason_never_quotes_the_input():
    row = audit_image(b"\x00\x01SECRET-BYTES" * 10)
    assert "SECRET" not in (row.reason or "")


def test_a_refusal_reason_is_one_line():
    assert refused_row("first\nsecond", 3).reason == "first second"


def test_json_round_trip_and_fixed_key_order():
    row = audit_image(ib.jpeg())
    text = row_json(row)
    assert list(json.loads(text)) == ["format", "served", "reason", "removed", "kept", "found", "gps", "bytes", "bytes_out"]
    assert json.loads(text)["gps"] is True
    assert ", " not in text and '": ' not in text  # compact separators
    assert row_from_json(text) == row
    refused = refused_row("the object no longer exists", 0)
    assert row_from_json(row_json(refused)) == refused


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"served": "yes"}, "true or false"),
        ({"gps": 1}, "true or false"),
        ({"gps": True}, "gps disagrees with found"),
        ({"bytes": -1}, "bytes is not a size"),
        ({"bytes": 1.5}, "bytes is not a size"),
        ({"bytes": True}, "bytes is not a size"),
        ({"bytes": None}, "bytes is not a size"),
        ({"bytes_out": "12"}, "bytes_out is not a size"),
        ({"found": "exif"}, "found is not a list"),
        ({"found": ["x" * 41]}, "found holds"),
        ({"kept": [1]}, "kept holds"),
        ({"removed": ["exif"] * 33}, "removed is not a list of at most 32"),
        ({"format": 7}, "format is not"),
        ({"reason": "refused but served"}, "reason exactly when"),
        ({"extra": 1}, "exactly the fields"),
    ],
)
def test_a_row_read_back_is_checked(change, message):
    document = json.loads(row_json(audit_image(ib.png(exif=False))))
    assert document["gps"] is False
    document.update(change)
    with pytest.raises(RowError, match=message):
        row_from_json(json.dumps(document))


def test_not_json_is_refused():
    with pytest.raises(RowError, match="not JSON"):
        row_from_json("Lambda returned function error: {")


def test_a_long_reason_read_back_is_cut():
    document = json.loads(row_json(refused_row("r", 3)))
    document["reason"] = "r" * 5000
    assert len(row_from_json(json.dumps(document)).reason) == MAX_REASON_CHARS
