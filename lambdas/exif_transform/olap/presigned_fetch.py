"""Bounded fetch of the original object from the presigned URL S3 Object Lambda hands over.

Bounded three ways: a timeout on every socket operation, and the shared bounded reader's
deadline for the whole body and byte cap (checked against Content-Length before reading
and again while reading).
"""

from __future__ import annotations

import http.client
import urllib.request

from serving.errors import UpstreamStatusError
from serving.original import Original, Timeouts, check_declared_size, deadline_after, read_bounded

from .presigned_url import check_fetchable, declared_length, open_url, read_body


def fetch_original(
    url: str,
    *,
    headers: dict[str, str],
    max_bytes: int,
    timeouts: Timeouts = Timeouts(),
    method: str = "GET",
) -> Original:
    """GET (or HEAD) `url`; the body is empty for HEAD. Raises a FetchError subclass."""
    check_fetchable(url)
    deadline = deadline_after(timeouts.total_seconds)
    request = urllib.request.Request(url, headers=headers, method=method)
    response = open_url(request, timeouts)
    with response:
        if response.status != http.client.OK:
            raise UpstreamStatusError(response.status)
        declared = declared_length(response)
        check_declared_size(declared, max_bytes)
        if method == "HEAD":
            return Original(b"", response.headers)
        body = read_bounded(
            lambda size: read_body(response, size), max_bytes=max_bytes, deadline=deadline, declared=declared
        )
        return Original(body, response.headers)
