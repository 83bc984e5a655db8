"""A Reply as S3 Object Lambda takes it: WriteGetObjectResponse arguments, or a HeadObject result."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from serving.reply import Reply


def render_write_get_object_response(reply: Reply, *, route: str, token: str) -> dict:
    """Keyword arguments for s3.write_get_object_response."""
    args: dict = {"RequestRoute": route, "RequestToken": token, "StatusCode": reply.status}
    if reply.error_code:
        args["ErrorCode"] = reply.error_code
        args["ErrorMessage"] = reply.error_message
    if reply.body is not None:
        args["Body"] = reply.body
    optional = {
        "ContentType": reply.content_type,
        "ContentRange": reply.content_range,
        "CacheControl": reply.cache_control,
        "LastModified": parsedate_to_datetime(reply.last_modified) if reply.last_modified else None,
    }
    args.update({name: value for name, value in optional.items() if value is not None})
    return args


def render_head_object(reply: Reply, *, length: int | None = None) -> dict:
    """The JSON S3 Object Lambda expects from a HeadObject transformation (`length`: the
    GET's body length when the reply carries no body, a streamed image counted)."""
    if length is None:
        length = len(reply.body) if reply.body is not None else 0
    headers = {"Content-Length": str(length)}
    optional = {
        "Content-Type": reply.content_type,
        "Content-Range": reply.content_range,
        "Cache-Control": reply.cache_control,
        "Last-Modified": reply.last_modified,
    }
    headers.update({name: value for name, value in optional.items() if value is not None})
    head_object: dict = {"statusCode": reply.status, "headers": headers}
    if reply.error_code:
        head_object["errorCode"] = reply.error_code
        head_object["errorMessage"] = reply.error_message
    return head_object
