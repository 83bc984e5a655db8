"""The original object as read, the bounds on reading it, and the one bounded reader.

Every read of an original (the presigned URL, the supporting access point, the bucket)
goes through read_bounded: a byte cap checked against the declared length before
reading and again while reading, and a deadline for the whole body on top of the
socket timeouts each adapter sets. The body is streamed into one buffer, so no second
copy of it is held.
"""

from __future__ import annotations

import io
import time
from email.message import Message
from typing import Callable, NamedTuple

from .errors import OriginalTooLargeError, UpstreamTimeoutError, UpstreamUnreachableError

CHUNK_BYTES = 1024 * 1024


class Timeouts(NamedTuple):
    socket_seconds: float = 10.0
    total_seconds: float = 30.0


class Original(NamedTuple):
    body: bytes
    headers: Message  # case-insensitive get()


def deadline_after(seconds: float) -> float:
    return time.monotonic() + seconds


def check_declared_size(declared: int | None, max_bytes: int) -> None:
    """Refuse before reading when the declared length is already over the cap."""
    if declared is not None and declared > max_bytes:
        raise OriginalTooLargeError(max_bytes)


def read_bounded(
    read_chunk: Callable[[int], bytes],
    *,
    max_bytes: int,
    deadline: float,
    declared: int | None = None,
) -> bytes:
    """All of a body, read with `read_chunk(n)` (b"" at its end), within the cap and the deadline.

    `declared` is the length the sender announced; a body that ends short of it was cut off.
    """
    check_declared_size(declared, max_bytes)
    buffer = io.BytesIO()
    received = 0
    while True:
        if time.monotonic() > deadline:
            msg = "the original's body did not arrive in time"
            raise UpstreamTimeoutError(msg)
        chunk = read_chunk(CHUNK_BYTES)
        if not chunk:
            break
        received += len(chunk)
        if received > max_bytes:
            raise OriginalTooLargeError(max_bytes)
        buffer.write(chunk)
    if declared is not None and received != declared:
        msg = f"the original's body ended after {received} of {declared} bytes"
        raise UpstreamUnreachableError(msg)
    # getvalue() hands over the buffer's own bytes object: no copy.
    return buffer.getvalue()
