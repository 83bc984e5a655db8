"""HEIF item properties: each kept type parsed exactly, so a property box can carry
nothing but its fields.

One reader per property type (FIXED_FIELDS for the fixed-size ones, PROPERTY_READERS for
the rest; plain functions, so that each runs as it is when called); each returns a Property
saying whether the box may be kept (and with which payload) or why it may not. A
property is only judged here: whether it goes into the output depends on the items
that use it (selection.py), and a kept item that needs (essential bit) a property that
may not be kept is refused.

Byte layout (payload after the 8-byte box header; "full" = u8 version, u24 flags first;
ISO/IEC 23008-12 section 6.5, 14496-12, AV1-ISOBMFF, ISO/IEC 23001-17 for uncC/cmpd):
    ispe  full v0: u32 width, u32 height                        12 bytes
    pixi  full v0: u8 channels, u8 bits per channel              4 + 1 + channels
    irot  u8 (angle in the low 2 bits)       imir  u8 (axis)     1 byte each
    clap  8 x u32                                                32 bytes
    pasp  2 x u32                                                 8 bytes
    rloc  full v0: 2 x u32                                       12 bytes
    lsel  u16                                                     2 bytes
    a1op  u8                                                      1 byte
    a1lx  u8 flags (bit 0: 32-bit sizes), 3 x u16 or u32          7 or 13 bytes
    clli  u16 max CLL, u16 max FALL                               4 bytes
    mdcv  6 x u16 primaries, 2 x u16 white point, 2 x u32         24 bytes
    amve  u32 illuminance, 2 x u16 chromaticity                   8 bytes
    cloc  full v0: u8 chroma location                             5 bytes
    colr  'nclx' + 7 bytes, 'nclc' + 6 bytes, 'prof'/'rICC' + an ICC profile whose
          header declares its size (icc_profile.py)
    auxC  full v0: NUL-terminated URN, then aux_subtype bytes; written back without the
          subtype (a decoder reads the URN; the subtype is free-form)
    mskC  full v0: u8 bits per pixel                              5 bytes
    cmpd  u32 count, then per component u16 type [+ NUL-terminated URI if type >= 0x8000]
    hvcC, av1C, uncC  kept here; their fields are checked with the item they configure
          (item_payloads.check_decoder_config, uncompressed.check_uncompressed)
    udes  user description text: dropped (comment)
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from ... import kinds
from ...byte_reader import ByteReader
from ...icc_profile import icc_problem
from ..item_payloads import printable_type
from ..isobmff import Box, read_string

FULL_HEADER = 4
ALPHA_AUX_TYPES = frozenset({b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", b"urn:mpeg:hevc:2015:auxid:1"})
APPLE_GAIN_MAP_AUX_TYPE = b"urn:com:apple:photo:2020:aux:hdrgainmap"
ICC_COLOUR_TYPES = frozenset({b"prof", b"rICC"})
COLOUR_SIZES = {b"nclx": 4 + 7, b"nclc": 4 + 6}
URI_COMPONENT_TYPES = 0x8000
LARGE_LAYER_SIZES = 1  # a1lx flag


class Property(NamedTuple):
    box: Box
    payload: bytes | None  # what to write (None: the box may not be kept)
    kind: str = kinds.OTHER  # what it is reported as when it goes
    problem: str = ""  # why it may not be kept ("" for a known type that goes on purpose)
    aux_type: bytes = b""  # of an auxC
    known: bool = True  # False: a type this module does not know (refused when essential)


Reader = Callable[[Box, memoryview], Property]


def _fixed(part: Box, payload: memoryview, size: int, full: bool = False) -> Property:
    """A property of `size` bytes of fields ([full] version 0 and flags 0 first)."""
    if len(payload) != size:
        return Property(part, None, problem=f"{len(payload)} bytes where its fields take {size}")
    if full and bytes(payload[:FULL_HEADER]) != bytes(FULL_HEADER):
        return Property(part, None, problem="a version or flags this reader does not know")
    return Property(part, bytes(payload))


def _pixel_information(part: Box, payload: memoryview) -> Property:
    if len(payload) < FULL_HEADER + 1 or bytes(payload[:FULL_HEADER]) != bytes(FULL_HEADER):
        return Property(part, None, problem="a version or flags this reader does not know")
    channels = payload[FULL_HEADER]
    if len(payload) != FULL_HEADER + 1 + channels:
        return Property(part, None, problem=f"{len(payload)} bytes for {channels} channels")
    return Property(part, bytes(payload))


def _layer_sizes(part: Box, payload: memoryview) -> Property:
    if not payload:
        return Property(part, None, problem="no fields")
    size = 1 + 3 * (4 if payload[0] & LARGE_LAYER_SIZES else 2)
    return _fixed(part, payload, size)


def _colour(part: Box, payload: memoryview) -> Property:
    # An invalid ICC profile goes (the image then shows without colour management), as in
    # every other format; a valid one stays byte for byte.
    colour_type = bytes(payload[:4])
    if colour_type in ICC_COLOUR_TYPES:
        problem = icc_problem(payload[4:])
        return Property(part, None, problem=f"ICC profile: {problem}") if problem else Property(part, bytes(payload))
    if colour_type in COLOUR_SIZES:
        return _fixed(part, payload, COLOUR_SIZES[colour_type])
    return Property(part, None, problem=f"colour type {printable_type(colour_type)}")


def _auxiliary_type(part: Box, payload: memoryview) -> Property:
    if bytes(payload[:FULL_HEADER]) != bytes(FULL_HEADER):  # also when shorter than version and flags
        return Property(part, None, problem="a version or flags this reader does not know")
    urn = bytes(payload[FULL_HEADER:]).partition(b"\x00")[0]  # to its NUL, or all of it
    return Property(part, bytes(FULL_HEADER) + urn + b"\x00", aux_type=urn)  # version 0, flags 0, the URN and its NUL


def _components(part: Box, payload: memoryview) -> Property:
    reader = ByteReader(payload, "HEIF 'cmpd' property")
    if reader.remaining < 4:
        return Property(part, None, problem="no component count")
    count = reader.u32be("component count")
    if count * 2 > reader.remaining:
        return Property(part, None, problem=f"{count} components in {reader.remaining} bytes")
    for _ in range(count):
        if reader.remaining < 2:
            return Property(part, None, problem=f"{count} components in too few bytes")
        if reader.u16be("component type") >= URI_COMPONENT_TYPES:
            read_string(reader)
    if not reader.at_end():
        return Property(part, None, problem=f"{reader.remaining} bytes after its fields")
    return Property(part, bytes(payload))


def _kept_as_is(part: Box, payload: memoryview) -> Property:
    return Property(part, bytes(payload))


def _text(part: Box, payload: memoryview) -> Property:
    return Property(part, None, kind=kinds.COMMENT)


# Properties that are fixed fields: their size, and whether they start with version and flags.
FIXED_FIELDS: dict[bytes, tuple[int, bool]] = {
    b"ispe": (12, True),
    b"irot": (1, False),
    b"imir": (1, False),
    b"clap": (32, False),
    b"pasp": (8, False),
    b"rloc": (12, True),
    b"lsel": (2, False),
    b"a1op": (1, False),
    b"clli": (4, False),
    b"mdcv": (24, False),
    b"amve": (8, False),
    b"cloc": (5, True),
    b"mskC": (5, True),
}
# The other property types, each read by its own function.
PROPERTY_READERS: dict[bytes, Reader] = {
    b"pixi": _pixel_information,
    b"a1lx": _layer_sizes,
    b"colr": _colour,
    b"auxC": _auxiliary_type,
    b"cmpd": _components,
    b"hvcC": _kept_as_is,
    b"av1C": _kept_as_is,
    b"uncC": _kept_as_is,
    b"udes": _text,
}
# Properties that only mean something for one item type: on a kept item of another type
# they go (and an essential one refuses the item), so their fields are always checked.
PROPERTY_ITEM_TYPES: dict[bytes, frozenset[bytes]] = {
    b"hvcC": frozenset({b"hvc1"}),
    b"av1C": frozenset({b"av01"}),
    b"uncC": frozenset({b"unci"}),
    b"cmpd": frozenset({b"unci"}),
    b"mskC": frozenset({b"mski"}),
}


def read_property(data: bytes, part: Box) -> Property:
    payload = memoryview(data[part.payload_start : part.end])
    fixed = FIXED_FIELDS.get(part.type)
    if fixed is not None:
        return _fixed(part, payload, *fixed)
    reader = PROPERTY_READERS.get(part.type)
    if reader is None:
        return Property(part, None, problem="a property type the strip does not know", known=False)
    return reader(part, payload)
