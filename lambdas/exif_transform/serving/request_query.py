"""What a request asks for beyond its object: the EXIF instead of the image, a byte range.

Both modes read the same two things the same way, from the query's name/value pairs and
the Range header: `showExif=true` (value compared case-insensitively) and a Range
header or, as S3 accepts, a `range` query parameter.
"""

from __future__ import annotations

from typing import Iterable
from urllib.parse import parse_qsl

SHOW_EXIF_PARAMETER = "showExif"
RANGE_PARAMETER = "range"


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    return parse_qsl(raw_query, keep_blank_values=True)


def wants_exif(pairs: Iterable[tuple[str, str]]) -> bool:
    return any(name == SHOW_EXIF_PARAMETER and value.lower() == "true" for name, value in pairs)


def requested_range(range_header: str | None, pairs: Iterable[tuple[str, str]]) -> str | None:
    """The Range header, else a `range` query parameter (name compared case-insensitively)."""
    if range_header:
        return range_header
    return next((value for name, value in pairs if name.lower() == RANGE_PARAMETER), None)
