"""What the transform answers, as one value each entry point renders its own way.

A GetObject event is answered with WriteGetObjectResponse, a HeadObject event with the
JSON S3 Object Lambda expects; both come from the same Reply, so HEAD and GET agree.
In the function-URL mode http_reply renders the same Reply as an HTTP response.
ERROR_TABLE is the one place that maps a failure to a status and an S3 error code
(FUNCTION_URL_ERROR_TABLE: the same rows and the function-URL mode's own three).
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from typing import Callable, NamedTuple

from access_point_read import RoleReadDeniedError
from bucket_read import InvalidKeyError
from byte_range import RangeNotSatisfiableError, parse_range
from metadata import ImageError
from original_fetch import (
    OriginalTooLargeError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from response_limits import ResponseTooLargeError
from url_request import MethodNotAllowedError

# WriteGetObjectResponse rejects an ErrorCode outside this pattern, and one that comes
# with a 2xx status or a body (API_WriteGetObjectResponse.html, ErrorCode).
ERROR_CODE_PATTERN = re.compile(r"^[A-Z][a-zA-Z]+$")
MAX_ERROR_MESSAGE_CHARS = 200
HTTP_OK = 200
HTTP_PARTIAL_CONTENT = 206
HTTP_NOT_MODIFIED = 304


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


def _upstream_status(error: UpstreamStatusError) -> tuple[int, str | None, str]:
    by_status = {
        404: (404, "NoSuchKey", "The object does not exist"),
        403: (403, "AccessDenied", "Access to the object is denied"),
        # Conditional requests the caller signed are answered as S3 answered them.
        304: (304, None, ""),
        412: (412, "PreconditionFailed", "A precondition of the request does not hold"),
    }
    return by_status.get(error.status, (502, "BadGateway", one_line(str(error))))


ErrorRow = tuple[type[BaseException], Callable[[BaseException], tuple[int, str | None, str]]]

# First matching row wins (ImageError and RangeNotSatisfiableError are ValueErrors).
ERROR_TABLE: tuple[ErrorRow, ...] = (
    (UpstreamStatusError, _upstream_status),
    (OriginalTooLargeError, lambda e: (413, "EntityTooLarge", one_line(str(e)))),
    (ImageError, lambda e: (415, "UnsupportedMediaType", one_line(f"Not a supported image: {e}"))),
    (RangeNotSatisfiableError, lambda e: (416, "InvalidRange", "The requested range is not satisfiable")),
    (UpstreamTimeoutError, lambda e: (504, "GatewayTimeout", one_line(str(e)))),
    (UpstreamUnreachableError, lambda e: (502, "BadGateway", one_line(str(e)))),
    (RoleReadDeniedError, lambda e: (500, "InternalError", "The transform could not read the object")),
)
# The function-URL mode answers the same failures the same way, and three of its own:
# a path that names no object, a method other than GET/HEAD, and an answer larger than
# the invoke mode can send.
FUNCTION_URL_ERROR_TABLE: tuple[ErrorRow, ...] = (
    *ERROR_TABLE,
    (InvalidKeyError, lambda e: (404, "NoSuchKey", "The object does not exist")),
    (MethodNotAllowedError, lambda e: (405, "MethodNotAllowed", one_line(str(e)))),
    (ResponseTooLargeError, lambda e: (413, "EntityTooLarge", one_line(str(e)))),
)
UNEXPECTED_ERROR = (500, "InternalError", "The transform failed")


def error_reply(error: BaseException, table: tuple[ErrorRow, ...] = ERROR_TABLE) -> Reply:
    status, code, message = UNEXPECTED_ERROR
    for error_type, describe in table:
        if isinstance(error, error_type):
            status, code, message = describe(error)
            break
    content_range = None
    if isinstance(error, RangeNotSatisfiableError):
        content_range = f"bytes */{error.size}"
    if code is None:
        return Reply(status=status)
    return Reply(status=status, content_range=content_range, error_code=code, error_message=message or code)


def _http_date(value: str | None) -> str | None:
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
        "last_modified": _http_date(last_modified),
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


def write_get_object_response_args(reply: Reply, *, route: str, token: str) -> dict:
    """Keyword arguments for s3.write_get_object_response."""
    args: dict = {"RequestRoute": route, "RequestToken": token, "StatusCode": reply.status}
    if reply.error_code:
        args["ErrorCode"] = reply.error_code
        args["ErrorMessage"] = reply.error_message
    if reply.body is not None:
        args["Body"] = reply.body
    optional = {
        "ContentType": reply.content_type,
        "ContentRange": reply.content_range,
        "CacheControl": reply.cache_control,
        "LastModified": parsedate_to_datetime(reply.last_modified) if reply.last_modified else None,
    }
    args.update({name: value for name, value in optional.items() if value is not None})
    return args


def head_object_result(reply: Reply) -> dict:
    """The JSON S3 Object Lambda expects from a HeadObject transformation."""
    headers = {"Content-Length": str(len(reply.body) if reply.body is not None else 0)}
    optional = {
        "Content-Type": reply.content_type,
        "Content-Range": reply.content_range,
        "Cache-Control": reply.cache_control,
        "Last-Modified": reply.last_modified,
    }
    headers.update({name: value for name, value in optional.items() if value is not None})
    result: dict = {"statusCode": reply.status, "headers": headers}
    if reply.error_code:
        result["errorCode"] = reply.error_code
        result["errorMessage"] = reply.error_message
    return result
