"""HEIF: the new meta and mdat, laid out from the kept items (offsets by prefix sums)."""

from __future__ import annotations

import struct
from typing import Callable, NamedTuple

from ...errors import ImageError
from ..isobmff import box, full_box
from .payloads import item_ranges, check_hevc_framing
from .selection import Plan
from .tables import (
    AUXL, CDSC, CONSTRUCTION_FILE, CONSTRUCTION_IDAT, DIMG, ESSENTIAL_15, ESSENTIAL_7, EXIF_ITEM, FMT, HVC1,
    IDENTITY, MAX_U16, MAX_U32, META, PICT, PREM, WIDE_OFFSETS_ABOVE, Tables, error,
)


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


class Output(NamedTuple):
    meta: Callable[[int], bytes]  # the meta box, given the file offset of the mdat payload
    mdat: list[memoryview]


def build(data: bytes, walk: Tables, plan: Plan) -> Output:
    view = memoryview(data)
    ranges_of = {item_id: item_ranges(data, walk, item_id) for item_id in plan.items}
    for item_id, ranges in ranges_of.items():
        if not ranges and walk.items[item_id].type != IDENTITY:
            raise error(f"image item {item_id} has no data", walk.meta.start)
        if walk.items[item_id].type == HVC1:
            check_hevc_framing(data, walk, item_id, ranges)
    file_layout = _layout({(s, e) for r in ranges_of.values() for m, s, e in r if m == CONSTRUCTION_FILE}, "mdat")
    idat_layout = _layout({(s, e) for r in ranges_of.values() for m, s, e in r if m == CONSTRUCTION_IDAT}, "idat")
    mdat = [view[start:end] for start, end in file_layout]
    mdat_size = sum(len(piece) for piece in mdat)
    exif_id = max(plan.items) + 1 if plan.exif is not None else None
    if exif_id is not None and exif_id > MAX_U32:
        raise error("no item ID is left for the kept EXIF item", walk.meta.start)
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
            raise error(f"item {reference.source} is derived from items that are not kept", walk.meta.start)
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
            ranges = ranges_of[item_id]
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
    return Output(meta, mdat)


