"""read_exif's output: an EXIF block as a JSON-serialisable dict grouped by IFD.

    {"Image": {...IFD0...}, "Exif": {...}, "GPS": {..., "latitude": 52.5, "longitude": -0.12},
     "Interop": {...}, "truncated": ["Exif.UserComment"], "omitted": ["Image.ImageDescription"]}

Two views:
    safe  an allow-list of technical fields (SAFE_FIELDS): camera and lens make and
          model, exposure, ISO, focal length, flash, white balance, the date taken
          without any time-zone offset, pixel dimensions, orientation, colour space.
          Nothing that places or identifies: no GPS, serial numbers, names, unique IDs,
          software or host, offsets, descriptions, comments or MakerNote. Artist and
          Copyright only with keep_copyright.
    full  every tag piexif's table names.

Keys are the tag names of piexif's table (tags it does not name are left out), empty
groups are left out. ASCII values are strings cut at their first NUL; integers are
ints; rationals are floats (null for a zero denominator); several values make a
list; UNDEFINED values are text where they are text (ExifVersion, UserComment
without its character-code prefix), a small code (FileSource, SceneType), and
otherwise a summary {"type": "UNDEFINED", "count": n}, as is any sequence longer than
MAX_JSON_SEQUENCE.

Bounded whatever the block holds: a text value longer than MAX_JSON_TEXT characters
is cut and ends with "…", and its field is listed in "truncated"; only the first bytes
of a value are ever read and decoded, so tags that all point at one long run cost
little; a value several tags share is decoded and measured once; sequences are decoded
up to SEQUENCE_BUDGET bytes of JSON in all (more could never fit the document), later
ones show as summaries, so tags whose long sequences overlap at distinct offsets
cost time in proportion to the block, not to tags times values; and when the document
would exceed MAX_JSON_DOCUMENT bytes, the largest fields are left out first and listed
in "omitted".
"""

from __future__ import annotations

import json
import math
import re

import piexif

from .limits import MAX_JSON_DOCUMENT, MAX_JSON_SEQUENCE, MAX_JSON_TEXT
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

SAFE_VIEW, FULL_VIEW = "safe", "full"
EXIF_VIEWS = (SAFE_VIEW, FULL_VIEW)

# The safe view's allow-list, by group and tag number.
SAFE_FIELDS = {
    "Image": frozenset({
        0x010F, 0x0110,  # Make, Model
        0x0100, 0x0101,  # ImageWidth, ImageLength
        0x0112,  # Orientation
    }),
    "Exif": frozenset({
        0xA433, 0xA434,  # LensMake, LensModel
        0x829A, 0x829D, 0x8827,  # ExposureTime, FNumber, ISOSpeedRatings (PhotographicSensitivity)
        0x920A, 0xA405,  # FocalLength, FocalLengthIn35mmFilm
        0x8822, 0x9204, 0xA402,  # ExposureProgram, ExposureBiasValue, ExposureMode
        0x9207, 0x9209, 0xA403,  # MeteringMode, Flash, WhiteBalance
        0x9003,  # DateTimeOriginal (its offset lives in OffsetTimeOriginal, left out)
        0xA002, 0xA003, 0xA001,  # PixelXDimension, PixelYDimension, ColorSpace
    }),
}  # fmt: skip
COPYRIGHT_FIELDS = {"Image": frozenset({0x013B, 0x8298})}  # Artist, Copyright
DATE_TIME_ORIGINAL = 0x9003
# "YYYY:MM:DD HH:MM:SS" (EXIF 2.32, 4.6.5); anything after it is not shown in the safe view.
_DATE_TIME = re.compile(r"\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}")

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
TYPE_NAMES = {
    1: "BYTE", 2: "ASCII", 3: "SHORT", 4: "LONG", 5: "RATIONAL", 6: "SBYTE", 7: "UNDEFINED",
    8: "SSHORT", 9: "SLONG", 10: "SRATIONAL", 11: "FLOAT", 12: "DOUBLE", 13: "IFD",
}  # fmt: skip

GPS_LATITUDE, GPS_LATITUDE_REF, GPS_LONGITUDE, GPS_LONGITUDE_REF = 0x0002, 0x0001, 0x0004, 0x0003

CUT_MARK = "…"
# Bytes of a text value read at most: enough for MAX_JSON_TEXT characters of any
# encoding (4 bytes a character in UTF-8, 2 or 4 in UTF-16) plus the prefix.
TEXT_READ_LIMIT = 4 * (MAX_JSON_TEXT + 1) + CHARACTER_CODE_SIZE

# The sequences decoded for one document, in the least JSON their numbers take: an integer
# takes a digit and a ", " separator, a float three characters ("0.0", null) and the
# separator. Decoding more could never fit MAX_JSON_DOCUMENT.
SEQUENCE_BUDGET = MAX_JSON_DOCUMENT
LEAST_JSON_INTEGER, LEAST_JSON_FLOAT = 3, 5

OMIT = object()  # _Renderer.value's answer for an entry that is left out (None is JSON null)


class _Text(str):
    """A rendered text that was cut to MAX_JSON_TEXT characters."""


def _bounded(text: str, more: bool) -> str:
    """`text` as shown: up to its first NUL, which ends it (bytes left unread after a NUL are not more of the
    text), and at most MAX_JSON_TEXT characters, marked when cut."""
    text, nul, _ = text.partition("\x00")
    if len(text) > MAX_JSON_TEXT or (more and not nul and len(text) == MAX_JSON_TEXT):
        return _Text(text[:MAX_JSON_TEXT] + CUT_MARK)
    return text


def _summary(entry: IfdEntry) -> dict:
    return {"type": TYPE_NAMES[entry.type], "count": entry.count}  # only entries of a known type are rendered


def _number(value):
    if isinstance(value, tuple):  # a rational
        numerator, denominator = value
        return numerator / denominator if denominator else None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _Renderer:
    """Renders entries of one block; a value several tags share is read and decoded once."""

    def __init__(self, reader: TiffReader):
        self.reader = reader
        self._seen: dict[tuple, object] = {}
        self.sequence_budget = SEQUENCE_BUDGET

    def _prefix(self, entry: IfdEntry) -> tuple[bytes, bool]:
        """The value's first bytes, and whether there are more."""
        raw = self.reader.raw(entry, TEXT_READ_LIMIT)
        return raw, self.reader.size_of(entry) > len(raw)

    def _decoded(self, entry: IfdEntry, how: str):
        key = (how, entry.type, entry.value_offset, entry.count)
        if key not in self._seen:
            self._seen[key] = self._decode(entry, how)
        return self._seen[key]

    def _decode(self, entry: IfdEntry, how: str):
        raw, more = self._prefix(entry)
        if how == "text":  # _bounded ends it at its first NUL (in UTF-8 a NUL byte is always U+0000)
            return _bounded(raw.decode("utf-8", errors="replace"), more)
        if how == "xp":
            return _bounded(raw[: len(raw) // 2 * 2].decode("utf-16-le", errors="replace"), more)
        # Text after an 8-byte character code.
        prefix, body = raw[:CHARACTER_CODE_SIZE], raw[CHARACTER_CODE_SIZE:]
        encoding = CHARACTER_CODES.get(prefix, "utf-8")
        if encoding == "utf-16" and body[:2] not in (b"\xff\xfe", b"\xfe\xff"):
            encoding = "utf-16-le" if self.reader.byte_order == "<" else "utf-16-be"
        if encoding == "ascii":
            encoding = "utf-8"  # non-ASCII bytes in "ASCII" comments are usually UTF-8
        if encoding.startswith("utf-16"):
            body = body[: len(body) // 2 * 2]
        text = body.decode(encoding, errors="replace").split("\x00", 1)[0].rstrip(" ")
        return _bounded(text, more and len(text) >= MAX_JSON_TEXT)

    def _numbers(self, entry: IfdEntry):
        key = ("numbers", entry.type, entry.value_offset, entry.count)
        if key not in self._seen:
            if entry.count > 1:
                least = entry.count * (LEAST_JSON_INTEGER if entry.type in INTEGER_TYPES else LEAST_JSON_FLOAT)
                if least > self.sequence_budget:
                    return _summary(entry)
                self.sequence_budget -= least
            numbers = [_number(value) for value in self.reader.values(entry)]
            self._seen[key] = numbers[0] if len(numbers) == 1 else numbers
        return self._seen[key]

    def value(self, group: str, entry: IfdEntry):
        """The JSON value of one entry, or OMIT."""
        if entry.type == ASCII:
            return self._decoded(entry, "text")
        if entry.type == UNDEFINED:
            if entry.tag in PREFIXED_TEXT_TAGS.get(group, ()):
                return self._decoded(entry, "prefixed")
            if entry.tag in UNDEFINED_TEXT_TAGS:
                return self._decoded(entry, "text")
            if entry.tag in UNDEFINED_CODE_TAGS and 0 < entry.count <= MAX_JSON_SEQUENCE:
                codes = list(self.reader.raw(entry))
                return codes[0] if len(codes) == 1 else codes
            return _summary(entry)
        if entry.type == BYTE and entry.tag in XP_TEXT_TAGS and group == "Image":
            return self._decoded(entry, "xp")
        if entry.type in INTEGER_TYPES or entry.type in RATIONAL_TYPES or entry.type in FLOAT_TYPES:
            if entry.count == 0:
                return OMIT
            if entry.count > MAX_JSON_SEQUENCE:
                return _summary(entry)
            return self._numbers(entry)
        return OMIT


def _shown(group: str, tag: int, view: str, keep_copyright: bool) -> bool:
    if view == FULL_VIEW:
        return True
    return tag in SAFE_FIELDS.get(group, ()) or (keep_copyright and tag in COPYRIGHT_FIELDS.get(group, ()))


def _safe_value(tag: int, value):
    """The safe view's form of a value: the date taken without anything after it."""
    if tag != DATE_TIME_ORIGINAL:
        return value
    found = _DATE_TIME.match(value) if isinstance(value, str) else None
    return found.group(0) if found else OMIT


def _group(renderer: _Renderer, ifd: Ifd | None, group: str, view: str, keep_copyright: bool) -> dict:
    if ifd is None:
        return {}
    table = piexif.TAGS[group]
    rendered = {}
    for tag, entry in ifd.entries.items():
        if tag not in table or tag in POINTER_TAGS or tag in OPAQUE_TAGS or not entry.known_type:
            continue
        if not _shown(group, tag, view, keep_copyright):
            continue
        value = renderer.value(group, entry)
        if view == SAFE_VIEW and value is not OMIT:
            value = _safe_value(tag, value)
        if value is not OMIT:
            rendered[table[tag]["name"]] = value
    return rendered


def _degrees(reader: TiffReader, gps: Ifd, value_tag: int, ref_tag: int, negative: bytes, limit: float) -> float | None:
    """Signed decimal degrees from degrees, minutes, seconds and a hemisphere letter."""
    value, ref = gps.entries.get(value_tag), gps.entries.get(ref_tag)
    if value is None or ref is None or value.type not in RATIONAL_TYPES or value.count != 3 or ref.type != ASCII:
        return None
    hemisphere = reader.raw(ref, 8).split(b"\x00", 1)[0].strip().upper()
    parts = reader.values(value)
    if hemisphere not in (b"N", b"S", b"E", b"W") or any(denominator == 0 for _, denominator in parts):
        return None
    degrees, minutes, seconds = (numerator / denominator for numerator, denominator in parts)
    decimal = degrees + minutes / 60 + seconds / 3600
    if decimal > limit:
        return None
    return -decimal if hemisphere == negative else decimal


def _size(value) -> int:
    """Bytes `value` takes in the document as json.dumps writes it by default (ensure_ascii)."""
    return len(json.dumps(value, allow_nan=False))


def _bracketed(entries: int, count: int) -> int:
    """Bytes of a JSON object or array whose `count` entries take `entries` bytes, as json.dumps
    writes it: its two brackets, and ", " between entries."""
    return 2 + entries + 2 * max(count - 1, 0)


def _capped(groups: dict[str, dict], truncated: list[str]) -> dict:
    """The document, its largest fields left out first until it fits MAX_JSON_DOCUMENT.

    Its size is kept exactly, as json.dumps writes it, from the bytes and number of the entries
    of each part (the groups, "truncated" and "omitted"; a part with no entry is left out), and
    each value is measured once (the renderer hands out one object for a value several tags
    share): leaving a field out moves its entry between parts, so a document far over the cap
    is never serialised whole, and each field left out costs a few additions."""
    measured: dict[int, int] = {}

    def value_size(value) -> int:
        if id(value) not in measured:
            measured[id(value)] = _size(value)
        return measured[id(value)]

    fields = sorted(
        (_size(name) + 2 + value_size(value), group, name) for group, members in groups.items() for name, value in members.items()
    )  # `"name": value`, the largest last
    parts = {group: [0, 0] for group in [*groups, "truncated", "omitted"]}  # bytes of the entries, their number

    def add(part: str, entry: int, count: int) -> None:
        parts[part][0] += entry
        parts[part][1] += count

    for entry, group, _ in fields:
        add(group, entry, 1)
    for field in truncated:
        add("truncated", _size(field), 1)

    def size() -> int:
        present = [_size(key) + 2 + _bracketed(*part) for key, part in parts.items() if part[1]]  # `"key": {...}`
        return _bracketed(sum(present), len(present))

    cut = set(truncated)
    omitted: set[str] = set()
    while fields and size() > MAX_JSON_DOCUMENT:
        entry, group, name = fields.pop()
        field = f"{group}.{name}"
        del groups[group][name]
        omitted.add(field)
        add(group, -entry, -1)
        if field in cut:
            add("truncated", -_size(field), -1)
        add("omitted", _size(field), 1)
    doc: dict = {name: members for name, members in groups.items() if members}
    still_cut = [field for field in truncated if field not in omitted]
    if still_cut:
        doc["truncated"] = still_cut
    if omitted:
        doc["omitted"] = sorted(omitted)
    return doc


def exif_to_json(ifds: ExifIfds, *, view: str = SAFE_VIEW, keep_copyright: bool = False) -> dict:
    if view not in EXIF_VIEWS:
        raise ValueError(f"unknown EXIF view {view!r}: expected one of {', '.join(EXIF_VIEWS)}")
    renderer = _Renderer(ifds.reader)
    groups = {
        "Image": _group(renderer, ifds.ifd0, "Image", view, keep_copyright),
        "Exif": _group(renderer, ifds.exif, "Exif", view, keep_copyright),
        "GPS": _group(renderer, ifds.gps, "GPS", view, keep_copyright),
        "Interop": _group(renderer, ifds.interop, "Interop", view, keep_copyright),
    }
    if ifds.gps is not None and view == FULL_VIEW:
        latitude = _degrees(ifds.reader, ifds.gps, GPS_LATITUDE, GPS_LATITUDE_REF, b"S", 90.0)
        longitude = _degrees(ifds.reader, ifds.gps, GPS_LONGITUDE, GPS_LONGITUDE_REF, b"W", 180.0)
        if latitude is not None and longitude is not None:
            groups["GPS"]["latitude"] = latitude
            groups["GPS"]["longitude"] = longitude
    truncated = sorted(
        f"{group}.{name}" for group, members in groups.items() for name, value in members.items() if isinstance(value, _Text)
    )
    for members in groups.values():  # plain str from here on
        for name, value in members.items():
            if isinstance(value, _Text):
                members[name] = str(value)
    return _capped(groups, truncated)
