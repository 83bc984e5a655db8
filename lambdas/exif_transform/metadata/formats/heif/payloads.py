"""HEIF: the kept items' data, gathered from their extents and checked by coding type."""

from __future__ import annotations

from ...errors import ImageError
from ...limits import MAX_EXIF_PAYLOAD
from .tables import CONSTRUCTION_FILE, CONSTRUCTION_IDAT, FMT, HVCC, HVCC_LENGTH_SIZE_BYTE, Tables, error


def item_ranges(data: bytes, walk: Tables, item_id: int) -> list[tuple[int, int, int]]:
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
            raise error(f"item {item_id} uses construction method {location.method}", walk.meta.start)
        if extent.length == 0 or not any(low <= extent.offset and end <= high for low, high in containers):
            raise error(f"an extent of item {item_id} ({extent.length} bytes at {extent.offset}) is outside its data box", walk.meta.start)
        ranges.append((location.method, extent.offset, end))
    return ranges


def check_hevc_framing(data: bytes, walk: Tables, item_id: int, ranges: list[tuple[int, int, int]]) -> None:
    """An hvc1 item's data must be whole NAL units, each after a 1-, 2- or 4-byte length
    (hvcC's lengthSizeMinusOne): an extent stretched over the bytes after it would not end
    on a NAL unit's end, so the bytes it swallowed are refused rather than served."""
    hvcc = next(
        (walk.properties[i - 1] for i, _ in walk.associations.get(item_id, ()) if 0 < i <= len(walk.properties) and walk.properties[i - 1].type == HVCC),
        None,
    )
    if hvcc is None or hvcc.end - hvcc.payload_start <= HVCC_LENGTH_SIZE_BYTE:
        raise error(f"HEVC item {item_id} has no valid 'hvcC' property", walk.meta.start)
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
            raise error(f"the data of HEVC item {item_id} does not end with a whole NAL unit", walk.meta.start)


def item_payload(data: bytes, walk: Tables, item_id: int) -> bytes:
    ranges = item_ranges(data, walk, item_id)
    if sum(end - start for _, start, end in ranges) > MAX_EXIF_PAYLOAD:
        raise error(f"EXIF item {item_id} is larger than {MAX_EXIF_PAYLOAD} bytes", walk.meta.start)
    base = {CONSTRUCTION_FILE: 0, CONSTRUCTION_IDAT: walk.idat.payload_start if walk.idat else 0}
    return b"".join(data[base[method] + start : base[method] + end] for method, start, end in ranges)


def exif_tiff(payload: bytes, item_id: int) -> bytes:
    # An Exif item: u32be offset from after this field to the TIFF header, then the block.
    if len(payload) < 4:
        raise ImageError(f"{FMT}: EXIF item {item_id} is {len(payload)} bytes")
    offset = int.from_bytes(payload[:4], "big")
    if offset > len(payload) - 4:
        raise ImageError(f"{FMT}: EXIF item {item_id} points its TIFF header past its end")
    return payload[4 + offset :]

