"""The one contract every format module follows.

A format module walks its file part by part (JPEG segments, PNG and WebP chunks, GIF
extensions) and looks each part up in one dispatch table keyed by its marker, chunk type
or label. A row is a Handler: the part's name, for messages ("APP1", not "0xFFE1"), and
a function `run(walk, part, offset)` that checks the part, notes what it found in the
walk, and answers with a Decision:

    KEEP   write the part as it is
    DROP   leave it out
    bytes  write this payload instead (a JFIF header without its thumbnail)

Each module then offers the same two entry points, gathered in its FORMAT:

    strip(data, keep_copyright) -> Stripped   the image without its metadata
    find_exif(data) -> block or None          its EXIF block, after checking the whole file

and, when it can strip an image as it arrives, a third (metadata/streaming.py drives it;
a format without one is held whole by a buffered walk behind the same contract):

    open_walk(size, read_range, keep_copyright) -> walk with feed(chunk) -> bytes,
        finish() -> bytes, and .removed / .kept once finished
"""

from __future__ import annotations

import enum
from typing import Any, Callable, NamedTuple, Union

from ..kinds import Stripped


class Decision(enum.Enum):
    KEEP = "keep"
    DROP = "drop"


KEEP = Decision.KEEP
DROP = Decision.DROP
# What a handler answers: KEEP, DROP, or a replacement payload.
Answer = Union[Decision, bytes]


class Handler(NamedTuple):
    name: str
    run: Callable[[Any, Any, int], Answer]


class Format(NamedTuple):
    name: str  # "jpeg", the value StripResult.format reports
    mime_type: str
    matches: Callable[[bytes], bool]  # a test on the first 16 bytes
    strip: Callable[[bytes, bool], Stripped]
    find_exif: Callable[[bytes], "bytes | memoryview | None"]
    # open_walk(size, read_range(start, end) -> bytes, keep_copyright); None: held whole.
    open_walk: "Callable[[int, Callable[[int, int], bytes] | None, bool], Any] | None" = None
