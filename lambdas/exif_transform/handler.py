"""S3 Object Lambda entry point: parse the event, fetch the original, answer (transform_reply).

GetObject is always answered with WriteGetObjectResponse, failures included, so no caller
waits for the timeout, and never with the original's bytes. HeadObject is answered with
the JSON S3 Object Lambda expects, built from the same reply a GET would send.
"""

from __future__ import annotations

import os
import time

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from botocore.config import Config

import transform_reply
from access_point_read import read_via_access_point
from env_settings import Settings, load_settings
from olap_event import GET_OBJECT, OlapRequest, UnsupportedEventError, parse_event
from original_fetch import Original, Timeouts, fetch_original
from replies import Reply, head_object_result, write_get_object_response_args

# S3 Object Lambda gives the whole response 60 s; the fetch takes at most half of it.
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
    )
    return Original(data, head.headers)


def answer(request: OlapRequest, settings: Settings) -> tuple[Reply, dict, BaseException | None]:
    """The reply for any request: a transformed body, or the error it maps to."""
    return transform_reply.answer(
        lambda: _read_original(request, settings),
        show_exif=request.show_exif,
        range_header=request.range_header,
        settings=settings,
    )


def _log(request: OlapRequest, reply: Reply, fields: dict, error: BaseException | None, started: float) -> None:
    line = {
        "operation": request.operation,
        "key": request.key,
        "status": reply.status,
        "error_code": reply.error_code,
        "show_exif": request.show_exif,
        "content_range": reply.content_range,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        **fields,
    }
    if reply.status >= 500 or "write_error" in fields:
        unexpected = error is not None and reply.error_code == "InternalError"
        logger.error("transform", extra=line, exc_info=error if unexpected else None)
    else:
        logger.info("transform", extra=line)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.S3_OBJECT_LAMBDA)
def lambda_handler(event: dict, context: object) -> dict:  # noqa: ARG001
    started = time.perf_counter()
    try:
        request = parse_event(event)
    except (UnsupportedEventError, KeyError, TypeError) as error:
        logger.error("transform", extra={"status": 501, "error": type(error).__name__})
        return {"statusCode": 501, "errorCode": "NotImplemented", "errorMessage": "Only GetObject and HeadObject"}
    reply, fields, error = answer(request, SETTINGS)
    if request.operation != GET_OBJECT:
        _log(request, reply, fields, error, started)
        return head_object_result(reply)
    try:
        S3.write_get_object_response(
            **write_get_object_response_args(reply, route=request.output_route, token=request.output_token)
        )
    except Exception as write_error:
        fields["write_error"] = type(write_error).__name__
        _log(request, reply, fields, error, started)
        raise
    _log(request, reply, fields, error, started)
    return {"statusCode": reply.status}
