"""One request in the function-URL mode, from UrlRequest to HttpResponse.

Shared by the buffered handler and the streaming HTTP server, so both serve exactly the
same paths and replies; they differ only in how they measure a response against
Lambda's limit and how they send it. Where the original comes from is a parameter: the
image bucket (bucket_read.bucket_reader) when deployed, a local folder or any bucket for
`anon-s3ol serve`.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from serving.errors import ALLOWED_METHODS, MethodNotAllowedError, ResponseTooLargeError
from serving.original import Original
from serving.pipeline import Outcome, failed, respond
from serving.settings import Settings

from .payload_limits import ResponseLimit, check_size
from .render import HttpResponse, render_http
from .request import UrlRequest

# read(key, max_bytes): the original the request's key names (key None: the path is not
# UTF-8), at most max_bytes long; failures raise serving.errors' FetchError subclasses or
# InvalidKeyError, which the error table answers.
ReadOriginal = Callable[[str | None, int], Original]


class Served(NamedTuple):
    response: HttpResponse  # the GET's; a HEAD sends it without the body
    outcome: Outcome


def serve(
    request: UrlRequest,
    *,
    read: ReadOriginal,
    settings: Settings,
    limit: ResponseLimit,
    size_of: Callable[[HttpResponse], int],
) -> Served:
    """The response to `request`; never raises, never the original's bytes."""
    if request.method not in ALLOWED_METHODS:
        outcome = failed(MethodNotAllowedError(request.method))
    else:
        outcome = respond(
            lambda: read(request.key, settings.max_input_bytes),
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
