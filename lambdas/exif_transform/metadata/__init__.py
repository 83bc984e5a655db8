"""The transform's core: strip an image's metadata, or read its EXIF as JSON.

Bytes in, bytes or a dict out: no AWS, no network, no environment. The format is
recognised from the bytes (never from a Content-Type or a file name) and each format
is handled by a module of its own:

    formats/jpeg  JPEG  drop metadata segments; scan data kept byte for byte, an HDR gain
                        map kept after the primary with a new MPF index (formats/mpf)
    formats/png   PNG   drop metadata chunks; image chunks kept as they are
    formats/webp  WebP  drop EXIF/XMP chunks; fix the RIFF size and VP8X flags
    formats/gif   GIF   drop comment/XMP extensions; frames kept as they are (their
                        LZW data is decoded only to check where it ends)
    formats/tiff  TIFF  lossless re-save through Pillow with an allow-list of tags
    formats/heif  HEIF, HEIC, AVIF  keep every picture (primary, collection, tiles,
                        alpha, gain maps, alternates, pyramid, stereo) byte for byte;
                        meta and mdat rebuilt (a package, one module per step)
    formats/jxl   JPEG XL  drop Exif, xml, jumb, brob and jbrd boxes; codestream kept

Every format module follows one contract (formats/contract.py). open_strip() strips an
image as it arrives (streaming.py): JPEG, GIF, PNG, WebP, HEIF/AVIF and JPEG XL natively; TIFF is
held whole.

Anything that is not a well-formed image of these formats raises ImageError.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from .errors import ImageError
from .exif_block import tiff_payload
from .exif_json import EXIF_VIEWS, FULL_VIEW, SAFE_VIEW, exif_to_json
from .formats import FORMATS
from .formats.contract import Format
from .streaming import ReadRange, StreamStrip, TooLargeToHold, open_walk
from .tiff_ifd import read_exif_ifds

__all__ = [
    "EXIF_VIEWS",
    "FULL_VIEW",
    "MIME_TYPES",
    "SAFE_VIEW",
    "ImageError",
    "StreamStrip",
    "StripResult",
    "TooLargeToHold",
    "clean",
    "detect_format",
    "open_strip",
    "read_exif",
    "strip",
]

_BY_NAME: dict[str, Format] = {image_format.name: image_format for image_format in FORMATS}
MIME_TYPES: dict[str, str] = {image_format.name: image_format.mime_type for image_format in FORMATS}

# Formats recognised only to name them in the error.
UNSUPPORTED_SIGNATURES: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("ISOBMFF without a HEIF or AVIF brand (MP4, QuickTime, CR3?)", lambda data: data[4:8] == b"ftyp"),
    ("PDF", lambda data: data[:5] == b"%PDF-"),
    ("BigTIFF", lambda data: data[:4] in (b"II+\x00", b"MM\x00+")),
    ("BMP", lambda data: data[:2] == b"BM"),
    ("JPEG 2000", lambda data: data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n"),
)


class StripResult(NamedTuple):
    data: bytes
    format: str
    mime_type: str
    removed: tuple[str, ...]  # sorted kinds of metadata found and removed (metadata_kinds)
    kept: tuple[str, ...] = ()  # sorted kinds of pictures kept beyond the primary (kinds.ALL_KEPT)


def _as_bytes(data: bytes) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"expected bytes, got {type(data).__name__}")


def detect_format(data: bytes) -> str:
    """"jpeg", "png", "webp", "tiff", "gif", "heif" (HEIC and AVIF too) or "jxl", from the first bytes."""
    head = _as_bytes(data[:16])
    for image_format in FORMATS:
        if image_format.matches(head):
            return image_format.name
    if not head:
        raise ImageError("empty input: no image data")
    for name, matches in UNSUPPORTED_SIGNATURES:
        if matches(head):
            raise ImageError(f"unsupported image format: {name}")
    # The message never quotes the input's bytes: it may reach a viewer.
    raise ImageError("unrecognised data: not a JPEG, PNG, WebP, TIFF, GIF, HEIF/HEIC/AVIF or JPEG XL image")


def clean(data: bytes, *, keep_copyright: bool = False) -> StripResult:
    """The image without its metadata, and what was removed.

    Orientation (when not 1) survives in a minimal EXIF block, with Copyright and
    Artist too when keep_copyright is set.
    """
    data = _as_bytes(data)
    image_format = detect_format(data)
    stripped = _BY_NAME[image_format].strip(data, keep_copyright)
    mime_type = stripped.mime_type or MIME_TYPES[image_format]
    return StripResult(
        stripped.data, image_format, mime_type, tuple(sorted(stripped.removed)), tuple(sorted(stripped.kept))
    )


def open_strip(
    head: bytes, size: int, read_range: ReadRange | None, *, keep_copyright: bool = False, max_buffered: int
) -> StreamStrip:
    """A strip of the `size`-byte image whose first bytes are `head` (16 or more, or the
    whole image), to be fed every byte from offset 0 (metadata/streaming.py). Formats
    without a streaming walk are held whole, up to max_buffered bytes."""
    image_format = _BY_NAME[detect_format(head)]
    return open_walk(image_format, size, read_range, keep_copyright=keep_copyright, max_buffered=max_buffered)


def strip(data: bytes, *, keep_copyright: bool = False) -> bytes:
    return clean(data, keep_copyright=keep_copyright).data


def read_exif(data: bytes, *, view: str = SAFE_VIEW, keep_copyright: bool = False) -> dict:
    """The image's EXIF as a JSON-serialisable dict grouped by IFD; {} without EXIF.

    view "safe" (the default) shows an allow-list of technical fields, with Artist and
    Copyright only when keep_copyright is set; "full" shows every tag (exif_json.py).
    The image's structure is checked as strip checks it (ImageError); its EXIF block
    is read leniently, and one whose IFD0 cannot be found shows as {}.
    """
    if view not in EXIF_VIEWS:
        raise ValueError(f"unknown EXIF view {view!r}: expected one of {', '.join(EXIF_VIEWS)}")
    data = _as_bytes(data)
    image_format = detect_format(data)
    block = _BY_NAME[image_format].find_exif(data)
    if block is None:
        return {}
    try:
        ifds = read_exif_ifds(tiff_payload(block), f"{image_format.upper()} EXIF")
    except ImageError:
        return {}
    return exif_to_json(ifds, view=view, keep_copyright=keep_copyright)
