"""Bounded fetch of the original object from the presigned URL S3 Object Lambda hands over.

Bounded three ways: a timeout on every socket operation, and the shared bounded reader's
deadline for the whole body and byte cap (checked against Content-Length before reading
and again while reading).
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from serving.errors import UpstreamStatusError, UpstreamTimeoutError, UpstreamUnreachableError
from serving.original import Original, Timeouts, check_declared_size, deadline_after, read_bounded

# S3 Object Lambda hands over an HTTPS URL, and access to it is HTTPS only (S3 User Guide,
# olap-best-practices.html): any other scheme would send the caller's presigned credentials in clear.
_FETCHABLE_SCHEMES = ("https",)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A presigned URL that redirects is an upstream failure, not a place to follow."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ARG002
        return None


# No proxy handler: the presigned URL goes straight to S3, never via an HTTP(S)_PROXY.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


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


def _declared_length(response: http.client.HTTPResponse) -> int | None:
    declared = response.headers.get("Content-Length")
    return int(declared) if declared is not None and declared.isdigit() else None


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
        msg = "the original's URL is not https"
        raise UpstreamUnreachableError(msg)
    deadline = deadline_after(timeouts.total_seconds)
    request = urllib.request.Request(url, headers=headers, method=method)
    response = _open(request, timeouts)
    with response:
        if response.status != http.client.OK:
            raise UpstreamStatusError(response.status)
        declared = _declared_length(response)
        check_declared_size(declared, max_bytes)
        if method == "HEAD":
            return Original(b"", response.headers)
        try:
            body = read_bounded(response.read1, max_bytes=max_bytes, deadline=deadline, declared=declared)
        except TimeoutError:
            msg = "the original's body stalled"
            raise UpstreamTimeoutError(msg) from None
        except (OSError, http.client.HTTPException) as error:
            msg = f"the original's body broke off: {type(error).__name__}"
            raise UpstreamUnreachableError(msg) from None
        return Original(body, response.headers)
