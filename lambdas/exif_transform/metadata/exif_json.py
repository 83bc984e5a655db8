"""read_exif's output: an EXIF block as a JSON-serialisable dict grouped by IFD.

    {"Image": {...IFD0...}, "Exif": {...}, "GPS": {..., "latitude": 52.5, "longitude": -0.12},
     "Interop": {...}}

Keys are the tag names of piexif's table (tags it does not name are left out), empty
groups are left out. ASCII values are strings without trailing NULs; integers are
ints; rationals are floats (null for a zero denominator); several values make a
list; UNDEFINED values appear only where they are text (ExifVersion, UserComment
without its character-code prefix) or a small code (FileSource, SceneType), and are
left out where they are opaque binary (MakerNote, print settings, the thumbnail).
"""

from __future__ import annotations

import math

import piexif

from .limits import MAX_JSON_SEQUENCE
from .tiff_ifd import (
    ASCII,
    BYTE,
    EXIF_IFD_TAG,
    FLOAT_TYPES,
    GPS_IFD_TAG,
    INTEGER_TYPES,
    INTEROP_IFD_TAG,
    RATIONAL_TYPES,
    UNDEFINED,
    ExifIfds,
    Ifd,
    IfdEntry,
    TiffReader,
)

POINTER_TAGS = frozenset({EXIF_IFD_TAG, GPS_IFD_TAG, INTEROP_IFD_TAG})
# Blocks of other metadata standards or of binary data, never rendered.
OPAQUE_TAGS = frozenset({
    0x02BC,  # XMLPacket (XMP is not EXIF)
    0x8649,  # ImageResources (Photoshop)
    0x8773,  # InterColorProfile
    0x014A,  # SubIFDs
})  # fmt: skip
# UNDEFINED tags that hold ASCII text (version numbers such as "0232").
UNDEFINED_TEXT_TAGS = frozenset({0x9000, 0xA000, 0x0002})  # ExifVersion, FlashpixVersion, InteroperabilityVersion
# UNDEFINED tags that hold a few small code values.
UNDEFINED_CODE_TAGS = frozenset({0x9101, 0xA300, 0xA301})  # ComponentsConfiguration, FileSource, SceneType
# Text with an 8-byte character-code prefix (EXIF 2.32, table 9).
PREFIXED_TEXT_TAGS = {"Exif": frozenset({0x9286}), "GPS": frozenset({0x001B, 0x001C})}
CHARACTER_CODES = {
    b"ASCII\x00\x00\x00": "ascii",
    b"UNICODE\x00": "utf-16",
    b"JIS\x00\x00\x00\x00\x00": "shift_jis",
    b"\x00" * 8: "utf-8",
}
CHARACTER_CODE_SIZE = 8
# Windows' XP* tags: UTF-16LE text stored as BYTE.
XP_TEXT_TAGS = frozenset({0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F})

GPS_LATITUDE, GPS_LATITUDE_REF, GPS_LONGITUDE, GPS_LONGITUDE_REF = 0x0002, 0x0001, 0x0004, 0x0003


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("utf-8", errors="replace")


def _prefixed_text(raw: bytes, byte_order: str) -> str:
    prefix, body = raw[:CHARACTER_CODE_SIZE], raw[CHARACTER_CODE_SIZE:]
    encoding = CHARACTER_CODES.get(prefix, "utf-8")
    if encoding == "utf-16" and body[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16-le" if byte_order == "<" else "utf-16-be"
    if encoding == "ascii":
        encoding = "utf-8"  # non-ASCII bytes in "ASCII" comments are usually UTF-8
    return body.decode(encoding, errors="replace").rstrip("\x00 ")


def _number(value):
    if isinstance(value, tuple):  # a rational
        numerator, denominator = value
        return numerator / denominator if denominator else None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


OMIT = object()  # _value's answer for an entry that is left out (None is JSON null)


def _value(reader: TiffReader, group: str, entry: IfdEntry):
    """The JSON value of one entry, or OMIT."""
    if entry.type == ASCII:
        return _text(reader.raw(entry))
    if entry.type == UNDEFINED:
        if entry.tag in PREFIXED_TEXT_TAGS.get(group, ()):
            return _prefixed_text(reader.raw(entry), reader.byte_order)
        if entry.tag in UNDEFINED_TEXT_TAGS:
            return _text(reader.raw(entry))
        if entry.tag in UNDEFINED_CODE_TAGS:
            codes = list(reader.raw(entry))
            return codes[0] if len(codes) == 1 else codes
        return OMIT
    if entry.type == BYTE and entry.tag in XP_TEXT_TAGS and group == "Image":
        return reader.raw(entry).decode("utf-16-le", errors="replace").rstrip("\x00")
    if entry.type in INTEGER_TYPES or entry.type in RATIONAL_TYPES or entry.type in FLOAT_TYPES:
        if entry.count == 0 or entry.count > MAX_JSON_SEQUENCE:
            return OMIT
        numbers = [_number(value) for value in reader.values(entry)]
        return numbers[0] if len(numbers) == 1 else numbers
    return OMIT


def _group(reader: TiffReader, ifd: Ifd | None, group: str) -> dict:
    if ifd is None:
        return {}
    table = piexif.TAGS[group]
    rendered = {}
    for tag, entry in ifd.entries.items():
        if tag not in table or tag in POINTER_TAGS or tag in OPAQUE_TAGS or not entry.known_type:
            continue
        value = _value(reader, group, entry)
        if value is not OMIT:
            rendered[table[tag]["name"]] = value
    return rendered


def _degrees(reader: TiffReader, gps: Ifd, value_tag: int, ref_tag: int, negative: bytes, limit: float) -> float | None:
    """Signed decimal degrees from degrees, minutes, seconds and a hemisphere letter."""
    value, ref = gps.entries.get(value_tag), gps.entries.get(ref_tag)
    if value is None or ref is None or value.type not in RATIONAL_TYPES or value.count != 3 or ref.type != ASCII:
        return None
    hemisphere = reader.raw(ref).rstrip(b"\x00").strip().upper()
    parts = reader.values(value)
    if hemisphere not in (b"N", b"S", b"E", b"W") or any(denominator == 0 for _, denominator in parts):
        return None
    degrees, minutes, seconds = (numerator / denominator for numerator, denominator in parts)
    decimal = degrees + minutes / 60 + seconds / 3600
    if decimal > limit:
        return None
    return -decimal if hemisphere == negative else decimal


def exif_to_json(ifds: ExifIfds) -> dict:
    reader = ifds.reader
    groups = {
        "Image": _group(reader, ifds.ifd0, "Image"),
        "Exif": _group(reader, ifds.exif, "Exif"),
        "GPS": _group(reader, ifds.gps, "GPS"),
        "Interop": _group(reader, ifds.interop, "Interop"),
    }
    if ifds.gps is not None:
        latitude = _degrees(reader, ifds.gps, GPS_LATITUDE, GPS_LATITUDE_REF, b"S", 90.0)
        longitude = _degrees(reader, ifds.gps, GPS_LONGITUDE, GPS_LONGITUDE_REF, b"W", 180.0)
        if latitude is not None and longitude is not None:
            groups["GPS"]["latitude"] = latitude
            groups["GPS"]["longitude"] = longitude
    return {name: group for name, group in groups.items() if group}
