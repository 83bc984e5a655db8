"""serving/audit_row.py: one audited image as a row, the row as JSON and back, and the summary."""

from __future__ import annotations

import json

import piexif
import pytest

import image_builders as ib

from serving.audit_row import (
    MAX_REASON_CHARS,
    AuditRow,
    RowError,
    Summary,
    audit_image,
    refused_row,
    row_from_json,
    row_json,
)


def jpeg_with_exif(exif: dict) -> bytes:
    """A JPEG whose only metadata is this EXIF."""
    return ib._jpeg_bytes(ib.pattern(), exif=piexif.dump(exif))


def test_a_jpeg_with_everything_is_served_and_its_kinds_listed():
    data = ib.jpeg()
    row = audit_image(data)
    assert row.served is True
    assert row.reason is None
    assert row.format == "jpeg"
    assert row.bytes == len(data)
    assert row.gps is True
    # Artist and BodySerialNumber are in the builder's EXIF.
    assert row.owner is True
    assert {"exif", "gps", "xmp", "comment", "makernote", "thumbnail"} <= set(row.found)
    assert list(row.found) == sorted(row.found)


def test_no_gps_and_no_owner_when_the_exif_has_neither():
    exif = ib.exif_dict(gps=False, owner=False)
    del exif["Exif"][piexif.ExifIFD.BodySerialNumber]
    row = audit_image(jpeg_with_exif(exif))
    assert row.served is True
    assert row.gps is False
    assert row.owner is False
    assert "gps" not in row.found
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
def test_each_owner_field_alone_marks_the_row(ifd, tag):
    exif = ib.exif_dict(gps=False, owner=False, thumbnail=False)
    del exif["Exif"][piexif.ExifIFD.BodySerialNumber]
    exif[ifd][tag] = b"someone"
    assert audit_image(jpeg_with_exif(exif)).owner is True


def test_an_image_without_metadata_is_served_with_nothing_found():
    data = ib.png(icc=False, exif=False, text=False)
    row = audit_image(data)
    assert row == AuditRow("png", True, None, (), (), False, False, len(data))


def test_an_unsupported_format_is_refused_with_its_name():
    data = b"%PDF-1.7\n" + bytes(100)
    row = audit_image(data)
    assert row.served is False
    assert row.format is None
    assert row.reason == "unsupported image format: PDF"
    assert row.bytes == len(data)


def test_a_truncated_jpeg_is_refused_with_its_format():
    data = ib.jpeg()[:200]
    row = audit_image(data)
    assert row.served is False
    assert row.format == "jpeg"
    assert row.reason
    assert row.found == ()


def test_the_reason_never_quotes_the_input():
    data = b"\x00\x01SECRET-BYTES" * 10
    row = audit_image(data)
    assert "SECRET" not in (row.reason or "")


def test_json_round_trip_and_fixed_key_order():
    row = audit_image(ib.jpeg())
    text = row_json(row)
    assert list(json.loads(text)) == ["format", "served", "reason", "found", "kept", "gps", "owner", "bytes"]
    assert ", " not in text and '": ' not in text  # compact separators
    assert row_from_json(text) == row
    refused = refused_row("the object does not exist", 0)
    assert row_from_json(row_json(refused)) == refused


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"served": "yes"}, "true or false"),
        ({"gps": 1}, "true or false"),
        ({"bytes": -1}, "bytes is not a size"),
        ({"bytes": 1.5}, "bytes is not a size"),
        ({"bytes": True}, "bytes is not a size"),
        ({"found": "exif"}, "found is not a list"),
        ({"found": ["x" * 41]}, "found holds"),
        ({"kept": [1]}, "kept holds"),
        ({"format": 7}, "format is not"),
        ({"reason": "refused but served"}, "reason exactly when"),
        ({"extra": 1}, "exactly the fields"),
    ],
)
def test_a_row_read_back_is_checked(change, message):
    document = json.loads(row_json(audit_image(ib.png())))
    document.update(change)
    with pytest.raises(RowError, match=message):
        row_from_json(json.dumps(document))


def test_not_json_is_refused():
    with pytest.raises(RowError, match="not JSON"):
        row_from_json("Lambda returned function error: {")


def test_a_long_reason_read_back_is_cut():
    long = refused_row("r" * 5000, 3)
    assert len(row_from_json(row_json(long)).reason) == MAX_REASON_CHARS


def test_summary_counts_formats_refusals_gps_and_owner():
    summary = Summary()
    summary.add(AuditRow("jpeg", True, None, ("exif", "gps"), (), True, True, 100))
    summary.add(AuditRow("jpeg", True, None, ("xmp",), (), False, False, 50))
    summary.add(AuditRow("png", True, None, (), (), False, False, 10))
    summary.add(refused_row("unsupported image format: PDF", 7))
    assert summary.lines() == [
        "4 objects, 167 bytes",
        "formats: jpeg 2, png 1, unrecognised 1",
        "served: 3, refused: 1",
        "GPS found in 1, an owner's name or a serial number in 1",
        "metadata found: exif 1, gps 1, xmp 1",
    ]


def test_an_empty_summary():
    assert Summary().lines()[0] == "0 objects, 0 bytes"
    assert Summary().lines()[1] == "formats: none"
