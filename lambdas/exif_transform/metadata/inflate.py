"""zlib inflation with a bound: the one way the core decompresses metadata.

A few kilobytes of zlib can inflate to gigabytes, so the output is capped before it
is produced, and only one complete stream counts: cut short, corrupt, over the cap or
followed by other bytes, it is not one.
"""

from __future__ import annotations

import zlib


def inflate(compressed: bytes | memoryview, limit: int) -> bytes | None:
    """The inflated stream, or None when it is not one complete stream of at most `limit` bytes."""
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(compressed, limit + 1)
    except zlib.error:
        return None
    if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail or len(inflated) > limit:
        return None
    return inflated
