"""HEIF, HEIC and AVIF: every picture kept byte for byte, every piece of metadata gone.

Steps, one module each, each a pure function of the ones before:
    tables.parse      the box headers and meta box read (ranged reads) into items,
                      extents, references, properties, groups
    extents           where each item's bytes are (the mdat boxes indexed once)
    selection.plan    what is kept (pictures, gain maps, picture groups) and what goes
    payloads.check    the kept data checked by coding type, each distinct range once
                      (small blocks before the first byte, large ones as they stream)
    layout.build      the new ftyp, meta and mdat header, every offset rewritten
    walk              the input read once, front to back: kept ranges pass through

The output is rebuilt: ftyp (brands.py), a new meta, then one mdat holding only the byte
ranges kept items use, in input order, then the payloads written new. Top-level boxes
other than ftyp, meta and mdat (C2PA uuid, free, vendor boxes) go; sequences ('moov')
and compact AVIF ('mini') are refused. strip() is the same walk over the whole input.
"""

from __future__ import annotations

from ...kinds import Stripped
from ...limits import MAX_EXIF_PAYLOAD
from ..contract import Format
from .brands import MAJOR_BRANDS
from .selection import exif_tiff
from .tables import FTYP
from .walk import HeifWalk, open_walk

READ_PIECE = 1024 * 1024  # the pieces a whole input is fed in


def _run(data: bytes, keep_copyright: bool) -> tuple[HeifWalk, bytes]:
    """The streaming walk over the whole input (one code path for both)."""
    view = memoryview(data)
    walk = open_walk(len(view), lambda start, end: view[start:end], keep_copyright)
    out = [walk.feed(view[offset : offset + READ_PIECE]) for offset in range(0, len(view), READ_PIECE)]
    out.append(walk.finish())
    return walk, b"".join(out)


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    walk, output = _run(data, keep_copyright)
    return Stripped(output, walk.removed, walk.mime_type, walk.kept)


def find_exif(data: bytes) -> bytes | None:
    """The TIFF structure of the Exif item that describes the primary image (or the first one)."""
    walk, _ = _run(data, False)  # the image structure is checked as strip checks it
    exif = walk.plan.exif
    if exif is None:
        return None
    return exif_tiff(walk.index.payload(exif, MAX_EXIF_PAYLOAD, "EXIF"), exif)


FORMAT = Format("heif", "image/heif", lambda head: head[4:8] == FTYP and head[8:12] in MAJOR_BRANDS, strip, find_exif, open_walk)
