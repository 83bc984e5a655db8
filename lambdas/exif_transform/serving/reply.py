"""Reply: what the transform answers to one request, as one value every mode renders its own way.

The S3 Object Lambda mode renders it as WriteGetObjectResponse arguments (GET) or the
JSON a HeadObject transformation returns (olap.render); the function-URL mode as an
HTTP response (function_url.render). Built from the same Reply, HEAD and GET agree.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import NamedTuple

from .byte_range import parse_range

MAX_ERROR_MESSAGE_CHARS = 200
HTTP_OK = 200
HTTP_PARTIAL_CONTENT = 206


class Reply(NamedTuple):
    status: int
    body: bytes | None = None
    content_type: str | None = None
    content_range: str | None = None
    cache_control: str | None = None
    last_modified: str | None = None
    error_code: str | None = None
    error_message: str | None = None


def one_line(text: str) -> str:
    """A header-safe, single-line, bounded version of `text`."""
    printable = "".join(ch if " " <= ch <= "~" else " " for ch in text)
    return " ".join(printable.split())[:MAX_ERROR_MESSAGE_CHARS]


def http_date(value: str | None) -> str | None:
    """`value` if it is an HTTP date, else None (a header S3 never sends malformed)."""
    if not value:
        return None
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return value


def ok_reply(
    body: bytes,
    content_type: str,
    *,
    range_header: str | None,
    cache_control: str | None,
    last_modified: str | None,
) -> Reply:
    """200 with the whole body, or 206 with the requested range of it."""
    common = {
        "content_type": content_type,
        "cache_control": cache_control or None,
        "last_modified": http_date(last_modified),
    }
    byte_range = parse_range(range_header, len(body))
    if byte_range is None:
        return Reply(status=HTTP_OK, body=body, **common)
    return Reply(
        status=HTTP_PARTIAL_CONTENT,
        body=body[byte_range.first : byte_range.last + 1],
        content_range=byte_range.content_range(len(body)),
        **common,
    )
