"""Bounded read of the original from the image bucket with the function's own role.

In the function-URL mode nothing hands the function a presigned URL: it reads the
object itself with s3:GetObject on the bucket's objects. The read is bounded three
ways, as the presigned fetch is: socket timeouts in the client, a deadline for the
whole body, and the byte cap checked against ContentLength before reading and again
while reading (the shared bounded reader). Failures become the FetchError subclasses the
one error table already maps, so both modes answer a failure the same way.
"""

from __future__ import annotations

import contextlib
from email.message import Message
from typing import Callable, Iterator, Mapping

from serving.errors import (
    InvalidKeyError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from serving.original import Original, Timeouts, deadline_after, read_bounded
from serving.settings import SettingsError
from serving.streamed import Source, bounded_source

BUCKET_NAME_VARIABLE = "BUCKET_NAME"
# An S3 key is at most 1,024 bytes of UTF-8 (docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
MAX_KEY_BYTES = 1024
# The original's headers the reply may pass on (never its ETag: the bytes differ).
PASSED_HEADERS = ("Cache-Control", "Last-Modified")
# CloudFront waits 60 s for the origin (the templates' OriginReadTimeout) and the function
# runs at most TransformTimeout (60 s): the read takes at most 20 s, leaving time to reply.
READ_TIMEOUTS = Timeouts(socket_seconds=10.0, total_seconds=20.0)
# A streamed read is paced by the viewer: it may take the function's whole 60 s but for a
# margin to end the response.
STREAM_SECONDS = 55.0


def bucket_name(environ: Mapping[str, str]) -> str:
    """The image bucket from BUCKET_NAME; a missing value stops the cold start naming it."""
    name = (environ.get(BUCKET_NAME_VARIABLE) or "").strip()
    if not name:
        msg = f"{BUCKET_NAME_VARIABLE} must name the image bucket; it is not set"
        raise SettingsError(msg)
    return name


def s3_client(timeouts: Timeouts):  # noqa: ANN201 - a botocore S3 client
    """One client per container. Few retries: CloudFront waits for the response.

    A session of its own reads the credentials and endpoint from the environment now,
    not those boto3's default session cached on first use. boto3 is imported here, on the
    first request, not at the cold start.
    """
    import boto3  # noqa: PLC0415 - deferred: see the docstring
    from botocore.config import Config  # noqa: PLC0415

    return boto3.session.Session().client(
        "s3",
        config=Config(
            connect_timeout=timeouts.socket_seconds,
            read_timeout=timeouts.socket_seconds,
            retries={"mode": "standard", "max_attempts": 2},
        ),
    )


def named_key(key: str | None) -> str:
    """The request's key, or InvalidKeyError when its path names no object (any reader's first check)."""
    if key is None:
        msg = "the path is not UTF-8 once percent-decoded"
        raise InvalidKeyError(msg)
    if not key:
        msg = "the path names no object"
        raise InvalidKeyError(msg)
    return key


def _checked_key(key: str | None) -> str:
    key = named_key(key)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        msg = f"the key is longer than S3's {MAX_KEY_BYTES} bytes"
        raise InvalidKeyError(msg)
    return key


def _passed_headers(response: dict) -> Message:
    raw = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})  # lower-case names
    headers = Message()
    for name in PASSED_HEADERS:
        if raw.get(name.lower()):
            headers[name] = raw[name.lower()]
    return headers


def _client_error(error) -> Exception:  # noqa: ANN001 - botocore's ClientError
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code == "NoSuchBucket":
        # The deployment is broken, not the viewer's request: not a 404 for the object.
        return UpstreamUnreachableError(f"the image bucket does not exist ({code})")
    return UpstreamStatusError(status)


@contextlib.contextmanager
def _s3_errors() -> Iterator[None]:
    """botocore's failures as the FetchError subclasses the error table maps."""
    from botocore.exceptions import (  # noqa: PLC0415 - botocore is loaded by the client already
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        ReadTimeoutError,
    )

    try:
        yield
    except ClientError as error:
        raise _client_error(error) from None
    except (ConnectTimeoutError, ReadTimeoutError):
        msg = "no answer from S3 in time"
        raise UpstreamTimeoutError(msg) from None
    except BotoCoreError as error:  # connection failures, a body cut short (IncompleteReadError)
        msg = f"cannot read the original from S3: {type(error).__name__}"
        raise UpstreamUnreachableError(msg) from None
    except OSError as error:
        msg = f"the original's body broke off: {type(error).__name__}"
        raise UpstreamUnreachableError(msg) from None


def read_original(
    s3,  # noqa: ANN001 - a botocore S3 client
    *,
    bucket: str,
    key: str | None,
    max_bytes: int,
    total_seconds: float,
) -> Original:
    """The object's bytes and the headers to pass on, or a FetchError subclass / InvalidKeyError."""
    key = _checked_key(key)
    deadline = deadline_after(total_seconds)
    with _s3_errors():
        response = s3.get_object(Bucket=bucket, Key=key)
        with response["Body"] as body:
            data = read_bounded(body.read, max_bytes=max_bytes, deadline=deadline, declared=response.get("ContentLength"))
    return Original(data, _passed_headers(response))


def open_object(
    s3,  # noqa: ANN001 - a botocore S3 client
    *,
    bucket: str,
    key: str | None,
    total_seconds: float = STREAM_SECONDS,
) -> Source:
    """The object opened for a streamed strip: GetObject's body read a chunk at a time
    (botocore's StreamingBody checks the declared length at its end), and ranged reads of
    the same version (If-Match its ETag), all within one deadline."""
    key = _checked_key(key)
    deadline = deadline_after(total_seconds)
    with _s3_errors():
        response = s3.get_object(Bucket=bucket, Key=key)
    body = response["Body"]
    extra = {"IfMatch": response["ETag"]} if response.get("ETag") else {}

    def read_next(size: int) -> bytes:
        with _s3_errors():
            return body.read(size)

    def read_part(start: int, end: int) -> bytes:
        with _s3_errors():
            part = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}", **extra)
            with part["Body"] as part_body:
                return part_body.read(end - start + 1)

    return bounded_source(
        int(response.get("ContentLength") or 0),
        _passed_headers(response),
        read_next=read_next,
        read_part=read_part,
        close=body.close,
        deadline=deadline,
    )


def bucket_reader(
    s3,  # noqa: ANN001 - a botocore S3 client, or a function making it on first use
    bucket: str,
    *,
    total_seconds: float = READ_TIMEOUTS.total_seconds,
) -> Callable[[str | None, int], Original]:
    """serve()'s read(key, max_bytes) for `bucket`: read_original with these bounds."""

    def read(key: str | None, max_bytes: int) -> Original:
        client = s3() if callable(s3) else s3
        return read_original(client, bucket=bucket, key=key, max_bytes=max_bytes, total_seconds=total_seconds)

    return read


def bucket_opener(s3: Callable[[], object], bucket: str) -> Callable[[str | None], Source]:
    """The streaming server's open(key) for `bucket`; s3() gives the client (made on first use)."""

    def open_key(key: str | None) -> Source:
        return open_object(s3(), bucket=bucket, key=key)

    return open_key


def lazy_client(timeouts: Timeouts) -> Callable[[], object]:
    """s3_client(timeouts), made on the first call and kept for the container's life."""
    made: list = []

    def client() -> object:
        if not made:
            made.append(s3_client(timeouts))
        return made[0]

    return client
