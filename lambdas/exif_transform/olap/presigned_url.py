"""What the buffered and the streamed fetch share: the presigned URL's scheme check and how it is opened.

Opened without proxies or redirects, each socket operation bounded by Timeouts.socket_seconds; every failure
becomes a FetchError subclass naming what went wrong, never the URL (it carries credentials).
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from serving.errors import UpstreamStatusError, UpstreamTimeoutError, UpstreamUnreachableError
from serving.original import Timeouts

# S3 Object Lambda hands over an HTTPS URL, and access to it is HTTPS only (S3 User Guide,
# olap-best-practices.html): any other scheme would send the caller's presigned credentials in clear.
FETCHABLE_SCHEMES = ("https",)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A presigned URL that redirects is an upstream failure, not a place to follow."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ARG002
        return None


# No proxy handler: the presigned URL goes straight to S3, never via an HTTP(S)_PROXY.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def check_fetchable(url: str) -> None:
    if urlsplit(url).scheme not in FETCHABLE_SCHEMES:
        msg = "the original's URL is not https"
        raise UpstreamUnreachableError(msg)


def open_url(request: urllib.request.Request, timeouts: Timeouts) -> http.client.HTTPResponse:
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


def declared_length(response: http.client.HTTPResponse) -> int | None:
    """The response's Content-Length, or None when it is missing or not a plain number."""
    declared = response.headers.get("Content-Length")
    return int(declared) if declared is not None and declared.isdigit() else None


def read_body(response: http.client.HTTPResponse, size: int) -> bytes:
    """Up to `size` bytes of the body, as they arrive (b"" at its end); a stall or a break as a FetchError."""
    try:
        return response.read1(size)
    except TimeoutError:
        msg = "the original's body stalled"
        raise UpstreamTimeoutError(msg) from None
    except (OSError, http.client.HTTPException) as error:
        msg = f"the original's body broke off: {type(error).__name__}"
        raise UpstreamUnreachableError(msg) from None
