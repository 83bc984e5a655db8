"""S3 Object Lambda entry point: parse the event, read the original, respond, render.

GetObject is always answered with WriteGetObjectResponse, failures included, so no caller
waits for the timeout, and never with the original's bytes. HeadObject is answered with
the JSON S3 Object Lambda expects, rendered from the same Reply a GET would send.
"""

from __future__ import annotations

import os
import time

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from botocore.config import Config

from serving.original import Original, Timeouts
from serving.pipeline import Outcome, respond
from serving.request_log import log_request
from serving.settings import Settings, load_settings

from .access_point_read import read_via_access_point
from .event import GET_OBJECT, OlapRequest, UnsupportedEventError, parse_event
from .presigned_fetch import fetch_original
from .render import render_head_object, render_write_get_object_response

# S3 Object Lambda gives the whole response 60 s; the read takes at most half of it.
FETCH_TIMEOUTS = Timeouts(socket_seconds=10.0, total_seconds=30.0)

# Read once per container: a bad value stops the cold start with a message naming it.
SETTINGS = load_settings(os.environ)
# One client per container. Few retries: the output token is single-use and the caller waits.
S3 = boto3.client(
    "s3",
    config=Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 2}),
)
logger = Logger()


def _read_original(request: OlapRequest, settings: Settings) -> Original:
    if request.operation == GET_OBJECT:
        return fetch_original(
            request.input_url,
            headers=request.forward_headers,
            max_bytes=settings.max_input_bytes,
            timeouts=FETCH_TIMEOUTS,
        )
    # HEAD: the presigned URL checks the caller's permission; the bytes come via the role.
    head = fetch_original(
        request.input_url,
        headers=request.forward_headers,
        max_bytes=settings.max_input_bytes,
        timeouts=FETCH_TIMEOUTS,
        method="HEAD",
    )
    data = read_via_access_point(
        S3,
        access_point_arn=request.supporting_access_point_arn,
        key=request.key,
        version_id=request.version_id,
        etag=head.headers.get("ETag"),
        max_bytes=settings.max_input_bytes,
        total_seconds=FETCH_TIMEOUTS.total_seconds,
    )
    return Original(data, head.headers)


def respond_to_event(request: OlapRequest, settings: Settings) -> Outcome:
    """The Outcome of one S3 Object Lambda request: a transformed body, or the error reply."""
    return respond(
        lambda: _read_original(request, settings),
        show_exif=request.show_exif,
        range_header=request.range_header,
        settings=settings,
    )


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
    outcome = respond_to_event(request, SETTINGS)
    if request.operation != GET_OBJECT:
        _log(request, outcome, started)
        return render_head_object(outcome.reply)
    try:
        S3.write_get_object_response(
            **render_write_get_object_response(outcome.reply, route=request.output_route, token=request.output_token)
        )
    except Exception as write_error:
        outcome.fields["write_error"] = type(write_error).__name__
        _log(request, outcome, started)
        raise
    _log(request, outcome, started)
    return {"statusCode": outcome.reply.status}
