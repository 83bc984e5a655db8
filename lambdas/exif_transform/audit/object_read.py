"""Bounded read of one audited object with the function's own role.

The read is bounded as the transform's are: socket timeouts in the client, a deadline for
the whole body and the byte cap (MAX_INPUT_BYTES), through serving's one bounded reader.
Its failures are sorted by what a Batch Operations task should answer: try again later
(throttling, 5xx, timeouts, a broken connection), the object is gone, or the read is
refused for good (access denied, an archived object, any other 4xx).
"""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from serving.errors import OriginalTooLargeError, UpstreamTimeoutError, UpstreamUnreachableError
from serving.original import Timeouts, deadline_after, read_bounded

# The function runs at most 60 s (stacks/audit.py); the read takes at most 40 of them.
READ_TIMEOUTS = Timeouts(socket_seconds=10.0, total_seconds=40.0)
# S3's answers that mean "not now": throttling and its own failures. Source: S3 API Reference, ErrorResponses
# (SlowDown 503, ServiceUnavailable 503, InternalError 500, RequestTimeout 400) and the SDKs' retry guide.
RETRY_LATER_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling", "ThrottlingException"}
)
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404"})
SERVER_ERROR = 500
TOO_MANY_REQUESTS = 429
FORBIDDEN = 403


class ReadFailed(Exception):
    """The object could not be read; the subclass says what the task should answer."""


class RetryLater(ReadFailed):
    """A passing failure: Batch Operations may run the task again."""


class ObjectMissing(ReadFailed):
    """The manifest names an object (or version) that no longer exists."""


class ReadRefused(ReadFailed):
    """S3 will not give this object to the function, and asking again will not change that."""


class ObjectTooLarge(ReadFailed):
    """Over the transform's cap: a viewer would get 413, so the audit reports it refused."""

    def __init__(self, limit: int, size: int | None) -> None:
        super().__init__(f"the original is larger than {limit} bytes")
        self.size = size


def s3_client(timeouts: Timeouts = READ_TIMEOUTS):  # noqa: ANN201 - a botocore S3 client
    """One client per container; its own session reads credentials and endpoint from the environment now."""
    return boto3.session.Session().client(
        "s3",
        config=Config(
            connect_timeout=timeouts.socket_seconds,
            read_timeout=timeouts.socket_seconds,
            retries={"mode": "standard", "max_attempts": 3},
        ),
    )


def _client_error(error: ClientError) -> ReadFailed:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in RETRY_LATER_CODES or status >= SERVER_ERROR or status == TOO_MANY_REQUESTS:
        return RetryLater(f"S3 answered {code or status}; try again later")
    if code in MISSING_CODES:
        return ObjectMissing("the object no longer exists")
    if code == "AccessDenied" or (not code and status == FORBIDDEN):
        return ReadRefused("the audit function may not read this object (AccessDenied)")
    return ReadRefused(f"S3 refused the read ({code or status})")


def read_object(
    s3,  # noqa: ANN001 - a botocore S3 client
    *,
    bucket: str,
    key: str,
    version_id: str | None,
    max_bytes: int,
    timeouts: Timeouts = READ_TIMEOUTS,
) -> bytes:
    """The object's bytes, within the cap (OriginalTooLargeError past it) and the deadline; ReadFailed otherwise."""
    deadline = deadline_after(timeouts.total_seconds)
    arguments = {"Bucket": bucket, "Key": key}
    if version_id:
        arguments["VersionId"] = version_id
    declared = None
    try:
        response = s3.get_object(**arguments)
        declared = response.get("ContentLength")
        with response["Body"] as body:
            return read_bounded(body.read, max_bytes=max_bytes, deadline=deadline, declared=declared)
    except OriginalTooLargeError:
        raise ObjectTooLarge(max_bytes, declared) from None
    except (UpstreamTimeoutError, UpstreamUnreachableError) as error:
        raise RetryLater(str(error)) from None
    except ClientError as error:
        raise _client_error(error) from None
    except (ConnectTimeoutError, ReadTimeoutError):
        raise RetryLater("no answer from S3 in time") from None
    except BotoCoreError as error:  # connection failures, a body cut short
        raise RetryLater(f"cannot read the object from S3: {type(error).__name__}") from None
    except OSError as error:
        raise RetryLater(f"the object's body broke off: {type(error).__name__}") from None
