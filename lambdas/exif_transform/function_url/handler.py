"""Function-URL entry point (InvokeMode BUFFERED): one event in, one HTTP response out.

CloudFront reaches the function URL through Origin Access Control; the event carries
the viewer's path and query (payload format 2.0). The function reads the original from
the image bucket with its own role, responds through the same pipeline as the S3 Object
Lambda mode, and returns the response as JSON with a base64 body. A reply larger
than Lambda's buffered payload limit is a 413 naming the StreamingResponses parameter.
This is the `--buffered` choice; the default streams (server.py).

The S3 client is made by the first request, not at the cold start (it costs about as
much as importing boto3 itself).
"""

from __future__ import annotations

import os
import time

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from serving.request_log import log_request
from serving.settings import load_settings

from .bucket_read import READ_TIMEOUTS, bucket_name, bucket_reader, lazy_client
from .payload_limits import BUFFERED_LIMIT
from .render import buffered_payload_size, render_buffered
from .request import parse_event
from .serve import log_key, serve

# Read once per container: a bad or missing value stops the cold start naming it.
SETTINGS = load_settings(os.environ)
BUCKET = bucket_name(os.environ)
S3 = lazy_client(READ_TIMEOUTS)
logger = Logger()


def make_clients() -> None:
    """What the first request would make; for a caller whose environment is set only now."""
    S3()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
def lambda_handler(event: dict, context: object) -> dict:  # noqa: ARG001
    started = time.perf_counter()
    request = parse_event(event)
    served = serve(
        request,
        read=bucket_reader(S3, BUCKET),
        settings=SETTINGS,
        limit=BUFFERED_LIMIT,
        size_of=buffered_payload_size,
    )
    log_request(
        logger,
        operation=request.method,
        key=log_key(request),
        show_exif=request.show_exif,
        outcome=served.outcome,
        started=started,
    )
    return render_buffered(served.response, head=request.method == "HEAD")
