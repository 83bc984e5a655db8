"""What an EXIF block holds (for the log), and the minimal block that replaces it.

The only EXIF tag the stripped image keeps is Orientation, when it is not 1: it says
how to rotate the pixels for display, reveals nothing about the photographer, and
without it a portrait photo taken on a phone would show on its side. With
keep_copyright, the Copyright and Artist tags of IFD0 ride along as well.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

import piexif

from . import kinds
from .errors import ImageError
from .limits import MAX_KEPT_TEXT
from .tiff_ifd import ASCII, ExifIfds, read_exif_ifds

# The 6 bytes that precede the TIFF structure in a JPEG APP1 segment (and, from some
# writers, in a PNG eXIf or WebP EXIF chunk).
EXIF_HEADER = b"Exif\x00\x00"

ORIENTATION_TAG = 0x0112
ARTIST_TAG = 0x013B
COPYRIGHT_TAG = 0x8298
MAKERNOTE_TAG = 0x927C
NORMAL_ORIENTATION = 1
ORIENTATIONS = range(1, 9)


class ExifFacts(NamedTuple):
    kinds: frozenset[str]
    orientation: int
    copyright: bytes | None
    artist: bytes | None


def tiff_payload(block: bytes | memoryview) -> memoryview:
    """The TIFF structure of an EXIF block, without the "Exif\\0\\0" prefix if there is one."""
    view = memoryview(block)
    if view[: len(EXIF_HEADER)] == EXIF_HEADER:
        return view[len(EXIF_HEADER) :]
    return view


def _kept_text(ifds: ExifIfds, tag: int) -> bytes | None:
    entry = ifds.ifd0.entries.get(tag)
    if entry is None or entry.type != ASCII:
        return None
    text = ifds.reader.raw(entry, MAX_KEPT_TEXT + 1).rstrip(b"\x00")
    if not text or len(text) > MAX_KEPT_TEXT:
        return None
    return text


# What a block whose IFD0 cannot be found at all tells: that it was EXIF, nothing more.
UNREADABLE = ExifFacts(frozenset({kinds.EXIF}), NORMAL_ORIENTATION, None, None)


def exif_facts(block: bytes | memoryview, fmt: str) -> ExifFacts:
    """Reads an EXIF block (with or without its "Exif\\0\\0" prefix), leniently.

    The block is removed whatever it holds; what can be read of it decides what is
    kept. Without a readable IFD0 the orientation is 1, as a browser shows the image.
    """
    try:
        ifds = read_exif_ifds(tiff_payload(block), f"{fmt} EXIF")
    except ImageError:
        return UNREADABLE
    found = {kinds.EXIF}
    if ifds.gps is not None:
        found.add(kinds.GPS)
    if ifds.exif is not None and MAKERNOTE_TAG in ifds.exif.entries:
        found.add(kinds.MAKERNOTE)
    if ifds.ifd1 is not None:
        found.add(kinds.THUMBNAIL)
    orientation = ifds.reader.first_int(ifds.ifd0, ORIENTATION_TAG)
    return ExifFacts(
        kinds=frozenset(found),
        orientation=orientation if orientation in ORIENTATIONS else NORMAL_ORIENTATION,
        copyright=_kept_text(ifds, COPYRIGHT_TAG),
        artist=_kept_text(ifds, ARTIST_TAG),
    )


def kept_tags(facts: ExifFacts, keep_copyright: bool) -> dict[int, int | bytes]:
    """The IFD0 tags the stripped image keeps: {} when it needs no EXIF at all."""
    tags: dict[int, int | bytes] = {}
    if facts.orientation != NORMAL_ORIENTATION:
        tags[ORIENTATION_TAG] = facts.orientation
    if keep_copyright:
        if facts.copyright is not None:
            tags[COPYRIGHT_TAG] = facts.copyright
        if facts.artist is not None:
            tags[ARTIST_TAG] = facts.artist
    return tags


def minimal_exif(facts: ExifFacts, keep_copyright: bool) -> bytes | None:
    """The replacement TIFF structure (no "Exif\\0\\0" prefix), or None when nothing is kept."""
    tags = kept_tags(facts, keep_copyright)
    if not tags:
        return None
    return piexif.dump({"0th": tags})[len(EXIF_HEADER) :]


class ExifPlan(NamedTuple):
    minimal: bytes | None  # the TIFF structure to write back, if any
    removed: frozenset[str]


def plan_exif(
    blocks: Iterable[bytes | memoryview], keep_copyright: bool, fmt: str, *, orientation_shown: bool = True
) -> ExifPlan:
    """Reads every EXIF block of an image and decides what replaces them.

    The first block decides the orientation (as browsers and Pillow read it), unless
    orientation_shown is False: then browsers ignore the block where it is (a PNG eXIf
    after the image data), and the replacement must not start rotating the image. A
    lone block that is already the minimal one is not reported as removed, so a second
    strip logs nothing. Malformed blocks are removed like any other.
    """
    blocks = list(blocks)
    if not blocks:
        return ExifPlan(None, frozenset())
    all_facts = [exif_facts(block, fmt) for block in blocks]
    first = all_facts[0] if orientation_shown else all_facts[0]._replace(orientation=NORMAL_ORIENTATION)
    minimal = minimal_exif(first, keep_copyright)
    if len(blocks) == 1 and minimal is not None and bytes(tiff_payload(blocks[0])) == minimal:
        return ExifPlan(minimal, frozenset())
    removed = frozenset().union(*(facts.kinds for facts in all_facts))
    return ExifPlan(minimal, removed)

