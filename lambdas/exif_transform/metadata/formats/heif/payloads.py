"""HEIF: the kept items' data, checked by coding type, each distinct byte range once.

Kept items are grouped by their extent lists: items that share data (a tile used twice,
libavif's deduplicated payloads) share the whole list, and the list is gathered and
checked once. Data shared otherwise (two kept items with overlapping but different
extents, an item listing the same bytes twice) is refused: it is how an extent is
stretched over bytes that belong to something else, and how a small file makes the
check do unbounded work. With that rule the bytes checked are at most the file's size.

Bytes of a dropped item (Exif, XMP, a thumbnail...) may not lie inside a kept item's
data: the picture would carry them out. Each dropped extent is placed among the kept
ranges (sorted once) by a binary search; a dropped item's payload is never read.

Coded payloads go through item_payloads.check_item_payload (cleaned or refused) before
the first byte when their block is small (_ahead: read with ranged reads, coalesced);
a larger block is checked as it streams and must pass unchanged (stream_checks.py), so
every size in iloc is known before the meta box is written. hvcC and av1C go through
check_decoder_config, and the XMP item of an Apple gain map through
xmp_rendering.rendering_xmp (reduced, or dropped when nothing of it renders).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Callable, NamedTuple

from ... import kinds
from ...errors import ImageError
from ...limits import MAX_HEIF_CHECKED_AHEAD, MAX_HEIF_READ_AHEAD, MAX_XMP_PACKET
from ...xmp_rendering import rendering_xmp
from .. import hevc
from ..item_payloads import AV01, HVC1, MASK, UNCOMPRESSED, check_decoder_config, check_item_payload, printable_type
from .extents import ExtentIndex, Range
from .selection import Plan
from .stream_checks import Digest, NalUnits, Obus, digest
from .tables import CONSTRUCTION_FILE, CONSTRUCTION_IDAT, DERIVED_ITEM_TYPES, Tables, error

DECODER_CONFIGS = (b"hvcC", b"av1C")
SIZE_CHECKED = frozenset({UNCOMPRESSED, MASK})  # their checks read only the payload's size
# Reads before the first byte: pieces this close share one read (64 KB cost less than a
# round trip), and one read spans at most this much.
READ_AHEAD_GAP = 64 * 1024
READ_AHEAD_SPAN = 8 * 1024 * 1024


class Block(NamedTuple):
    method: int  # where it is written: mdat (CONSTRUCTION_FILE) or idat
    pieces: tuple[Range, ...]  # the input ranges copied as they are, when replacement is None
    replacement: bytes | None  # the payload written instead, as one extent
    # A file block passed through: makes the check its bytes get as they stream (None:
    # nothing of it is read, its check took only its size).
    verify: Callable[[], Any] | None = None


class Payloads(NamedTuple):
    blocks: list[Block]  # distinct data, in the order first used
    block_of: dict[int, int]  # item -> its block (items without data have none)
    properties: dict[int, bytes]  # kept 0-based ipco index -> the payload to write
    exif: int | None  # the block of the minimal Exif item (keep_copyright)
    removed: frozenset[str]  # what the checks removed from kept payloads


def _sorted_ranges(groups: list[tuple[Range, ...]], tables: Tables) -> dict[int, tuple[list[int], list[int]]]:
    """Per construction method, the starts and ends of every kept range, sorted; ranges of
    different extent lists may not overlap."""
    ordered = sorted((piece, key_index) for key_index, key in enumerate(groups) for piece in key)
    by_method: dict[int, tuple[list[int], list[int]]] = {CONSTRUCTION_FILE: ([], []), CONSTRUCTION_IDAT: ([], [])}
    previous: tuple[Range, int] | None = None
    for piece, key_index in ordered:
        if previous is not None and previous[0].method == piece.method and piece.start < previous[0].end:
            raise error(
                f"kept items share part of their data at offset {piece.start} without sharing all of it",
                tables.meta.start,
            )
        starts, ends = by_method[piece.method]
        starts.append(piece.start)
        ends.append(piece.end)
        previous = (piece, key_index)
    return by_method


def _check_dropped(index: ExtentIndex, tables: Tables, items: list[int], kept: dict[int, tuple[list[int], list[int]]]) -> None:
    for item_id in items:
        for piece in index.raw_ranges(item_id):
            starts, ends = kept[piece.method]
            end = piece.end if piece.end > piece.start else index.size  # length 0: to the end
            position = bisect_right(starts, piece.start) - 1
            inside = (position >= 0 and ends[position] > piece.start) or (position + 1 < len(starts) and starts[position + 1] < end)
            if inside:
                raise error(f"the data of dropped item {item_id} lies inside the data of a kept image", tables.meta.start)


def _item_properties(tables: Tables, plan: Plan, item_id: int, written: dict[int, bytes]) -> dict[bytes, bytes]:
    # selection.plan gives every kept picture its (maybe empty) list of associations
    return {tables.properties[index].box.type: written[index] for index, _ in plan.associations[item_id]}


def _reduced_xmp(index: ExtentIndex, item_id: int) -> tuple[bytes | None, bool]:
    """The rendering part of a gain map's XMP item, and whether anything was removed."""
    try:
        packet = index.payload(item_id, MAX_XMP_PACKET, "XMP")
    except ImageError:
        return None, True  # too large or outside its box: it goes
    reduced = rendering_xmp(packet)
    return reduced, reduced != packet


class SizeOnly:
    """A payload of `size` bytes that is not read: what a check reading only its length sees
    (uncompressed.check_uncompressed and check_mask)."""

    def __init__(self, size: int) -> None:
        self._size = size

    def __len__(self) -> int:
        return self._size


def _in_file_order(key: tuple[Range, ...]) -> bool:
    return all(before.end <= after.start for before, after in zip(key, key[1:]))


def _read_ahead(index: ExtentIndex, keys: list[tuple[Range, ...]]) -> dict[Range, memoryview]:
    """The pieces of the blocks checked before the first byte, read in as few ranged reads
    as is cheap: pieces less than READ_AHEAD_GAP apart share a read of at most READ_AHEAD_SPAN."""
    pieces = sorted({piece for key in keys for piece in key})
    found: dict[Range, memoryview] = {}
    position = 0
    while position < len(pieces):
        first = last = position
        while (
            last + 1 < len(pieces)
            and pieces[last + 1].start - pieces[last].end <= READ_AHEAD_GAP
            and pieces[last + 1].end - pieces[first].start <= READ_AHEAD_SPAN
        ):
            last += 1
        start, end = pieces[first].start, max(piece.end for piece in pieces[first : last + 1])
        read = memoryview(index.read_range(start, end))
        if len(read) != end - start:
            raise error(f"a read of {end - start} bytes at offset {start} gave {len(read)}", index.tables.meta.start)
        for piece in pieces[first : last + 1]:
            found[piece] = read[piece.start - start : piece.end - start]
        position = last + 1
    return found


def _ahead(groups: list[tuple[Range, ...]]) -> set[tuple[Range, ...]]:
    """The file blocks checked before the first byte: those of at most MAX_HEIF_CHECKED_AHEAD
    bytes, in file order, while the bytes read stay within MAX_HEIF_READ_AHEAD."""
    total = 0
    chosen = set()
    file_keys = [key for key in groups if key and all(piece.method == CONSTRUCTION_FILE for piece in key)]
    for key in sorted(file_keys, key=lambda key: min(piece.start for piece in key)):
        size = sum(piece.end - piece.start for piece in key)
        if size <= MAX_HEIF_CHECKED_AHEAD and total + size <= MAX_HEIF_READ_AHEAD:
            chosen.add(key)
            total += size
    return chosen


def _streamed(item_id: int, item_type: bytes, key: tuple[Range, ...], config: bytes | None, inputs: int, properties: dict[bytes, bytes], meta_start: int) -> Callable[[], object] | None:
    """The check a block too large to read ahead gets as it streams (None: its check reads
    only its size, done here); refused when it has no such check."""
    size = sum(piece.end - piece.start for piece in key)
    if item_type in SIZE_CHECKED:
        check_item_payload(item_type, SizeOnly(size), config=config, input_count=inputs, properties=properties)
        return None
    if item_type not in (HVC1, AV01):
        raise error(f"item {item_id} ({printable_type(item_type)}) holds {size} bytes, more than the {MAX_HEIF_CHECKED_AHEAD} checked before the first byte", meta_start)
    if inputs:
        raise ImageError(f"HEIF: coded item of type {printable_type(item_type)} has {inputs} 'dimg' inputs")
    if not _in_file_order(key):
        raise error(f"item {item_id} lists its {size} bytes out of file order (more than the {MAX_HEIF_CHECKED_AHEAD} checked before the first byte)", meta_start)
    if item_type == AV01:
        return lambda: Obus(item_id, size)
    if config is None:
        raise ImageError("HEIF: HEVC ('hvc1') item has no 'hvcC' property")
    length = hevc.length_size(config)
    return lambda: NalUnits(item_id, size, length)


def check(tables: Tables, index: ExtentIndex, plan: Plan) -> Payloads:
    removed: set[str] = set()
    written = {i: tables.properties[i].payload for i in plan.properties}
    for i in plan.properties:
        box_type = tables.properties[i].box.type
        if box_type in DECODER_CONFIGS:
            cleaned = check_decoder_config(box_type, written[i])
            if cleaned != written[i]:
                written[i] = cleaned
                removed.add(kinds.OTHER)

    # Every kept item's extents, grouped by extent list, before any byte is read.
    key_of: dict[int, tuple[Range, ...]] = {}
    for item_id in plan.pictures:
        key = tuple(index.ranges(item_id))
        item_type = tables.items[item_id].type
        if not key and item_type not in DERIVED_ITEM_TYPES:
            raise error(f"image item {item_id} has no data", tables.meta.start)
        if item_type in DERIVED_ITEM_TYPES and not plan.inputs[item_id]:
            # a grid whose iref was lost would be served as a picture with nothing to draw
            raise error(f"derived item {item_id} ({printable_type(item_type)}) has no input images", tables.meta.start)
        if key:
            key_of[item_id] = key
    groups = list(dict.fromkeys(key_of.values()))  # each distinct extent list once, in the order first used
    kept_ranges = _sorted_ranges(groups, tables)
    _check_dropped(index, tables, [*plan.dropped, *plan.gain_map_xmp], kept_ranges)
    ahead = _ahead(groups)
    fetched = _read_ahead(index, sorted(ahead))

    blocks: list[Block] = []
    block_of: dict[int, int] = {}
    checked: dict[tuple[Range, ...], tuple[int, tuple]] = {}  # extent list -> (block, what it was checked as)
    for item_id in plan.pictures:
        item = tables.items[item_id]
        properties = _item_properties(tables, plan, item_id, written)
        # only hvc1's check reads a decoder configuration: av1C is kept on av01 items alone
        # (properties.PROPERTY_ITEM_TYPES), whose check takes its OBUs from the payload
        config = properties.get(b"hvcC")
        signature = (item.type, plan.inputs[item_id], tuple(sorted(properties.items())))
        key = key_of.get(item_id, ())
        if key in checked:
            block, first = checked[key]
            if first != signature:
                raise error(f"item {item_id} shares its data with an item of another coding", tables.meta.start)
            block_of[item_id] = block
            continue
        method = key[0].method if key else CONSTRUCTION_FILE  # iloc gives an item one construction method for all its extents
        if key and method == CONSTRUCTION_FILE and key not in ahead:
            verify = _streamed(item_id, item.type, key, config, plan.inputs[item_id], properties, tables.meta.start)
            blocks.append(Block(method, key, None, verify))
            checked[key] = (len(blocks) - 1, signature)
            block_of[item_id] = len(blocks) - 1
            continue
        parts = [fetched[piece] if method == CONSTRUCTION_FILE else index.read(piece) for piece in key]
        payload = b"".join(parts)
        result = check_item_payload(item.type, payload, config=config, input_count=plan.inputs[item_id], properties=properties)
        if not key:
            continue  # a derived item without data: only 'iden' passes its check, and it returns the empty payload
        verify = None
        if result != payload:
            removed.add(kinds.OTHER)
        elif method == CONSTRUCTION_FILE:
            expected = digest([fetched[piece] for piece in sorted(key)])
            verify = _digest_check(item_id, expected)
        blocks.append(Block(method, key, None if result == payload else bytes(result), verify))
        checked[key] = (len(blocks) - 1, signature)
        block_of[item_id] = len(blocks) - 1

    for item_id in plan.gain_map_xmp:
        reduced, changed = _reduced_xmp(index, item_id)
        if changed:
            removed.add(kinds.XMP)
        if reduced is not None:
            blocks.append(Block(CONSTRUCTION_FILE, (), reduced))
            block_of[item_id] = len(blocks) - 1
    exif = None
    if plan.exif_payload is not None:
        blocks.append(Block(CONSTRUCTION_FILE, (), plan.exif_payload))
        exif = len(blocks) - 1
    return Payloads(blocks, block_of, written, exif, frozenset(removed))


def _digest_check(item_id: int, expected: bytes) -> Callable[[], Digest]:
    return lambda: Digest(item_id, expected)
