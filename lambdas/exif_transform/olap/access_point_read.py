"""Read the original through the supporting access point with the function's own role.

Only HEAD needs this: S3 Object Lambda presigns the HEAD event's URL for HeadObject, so
it cannot fetch the bytes, yet the HEAD reply must give the Content-Length of the
stripped image. The caller's own permission is checked first with that presigned HEAD;
this read then pins the object to the ETag the caller was shown (IfMatch), so it reads
nothing the caller could not read through the Object Lambda access point anyway.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from serving.errors import RoleReadDeniedError, UpstreamStatusError, UpstreamTimeoutError, UpstreamUnreachableError
from serving.original import deadline_after, read_bounded

HTTP_FORBIDDEN = 403


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
    params = {"Bucket": access_point_arn, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    if etag:
        params["IfMatch"] = etag
    deadline = deadline_after(total_seconds)
    try:
        response = s3.get_object(**params)
        with response["Body"] as body:
            return read_bounded(body.read, max_bytes=max_bytes, deadline=deadline, declared=response.get("ContentLength"))
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
