"""Bounded fetch of the original object from the presigned URL S3 Object Lambda hands over.

Bounded three ways: a timeout on every socket operation, a deadline for the whole
body, and a byte cap checked against Content-Length before reading and again while
reading. The body is streamed into one buffer, so no second copy of it is held.
"""

from __future__ import annotations

import http.client
import io
import time
import urllib.error
import urllib.request
from email.message import Message
from typing import NamedTuple
from urllib.parse import urlsplit

CHUNK_BYTES = 1024 * 1024
_FETCHABLE_SCHEMES = ("https", "http")


class FetchError(Exception):
    """The original could not be read; the subclass says why."""


class UpstreamStatusError(FetchError):
    def __init__(self, status: int) -> None:
        super().__init__(f"reading the original answered HTTP {status}")
        self.status = status


class OriginalTooLargeError(FetchError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the original is larger than {limit} bytes")
        self.limit = limit


class UpstreamTimeoutError(FetchError):
    """No answer, or not the whole body, within the timeouts."""


class UpstreamUnreachableError(FetchError):
    """The connection failed or the body arrived truncated."""


class Timeouts(NamedTuple):
    socket_seconds: float = 10.0
    total_seconds: float = 30.0


class Original(NamedTuple):
    body: bytes
    headers: Message  # case-insensitive get()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A presigned URL that redirects is an upstream failure, not a place to follow."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ARG002
        return None


# No proxy handler: the presigned URL goes straight to S3, never via an HTTP(S)_PROXY.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def _read_bounded(response: http.client.HTTPResponse, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    buffer = io.BytesIO()
    received = 0
    while True:
        if time.monotonic() > deadline:
            msg = "the original's body did not arrive in time"
            raise UpstreamTimeoutError(msg)
        chunk = response.read1(CHUNK_BYTES)
        if not chunk:
            break
        received += len(chunk)
        if received > max_bytes:
            raise OriginalTooLargeError(max_bytes)
        buffer.write(chunk)
    if declared is not None and declared.isdigit() and received != int(declared):
        msg = f"the original's body ended after {received} of {declared} bytes"
        raise UpstreamUnreachableError(msg)
    # getvalue() hands over the buffer's own bytes object: no copy.
    return buffer.getvalue()


def _open(request: urllib.request.Request, timeouts: Timeouts) -> http.client.HTTPResponse:
    try:
        return _OPENER.open(request, timeout=timeouts.socket_seconds)
    except urllib.error.HTTPError as error:
        error.close()
        raise UpstreamStatusError(error.code) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            msg = "no answer from the original's URL in time"
            raise UpstreamTimeoutError(msg) from None
        msg = f"cannot reach the original's URL: {type(error.reason).__name__}"
        raise UpstreamUnreachableError(msg) from None
    except TimeoutError:
        msg = "no answer from the original's URL in time"
        raise UpstreamTimeoutError(msg) from None
    except (OSError, http.client.HTTPException) as error:
        msg = f"cannot read the original's URL: {type(error).__name__}"
        raise UpstreamUnreachableError(msg) from None


def fetch_original(
    url: str,
    *,
    headers: dict[str, str],
    max_bytes: int,
    timeouts: Timeouts = Timeouts(),
    method: str = "GET",
) -> Original:
    """GET (or HEAD) `url`; the body is empty for HEAD. Raises a FetchError subclass."""
    if urlsplit(url).scheme not in _FETCHABLE_SCHEMES:
        msg = "the original's URL is not http(s)"
        raise UpstreamUnreachableError(msg)
    deadline = time.monotonic() + timeouts.total_seconds
    request = urllib.request.Request(url, headers=headers, method=method)
    response = _open(request, timeouts)
    with response:
        if response.status != http.client.OK:
            raise UpstreamStatusError(response.status)
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise OriginalTooLargeError(max_bytes)
        if method == "HEAD":
            return Original(b"", response.headers)
        try:
            body = _read_bounded(response, max_bytes, deadline)
        except TimeoutError:
            msg = "the original's body stalled"
            raise UpstreamTimeoutError(msg) from None
        except (OSError, http.client.HTTPException) as error:
            msg = f"the original's body broke off: {type(error).__name__}"
            raise UpstreamUnreachableError(msg) from None
        return Original(body, response.headers)
