"""The original opened at the presigned URL for a streamed strip (serving/streamed.Source).

The body is read a chunk at a time as the strip asks for it, and other parts of the
object (a JPEG's gain map) with ranged GETs of the same URL: a Range header is not part
of the presigned signature (only Host is signed) and S3 applies it. Bounded as the
buffered fetch is: socket timeouts, one deadline for the whole stream, the declared
length checked at the end, and ranged reads bounded by serving.streamed.bounded_source.
"""

from __future__ import annotations

import http.client
import urllib.request

from serving.errors import UpstreamStatusError, UpstreamUnreachableError
from serving.original import Timeouts, deadline_after
from serving.streamed import Source, bounded_source

from .presigned_url import check_fetchable, declared_length, open_url, read_body

HTTP_PARTIAL_CONTENT = 206


def open_presigned(url: str, *, headers: dict[str, str], timeouts: Timeouts) -> Source:
    """GET `url` and hand its body over as a Source. Raises a FetchError subclass."""
    check_fetchable(url)
    deadline = deadline_after(timeouts.total_seconds)
    response = open_url(urllib.request.Request(url, headers=headers), timeouts)
    if response.status != http.client.OK:
        response.close()
        raise UpstreamStatusError(response.status)
    declared = declared_length(response)
    if declared is None:
        response.close()
        msg = "the original's length is not declared"
        raise UpstreamUnreachableError(msg)
    received = 0

    def read_next(size: int) -> bytes:
        nonlocal received
        chunk = read_body(response, size)
        received += len(chunk)
        if received > declared or (not chunk and received != declared):
            msg = f"the original's body ended after {received} of {declared} bytes"
            raise UpstreamUnreachableError(msg)
        return chunk

    def read_part(start: int, end: int) -> bytes:
        ranged = open_url(urllib.request.Request(url, headers={**headers, "Range": f"bytes={start}-{end - 1}"}), timeouts)
        with ranged:
            if ranged.status != HTTP_PARTIAL_CONTENT:
                raise UpstreamStatusError(ranged.status)
            try:
                return ranged.read(end - start + 1)
            except (OSError, http.client.HTTPException) as error:
                msg = f"a ranged read of the original broke off: {type(error).__name__}"
                raise UpstreamUnreachableError(msg) from None

    return bounded_source(
        declared, response.headers, read_next=read_next, read_part=read_part, close=response.close, deadline=deadline
    )
