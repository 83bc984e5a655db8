"""HEIF/AVIF and JPEG XL test files: real encodes through pillow-heif, Pillow and
pillow-jxl-plugin, a tiny box builder for the structures those encoders never write,
and a reader of the test's own (it does not use the core) to compare outputs.

Every text planted as metadata contains image_builders.SECRET; item data the strip
must drop (thumbnails, depth maps, EXIF) is listed so a test can search for its bytes.
"""

from __future__ import annotations

import functools
import io
import struct
from dataclasses import dataclass, field

import image_builders as b
import pillow_heif
import pillow_jxl  # noqa: F401 - registers the JXL plugin with Pillow
from PIL import Image

pillow_heif.register_heif_opener()

C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
ALPHA_URN = b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha\x00"
DEPTH_URN = b"urn:mpeg:hevc:2015:auxid:2\x00"


# --- boxes ----------------------------------------------------------------------------------


def box(box_type: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), box_type) + body


def full_box(box_type: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(box_type, bytes((version,)) + flags.to_bytes(3, "big"), *payload)


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int, int]]:
    """(type, box start, payload start, end) of each box in data[start:end] (32/64-bit, 0 = to end)."""
    end = len(data) if end is None else end
    found = []
    while start < end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, start + 8)[0], 16
        elif size == 0:
            size = end - start
        if kind == b"uuid":
            header += 16
        assert 8 <= size <= end - start, f"box {kind!r} at {start} has size {size}"
        found.append((kind, start, start + header, start + size))
        start += size
    return found


def top_level_types(data: bytes) -> list[bytes]:
    return [kind for kind, *_ in boxes(data)]


# --- a HEIF reader of the tests' own ------------------------------------------------------


@dataclass
class HeifItem:
    id: int
    type: bytes
    flags: int = 0
    properties: list[tuple[bytes, bool]] = field(default_factory=list)  # raw property box, essential
    data: bytes = b""
    extents: int = 0
    entry: bytes = b""  # its whole infe box, as read


@dataclass
class Heif:
    primary: int
    items: dict[int, HeifItem]
    references: list[tuple[bytes, int, tuple[int, ...]]]
    meta_types: list[bytes]


def _uint(data: bytes, pos: int, size: int) -> tuple[int, int]:
    return int.from_bytes(data[pos : pos + size], "big"), pos + size


def read_heif(data: bytes) -> Heif:
    """Items with their properties, references and data, read straight from the bytes."""
    top = {kind: (payload, end) for kind, _, payload, end in boxes(data)}
    meta_start, meta_end = top[b"meta"]
    meta = {kind: (start, payload, end) for kind, start, payload, end in boxes(data, meta_start + 4, meta_end)}
    version = data[meta[b"pitm"][1]]
    primary = _uint(data, meta[b"pitm"][1] + 4, 2 if version == 0 else 4)[0]
    items: dict[int, HeifItem] = {}
    _, iinf, iinf_end = meta[b"iinf"]
    skip = 4 + (2 if data[iinf] == 0 else 4)
    for _, start, payload, end in boxes(data, iinf + skip, iinf_end):
        version, flags = data[payload], int.from_bytes(data[payload + 1 : payload + 4], "big")
        item_id, pos = _uint(data, payload + 4, 2 if version == 2 else 4)
        items[item_id] = HeifItem(item_id, data[pos + 2 : pos + 6], flags, entry=data[start:end])
    references = []
    if b"iref" in meta:
        _, iref, iref_end = meta[b"iref"]
        size = 2 if data[iref] == 0 else 4
        for kind, _, payload, _ in boxes(data, iref + 4, iref_end):
            source, pos = _uint(data, payload, size)
            count, pos = _uint(data, pos, 2)
            targets = tuple(_uint(data, pos + i * size, size)[0] for i in range(count))
            references.append((kind, source, targets))
    _, iprp, iprp_end = meta[b"iprp"]
    iprp_boxes = boxes(data, iprp, iprp_end)
    ipco = next(bx for bx in iprp_boxes if bx[0] == b"ipco")
    properties = [data[start:end] for _, start, _, end in boxes(data, ipco[2], ipco[3])]
    for _, _, payload, _ in (bx for bx in iprp_boxes if bx[0] == b"ipma"):
        version, flags = data[payload], data[payload + 3]
        count, pos = _uint(data, payload + 4, 4)
        for _ in range(count):
            item_id, pos = _uint(data, pos, 2 if version == 0 else 4)
            associations, pos = _uint(data, pos, 1)
            for _ in range(associations):
                value, pos = _uint(data, pos, 2 if flags & 1 else 1)
                top_bit = 0x8000 if flags & 1 else 0x80
                items[item_id].properties.append((properties[(value & ~top_bit) - 1], bool(value & top_bit)))
    idat = meta[b"idat"][1] if b"idat" in meta else 0
    _, iloc, _ = meta[b"iloc"]
    version = data[iloc]
    sizes = data[iloc + 4] << 8 | data[iloc + 5]
    offset_size, length_size, base_size, index_size = sizes >> 12, sizes >> 8 & 15, sizes >> 4 & 15, sizes & 15
    count, pos = _uint(data, iloc + 6, 2 if version < 2 else 4)
    for _ in range(count):
        item_id, pos = _uint(data, pos, 2 if version < 2 else 4)
        method = 0
        if version:
            method, pos = _uint(data, pos, 2)
        pos += 2
        base, pos = _uint(data, pos, base_size)
        extents, pos = _uint(data, pos, 2)
        pieces = []
        for _ in range(extents):
            pos += index_size if version else 0
            offset, pos = _uint(data, pos, offset_size)
            length, pos = _uint(data, pos, length_size)
            start = base + offset + (idat if method == 1 else 0)
            pieces.append(data[start : start + length])
        items[item_id].data = b"".join(pieces)
        items[item_id].extents = extents
    return Heif(primary, items, references, [kind for kind in meta])


# --- real encodes ---------------------------------------------------------------------------


def encode_heic(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", quality=-1, **options)
    return buffer.getvalue()


def encode_avif(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "AVIF", **options)
    return buffer.getvalue()


def encode_jxl(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JXL", **options)
    return buffer.getvalue()


def decoded_rgba(data: bytes) -> tuple[tuple[int, int], bytes]:
    """Size and RGBA pixels as pillow-heif, Pillow or pillow-jxl-plugin decode and orient them."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.size, image.convert("RGBA").tobytes()


@functools.lru_cache(maxsize=None)
def coded_tile(seed: int, size: tuple[int, int] = (64, 64), mode: str = "RGB") -> HeifItem:
    """A real HEVC image item (its hvcC, ispe and coded data) from a pillow-heif encode."""
    heif = read_heif(encode_heic(b.pattern(mode, size, seed)))
    return heif.items[heif.primary]


@functools.lru_cache(maxsize=None)
def coded_alpha(size: tuple[int, int] = (64, 64)) -> HeifItem:
    """The alpha auxiliary item of a real RGBA encode."""
    heif = read_heif(encode_heic(b.pattern("RGBA", size, 3)))
    source = next(s for kind, s, targets in heif.references if kind == b"auxl")
    return heif.items[source]


def properties_of(item: HeifItem, *types: bytes) -> list[tuple[bytes, bool]]:
    return [(raw, essential) for raw, essential in item.properties if raw[4:8] in types]


# --- a HEIF builder for what encoders do not write -----------------------------------------


@dataclass
class Spec:
    """One item of a hand-built HEIF file."""

    id: int
    type: bytes
    data: bytes = b""
    properties: list[tuple[bytes, bool]] = field(default_factory=list)
    hidden: bool = False
    content_type: bytes = b""  # for a mime item
    name: bytes = b""
    method: int = 0  # 0: in mdat, 1: in idat
    pieces: int = 1  # extents the data is split into, with unreferenced bytes between them
    share: int | None = None  # another item whose extents this one reuses


def property_box(kind: bytes, payload: bytes, version: int | None = None) -> bytes:
    return box(kind, payload) if version is None else full_box(kind, version, 0, payload)


def ispe(width: int, height: int) -> bytes:
    return full_box(b"ispe", 0, 0, struct.pack(">II", width, height))


def grid_descriptor(rows: int, columns: int, width: int, height: int) -> bytes:
    # version 0, flags 0 (16-bit sizes), rows - 1, columns - 1, output width and height
    return struct.pack(">BBBBHH", 0, 0, rows - 1, columns - 1, width, height)


def exif_item_payload(exif: bytes) -> bytes:
    """An Exif item: a 4-byte offset to the TIFF header (past "Exif\\0\\0"), then the block."""
    return struct.pack(">I", 6) + exif


def heif_file(
    specs: list[Spec],
    primary: int,
    references: list[tuple[bytes, int, list[int]]],
    *,
    iloc_version: int = 1,
    base_offset: bool = False,
    brands: tuple[bytes, ...] = (b"heic", b"mif1", b"heic"),
    before_mdat: tuple[bytes, ...] = (),
    after_all: tuple[bytes, ...] = (),
    meta_after_mdat: bool = False,
    meta_extra: tuple[bytes, ...] = (),
) -> bytes:
    """A HEIF file from item specs: items in mdat with junk between extents, or in idat."""
    wide = iloc_version == 2
    id_size = 4 if wide else 2
    ftyp = box(b"ftyp", brands[0], b"\x00\x00\x00\x00", *brands[1:])
    junk = b"[unreferenced " + b.SECRET + b"]"
    mdat_parts: list[bytes] = [junk]
    idat_parts: list[bytes] = []
    extents: dict[int, list[tuple[int, int, int]]] = {}  # id -> (method, relative offset, length)
    for spec in specs:
        if spec.share is not None:
            extents[spec.id] = extents[spec.share]
            continue
        if not spec.data:
            continue
        parts = mdat_parts if spec.method == 0 else idat_parts
        cut = max(1, len(spec.data) // spec.pieces)
        chunks = [spec.data[i : i + cut] for i in range(0, len(spec.data), cut)]
        extents[spec.id] = []
        for chunk in chunks:
            extents[spec.id].append((spec.method, sum(map(len, parts)), len(chunk)))
            parts.append(chunk)
            if spec.method == 0:
                parts.append(junk)
    mdat_payload = b"".join(mdat_parts)

    def meta(mdat_start: int) -> bytes:
        properties: list[bytes] = []
        for spec in specs:
            properties += [raw for raw, _ in spec.properties if raw not in properties]
        large = len(properties) > 0x7F  # 15-bit indexes (ipma flag 1)
        associations = []
        for spec in specs:
            indexes = [(properties.index(raw) + 1, essential) for raw, essential in spec.properties]
            if indexes:
                packed = b"".join(
                    struct.pack(">H", i | (0x8000 if e else 0)) if large else bytes((i | (0x80 if e else 0),)) for i, e in indexes
                )
                associations.append(spec.id.to_bytes(id_size, "big") + bytes((len(indexes),)) + packed)
        ipma = full_box(b"ipma", 1 if wide else 0, int(large), struct.pack(">I", len(associations)), *associations)
        entries = []
        for spec in specs:
            tail = spec.content_type + b"\x00" if spec.type == b"mime" else b""
            entries.append(
                full_box(b"infe", 3 if wide else 2, int(spec.hidden), spec.id.to_bytes(id_size, "big"), b"\x00\x00", spec.type, spec.name + b"\x00", tail)
            )
        iinf = full_box(b"iinf", 0, 0, struct.pack(">H", len(entries)), *entries)
        base_size = 4 if base_offset else 0
        locations = []
        for spec in specs:
            if spec.id not in extents:
                continue
            rows = extents[spec.id]
            method = rows[0][0]
            base = mdat_start if (base_offset and method == 0) else 0
            entry = spec.id.to_bytes(id_size, "big")
            if iloc_version:
                entry += struct.pack(">H", method)
            entry += struct.pack(">H", 0) + (base.to_bytes(4, "big") if base_size else b"") + struct.pack(">H", len(rows))
            for row_method, offset, length in rows:
                absolute = offset + (mdat_start if row_method == 0 and not base else 0)
                entry += struct.pack(">II", absolute, length)
            locations.append(entry)
        sizes = struct.pack(">BB", 0x44, base_size << 4)
        count = len(locations).to_bytes(4 if wide else 2, "big")
        iloc = full_box(b"iloc", iloc_version, 0, sizes, count, *locations)
        refs = [box(kind, source.to_bytes(id_size, "big"), struct.pack(">H", len(targets)), *(t.to_bytes(id_size, "big") for t in targets)) for kind, source, targets in references]
        pieces = [
            full_box(b"hdlr", 0, 0, b"\x00" * 4, b"pict", b"\x00" * 12, b"handler " + b.SECRET + b"\x00"),
            full_box(b"pitm", 1 if wide else 0, 0, primary.to_bytes(id_size, "big")),
            iloc,
            iinf,
            full_box(b"iref", 1 if wide else 0, 0, *refs) if refs else b"",
            box(b"iprp", box(b"ipco", *properties), ipma),
            box(b"idat", b"".join(idat_parts)) if idat_parts else b"",
            *meta_extra,
        ]
        return full_box(b"meta", 0, 0, *pieces)

    before = b"".join(before_mdat)
    if meta_after_mdat:
        mdat_start = len(ftyp) + len(before) + 8
        return ftyp + before + box(b"mdat", mdat_payload) + meta(mdat_start) + b"".join(after_all)
    meta_size = len(meta(0))
    mdat_start = len(ftyp) + len(before) + meta_size + 8
    return ftyp + before + meta(mdat_start) + box(b"mdat", mdat_payload) + b"".join(after_all)


def c2pa_box() -> bytes:
    return box(b"uuid", C2PA_UUID, b"\x00" * 8, b"jumb c2pa manifest " + b.SECRET)


def clap(width: int, height: int) -> bytes:
    # clean aperture width, height, horizontal and vertical offset, each a numerator/denominator
    return box(b"clap", struct.pack(">8I", width, 1, height, 1, 0, 1, 0, 1))


def irot(turns: int) -> bytes:
    return box(b"irot", bytes((turns,)))


def imir(axis: int) -> bytes:
    return box(b"imir", bytes((axis,)))


def colr_icc(profile: bytes) -> bytes:
    return box(b"colr", b"prof", profile)


def udes(text: bytes) -> bytes:
    # udes: full box, language, name, description, tags (NUL-terminated strings)
    return full_box(b"udes", 0, 0, b"en\x00", b"name " + text + b"\x00", b"description\x00", b"tags\x00")


def auxc(urn: bytes) -> bytes:
    return full_box(b"auxC", 0, 0, urn)


# --- JPEG XL --------------------------------------------------------------------------------

JXL_SIGNATURE = b"\x00\x00\x00\x0cJXL \r\n\x87\n"


def jxl_container(
    *extra: tuple[int, bytes], parts: int = 1, image: Image.Image | None = None, codestream: bytes | None = None
) -> bytes:
    """A JXL container around a real codestream (or the one given), split in `parts` jxlp
    boxes (1: one jxlc), with the extra boxes inserted before the codestream box at each
    given index."""
    codestream = codestream or encode_jxl(image or b.pattern(size=(40, 24)), use_container=False)
    assert codestream[:2] == b"\xff\x0a"
    if parts == 1:
        stream = [box(b"jxlc", codestream)]
    else:
        cut = len(codestream) // parts + 1
        chunks = [codestream[i : i + cut] for i in range(0, len(codestream), cut)]
        stream = [box(b"jxlp", struct.pack(">I", i | (0x80000000 if i == len(chunks) - 1 else 0)), chunk) for i, chunk in enumerate(chunks)]
    out = [JXL_SIGNATURE, box(b"ftyp", b"jxl ", b"\x00\x00\x00\x00", b"jxl ")]
    placed = {index: [] for index in range(len(stream) + 1)}
    for index, extra_box in extra:
        placed[index].append(extra_box)
    for index in range(len(stream) + 1):
        out += placed[index]
        if index < len(stream):
            out.append(stream[index])
    return b"".join(out)


def jxl_exif_box(exif: bytes) -> bytes:
    """An Exif box as the standard says: a 4-byte offset to the TIFF header, then the block."""
    return box(b"Exif", struct.pack(">I", 6), exif)
