"""A one-line progress counter on stderr, only when stderr is a terminal.

The number of files is not known ahead (the listing is streamed), so it counts what is
done, redrawn at most every REDRAW_SECONDS; clear() makes room for a row printed to the
same terminal.
"""

from __future__ import annotations

import time
from typing import TextIO

REDRAW_SECONDS = 0.1
CLEAR_LINE = "\r\x1b[K"


class Progress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = stream.isatty()
        self.drawn_at = 0.0
        self.visible = False

    def update(self, done: int, refused: int, *, force: bool = False) -> None:
        if not self.shown:
            return
        now = time.monotonic()
        if not force and now - self.drawn_at < REDRAW_SECONDS:
            return
        self.drawn_at = now
        self.stream.write(f"{CLEAR_LINE}audited {done} files, {refused} refused ...")
        self.stream.flush()
        self.visible = True

    def clear(self) -> None:
        if self.visible:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self.visible = False
