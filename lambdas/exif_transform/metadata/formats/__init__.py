"""One module per image format, each following formats.contract; FORMATS in the order tried."""

from __future__ import annotations

from . import gif, heif, jpeg, jxl, png, tiff, webp
from .contract import Format

FORMATS: tuple[Format, ...] = (jpeg.FORMAT, png.FORMAT, webp.FORMAT, tiff.FORMAT, gif.FORMAT, heif.FORMAT, jxl.FORMAT)
