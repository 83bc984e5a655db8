"""HEIF, HEIC and AVIF: keep the primary image and what it is built from, drop the rest.

Steps, one module each, each a pure function of the one before:
    tables.parse       the boxes read into items, extents, references and properties
    selection.plan     what is kept and what goes (and the kinds removed)
    payloads           the kept items' data gathered and checked by coding type
    layout.build       the new meta and mdat with every offset rewritten

Byte layout (ISO/IEC 14496-12 ISOBMFF, 23008-12 HEIF; boxes as in isobmff.py):
    ftyp   major brand, minor version, compatible brands (u32 each); first box
    meta   full box, exactly one: hdlr ("pict"), pitm (primary item ID),
           iinf  entry count, then infe v2/v3: item ID, protection index, item type, name
                 [, content type for "mime"]
           iloc  v0/1/2: offset, length, base offset, index sizes (4 bits each); per item:
                 ID, [construction method], data reference, base offset, extents
                 (offset, length); method 0 = file offset, 1 = offset into idat
           iref  boxes named by the reference type: from ID, count, to IDs
           iprp  ipco (the properties, 1-based) + ipma (item -> property indexes,
                 top bit essential; 7- or 15-bit indexes by flags)
           idat  item data addressed by construction method 1
    mdat   item data addressed by file offsets; meta may come before or after it
    other  free, skip, uuid (C2PA), udta, vendor boxes; moov (image sequences)

The output is rebuilt: ftyp as it is, a new meta, then one mdat. The new meta keeps
the primary item, the items it is derived from (dimg: grid tiles, overlays, identity
derivations) and its alpha auxiliary images; their display properties byte for byte,
their references, their data. Every other item (EXIF, XMP and other mime or uri
items, thumbnails, depth and gain maps) goes with its infe entry, iloc entry,
references and property associations; text properties (udes) go and ipma indexes are
renumbered. Only the byte ranges that kept items reference are copied, into a new
mdat and idat, and every kept iloc offset is rewritten for its new place.
"""

from __future__ import annotations

from ...kinds import Stripped
from ..contract import Format
from ..isobmff import box_header
from .layout import build
from .payloads import exif_tiff, item_payload
from .selection import exif_items, plan
from .tables import AVIF_BRANDS, FTYP, HEIC_BRANDS, MAJOR_BRANDS, MDAT, Tables, parse


def _mime_type(walk: Tables) -> str:
    if walk.brands & AVIF_BRANDS:
        return "image/avif"
    if walk.brands & HEIC_BRANDS:
        return "image/heic"
    return "image/heif"


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    walk = parse(data)
    decided = plan(data, walk, keep_copyright)
    output = build(data, walk, decided)
    ftyp = memoryview(data)[walk.ftyp.start : walk.ftyp.end]
    mdat_size = sum(len(piece) for piece in output.mdat)
    mdat_header = box_header(MDAT, mdat_size) if output.mdat else b""
    meta_size = len(output.meta(0))
    meta = output.meta(len(ftyp) + meta_size + len(mdat_header))
    return Stripped(b"".join((ftyp, meta, mdat_header, *output.mdat)), decided.removed, _mime_type(walk))


def find_exif(data: bytes) -> bytes | None:
    """The TIFF structure of the Exif item that describes the primary image (or the first one)."""
    walk = parse(data)
    build(data, walk, plan(data, walk, False))  # the image structure is checked as strip checks it
    found = exif_items(walk)
    if not found:
        return None
    return exif_tiff(item_payload(data, walk, found[0]), found[0])


FORMAT = Format("heif", "image/heif", lambda head: head[4:8] == FTYP and head[8:12] in MAJOR_BRANDS, strip, find_exif)
