"""ISOBMFF boxes: the bounded walker shared by HEIF/AVIF and the JPEG XL container.

Byte layout (ISO/IEC 14496-12, section 4.2):
    box       <u32be size> <4-byte type> [<u64be largesize> if size == 1]
              [<16-byte usertype> if type == "uuid"] <payload>
              size counts the whole box; 0 means "to the end of the enclosing space"
    full box  a box whose payload starts with <u8 version> <u24be flags>

Every size is checked against the space of its parent before anything is sliced;
the number of boxes walked in one file and the nesting depth are capped (limits.py),
so a hostile file is refused in bounded time whatever its sizes say.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ..byte_reader import ByteReader
from ..errors import ImageError
from ..limits import MAX_BOX_DEPTH, MAX_BOXES

BOX_HEADER_SIZE = 8
LARGE_BOX_HEADER_SIZE = 16
USERTYPE_SIZE = 16
FULL_BOX_HEADER_SIZE = 4
SIZE_TO_END, SIZE_IS_64_BIT = 0, 1
UUID = b"uuid"
MAX_SIZE_32 = 0xFFFFFFFF
# ftyp: major brand, minor version, compatible brands (4 bytes each); real files list a
# handful, and a kept ftyp must not be able to carry anything else.
MAX_BRANDS = 32


class Box(NamedTuple):
    type: bytes
    start: int  # offset of the box's first byte
    payload_start: int  # after the size, type, largesize and usertype
    end: int
    usertype: bytes = b""  # the 16-byte extended type of a "uuid" box

    def name(self) -> str:
        """The type for messages: 'meta', or the hex of a type that is not text."""
        text = self.type.decode("latin-1")
        return text if text.isprintable() else self.type.hex()


class BoxBudget:
    """Counts the boxes read in one file, across every level, against MAX_BOXES."""

    __slots__ = ("count", "fmt")

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.count = 0

    def spend(self, offset: int) -> None:
        self.count += 1
        if self.count > MAX_BOXES:
            raise ImageError(f"{self.fmt}: more than {MAX_BOXES} boxes (at offset {offset})")


def read_box(reader: ByteReader, budget: BoxBudget) -> Box:
    """The box starting at reader.pos; the reader moves past it."""
    start = reader.pos
    budget.spend(start)
    size = reader.u32be("box size")
    box_type = bytes(reader.take(4, "box type"))
    if size == SIZE_IS_64_BIT:
        high, low = reader.u32be("box largesize"), reader.u32be("box largesize")
        size = high << 32 | low
        header = LARGE_BOX_HEADER_SIZE
    elif size == SIZE_TO_END:
        size = reader.pos - start + reader.remaining
        header = BOX_HEADER_SIZE
    else:
        header = BOX_HEADER_SIZE
    usertype = b""
    if box_type == UUID:
        usertype = bytes(reader.take(USERTYPE_SIZE, "uuid box usertype"))
        header += USERTYPE_SIZE
    name = box_type.decode("latin-1") if box_type.isascii() else box_type.hex()
    if size < header:
        raise reader.error(f"box {name!r} declares {size} bytes, less than its {header}-byte header", start)
    payload_size = size - header
    if payload_size > reader.remaining:
        raise reader.error(f"box {name!r} declares {size} bytes but {reader.remaining + header} are left", start)
    payload_start = reader.pos
    reader.pos += payload_size  # checked against what is left just above
    return Box(box_type, start, payload_start, reader.pos, usertype)


def read_boxes(data: bytes, start: int, end: int, fmt: str, budget: BoxBudget, depth: int) -> list[Box]:
    """Every box in data[start:end], which they must fill exactly."""
    if depth > MAX_BOX_DEPTH:
        raise ImageError(f"{fmt}: boxes nested more than {MAX_BOX_DEPTH} deep at offset {start}")
    reader = ByteReader(data, fmt, start=start, end=end)
    boxes = []
    while not reader.at_end():
        boxes.append(read_box(reader, budget))
    return boxes


def children(data: bytes, box: Box, fmt: str, budget: BoxBudget, depth: int, skip: int = 0) -> list[Box]:
    """The boxes inside `box`, after `skip` bytes of its own fields (4 for a full box)."""
    if box.payload_start + skip > box.end:
        raise ImageError(f"{fmt}: box {box.name()!r} at offset {box.start} is too short for its fields")
    return read_boxes(data, box.payload_start + skip, box.end, fmt, budget, depth)


def check_brand_list(part: Box, fmt: str) -> None:
    """An ftyp box is a whole number of 4-byte brands, and not many."""
    size = part.end - part.payload_start
    if size < 8 or size % 4 or size > 4 * (MAX_BRANDS + 2):
        raise ImageError(f"{fmt}: 'ftyp' box of {size} bytes at offset {part.start}")


def full_box_reader(data: bytes, box: Box, fmt: str) -> tuple[ByteReader, int, int]:
    """A reader over a full box's payload after its version and flags, and those two."""
    reader = ByteReader(data, f"{fmt} {box.name()!r} box", start=box.payload_start, end=box.end)
    version = reader.u8("version")
    flags = int.from_bytes(reader.take(3, "flags"), "big")
    return reader, version, flags


def read_uint(reader: ByteReader, size: int, what: str) -> int:
    """An unsigned big-endian field of 0, 1, 2, 4 or 8 bytes (0 reads as 0)."""
    if size == 0:
        return 0
    return int.from_bytes(reader.take(size, what), "big")


def read_string(reader: ByteReader) -> bytes:
    """A NUL-terminated string; one that runs to the end of its box without a NUL is taken
    whole. It cannot run short, so it takes no name for an error message."""
    text = bytes(reader.view(reader.pos, reader.pos + reader.remaining))
    end = text.find(b"\x00")
    if end < 0:
        reader.pos += len(text)
        return text
    reader.pos += end + 1
    return text[:end]


def box_header(box_type: bytes, payload_size: int) -> bytes:
    """A box header, with a 64-bit size only when the box needs one."""
    size = BOX_HEADER_SIZE + payload_size
    if size > MAX_SIZE_32:
        return struct.pack(">I4sQ", SIZE_IS_64_BIT, box_type, LARGE_BOX_HEADER_SIZE + payload_size)
    return struct.pack(">I4s", size, box_type)


def box(box_type: bytes, *payload: bytes | memoryview) -> bytes:
    """A box around the payload pieces."""
    return b"".join((box_header(box_type, sum(len(piece) for piece in payload)), *payload))


def full_box(box_type: bytes, version: int, flags: int, *payload: bytes | memoryview) -> bytes:
    return box(box_type, bytes((version,)) + flags.to_bytes(3, "big"), *payload)
