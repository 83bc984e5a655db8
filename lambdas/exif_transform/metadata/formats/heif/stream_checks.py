"""HEIF: the checks of kept data that passes through a streamed strip as it arrives.

A kept block read and checked before the first byte (payloads.py) is checked again as
it streams: its bytes must hash to what was checked (Digest), so bytes changed between
the two reads are never served. A block too large to read ahead passes through unchanged
or not at all: its HEVC NAL units (NalUnits) or AV1 OBUs (Obus) are delimited as they
arrive, by the rules of hevc.check_hvc1 and av1.check_obus, and a unit those checks would
remove (which would change the size already written in iloc) or refuse fails the check.
Each holds one unit header (at most 10 bytes) or one HDR metadata OBU (at most 32).
After the first byte a failure cuts the stream (metadata/streaming.py).
"""

from __future__ import annotations

import hashlib

from ...errors import ImageError
from ...limits import MAX_CODED_UNITS
from .. import av1, hevc

MAX_HDR_METADATA_OBU = 32  # an HDR_MDCV payload: leb128 type, 24 bytes, trailing byte


def digest(parts: list) -> bytes:
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(part)
    return hashed.digest()


class Digest:
    """The block read ahead: the streamed bytes must be the ones checked."""

    def __init__(self, item_id: int, expected: bytes) -> None:
        self._item_id = item_id
        self._expected = expected
        self._hash = hashlib.sha256()

    def update(self, part: memoryview) -> None:
        self._hash.update(part)

    def done(self) -> None:
        if self._hash.digest() != self._expected:
            raise ImageError(f"HEIF: the data of item {self._item_id} differs from the data checked before the first byte (changed while read?)")


def _would_remove(fmt: str, what: str, item_id: int, offset: int, size: int) -> ImageError:
    return ImageError(
        f"{fmt}: item {item_id} holds {what} at offset {offset}, which the strip removes, in {size} bytes"
        " (more than are checked before the first byte, so its size cannot change)"
    )


class NalUnits:
    """An hvc1 item's NAL units as they arrive: every one kept, delimited to the last byte."""

    def __init__(self, item_id: int, size: int, length_size: int) -> None:
        if length_size not in hevc.LENGTH_FIELDS:
            raise ImageError(f"{hevc.FMT}: NAL unit length size {length_size}")
        self._item_id = item_id
        self._size = size
        self._length_size = length_size
        self._head = bytearray()  # the unit's length field and NAL header, gathered
        self._skip = 0  # bytes of the unit's body still to pass
        self._at = 0  # payload offset of the next byte
        self._units = self._slices = 0

    def update(self, part: memoryview) -> None:
        index, count = 0, len(part)
        header = self._length_size + hevc.NAL_HEADER_SIZE
        while index < count:
            if self._skip:
                step = min(self._skip, count - index)
            else:
                step = min(header - len(self._head), count - index)
                self._head += part[index : index + step]
            index += step
            self._at += step
            if self._skip:
                self._skip -= step
            elif len(self._head) == header:
                self._unit()

    def _unit(self) -> None:
        self._units += 1
        if self._units > MAX_CODED_UNITS:
            raise ImageError(f"{hevc.FMT}: hvc1 item has more than {MAX_CODED_UNITS} NAL units")
        start = self._at - len(self._head)
        length = int.from_bytes(self._head[: self._length_size], "big")
        body = start + self._length_size
        if length > self._size - body:
            raise ImageError(f"{hevc.FMT}: NAL unit of {length} bytes at offset {start} runs past the item's {self._size} bytes")
        unit_type = hevc.nal_type(self._head, self._length_size, length, "hvc1 item", start)
        if unit_type not in hevc.KEPT_NAL_TYPES:
            raise _would_remove(hevc.FMT, f"a NAL unit of type {unit_type}", self._item_id, start, self._size)
        self._slices += unit_type in hevc.CODED_SLICES
        self._skip = length - hevc.NAL_HEADER_SIZE
        self._head.clear()

    def done(self) -> None:
        if self._head:
            raise ImageError(f"{hevc.FMT}: hvc1 item ends inside a NAL unit length at offset {self._at - len(self._head)}")
        if not self._slices:
            raise ImageError(f"{hevc.FMT}: hvc1 item of {self._size} bytes holds no coded slice")


class Obus:
    """An av01 item's OBUs as they arrive: every one kept, delimited to the last byte."""

    def __init__(self, item_id: int, size: int) -> None:
        self._item_id = item_id
        self._size = size
        self._head = bytearray()  # header, extension and leb128 size, gathered
        self._metadata = bytearray()  # a metadata OBU's payload, gathered
        self._metadata_size = 0
        self._skip = 0
        self._at = 0
        self._start = 0  # payload offset of the current OBU
        self._units = 0
        self._coded = False

    def update(self, part: memoryview) -> None:
        index, count = 0, len(part)
        while index < count:
            if self._skip:
                step = min(self._skip, count - index)
                self._skip -= step
            elif self._metadata_size:
                step = min(self._metadata_size - len(self._metadata), count - index)
                self._metadata += part[index : index + step]
                if len(self._metadata) == self._metadata_size:
                    self._metadata_done()
            else:
                step = 1
                if not self._head:
                    self._start = self._at
                self._head.append(part[index])
                if self._header_complete():
                    self._obu()
            index += step
            self._at += step

    def _header_complete(self) -> bool:
        header = self._head[0]
        if header & av1.FORBIDDEN_BIT:
            raise ImageError(f"{av1.FMT}: OBU at offset {self._start} has its forbidden bit set")
        base = 1 + (1 if header & av1.EXTENSION_FLAG else 0)
        if len(self._head) < base:
            return False
        if not header & av1.HAS_SIZE_FIELD:
            return True
        if len(self._head) == base:
            return False
        return not self._head[-1] & 0x80 or len(self._head) - base == av1.MAX_LEB128_BYTES

    def _obu(self) -> None:
        self._units += 1
        if self._units > MAX_CODED_UNITS:
            raise ImageError(f"{av1.FMT}: more than {MAX_CODED_UNITS} OBUs")
        header = self._head[0]
        base = 1 + (1 if header & av1.EXTENSION_FLAG else 0)
        end = self._size - self._start
        if header & av1.HAS_SIZE_FIELD:
            size, body = av1.read_leb128(self._head, base, len(self._head))
            if size > end - body:
                raise ImageError(f"{av1.FMT}: OBU of {size} bytes at offset {self._start} runs past the {self._size}-byte payload")
        else:
            size = end - base  # the last OBU, filling the rest
        obu_type = header >> 3 & 0x0F
        self._head.clear()
        if obu_type in av1.REFUSED_TYPES:
            raise ImageError(f"{av1.FMT}: {av1.REFUSED_TYPES[obu_type]} OBU at offset {self._start}")
        if obu_type == av1.TEMPORAL_DELIMITER and size:
            raise ImageError(f"{av1.FMT}: temporal delimiter OBU of {size} bytes at offset {self._start} (it has none)")
        if obu_type == av1.METADATA:
            if not size or size > MAX_HDR_METADATA_OBU:
                raise _would_remove(av1.FMT, "a metadata OBU", self._item_id, self._start, self._size)
            self._metadata_size = size
            return
        if obu_type not in av1.KEPT_TYPES:
            raise _would_remove(av1.FMT, f"an OBU of type {obu_type}", self._item_id, self._start, self._size)
        self._coded = self._coded or obu_type in av1.CODED_TYPES
        self._skip = size

    def _metadata_done(self) -> None:
        if not av1.hdr_metadata(memoryview(bytes(self._metadata)), self._start):
            raise _would_remove(av1.FMT, "a metadata OBU", self._item_id, self._start, self._size)
        self._metadata.clear()
        self._metadata_size = 0

    def done(self) -> None:
        if self._head:
            raise ImageError(f"{av1.FMT}: OBU at offset {self._start} ends inside its header")
        if not self._coded:
            raise ImageError(f"{av1.FMT}: av01 item of {self._size} bytes holds no frame or tile group")
