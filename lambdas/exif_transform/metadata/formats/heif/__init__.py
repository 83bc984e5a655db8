"""HEIF, HEIC and AVIF: every picture kept byte for byte, every piece of metadata gone.

Steps, one module each, each a pure function of the ones before:
    tables.parse      the boxes read into items, extents, references, properties, groups
    extents           where each item's bytes are (the mdat boxes indexed once)
    selection.plan    what is kept (pictures, gain maps, picture groups) and what goes
    payloads.check    the kept data checked by coding type, each distinct range once
    layout.build      the new ftyp, meta and mdat, every offset rewritten

The output is rebuilt: ftyp (brands.py), a new meta, then one mdat holding only the byte
ranges kept items use. Top-level boxes other than ftyp, meta and mdat (C2PA uuid, free,
vendor boxes) go; sequences ('moov') and compact AVIF ('mini') are refused.
"""

from __future__ import annotations

from ...kinds import Stripped
from ...limits import MAX_EXIF_PAYLOAD
from ..contract import Format
from .brands import AVIF_BRANDS, HEIC_BRANDS, MAJOR_BRANDS
from .extents import ExtentIndex
from .layout import build
from .payloads import check
from .selection import exif_tiff, plan
from .tables import FTYP, Tables, parse


def _mime_type(tables: Tables) -> str:
    if tables.brands & AVIF_BRANDS:
        return "image/avif"
    if tables.brands & HEIC_BRANDS:
        return "image/heic"
    return "image/heif"


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    tables = parse(data)
    index = ExtentIndex(data, tables)
    decided = plan(data, tables, index, keep_copyright)
    payloads = check(data, tables, index, decided)
    output = build(data, tables, index, decided, payloads)
    return Stripped(output, decided.removed | payloads.removed, _mime_type(tables), decided.kept)


def find_exif(data: bytes) -> bytes | None:
    """The TIFF structure of the Exif item that describes the primary image (or the first one)."""
    tables = parse(data)
    index = ExtentIndex(data, tables)
    decided = plan(data, tables, index, False)
    check(data, tables, index, decided)  # the image structure is checked as strip checks it
    if decided.exif is None:
        return None
    return exif_tiff(index.payload(decided.exif, MAX_EXIF_PAYLOAD, "EXIF"), decided.exif)


FORMAT = Format("heif", "image/heif", lambda head: head[4:8] == FTYP and head[8:12] in MAJOR_BRANDS, strip, find_exif)
