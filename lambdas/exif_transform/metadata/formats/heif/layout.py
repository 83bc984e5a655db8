"""HEIF: the output file, laid out from the checked payloads.

    ftyp  brands.file_type: registered brands true of what is kept
    meta  hdlr (no name), pitm, iloc, iinf, iref, iprp (kept properties renumbered in
          ipco order), idat, grpl (kept picture groups as they were)
    mdat  every byte range passed through as it is, once, in the order of the input
          (so a streamed strip copies the input front to back as it arrives), then
          the payloads written new: items cleaned before the first byte, the reduced
          gain-map XMP, the minimal Exif item

Field widths are fixed first (item IDs 16 or 32 bits, iloc offsets 4 or 8 bytes), so
the meta box has the same size whatever the offsets in it, and every offset is a
prefix sum known before anything is written.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ..isobmff import box, box_header, full_box
from .brands import file_type
from .extents import ExtentIndex
from .payloads import Payloads
from .selection import Plan
from .tables import (
    CDSC,
    CONSTRUCTION_FILE,
    CONSTRUCTION_IDAT,
    ESSENTIAL_7,
    ESSENTIAL_15,
    EXIF_ITEM,
    MAX_U16,
    MAX_U32,
    MDAT,
    META,
    MIME_ITEM,
    PICT,
    TONE_MAP_ITEM,
    XMP_CONTENT_TYPE,
    Reference,
    Tables,
    error,
)

HIDDEN = 1  # the only infe flag written (the others are reserved)
WIDE_OFFSETS_ABOVE = 0xFFFF0000  # output bytes beyond which iloc uses 8-byte offsets


def _id(value: int, wide: bool) -> bytes:
    return struct.pack(">I" if wide else ">H", value)


class Run(NamedTuple):
    """Input bytes start..end passed through into mdat, part of payloads.blocks[block]."""

    start: int
    end: int
    block: int


class Output(NamedTuple):
    head: bytes  # ftyp, meta and the mdat header
    runs: list[Run]  # in input order, after the head
    tail: list[bytes]  # after the runs: the new payloads


def build(size: int, tables: Tables, index: ExtentIndex, plan: Plan, payloads: Payloads) -> Output:
    extents: list[list[tuple[int, int]]] = [[] for _ in payloads.blocks]
    idat: list[memoryview | bytes] = []
    idat_size = 0
    runs = sorted(
        Run(piece.start, piece.end, number)
        for number, block in enumerate(payloads.blocks)
        if block.method == CONSTRUCTION_FILE and block.replacement is None
        for piece in block.pieces
    )
    placed_at: dict[tuple[int, int], int] = {}
    mdat_size = 0
    for run in runs:
        placed_at[run.start, run.end] = mdat_size
        mdat_size += run.end - run.start
    tail: list[bytes] = []
    for number, block in enumerate(payloads.blocks):
        if block.method == CONSTRUCTION_IDAT:
            parts = [block.replacement] if block.replacement is not None else [index.read(p) for p in block.pieces]
            for part in parts:
                extents[number].append((idat_size, len(part)))
                idat.append(part)
                idat_size += len(part)
        elif block.replacement is not None:
            extents[number].append((mdat_size, len(block.replacement)))
            tail.append(block.replacement)
            mdat_size += len(block.replacement)
        else:
            extents[number] = [(placed_at[p.start, p.end], p.end - p.start) for p in block.pieces]

    pictures = set(plan.pictures)
    written = [i for i in tables.items if i in payloads.block_of or i in pictures]
    kept = set(written)
    exif_id = None
    if payloads.exif is not None:
        exif_id = max([*written, *(g.id for g in plan.groups)]) + 1
        if exif_id > MAX_U32:
            raise error("no item ID is left for the kept EXIF item", tables.meta.start)
    all_ids = [*written, *(g.id for g in plan.groups), *([exif_id] if exif_id else [])]
    wide = max(all_ids) > MAX_U16

    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s12x", 0, PICT), b"\x00")
    pitm = full_box(b"pitm", int(wide), 0, _id(tables.primary, wide))
    version = 3 if wide else 2
    entries = []
    for item_id in written:
        item = tables.items[item_id]
        content = XMP_CONTENT_TYPE + b"\x00" if item.type == MIME_ITEM else b""
        entries.append(full_box(b"infe", version, item.flags & HIDDEN, _id(item_id, wide), b"\x00\x00", item.type, b"\x00", content))
    if exif_id is not None:
        entries.append(full_box(b"infe", version, 0, _id(exif_id, wide), b"\x00\x00", EXIF_ITEM, b"\x00"))
    iinf = full_box(b"iinf", int(wide), 0, _id(len(entries), wide), *entries)

    references = [r for r in plan.references if r.source in kept and all(t in kept for t in r.targets)]
    if exif_id is not None:
        references.append(Reference(CDSC, exif_id, (tables.primary,)))
    iref = b""
    if references:
        refs = [box(r.type, _id(r.source, wide), struct.pack(">H", len(r.targets)), *(_id(t, wide) for t in r.targets)) for r in references]
        iref = full_box(b"iref", int(wide), 0, *refs)

    new_index = {old: new for new, old in enumerate(plan.properties, start=1)}
    large = len(plan.properties) > 0x7F
    ipma_entries = []
    for entity in [*written, *(g.id for g in plan.groups)]:
        pairs = plan.associations.get(entity, [])
        if not pairs:
            continue
        packed = b"".join(
            struct.pack(">H", new_index[i] | (ESSENTIAL_15 if essential else 0)) if large else bytes((new_index[i] | (ESSENTIAL_7 if essential else 0),))
            for i, essential in pairs
        )
        ipma_entries.append(_id(entity, wide) + bytes((len(pairs),)) + packed)
    ipco = box(b"ipco", *(box(tables.properties[i].box.type, payloads.properties[i]) for i in plan.properties))
    ipma = full_box(b"ipma", int(wide), int(large), struct.pack(">I", len(ipma_entries)), *ipma_entries)
    iprp = box(b"iprp", ipco, ipma)
    idat_box = box(b"idat", *idat) if idat else b""
    grpl = box(b"grpl", *(box(g.type, g.payload) for g in plan.groups)) if plan.groups else b""

    ftyp = file_type(tables.ftyp_payload, tone_map=any(tables.items[i].type == TONE_MAP_ITEM for i in written))
    mdat_header = box_header(MDAT, mdat_size) if runs or tail else b""
    field = 8 if size + mdat_size > WIDE_OFFSETS_ABOVE else 4
    iloc_version = 2 if wide else (1 if tables.iloc_version or idat else 0)
    located = [(i, payloads.block_of[i]) for i in written if i in payloads.block_of]
    if exif_id is not None:
        located.append((exif_id, payloads.exif))

    def meta(mdat_start: int) -> bytes:
        rows = []
        for item_id, block_index in located:
            block = payloads.blocks[block_index]
            row = [_id(item_id, iloc_version == 2)]
            if iloc_version:
                row.append(struct.pack(">H", block.method))
            placed = extents[block_index]
            row.append(struct.pack(">HH", 0, len(placed)))
            base = mdat_start if block.method == CONSTRUCTION_FILE else 0
            row += [(base + offset).to_bytes(field, "big") + length.to_bytes(field, "big") for offset, length in placed]
            rows.append(b"".join(row))
        sizes_field = (field << 12 | field << 8).to_bytes(2, "big")
        iloc = full_box(b"iloc", iloc_version, 0, sizes_field, _id(len(rows), iloc_version == 2), *rows)
        return full_box(META, 0, 0, hdlr, pitm, iloc, iinf, iref, iprp, idat_box, grpl)

    meta_size = len(meta(0))
    mdat_start = len(ftyp) + meta_size + len(mdat_header)
    return Output(b"".join((ftyp, meta(mdat_start), mdat_header)), runs, tail)

