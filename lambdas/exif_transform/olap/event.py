"""The parts of an S3 Object Lambda event the transform acts on, as plain values.

GetObject events carry `getObjectContext` (presigned URL, output route and token);
HeadObject events carry `headObjectContext` (a presigned URL for HeadObject only).
Powertools' S3ObjectLambdaEvent models the GetObject shape; the HeadObject context is
read through its raw mapping.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from aws_lambda_powertools.utilities.data_classes.s3_object_event import S3ObjectLambdaEvent

from serving.request_query import query_pairs, requested_range, wants_exif

GET_OBJECT = "GetObject"
HEAD_OBJECT = "HeadObject"
# The presigned URL names the headers it was signed with; they must be sent with it.
SIGNED_HEADERS_PARAMETER = "x-amz-signedheaders"


class UnsupportedEventError(ValueError):
    """The event is neither a GetObject nor a HeadObject S3 Object Lambda event."""


class OlapRequest(NamedTuple):
    operation: str
    input_url: str
    key: str
    version_id: str | None
    show_exif: bool
    range_header: str | None
    forward_headers: dict[str, str]
    output_route: str | None = None
    output_token: str | None = None
    supporting_access_point_arn: str | None = None


def _object_path(url: str) -> tuple[str, str | None]:
    """The object key (the presigned URL's path, percent-decoded once) and its versionId."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return unquote(parts.path.lstrip("/")), query.get("versionId")


def user_query(user_url: str, key: str) -> str:
    """The query of the caller's URL.

    `userRequest.url` arrives percent-decoded, so a key holding `?` would make a naive
    split read part of the key as query; the key is known, so skip past it first.
    """
    parts = urlsplit(user_url)
    path_start = user_url.find("/", len(parts.scheme) + 3) if parts.scheme else 0
    after_path = user_url[path_start + 1 :] if path_start >= 0 else ""
    if key and after_path.startswith(key):
        rest = after_path[len(key) :]
        return rest[1:] if rest.startswith("?") else ""
    return parts.query


def signed_headers_to_forward(presigned_url: str, user_headers: Mapping[str, str]) -> dict[str, str]:
    """The caller's headers that the presigned URL was signed with, Host excepted.

    `user_headers` must match names case-insensitively (they keep the caller's case).
    """
    query = {name.lower(): value for name, value in parse_qsl(urlsplit(presigned_url).query)}
    names = [name for name in query.get(SIGNED_HEADERS_PARAMETER, "").lower().split(";") if name]
    return {name: user_headers[name] for name in names if name != "host" and name in user_headers}


def parse_event(event: dict) -> OlapRequest:
    wrapped = S3ObjectLambdaEvent(event)
    head_context = wrapped.get("headObjectContext")
    if wrapped.get("getObjectContext"):
        operation, input_url = GET_OBJECT, wrapped.input_s3_url
    elif head_context:
        operation, input_url = HEAD_OBJECT, head_context["inputS3Url"]
    else:
        msg = "event has neither getObjectContext nor headObjectContext"
        raise UnsupportedEventError(msg)
    user_headers = wrapped.user_request.headers
    key, version_id = _object_path(input_url)
    pairs = query_pairs(user_query(wrapped.user_request.url, key))
    configuration = wrapped.get("configuration") or {}
    return OlapRequest(
        operation=operation,
        input_url=input_url,
        key=key,
        version_id=version_id,
        show_exif=wants_exif(pairs),
        range_header=requested_range(user_headers.get("Range"), pairs),
        forward_headers=signed_headers_to_forward(input_url, user_headers),
        output_route=wrapped.request_route if operation == GET_OBJECT else None,
        output_token=wrapped.request_token if operation == GET_OBJECT else None,
        supporting_access_point_arn=configuration.get("supportingAccessPointArn"),
    )
