"""HEIF, HEIC and AVIF: keep the primary image and what it is built from, drop the rest.

Byte layout (ISO/IEC 14496-12 ISOBMFF, 23008-12 HEIF; boxes as in isobmff.py):
    ftyp   major brand, minor version, compatible brands (u32 each); first box
    meta   full box, exactly one: hdlr ("pict"), pitm (primary item ID),
           iinf  entry count, then infe v2/v3: item ID, protection index, item type, name
                 [, content type for "mime"]
           iloc  v0/1/2: offset, length, base offset, index sizes (4 bits each); per item:
                 ID, [construction method], data reference, base offset, extents
                 (offset, length); method 0 = file offset, 1 = offset into idat
           iref  boxes named by the reference type: from ID, count, to IDs
           iprp  ipco (the properties, 1-based) + ipma (item -> property indexes,
                 top bit essential; 7- or 15-bit indexes by flags)
           idat  item data addressed by construction method 1
    mdat   item data addressed by file offsets; meta may come before or after it
    other  free, skip, uuid (C2PA), udta, vendor boxes; moov (image sequences)

The output is rebuilt: ftyp as it is, a new meta, then one mdat. The new meta keeps
the primary item, the items it is derived from (dimg: grid tiles, overlays, identity
derivations) and its alpha auxiliary images; their display properties byte for byte,
their references, their data. Every other item (EXIF, XMP and other mime or uri
items, thumbnails, depth and gain maps) goes with its infe entry, iloc entry,
references and property associations; text properties (udes) go and ipma indexes are
renumbered. Only the byte ranges that kept items reference are copied, into a new
mdat and idat, and every kept iloc offset is rewritten for its new place.
"""

from __future__ import annotations

import struct
from typing import Callable, NamedTuple

from .. import kinds
from ..byte_reader import ByteReader
from ..errors import ImageError
from ..exif_block import EXIF_HEADER, exif_facts, minimal_exif
from ..icc_profile import is_icc_profile
from ..kinds import Stripped
from ..limits import MAX_EXIF_PAYLOAD, MAX_EXTENTS_PER_ITEM, MAX_ITEM_REFERENCES, MAX_ITEMS
from .contract import DROP, KEEP, Answer, Format, Handler
from .isobmff import (
    FULL_BOX_HEADER_SIZE,
    Box,
    BoxBudget,
    box,
    box_header,
    check_brand_list,
    children,
    full_box,
    full_box_reader,
    read_box,
    read_string,
    read_uint,
)

FMT = "HEIF"
FTYP, META, MDAT, MOOV = b"ftyp", b"meta", b"mdat", b"moov"
PICT = b"pict"
AVIF_BRANDS = frozenset({b"avif", b"avis"})
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2", b"mif3", b"miaf"})
# Major brands that make the first 16 bytes a HEIF/AVIF file (the rest come from the
# compatible brands once the whole ftyp is read).
MAJOR_BRANDS = AVIF_BRANDS | HEIC_BRANDS | HEIF_BRANDS
IMAGE_ITEM_TYPES = frozenset(
    {b"hvc1", b"av01", b"grid", b"iovl", b"iden", b"jpeg", b"j2k1", b"vvc1", b"avc1", b"unci", b"mski"}
)
EXIF_ITEM, MIME_ITEM, URI_ITEM = b"Exif", b"mime", b"uri "
XMP_CONTENT_TYPE = b"application/rdf+xml"
# Reference types kept between kept items: derivation inputs, auxiliary images,
# premultiplied alpha. Every other type (thmb, cdsc, base, exbl, ...) goes.
DIMG, AUXL, PREM, THMB, CDSC = b"dimg", b"auxl", b"prem", b"thmb", b"cdsc"
ALPHA_AUX_TYPES = frozenset({b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", b"urn:mpeg:hevc:2015:auxid:1"})
HVC1, HVCC, IDENTITY, GRID = b"hvc1", b"hvcC", b"iden", b"grid"
# Items drawn from other items (their dimg inputs): a decoder cannot show one without them.
DERIVED_ITEM_TYPES = frozenset({GRID, b"iovl", IDENTITY})
# grid descriptor: version, flags, rows - 1, columns - 1, output width and height as u16,
# or as u32 when flags bit 0 is set (HEIF 6.6.2.3.2).
GRID_WIDE_FIELDS = 1
GRID_DESCRIPTOR_SIZE, WIDE_GRID_DESCRIPTOR_SIZE = 8, 12
# hvcC payload: 21 bytes of profile, level and format fields, then a byte whose low two
# bits are lengthSizeMinusOne (ISO/IEC 14496-15, 8.3.3.1.2).
HVCC_LENGTH_SIZE_BYTE = 21
ICC_COLOUR_TYPES = frozenset({b"prof", b"rICC"})
CONSTRUCTION_FILE, CONSTRUCTION_IDAT = 0, 1
ESSENTIAL_7, ESSENTIAL_15 = 0x80, 0x8000
LARGE_PROPERTY_INDEXES = 1  # ipma flag: 15-bit property indexes
MAX_U16, MAX_U32 = 0xFFFF, 0xFFFFFFFF
OFFSET_SIZES = frozenset({0, 4, 8})
WIDE_OFFSETS_ABOVE = 0xFFFF0000  # input bytes beyond which the rewritten iloc uses 8-byte offsets


class Item(NamedTuple):
    id: int
    type: bytes
    flags: int  # infe flags: bit 0 marks a hidden image
    content_type: bytes  # of a "mime" item


class Extent(NamedTuple):
    offset: int  # absolute: base offset + extent offset
    length: int


class Location(NamedTuple):
    method: int
    extents: tuple[Extent, ...]


class Reference(NamedTuple):
    type: bytes
    source: int
    targets: tuple[int, ...]


class _Walk:
    """What the walk over one file has found so far."""

    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.budget = BoxBudget(FMT)
        self.ftyp: Box | None = None
        self.brands: set[bytes] = set()
        self.meta: Box | None = None
        self.mdats: list[Box] = []
        self.seen: set[bytes] = set()  # meta children that may appear once
        self.handler_type = b""
        self.primary: int | None = None
        self.items: dict[int, Item] = {}
        self.iloc_version = 0
        self.locations: dict[int, Location] = {}
        self.references: list[Reference] = []
        self.properties: list[Box] = []
        self.property_answers: list[Answer] = []
        self.property_kinds: list[str] = []
        self.aux_types: dict[int, bytes] = {}  # 0-based property index -> auxC type
        self.associations: dict[int, list[tuple[int, bool]]] = {}  # item -> (1-based index, essential)
        self.idat: Box | None = None


Run = Callable[[_Walk, bytes, Box], Answer]


def _error(what: str, offset: int) -> ImageError:
    return ImageError(f"{FMT}: {what} at offset {offset}")


def _drop_as(kind: str) -> Run:
    def drop(walk: _Walk, data: bytes, part: Box) -> Answer:
        walk.removed.add(kind)
        return DROP

    return drop


def _once(walk: _Walk, part: Box) -> None:
    if part.type in walk.seen:
        raise _error(f"a second {part.name()!r} box in meta", part.start)
    walk.seen.add(part.type)


# ---------------------------------------------------------------- top-level boxes
def _file_type(walk: _Walk, data: bytes, part: Box) -> Answer:
    if walk.ftyp is not None:
        raise _error("a second 'ftyp' box", part.start)
    check_brand_list(part, FMT)
    size = part.end - part.payload_start
    payload = bytes(data[part.payload_start : part.end])
    walk.brands = {payload[0:4]} | {payload[i : i + 4] for i in range(8, size, 4)}
    if not walk.brands & MAJOR_BRANDS:
        raise _error("'ftyp' box with no HEIF or AVIF brand", part.start)
    walk.ftyp = part
    return KEEP


def _meta(walk: _Walk, data: bytes, part: Box) -> Answer:
    if walk.meta is not None:
        raise _error("a second 'meta' box", part.start)
    walk.meta = part
    for child in children(data, part, FMT, walk.budget, 1, skip=FULL_BOX_HEADER_SIZE):
        handler = META_HANDLERS.get(child.type) or Handler(child.name(), _drop_as(kinds.OTHER))
        handler.run(walk, data, child)
    return DROP  # rebuilt


def _media_data(walk: _Walk, data: bytes, part: Box) -> Answer:
    walk.mdats.append(part)
    return DROP  # rebuilt from the kept items' extents


def _sequence(walk: _Walk, data: bytes, part: Box) -> Answer:
    raise _error("image sequences ('moov' box) are not supported", part.start)


TOP_HANDLERS: dict[bytes, Handler] = {
    FTYP: Handler("ftyp", _file_type),
    META: Handler("meta", _meta),
    MDAT: Handler("mdat", _media_data),
    MOOV: Handler("moov", _sequence),
    b"free": Handler("free", _drop_as(kinds.OTHER)),
    b"skip": Handler("skip", _drop_as(kinds.OTHER)),
    b"uuid": Handler("uuid", _drop_as(kinds.OTHER)),  # C2PA manifests and vendor data
}


# ---------------------------------------------------------------- meta children
def _handler(walk: _Walk, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    reader, _, _ = full_box_reader(data, part, FMT)
    reader.skip(4, "pre_defined")
    walk.handler_type = bytes(reader.take(4, "handler type"))
    return DROP  # rewritten without its name


def _primary_item(walk: _Walk, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    reader, version, _ = full_box_reader(data, part, FMT)
    walk.primary = reader.u16be("item ID") if version == 0 else reader.u32be("item ID")
    return DROP


def _item_info(walk: _Walk, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    reader, version, _ = full_box_reader(data, part, FMT)
    count = reader.u16be("entry count") if version == 0 else reader.u32be("entry count")
    if count > MAX_ITEMS:
        raise _error(f"'iinf' declares {count} items, over the limit of {MAX_ITEMS}", part.start)
    for entry in children(data, part, FMT, walk.budget, 2, skip=reader.pos - part.payload_start):
        if entry.type != b"infe":
            continue
        item = _item_entry(data, entry)
        if item.id in walk.items:
            raise _error(f"item {item.id} declared twice", entry.start)
        if len(walk.items) >= MAX_ITEMS:
            raise _error(f"more than {MAX_ITEMS} items", entry.start)
        walk.items[item.id] = item
    return DROP


def _item_entry(data: bytes, part: Box) -> Item:
    # infe v2: u16 item ID; v3: u32; then u16 protection index, item type, name[, content type]
    reader, version, flags = full_box_reader(data, part, FMT)
    if version not in (2, 3):
        raise _error(f"'infe' version {version} (only 2 and 3 are HEIF)", part.start)
    item_id = reader.u16be("item ID") if version == 2 else reader.u32be("item ID")
    protection = reader.u16be("item protection index")
    item_type = bytes(reader.take(4, "item type"))
    if protection:
        raise _error(f"protected item {item_id}", part.start)
    read_string(reader, "item name")
    content_type = read_string(reader, "content type") if item_type == MIME_ITEM else b""
    return Item(item_id, item_type, flags, content_type)


def _item_locations(walk: _Walk, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    reader, version, _ = full_box_reader(data, part, FMT)
    if version > 2:
        raise _error(f"'iloc' version {version}", part.start)
    sizes = reader.u16be("field sizes")
    offset_size, length_size, base_size, index_size = sizes >> 12, sizes >> 8 & 15, sizes >> 4 & 15, sizes & 15
    if version == 0:
        index_size = 0
    if not {offset_size, length_size, base_size, index_size} <= OFFSET_SIZES:
        raise _error(f"'iloc' field sizes {sizes:04x}", part.start)
    count = reader.u16be("item count") if version < 2 else reader.u32be("item count")
    if count > MAX_ITEMS:
        raise _error(f"'iloc' declares {count} items, over the limit of {MAX_ITEMS}", part.start)
    walk.iloc_version = version
    for _ in range(count):
        item_id = reader.u16be("item ID") if version < 2 else reader.u32be("item ID")
        method = reader.u16be("construction method") & 15 if version else CONSTRUCTION_FILE
        reference = reader.u16be("data reference index")
        base = read_uint(reader, base_size, "base offset")
        extent_count = reader.u16be("extent count")
        if extent_count > MAX_EXTENTS_PER_ITEM:
            raise _error(f"item {item_id} has {extent_count} extents, over the limit of {MAX_EXTENTS_PER_ITEM}", part.start)
        extents = []
        for _ in range(extent_count):
            read_uint(reader, index_size, "extent index")
            offset = read_uint(reader, offset_size, "extent offset")
            length = read_uint(reader, length_size, "extent length")
            extents.append(Extent(base + offset, length))
        if item_id in walk.locations:
            raise _error(f"item {item_id} located twice in 'iloc'", part.start)
        if reference:
            raise _error(f"item {item_id} has its data in another file", part.start)
        walk.locations[item_id] = Location(method, tuple(extents))
    return DROP


def _item_references(walk: _Walk, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    reader, version, _ = full_box_reader(data, part, FMT)
    total = 0
    for reference in children(data, part, FMT, walk.budget, 2, skip=reader.pos - part.payload_start):
        inner = ByteReader(data, f"{FMT} {reference.name()!r} reference", reference.payload_start, reference.end)
        read_id = inner.u16be if version == 0 else inner.u32be
        source = read_id("from item ID")
        count = inner.u16be("reference count")
        total += count
        if total > MAX_ITEM_REFERENCES:
            raise _error(f"more than {MAX_ITEM_REFERENCES} item references", reference.start)
        targets = tuple(read_id("to item ID") for _ in range(count))
        walk.references.append(Reference(reference.type, source, targets))
    return DROP


def _item_properties(walk: _Walk, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    for child in children(data, part, FMT, walk.budget, 2):
        if child.type == b"ipco":
            if walk.properties:
                raise _error("a second 'ipco' box", child.start)
            for index, prop in enumerate(children(data, child, FMT, walk.budget, 3)):
                handler = PROPERTY_HANDLERS.get(prop.type) or Handler(prop.name(), _unknown_property)
                walk.properties.append(prop)
                walk.property_kinds.append(kinds.OTHER)
                walk.property_answers.append(handler.run(walk, data, prop))
        elif child.type == b"ipma":
            _associations(walk, data, child)
    return DROP


def _associations(walk: _Walk, data: bytes, part: Box) -> None:
    # ipma: u32 entry count; per entry: item ID (u16 v0, u32 v1), u8 association count,
    # then u8 (1 + 7 bits) or u16 (1 + 15 bits) essential flag and property index
    reader, version, flags = full_box_reader(data, part, FMT)
    count = reader.u32be("entry count")
    if count > MAX_ITEMS:
        raise _error(f"'ipma' declares {count} entries, over the limit of {MAX_ITEMS}", part.start)
    large = flags & LARGE_PROPERTY_INDEXES
    for _ in range(count):
        item_id = reader.u16be("item ID") if version == 0 else reader.u32be("item ID")
        if item_id in walk.associations:
            raise _error(f"item {item_id} associated twice in 'ipma'", part.start)
        pairs = []
        for _ in range(reader.u8("association count")):
            if large:
                value = reader.u16be("property index")
                pairs.append((value & ~ESSENTIAL_15, bool(value & ESSENTIAL_15)))
            else:
                value = reader.u8("property index")
                pairs.append((value & ~ESSENTIAL_7, bool(value & ESSENTIAL_7)))
        walk.associations[item_id] = pairs


def _item_data(walk: _Walk, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    walk.idat = part
    return DROP


META_HANDLERS: dict[bytes, Handler] = {
    b"hdlr": Handler("hdlr", _handler),
    b"pitm": Handler("pitm", _primary_item),
    b"iinf": Handler("iinf", _item_info),
    b"iloc": Handler("iloc", _item_locations),
    b"iref": Handler("iref", _item_references),
    b"iprp": Handler("iprp", _item_properties),
    b"idat": Handler("idat", _item_data),
    b"xml ": Handler("xml", _drop_as(kinds.XMP)),
    b"bxml": Handler("bxml", _drop_as(kinds.XMP)),
    # dinf (data references: every kept item must be in this file), grpl (entity groups:
    # alternatives, stereo pairs, bursts of items that are not kept) and the rest
}


# ---------------------------------------------------------------- properties
def _keep_property(walk: _Walk, data: bytes, part: Box) -> Answer:
    return KEEP


def _colour(walk: _Walk, data: bytes, part: Box) -> Answer:
    # colr: colour type, then nclx fields or an ICC profile (prof, rICC)
    # An invalid ICC profile goes (the image then shows without colour management), as in
    # every other format; a valid one stays byte for byte.
    colour_type = bytes(data[part.payload_start : part.payload_start + 4])
    if colour_type in ICC_COLOUR_TYPES and not is_icc_profile(memoryview(data)[part.payload_start + 4 : part.end]):
        walk.property_kinds[-1] = kinds.OTHER
        return DROP
    return KEEP


def _auxiliary_type(walk: _Walk, data: bytes, part: Box) -> Answer:
    # auxC: full box, NUL-terminated aux type URN, then subtype bytes
    reader, _, _ = full_box_reader(data, part, FMT)
    walk.aux_types[len(walk.properties) - 1] = read_string(reader, "auxiliary type")
    return KEEP


def _text_property(walk: _Walk, data: bytes, part: Box) -> Answer:
    walk.property_kinds[-1] = kinds.COMMENT
    return DROP


def _unknown_property(walk: _Walk, data: bytes, part: Box) -> Answer:
    return DROP  # refused later if a kept item marks it essential


DISPLAY_PROPERTIES = (
    b"ispe", b"pixi", b"irot", b"imir", b"clap", b"pasp", b"rloc", b"lsel", b"a1op", b"a1lx",
    b"hvcC", b"av1C", b"avcC", b"vvcC", b"jpgC", b"j2kH", b"uncC", b"cmpd", b"cpal", b"cloc",
    b"clli", b"mdcv", b"cclv", b"amve", b"reve",
)  # fmt: skip
PROPERTY_HANDLERS: dict[bytes, Handler] = {
    **{name: Handler(name.decode(), _keep_property) for name in DISPLAY_PROPERTIES},
    b"colr": Handler("colr", _colour),
    b"auxC": Handler("auxC", _auxiliary_type),
    b"udes": Handler("udes", _text_property),
}


# ---------------------------------------------------------------- the walk
def _parse(data: bytes) -> _Walk:
    walk = _Walk()
    reader = ByteReader(data, FMT)
    while not reader.at_end():
        start = reader.pos
        try:
            part = read_box(reader, walk.budget)
        except ImageError:
            if walk.ftyp is None:
                raise
            walk.removed.add(kinds.TRAILER)  # bytes that are not a box: never copied
            break
        if walk.ftyp is None and part.type != FTYP:
            raise _error(f"first box is {part.name()!r}, not 'ftyp'", start)
        handler = TOP_HANDLERS.get(part.type) or Handler(part.name(), _drop_as(kinds.OTHER))
        handler.run(walk, data, part)
    if walk.meta is None:
        raise _error("no 'meta' box", len(data))
    if walk.handler_type != PICT:
        raise _error(f"'meta' handler is {walk.handler_type!r}, not 'pict'", walk.meta.start)
    if walk.primary is None or walk.primary not in walk.items:
        raise _error(f"primary item {walk.primary} is not declared in 'iinf'", walk.meta.start)
    return walk


def _kept_items(walk: _Walk) -> list[int]:
    """The primary item, the items it derives from and its alpha images, in iinf order."""
    derived: dict[int, list[int]] = {}
    auxiliaries: dict[int, list[int]] = {}  # image -> alpha images that name it
    for reference in walk.references:
        if reference.type == DIMG:
            derived.setdefault(reference.source, []).extend(reference.targets)
        elif reference.type == AUXL and _is_alpha(walk, reference.source):
            for target in reference.targets:
                auxiliaries.setdefault(target, []).append(reference.source)
    kept = {walk.primary}
    queue = [walk.primary]
    while queue:
        item_id = queue.pop()
        for next_id in derived.get(item_id, []) + auxiliaries.get(item_id, []):
            if next_id not in walk.items:
                raise _error(f"item {item_id} refers to undeclared item {next_id}", walk.meta.start)
            if next_id not in kept:
                kept.add(next_id)
                queue.append(next_id)
    _check_acyclic(walk, derived, kept)
    for item_id in kept:
        if walk.items[item_id].type not in IMAGE_ITEM_TYPES:
            raise _error(f"kept item {item_id} is of type {walk.items[item_id].type!r}, not an image", walk.meta.start)
    return [item_id for item_id in walk.items if item_id in kept]


def _is_alpha(walk: _Walk, item_id: int) -> bool:
    for index, _ in walk.associations.get(item_id, ()):
        if walk.aux_types.get(index - 1) in ALPHA_AUX_TYPES:
            return True
    return False


def _check_acyclic(walk: _Walk, derived: dict[int, list[int]], kept: set[int]) -> None:
    """A derivation loop (a grid made of itself) would send a decoder round for ever."""
    state: dict[int, int] = {}  # 1 = on the current path, 2 = done
    for root in kept:
        if root in state:
            continue
        stack = [(root, iter(derived.get(root, ())))]
        state[root] = 1
        while stack:
            node, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                state[node] = 2
                stack.pop()
            elif state.get(target) == 1:
                raise _error(f"'dimg' references loop through item {target}", walk.meta.start)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(derived.get(target, ()))))


def _item_ranges(data: bytes, walk: _Walk, item_id: int) -> list[tuple[int, int, int]]:
    """(construction method, start, end) of each extent of an item, checked against its container."""
    location = walk.locations.get(item_id)
    if location is None:
        return []
    ranges = []
    for extent in location.extents:
        end = extent.offset + extent.length
        if location.method == CONSTRUCTION_FILE:
            containers = [(mdat.payload_start, mdat.end) for mdat in walk.mdats]
        elif location.method == CONSTRUCTION_IDAT and walk.idat is not None:
            containers = [(0, walk.idat.end - walk.idat.payload_start)]
        else:
            raise _error(f"item {item_id} uses construction method {location.method}", walk.meta.start)
        if extent.length == 0 or not any(low <= extent.offset and end <= high for low, high in containers):
            raise _error(f"an extent of item {item_id} ({extent.length} bytes at {extent.offset}) is outside its data box", walk.meta.start)
        ranges.append((location.method, extent.offset, end))
    return ranges


def _check_hevc_framing(data: bytes, walk: _Walk, item_id: int, ranges: list[tuple[int, int, int]]) -> None:
    """An hvc1 item's data must be whole NAL units, each after a 1-, 2- or 4-byte length
    (hvcC's lengthSizeMinusOne): an extent stretched over the bytes after it would not end
    on a NAL unit's end, so the bytes it swallowed are refused rather than served."""
    hvcc = next(
        (walk.properties[i - 1] for i, _ in walk.associations.get(item_id, ()) if 0 < i <= len(walk.properties) and walk.properties[i - 1].type == HVCC),
        None,
    )
    if hvcc is None or hvcc.end - hvcc.payload_start <= HVCC_LENGTH_SIZE_BYTE:
        raise _error(f"HEVC item {item_id} has no valid 'hvcC' property", walk.meta.start)
    size = (data[hvcc.payload_start + HVCC_LENGTH_SIZE_BYTE] & 3) + 1
    base = {CONSTRUCTION_FILE: 0, CONSTRUCTION_IDAT: walk.idat.payload_start if walk.idat else 0}
    view = memoryview(data)
    pieces = [view[base[method] + start : base[method] + end] for method, start, end in ranges]
    payload = pieces[0] if len(pieces) == 1 else memoryview(b"".join(pieces))
    position = 0
    while position < len(payload):
        length = int.from_bytes(payload[position : position + size], "big")
        position += size + length
        if length == 0 or position > len(payload):
            raise _error(f"the data of HEVC item {item_id} does not end with a whole NAL unit", walk.meta.start)


def _check_inputs(data: bytes, walk: _Walk, item_id: int, ranges: list[tuple[int, int, int]]) -> None:
    """A derived item (grid, overlay, identity) is drawn from its dimg inputs: with none, or
    fewer tiles than its grid declares, a decoder has nothing (or not all) to draw."""
    inputs = [t for r in walk.references if r.type == DIMG and r.source == item_id for t in r.targets]
    item_type = walk.items[item_id].type
    if not inputs:
        raise _error(f"derived item {item_id} ({item_type.decode('latin-1')!r}) has no input images", walk.meta.start)
    if item_type == IDENTITY and len(inputs) != 1:
        raise _error(f"identity item {item_id} has {len(inputs)} input images, not 1", walk.meta.start)
    if item_type != GRID:
        return
    base = {CONSTRUCTION_FILE: 0, CONSTRUCTION_IDAT: walk.idat.payload_start if walk.idat else 0}
    head = b"".join(data[base[m] + start : base[m] + min(end, start + WIDE_GRID_DESCRIPTOR_SIZE)] for m, start, end in ranges)
    size = WIDE_GRID_DESCRIPTOR_SIZE if len(head) > 1 and head[1] & GRID_WIDE_FIELDS else GRID_DESCRIPTOR_SIZE
    if len(head) < size:
        raise _error(f"grid item {item_id} has a descriptor of {len(head)} bytes, not {size}", walk.meta.start)
    tiles = (head[2] + 1) * (head[3] + 1)
    if len(inputs) != tiles:
        raise _error(f"grid item {item_id} has {len(inputs)} input images for its {tiles} tiles", walk.meta.start)


def _item_payload(data: bytes, walk: _Walk, item_id: int) -> bytes:
    ranges = _item_ranges(data, walk, item_id)
    if sum(end - start for _, start, end in ranges) > MAX_EXIF_PAYLOAD:
        raise _error(f"EXIF item {item_id} is larger than {MAX_EXIF_PAYLOAD} bytes", walk.meta.start)
    base = {CONSTRUCTION_FILE: 0, CONSTRUCTION_IDAT: walk.idat.payload_start if walk.idat else 0}
    return b"".join(data[base[method] + start : base[method] + end] for method, start, end in ranges)


def _exif_tiff(payload: bytes, item_id: int) -> bytes:
    # An Exif item: u32be offset from after this field to the TIFF header, then the block.
    if len(payload) < 4:
        raise ImageError(f"{FMT}: EXIF item {item_id} is {len(payload)} bytes")
    offset = int.from_bytes(payload[:4], "big")
    if offset > len(payload) - 4:
        raise ImageError(f"{FMT}: EXIF item {item_id} points its TIFF header past its end")
    return payload[4 + offset :]


def _exif_items(walk: _Walk) -> list[int]:
    """Exif items, the ones that describe the primary image first."""
    describing = {r.source for r in walk.references if r.type == CDSC and walk.primary in r.targets}
    exif = [item.id for item in walk.items.values() if item.type == EXIF_ITEM]
    return sorted(exif, key=lambda item_id: item_id not in describing)


# ---------------------------------------------------------------- the output
class _Plan(NamedTuple):
    items: list[int]
    properties: list[int]  # 0-based indexes into walk.properties, in order
    exif: bytes | None  # the minimal Exif item payload (keep_copyright)
    removed: frozenset[str]


def _removed_kinds(data: bytes, walk: _Walk, kept: set[int]) -> set[str]:
    removed = set(walk.removed)
    thumbnails = {r.source for r in walk.references if r.type == THMB}
    for item in walk.items.values():
        if item.id in kept:
            continue
        if item.type == EXIF_ITEM:
            removed.add(kinds.EXIF)
            try:
                removed |= exif_facts(_exif_tiff(_item_payload(data, walk, item.id), item.id), FMT).kinds
            except ImageError:
                pass  # a malformed EXIF item goes all the same
        elif item.type == MIME_ITEM and item.content_type.split(b";")[0].strip() == XMP_CONTENT_TYPE:
            removed.add(kinds.XMP)
        elif item.type == b"iptc":
            removed.add(kinds.IPTC)
        elif item.id in thumbnails:
            removed.add(kinds.THUMBNAIL)
        else:
            removed.add(kinds.OTHER)
    return removed


def _plan(data: bytes, walk: _Walk, keep_copyright: bool) -> _Plan:
    items = _kept_items(walk)
    kept = set(items)
    removed = _removed_kinds(data, walk, kept)
    used: set[int] = set()
    for item_id in items:
        for index, essential in walk.associations.get(item_id, ()):
            if index == 0:
                continue
            if index > len(walk.properties):
                raise _error(f"item {item_id} is associated with property {index} of {len(walk.properties)}", walk.meta.start)
            if walk.property_answers[index - 1] is KEEP:
                used.add(index - 1)
            elif essential and walk.property_kinds[index - 1] == kinds.OTHER:
                prop = walk.properties[index - 1]
                raise _error(f"item {item_id} needs unknown property {prop.name()!r}", prop.start)
            else:
                removed.add(walk.property_kinds[index - 1])
    exif = None
    exif_items = _exif_items(walk)
    if keep_copyright and exif_items:
        try:
            facts = exif_facts(_exif_tiff(_item_payload(data, walk, exif_items[0]), exif_items[0]), FMT)
        except ImageError:
            facts = None
        tiff = minimal_exif(facts._replace(orientation=1), True) if facts else None
        if tiff is not None:
            exif = struct.pack(">I", len(EXIF_HEADER)) + EXIF_HEADER + tiff
            if len(exif_items) == 1 and _item_payload(data, walk, exif_items[0]) == exif:
                removed.discard(kinds.EXIF)  # already the minimal item: a second strip logs nothing
    return _Plan(items, sorted(used), exif, frozenset(removed))


def _id(value: int, wide: bool) -> bytes:
    return struct.pack(">I" if wide else ">H", value)


def _layout(ranges: set[tuple[int, int]], what: str) -> dict[tuple[int, int], int]:
    """The new offset of each distinct range; ranges that overlap without being equal are refused."""
    placed: dict[tuple[int, int], int] = {}
    position = 0
    previous_end = -1
    for start, end in sorted(ranges):
        if start < previous_end:
            raise ImageError(f"{FMT}: item extents overlap in {what} at offset {start}")
        placed[(start, end)] = position
        position += end - start
        previous_end = end
    return placed


class _Output(NamedTuple):
    meta: Callable[[int], bytes]  # the meta box, given the file offset of the mdat payload
    mdat: list[memoryview]


def _build(data: bytes, walk: _Walk, plan: _Plan) -> _Output:
    view = memoryview(data)
    item_ranges = {item_id: _item_ranges(data, walk, item_id) for item_id in plan.items}
    for item_id, ranges in item_ranges.items():
        if not ranges and walk.items[item_id].type != IDENTITY:
            raise _error(f"image item {item_id} has no data", walk.meta.start)
        if walk.items[item_id].type == HVC1:
            _check_hevc_framing(data, walk, item_id, ranges)
        if walk.items[item_id].type in DERIVED_ITEM_TYPES:
            _check_inputs(data, walk, item_id, ranges)
    file_layout = _layout({(s, e) for r in item_ranges.values() for m, s, e in r if m == CONSTRUCTION_FILE}, "mdat")
    idat_layout = _layout({(s, e) for r in item_ranges.values() for m, s, e in r if m == CONSTRUCTION_IDAT}, "idat")
    mdat = [view[start:end] for start, end in file_layout]
    mdat_size = sum(len(piece) for piece in mdat)
    exif_id = max(plan.items) + 1 if plan.exif is not None else None
    if exif_id is not None and exif_id > MAX_U32:
        raise _error("no item ID is left for the kept EXIF item", walk.meta.start)
    idat_base = walk.idat.payload_start if walk.idat is not None else 0
    idat = b"".join(bytes(view[idat_base + start : idat_base + end]) for start, end in idat_layout)

    all_ids = [*plan.items, *([exif_id] if exif_id else [])]
    wide = max(all_ids) > MAX_U16
    kept = set(plan.items)
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s12x", 0, PICT), b"\x00")
    pitm = full_box(b"pitm", int(wide), 0, _id(walk.primary, wide))
    entries = [
        full_box(b"infe", 3 if wide else 2, walk.items[i].flags, _id(i, wide), b"\x00\x00", walk.items[i].type, b"\x00")
        for i in plan.items
    ]
    if exif_id is not None:
        entries.append(full_box(b"infe", 3 if wide else 2, 0, _id(exif_id, wide), b"\x00\x00", EXIF_ITEM, b"\x00"))
    iinf = full_box(b"iinf", int(wide), 0, _id(len(entries), wide), *entries)

    references = []
    for reference in walk.references:
        if reference.source not in kept or reference.type not in (DIMG, AUXL, PREM):
            continue
        targets = [t for t in reference.targets if t in kept]
        if reference.type == DIMG and len(targets) != len(reference.targets):
            raise _error(f"item {reference.source} is derived from items that are not kept", walk.meta.start)
        if targets:
            references.append(box(reference.type, _id(reference.source, wide), struct.pack(">H", len(targets)), *(_id(t, wide) for t in targets)))
    if exif_id is not None:
        references.append(box(CDSC, _id(exif_id, wide), b"\x00\x01", _id(walk.primary, wide)))
    iref = full_box(b"iref", int(wide), 0, *references) if references else b""

    new_index = {old: new for new, old in enumerate(plan.properties, start=1)}
    large = len(plan.properties) > 0x7F
    ipma_entries = []
    for item_id in plan.items:
        pairs = [(new_index[i - 1], e) for i, e in walk.associations.get(item_id, ()) if i and i - 1 in new_index]
        if not pairs:
            continue
        packed = b"".join(
            struct.pack(">H", index | (ESSENTIAL_15 if essential else 0)) if large else bytes((index | (ESSENTIAL_7 if essential else 0),))
            for index, essential in pairs
        )
        ipma_entries.append(_id(item_id, wide) + bytes((len(pairs),)) + packed)
    ipco = box(b"ipco", *(view[walk.properties[i].start : walk.properties[i].end] for i in plan.properties))
    ipma = full_box(b"ipma", int(wide), int(large), struct.pack(">I", len(ipma_entries)), *ipma_entries)
    iprp = box(b"iprp", ipco, ipma)
    idat_box = box(b"idat", idat) if idat_layout else b""

    exif_size = len(plan.exif) if plan.exif is not None else 0
    big = len(data) + exif_size > WIDE_OFFSETS_ABOVE
    field = 8 if big else 4
    version = 2 if wide else (1 if walk.iloc_version or idat_layout else 0)

    def meta(mdat_start: int) -> bytes:
        locations = []
        for item_id in plan.items:
            ranges = item_ranges[item_id]
            if item_id not in walk.locations:
                continue
            method = walk.locations[item_id].method
            pieces = [_id(item_id, version == 2)]
            if version:
                pieces.append(struct.pack(">H", method))
            pieces.append(struct.pack(">HH", 0, len(ranges)))
            for m, start, end in ranges:
                layout, base = (file_layout, mdat_start) if m == CONSTRUCTION_FILE else (idat_layout, 0)
                pieces.append((base + layout[(start, end)]).to_bytes(field, "big") + (end - start).to_bytes(field, "big"))
            locations.append(b"".join(pieces))
        if exif_id is not None:
            pieces = [_id(exif_id, version == 2), struct.pack(">H", 0) if version else b"", struct.pack(">HH", 0, 1)]
            pieces.append((mdat_start + mdat_size).to_bytes(field, "big") + exif_size.to_bytes(field, "big"))
            locations.append(b"".join(pieces))
        sizes = (field << 12 | field << 8).to_bytes(2, "big")
        count = _id(len(locations), version == 2)
        iloc = full_box(b"iloc", version, 0, sizes, count, *locations)
        return full_box(META, 0, 0, hdlr, pitm, iloc, iinf, iref, iprp, idat_box)

    if plan.exif is not None:
        mdat.append(memoryview(plan.exif))
    return _Output(meta, mdat)


def _mime_type(walk: _Walk) -> str:
    if walk.brands & AVIF_BRANDS:
        return "image/avif"
    if walk.brands & HEIC_BRANDS:
        return "image/heic"
    return "image/heif"


def strip(data: bytes, keep_copyright: bool) -> Stripped:
    walk = _parse(data)
    plan = _plan(data, walk, keep_copyright)
    output = _build(data, walk, plan)
    ftyp = memoryview(data)[walk.ftyp.start : walk.ftyp.end]
    mdat_size = sum(len(piece) for piece in output.mdat)
    mdat_header = box_header(MDAT, mdat_size) if output.mdat else b""
    meta_size = len(output.meta(0))
    meta = output.meta(len(ftyp) + meta_size + len(mdat_header))
    return Stripped(b"".join((ftyp, meta, mdat_header, *output.mdat)), plan.removed, _mime_type(walk))


def find_exif(data: bytes) -> bytes | None:
    """The TIFF structure of the Exif item that describes the primary image (or the first one)."""
    walk = _parse(data)
    _build(data, walk, _plan(data, walk, False))  # the image structure is checked as strip checks it
    exif_items = _exif_items(walk)
    if not exif_items:
        return None
    return _exif_tiff(_item_payload(data, walk, exif_items[0]), exif_items[0])


FORMAT = Format("heif", "image/heif", lambda head: head[4:8] == FTYP and head[8:12] in MAJOR_BRANDS, strip, find_exif)
