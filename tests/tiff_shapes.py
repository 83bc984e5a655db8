"""TIFF files written byte by byte, page by page, with exactly the tags a test names: the shapes Pillow would
never write (a page without BitsPerSample, planes stored apart, negative sizes, tile tables that do not match),
laid out as TIFF 6.0 section 2 says, independently of the core's reader.

Layout: the 8-byte header, then for each page its IFD, the values that do not fit in an entry, and its strips
or tiles; pages are chained in order and the last one's next-IFD offset is 0.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SSHORT, SLONG = 1, 2, 3, 4, 5, 7, 8, 9
_SIZES = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1, SSHORT: 2, SLONG: 4}
_CODES = {SHORT: "H", LONG: "I", SSHORT: "h", SLONG: "i"}

IMAGE_WIDTH, IMAGE_LENGTH, BITS_PER_SAMPLE, COMPRESSION, PHOTOMETRIC = 256, 257, 258, 259, 262
NEW_SUBFILE_TYPE, SUBFILE_TYPE = 254, 255
STRIP_OFFSETS, SAMPLES_PER_PIXEL, ROWS_PER_STRIP, STRIP_BYTE_COUNTS, PLANAR_CONFIGURATION = 273, 277, 278, 279, 284
TILE_WIDTH, TILE_LENGTH, TILE_OFFSETS, TILE_BYTE_COUNTS = 322, 323, 324, 325
X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT = 282, 283, 296
ARTIST, COPYRIGHT, ICC_PROFILE, EXIF_IFD = 315, 33432, 34675, 34665


@dataclass
class Page:
    """One page: tag -> (type, values), values being bytes (BYTE, ASCII, UNDEFINED), integers (SHORT, LONG,
    SSHORT, SLONG) or (numerator, denominator) pairs (RATIONAL). `pieces` are its strips (or tiles, when
    `tiled`); their offsets and byte counts are added unless `tags` names them itself."""

    tags: dict[int, tuple[int, object]]
    pieces: list[bytes] = field(default_factory=list)
    tiled: bool = False


def grey(width: int, height: int, pixels: bytes | None = None, tags: dict[int, tuple[int, object] | None] | None = None) -> Page:
    """An uncompressed 8-bit greyscale page in one strip (black is zero); `tags` adds or replaces entries
    (None leaves one out)."""
    pixels = bytes(range(width * height)) if pixels is None else pixels
    entries = {
        IMAGE_WIDTH: (LONG, [width]),
        IMAGE_LENGTH: (LONG, [height]),
        BITS_PER_SAMPLE: (SHORT, [8]),
        COMPRESSION: (SHORT, [1]),
        PHOTOMETRIC: (SHORT, [1]),
        SAMPLES_PER_PIXEL: (SHORT, [1]),
        ROWS_PER_STRIP: (LONG, [height]),
    }
    entries.update(tags or {})
    return Page({tag: value for tag, value in entries.items() if value is not None}, [pixels])


def _encoded(kind: int, values: object, order: str) -> bytes:
    if kind in (BYTE, ASCII, UNDEFINED):
        return bytes(values)
    if kind == RATIONAL:
        return b"".join(struct.pack(order + "II", *pair) for pair in values)
    return struct.pack(f"{order}{len(values)}{_CODES[kind]}", *values)


def tiff_file(*pages: Page, order: str = "<") -> bytes:
    """The pages as one TIFF file."""
    out = bytearray((b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "I", 8))
    for number, page in enumerate(pages):
        tags = dict(page.tags)
        offsets_tag, counts_tag = (TILE_OFFSETS, TILE_BYTE_COUNTS) if page.tiled else (STRIP_OFFSETS, STRIP_BYTE_COUNTS)
        own_offsets = offsets_tag in tags
        tags.setdefault(offsets_tag, (LONG, [0] * len(page.pieces)))
        tags.setdefault(counts_tag, (LONG, [len(piece) for piece in page.pieces]))
        start = len(out)
        table_size = 2 + 12 * len(tags) + 4
        values_at = start + table_size
        blobs = {tag: _encoded(kind, values, order) for tag, (kind, values) in tags.items()}
        outside = sum(len(blob) for blob in blobs.values() if len(blob) > 4)
        pieces_at = values_at + outside
        if not own_offsets:
            starts = [pieces_at + sum(len(piece) for piece in page.pieces[:index]) for index in range(len(page.pieces))]
            blobs[offsets_tag] = _encoded(LONG, starts, order)
        end = pieces_at + sum(len(piece) for piece in page.pieces)
        table = struct.pack(order + "H", len(tags))
        values = b""
        for tag in sorted(tags):
            kind, raw = tags[tag]
            blob = blobs[tag]
            if len(blob) <= 4:
                field_value = blob.ljust(4, b"\x00")
            else:
                field_value = struct.pack(order + "I", values_at + len(values))
                values += blob
            table += struct.pack(order + "HHI", tag, kind, len(raw)) + field_value
        table += struct.pack(order + "I", end if number + 1 < len(pages) else 0)
        out += table + values + b"".join(page.pieces)
    return bytes(out)
