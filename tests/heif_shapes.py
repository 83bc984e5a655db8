"""HEIF/AVIF files of shapes the tests need and encoders never write: a raw builder that
places every extent where it is told (many mdat boxes, repeated extents, shared blocks),
the inputs once reported slow, and a counter of the work a call does; and the files the HEIF
test modules share (a grid holding every kind of item, hostile variants, gain maps, collections).

Operation counts (Python calls, C calls included) stand in for time: they do not depend
on the machine's load, and an input that makes the work grow faster than its size shows
as a count far above the bound.
"""

from __future__ import annotations

import functools
import struct
import os
import sys
from dataclasses import dataclass, field

import image_builders as b
import isobmff_builders as ib
from isobmff_builders import Spec, auxc, box, clap, colr_icc, full_box, imir, irot, ispe, udes
from metadata.limits import MAX_ITEMS


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
    """The call's result (or the exception it raised) and the Python and C calls it made.

    Under mutation testing, every mutated function is reached through mutmut's trampoline, which
    reads os.environ and records the call: that is mutmut's work, not the code's, so calls made in
    mutmut's own files, or in the standard library on mutmut's behalf, are not counted (the
    original and mutated functions the trampoline calls are the code's, and are)."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call") and not _on_behalf_of_mutmut(frame):
            count += 1

    sys.setprofile(profile)
    try:
        result = call(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the caller asserts on it
        result = error
    finally:
        sys.setprofile(None)
    return result, count


_MUTMUT_FILES = f"{os.sep}mutmut{os.sep}"
_STANDARD_LIBRARY = os.path.dirname(os.__file__) + os.sep


def _on_behalf_of_mutmut(frame) -> bool:
    """Whether `frame` runs in mutmut's files, or in the standard library called from them."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if _MUTMUT_FILES in filename:
            return True
        standard = filename.startswith("<frozen ") or (filename.startswith(_STANDARD_LIBRARY) and "site-packages" not in filename)
        if not standard:
            return False
        frame = frame.f_back
    return False


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


# ---------------------------------------------------------------- shared by the HEIF test modules

EXIF = b.exif_block(6)
THUMBNAIL = ib.coded_tile(7, (32, 32))
DEPTH = ib.coded_tile(9, (32, 32))
MATTE = ib.coded_tile(10, (32, 32))


def everything(**options) -> bytes:
    """A 2x2 grid primary (descriptor in idat) of real HEVC tiles, one tile shared, the
    first in three extents; irot + imir + clap + an ICC colr + udes on the grid; an alpha
    auxiliary; a thumbnail, a depth map, an Exif item and an XMP item, and a C2PA uuid box."""
    tiles = [ib.coded_tile(seed) for seed in (1, 2, 3)]
    tile_props = lambda tile: ib.properties_of(tile, b"hvcC", b"ispe", b"colr", b"pixi")  # noqa: E731
    alpha = ib.coded_alpha((128, 128))
    grid_props = [
        (ispe(128, 128), False),
        (colr_icc(b.icc_profile()), False),
        (irot(1), True),
        (imir(0), True),
        (clap(120, 100), True),
        (udes(b.SECRET), False),
    ]
    specs = [
        Spec(1, b"grid", ib.grid_descriptor(2, 2, 128, 128), grid_props, method=options.pop("grid_method", 1)),
        Spec(2, b"hvc1", tiles[0].data, tile_props(tiles[0]), hidden=True, pieces=3),
        Spec(3, b"hvc1", tiles[1].data, tile_props(tiles[1]), hidden=True),
        Spec(4, b"hvc1", tiles[2].data, tile_props(tiles[2]), hidden=True),
        Spec(5, b"hvc1", share=3, properties=tile_props(tiles[1]), hidden=True),
        Spec(6, b"hvc1", alpha.data, alpha.properties, hidden=True, pieces=2),
        Spec(7, b"hvc1", THUMBNAIL.data, THUMBNAIL.properties, name=b"thumb " + b.SECRET),
        Spec(8, b"hvc1", DEPTH.data, DEPTH.properties + [(auxc(ib.DEPTH_URN), True)], hidden=True),
        Spec(9, b"Exif", ib.exif_item_payload(EXIF), name=b"exif"),
        Spec(10, b"mime", b.XMP_PACKET, content_type=b"application/rdf+xml"),
        Spec(11, b"uri ", b"uri data " + b.SECRET),
    ]
    references = [
        (b"dimg", 1, [2, 3, 4, 5]),
        (b"auxl", 6, [1]),
        (b"auxl", 8, [1]),
        (b"thmb", 7, [1]),
        (b"cdsc", 9, [1]),
        (b"cdsc", 10, [1]),
    ]
    options.setdefault("before_mdat", (ib.c2pa_box(), box(b"free", b"free " + b.SECRET)))
    return ib.heif_file(specs, 1, references, **options)


LAYOUTS = {
    "iloc-v1-idat": {},
    "iloc-v0": {"iloc_version": 0, "grid_method": 0},
    "iloc-v2": {"iloc_version": 2},
    "base-offset": {"base_offset": True},
    "meta-after-mdat": {"meta_after_mdat": True, "after_all": (box(b"sefd", b"capture " + b.SECRET),)},
}


def simple_heic(**options) -> bytes:
    tile = ib.coded_tile(5)
    specs = options.pop("specs", [Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"Exif", ib.exif_item_payload(EXIF))])
    references = options.pop("references", [(b"cdsc", 2, [1])])
    return ib.heif_file(specs, 1, references, **options)


def patched(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1
    return data.replace(old, new)


def iloc_extent_past_end() -> bytes:
    data = simple_heic()
    tile = ib.coded_tile(5)
    return patched(data, struct.pack(">I", len(tile.data)), struct.pack(">I", len(data)))


def overlapping_extents() -> bytes:
    tile = ib.coded_tile(5)
    alpha = ib.coded_alpha()
    data = simple_heic(specs=[Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"hvc1", alpha.data, alpha.properties)], references=[(b"auxl", 2, [1])])
    return patched(data, struct.pack(">I", len(alpha.data)), struct.pack(">I", len(alpha.data) + 40))


def looping_grid() -> bytes:
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"grid", ib.grid_descriptor(1, 1, 64, 64), [(ispe(64, 64), False)]), Spec(2, b"grid", ib.grid_descriptor(1, 1, 64, 64), [(ispe(64, 64), False)]), Spec(3, b"hvc1", tile.data, tile.properties)]
    return ib.heif_file(specs, 1, [(b"dimg", 1, [2]), (b"dimg", 2, [1])])


def too_many_items() -> bytes:
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"hvc1", tile.data, tile.properties)] + [Spec(n, b"mime", content_type=b"text/plain") for n in range(2, MAX_ITEMS + 3)]
    return ib.heif_file(specs, 1, [])


def two_metas() -> bytes:
    data = simple_heic()
    meta = next(data[s:e] for kind, s, _, e in ib.boxes(data) if kind == b"meta")
    return data + meta


def without_meta() -> bytes:
    data = simple_heic()
    return b"".join(data[s:e] for kind, s, _, e in ib.boxes(data) if kind != b"meta")


def with_box_size(data: bytes, kind: bytes, size: bytes) -> bytes:
    start = next(s for k, s, _, _ in ib.boxes(data) if k == kind)
    return data[:start] + size + data[start + 4 :]


HOSTILE = {
    "truncated-mdat": lambda: simple_heic()[:-20],
    "truncated-meta": lambda: simple_heic()[:200],
    "extent-past-the-end": iloc_extent_past_end,
    "overlapping-extents": overlapping_extents,
    "looping-dimg": looping_grid,
    "too-many-items": too_many_items,
    "two-metas": two_metas,
    "no-meta": without_meta,
    "meta-size-0": lambda: with_box_size(simple_heic(), b"meta", b"\x00\x00\x00\x00"),
    "meta-size-1-huge": lambda: with_box_size(simple_heic(), b"meta", b"\x00\x00\x00\x01"),
    "meta-size-huge": lambda: with_box_size(simple_heic(), b"meta", b"\xff\xff\xff\xf0"),
    "ftyp-size-huge": lambda: with_box_size(simple_heic(), b"ftyp", b"\x7f\xff\xff\xff"),
    "sequence": lambda: simple_heic(after_all=(box(b"moov", box(b"mvhd", bytes(100))),)),
    "primary-missing": lambda: patched(simple_heic(), b"pitm\x00\x00\x00\x00\x00\x01", b"pitm\x00\x00\x00\x00\x00\x07"),
    "primary-is-exif": lambda: patched(simple_heic(), b"pitm\x00\x00\x00\x00\x00\x01", b"pitm\x00\x00\x00\x00\x00\x02"),
}


def metadata_items(first_id: int, described: int) -> tuple[list[Spec], list[tuple[bytes, int, list[int]]]]:
    """An Exif item, an XMP item and a thumbnail, all of one image."""
    specs = [
        Spec(first_id, b"Exif", ib.exif_item_payload(EXIF)),
        Spec(first_id + 1, b"mime", b.XMP_PACKET, content_type=b"application/rdf+xml"),
        Spec(first_id + 2, b"hvc1", THUMBNAIL.data, THUMBNAIL.properties, name=b"thumb " + b.SECRET),
    ]
    references = [(b"cdsc", first_id, [described]), (b"cdsc", first_id + 1, [described]), (b"thmb", first_id + 2, [described])]
    return specs, references


def avif_gain_map(*, grid: bool) -> bytes:
    """An AVIF: base image (primary), a hidden gain map (one AV1 image, or a 2x2 grid of
    them), a tmap item deriving from both, in an altr group with the base; Exif, XMP."""
    base = av1_image(1)
    specs = [Spec(1, b"av01", base.data, base.properties)]
    tone_map = Spec(3, b"tmap", tone_map_descriptor(), [(ispe(48, 32), False)])
    references: list[tuple[bytes, int, list[int]]] = []
    if grid:
        # libavif 1.4 parses the file only with the gain map's grid tiles after every
        # other item in iinf (observed), and grid tiles of 64 x 64 at least (MIAF)
        tiles = [av1_image(20 + n, (64, 64)) for n in range(4)]
        specs += [Spec(2, b"grid", ib.grid_descriptor(2, 2, 128, 128), [(ispe(128, 128), False)], hidden=True, method=1), tone_map]
        specs += [Spec(10 + n, b"av01", tile.data, tile.properties, hidden=True) for n, tile in enumerate(tiles)]
        references.append((b"dimg", 2, [10, 11, 12, 13]))
    else:
        gain_map = av1_image(2, (24, 16))
        specs += [Spec(2, b"av01", gain_map.data, gain_map.properties, hidden=True), tone_map]
    references.append((b"dimg", 3, [1, 2]))
    metadata_specs, metadata_references = metadata_items(4, 1)
    grpl = ib.box(b"grpl", entity_group(b"altr", 100, [3, 1]))
    return ib.heif_file(
        specs[:3] + metadata_specs + specs[3:],  # the grid tiles last
        1,
        references + metadata_references,
        brands=(b"avif", b"mif1", b"avif", b"miaf", b"MA1B", b"tmap"),
        meta_extra=(grpl,),
    )


def apple_heic(*, gain_map_xmp_describes: tuple[int, ...] = (2,)) -> bytes:
    """An iPhone-like HEIC: the photo, its HDR gain map (auxiliary, with an XMP item 3
    describing `gain_map_xmp_describes`), a depth map (20) with calibration XMP, a portrait
    matte, a thumbnail and Exif."""
    photo = ib.coded_tile(1)
    gain_map = ib.coded_tile(11, (32, 32))
    specs = [
        Spec(1, b"hvc1", photo.data, photo.properties),
        Spec(2, b"hvc1", gain_map.data, gain_map.properties + [(auxc(APPLE_GAIN_MAP_URN), True)], hidden=True),
        Spec(3, b"mime", APPLE_GAIN_MAP_XMP, content_type=b"application/rdf+xml"),
        Spec(20, b"hvc1", DEPTH.data, DEPTH.properties + [(auxc(ib.DEPTH_URN), True)], hidden=True),
        Spec(21, b"mime", DEPTH_XMP, content_type=b"application/rdf+xml"),
        Spec(22, b"hvc1", MATTE.data, MATTE.properties + [(auxc(MATTE_URN), True)], hidden=True),
    ]
    metadata_specs, metadata_references = metadata_items(4, 1)
    references = [
        (b"auxl", 2, [1]),
        (b"cdsc", 3, list(gain_map_xmp_describes)),
        (b"auxl", 20, [1]),
        (b"cdsc", 21, [20]),
        (b"auxl", 22, [1]),
        *metadata_references,
    ]
    # iPhones declare tmap too; without a tmap item the output must not.
    return ib.heif_file(specs + metadata_specs, 1, references, brands=(b"heic", b"mif1", b"MiHB", b"MiHE", b"MiPr", b"miaf", b"heic", b"tmap"))


def two_masters(group: bytes | None, *, hidden_second: bool = False, extra: bytes = b"") -> bytes:
    first, second = ib.coded_tile(1), ib.coded_tile(2, (32, 32))
    specs = [Spec(1, b"hvc1", first.data, first.properties), Spec(2, b"hvc1", second.data, second.properties, hidden=hidden_second)]
    references: list[tuple[bytes, int, list[int]]] = []
    for start, image in ((10, 1), (20, 2)):  # each master has its own Exif, XMP and thumbnail
        more_specs, more_references = metadata_items(start, image)
        specs += more_specs
        references += more_references
    meta_extra = (ib.box(b"grpl", entity_group(group, 7, [1, 2], extra)),) if group else ()
    return ib.heif_file(specs, 1, references, meta_extra=meta_extra)
