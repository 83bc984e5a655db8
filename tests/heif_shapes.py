"""HEIF/AVIF files of shapes the tests need and encoders never write: a raw builder that
places every extent where it is told (many mdat boxes, repeated extents, shared blocks),
the inputs once reported slow, and a counter of the work a call does.

Operation counts (Python calls, C calls included) stand in for time: they do not depend
on the machine's load, and an input that makes the work grow faster than its size shows
as a count far above the bound.
"""

from __future__ import annotations

import functools
import struct
import sys
from dataclasses import dataclass, field

import image_builders as b
import isobmff_builders as ib
from isobmff_builders import box, full_box


@dataclass
class RawItem:
    id: int
    type: bytes
    extents: list[tuple[int, int]] = field(default_factory=list)  # (offset, length): in the file, or in idat
    properties: list[tuple[int, bool]] = field(default_factory=list)  # (1-based ipco index, essential)
    hidden: bool = False
    content_type: bytes = b""
    method: int = 0  # iloc construction method: 0 = file offset, 1 = idat


def raw_meta(items: list[RawItem], primary: int, properties: list[bytes], references: list[tuple[bytes, int, list[int]]], *, extra: tuple[bytes, ...] = ()) -> bytes:
    """A meta box with an iloc v1 of 4-byte fields (its size does not depend on the offsets)."""
    entries = []
    for item in items:
        tail = item.content_type + b"\x00" if item.type == b"mime" else b""
        entries.append(full_box(b"infe", 2, int(item.hidden), struct.pack(">HH", item.id, 0), item.type, b"\x00", tail))
    iinf = full_box(b"iinf", 0, 0, struct.pack(">H", len(entries)), *entries)
    located = [item for item in items if item.extents]
    rows = []
    for item in located:
        head = struct.pack(">HHHH", item.id, item.method, 0, len(item.extents))
        rows.append(head + b"".join(struct.pack(">II", o, n) for o, n in item.extents))
    iloc = full_box(b"iloc", 1, 0, b"\x44\x00", struct.pack(">H", len(located)), *rows)
    refs = [box(kind, struct.pack(">HH", source, len(targets)), *(struct.pack(">H", t) for t in targets)) for kind, source, targets in references]
    associated = [item for item in items if item.properties]
    ipma_rows = [
        struct.pack(">HB", item.id, len(item.properties)) + bytes(i | (0x80 if e else 0) for i, e in item.properties) for item in associated
    ]
    ipma = full_box(b"ipma", 0, 0, struct.pack(">I", len(ipma_rows)), *ipma_rows)
    return full_box(
        b"meta",
        0,
        0,
        full_box(b"hdlr", 0, 0, b"\x00" * 4, b"pict", b"\x00" * 13),
        full_box(b"pitm", 0, 0, struct.pack(">H", primary)),
        iloc,
        iinf,
        full_box(b"iref", 0, 0, *refs) if refs else b"",
        box(b"iprp", box(b"ipco", *properties), ipma),
        *extra,
    )


def ftyp(*brands: bytes) -> bytes:
    return box(b"ftyp", brands[0], b"\x00\x00\x00\x00", *brands[1:])


@functools.lru_cache(maxsize=None)
def av1_tile() -> ib.HeifItem:
    """A real AV1 image item (av1C, ispe and coded data) from a Pillow AVIF encode."""
    heif = ib.read_heif(ib.encode_avif(b.pattern(size=(16, 16))))
    return heif.items[heif.primary]


# ---------------------------------------------------------------- the inputs reported slow


def many_mdats(tiles: int = 256, mdats: int = 40_000) -> bytes:
    """A 16x16 AVIF grid whose tiles share one AV1 payload cut in 32 extents, each in its
    own mdat box, among tens of thousands of empty mdat boxes (about 450 KB)."""
    tile = av1_tile()
    props = [raw for raw, _ in ib.properties_of(tile, b"av1C", b"ispe")]
    side = int(tiles**0.5)
    properties = [ib.ispe(16 * side, 16 * side), *props]
    pieces = 32
    cut = -(-len(tile.data) // pieces)
    chunks = [tile.data[i : i + cut] for i in range(0, len(tile.data), cut)]
    head = ftyp(b"avif", b"mif1", b"avif", b"miaf")

    def build(meta_size: int) -> tuple[bytes, list[tuple[int, int]]]:
        position = len(head) + meta_size
        out, extents = [], []
        empties = mdats // len(chunks)
        for chunk in chunks:
            out.append(box(b"mdat") * empties)
            position += 8 * empties
            extents.append((position + 8, len(chunk)))
            out.append(box(b"mdat", chunk))
            position += 8 + len(chunk)
        return b"".join(out), extents

    def meta(extents: list[tuple[int, int]]) -> bytes:
        descriptor = ib.grid_descriptor(side, side, 16 * side, 16 * side)
        items = [RawItem(1, b"grid", [(0, len(descriptor))], [(1, False)], method=1)]
        items += [RawItem(n, b"av01", extents, [(2, True), (3, False)], hidden=True) for n in range(2, tiles + 2)]
        return raw_meta(items, 1, properties, [(b"dimg", 1, list(range(2, tiles + 2)))], extra=(box(b"idat", descriptor),))

    size = len(meta([(0, 0)] * len(chunks)))
    body, extents = build(size)
    return head + meta(extents) + body


def large_exif(entries: int = 2000) -> bytes:
    """An EXIF block whose IFD0 holds `entries` text tags (each 8 bytes of SECRET-free text)."""
    table = 8 + 2 + 12 * entries + 4
    values = [(0x9000 + n, 2, 8, struct.pack(">I", table + 8 * n)) for n in range(entries)]
    return b"Exif\x00\x00" + b.tiff_header() + b.ifd_bytes(values) + b"text\x00\x00\x00\x00" * entries


def exif_items_sharing_one_block(count: int = 999) -> bytes:
    """A HEVC image and `count` Exif items whose single extent is the same large block."""
    tile = ib.coded_tile(5)
    exif = ib.exif_item_payload(large_exif())
    properties = [raw for raw, _ in tile.properties]
    head = ftyp(b"heic", b"mif1", b"heic")

    def meta(image_at: int, exif_at: int) -> bytes:
        items = [RawItem(1, b"hvc1", [(image_at, len(tile.data))], [(i + 1, e) for i, (_, e) in enumerate(tile.properties)])]
        items += [RawItem(n, b"Exif", [(exif_at, len(exif))]) for n in range(2, count + 2)]
        return raw_meta(items, 1, properties, [(b"cdsc", n, [1]) for n in range(2, count + 2)])

    size = len(meta(0, 0))
    start = len(head) + size + 8
    return head + meta(start, start + len(tile.data)) + box(b"mdat", tile.data, exif)


def repeated_hevc_extents(tiles: int = 64, block: int = 1 << 20) -> bytes:
    """A grid whose HEVC tiles each list the same 1 MB block 32 times (one NAL unit of
    the block's length, so the repeated data is still whole NAL units)."""
    tile = ib.coded_tile(5)
    hvcc = next(raw for raw, _ in tile.properties if raw[4:8] == b"hvcC")
    nal = struct.pack(">I", block - 4) + b"\x02\x01" + b"\x00" * (block - 6)
    side = int(tiles**0.5)
    properties = [ib.ispe(64 * side, 64 * side), hvcc, ib.ispe(64, 64)]
    head = ftyp(b"heic", b"mif1", b"heic")

    def meta(at: int) -> bytes:
        descriptor = ib.grid_descriptor(side, side, 64 * side, 64 * side)
        items = [RawItem(1, b"grid", [(0, len(descriptor))], [(1, False)], method=1)]
        items += [RawItem(n, b"hvc1", [(at, block)] * 32, [(2, True), (3, False)], hidden=True) for n in range(2, tiles + 2)]
        return raw_meta(items, 1, properties, [(b"dimg", 1, list(range(2, tiles + 2)))], extra=(box(b"idat", descriptor),))

    size = len(meta(0))
    return head + meta(len(head) + size + 8) + box(b"mdat", nal)


# ---------------------------------------------------------------- counting work


def operations(call, *args, **kwargs) -> tuple[object, int]:
    """The call's result (or the exception it raised) and the Python and C calls it made."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        result = call(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the caller asserts on it
        result = error
    finally:
        sys.setprofile(None)
    return result, count


# ---------------------------------------------------------------- gain maps and groups

APPLE_GAIN_MAP_URN = b"urn:com:apple:photo:2020:aux:hdrgainmap\x00"
MATTE_URN = b"urn:com:apple:photo:2018:aux:portraiteffectsmatte\x00"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
# Apple's gain-map XMP item: the rendering properties, and a creator tool that must go.
APPLE_GAIN_MAP_XMP = (
    f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{RDF}">'
    '<rdf:Description rdf:about="" xmlns:HDRGainMap="http://ns.apple.com/HDRGainMap/1.0/"'
    ' xmlns:apdi="http://ns.apple.com/pixeldatainfo/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
    f' xmp:CreatorTool="{b.SECRET.decode()}">'
    "<apdi:AuxiliaryImageType>urn:com:apple:photo:2020:aux:hdrgainmap</apdi:AuxiliaryImageType>"
    "<HDRGainMap:HDRGainMapHeadroom>1.8</HDRGainMap:HDRGainMapHeadroom>"
    "<HDRGainMap:HDRGainMapVersion>65536</HDRGainMap:HDRGainMapVersion>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
).encode()
# A depth map's XMP: per-device calibration that must go.
DEPTH_XMP = (
    f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{RDF}">'
    '<rdf:Description rdf:about="" xmlns:depthData="http://ns.apple.com/depthData/1.0/"'
    f' depthData:IntrinsicMatrix="{b.SECRET.decode()} 1 2 3"/></rdf:RDF></x:xmpmeta>'
).encode()


def tone_map_descriptor(headroom: int = 3) -> bytes:
    """A tmap item payload (ISO 21496-1, one channel, own denominators): version 0,
    minimum and writer version 0, flags 0, base and alternate headroom, then gain-map
    min, max, gamma, base and alternate offsets (numerator, denominator each)."""
    fields = [0, 1, headroom, 1, 0, 1, headroom, 1, 1, 1, 1, 64, 1, 64]
    return struct.pack(">BHHB", 0, 0, 0, 0) + struct.pack(">IIII", *fields[:4]) + struct.pack(">iIiIIIiIiI", *fields[4:])


def entity_group(kind: bytes, group_id: int, entities: list[int], extra: bytes = b"") -> bytes:
    return full_box(kind, 0, 0, struct.pack(">II", group_id, len(entities)), *(struct.pack(">I", e) for e in entities), extra)


def pyramid_fields(levels: int) -> bytes:
    # pymd after the entity IDs: u16 tile size x and y, then per level binning and tile counts
    return struct.pack(">HH", 0, 0) + b"".join(struct.pack(">HHH", 1 << n, 0, 0) for n in range(levels))


def read_groups(data: bytes) -> list[tuple[bytes, int, tuple[int, ...], bytes]]:
    """(grouping type, group ID, entity IDs, whole payload) of each entity group in grpl."""
    top = {kind: (payload, end) for kind, _, payload, end in ib.boxes(data)}
    meta_start, meta_end = top[b"meta"]
    found = []
    for kind, _, payload, end in ib.boxes(data, meta_start + 4, meta_end):
        if kind != b"grpl":
            continue
        for group, _, start, stop in ib.boxes(data, payload, end):
            group_id, count = struct.unpack_from(">II", data, start + 4)
            entities = struct.unpack_from(f">{count}I", data, start + 12)
            found.append((group, group_id, entities, data[start:stop]))
    return found


def brands(data: bytes) -> list[bytes]:
    kind, _, payload, end = ib.boxes(data)[0]
    assert kind == b"ftyp"
    return [data[payload : payload + 4]] + [data[i : i + 4] for i in range(payload + 8, end, 4)]


@functools.lru_cache(maxsize=None)
def av1_image(seed: int, size: tuple[int, int] = (48, 32)) -> ib.HeifItem:
    """A real AV1 image item of its own pattern (for base images and gain maps)."""
    heif = ib.read_heif(ib.encode_avif(b.pattern(size=size, seed=seed)))
    return heif.items[heif.primary]


def tone_mapped(base: bytes, gain_map: bytes, *, exif: bytes, xmp: bytes, brands: tuple[bytes, ...]) -> bytes:
    """One file from two real single-image encodes: the first's image as the primary, the
    second's as its hidden gain map, a tmap item deriving from both in an altr group, and
    an Exif and an XMP item describing the primary (the shape libavif writes)."""
    base_heif, gain_heif = ib.read_heif(base), ib.read_heif(gain_map)
    image, gain = base_heif.items[base_heif.primary], gain_heif.items[gain_heif.primary]
    size = next(raw for raw, _ in image.properties if raw[4:8] == b"ispe")
    specs = [
        ib.Spec(1, image.type, image.data, image.properties),
        ib.Spec(2, gain.type, gain.data, gain.properties, hidden=True),
        ib.Spec(3, b"tmap", tone_map_descriptor(), [(size, False)]),
        ib.Spec(4, b"Exif", ib.exif_item_payload(exif)),
        ib.Spec(5, b"mime", xmp, content_type=b"application/rdf+xml"),
    ]
    references = [(b"dimg", 3, [1, 2]), (b"cdsc", 4, [1]), (b"cdsc", 5, [1])]
    return ib.heif_file(specs, 1, references, brands=brands, meta_extra=(box(b"grpl", entity_group(b"altr", 100, [3, 1])),))
