"""The JPEG XL bit reader: the codestream's fields, least significant bit first, over a
codestream that may lie in several pieces (jxlp boxes) without copying it; a piece is a
memoryview or a ranged_input.RangedSpan (read a window at a time, so a streamed
codestream's end is found with ranged reads of its headers alone).

Field encodings (ISO/IEC 18181-1, section 9; libjxl lib/jxl/fields.cc):
    u(n)     n bits, the first read being the least significant
    Bool     u(1)
    U32      u(2) selects one of four (offset, bits) pairs: offset + u(bits)
    U64      u(2): 0 | 1 + u(4) | 17 + u(8) | u(12) then, while u(1), 8 more bits
             (4 at the last, from bit 60)
    F16      u(16), an IEEE half float (infinity and NaN are invalid)
    Enum     U32(0, 1, 2 + u(4), 18 + u(6))
Every read is checked against the end of the codestream: a field that runs past it is
an ImageError, never a read beyond the data.
"""

from __future__ import annotations

import bisect
from typing import Sequence

from ..errors import ImageError

U32Spec = tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]
ENUM: U32Spec = ((0, 0), (1, 0), (2, 4), (18, 6))
F16_EXPONENT = 0x7C00  # all ones: infinity or NaN
WINDOW_BYTES = 256  # bytes decoded into one integer at a time, so most reads only shift it


class BitReader:
    """Reads bit fields from the concatenation of `pieces`, from bit `pos` on."""

    def __init__(self, pieces: Sequence[memoryview], fmt: str) -> None:
        self._pieces = list(pieces)
        self._starts = []
        total = 0
        for piece in self._pieces:
            self._starts.append(total)
            total += len(piece)
        self.size = total  # bytes
        self.fmt = fmt
        self.pos = 0  # bits
        self._window = 0  # bits [self._window_start, self._window_end) as one integer
        self._window_start = self._window_end = 0
        self._data_end = total * 8  # bits

    def _bytes(self, start: int, count: int) -> bytes:
        """Up to `count` bytes from byte `start` (fewer at the end)."""
        if len(self._pieces) == 1:
            return bytes(self._pieces[0][start : start + count])
        index = bisect.bisect_right(self._starts, start) - 1
        out = bytearray()
        while count > 0 and index < len(self._pieces):
            piece = self._pieces[index][start - self._starts[index] :][:count]
            out += bytes(piece)  # a memoryview, or a ranged_input.RangedSpan read only here
            count -= len(piece)
            start += len(piece)
            index += 1
        return bytes(out)

    def error(self, what: str) -> ImageError:
        return ImageError(f"{self.fmt}: {what} (at byte {self.pos // 8} of the codestream)")

    def remaining(self) -> int:
        """Bits left."""
        return self.size * 8 - self.pos

    def peek(self, count: int) -> int:
        """The next `count` bits without moving, zero past the end."""
        if self.pos + count > self._window_end or self.pos < self._window_start:
            byte = self.pos >> 3
            chunk = self._bytes(byte, max(WINDOW_BYTES, (count >> 3) + 2))
            self._window = int.from_bytes(chunk, "little")
            self._window_start = byte * 8
            self._window_end = self._window_start + max(len(chunk) * 8, count + 8)
        return (self._window >> (self.pos - self._window_start)) & ((1 << count) - 1)

    def skip(self, count: int, what: str = "a field") -> None:
        if count < 0 or count > self.remaining():
            raise self.error(f"the codestream ends inside {what}")
        self.pos += count

    def u(self, count: int, what: str = "a header field") -> int:
        pos = self.pos
        end = pos + count
        if end > self._window_end or pos < self._window_start:
            if end > self.size * 8:
                raise self.error(f"the codestream ends inside {what}")
            self.peek(count)  # loads the window
        elif end > self._data_end:
            raise self.error(f"the codestream ends inside {what}")
        self.pos = end
        return (self._window >> (pos - self._window_start)) & ((1 << count) - 1)

    def bool(self) -> bool:
        return bool(self.u(1))

    def u32(self, spec: U32Spec) -> int:
        offset, bits = spec[self.u(2)]
        return offset + self.u(bits)

    def u64(self) -> int:
        selector = self.u(2)
        if selector == 0:
            return 0
        if selector == 1:
            return 1 + self.u(4)
        if selector == 2:
            return 17 + self.u(8)
        value = self.u(12)
        shift = 12
        while self.u(1):
            if shift == 60:
                value |= self.u(4) << shift
                break
            value |= self.u(8) << shift
            shift += 8
        return value

    def f16(self, what: str = "a half float") -> int:
        bits = self.u(16)
        if bits & F16_EXPONENT == F16_EXPONENT:
            raise self.error(f"{what} is not a finite number")
        return bits

    def enum(self) -> int:
        return self.u32(ENUM)

    def zero_pad_to_byte(self) -> None:
        if self.u((-self.pos) % 8):
            raise self.error("padding bits before a byte boundary are not zero")

    def byte_pos(self) -> int:
        """The byte offset, once at a byte boundary."""
        return self.pos // 8

    def seek_byte(self, offset: int, what: str) -> None:
        if offset > self.size:
            raise self.error(f"the codestream ends inside {what}")
        self.pos = offset * 8


def ceil_log2(value: int) -> int:
    """Bits that hold 0..value-1 (0 for value <= 1)."""
    return max(value - 1, 0).bit_length()
