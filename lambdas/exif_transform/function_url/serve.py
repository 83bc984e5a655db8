"""One request in the function-URL mode, from UrlRequest to HttpResponse.

Shared by the buffered handler and the streaming HTTP server, so both serve exactly the
same paths and replies; they differ only in how they measure a response against
Lambda's limit and how they send it.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from serving.errors import ALLOWED_METHODS, MethodNotAllowedError, ResponseTooLargeError
from serving.original import Timeouts
from serving.pipeline import Outcome, failed, respond
from serving.settings import Settings

from .bucket_read import read_original
from .payload_limits import ResponseLimit, check_size
from .render import HttpResponse, render_http
from .request import UrlRequest

# CloudFront waits 60 s for the origin (the templates' OriginReadTimeout) and the function
# runs at most TransformTimeout (60 s): the read takes at most 20 s, leaving time to reply.
READ_TIMEOUTS = Timeouts(socket_seconds=10.0, total_seconds=20.0)


class Served(NamedTuple):
    response: HttpResponse  # the GET's; a HEAD sends it without the body
    outcome: Outcome


def serve(
    request: UrlRequest,
    *,
    s3,  # noqa: ANN001 - a botocore S3 client
    bucket: str,
    settings: Settings,
    limit: ResponseLimit,
    size_of: Callable[[HttpResponse], int],
    timeouts: Timeouts = READ_TIMEOUTS,
) -> Served:
    """The response to `request`; never raises, never the original's bytes."""
    if request.method not in ALLOWED_METHODS:
        outcome = failed(MethodNotAllowedError(request.method))
    else:
        outcome = respond(
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
        )
    response = render_http(outcome.reply)
    try:
        check_size(size_of(response), limit)
    except ResponseTooLargeError as too_large:  # answered as 413, never a cut-short image
        outcome = failed(too_large, outcome.fields)
        response = render_http(outcome.reply)
    return Served(response, outcome)


def log_key(request: UrlRequest) -> str:
    """The key for the log line; the raw path when it names no object."""
    return request.key if request.key is not None else request.raw_path
