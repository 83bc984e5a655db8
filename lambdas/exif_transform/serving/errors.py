"""Every failure a request can meet outside the core, as one vocabulary for both modes.

The adapters raise these whatever read the original (a presigned URL, the supporting
access point, the bucket); error_table maps each to a status and an S3 error code.
"""

from __future__ import annotations

ALLOWED_METHODS = ("GET", "HEAD")


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


class RoleReadDeniedError(FetchError):
    """The function's role may not read the original where it looked."""


class InvalidKeyError(Exception):
    """The request's path cannot name an object: empty, too long, or not UTF-8."""


class MethodNotAllowedError(Exception):
    def __init__(self, method: str) -> None:
        super().__init__(f"{method[:20]} is not served; only {' and '.join(ALLOWED_METHODS)}")
        self.method = method


class ResponseTooLargeError(Exception):
    """The reply is larger than the invoke mode can send."""

    def __init__(self, size: int, limit: int, advice: str) -> None:
        super().__init__(f"The response would be {size} bytes, over the {limit}-byte limit; {advice}")
        self.size = size
        self.limit = limit
        self.advice = advice  # fixed text for the operator, the only part a viewer is shown
