"""HEIF tables: the boxes of one file read into items, extents, references and properties.

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
           grpl  entity groups: full box named by the grouping type, u32 group ID,
                 u32 entity count, u32 entity IDs [, pymd: u16 tile sizes, then
                 3 x u16 per entity]
    mdat   item data addressed by file offsets; meta may come before or after it
    other  free, skip, uuid (C2PA), udta, vendor boxes; moov (image sequences) and
           mini (compact AVIF) are refused with a message that names them

Nothing here decides what is kept: parse() only reads and checks the structure.
"""

from __future__ import annotations

from typing import Callable, Iterator, NamedTuple

from ... import kinds
from ...byte_reader import ByteReader, Placed
from ...errors import ImageError
from ...limits import MAX_EXTENTS_PER_ITEM, MAX_HEIF_HEADER_READS, MAX_HEIF_META_BYTES, MAX_ITEM_REFERENCES, MAX_ITEMS
from ..contract import DROP, KEEP, Answer
from ..isobmff import (
    FULL_BOX_HEADER_SIZE,
    LARGE_BOX_HEADER_SIZE,
    USERTYPE_SIZE,
    Box,
    BoxBudget,
    check_brand_list,
    children,
    full_box_reader,
    read_box,
    read_string,
    read_uint,
)
from .brands import AVIF_BRANDS, MAJOR_BRANDS, read_brands
from .properties import Property, read_property

FMT = "HEIF"
FTYP, META, MDAT, MOOV, MINI = b"ftyp", b"meta", b"mdat", b"moov", b"mini"
PICT = b"pict"
# Item types of pictures: coded images and derived ones (grid, overlay, identity, tone map).
IMAGE_ITEM_TYPES = frozenset(
    {b"hvc1", b"av01", b"grid", b"iovl", b"iden", b"tmap", b"jpeg", b"j2k1", b"vvc1", b"avc1", b"unci", b"mski"}
)
DERIVED_ITEM_TYPES = frozenset({b"grid", b"iovl", b"iden", b"tmap"})
TONE_MAP_ITEM = b"tmap"
EXIF_ITEM, MIME_ITEM = b"Exif", b"mime"
XMP_CONTENT_TYPE = b"application/rdf+xml"
DIMG, AUXL, PREM, THMB, CDSC, BASE = b"dimg", b"auxl", b"prem", b"thmb", b"cdsc", b"base"
# Entity groups whose members are pictures of one scene (23008-12 6.8; ISO 21496-1 in
# HEIF puts a tmap item and its base in an altr group): kept whole, with every member.
ALTERNATIVES, STEREO_PAIR, PYRAMID = b"altr", b"ster", b"pymd"
PICTURE_GROUPS = frozenset({ALTERNATIVES, STEREO_PAIR, PYRAMID})
PYRAMID_HEAD, PYRAMID_PER_ENTITY = 4, 6  # pymd: tile sizes, then per entity layer fields
CONSTRUCTION_FILE, CONSTRUCTION_IDAT = 0, 1
ESSENTIAL_7, ESSENTIAL_15 = 0x80, 0x8000
LARGE_PROPERTY_INDEXES = 1  # ipma flag: 15-bit property indexes
MAX_U16, MAX_U32 = 0xFFFF, 0xFFFFFFFF
OFFSET_SIZES = frozenset({0, 4, 8})
MAX_BOX_HEADER = LARGE_BOX_HEADER_SIZE + USERTYPE_SIZE
HEADER_WINDOW = 64 * 1024  # top-level box headers are read this much at a time
ReadRange = Callable[[int, int], bytes]


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


class Group(NamedTuple):
    type: bytes  # grouping type: altr, ster, pymd, ...
    id: int
    entities: tuple[int, ...]
    payload: bytes  # the whole box payload (version, flags, fields), checked for picture groups


class Tables:
    """What the walk over one file has found so far."""

    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.budget = BoxBudget(FMT)
        self.ftyp: Box | None = None
        self.brands: set[bytes] = set()
        self.ftyp_payload = b""
        self.meta: Box | None = None
        self.meta_data: Placed | None = None  # the meta box's bytes, at their place
        self.mdats: list[Box] = []
        self.seen: set[bytes] = set()  # meta children that may appear once
        self.handler_type = b""
        self.primary: int | None = None
        self.items: dict[int, Item] = {}
        self.iloc_version = 0
        self.locations: dict[int, Location] = {}
        self.references: list[Reference] = []
        self.properties: list[Property] = []  # ipco, in order (ipma indexes are 1-based)
        self.associations: dict[int, list[tuple[int, bool]]] = {}  # item or group -> (1-based index, essential)
        self.idat: Box | None = None
        self.groups: list[Group] = []


Run = Callable[[Tables, bytes, Box], Answer]


def error(what: str, offset: int) -> ImageError:
    return ImageError(f"{FMT}: {what} at offset {offset}")


def _drop_as(kind: str) -> Run:
    def drop(walk: Tables, data: bytes, part: Box) -> Answer:
        walk.removed.add(kind)
        return DROP

    return drop


def _once(walk: Tables, part: Box) -> None:
    if part.type in walk.seen:
        raise error(f"a second {part.name()!r} box in meta", part.start)
    walk.seen.add(part.type)


# ---------------------------------------------------------------- top-level boxes
def _file_type(walk: Tables, data: bytes, part: Box) -> Answer:
    if walk.ftyp is not None:
        raise error("a second 'ftyp' box", part.start)
    walk.ftyp_payload = bytes(data[part.payload_start : part.end])
    major, compatible = read_brands(walk.ftyp_payload)
    walk.brands = {major, *compatible}
    if not walk.brands & MAJOR_BRANDS:
        raise error("'ftyp' box with no HEIF or AVIF brand", part.start)
    walk.ftyp = part
    return KEEP


def _meta(walk: Tables, data: bytes, part: Box) -> Answer:
    if walk.meta is not None:
        raise error("a second 'meta' box", part.start)
    walk.meta = part
    for child in children(data, part, FMT, walk.budget, 1, skip=FULL_BOX_HEADER_SIZE):
        (META_HANDLERS.get(child.type) or _drop_as(kinds.OTHER))(walk, data, child)
    return DROP  # rebuilt


def _media_data(walk: Tables, data: bytes, part: Box) -> Answer:
    walk.mdats.append(part)
    return DROP  # rebuilt from the kept items' extents


def _sequence(walk: Tables, data: bytes, part: Box) -> Answer:
    kind = "animated AVIF ('avis')" if walk.brands & AVIF_BRANDS else "HEIF image sequences"
    raise error(f"{kind} in a 'moov' box: sequences are not supported", part.start)


def _compact(walk: Tables, data: bytes, part: Box) -> Answer:
    raise error("compact AVIF ('mini' box, AVIF 1.2) is not supported", part.start)


TOP_HANDLERS: dict[bytes, Run] = {
    FTYP: _file_type,
    META: _meta,
    MDAT: _media_data,
    MOOV: _sequence,
    MINI: _compact,
    b"free": _drop_as(kinds.OTHER),
    b"skip": _drop_as(kinds.OTHER),
    b"uuid": _drop_as(kinds.OTHER),  # C2PA manifests and vendor data
}


# ---------------------------------------------------------------- meta children
def _handler(walk: Tables, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    reader, _, _ = full_box_reader(data, part, FMT)
    reader.skip(4, "pre_defined")
    walk.handler_type = bytes(reader.take(4, "handler type"))
    return DROP  # rewritten without its name


def _primary_item(walk: Tables, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    reader, version, _ = full_box_reader(data, part, FMT)
    walk.primary = reader.u16be("item ID") if version == 0 else reader.u32be("item ID")
    return DROP


def _item_info(walk: Tables, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    reader, version, _ = full_box_reader(data, part, FMT)
    count = reader.u16be("entry count") if version == 0 else reader.u32be("entry count")
    if count > MAX_ITEMS:
        raise error(f"'iinf' declares {count} items, over the limit of {MAX_ITEMS}", part.start)
    for entry in children(data, part, FMT, walk.budget, 2, skip=reader.pos - part.payload_start):
        if entry.type != b"infe":
            continue
        item = _item_entry(data, entry)
        if item.id in walk.items:
            raise error(f"item {item.id} declared twice", entry.start)
        if len(walk.items) >= MAX_ITEMS:
            raise error(f"more than {MAX_ITEMS} items", entry.start)
        walk.items[item.id] = item
    return DROP


def _item_entry(data: bytes, part: Box) -> Item:
    # infe v2: u16 item ID; v3: u32; then u16 protection index, item type, name[, content type]
    reader, version, flags = full_box_reader(data, part, FMT)
    if version not in (2, 3):
        raise error(f"'infe' version {version} (only 2 and 3 are HEIF)", part.start)
    item_id = reader.u16be("item ID") if version == 2 else reader.u32be("item ID")
    protection = reader.u16be("item protection index")
    item_type = bytes(reader.take(4, "item type"))
    if protection:
        raise error(f"protected item {item_id}", part.start)
    read_string(reader)
    content_type = read_string(reader) if item_type == MIME_ITEM else b""
    return Item(item_id, item_type, flags, content_type)


def _item_locations(walk: Tables, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    reader, version, _ = full_box_reader(data, part, FMT)
    if version > 2:
        raise error(f"'iloc' version {version}", part.start)
    sizes = reader.u16be("field sizes")
    offset_size, length_size, base_size, index_size = sizes >> 12, sizes >> 8 & 15, sizes >> 4 & 15, sizes & 15
    if version == 0:
        index_size = 0
    if not {offset_size, length_size, base_size, index_size} <= OFFSET_SIZES:
        raise error(f"'iloc' field sizes {sizes:04x}", part.start)
    count = reader.u16be("item count") if version < 2 else reader.u32be("item count")
    if count > MAX_ITEMS:
        raise error(f"'iloc' declares {count} items, over the limit of {MAX_ITEMS}", part.start)
    walk.iloc_version = version
    for _ in range(count):
        item_id = reader.u16be("item ID") if version < 2 else reader.u32be("item ID")
        method = reader.u16be("construction method") & 15 if version else CONSTRUCTION_FILE
        reference = reader.u16be("data reference index")
        base = read_uint(reader, base_size, "base offset")
        extent_count = reader.u16be("extent count")
        if extent_count > MAX_EXTENTS_PER_ITEM:
            raise error(f"item {item_id} has {extent_count} extents, over the limit of {MAX_EXTENTS_PER_ITEM}", part.start)
        extents = []
        for _ in range(extent_count):
            read_uint(reader, index_size, "extent index")
            offset = read_uint(reader, offset_size, "extent offset")
            length = read_uint(reader, length_size, "extent length")
            extents.append(Extent(base + offset, length))
        if item_id in walk.locations:
            raise error(f"item {item_id} located twice in 'iloc'", part.start)
        if reference:
            raise error(f"item {item_id} has its data in another file", part.start)
        walk.locations[item_id] = Location(method, tuple(extents))
    return DROP


def _item_references(walk: Tables, data: bytes, part: Box) -> Answer:
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
            raise error(f"more than {MAX_ITEM_REFERENCES} item references", reference.start)
        targets = tuple(read_id("to item ID") for _ in range(count))
        walk.references.append(Reference(reference.type, source, targets))
    return DROP


def _item_properties(walk: Tables, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    for child in children(data, part, FMT, walk.budget, 2):
        if child.type == b"ipco":
            if walk.properties:
                raise error("a second 'ipco' box", child.start)
            walk.properties = [read_property(data, prop) for prop in children(data, child, FMT, walk.budget, 3)]
        elif child.type == b"ipma":
            _associations(walk, data, child)
    return DROP


def _associations(walk: Tables, data: bytes, part: Box) -> None:
    # ipma: u32 entry count; per entry: item ID (u16 v0, u32 v1), u8 association count,
    # then u8 (1 + 7 bits) or u16 (1 + 15 bits) essential flag and property index
    reader, version, flags = full_box_reader(data, part, FMT)
    count = reader.u32be("entry count")
    if count > MAX_ITEMS:
        raise error(f"'ipma' declares {count} entries, over the limit of {MAX_ITEMS}", part.start)
    large = flags & LARGE_PROPERTY_INDEXES
    for _ in range(count):
        item_id = reader.u16be("item ID") if version == 0 else reader.u32be("item ID")
        if item_id in walk.associations:
            raise error(f"item {item_id} associated twice in 'ipma'", part.start)
        pairs = []
        for _ in range(reader.u8("association count")):
            if large:
                value = reader.u16be("property index")
                pairs.append((value & ~ESSENTIAL_15, bool(value & ESSENTIAL_15)))
            else:
                value = reader.u8("property index")
                pairs.append((value & ~ESSENTIAL_7, bool(value & ESSENTIAL_7)))
        walk.associations[item_id] = pairs


def _item_data(walk: Tables, data: bytes, part: Box) -> Answer:
    _once(walk, part)
    walk.idat = part
    return DROP


def _groups(walk: Tables, data: bytes, part: Box) -> Answer:
    # grpl: entity groups, each a full box: u32 group ID, u32 entity count, u32 entity IDs
    _once(walk, part)
    total = 0
    for child in children(data, part, FMT, walk.budget, 2):
        reader, _, _ = full_box_reader(data, child, FMT)
        group_id = reader.u32be("group ID")
        count = reader.u32be("entity count")
        total += count
        if total > MAX_ITEM_REFERENCES or len(walk.groups) >= MAX_ITEMS:
            raise error(f"more than {MAX_ITEM_REFERENCES} entities or {MAX_ITEMS} groups in 'grpl'", child.start)
        reader.need(4 * count, f"{count} entity IDs")
        entities = tuple(reader.u32be("entity ID") for _ in range(count))
        walk.groups.append(Group(child.type, group_id, entities, bytes(data[child.payload_start : child.end])))
    return DROP


META_HANDLERS: dict[bytes, Run] = {
    b"hdlr": _handler,
    b"pitm": _primary_item,
    b"iinf": _item_info,
    b"iloc": _item_locations,
    b"iref": _item_references,
    b"iprp": _item_properties,
    b"idat": _item_data,
    b"grpl": _groups,
    b"xml ": _drop_as(kinds.XMP),
    b"bxml": _drop_as(kinds.XMP),
    # dinf (data references: every kept item must be in this file) and the rest
}


# ---------------------------------------------------------------- the walk
class _HeaderReads:
    """The top-level box headers, read in windows of HEADER_WINDOW bytes (a box's payload is
    read only when asked: ftyp and meta, from the window when it holds them)."""

    def __init__(self, size: int, read_range: ReadRange) -> None:
        self.size = size
        self._read_range = read_range
        self._window = Placed(b"", 0)
        self._reads = 0

    def reader(self, position: int) -> ByteReader:
        window = self._window
        if position + MAX_BOX_HEADER > len(window) and len(window) < self.size:
            self._reads += 1
            if self._reads > MAX_HEIF_HEADER_READS:
                raise error(f"more than {MAX_HEIF_HEADER_READS} reads to find the top-level boxes", position)
            window = self._window = Placed(self._read(position, min(self.size, position + HEADER_WINDOW)), position)
        return ByteReader(window, FMT, start=position, end=self.size)

    def payload(self, part: Box) -> Placed:
        window = self._window
        if window.origin <= part.start and part.end <= len(window):
            return Placed(window[part.start : part.end], part.start)
        return Placed(self._read(part.start, part.end), part.start)

    def _read(self, start: int, end: int) -> bytes:
        got = self._read_range(start, end)
        if len(got) != end - start:
            raise error(f"a read of {end - start} bytes gave {len(got)}", start)
        return got


def _top_boxes(reads: _HeaderReads, walk: Tables) -> Iterator[Box]:
    """The top-level boxes in order; bytes after the last box that are not a box end the
    walk (TRAILER)."""
    position = 0
    while position < reads.size:
        reader = reads.reader(position)
        try:
            part = read_box(reader, walk.budget)
        except ImageError:
            if walk.ftyp is None:
                raise
            walk.removed.add(kinds.TRAILER)  # bytes that are not a box: never copied
            return
        position = part.end
        yield part


def parse(size: int, read_range: ReadRange) -> Tables:
    """The file's boxes and meta tables, checked for structure; nothing decided yet. Only the
    box headers, ftyp and meta are read (read_range(start, end) -> bytes, any part of the file)."""
    walk = Tables()
    reads = _HeaderReads(size, read_range)
    for part in _top_boxes(reads, walk):
        if walk.ftyp is None and part.type != FTYP:
            raise error(f"first box is {part.name()!r}, not 'ftyp'", part.start)
        data = None
        if part.type == FTYP and walk.ftyp is None:
            check_brand_list(part, FMT)
            data = reads.payload(part)
        elif part.type == META and walk.meta is None:
            if part.end - part.start > MAX_HEIF_META_BYTES:
                raise error(f"'meta' box of {part.end - part.start} bytes, over the limit of {MAX_HEIF_META_BYTES}", part.start)
            data = walk.meta_data = reads.payload(part)
        (TOP_HANDLERS.get(part.type) or _drop_as(kinds.OTHER))(walk, data, part)
    if walk.meta is None:
        raise error("no 'meta' box", size)
    if walk.handler_type != PICT:
        raise error(f"'meta' handler is {walk.handler_type!r}, not 'pict'", walk.meta.start)
    if walk.primary is None or walk.primary not in walk.items:
        raise error(f"primary item {walk.primary} is not declared in 'iinf'", walk.meta.start)
    return walk
