"""S3 Object Lambda entry point: parse the event, read the original, respond, render.

GetObject is always answered with WriteGetObjectResponse, failures included, so no caller
waits for the timeout, and never with the original's bytes. The image is stripped as it
is read from the presigned URL and WriteGetObjectResponse's Body is streamed with it
(serving/streamed.py): chunked transfer coding, no Content-Length, unsigned payload, as
AWS's user guide shows for a transformation whose length is not known in advance
("Writing Lambda functions for S3 Object Lambda access points", example 3). A failure
after the first byte makes the Body's read raise, so the WriteGetObjectResponse request
fails and the caller gets a truncated response, never a complete-looking image.
A held format's length is known before its first byte and is sent as Content-Length.
HeadObject is answered with the JSON S3 Object Lambda expects: the same headers, and the
stripped image's length, counted by stripping it the same way (read through the
supporting access point with the function's role).

The S3 client is made by the first request, not at the cold start (it costs about as
much as importing boto3).
"""

from __future__ import annotations

import os
import time
from typing import Iterator

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from serving.original import Timeouts
from serving.pipeline import Outcome, failed
from serving.request_log import log_request
from serving.settings import Settings, load_settings
from serving.streamed import Source, StreamCut, Streamed, respond_streamed

from .access_point_read import open_via_access_point
from .event import GET_OBJECT, OlapRequest, UnsupportedEventError, parse_event
from .presigned_fetch import fetch_original
from .presigned_stream import open_presigned
from .render import render_head_object, render_write_get_object_response

# S3 Object Lambda gives the whole response 60 s; a buffered read takes at most half of it.
FETCH_TIMEOUTS = Timeouts(socket_seconds=10.0, total_seconds=30.0)
# A streamed read is paced by the caller: the whole 60 s but for a margin to end it.
STREAM_TIMEOUTS = Timeouts(socket_seconds=10.0, total_seconds=55.0)
NO_CAP = 1 << 62

# Read once per container: a bad value stops the cold start with a message naming it.
SETTINGS = load_settings(os.environ)
_clients: list = []
logger = Logger()


def s3_client():  # noqa: ANN201 - a botocore S3 client
    """One client per container, made on first use. Few retries: the output token is
    single-use and the caller waits. Payload signing off, so a streamed Body is sent as
    UNSIGNED-PAYLOAD, never read twice for a hash."""
    if not _clients:
        import boto3  # noqa: PLC0415 - deferred to the first request (see the module's note)
        from botocore.config import Config  # noqa: PLC0415

        client = boto3.session.Session().client(
            "s3",
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"mode": "standard", "max_attempts": 2},
                s3={"payload_signing_enabled": False},
            ),
        )
        client.meta.events.register("before-sign.s3.WriteGetObjectResponse", _chunked_when_unknown)
        _clients.append(client)
    return _clients[0]


def make_clients() -> None:
    """What the first request would make; for a caller whose environment is set only now."""
    s3_client()


def _chunked_when_unknown(request, **_kwargs) -> None:  # noqa: ANN001 - botocore's AWSRequest
    """A Body of unknown length goes as chunked transfer coding (botocore sends no length)."""
    if "Content-Length" not in request.headers and request.body is not None and not isinstance(request.body, bytes):
        request.headers["Transfer-Encoding"] = "chunked"


class _BodyReader:
    """WriteGetObjectResponse's Body: the streamed chunks behind read(n)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def read(self, size: int = -1) -> bytes:
        while not self._pending:
            chunk = next(self._chunks, None)  # StreamCut propagates: botocore aborts the request
            if chunk is None:
                return b""
            self._pending = memoryview(chunk)
        if size is None or size < 0:
            size = len(self._pending)
        piece, self._pending = self._pending[:size], self._pending[size:]
        return bytes(piece)


def _open_for_head(request: OlapRequest) -> Source:
    """HEAD: the presigned URL checks the caller's permission; the bytes come via the role,
    pinned to the ETag the caller was shown."""
    head = fetch_original(
        request.input_url,
        headers=request.forward_headers,
        max_bytes=NO_CAP,  # the cap, where one applies, is the strip's (a format held whole)
        timeouts=FETCH_TIMEOUTS,
        method="HEAD",
    )
    return open_via_access_point(
        s3_client(),
        access_point_arn=request.supporting_access_point_arn,
        key=request.key,
        version_id=request.version_id,
        etag=head.headers.get("ETag"),
        headers=head.headers,
        total_seconds=STREAM_TIMEOUTS.total_seconds,
    )


def respond_to_event(request: OlapRequest, settings: Settings) -> Outcome | Streamed:
    """The streamed answer, or the Outcome when it is an error or bounded (showExif, Range)."""
    if request.operation == GET_OBJECT:
        def open_source() -> Source:
            return open_presigned(request.input_url, headers=request.forward_headers, timeouts=STREAM_TIMEOUTS)
    else:
        def open_source() -> Source:
            return _open_for_head(request)
    return respond_streamed(
        open_source,
        show_exif=request.show_exif,
        range_header=request.range_header,
        settings=settings,
        limit=None,
    )


def _head_object(answer: Outcome | Streamed) -> tuple[dict, Outcome]:
    """HeadObject's JSON: a streamed image is stripped whole, counting, for its length."""
    if not isinstance(answer, Streamed):
        return render_head_object(answer.reply), answer
    try:
        length = sum(len(chunk) for chunk in answer.chunks())
    except StreamCut:
        outcome = failed(answer.error, answer.fields)
        return render_head_object(outcome.reply), outcome
    return render_head_object(answer.reply, length=length), answer.outcome()


def _log(request: OlapRequest, outcome: Outcome, started: float) -> None:
    log_request(
        logger,
        operation=request.operation,
        key=request.key,
        show_exif=request.show_exif,
        outcome=outcome,
        started=started,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.S3_OBJECT_LAMBDA)
def lambda_handler(event: dict, context: object) -> dict:  # noqa: ARG001
    started = time.perf_counter()
    try:
        request = parse_event(event)
    except (UnsupportedEventError, KeyError, TypeError) as error:
        logger.error("transform", extra={"status": 501, "error": type(error).__name__})
        return {"statusCode": 501, "errorCode": "NotImplemented", "errorMessage": "Only GetObject and HeadObject"}
    answer = respond_to_event(request, SETTINGS)
    if request.operation != GET_OBJECT:
        head_object, outcome = _head_object(answer)
        _log(request, outcome, started)
        return head_object
    args = render_write_get_object_response(answer.reply, route=request.output_route, token=request.output_token)
    if isinstance(answer, Streamed):
        args["Body"] = _BodyReader(answer.chunks())
        if answer.length is not None:
            args["ContentLength"] = answer.length
    try:
        s3_client().write_get_object_response(**args)
    except Exception as write_error:
        outcome = answer.outcome() if isinstance(answer, Streamed) else answer
        outcome.fields["write_error"] = type(write_error).__name__
        _log(request, outcome, started)
        raise
    outcome = answer.outcome() if isinstance(answer, Streamed) else answer
    _log(request, outcome, started)
    return {"statusCode": outcome.reply.status}
