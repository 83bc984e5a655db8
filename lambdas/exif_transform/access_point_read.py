"""Read the original through the supporting access point with the function's own role.

Only HEAD needs this: S3 Object Lambda presigns the HEAD event's URL for HeadObject, so
it cannot fetch the bytes, yet the HEAD answer must give the Content-Length of the
stripped image. The caller's own permission is checked first with that presigned HEAD;
this read then pins the object to the ETag the caller was shown (IfMatch), so it reads
nothing the caller could not read through the Object Lambda access point anyway.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    ReadTimeoutError,
)

from original_fetch import (
    FetchError,
    OriginalTooLargeError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)

HTTP_FORBIDDEN = 403


class RoleReadDeniedError(FetchError):
    """The function's role may not read through the supporting access point."""


def read_via_access_point(
    s3,  # noqa: ANN001 - a botocore S3 client
    *,
    access_point_arn: str,
    key: str,
    version_id: str | None,
    etag: str | None,
    max_bytes: int,
) -> bytes:
    """The object's bytes, or a FetchError subclass (as the presigned fetch raises)."""
    params = {"Bucket": access_point_arn, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    if etag:
        params["IfMatch"] = etag
    try:
        response = s3.get_object(**params)
        body = response["Body"]
        with body:
            if response.get("ContentLength", 0) > max_bytes:
                raise OriginalTooLargeError(max_bytes)
            data = body.read(max_bytes + 1)
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
    if len(data) > max_bytes:
        raise OriginalTooLargeError(max_bytes)
    return data
