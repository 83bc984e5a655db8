"""The transform's core: strip an image's metadata, or read its EXIF as JSON.

Bytes in, bytes or a dict out: no AWS, no network, no environment. The format is
recognised from the bytes (never from a Content-Type or a file name) and each format
is handled by a module of its own:

    fmt_jpeg  JPEG   drop metadata segments; scan data kept byte for byte
    fmt_png   PNG    drop metadata chunks; image chunks kept as they are
    fmt_webp  WebP   drop EXIF/XMP chunks; fix the RIFF size and VP8X flags
    fmt_gif   GIF    drop comment/XMP extensions; frames kept as they are (their
                     LZW data is decoded only to check where it ends)
    fmt_tiff  TIFF   lossless re-save through Pillow with an allow-list of tags

Anything that is not a well-formed image of these formats raises ImageError.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from exif_block import tiff_payload
from exif_json import exif_to_json
from fmt_gif import find_exif_gif, strip_gif
from fmt_jpeg import find_exif_jpeg, strip_jpeg
from fmt_png import find_exif_png, strip_png
from fmt_tiff import find_exif_tiff, strip_tiff
from fmt_webp import find_exif_webp, strip_webp
from image_error import ImageError
from metadata_kinds import Stripped
from tiff_ifd import read_exif_ifds

__all__ = ["MIME_TYPES", "ImageError", "StripResult", "clean", "detect_format", "read_exif", "strip"]

JPEG, PNG, WEBP, TIFF, GIF = "jpeg", "png", "webp", "tiff", "gif"

MIME_TYPES: dict[str, str] = {
    JPEG: "image/jpeg",
    PNG: "image/png",
    WEBP: "image/webp",
    TIFF: "image/tiff",
    GIF: "image/gif",
}

# (format, signature test) in the order they are tried.
SIGNATURES: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    (JPEG, lambda data: data[:3] == b"\xff\xd8\xff"),
    (PNG, lambda data: data[:8] == b"\x89PNG\r\n\x1a\n"),
    (WEBP, lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP"),
    (TIFF, lambda data: data[:4] in (b"II*\x00", b"MM\x00*")),
    (GIF, lambda data: data[:6] in (b"GIF87a", b"GIF89a")),
)

# Formats recognised only to name them in the error.
UNSUPPORTED_SIGNATURES: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("HEIF/AVIF", lambda data: data[4:8] == b"ftyp"),
    ("PDF", lambda data: data[:5] == b"%PDF-"),
    ("BigTIFF", lambda data: data[:4] in (b"II+\x00", b"MM\x00+")),
    ("BMP", lambda data: data[:2] == b"BM"),
    ("JPEG XL", lambda data: data[:2] == b"\xff\x0a" or data[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n"),
    ("JPEG 2000", lambda data: data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n"),
)

STRIPPERS: dict[str, Callable[[bytes, bool], Stripped]] = {
    JPEG: strip_jpeg,
    PNG: strip_png,
    WEBP: strip_webp,
    TIFF: strip_tiff,
    GIF: strip_gif,
}

# Each returns the image's EXIF block (None when it has none) after checking the
# whole file's structure, so read_exif refuses what strip refuses.
EXIF_FINDERS: dict[str, Callable[[bytes], "bytes | memoryview | None"]] = {
    JPEG: find_exif_jpeg,
    PNG: find_exif_png,
    WEBP: find_exif_webp,
    TIFF: find_exif_tiff,
    GIF: find_exif_gif,
}


class StripResult(NamedTuple):
    data: bytes
    format: str
    mime_type: str
    removed: tuple[str, ...]  # sorted kinds of metadata found and removed (metadata_kinds)


def _as_bytes(data: bytes) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"expected bytes, got {type(data).__name__}")


def detect_format(data: bytes) -> str:
    """"jpeg", "png", "webp", "tiff" or "gif", from the first bytes."""
    head = _as_bytes(data[:16])
    for name, matches in SIGNATURES:
        if matches(head):
            return name
    if not head:
        raise ImageError("empty input: no image data")
    for name, matches in UNSUPPORTED_SIGNATURES:
        if matches(head):
            raise ImageError(f"unsupported image format: {name}")
    raise ImageError(f"unrecognised data: not a JPEG, PNG, WebP, TIFF or GIF image (starts with {head[:8].hex()})")


def clean(data: bytes, *, keep_copyright: bool = False) -> StripResult:
    """The image without its metadata, and what was removed.

    Orientation (when not 1) survives in a minimal EXIF block, with Copyright and
    Artist too when keep_copyright is set.
    """
    data = _as_bytes(data)
    image_format = detect_format(data)
    stripped = STRIPPERS[image_format](data, keep_copyright)
    return StripResult(stripped.data, image_format, MIME_TYPES[image_format], tuple(sorted(stripped.removed)))


def strip(data: bytes, *, keep_copyright: bool = False) -> bytes:
    return clean(data, keep_copyright=keep_copyright).data


def read_exif(data: bytes) -> dict:
    """The image's EXIF as a JSON-serialisable dict grouped by IFD; {} without EXIF."""
    data = _as_bytes(data)
    image_format = detect_format(data)
    block = EXIF_FINDERS[image_format](data)
    if block is None:
        return {}
    return exif_to_json(read_exif_ifds(tiff_payload(block), f"{image_format.upper()} EXIF"))
