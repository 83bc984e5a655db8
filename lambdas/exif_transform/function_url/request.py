"""The parts of a request for an object through a function URL, as plain values.

A request reaches the transform two ways in the function-URL mode: as a Lambda event
(payload format 2.0: `rawPath`, `rawQueryString`, lower-case `headers`,
`requestContext.http.method`) or, with streamed responses, as plain HTTP that Lambda
Web Adapter makes of that same event. Both end up as one UrlRequest.

The object key is the raw path percent-decoded once, without its leading `/`. The
CloudFront Function in front encodes the viewer's URI into SigV4's canonical form, so
decoding once gives back the viewer's key; `+` in a path is a plus, not a space.
"""

from __future__ import annotations

import json
from typing import Mapping, NamedTuple
from urllib.parse import unquote

from serving.request_query import query_pairs, requested_range, wants_exif

# Lambda Web Adapter passes the event's requestContext on in this header, as JSON.
REQUEST_CONTEXT_HEADER = "x-amzn-request-context"


class UrlRequest(NamedTuple):
    method: str
    raw_path: str
    key: str | None  # None when the path is not UTF-8 once decoded, so names no object
    show_exif: bool
    range_header: str | None
    request_id: str | None  # the function URL's requestContext.requestId


def object_key(raw_path: str) -> str | None:
    """The key the path names: percent-decoded once, leading `/` dropped; None if not UTF-8."""
    try:
        return unquote(raw_path, errors="strict").removeprefix("/")
    except UnicodeDecodeError:
        return None


def from_http(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    request_id: str | None = None,
) -> UrlRequest:
    """A UrlRequest from HTTP parts; `headers` must have lower-case names."""
    pairs = query_pairs(raw_query)
    return UrlRequest(
        method=method.upper(),
        raw_path=raw_path,
        key=object_key(raw_path),
        show_exif=wants_exif(pairs),
        range_header=requested_range(headers.get("range"), pairs),
        request_id=request_id,
    )


def parse_event(event: Mapping) -> UrlRequest:
    """A UrlRequest from a function-URL event (payload format 2.0)."""
    context = event.get("requestContext") or {}
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    return from_http(
        method=(context.get("http") or {}).get("method") or "",
        raw_path=event.get("rawPath") or "/",
        raw_query=event.get("rawQueryString") or "",
        headers=headers,
        request_id=context.get("requestId"),
    )


def request_id_from_adapter(headers: Mapping[str, str]) -> str | None:
    """The function URL's requestId, from the request context Lambda Web Adapter forwards."""
    try:
        context = json.loads(headers.get(REQUEST_CONTEXT_HEADER) or "{}")
    except ValueError:
        return None
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return request_id if isinstance(request_id, str) else None
