"""PNG image data that is damaged (an IDAT failing its CRC, or cut off by the end of the
file): what a decoder reads of it, checked without keeping any pixels.

Byte layout (PNG 3rd edition, section 10): the IDAT chunks' data, concatenated, is one
zlib stream: a 2-byte header, deflate data, a 4-byte Adler-32. Inflated it holds, per
row, a filter byte and the row's packed samples; an interlaced image holds the seven
Adam7 passes one after the other.

A damaged IDAT cannot vouch for its own length: a wrong length (one that swallows the
chunks after it) looks just like a cut-off file. So the image data is inflated up to
the end of the last damaged IDAT, the output counted and thrown away, and the deflate
stream must still be running there: if it ends earlier, with more than its Adler-32
after it, the bytes after its end are no image data and the file is refused. A stream
that is broken (a corrupt deflate block) is what the damage is: a decoder shows the
rows before it, and so the bytes are served as they are. The work is bounded by the
inflated size IHDR implies (at most MAX_PIXELS samples), and the memory by one piece.

Streamed (png.py's walk), the check is fed the IDAT data in order, as it passes or re-read
once an IDAT turns out damaged; the walk asks where the deflate stream ended, so the bytes
after it are held until their chunk's CRC vouches for them.
"""

from __future__ import annotations

import zlib
from ..errors import ImageError

ZLIB_HEADER_SIZE = 2
ADLER_SIZE = 4
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type
# Adam7 passes: first column, first row, column step, row step.
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
# Inflated output is produced (and dropped) this many bytes at a time.
INFLATE_STEP = 1 << 20


def inflated_size(width: int, height: int, depth: int, colour: int, interlaced: bool) -> int:
    """Bytes the image data inflates to: rows of a filter byte and packed samples."""
    bits = depth * CHANNELS[colour]

    def rows(columns: int, count: int) -> int:
        # An Adam7 pass with no columns has no rows, not even filter bytes (columns and count are
        # never negative: each pass starts inside its step); a count of 0 gives 0 by itself.
        return count * (1 + (columns * bits + 7) // 8) if columns else 0

    if not interlaced:
        return rows(width, height)
    return sum(rows((width - x + dx - 1) // dx, (height - y + dy - 1) // dy) for x, y, dx, dy in ADAM7)


class ImageDataCheck:
    """The IDAT chunks' data inflated as it passes (output counted and thrown away), so a
    damaged IDAT can be judged the moment its CRC fails, without holding the image data.

    feed() takes each IDAT's data in order; stream_end is then the offset, in their
    concatenation, where the deflate stream ended (None while it runs). Once it has ended,
    broken (a corrupt deflate block) or inflated past `expected`, nothing more is inflated:
    the work is bounded by the inflated size IHDR implies, the memory by one piece.
    damaged(end) raises ImageError unless the deflate stream runs at least to `end` (the
    end of a damaged IDAT), less its Adler-32, without inflating to more than `expected`.
    """

    def __init__(self, expected: int, fmt: str) -> None:
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate: the header is skipped
        self._expected = expected
        self._fmt = fmt
        self._skip = ZLIB_HEADER_SIZE
        self._produced = 0
        self._broken = False  # broken deflate data: the damage a decoder stops at
        self._over = False  # inflated past what IHDR declares
        self.consumed = 0  # bytes of the concatenated data fed so far
        self.stream_end: int | None = None

    def feed(self, piece: bytes | memoryview) -> None:
        self.consumed += len(piece)
        if self._broken or self._over or self.stream_end is not None:
            return
        head = min(self._skip, len(piece))
        self._skip -= head
        pending = piece[head:]
        while pending:
            try:
                self._produced += len(self._inflater.decompress(pending, INFLATE_STEP))
            except zlib.error:
                self._broken = True
                return
            if self._produced > self._expected:
                self._over = True
                return
            if self._inflater.eof:
                self.stream_end = self.consumed - len(self._inflater.unused_data)
                return
            pending = self._inflater.unconsumed_tail

    def kept_until(self) -> int | None:
        """Where image data stops being image data (the end of the Adler-32), or None."""
        return None if self.stream_end is None else self.stream_end + ADLER_SIZE

    def damaged(self, end: int) -> None:
        """A damaged IDAT's data ends at `end` (every byte before it has been fed)."""
        if self._broken:
            return
        if self._over:
            raise ImageError(f"{self._fmt}: damaged image data inflates to more than the {self._expected} bytes IHDR declares")
        if self.stream_end is not None and end - self.stream_end > ADLER_SIZE:
            raise ImageError(f"{self._fmt}: damaged IDAT runs {end - self.stream_end} bytes past the end of its image data")
