"""TIFF: re-save the pages losslessly through Pillow with only the tags the image needs.

A TIFF file is its own metadata container: the image's IFDs hold the descriptive
tags (Make, Model, Artist, DateTime...), pointers to the Exif and GPS IFDs, and XMP,
IPTC and Photoshop blocks. Rewriting the IFDs in place would mean relocating strips
and tiles by hand, so the pages are decoded and written again by Pillow: from plain
copies of the pixels (Pillow copies XMP, IPTC and Photoshop tags from a TIFF it
opened), with a lossless compression, the ICC profile, the resolution and, with
keep_copyright, Copyright and Artist. The new file's IFDs are then read back and
every tag checked against an allow-list, so nothing rides along unnoticed.

Orientation needs no tag here: Pillow applies a TIFF page's Orientation to the pixels
when it loads them (and drops the tag), so the re-saved pixels are already upright
and display the same in every viewer, whether or not it reads the tag.

Before Pillow decodes anything, the IFD chain is walked with the bounded reader:
dimensions, strip and tile extents and the total number of pixels are checked, so a
decompression bomb or a looping IFD chain fails fast.
"""

from __future__ import annotations

import io
import warnings
from typing import NamedTuple

import piexif
from PIL import Image

from .. import kinds
from ..exif_block import ARTIST_TAG, COPYRIGHT_TAG, MAKERNOTE_TAG, ORIENTATION_TAG
from ..icc_profile import is_icc_profile
from ..errors import ImageError
from ..limits import (
    MAX_DECODED_PIXELS,
    MAX_KEPT_TEXT,
    MAX_PIXELS,
    MAX_TIFF_GROWTH,
    MAX_TIFF_PAGES,
    TIFF_GROWTH_ALLOWANCE,
)
from ..kinds import Stripped
from .contract import Format
from ..tiff_ifd import (
    ASCII,
    EXIF_IFD_TAG,
    GPS_IFD_TAG,
    RATIONAL,
    Ifd,
    TiffReader,
    readable_sub_ifd,
)

FMT = "TIFF"
IMAGE_WIDTH, IMAGE_LENGTH, BITS_PER_SAMPLE, COMPRESSION = 256, 257, 258, 259
NEW_SUBFILE_TYPE, SUBFILE_TYPE = 254, 255
STRIP_OFFSETS, STRIP_BYTE_COUNTS, TILE_OFFSETS, TILE_BYTE_COUNTS = 273, 279, 324, 325
X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT = 282, 283, 296
SAMPLE_FORMAT, ICC_PROFILE_TAG, SUB_IFDS = 339, 34675, 330
SAMPLES_PER_PIXEL, ROWS_PER_STRIP, PLANAR_CONFIGURATION = 277, 278, 284
TILE_WIDTH, TILE_LENGTH = 322, 323
UNCOMPRESSED, SEPARATE_PLANES = 1, 2
REDUCED_RESOLUTION = 1  # NewSubfileType bit 0: a thumbnail or preview of another page
OLD_REDUCED_RESOLUTION = 2  # SubfileType value for the same

# Tags that describe how to decode the pixels: they say nothing about the photo.
STRUCTURE_TAGS = frozenset({
    NEW_SUBFILE_TYPE, SUBFILE_TYPE, IMAGE_WIDTH, IMAGE_LENGTH, BITS_PER_SAMPLE, COMPRESSION,
    262, 263, 264, 265, 266,  # photometric, thresholding, cell size, fill order
    STRIP_OFFSETS, 277, 278, STRIP_BYTE_COUNTS, 280, 281,  # samples, rows per strip, min/max
    X_RESOLUTION, Y_RESOLUTION, 284, 290, 291, 292, 293, RESOLUTION_UNIT,  # planar, gray response, CCITT
    301, 317, 318, 319, 320, 321,  # transfer function, predictor, white point, primaries, colour map
    322, 323, TILE_OFFSETS, TILE_BYTE_COUNTS, 332, 334, 336, 338, SAMPLE_FORMAT, 340, 341, 342,
    347, 512, 513, 514, 515, 517, 518, 519, 520, 521,  # JPEG tables and old-style JPEG
    529, 530, 531, 532,  # YCbCr
    ICC_PROFILE_TAG,
})  # fmt: skip

# What the dropped tags were, for the log; any other tag piexif knows is EXIF-like
# (Make, Model, DateTime...), anything else is "other".
TAG_KINDS = {
    270: kinds.COMMENT,  # ImageDescription
    700: kinds.XMP,
    33723: kinds.IPTC,
    34377: kinds.PHOTOSHOP,
    37724: kinds.PHOTOSHOP,  # ImageSourceData (Photoshop layers)
    EXIF_IFD_TAG: kinds.EXIF,
    GPS_IFD_TAG: kinds.GPS,
    SUB_IFDS: kinds.THUMBNAIL,
    0x9C9B: kinds.COMMENT, 0x9C9C: kinds.COMMENT, 0x9C9D: kinds.COMMENT,  # XPTitle, XPComment, XPAuthor
    0x9C9E: kinds.COMMENT, 0x9C9F: kinds.COMMENT,  # XPKeywords, XPSubject
}  # fmt: skip

# Compressions Pillow writes losslessly; anything else (JPEG) is written as Deflate.
LOSSLESS_COMPRESSIONS = frozenset({"raw", "tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits"})
BILEVEL_COMPRESSIONS = frozenset({"group3", "group4", "tiff_ccitt"})
FALLBACK_COMPRESSION = "tiff_adobe_deflate"


class _Page(NamedTuple):
    index: int
    ifd: Ifd
    pixels: int
    reduced: bool


def _page_chain(reader: TiffReader) -> list[Ifd]:
    pages: list[Ifd] = []
    offset = reader.first_ifd_offset
    while offset:
        if len(pages) == MAX_TIFF_PAGES:
            raise ImageError(f"{FMT}: more than {MAX_TIFF_PAGES} pages")
        ifd = reader.read_ifd(offset, f"page {len(pages)}")
        pages.append(ifd)
        offset = ifd.next_offset
    if not pages:
        raise ImageError(f"{FMT}: no IFD (first IFD offset is 0)")
    return pages


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _check_extents(reader: TiffReader, ifd: Ifd, index: int, width: int, height: int) -> None:
    """Every strip or tile the page lists lies inside the file, and together they cover
    the declared image: a page whose few bytes claim millions of rows would otherwise be
    re-saved with the missing rows filled in, thousands of times its size."""
    tiled = TILE_OFFSETS in ifd.entries
    offsets_tag, counts_tag = (TILE_OFFSETS, TILE_BYTE_COUNTS) if tiled else (STRIP_OFFSETS, STRIP_BYTE_COUNTS)
    offsets, counts = reader.ints(ifd, offsets_tag), reader.ints(ifd, counts_tag)
    if not offsets or len(offsets) != len(counts):
        raise ImageError(f"{FMT}: page {index} (IFD at offset {ifd.offset}) has no consistent strip or tile table")
    size = len(reader.data)
    for offset, count in zip(offsets, counts):
        if offset + count > size:
            raise ImageError(f"{FMT}: page {index} has a strip or tile at offset {offset} running past the end of the data")
    samples = reader.first_int(ifd, SAMPLES_PER_PIXEL) or 1
    bits = reader.ints(ifd, BITS_PER_SAMPLE) or (1,)
    planes = samples if reader.first_int(ifd, PLANAR_CONFIGURATION) == SEPARATE_PLANES else 1
    if tiled:
        tile_width, tile_length = reader.first_int(ifd, TILE_WIDTH) or 0, reader.first_int(ifd, TILE_LENGTH) or 0
        if tile_width <= 0 or tile_length <= 0:
            raise ImageError(f"{FMT}: page {index} is tiled without a valid tile size")
        pieces = _ceil_div(width, tile_width) * _ceil_div(height, tile_length) * planes
        block_width, block_rows = tile_width, tile_length * pieces // planes
    else:
        rows = min(reader.first_int(ifd, ROWS_PER_STRIP) or height, height)
        if rows <= 0:
            raise ImageError(f"{FMT}: page {index} declares {rows} rows per strip")
        pieces = _ceil_div(height, rows) * planes
        block_width, block_rows = width, height
    if len(offsets) < pieces:
        raise ImageError(f"{FMT}: page {index} lists {len(offsets)} strips or tiles where its {width}x{height} pixels need {pieces}")
    if (reader.first_int(ifd, COMPRESSION) or UNCOMPRESSED) == UNCOMPRESSED:
        bits_per_plane = [sum(bits)] if planes == 1 else list(bits[:planes]) + [bits[-1]] * (planes - len(bits))
        needed = sum(_ceil_div(block_width * plane_bits, 8) * block_rows for plane_bits in bits_per_plane)
        if sum(counts[:pieces]) < needed:
            raise ImageError(f"{FMT}: page {index} has {sum(counts[:pieces])} bytes of uncompressed pixels where {width}x{height} need {needed}")


def _read_pages(reader: TiffReader) -> list[_Page]:
    pages = []
    for index, ifd in enumerate(_page_chain(reader)):
        width, height = reader.first_int(ifd, IMAGE_WIDTH), reader.first_int(ifd, IMAGE_LENGTH)
        if (width or 0) <= 0 or (height or 0) <= 0:  # absent, zero or negative (SSHORT, SLONG)
            raise ImageError(f"{FMT}: page {index} (IFD at offset {ifd.offset}) has no valid width and height")
        if width * height > MAX_PIXELS:
            raise ImageError(f"{FMT}: page {index} declares {width}x{height} pixels, over the limit of {MAX_PIXELS}")
        _check_extents(reader, ifd, index, width, height)
        reduced = bool((reader.first_int(ifd, NEW_SUBFILE_TYPE) or 0) & REDUCED_RESOLUTION) or (
            reader.first_int(ifd, SUBFILE_TYPE) == OLD_REDUCED_RESOLUTION
        )
        pages.append(_Page(index, ifd, width * height, reduced))
    return pages


def _kept_text(reader: TiffReader, ifd: Ifd, tag: int) -> bytes | None:
    entry = ifd.entries.get(tag)
    if entry is None or entry.type != ASCII:
        return None
    text = reader.raw(entry).rstrip(b"\x00")
    return text if text and len(text) <= MAX_KEPT_TEXT else None


def _kept_tags(reader: TiffReader, ifd: Ifd, keep_copyright: bool) -> dict[int, bytes]:
    tags: dict[int, bytes] = {}
    if keep_copyright:
        for tag in (COPYRIGHT_TAG, ARTIST_TAG):
            text = _kept_text(reader, ifd, tag)
            if text is not None:
                tags[tag] = text
    return tags


def _removed_kinds(reader: TiffReader, ifd: Ifd, kept: dict[int, bytes]) -> set[str]:
    found = set()
    for tag in ifd.entries:
        if tag in STRUCTURE_TAGS or tag in kept or tag == ORIENTATION_TAG:
            continue  # Orientation is applied to the pixels, not dropped
        found.add(TAG_KINDS.get(tag, kinds.EXIF if tag in piexif.TAGS["Image"] else kinds.OTHER))
    # The sub-IFDs are dropped whatever they hold, so they are read leniently, for the log.
    # Pages may share one Exif IFD (Pillow writes them so), hence a reader of their own.
    sub_reader = TiffReader(reader.data, FMT, lenient=True)
    exif = readable_sub_ifd(sub_reader, ifd, EXIF_IFD_TAG, "Exif")
    if exif is not None and MAKERNOTE_TAG in exif.entries:
        found.add(kinds.MAKERNOTE)
    return found


def _resolution(reader: TiffReader, ifd: Ifd) -> dict[int, object]:
    tags: dict[int, object] = {}
    for tag in (X_RESOLUTION, Y_RESOLUTION):
        entry = ifd.entries.get(tag)
        if entry is not None and entry.type == RATIONAL and entry.count == 1:
            numerator, denominator = reader.values(entry)[0]
            if numerator and denominator:
                tags[tag] = numerator / denominator
    unit = reader.first_int(ifd, RESOLUTION_UNIT)
    if len(tags) == 2 and unit in (1, 2, 3):
        tags[RESOLUTION_UNIT] = unit
        return tags
    return {}


def _decode_pages(data: bytes, pages: list[_Page], keep: list[_Page]) -> tuple[list[Image.Image], str | None, bytes | None]:
    """Plain copies of the kept pages' pixels, their compression name and ICC profile."""
    frames: list[Image.Image] = []
    compression: str | None = None
    icc_profiles = set()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["TIFF"]) as image:
                if image.n_frames != len(pages):
                    raise ImageError(f"{FMT}: Pillow sees {image.n_frames} pages, the IFD chain has {len(pages)}")
                for page in keep:
                    image.seek(page.index)
                    image.load()
                    frame = image.copy()
                    frame.info = {}
                    frames.append(frame)
                    compression = compression or image.info.get("compression")
                    icc_profiles.add(image.info.get("icc_profile"))
    except ImageError:
        raise
    except Exception as e:  # noqa: BLE001 - Pillow's TIFF reader raises many types on corrupt files
        raise ImageError(f"{FMT}: Pillow cannot decode the image: {type(e).__name__}: {e}") from e
    # One profile is written for every page: pages with different profiles, or a tag that
    # is not a valid profile, lose it (the pixels are served, their colours unmanaged).
    icc = icc_profiles.pop() if len(icc_profiles) == 1 else None
    if icc is not None and not is_icc_profile(icc):
        icc = None
    return frames, compression, icc


def _output_compression(source: str | None, mode: str) -> str:
    if source in BILEVEL_COMPRESSIONS and mode == "1":
        return source
    if source in LOSSLESS_COMPRESSIONS:
        return source  # Pillow writes "tiff_deflate" as "tiff_adobe_deflate" (the same Deflate, tag value 8)
    return FALLBACK_COMPRESSION


def _verify_output(output: bytes, pages_kept: int, allowed: set[int], source_bits: int) -> None:
    """Fail closed: the new file holds exactly the kept pages and only allowed tags."""
    reader = TiffReader(output, f"{FMT} output")
    pages = _page_chain(reader)
    if len(pages) != pages_kept:
        raise ImageError(f"{FMT}: the re-saved file has {len(pages)} pages instead of {pages_kept}")
    for index, ifd in enumerate(pages):
        extra = set(ifd.entries) - allowed
        if extra:
            raise ImageError(f"{FMT}: the re-saved page {index} still carries tags {sorted(extra)}")
        if max(reader.ints(ifd, BITS_PER_SAMPLE) or (1,)) < source_bits:
            raise ImageError(f"{FMT}: re-saving page {index} would lose bits per sample")


def _page_reader(data: bytes) -> TiffReader:
    """Pages are read leniently for what the strip drops (a metadata tag whose value lies
    outside the file is skipped, as it would be dropped anyway) and strictly for the tags
    that describe the pixels."""
    return TiffReader(data, FMT, lenient=True, strict_tags=STRUCTURE_TAGS)


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    reader = _page_reader(data)
    pages = _read_pages(reader)
    keep = [page for page in pages if not page.reduced]
    if not keep:
        raise ImageError(f"{FMT}: every page is a reduced-resolution copy")
    if sum(page.pixels for page in keep) > MAX_DECODED_PIXELS:
        raise ImageError(f"{FMT}: the pages hold more than {MAX_DECODED_PIXELS} pixels to decode")
    first = keep[0].ifd
    kept = _kept_tags(reader, first, keep_copyright)
    removed: set[str] = {kinds.THUMBNAIL} if len(keep) < len(pages) else set()
    if reader.skipped_entries:
        removed.add(kinds.OTHER)
    for page in keep:
        removed |= _removed_kinds(reader, page.ifd, kept)
    source_bits = max(max(reader.ints(page.ifd, BITS_PER_SAMPLE) or (1,)) for page in keep)

    frames, compression, icc = _decode_pages(data, pages, keep)
    if icc is None and ICC_PROFILE_TAG in first.entries:
        removed.add(kinds.OTHER)
    tiffinfo = {**_resolution(reader, first), **kept}
    options = {"compression": _output_compression(compression, frames[0].mode), "tiffinfo": tiffinfo}
    if icc:
        options["icc_profile"] = icc
    buffer = io.BytesIO()
    try:
        frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:], **options)
    except (OSError, ValueError) as e:
        raise ImageError(f"{FMT}: Pillow cannot write the {frames[0].mode} image losslessly: {e}") from e
    output = buffer.getvalue()
    if len(output) > MAX_TIFF_GROWTH * len(data) + TIFF_GROWTH_ALLOWANCE:
        raise ImageError(f"{FMT}: the re-saved image would be {len(output)} bytes, from {len(data)}")
    _verify_output(output, len(keep), set(STRUCTURE_TAGS) | set(kept), source_bits)
    return Stripped(output, frozenset(removed))


def find_exif(data: bytes) -> bytes:
    """The file itself (its IFD0 is what read_exif reports), after checking its pages."""
    _read_pages(_page_reader(data))
    return data


FORMAT = Format("tiff", "image/tiff", lambda head: head[:4] in (b"II*\x00", b"MM\x00*"), strip, find_exif)
