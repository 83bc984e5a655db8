"""read_exif's views and bounds: the safe view gives away no place and no identity, and
whatever the block holds the JSON stays small and quick to build.

Inputs are built inline with piexif and the tiny TIFF-structure builders.
"""

from __future__ import annotations

import io
import json
import struct
import zlib

import piexif
import pytest

import image_builders as b
import metadata
from metadata import exif_json
from metadata.tiff_ifd import TYPE_SIZES, read_exif_ifds
from metadata.limits import MAX_JSON_DOCUMENT, MAX_JSON_SEQUENCE, MAX_JSON_TEXT, MAX_KEPT_TEXT
from metadata_checks import bounded_memory

SECRET = b.SECRET.decode()
APP1 = 0xE1

TECHNICAL = {
    "0th": {
        piexif.ImageIFD.Make: b"Canon",
        piexif.ImageIFD.Model: b"EOS R5",
        piexif.ImageIFD.Orientation: 6,
        piexif.ImageIFD.ImageWidth: 8192,
        piexif.ImageIFD.ImageLength: 5464,
    },
    "Exif": {
        piexif.ExifIFD.LensMake: b"Canon",
        piexif.ExifIFD.LensModel: b"RF24-70mm F2.8 L IS USM",
        piexif.ExifIFD.ExposureTime: (1, 250),
        piexif.ExifIFD.FNumber: (28, 10),
        piexif.ExifIFD.ISOSpeedRatings: 400,
        piexif.ExifIFD.FocalLength: (50, 1),
        piexif.ExifIFD.FocalLengthIn35mmFilm: 50,
        piexif.ExifIFD.ExposureProgram: 3,
        piexif.ExifIFD.ExposureBiasValue: (-1, 3),
        piexif.ExifIFD.ExposureMode: 0,
        piexif.ExifIFD.MeteringMode: 5,
        piexif.ExifIFD.Flash: 16,
        piexif.ExifIFD.WhiteBalance: 0,
        piexif.ExifIFD.DateTimeOriginal: b"2024:01:02 03:04:05",
        piexif.ExifIFD.PixelXDimension: 8192,
        piexif.ExifIFD.PixelYDimension: 5464,
        piexif.ExifIFD.ColorSpace: 1,
    },
}
EXPECTED_SAFE = {
    "Image": {"Make": "Canon", "Model": "EOS R5", "Orientation": 6, "ImageWidth": 8192, "ImageLength": 5464},
    "Exif": {
        "LensMake": "Canon", "LensModel": "RF24-70mm F2.8 L IS USM", "ExposureTime": 1 / 250, "FNumber": 2.8,
        "ISOSpeedRatings": 400, "FocalLength": 50.0, "FocalLengthIn35mmFilm": 50, "ExposureProgram": 3,
        "ExposureBiasValue": -1 / 3, "ExposureMode": 0, "MeteringMode": 5, "Flash": 16, "WhiteBalance": 0,
        "DateTimeOriginal": "2024:01:02 03:04:05", "PixelXDimension": 8192, "PixelYDimension": 5464, "ColorSpace": 1,
    },
}  # fmt: skip
IDENTIFYING = {
    "0th": {
        piexif.ImageIFD.Artist: b"Artist " + b.SECRET,
        piexif.ImageIFD.Copyright: b"Copyright " + b.SECRET,
        piexif.ImageIFD.HostComputer: b"host " + b.SECRET,
        piexif.ImageIFD.Software: b"C:\\Users\\ada\\" + b.SECRET,
        piexif.ImageIFD.ImageDescription: b"desc " + b.SECRET,
        piexif.ImageIFD.DocumentName: b"doc " + b.SECRET,
        piexif.ImageIFD.CameraSerialNumber: b"camera " + b.SECRET,
        piexif.ImageIFD.XPAuthor: tuple(("author " + SECRET).encode("utf-16-le")),
        piexif.ImageIFD.XPComment: tuple(("comment " + SECRET).encode("utf-16-le")),
        piexif.ImageIFD.XPTitle: tuple(("title " + SECRET).encode("utf-16-le")),
    },
    "Exif": {
        piexif.ExifIFD.BodySerialNumber: b"body " + b.SECRET,
        piexif.ExifIFD.LensSerialNumber: b"lens " + b.SECRET,
        piexif.ExifIFD.CameraOwnerName: b"owner " + b.SECRET,
        piexif.ExifIFD.ImageUniqueID: b"id " + b.SECRET,
        piexif.ExifIFD.OffsetTimeOriginal: b"+02:00",
        piexif.ExifIFD.OffsetTime: b"+02:00",
        piexif.ExifIFD.UserComment: b"ASCII\x00\x00\x00comment " + b.SECRET,
        piexif.ExifIFD.MakerNote: b"maker note " + b.SECRET,
    },
    "GPS": {
        piexif.GPSIFD.GPSLatitudeRef: b"S",
        piexif.GPSIFD.GPSLatitude: b.GPS_LATITUDE,
        piexif.GPSIFD.GPSLongitudeRef: b"W",
        piexif.GPSIFD.GPSLongitude: b.GPS_LONGITUDE,
        piexif.GPSIFD.GPSProcessingMethod: b"ASCII\x00\x00\x00GPS " + b.SECRET,
    },
}
IDENTIFYING_NAMES = [
    "GPS", "Artist", "Copyright", "HostComputer", "Software", "ImageDescription", "DocumentName", "SerialNumber",
    "XP", "OwnerName", "ImageUniqueID", "OffsetTime", "UserComment", "MakerNote", "+02:00", "latitude",
]  # fmt: skip


def _jpeg_with(exif: dict) -> bytes:
    buffer = io.BytesIO()
    b.pattern().save(buffer, "JPEG", exif=piexif.dump(exif))
    return buffer.getvalue()


def _everything() -> dict:
    return {group: {**TECHNICAL.get(group, {}), **IDENTIFYING.get(group, {})} for group in ("0th", "Exif", "GPS")}


def _dumps(exif: dict) -> str:
    return json.dumps(exif, sort_keys=True, separators=(",", ":"), allow_nan=False)


# ---------------------------------------------------------------- views


@pytest.mark.parametrize("call", [lambda data: metadata.read_exif(data), lambda data: metadata.read_exif(data, view="safe")], ids=["default", "safe"])
def test_safe_view_shows_the_technical_fields_and_nothing_that_places_or_identifies(call):
    exif = call(_jpeg_with(_everything()))
    assert exif == EXPECTED_SAFE
    text = _dumps(exif)
    assert SECRET not in text
    for name in IDENTIFYING_NAMES:
        assert name not in text, name


def test_safe_view_with_keep_copyright_adds_artist_and_copyright_only():
    exif = metadata.read_exif(_jpeg_with(_everything()), keep_copyright=True)
    assert exif["Image"].pop("Artist") == "Artist " + SECRET
    assert exif["Image"].pop("Copyright") == "Copyright " + SECRET
    assert exif == EXPECTED_SAFE


def test_full_view_shows_every_named_tag():
    exif = metadata.read_exif(_jpeg_with(_everything()), view="full")
    assert exif["Exif"]["BodySerialNumber"] == "body " + SECRET
    assert exif["Exif"]["OffsetTimeOriginal"] == "+02:00"
    assert exif["Image"]["XPAuthor"] == "author " + SECRET
    assert exif["GPS"]["latitude"] < 0
    assert exif["Exif"]["MakerNote"] == {"type": "UNDEFINED", "count": len(IDENTIFYING["Exif"][piexif.ExifIFD.MakerNote])}


def test_safe_view_shows_the_date_taken_without_anything_after_it():
    exif = _jpeg_with({"Exif": {piexif.ExifIFD.DateTimeOriginal: b"2024:01:02 03:04:05+02:00"}})
    assert metadata.read_exif(exif) == {"Exif": {"DateTimeOriginal": "2024:01:02 03:04:05"}}
    assert metadata.read_exif(_jpeg_with({"Exif": {piexif.ExifIFD.DateTimeOriginal: b"yesterday " + b.SECRET}})) == {}
    # The full view shows the value as written.
    assert metadata.read_exif(exif, view="full") == {"Exif": {"DateTimeOriginal": "2024:01:02 03:04:05+02:00"}}


def test_safe_view_leaves_out_a_date_taken_that_is_not_text():
    entry = (0x9003, 4, 1, struct.pack(">I", 20240102))  # DateTimeOriginal as a LONG
    assert _full_view([entry])["Exif"] == {"DateTimeOriginal": 20240102}
    structure = b.tiff_header() + b.ifd_bytes([(0x8769, 4, 1, struct.pack(">I", 26))]) + b.ifd_bytes([entry])
    data = b.insert_after_soi(b.jpeg(exif=False, comment=False, xmp=False, icc=False), b.jpeg_segment(APP1, b"Exif\x00\x00" + structure))
    assert metadata.read_exif(data) == {}


def test_an_unknown_view_is_a_programming_error():
    reason = r"^unknown EXIF view 'no-gps': expected one of safe, full$"
    with pytest.raises(ValueError, match=reason):
        metadata.read_exif(b.jpeg(), view="no-gps")
    # exif_to_json checks it too, for any other caller.
    ifds = read_exif_ifds(b.tiff_header() + b.ifd_bytes([]), "EXIF")
    with pytest.raises(ValueError, match=reason):
        exif_json.exif_to_json(ifds, view="no-gps")


def test_exif_to_json_called_without_options_shows_the_safe_view_without_artist_or_copyright():
    """metadata exports exif_to_json: a caller that names no option gets the private view, as read_exif's does."""
    entries = [(0x010F, 2, 4, b"Cam\x00"), (0x013B, 2, 4, b"Ann\x00"), (0x8298, 2, 4, b"(c)\x00")]  # Make, Artist, Copyright
    ifds = read_exif_ifds(b.tiff_header() + b.ifd_bytes(entries), "EXIF")
    assert exif_json.exif_to_json(ifds) == {"Image": {"Make": "Cam"}}
    assert exif_json.exif_to_json(ifds, keep_copyright=True) == {"Image": {"Make": "Cam", "Artist": "Ann", "Copyright": "(c)"}}


# ---------------------------------------------------------------- values


def test_ascii_values_are_cut_at_their_first_nul():
    exif = metadata.read_exif(_jpeg_with({"0th": {piexif.ImageIFD.Model: b"ION230\x00F", piexif.ImageIFD.Make: b"\x00junk"}}))
    assert exif == {"Image": {"Model": "ION230", "Make": ""}}


def test_long_text_is_cut_and_marked():
    exif = metadata.read_exif(_jpeg_with({"0th": {piexif.ImageIFD.Model: b"M" * 5000}}))
    assert exif["Image"]["Model"] == "M" * MAX_JSON_TEXT + "…"
    assert exif["truncated"] == ["Image.Model"]
    assert metadata.read_exif(_jpeg_with({"0th": {piexif.ImageIFD.Model: b"M" * MAX_JSON_TEXT}})) == {"Image": {"Model": "M" * MAX_JSON_TEXT}}


def test_output_is_valid_unicode_whatever_the_bytes():
    broken_utf16 = tuple(b"\x00\xd8A\x00" * 10)  # a lone surrogate, then "A"
    exif = metadata.read_exif(
        _jpeg_with({"0th": {piexif.ImageIFD.Model: bytes(range(1, 256)), piexif.ImageIFD.XPTitle: broken_utf16}}), view="full"
    )
    json.dumps(exif, ensure_ascii=False).encode("utf-8")  # no lone surrogate survives
    assert exif["Image"]["XPTitle"].endswith("A")


# ---------------------------------------------------------------- amplification


def _tags_sharing_one_run(run: bytes, order: str = ">") -> bytes:
    """A TIFF structure whose every ASCII tag piexif names (IFD0 and Exif IFD) points at one run."""
    image_tags = sorted(tag for tag in piexif.TAGS["Image"] if tag not in (0x8769, 0x8825))
    exif_tags = sorted(piexif.TAGS["Exif"])
    ifd0_size = 2 + 12 * (len(image_tags) + 1) + 4
    exif_ifd_at = 8 + ifd0_size
    run_at = exif_ifd_at + 2 + 12 * len(exif_tags) + 4
    pointer = struct.pack(order + "I", run_at)
    ifd0 = [(tag, 2, len(run), pointer) for tag in image_tags] + [(0x8769, 4, 1, struct.pack(order + "I", exif_ifd_at))]
    exif_ifd = [(tag, 2, len(run), pointer) for tag in exif_tags]
    return b.tiff_header(order=order) + b.ifd_bytes(sorted(ifd0), order=order) + b.ifd_bytes(exif_ifd, order=order) + run


@pytest.mark.parametrize("view", ["safe", "full"])
def test_64_kb_jpeg_whose_tags_share_one_60_kb_run_gives_small_json(view):
    structure = _tags_sharing_one_run(b"\xfe" * 60_000)  # every byte invalid UTF-8
    data = b.insert_after_soi(b.jpeg(exif=False, comment=False, xmp=False, icc=False), b.jpeg_segment(APP1, b"Exif\x00\x00" + structure))
    assert 60_000 < len(data) < 66_000
    with bounded_memory(limit=8 * 1024 * 1024):
        exif = metadata.read_exif(data, view=view)
    assert len(json.dumps(exif)) <= MAX_JSON_DOCUMENT
    assert len(json.dumps(exif, ensure_ascii=False).encode()) <= MAX_JSON_DOCUMENT
    assert exif["Image"]["Make"] == "\ufffd" * MAX_JSON_TEXT + "…"
    if view == "full":
        assert exif["omitted"], "the largest fields give way to the cap"
        assert all(field not in exif["truncated"] for field in exif["omitted"])


def test_400_kb_png_whose_tags_share_one_run_gives_small_json():
    structure = _tags_sharing_one_run(b"\xfe" * 400_000)
    plain = b.png(exif=False, text=False, icc=False)
    data = plain[:33] + b.png_chunk(b"eXIf", structure) + plain[33:]
    with bounded_memory(limit=len(data) * 3 + 8 * 1024 * 1024):
        exif = metadata.read_exif(data, view="full")
    assert len(json.dumps(exif)) <= MAX_JSON_DOCUMENT


def test_document_over_the_cap_drops_its_largest_fields_first():
    # 300 characters outside the BMP: 12 bytes each in JSON's default ASCII spelling.
    text = ("\U0001F600" * 300).encode()
    long_values = {group: {tag: text for tag, info in piexif.TAGS[name].items() if info["type"] == 2} for group, name in (("0th", "Image"), ("Exif", "Exif"))}
    long_values["0th"][piexif.ImageIFD.Orientation] = 6
    exif = metadata.read_exif(_jpeg_with(long_values), view="full")
    assert len(json.dumps(exif)) <= MAX_JSON_DOCUMENT
    assert exif["omitted"] and exif["Image"]["Orientation"] == 6  # the small field stays
    assert set(exif["omitted"]).isdisjoint(f"Image.{name}" for name in exif["Image"])


# ---------------------------------------------------------------- PNG text-chunk EXIF (ImageMagick)


def _raw_profile(block: bytes) -> bytes:
    digits = block.hex()
    lines = "\n".join(digits[i : i + 72] for i in range(0, len(digits), 72))
    return f"\nexif\n{len(block):8d}\n{lines}\n".encode()


@pytest.mark.parametrize("chunk", ["tEXt", "zTXt", "iTXt"])
def test_png_raw_profile_exif_is_shown(chunk):
    text = _raw_profile(piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6, piexif.ImageIFD.Model: b"X100V"}}))
    keyword = b"Raw profile type exif\x00"
    body = {
        "tEXt": keyword + text,
        "zTXt": keyword + b"\x00" + zlib.compress(text),
        "iTXt": keyword + b"\x01\x00\x00\x00" + zlib.compress(text),
    }[chunk]
    plain = b.png(exif=False, text=False, icc=False)
    data = b.png_insert_before_iend(plain, b.png_chunk(chunk.encode(), body))
    assert metadata.read_exif(data) == {"Image": {"Orientation": 6, "Model": "X100V"}}
    stripped = metadata.clean(data)
    assert stripped.data == plain and "exif" in stripped.removed  # browsers never read it: nothing kept


@pytest.mark.parametrize("keyword", [b"Comment", b"Raw profile type xmp", b"Raw profile type exif "])
def test_png_raw_profile_under_another_keyword_is_not_shown(keyword):
    text = _raw_profile(piexif.dump({"0th": {piexif.ImageIFD.Model: b"X100V"}}))
    data = b.png_insert_before_iend(b.png(exif=False, text=False, icc=False), b.png_chunk(b"tEXt", keyword + b"\x00" + text))
    assert metadata.read_exif(data) == {}


def test_png_raw_profile_bomb_is_not_shown_and_stays_bounded():
    bomb = zlib.compress(b"\nexif\n 9999999\n" + b"0" * (64 * 1024 * 1024), 9)
    data = b.png_insert_before_iend(b.png(exif=False, text=False, icc=False), b.png_chunk(b"zTXt", b"Raw profile type exif\x00\x00" + bomb))
    with bounded_memory(limit=len(data) * 4 + 16 * 1024 * 1024):
        assert metadata.read_exif(data) == {}


# ---------------------------------------------------------------- values at distinct, overlapping offsets


def _tags_at_distinct_offsets(run: bytes, field_type: int, count_of, step: int, order: str = ">") -> tuple[bytes, int]:
    """Like _tags_sharing_one_run, but tag i's value starts `step` * i bytes into the run, so
    every value is distinct and they overlap; count_of(i) is its count. Returns the structure
    and the number of tags."""
    image_tags = sorted(tag for tag in piexif.TAGS["Image"] if tag not in (0x8769, 0x8825))
    exif_tags = sorted(piexif.TAGS["Exif"])
    exif_ifd_at = 8 + 2 + 12 * (len(image_tags) + 1) + 4
    run_at = exif_ifd_at + 2 + 12 * len(exif_tags) + 4
    entries = [(tag, field_type, count_of(i), struct.pack(order + "I", run_at + step * i)) for i, tag in enumerate(image_tags + exif_tags)]
    ifd0 = entries[: len(image_tags)] + [(0x8769, 4, 1, struct.pack(order + "I", exif_ifd_at))]
    exif_ifd = entries[len(image_tags) :]
    structure = b.tiff_header(order=order) + b.ifd_bytes(sorted(ifd0), order=order) + b.ifd_bytes(exif_ifd, order=order) + run
    return structure, len(entries)


def _png_with_exif(structure: bytes) -> bytes:
    plain = b.png(exif=False, text=False, icc=False)
    return plain[:33] + b.png_chunk(b"eXIf", structure) + plain[33:]


class _BytesRead:
    """Counts the bytes the core's TIFF reader hands out (raw) and the numbers it unpacks (values)."""

    def __init__(self, monkeypatch):
        from metadata import tiff_ifd

        self.raw = self.numbers = 0
        raw, values = tiff_ifd.TiffReader.raw, tiff_ifd.TiffReader.values

        def counted_raw(reader, entry, limit=None):
            data = raw(reader, entry, limit)
            self.raw += len(data)
            return data

        def counted_values(reader, entry):
            numbers = values(reader, entry)
            self.numbers += len(numbers)
            return numbers

        monkeypatch.setattr(tiff_ifd.TiffReader, "raw", counted_raw)
        monkeypatch.setattr(tiff_ifd.TiffReader, "values", counted_values)


def test_4_mb_png_whose_text_values_overlap_at_distinct_offsets_reads_only_their_first_bytes(monkeypatch):
    run = b"\xfe" * (4 * 1024 * 1024)
    structure, tags = _tags_at_distinct_offsets(run, 2, lambda i: len(run) - 16 * i, step=16)
    data = _png_with_exif(structure)
    read = _BytesRead(monkeypatch)
    with bounded_memory(limit=len(data) * 3 + 8 * 1024 * 1024):
        exif = metadata.read_exif(data, view="full")
    # Each value read up to what MAX_JSON_TEXT characters can take (4 bytes a character, plus a prefix),
    # besides what checking the file as strip does reads: the EXIF plan's Copyright and Artist, at most
    # MAX_KEPT_TEXT + 1 bytes each, read when the walk writes its head and again when it concludes.
    assert read.raw <= tags * (4 * (MAX_JSON_TEXT + 1) + 8) + 2 * 2 * (MAX_KEPT_TEXT + 1)
    assert exif["Image"]["Make"] == "\ufffd" * MAX_JSON_TEXT + "…"
    assert len(json.dumps(exif)) <= MAX_JSON_DOCUMENT


def test_13_kb_jpeg_whose_sequences_overlap_at_distinct_offsets_decodes_at_most_what_the_document_can_hold(monkeypatch):
    # 8-byte DOUBLEs, 1024 of them per tag (MAX_JSON_SEQUENCE), each tag one byte further on.
    run = bytes(range(256)) * 36
    structure, tags = _tags_at_distinct_offsets(run, 12, lambda i: 1024, step=1)
    data = b.insert_after_soi(b.jpeg(exif=False, comment=False, xmp=False, icc=False), b.jpeg_segment(APP1, b"Exif\x00\x00" + structure))
    assert len(data) < 14_000 and tags > 250
    read = _BytesRead(monkeypatch)
    exif = metadata.read_exif(data, view="full")
    # A number takes two bytes of JSON at least: more than MAX_JSON_DOCUMENT / 2 could never be shown.
    assert read.numbers <= MAX_JSON_DOCUMENT // 2
    assert len(json.dumps(exif)) <= MAX_JSON_DOCUMENT
    summaries = [v for group in ("Image", "Exif") for v in exif.get(group, {}).values() if v == {"type": "DOUBLE", "count": 1024}]
    assert summaries, "the sequences past what the document can hold are summarised, not decoded"


def _document_of_size(size: int) -> tuple[bytes, dict]:
    """A JPEG whose full view is exactly `size` bytes of JSON, and that view, built from the
    tags and values written here (SHORT sequences of 7s, then Make's text to the byte)."""
    short_tags = sorted(tag for tag, info in piexif.TAGS["Image"].items() if info["type"] == 3)
    make = 0x010F
    expected: dict = {}
    counts = []
    for tag in short_tags:
        budget = size - len(json.dumps({"Image": {**expected, "Make": ""}}))
        name = piexif.TAGS["Image"][tag]["name"]
        count = min(1024, (budget - len(json.dumps(name)) - 4 - 150) // 3)
        if count < 2:
            break
        expected[name] = [7] * count
        counts.append((tag, count))
    text = size - len(json.dumps({"Image": {**expected, "Make": ""}}))
    assert 0 <= text <= MAX_JSON_TEXT
    expected["Make"] = "M" * text
    run_at = 8 + 2 + 12 * (len(counts) + 1) + 4
    run = b"\x00\x07" * 1024
    entries = [(tag, 3, count, struct.pack(">I", run_at)) for tag, count in counts]
    entries.append((make, 2, text + 1, struct.pack(">I", run_at + len(run))))
    structure = b.tiff_header() + b.ifd_bytes(sorted(entries)) + run + expected["Make"].encode() + b"\x00"
    assert len(json.dumps({"Image": expected})) == size
    data = b.insert_after_soi(b.jpeg(exif=False, comment=False, xmp=False, icc=False), b.jpeg_segment(APP1, b"Exif\x00\x00" + structure))
    return data, {"Image": expected}


def _largest_field(fields: dict) -> str:
    """The field whose `"name": value` takes the most bytes (the greater name on a tie): the first to give way."""
    return max(fields, key=lambda name: (len(json.dumps(name)) + len(json.dumps(fields[name])), name))


def test_a_document_of_exactly_the_cap_is_whole_and_one_byte_more_loses_its_largest_field_only():
    at_cap, expected = _document_of_size(MAX_JSON_DOCUMENT)
    assert metadata.read_exif(at_cap, view="full") == expected
    over, expected_over = _document_of_size(MAX_JSON_DOCUMENT + 1)
    largest = _largest_field(expected_over["Image"])
    exif = metadata.read_exif(over, view="full")
    assert exif == {"Image": {k: v for k, v in expected_over["Image"].items() if k != largest}, "omitted": [f"Image.{largest}"]}
    assert len(json.dumps(exif)) <= MAX_JSON_DOCUMENT


def test_a_document_that_fits_once_its_largest_field_is_omitted_loses_only_that_one():
    # A size such that omitting the largest field, and naming it, leaves exactly MAX_JSON_DOCUMENT bytes.
    _, probe = _document_of_size(MAX_JSON_DOCUMENT + 3100)
    largest = _largest_field(probe["Image"])
    entry = len(json.dumps(largest)) + 2 + len(json.dumps(probe["Image"][largest])) + 2  # "name": value, separator
    size = MAX_JSON_DOCUMENT + entry - len(json.dumps({"omitted": [f"Image.{largest}"]}))  # as long as ', "omitted": [..]'
    data, expected = _document_of_size(size)
    assert _largest_field(expected["Image"]) == largest
    exif = metadata.read_exif(data, view="full")
    assert exif == {"Image": {k: v for k, v in expected["Image"].items() if k != largest}, "omitted": [f"Image.{largest}"]}
    assert len(json.dumps(exif)) == MAX_JSON_DOCUMENT
    # One byte more: the next largest goes too.
    data, expected = _document_of_size(size + 1)
    rest = {k: v for k, v in expected["Image"].items() if k != largest}
    second = _largest_field(rest)
    exif = metadata.read_exif(data, view="full")
    assert exif == {"Image": {k: v for k, v in rest.items() if k != second}, "omitted": sorted([f"Image.{largest}", f"Image.{second}"])}
    assert len(json.dumps(exif)) <= MAX_JSON_DOCUMENT


def _document_with_fields(
    image_counts: list[int], exif_counts: list[int], texts: dict[int, tuple[bytes, str]]
) -> tuple[bytes, dict, list[str]]:
    """A JPEG whose full view shows SHORT sequences of 65535 (seven bytes of JSON a number with its
    separator), of image_counts numbers in IFD0 and exif_counts in the Exif IFD, and in IFD0 the
    ASCII texts `texts` (tag: written, shown); that view as built here, and its fields cut short."""
    image_tags = sorted(tag for tag, info in piexif.TAGS["Image"].items() if info["type"] == 3)[: len(image_counts)]
    exif_tags = sorted(tag for tag, info in piexif.TAGS["Exif"].items() if info["type"] == 3)[: len(exif_counts)]
    assert len(image_tags) == len(image_counts) and len(exif_tags) == len(exif_counts)
    exif_at = 8 + 2 + 12 * (len(image_counts) + len(texts) + 1) + 4
    run_at = exif_at + 2 + 12 * len(exif_counts) + 4
    run = b"\xff\xff" * max(image_counts + exif_counts)
    image_entries = [(tag, 3, count, struct.pack(">I", run_at)) for tag, count in zip(image_tags, image_counts)]
    image_entries.append((0x8769, 4, 1, struct.pack(">I", exif_at)))
    values = b""
    for tag, (written, _) in texts.items():
        image_entries.append((tag, 2, len(written) + 1, struct.pack(">I", run_at + len(run) + len(values))))
        values += written + b"\x00"
    exif_entries = [(tag, 3, count, struct.pack(">I", run_at)) for tag, count in zip(exif_tags, exif_counts)]
    structure = b.tiff_header() + b.ifd_bytes(sorted(image_entries)) + b.ifd_bytes(exif_entries) + run + values
    data = b.insert_after_soi(b.jpeg(exif=False, comment=False, xmp=False, icc=False), b.jpeg_segment(APP1, b"Exif\x00\x00" + structure))
    image = {piexif.TAGS["Image"][tag]["name"]: [65535] * count for tag, count in zip(image_tags, image_counts)}
    image.update({piexif.TAGS["Image"][tag]["name"]: shown for tag, (_, shown) in texts.items()})
    exif = {piexif.TAGS["Exif"][tag]["name"]: [65535] * count for tag, count in zip(exif_tags, exif_counts)}
    cut = sorted(f"Image.{piexif.TAGS['Image'][tag]['name']}" for tag, (_, shown) in texts.items() if shown.endswith("…"))
    return data, {"Image": image, "Exif": exif} if exif else {"Image": image}, cut


def _each_number_of_largest_fields_left_out(document: dict, cut: list[str]) -> list[dict]:
    """The document with its 0, 1, 2, ... largest fields (by the bytes of `"name": value`) left out,
    each written out as the cap describes it: empty groups gone, the fields left out named in
    "omitted" and no longer in "truncated"."""
    fields = sorted(
        ((len(json.dumps(name)) + len(json.dumps(value)), group, name) for group, members in document.items() for name, value in members.items()),
        reverse=True,
    )
    assert len({size for size, _, _ in fields}) == len(fields), "no two fields of one size: which goes first is plain"
    documents = []
    for count in range(len(fields) + 1):
        out = {f"{group}.{name}" for _, group, name in fields[:count]}
        shown: dict = {}
        for group, members in document.items():
            kept = {name: value for name, value in members.items() if f"{group}.{name}" not in out}
            if kept:
                shown[group] = kept
        still_cut = [field for field in cut if field not in out]
        if still_cut:
            shown["truncated"] = still_cut
        if out:
            shown["omitted"] = sorted(out)
        documents.append(shown)
    return documents


MANY_FIELDS_TEXTS = {
    piexif.ImageIFD.Make: (("\U0001F600" * 300).encode(), "\U0001F600" * MAX_JSON_TEXT + "…"),  # cut, and among the largest
    piexif.ImageIFD.Model: (b"M" * 300, "M" * MAX_JSON_TEXT + "…"),  # cut, and among the smallest
    piexif.ImageIFD.Software: (b"a plain text", "a plain text"),
}


@pytest.mark.parametrize(
    ("image_counts", "exif_counts"),
    [
        ([400 + 31 * i for i in range(20)], []),
        ([200 + 13 * i for i in range(28)], [564 + 13 * i for i in range(12)]),  # the Exif fields are the largest
    ],
    ids=["20-fields", "40-fields-in-two-groups"],
)
def test_the_fewest_largest_fields_are_omitted_at_every_size_the_document_can_take(monkeypatch, image_counts, exif_counts):
    data, document, cut = _document_with_fields(image_counts, exif_counts, MANY_FIELDS_TEXTS)
    documents = _each_number_of_largest_fields_left_out(document, cut)
    sizes = [len(json.dumps(shown)) for shown in documents]
    assert documents[0] == {**document, "truncated": cut}
    fewest = next(count for count, size in enumerate(sizes) if size <= MAX_JSON_DOCUMENT)
    assert sizes[fewest - 1] > MAX_JSON_DOCUMENT >= sizes[fewest]  # within one field of the cap
    assert metadata.read_exif(data, view="full") == documents[fewest]
    # Every size the document takes as fields give way, as the cap, and one byte less: the group
    # emptied, "truncated" losing a field and then gone, "omitted" appearing, each at its exact size.
    for cap in sorted({size - less for size in sizes for less in (0, 1)}):
        monkeypatch.setattr(exif_json, "MAX_JSON_DOCUMENT", cap)
        fewest = next((count for count, size in enumerate(sizes) if size <= cap), len(sizes) - 1)
        assert metadata.read_exif(data, view="full") == documents[fewest], cap


# ---------------------------------------------------------------- how each kind of value is shown


def _full_view(entries: list[tuple[int, int, int, bytes]], values: bytes = b"", order: str = ">", group: str = "Exif") -> dict:
    """read_exif's full view of a block holding `entries` in its Exif IFD (or IFD0 when group is
    "Image"); an entry's 4-byte field may point into `values`, which starts at VALUES_AT."""
    if group == "Image":
        structure = b.tiff_header(order=order) + b.ifd_bytes(sorted(entries), order=order) + values
    else:
        pointer = [(0x8769, 4, 1, struct.pack(order + "I", 8 + 2 + 12 + 4))]
        structure = b.tiff_header(order=order) + b.ifd_bytes(pointer, order=order) + b.ifd_bytes(sorted(entries), order=order) + values
    data = b.insert_after_soi(b.jpeg(exif=False, comment=False, xmp=False, icc=False), b.jpeg_segment(APP1, b"Exif\x00\x00" + structure))
    return metadata.read_exif(data, view="full")


def _values_at(entry_count: int, group: str = "Exif") -> int:
    """Where `values` starts for _full_view with `entry_count` entries."""
    first = 8 + 2 + 12 + 4 if group == "Exif" else 8
    return first + 2 + 12 * entry_count + 4


USER_COMMENT = 0x9286


@pytest.mark.parametrize(
    ("body", "order", "shown"),
    [
        (b"ASCII\x00\x00\x00caf\xc3\xa9  ", ">", "café"),  # UTF-8 under an ASCII code; trailing spaces go
        (b"ASCII\x00\x00\x00one\x00two", ">", "one"),  # cut at the first NUL
        (b"UNICODE\x00" + "Zoë".encode("utf-16-be"), ">", "Zoë"),  # no BOM: the block's byte order
        (b"UNICODE\x00" + "Zoë".encode("utf-16-le"), "<", "Zoë"),
        (b"UNICODE\x00" + "Zoë".encode("utf-16-le") + b"\x00", "<", "Zoë"),  # an odd byte left over
        (b"UNICODE\x00\xff\xfe" + "Zoë".encode("utf-16-le"), ">", "Zoë"),  # a BOM wins over the byte order
        (b"JIS\x00\x00\x00\x00\x00" + "日本".encode("shift_jis"), ">", "日本"),
        (b"\x00" * 8 + "naïve".encode(), ">", "naïve"),  # undefined code: UTF-8
        (b"BOGUS\x00\x00\x00" + "ok é".encode(), ">", "ok é"),  # unknown code: UTF-8
        (b"UNICODE\x00\xfe\xff" + "Zoë".encode("utf-16-be"), "<", "Zoë"),  # a big-endian BOM in a little-endian block
        (b"UNICODE\x00" + "Zoë".encode("utf-16-be") + b"\x00", ">", "Zoë"),  # an odd byte left over, big-endian
        (b"ASCII\x00\x00\x00STUDIO X  ", ">", "STUDIO X"),  # only spaces are trimmed
        (b"ASCII\x00\x00\x00line\t\n", ">", "line\t\n"),  # other white space is text
        (b"ASCII\x00\x00\x00ok  \x00junk  \x00end", ">", "ok"),  # cut at the first NUL, then trimmed
        (b"ASCII\x00\x00\x00caf\xe9", ">", "caf\ufffd"),  # not UTF-8: replaced, not refused
    ],
    ids=[
        "ascii-utf8", "ascii-nul", "unicode-be", "unicode-le", "unicode-odd", "unicode-bom", "jis", "undefined", "unknown",
        "unicode-be-bom-in-le", "unicode-odd-be", "ascii-spaces", "ascii-other-white-space", "ascii-spaces-before-nul",
        "ascii-invalid-utf8",
    ],
)
def test_user_comment_is_shown_in_its_character_code(body, order, shown):
    entry = (USER_COMMENT, 7, len(body), struct.pack(order + "I", _values_at(1)))
    assert _full_view([entry], body, order=order)["Exif"]["UserComment"] == shown


def test_user_comment_at_the_text_limit_is_marked_only_when_more_follows():
    exact = b"ASCII\x00\x00\x00" + b"c" * MAX_JSON_TEXT
    longer = exact + b"d"
    # Trailing spaces are not shown, but bytes left unread after them may be more text.
    spaces_then_more = exact + b" " * (3 * MAX_JSON_TEXT + 4) + b"d" * 100
    for body, shown in ((exact, "c" * MAX_JSON_TEXT), (longer, "c" * MAX_JSON_TEXT + "…"), (spaces_then_more, "c" * MAX_JSON_TEXT + "…")):
        entry = (USER_COMMENT, 7, len(body), struct.pack(">I", _values_at(1)))
        assert _full_view([entry], body)["Exif"]["UserComment"] == shown


def test_ascii_text_at_the_limit_read_to_its_end_is_not_marked():
    # 256 characters then a NUL: the whole value is read, nothing is cut.
    value = b"m" * MAX_JSON_TEXT + b"\x00"
    entry = (0x0110, 2, len(value), struct.pack(">I", _values_at(1, "Image")))
    exif = _full_view([entry], value, group="Image")
    assert exif == {"Image": {"Model": "m" * MAX_JSON_TEXT}}


@pytest.mark.parametrize(
    ("tag", "kind", "encode"),
    [(0x0110, 2, lambda text: text.encode()), (0x9C9B, 1, lambda text: text.encode("utf-16-le"))],
    ids=["ascii-model", "utf16-xp-title"],
)
@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("one\x00two\x00", "one"),  # cut at the first NUL, not the last
        ("short\x00" + "x" * (4 * MAX_JSON_TEXT + 100), "short"),  # more bytes than are read, but the text ended
        ("m" * MAX_JSON_TEXT + "\x00" + "x" * (4 * MAX_JSON_TEXT + 100), "m" * MAX_JSON_TEXT),  # ended at the limit
    ],
    ids=["two-nuls", "nul-then-more-than-is-read", "nul-at-the-limit-then-more"],
)
def test_text_ends_at_its_first_nul_and_is_not_marked_as_cut(tag, kind, encode, text, shown):
    value = encode(text)
    entry = (tag, kind, len(value), struct.pack(">I", _values_at(1, "Image")))
    (shown_value,) = _full_view([entry], value, group="Image")["Image"].values()
    assert shown_value == shown


def test_xp_text_is_utf16_and_an_odd_byte_is_left_out():
    value = "Titre é".encode("utf-16-le") + b"\x41"
    entry = (0x9C9B, 1, len(value), struct.pack(">I", _values_at(1, "Image")))
    assert _full_view([entry], value, group="Image")["Image"]["XPTitle"] == "Titre é"


def test_floats_are_numbers_and_non_finite_ones_are_null():
    doubles = struct.pack(">ddd", 1.5, float("nan"), float("inf"))
    entries = [
        (0x9204, 12, 1, struct.pack(">I", _values_at(3))),  # ExposureBiasValue as one DOUBLE
        (0x920A, 12, 2, struct.pack(">I", _values_at(3) + 8)),  # FocalLength: NaN, inf
        (0xA20E, 11, 1, struct.pack(">f", -0.25)),  # FocalPlaneXResolution as a FLOAT, inline
    ]
    exif = _full_view(entries, doubles)["Exif"]
    assert exif == {"ExposureBiasValue": 1.5, "FocalLength": [None, None], "FocalPlaneXResolution": -0.25}
    json.dumps(exif, allow_nan=False)


def test_rationals_with_a_zero_denominator_are_null_and_signed_ones_keep_their_sign():
    values = struct.pack(">ii", -1, 3) + struct.pack(">II", 5, 0)
    entries = [(0x9204, 10, 1, struct.pack(">I", _values_at(2))), (0x829A, 5, 1, struct.pack(">I", _values_at(2) + 8))]
    assert _full_view(entries, values)["Exif"] == {"ExposureBiasValue": -1 / 3, "ExposureTime": None}


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (1, 1),
        (3, [1, 2, 3]),
        (0, {"type": "UNDEFINED", "count": 0}),
        (MAX_JSON_SEQUENCE, [index % 7 for index in range(MAX_JSON_SEQUENCE)]),
        (MAX_JSON_SEQUENCE + 1, {"type": "UNDEFINED", "count": MAX_JSON_SEQUENCE + 1}),
    ],
)
def test_undefined_code_values(count, shown):
    # FileSource (0xA300): a small code; more than one value is a list, none (or too many) is a summary.
    codes = bytes(index % 7 for index in range(count)) if count > 4 else bytes([1, 2, 3, 0])[:count]
    field = codes.ljust(4, b"\x00") if count <= 4 else struct.pack(">I", _values_at(1))
    entry = (0xA300, 7, count, field)
    assert _full_view([entry], codes if count > 4 else b"")["Exif"]["FileSource"] == shown


def test_undefined_values_outside_the_exif_and_gps_groups_are_summarised():
    # Noise (0x920D) is an UNDEFINED tag of IFD0, a group without prefixed-text tags.
    entry = (0x920D, 7, 4, b"nois")
    assert _full_view([entry], group="Image") == {"Image": {"Noise": {"type": "UNDEFINED", "count": 4}}}


def test_every_type_the_reader_knows_has_a_name_for_summaries():
    """A summary names its type from TYPE_NAMES; the entries rendered are those of a type the reader knows."""
    assert exif_json.TYPE_NAMES == {
        1: "BYTE", 2: "ASCII", 3: "SHORT", 4: "LONG", 5: "RATIONAL", 6: "SBYTE", 7: "UNDEFINED",
        8: "SSHORT", 9: "SLONG", 10: "SRATIONAL", 11: "FLOAT", 12: "DOUBLE", 13: "IFD",
    }  # fmt: skip
    assert set(TYPE_SIZES) == set(exif_json.TYPE_NAMES)


def test_empty_numeric_values_are_left_out_and_long_ones_summarised():
    entries = [
        (0xA002, 4, 0, bytes(4)),  # PixelXDimension with no value
        (0xA003, 3, MAX_JSON_SEQUENCE + 1, struct.pack(">I", _values_at(2))),
    ]
    exif = _full_view(entries, bytes(2 * (MAX_JSON_SEQUENCE + 1)))
    assert exif == {"Exif": {"PixelYDimension": {"type": "SHORT", "count": MAX_JSON_SEQUENCE + 1}}}


@pytest.mark.parametrize("budget", [22, 21])
def test_sequences_are_shown_while_their_least_json_size_fits_the_budget(monkeypatch, budget):
    """Each sequence of more than one value takes, before it is read, the least JSON it can make: 3 bytes an
    integer, 5 a rational or float. Four SHORTs take 12, two SRATIONALs 10: 22 shows both; at 21 the second is
    summarised. A single value takes nothing."""
    monkeypatch.setattr(exif_json, "SEQUENCE_BUDGET", budget)
    values = struct.pack(">4H", 100, 200, 400, 800) + struct.pack(">4i", -1, 3, 5, 2)
    entries = [
        (0x8827, 3, 4, struct.pack(">I", _values_at(3))),  # ISOSpeedRatings: 4 SHORTs
        (0x9201, 10, 2, struct.pack(">I", _values_at(3) + 8)),  # ShutterSpeedValue: 2 SRATIONALs
        (0x9209, 3, 1, struct.pack(">H", 16)),  # Flash: one SHORT
    ]
    shutter = [-1 / 3, 5 / 2] if budget == 22 else {"type": "SRATIONAL", "count": 2}
    assert _full_view(entries, values)["Exif"] == {"ISOSpeedRatings": [100, 200, 400, 800], "ShutterSpeedValue": shutter, "Flash": 16}


def _gps(latitude, latitude_ref: bytes, longitude=((0, 1), (7, 1), (30, 1)), longitude_ref: bytes = b"E", *, rational: int = 5) -> dict:
    values = b"".join(struct.pack(">II", *pair) for pair in (*latitude, *longitude))
    at = 8 + 2 + 12 + 4 + 2 + 12 * 4 + 4
    # A reference longer than four bytes lies after the rationals, as TIFF wants.
    inline = len(latitude_ref) <= 4
    gps = [
        (0x0001, 2, len(latitude_ref), latitude_ref if inline else struct.pack(">I", at + len(values))),
        (0x0002, rational, len(latitude), struct.pack(">I", at)),
        (0x0003, 2, len(longitude_ref), longitude_ref.ljust(4, b"\x00")),
        (0x0004, 5, 3, struct.pack(">I", at + 8 * len(latitude))),
    ]
    structure = b.tiff_header() + b.ifd_bytes([(0x8825, 4, 1, struct.pack(">I", 8 + 2 + 12 + 4))]) + b.ifd_bytes(gps) + values
    structure += b"" if inline else latitude_ref
    data = b.insert_after_soi(b.jpeg(exif=False, comment=False, xmp=False, icc=False), b.jpeg_segment(APP1, b"Exif\x00\x00" + structure))
    return metadata.read_exif(data, view="full")["GPS"]


def test_gps_degrees_are_signed_by_hemisphere():
    gps = _gps(((51, 1), (30, 1), (36, 1)), b"s\x00")
    assert gps["latitude"] == pytest.approx(-(51 + 30 / 60 + 36 / 3600))
    assert gps["longitude"] == pytest.approx(7 / 60 + 30 / 3600)
    assert _gps(((51, 1), (30, 1), (0, 1)), b"N\x00", longitude_ref=b"W\x00")["longitude"] < 0


@pytest.mark.parametrize(
    ("latitude", "ref", "rational"),
    [
        (((91, 1), (0, 1), (0, 1)), b"N\x00", 5),  # past the pole
        (((51, 0), (30, 1), (0, 1)), b"N\x00", 5),  # a zero denominator
        (((51, 1), (30, 1)), b"N\x00", 5),  # two values, not three
        (((51, 1), (30, 1), (0, 1)), b"Q\x00", 5),  # no hemisphere
        (((51, 1), (30, 1), (0, 1)), b"N\x00", 4),  # not rationals
    ],
    ids=["past-the-pole", "zero-denominator", "two-values", "no-hemisphere", "not-rational"],
)
def test_gps_degrees_that_cannot_be_read_are_left_out(latitude, ref, rational):
    gps = _gps(latitude, ref, rational=rational)
    assert "latitude" not in gps and "longitude" not in gps


@pytest.mark.parametrize(
    ("ref", "south"),
    [
        (b"S\x00\x00\x00", True),  # padded with NULs: the letter ends at the first one
        (b"S\x00S\x00", True),  # what follows the first NUL is not read
        (b"S" + b" " * 6 + b"S", False),  # only the first 8 bytes are read: here a second letter among them
        (b"S" + b" " * 7 + b"S", True),  # the ninth byte is past what is read
        (b" s \x00", True),  # spaces around the letter, any case
    ],
    ids=["nul-padded", "after-the-nul", "eighth-byte", "ninth-byte", "spaces-lower-case"],
)
def test_gps_hemisphere_is_the_letter_before_the_first_nul_within_the_first_eight_bytes(ref, south):
    gps = _gps(((51, 1), (30, 1), (0, 1)), ref)
    if south:
        assert gps["latitude"] == pytest.approx(-51.5)
    else:
        assert "latitude" not in gps


def test_gps_degrees_at_the_poles_and_the_antimeridian_are_shown_and_past_them_left_out():
    at_limits = _gps(((90, 1), (0, 1), (0, 1)), b"N\x00", ((180, 1), (0, 1), (0, 1)), b"W\x00")
    assert (at_limits["latitude"], at_limits["longitude"]) == (90.0, -180.0)
    past = _gps(((51, 1), (0, 1), (0, 1)), b"N\x00", ((180, 1), (0, 1), (36, 1)), b"E\x00")
    assert "latitude" not in past and "longitude" not in past
