"""EXIF as ImageMagick writes it into PNG text chunks ("Raw profile type exif").

Layout of the chunk's text (ImageMagick, coders/png.c):
    "\n" <profile name> "\n" <length in decimal, right-aligned in 8 characters> "\n"
    <the profile's bytes as hex digits, 72 to a line>

The profile is the EXIF block, usually with its "Exif\0\0" prefix. Browsers never
read it (so the strip keeps no orientation from it); read_exif shows it when the
image has no eXIf chunk.
"""

from __future__ import annotations

import re

from .inflate import inflate
from .limits import MAX_RAW_PROFILE_TEXT

RAW_EXIF_KEYWORDS = (b"Raw profile type exif", b"Raw profile type APP1")
_HEADER = re.compile(rb"\A\s*[A-Za-z0-9 ._-]{1,64}\n\s*(\d{1,10})\n")
_WHITESPACE = b" \t\r\n"


def decode_raw_profile(text: bytes) -> bytes | None:
    """The profile's bytes, or None when the text is not a raw profile."""
    header = _HEADER.match(text)
    if header is None:
        return None
    length = int(header.group(1))
    digits = text[header.end() :].translate(None, _WHITESPACE)
    if length == 0 or len(digits) < 2 * length:
        return None
    try:
        return bytes.fromhex(digits[: 2 * length].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None


# Text chunk layouts (PNG 3rd edition, 11.3.3):
#   tEXt  keyword 00 text
#   zTXt  keyword 00 method(1) zlib(text)
#   iTXt  keyword 00 compressed(1) method(1) language 00 translated-keyword 00 text (zlib if compressed)
def text_of_chunk(name: bytes, data: bytes | memoryview) -> bytes | None:
    """The text of a tEXt, zTXt or iTXt chunk, inflated with a bound; None if it cannot be read."""
    data = bytes(data)
    keyword_end = data.find(b"\x00")
    if keyword_end < 0:
        return None
    rest = data[keyword_end + 1 :]
    if name == b"tEXt":
        return rest[:MAX_RAW_PROFILE_TEXT]
    if name == b"zTXt":
        return inflate(rest[1:], MAX_RAW_PROFILE_TEXT) if rest[:1] == b"\x00" else None
    if name == b"iTXt" and len(rest) >= 2:
        compressed, method = rest[0], rest[1]
        parts = rest[2:].split(b"\x00", 2)
        if len(parts) != 3:
            return None
        text = parts[2]
        if not compressed:
            return text[:MAX_RAW_PROFILE_TEXT]
        return inflate(text, MAX_RAW_PROFILE_TEXT) if method == 0 else None
    return None


def keyword_of_chunk(data: bytes | memoryview, max_keyword: int) -> bytes:
    return bytes(data[: max_keyword + 1]).split(b"\x00", 1)[0]
