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
"""

from __future__ import annotations

import zlib
from typing import Iterable

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
        return 0 if columns <= 0 or count <= 0 else count * (1 + (columns * bits + 7) // 8)

    if not interlaced:
        return rows(width, height)
    return sum(rows((width - x + dx - 1) // dx, (height - y + dy - 1) // dy) for x, y, dx, dy in ADAM7)


def check_damaged_image_data(pieces: Iterable[memoryview], damaged_end: int, expected: int, fmt: str) -> None:
    """Raises ImageError unless the deflate stream of `pieces` (every IDAT's data, in
    order) runs at least to `damaged_end` (an offset in their concatenation, the end of
    the last damaged IDAT), less its Adler-32, without inflating to more than `expected`."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate: the header is skipped below
    skip = ZLIB_HEADER_SIZE
    consumed = 0  # bytes of the concatenated data read so far
    produced = 0
    for piece in pieces:
        if consumed >= damaged_end:
            return
        piece = piece[: damaged_end - consumed]
        consumed += len(piece)
        head = min(skip, len(piece))
        skip -= head
        pending = piece[head:]
        while pending:
            try:
                produced += len(inflater.decompress(pending, INFLATE_STEP))
            except zlib.error:
                return  # broken deflate data: the damage a decoder stops at
            if produced > expected:
                raise ImageError(f"{fmt}: damaged image data inflates to more than the {expected} bytes IHDR declares")
            if inflater.eof:
                after = len(inflater.unused_data) + (damaged_end - consumed)
                if after > ADLER_SIZE:
                    raise ImageError(f"{fmt}: damaged IDAT runs {after} bytes past the end of its image data")
                return
            pending = inflater.unconsumed_tail
