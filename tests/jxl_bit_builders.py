"""A bit writer for hand-built JPEG XL structures: fields least significant bit first,
as ISO/IEC 18181-1 lays them out (the tests build the codestreams and streams that
encoders never write with it)."""

from __future__ import annotations


class Bits:
    """Writes JPEG XL fields: least significant bit first."""

    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def put(self, value: int, bits: int) -> Bits:
        assert 0 <= value < 1 << bits or bits == 0 and value == 0
        self.value |= value << self.count
        self.count += bits
        return self

    def u32(self, selector: int, value: int = 0, bits: int = 0) -> Bits:
        return self.put(selector, 2).put(value, bits)

    def u64(self, value: int) -> Bits:
        if value == 0:
            return self.put(0, 2)
        self.put(3, 2).put(value & 0xFFF, 12)
        value >>= 12
        while value:
            self.put(1, 1).put(value & 0xFF, 8)
            value >>= 8
        return self.put(0, 1)

    def pad(self) -> Bits:
        self.count = -(-self.count // 8) * 8
        return self

    def data(self) -> bytes:
        return self.value.to_bytes(-(-self.count // 8), "little")


def single_symbol_icc_stream(size: int) -> bytes:
    """A compressed ICC profile stream (libjxl WriteICC layout, zero-padded to the byte)
    of `size` zero bytes: its U64 size, then an entropy code of one cluster whose prefix
    code has a single symbol, so the bytes themselves take no bits."""
    bits = Bits().u64(size)
    bits.put(0, 1).put(1, 1).put(0, 2)  # no LZ77, simple cluster map: one cluster
    bits.put(1, 1).put(15, 4).put(0, 1)  # prefix codes, split exponent 15, alphabet of 1
    return bits.data()
