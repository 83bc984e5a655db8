"""How large a response Lambda lets the function-URL entry points send, and the error past it.

Buffered (InvokeMode BUFFERED): the handler's whole return value, the JSON with the
base64 body, counts against the synchronous payload quota. Streamed (RESPONSE_STREAM,
through Lambda Web Adapter): only the streamed body does, against a larger quota.
A reply past either limit is replaced by 413, never cut short.
"""

from __future__ import annotations

from typing import NamedTuple

from serving.errors import ResponseTooLargeError

# "Invocation payload (request and response): 6 MB each for synchronous" - 6 MiB:
# docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html;
# BUFFERED "maximum payload size is 6 MB": docs.aws.amazon.com/lambda/latest/dg/config-rs-invoke-furls.html
LAMBDA_BUFFERED_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
# RESPONSE_STREAM "maximum response payload size is 200 MB" (raised from 20 MB on 2025-07-31):
# docs.aws.amazon.com/lambda/latest/dg/config-rs-invoke-furls.html
LAMBDA_STREAMED_RESPONSE_LIMIT_BYTES = 200 * 1024 * 1024
# The template parameter that switches a deployment to streamed responses.
STREAMING_PARAMETER = "StreamingResponses"


class ResponseLimit(NamedTuple):
    """The most an entry point may send, measured its own way (see render)."""

    max_bytes: int
    advice: str  # what the 413 message tells the operator to do


BUFFERED_LIMIT = ResponseLimit(
    LAMBDA_BUFFERED_RESPONSE_LIMIT_BYTES,
    f"deploy with {STREAMING_PARAMETER}=true to serve it",
)
STREAMED_LIMIT = ResponseLimit(
    LAMBDA_STREAMED_RESPONSE_LIMIT_BYTES,
    "no Lambda response can be larger",
)


def check_size(size: int, limit: ResponseLimit) -> None:
    if size > limit.max_bytes:
        raise ResponseTooLargeError(size, limit.max_bytes, limit.advice)
