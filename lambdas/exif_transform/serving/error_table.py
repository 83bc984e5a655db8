"""The one table from a failure to the status, S3 error code and message a viewer gets.

Both modes answer every failure through ERROR_TABLE; a row a mode never raises costs
nothing. The first matching row wins (ImageError and RangeNotSatisfiableError are
ValueErrors). Anything not in the table is a 500 InternalError.

A viewer reads a fixed message per row: it says what failed and never carries the
failure's own text (offsets, byte values, parser details, sizes), which goes to the
request's log line only.
"""

from __future__ import annotations

import re
from typing import Callable

from metadata import ImageError

from .byte_range import RangeNotSatisfiableError
from .errors import (
    InvalidKeyError,
    MethodNotAllowedError,
    OriginalTooLargeError,
    ResponseTooLargeError,
    RoleReadDeniedError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from .reply import Reply

# WriteGetObjectResponse rejects an ErrorCode outside this pattern, and one that comes
# with a 2xx status or a body (API_WriteGetObjectResponse.html, ErrorCode).
ERROR_CODE_PATTERN = re.compile(r"^[A-Z][a-zA-Z]+$")

Description = tuple[int, "str | None", str]  # status, error code (None: no error body), message
ErrorRow = tuple[type[BaseException], Callable[[BaseException], Description]]


def _upstream_status(error: UpstreamStatusError) -> Description:
    by_status = {
        404: (404, "NoSuchKey", "The object does not exist"),
        403: (403, "AccessDenied", "Access to the object is denied"),
        # Conditional requests the caller signed are answered as S3 answered them.
        304: (304, None, ""),
        412: (412, "PreconditionFailed", "A precondition of the request does not hold"),
    }
    return by_status.get(error.status, (502, "BadGateway", "The object could not be read"))


def _too_large_to_send(error: ResponseTooLargeError) -> Description:
    return 413, "EntityTooLarge", f"The response is larger than this deployment can send; {error.advice}"


ERROR_TABLE: tuple[ErrorRow, ...] = (
    (UpstreamStatusError, _upstream_status),
    (OriginalTooLargeError, lambda e: (413, "EntityTooLarge", "The object is larger than the transform accepts")),
    (ImageError, lambda e: (415, "UnsupportedMediaType", "The object is not an image the transform can serve")),
    (RangeNotSatisfiableError, lambda e: (416, "InvalidRange", "The requested range is not satisfiable")),
    (UpstreamTimeoutError, lambda e: (504, "GatewayTimeout", "Reading the object took too long")),
    (UpstreamUnreachableError, lambda e: (502, "BadGateway", "The object could not be read")),
    (RoleReadDeniedError, lambda e: (500, "InternalError", "The transform could not read the object")),
    # The function-URL mode's own: a path that names no object, a method other than
    # GET/HEAD, and a reply larger than the invoke mode can send.
    (InvalidKeyError, lambda e: (404, "NoSuchKey", "The object does not exist")),
    (MethodNotAllowedError, lambda e: (405, "MethodNotAllowed", "Only GET and HEAD are served")),
    (ResponseTooLargeError, _too_large_to_send),
)
UNEXPECTED_ERROR: Description = (500, "InternalError", "The transform failed")


def describe(error: BaseException) -> Description:
    for error_type, description in ERROR_TABLE:
        if isinstance(error, error_type):
            return description(error)
    return UNEXPECTED_ERROR


def error_reply(error: BaseException) -> Reply:
    status, code, message = describe(error)
    if code is None:
        return Reply(status=status)
    content_range = f"bytes */{error.size}" if isinstance(error, RangeNotSatisfiableError) else None
    return Reply(status=status, content_range=content_range, error_code=code, error_message=message or code)
