"""The `Range` request header, applied to the transformed object (RFC 9110, section 14).

S3 Object Lambda hands the caller's Range over untouched and AWS recommends transforming
the whole object, then answering the range. Like S3 itself, only one range is served: a
header with several ranges, another unit or bad syntax is ignored (the whole object, 200),
which RFC 9110 allows. A well-formed range that starts past the end is unsatisfiable (416).
"""

from __future__ import annotations

import re
from typing import NamedTuple

# bytes=first-last | bytes=first- | bytes=-suffix_length
_SINGLE_BYTE_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiableError(ValueError):
    def __init__(self, size: int) -> None:
        super().__init__(f"the range starts past the end of the {size}-byte object")
        self.size = size


class ByteRange(NamedTuple):
    first: int
    last: int  # inclusive

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.first}-{self.last}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range to serve, None for the whole object, or RangeNotSatisfiableError."""
    if not header:
        return None
    match = _SINGLE_BYTE_RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:
        suffix_length = int(last_text)
        if suffix_length == 0 or size == 0:
            raise RangeNotSatisfiableError(size)
        return ByteRange(max(size - suffix_length, 0), size - 1)
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        raise RangeNotSatisfiableError(size)
    last = min(int(last_text), size - 1) if last_text else size - 1
    return ByteRange(first, last)
