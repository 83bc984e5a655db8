"""Read the original through the supporting access point with the function's own role.

Only HEAD needs this: S3 Object Lambda presigns the HEAD event's URL for HeadObject, so
it cannot fetch the bytes, yet the HEAD reply must give the Content-Length of the
stripped image. The caller's own permission is checked first with that presigned HEAD;
this read then pins the object to the ETag the caller was shown (IfMatch), so it reads
nothing the caller could not read through the Object Lambda access point anyway.
"""

from __future__ import annotations

import contextlib
from email.message import Message
from typing import Iterator

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from serving.errors import (
    RoleReadDeniedError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from serving.original import deadline_after, read_bounded
from serving.streamed import Source, bounded_source

HTTP_FORBIDDEN = 403


def _get_object_params(access_point_arn: str, key: str, version_id: str | None, etag: str | None) -> dict:
    """GetObject through the supporting access point, of the version and ETag the caller was shown."""
    params = {"Bucket": access_point_arn, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    if etag:
        params["IfMatch"] = etag
    return params


def read_via_access_point(
    s3,  # noqa: ANN001 - a botocore S3 client
    *,
    access_point_arn: str,
    key: str,
    version_id: str | None,
    etag: str | None,
    max_bytes: int,
    total_seconds: float,
) -> bytes:
    """The object's bytes, or a FetchError subclass (as the presigned fetch raises)."""
    params = _get_object_params(access_point_arn, key, version_id, etag)
    deadline = deadline_after(total_seconds)
    with _errors():
        response = s3.get_object(**params)
        with response["Body"] as body:
            return read_bounded(body.read, max_bytes=max_bytes, deadline=deadline, declared=response.get("ContentLength"))


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """botocore's failures as the FetchError subclasses the error table maps."""
    try:
        yield
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status == HTTP_FORBIDDEN:
            msg = "the function's role may not read the original"
            raise RoleReadDeniedError(msg) from None
        raise UpstreamStatusError(status) from None
    except (ConnectTimeoutError, ReadTimeoutError):
        msg = "no answer from the supporting access point in time"
        raise UpstreamTimeoutError(msg) from None
    except BotoCoreError as error:
        msg = f"cannot read through the supporting access point: {type(error).__name__}"
        raise UpstreamUnreachableError(msg) from None


def open_via_access_point(
    s3,  # noqa: ANN001 - a botocore S3 client
    *,
    access_point_arn: str,
    key: str,
    version_id: str | None,
    etag: str | None,
    headers: Message,
    total_seconds: float,
) -> Source:
    """The object opened for a streamed strip (HEAD counts the stripped bytes this way):
    the body read a chunk at a time, ranged reads of the same version, one deadline."""
    params = _get_object_params(access_point_arn, key, version_id, etag)
    deadline = deadline_after(total_seconds)
    with _errors():
        response = s3.get_object(**params)
    body = response["Body"]

    def read_next(size: int) -> bytes:
        with _errors():
            return body.read(size)

    def read_part(start: int, end: int) -> bytes:
        with _errors():
            part = s3.get_object(**params, Range=f"bytes={start}-{end - 1}")
            with part["Body"] as part_body:
                return part_body.read(end - start + 1)

    return bounded_source(
        int(response.get("ContentLength") or 0),
        headers,
        read_next=read_next,
        read_part=read_part,
        close=body.close,
        deadline=deadline,
    )
