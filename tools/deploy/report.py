"""What deploy.sh says: its errors, each one line on stderr starting with `deploy.sh:`."""

from __future__ import annotations

import sys

from botocore.exceptions import ClientError

PROG = "deploy.sh"

# Error codes AWS answers when a caller sends too many requests (botocore has retried them already).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
    }
)
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403"})


class DeployError(Exception):
    """A check or a step failed: exit 1 with this message."""


class UsageError(Exception):
    """A command line that cannot be read: exit 2 with this message and the usage."""

    def __init__(self, message: str, usage: str = "") -> None:
        super().__init__(message)
        self.usage = usage


def err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def one_line(text: str) -> str:
    return " ".join(text.split())


def describe(error: ClientError) -> str:
    """`Code: message`, on one line, with what to do for throttling or a denial."""
    code, message = error_code(error), error_message(error)
    text = one_line(f"{code}: {message}" if message else code or str(error))
    if code in THROTTLING_CODES:
        return f"{text} (AWS is throttling these credentials: run deploy.sh again in a minute)"
    if code in ACCESS_DENIED_CODES:
        operation = error.operation_name
        return f"{text} (the credentials may not call {operation})"
    return text
