"""One request in the function-URL mode, from UrlRequest to HttpResponse and its log line.

Shared by the buffered handler (url_handler) and the streaming HTTP server (url_server),
so both serve exactly the same paths and answers; they differ only in how they measure
a response against Lambda's limit and how they send it.
"""

from __future__ import annotations

import time
from typing import Callable, NamedTuple

import transform_reply
from bucket_read import read_original
from env_settings import Settings
from http_reply import HttpResponse, http_response
from original_fetch import Timeouts
from replies import FUNCTION_URL_ERROR_TABLE, Reply, error_reply, one_line
from response_limits import ResponseLimit, ResponseTooLargeError, check_size
from url_request import ALLOWED_METHODS, MethodNotAllowedError, UrlRequest

# CloudFront waits 60 s for the origin (the templates' OriginReadTimeout) and the function
# runs at most TransformTimeout (60 s): the read takes at most 20 s, leaving time to answer.
READ_TIMEOUTS = Timeouts(socket_seconds=10.0, total_seconds=20.0)


class Outcome(NamedTuple):
    response: HttpResponse  # the GET's; a HEAD sends it without the body
    reply: Reply
    fields: dict  # what the log line says beyond the request itself
    error: BaseException | None


def _failed(error: BaseException, fields: dict) -> tuple[Reply, dict, BaseException]:
    fields["error"] = f"{type(error).__name__}: {one_line(str(error))}"
    return error_reply(error, FUNCTION_URL_ERROR_TABLE), fields, error


def respond(
    request: UrlRequest,
    *,
    s3,  # noqa: ANN001 - a botocore S3 client
    bucket: str,
    settings: Settings,
    limit: ResponseLimit,
    size_of: Callable[[HttpResponse], int],
    timeouts: Timeouts = READ_TIMEOUTS,
) -> Outcome:
    """The answer to `request`; never raises, never the original's bytes."""
    if request.method not in ALLOWED_METHODS:
        reply, fields, error = _failed(MethodNotAllowedError(request.method), {})
    else:
        reply, fields, error = transform_reply.answer(
            lambda: read_original(
                s3,
                bucket=bucket,
                key=request.key,
                max_bytes=settings.max_input_bytes,
                total_seconds=timeouts.total_seconds,
            ),
            show_exif=request.show_exif,
            range_header=request.range_header,
            settings=settings,
            error_table=FUNCTION_URL_ERROR_TABLE,
        )
    response = http_response(reply)
    try:
        check_size(size_of(response), limit)
    except ResponseTooLargeError as too_large:  # answered as 413, never a cut-short image
        reply, fields, error = _failed(too_large, fields)
        response = http_response(reply)
    return Outcome(response, reply, fields, error)


def log_request(logger, request: UrlRequest, outcome: Outcome, started: float, **extra: object) -> None:  # noqa: ANN001
    """The one log line per request: no image bytes, no EXIF values, no credentials."""
    reply = outcome.reply
    line = {
        "operation": request.method[:10],
        "key": request.key if request.key is not None else request.raw_path,
        "status": reply.status,
        "error_code": reply.error_code,
        "show_exif": request.show_exif,
        "content_range": reply.content_range,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        **outcome.fields,
        **extra,
    }
    if reply.status >= 500 or "write_error" in line:  # noqa: PLR2004 - server-side failures
        unexpected = outcome.error is not None and reply.error_code == "InternalError"
        logger.error("transform", extra=line, exc_info=outcome.error if unexpected else None)
    else:
        logger.info("transform", extra=line)
