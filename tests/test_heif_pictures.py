"""HEIF/AVIF pictures beyond the primary survive byte for byte: ISO 21496-1 gain maps
('tmap', plain and grid), Apple's gain-map auxiliary image with its XMP reduced,
collections, alternatives, pyramids and stereo pairs; thumbnails, depth, mattes and
every metadata item go.

Fixtures are real HEVC (pillow-heif) and AV1 (Pillow) payloads re-wrapped by the box
builder; outputs are read back with the tests' own reader and decoded with pillow-heif
and Pillow."""

from __future__ import annotations

import io
import struct

import heif_shapes as hs
import image_builders as b
import isobmff_builders as ib
import metadata
import payload_builders as pb
import pillow_heif
import pytest
from heif_shapes import DEPTH, EXIF, MATTE, THUMBNAIL, apple_heic, avif_gain_map, metadata_items, two_masters
from isobmff_builders import Spec, ispe
from metadata import ImageError

GPS_BYTES = struct.pack(">IIIIII", 52, 1, 31, 1, 1234, 100)


def _assert_clean(data: bytes) -> None:
    assert b.SECRET not in data
    assert GPS_BYTES not in data
    assert b"Exif\x00\x00" not in data
    assert THUMBNAIL.data not in data
    assert DEPTH.data not in data
    assert MATTE.data not in data


def _assert_kept(original: bytes, kept_ids: set[int], **options) -> tuple[bytes, metadata.StripResult]:
    """Strip: the kept items are exactly kept_ids with their coded data byte for byte, the
    primary decodes as before, nothing planted survives, and a second strip changes nothing."""
    result = metadata.clean(original, **options)
    stripped = result.data
    before, after = ib.read_heif(original), ib.read_heif(stripped)
    assert set(after.items) == kept_ids
    for item_id in kept_ids - {i for i in kept_ids if before.items[i].type == b"mime"}:
        assert after.items[item_id].data == before.items[item_id].data, item_id
        assert after.items[item_id].type == before.items[item_id].type
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)
    _assert_clean(stripped)
    again = metadata.clean(stripped, **options)
    assert again.data == stripped
    assert again.removed == ()
    assert again.kept == result.kept
    return stripped, result


# ---------------------------------------------------------------- ISO 21496-1 gain maps


@pytest.mark.parametrize("grid", [False, True], ids=["plain-gain-map", "grid-gain-map"])
def test_avif_tone_map_gain_map_survives(grid):
    original = avif_gain_map(grid=grid)
    kept_ids = {1, 2, 3} | ({10, 11, 12, 13} if grid else set())
    stripped, result = _assert_kept(original, kept_ids)
    assert result.mime_type == "image/avif"
    assert result.kept == ("gain map",)
    assert {"exif", "gps", "xmp", "thumbnail"} <= set(result.removed)
    heif = ib.read_heif(stripped)
    assert heif.items[3].data == hs.tone_map_descriptor()  # the gain map's parameters, unchanged
    assert (b"dimg", 3, (1, 2)) in heif.references
    assert [(kind, gid, entities) for kind, gid, entities, _ in hs.read_groups(stripped)] == [(b"altr", 100, (3, 1))]
    assert b"tmap" in hs.brands(stripped)


def test_heic_tone_map_with_a_grid_gain_map_survives():
    base = ib.coded_tile(1)
    tiles = [ib.coded_tile(30 + n, (32, 32)) for n in range(4)]
    specs = [
        Spec(1, b"hvc1", base.data, base.properties),
        Spec(2, b"grid", ib.grid_descriptor(2, 2, 64, 64), [(ispe(64, 64), False)], hidden=True),
        *(Spec(10 + n, b"hvc1", tile.data, tile.properties, hidden=True) for n, tile in enumerate(tiles)),
        Spec(3, b"tmap", hs.tone_map_descriptor(4), [(ispe(64, 64), False)], hidden=True),
    ]
    metadata_specs, metadata_references = metadata_items(4, 1)
    original = ib.heif_file(
        specs + metadata_specs,
        1,
        [(b"dimg", 2, [10, 11, 12, 13]), (b"dimg", 3, [1, 2]), *metadata_references],
        brands=(b"heic", b"mif1", b"heic", b"tmap"),
        meta_extra=(ib.box(b"grpl", hs.entity_group(b"altr", 50, [3, 1])),),
    )
    stripped, result = _assert_kept(original, {1, 2, 3, 10, 11, 12, 13})
    assert result.kept == ("gain map",)
    assert ib.read_heif(stripped).items[3].data == hs.tone_map_descriptor(4)
    assert hs.brands(stripped) == [b"heic", b"mif1", b"heic", b"tmap"]


# ---------------------------------------------------------------- Apple's gain map, depth, matte


def test_apple_gain_map_survives_with_its_xmp_reduced_and_depth_matte_thumbnail_go():
    original = apple_heic()
    stripped, result = _assert_kept(original, {1, 2, 3})
    assert result.kept == ("gain map",)
    assert {"exif", "gps", "xmp", "thumbnail", "other"} <= set(result.removed)
    heif = ib.read_heif(stripped)
    xmp = heif.items[3].data
    assert b'HDRGainMap:HDRGainMapVersion="65536"' in xmp and b'HDRGainMap:HDRGainMapHeadroom="1.8"' in xmp
    assert b"CreatorTool" not in xmp
    assert (b"cdsc", 3, (2,)) in heif.references and (b"auxl", 2, (1,)) in heif.references
    assert [raw[8:] for raw, _ in heif.items[2].properties if raw[4:8] == b"auxC"] == [b"\x00" * 4 + hs.APPLE_GAIN_MAP_URN]
    assert hs.DEPTH_XMP not in stripped and b"depthData" not in stripped
    assert hs.brands(stripped) == [b"heic", b"mif1", b"MiHB", b"MiHE", b"MiPr", b"miaf", b"heic"]
    decoded = pillow_heif.open_heif(io.BytesIO(stripped))
    assert decoded.size == (64, 64)


# ---------------------------------------------------------------- collections and groups


def test_every_master_image_of_a_collection_survives():
    original = two_masters(None)
    stripped, result = _assert_kept(original, {1, 2})
    assert result.kept == ("collection",)
    assert len(pillow_heif.open_heif(io.BytesIO(stripped))) == 2  # both are top-level images


@pytest.mark.parametrize(
    ("group", "kind", "extra"),
    [(b"altr", "alternate", b""), (b"ster", "stereo pair", b""), (b"pymd", "pyramid level", hs.pyramid_fields(2))],
)
def test_picture_groups_survive_with_every_member(group, kind, extra):
    original = two_masters(group, hidden_second=True, extra=extra)  # hidden: kept only as a member
    stripped, result = _assert_kept(original, {1, 2})
    assert result.kept == (kind,)
    groups = hs.read_groups(stripped)
    assert [(g, gid, entities) for g, gid, entities, _ in groups] == [(group, 7, (1, 2))]
    assert groups[0][3] == next(raw for *_, raw in hs.read_groups(original))  # the group box as it was


def test_a_group_with_a_dropped_member_or_of_another_type_goes():
    thumbnail_group = hs.entity_group(b"altr", 8, [1, 12])  # item 12 is the first master's thumbnail
    burst = hs.entity_group(b"brst", 9, [1, 2])
    first, second = ib.coded_tile(1), ib.coded_tile(2, (32, 32))
    specs = [Spec(1, b"hvc1", first.data, first.properties), Spec(2, b"hvc1", second.data, second.properties)]
    more_specs, more_references = metadata_items(10, 1)
    original = ib.heif_file(specs + more_specs, 1, more_references, meta_extra=(ib.box(b"grpl", thumbnail_group, burst),))
    stripped, result = _assert_kept(original, {1, 2})
    assert hs.read_groups(stripped) == []
    assert result.kept == ("collection",)


def test_kept_ids_are_renumbered_consistently_with_groups_and_a_kept_exif_item():
    original = two_masters(b"ster")
    stripped = metadata.strip(original, keep_copyright=True)
    heif = ib.read_heif(stripped)
    exif_id = next(i for i, item in heif.items.items() if item.type == b"Exif")
    assert exif_id == 8  # past every kept item and group ID (group 7)
    assert (b"cdsc", exif_id, (1,)) in heif.references
    assert b.OWNER_COPYRIGHT in heif.items[exif_id].data
    assert metadata.strip(stripped, keep_copyright=True) == stripped


@pytest.mark.parametrize("kind", ["heic", "avif"])
def test_a_gain_map_file_made_from_two_real_encodes_keeps_both(kind):
    # the shape bench/bench_transform.py measures, at a small size
    encode = ib.encode_heic if kind == "heic" else ib.encode_avif
    brands = (b"heic", b"mif1", b"heic", b"tmap") if kind == "heic" else (b"avif", b"mif1", b"avif", b"tmap")
    base, gain_map = encode(b.pattern(size=(64, 48), seed=1)), encode(b.pattern(size=(32, 24), seed=2))
    original = hs.tone_mapped(base, gain_map, exif=EXIF, xmp=b.XMP_PACKET, brands=brands)
    stripped, result = _assert_kept(original, {1, 2, 3})
    assert result.kept == ("gain map",)
    assert ib.read_heif(stripped).items[2].data == ib.read_heif(gain_map).items[ib.read_heif(gain_map).primary].data


# ---------------------------------------------------------------- the output's field widths (layout.py)


def _in_meta(data: bytes) -> dict[bytes, int]:
    """Where the payload of each box in the output's meta box starts, read straight from the bytes."""
    (meta_start, meta_end) = next((payload, end) for kind, _, payload, end in ib.boxes(data) if kind == b"meta")
    return {kind: payload for kind, _, payload, _ in ib.boxes(data, meta_start + 4, meta_end)}


@pytest.mark.parametrize(("primary", "wide"), [(0xFFFE, False), (0xFFFF, True)])
def test_item_ids_are_written_32_bits_wide_only_when_one_with_the_kept_exif_item_passes_65535(primary, wide):
    tile = ib.coded_tile(3)
    specs = [Spec(primary, b"hvc1", tile.data, tile.properties), Spec(2, b"Exif", ib.exif_item_payload(EXIF))]
    original = ib.heif_file(specs, primary, [(b"cdsc", 2, [primary])], iloc_version=2)
    stripped = metadata.strip(original, keep_copyright=True)
    versions = {kind: stripped[at] for kind, at in _in_meta(stripped).items() if kind in (b"pitm", b"iinf", b"iloc", b"iref")}
    assert versions == {b"pitm": int(wide), b"iinf": int(wide), b"iloc": 2 if wide else 1, b"iref": int(wide)}
    heif = ib.read_heif(stripped)
    assert heif.primary == primary and heif.items[primary].data == tile.data
    assert heif.references == [(b"cdsc", primary + 1, (primary,))]  # the kept minimal Exif item, next ID up
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)


@pytest.mark.parametrize(("primary", "left"), [(0xFFFFFFFE, True), (0xFFFFFFFF, False)])
def test_a_kept_exif_item_takes_the_next_id_and_none_past_2_to_the_32_is_refused(primary, left):
    tile = ib.coded_tile(3)
    specs = [Spec(primary, b"hvc1", tile.data, tile.properties), Spec(2, b"Exif", ib.exif_item_payload(EXIF))]
    original = ib.heif_file(specs, primary, [(b"cdsc", 2, [primary])], iloc_version=2)
    if left:
        assert sorted(ib.read_heif(metadata.strip(original, keep_copyright=True)).items) == [0xFFFFFFFE, 0xFFFFFFFF]
        return
    meta_start = next(start for kind, start, _, _ in ib.boxes(original) if kind == b"meta")
    with pytest.raises(ImageError, match=f"^HEIF: no item ID is left for the kept EXIF item at offset {meta_start}$"):
        metadata.strip(original, keep_copyright=True)
    assert sorted(ib.read_heif(metadata.strip(original)).items) == [0xFFFFFFFF]  # without it, served


@pytest.mark.parametrize("over", [False, True])
def test_iloc_offsets_are_written_8_bytes_wide_only_when_input_and_mdat_pass_the_bound(monkeypatch, over):
    # WIDE_OFFSETS_ABOVE (4 GB - 64 KB) patched to this file's input size plus its output mdat payload.
    from metadata.formats.heif import layout

    original = hs.simple_heic()
    narrow = metadata.strip(original)
    mdat_payload = next(end - payload for kind, _, payload, end in ib.boxes(narrow) if kind == b"mdat")
    monkeypatch.setattr(layout, "WIDE_OFFSETS_ABOVE", len(original) + mdat_payload - int(over))
    stripped = metadata.strip(original)
    assert stripped[_in_meta(stripped)[b"iloc"] + 4] == (0x88 if over else 0x44)  # offset_size << 4 | length_size
    assert ib.read_heif(stripped).items[1].data == ib.coded_tile(5).data
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)


def test_a_one_image_heic_is_written_byte_for_byte_as_the_layout_says():
    # Built here from the box layouts (ISO/IEC 23008-12, 14496-12), not by the code under test:
    # ftyp, meta (hdlr without a name, pitm, iloc v1 with 4-byte fields, iinf, iprp), mdat.
    tile = ib.coded_tile(5)
    original = hs.simple_heic()  # item 1: the image; item 2: an Exif item describing it
    ftyp = ib.box(b"ftyp", b"heic", bytes(4), b"mif1", b"heic")
    hdlr = ib.full_box(b"hdlr", 0, 0, bytes(4), b"pict", bytes(12), b"\x00")
    pitm = ib.full_box(b"pitm", 0, 0, struct.pack(">H", 1))
    iinf = ib.full_box(b"iinf", 0, 0, struct.pack(">H", 1), ib.full_box(b"infe", 2, 0, struct.pack(">HH", 1, 0), b"hvc1\x00"))
    ipco = ib.box(b"ipco", *(raw for raw, _ in tile.properties))
    ipma = ib.full_box(b"ipma", 0, 0, struct.pack(">IHB", 1, 1, 4), bytes(i + 1 | (0x80 if essential else 0) for i, (_, essential) in enumerate(tile.properties)))

    def meta(mdat_start: int) -> bytes:
        iloc = ib.full_box(b"iloc", 1, 0, b"\x44\x00", struct.pack(">HHHHHII", 1, 1, 0, 0, 1, mdat_start, len(tile.data)))
        return ib.full_box(b"meta", 0, 0, hdlr, pitm, iloc, iinf, ib.box(b"iprp", ipco, ipma))

    expected = ftyp + meta(len(ftyp) + len(meta(0)) + 8) + ib.box(b"mdat", tile.data)
    assert metadata.strip(original) == expected


def test_a_grid_in_idat_with_hidden_tiles_and_a_group_is_written_byte_for_byte_as_the_layout_says():
    # As above, with iref, idat and grpl: the grid's descriptor in idat, two hidden tiles in mdat
    # (passed through in input order), an altr group of the grid; the thumbnail and the Exif item go.
    two, three = ib.coded_tile(2), ib.coded_tile(3)
    descriptor = ib.grid_descriptor(1, 2, 128, 64)
    tiles = [Spec(n, b"hvc1", tile.data, ib.properties_of(tile, b"hvcC", b"ispe"), hidden=True) for n, tile in ((2, two), (3, three))]
    specs = [Spec(1, b"grid", descriptor, [(ispe(128, 64), False)], method=1), *tiles]
    specs += [Spec(4, b"hvc1", THUMBNAIL.data, THUMBNAIL.properties), Spec(5, b"Exif", ib.exif_item_payload(EXIF))]
    group = hs.entity_group(b"altr", 9, [1])
    original = ib.heif_file(specs, 1, [(b"dimg", 1, [2, 3]), (b"thmb", 4, [1]), (b"cdsc", 5, [1])], meta_extra=(ib.box(b"grpl", group),))

    hvcc = [next(raw for raw, _ in tile.properties if raw[4:8] == b"hvcC") for tile in (two, three)]
    ftyp = ib.box(b"ftyp", b"heic", bytes(4), b"mif1", b"heic")
    hdlr = ib.full_box(b"hdlr", 0, 0, bytes(4), b"pict", bytes(12), b"\x00")
    pitm = ib.full_box(b"pitm", 0, 0, struct.pack(">H", 1))
    infe = [ib.full_box(b"infe", 2, hidden, struct.pack(">HH", n, 0), kind + b"\x00") for n, kind, hidden in ((1, b"grid", 0), (2, b"hvc1", 1), (3, b"hvc1", 1))]
    iinf = ib.full_box(b"iinf", 0, 0, struct.pack(">H", 3), *infe)
    iref = ib.full_box(b"iref", 0, 0, ib.box(b"dimg", struct.pack(">HHHH", 1, 2, 2, 3)))
    assert hvcc[0] == hvcc[1]  # one encoder setting: the builder lists it once
    ipco = ib.box(b"ipco", ispe(128, 64), hvcc[0], ispe(64, 64))  # in input order
    ipma_rows = struct.pack(">HBB", 1, 1, 1) + struct.pack(">HBBB", 2, 2, 0x82, 3) + struct.pack(">HBBB", 3, 2, 0x82, 3)
    ipma = ib.full_box(b"ipma", 0, 0, struct.pack(">I", 3), ipma_rows)

    def meta(mdat_start: int) -> bytes:
        rows = struct.pack(">HHHHII", 1, 1, 0, 1, 0, len(descriptor))
        rows += struct.pack(">HHHHII", 2, 0, 0, 1, mdat_start, len(two.data))
        rows += struct.pack(">HHHHII", 3, 0, 0, 1, mdat_start + len(two.data), len(three.data))
        iloc = ib.full_box(b"iloc", 1, 0, b"\x44\x00", struct.pack(">H", 3), rows)
        return ib.full_box(b"meta", 0, 0, hdlr, pitm, iloc, iinf, iref, ib.box(b"iprp", ipco, ipma), ib.box(b"idat", descriptor), ib.box(b"grpl", group))

    expected = ftyp + meta(len(ftyp) + len(meta(0)) + 8) + ib.box(b"mdat", two.data, three.data)
    assert metadata.strip(original) == expected
    assert ib.decoded_rgba(expected) == ib.decoded_rgba(original)


def test_cleaned_items_are_written_after_the_passed_through_data_or_into_idat():
    # A collection of three images: 1 in idat and 2 in mdat each carrying a prefix SEI (cleaned:
    # written new), 3 in mdat unchanged (passed through). mdat holds the passed-through data, then the new.
    sei = pb.length_prefixed(pb.sei_user_data())
    one, two, three = ib.coded_tile(1), ib.coded_tile(2), ib.coded_tile(3)
    specs = [
        Spec(1, b"hvc1", sei + one.data, one.properties, method=1),
        Spec(2, b"hvc1", sei + two.data, two.properties),
        Spec(3, b"hvc1", three.data, three.properties),
    ]
    original = ib.heif_file(specs, 1, [])
    result = metadata.clean(original)
    heif = ib.read_heif(result.data)
    assert {n: item.data for n, item in heif.items.items()} == {1: one.data, 2: two.data, 3: three.data}
    assert next(result.data[p:e] for kind, _, p, e in ib.boxes(result.data) if kind == b"mdat") == three.data + two.data
    meta_start, meta_end = next((p, e) for kind, _, p, e in ib.boxes(result.data) if kind == b"meta")
    assert [result.data[p:e] for kind, _, p, e in ib.boxes(result.data, meta_start + 4, meta_end) if kind == b"idat"] == [one.data]
    assert result.removed == ("other",)
    assert ib.decoded_rgba(result.data) == ib.decoded_rgba(original)


# ---------------------------------------------------------------- which auxiliary and derived images stay (selection.py)


def _image_with_auxiliaries(
    depth_associations: list[int], *extra: bytes, image_associations: tuple[tuple[int, bool], ...] = ((2, True), (3, False))
) -> tuple[bytes, bytes]:
    """A HEIC image (1) with an alpha (2) and a depth map (3) as auxiliary images. ipco starts and
    ends with the alpha's auxC (the alpha uses the first copy); the depth map is associated with the
    1-based ipco indexes `depth_associations` (the depth auxC is index 7; none: no ipma entry), the
    image with `image_associations` (its hvcC is index 2, its ispe 3); `extra` boxes end meta.
    The file and the alpha's auxC."""
    tile, alpha = ib.coded_tile(5), ib.coded_alpha()
    alpha_auxc = next(raw for raw, _ in alpha.properties if raw[4:8] == b"auxC")
    hvcc = next(raw for raw, _ in tile.properties if raw[4:8] == b"hvcC")
    alpha_hvcc = next(raw for raw, _ in alpha.properties if raw[4:8] == b"hvcC")
    depth_hvcc = next(raw for raw, _ in DEPTH.properties if raw[4:8] == b"hvcC")
    properties = [alpha_auxc, hvcc, ispe(64, 64), alpha_hvcc, depth_hvcc, ispe(32, 32), ib.auxc(ib.DEPTH_URN), alpha_auxc]
    head = hs.ftyp(b"heic", b"mif1", b"heic")

    def meta(at: int) -> bytes:
        items = [
            hs.RawItem(1, b"hvc1", [(at, len(tile.data))], list(image_associations)),
            hs.RawItem(2, b"hvc1", [(at + len(tile.data), len(alpha.data))], [(4, True), (3, False), (1, True)], hidden=True),
            hs.RawItem(3, b"hvc1", [(at + len(tile.data) + len(alpha.data), len(DEPTH.data))], [(i, i != 6) for i in depth_associations], hidden=True),
        ]
        return hs.raw_meta(items, 1, properties, [(b"auxl", 2, [1]), (b"auxl", 3, [1])], extra=extra)

    at = len(head) + len(meta(100)) + 8
    return head + meta(at) + ib.box(b"mdat", tile.data, alpha.data, DEPTH.data), alpha_auxc


@pytest.mark.parametrize(
    ("depth_associations", "image_associations"),
    [([5, 6, 7], ((2, True), (3, False))), ([0, 5, 6, 7], ((2, True), (3, False))), ([], ((2, True), (3, False))), ([5, 6, 7], ((0, False), (2, True), (3, False)))],
    ids=["plain", "with-index-0", "depth-without-properties", "image-with-index-0-first"],
)
def test_an_alpha_is_known_by_an_auxc_first_in_ipco_and_a_depth_map_goes_whatever_ipco_ends_with(depth_associations, image_associations):
    # index 0 means "no property": it may not be read as ipco's last entry (the alpha's auxC),
    # and the image's associations after it are read on
    data, alpha_auxc = _image_with_auxiliaries(depth_associations, image_associations=image_associations)
    result = metadata.clean(data)
    heif = ib.read_heif(result.data)
    assert sorted(heif.items) == [1, 2]
    assert heif.items[1].data == ib.coded_tile(5).data
    assert heif.items[1].properties == [(raw, essential) for raw, essential in ib.coded_tile(5).properties if raw[4:8] in (b"hvcC", b"ispe")]
    assert heif.items[2].data == ib.coded_alpha().data and (alpha_auxc, True) in heif.items[2].properties
    assert DEPTH.data not in result.data
    assert heif.references == [(b"auxl", 2, (1,))]


def test_a_group_with_an_auxiliary_or_undeclared_member_goes():
    depth_group = hs.entity_group(b"altr", 8, [1, 3])  # 3: the depth map, an auxiliary image
    undeclared = hs.entity_group(b"ster", 9, [1, 42])
    data, _ = _image_with_auxiliaries([5, 6, 7], ib.box(b"grpl", depth_group, undeclared))
    assert len(hs.read_groups(data)) == 2
    result = metadata.clean(data)
    assert sorted(ib.read_heif(result.data).items) == [1, 2]
    assert hs.read_groups(result.data) == []


def test_a_group_of_the_image_and_its_kept_alpha_survives():
    alpha_group = hs.entity_group(b"altr", 8, [1, 2])  # 2: the alpha, an auxiliary image that is kept
    data, _ = _image_with_auxiliaries([5, 6, 7], ib.box(b"grpl", alpha_group))
    result = metadata.clean(data)
    assert sorted(ib.read_heif(result.data).items) == [1, 2]
    assert [(kind, group_id, entities) for kind, group_id, entities, _ in hs.read_groups(result.data)] == [(b"altr", 8, (1, 2))]


def test_a_hidden_derived_image_of_the_primary_that_is_no_tone_map_goes():
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"iden", b"", [(ispe(64, 64), False)], hidden=True)]
    result = metadata.clean(ib.heif_file(specs, 1, [(b"dimg", 2, [1])]))
    assert sorted(ib.read_heif(result.data).items) == [1]
    assert result.removed == ("other",)


def test_an_identity_primary_without_data_is_kept_with_its_hidden_input():
    # 'iden' has no data (no iloc entry): the only derived item whose check passes nothing
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"iden", b"", [(ispe(64, 64), False)]), Spec(2, b"hvc1", tile.data, tile.properties, hidden=True)]
    stripped, result = _assert_kept(ib.heif_file(specs, 1, [(b"dimg", 1, [2])]), {1, 2})
    assert (ib.read_heif(stripped).items[1].data, result.removed) == (b"", ())


def test_a_group_of_pictures_none_of_which_is_kept_goes():
    tile, hidden = ib.coded_tile(1), ib.coded_tile(2, (32, 32))
    specs = [Spec(1, b"hvc1", tile.data, tile.properties)]
    specs += [Spec(n, b"hvc1", hidden.data, hidden.properties, hidden=True) for n in (2, 3)]  # referenced by nothing
    original = ib.heif_file(specs, 1, [], meta_extra=(ib.box(b"grpl", hs.entity_group(b"ster", 7, [2, 3])),))
    result = metadata.clean(original)
    assert sorted(ib.read_heif(result.data).items) == [1]
    assert hs.read_groups(result.data) == []
    assert result.removed == ("other",)


def test_a_thumbnail_is_reported_as_such():
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"hvc1", tile.data, tile.properties), Spec(4, b"hvc1", THUMBNAIL.data, THUMBNAIL.properties)]
    assert metadata.clean(ib.heif_file(specs, 1, [(b"thmb", 4, [1])])).removed == ("thumbnail",)


def test_kept_references_keep_their_kept_targets_and_other_reference_types_go():
    # the alpha's auxl names the image and the thumbnail (dropped); an unknown 'zref' links the two kept images
    tile, alpha = ib.coded_tile(5), ib.coded_alpha()
    specs = [Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"hvc1", alpha.data, alpha.properties, hidden=True)]
    specs.append(Spec(4, b"hvc1", THUMBNAIL.data, THUMBNAIL.properties))
    original = ib.heif_file(specs, 1, [(b"auxl", 2, [1, 4]), (b"zref", 1, [2]), (b"thmb", 4, [1])])
    heif = ib.read_heif(metadata.strip(original))
    assert sorted(heif.items) == [1, 2]
    assert heif.references == [(b"auxl", 2, (1,))]


def test_an_apple_gain_map_xmp_item_keeps_describing_the_gain_map_only():
    stripped = metadata.strip(apple_heic(gain_map_xmp_describes=(2, 20)))  # 20: the depth map, dropped
    heif = ib.read_heif(stripped)
    assert sorted(heif.items) == [1, 2, 3]
    assert (b"cdsc", 3, (2,)) in heif.references


@pytest.mark.parametrize("tmap_hidden", [True, False])
def test_a_tone_map_item_visible_or_hidden_makes_a_gain_map_not_a_collection(tmap_hidden):
    base, gain_map = ib.coded_tile(1), ib.coded_tile(11, (32, 32))
    specs = [
        Spec(1, b"hvc1", base.data, base.properties),
        Spec(2, b"hvc1", gain_map.data, gain_map.properties, hidden=True),
        Spec(3, b"tmap", hs.tone_map_descriptor(), [(ispe(64, 64), False)], hidden=tmap_hidden),
    ]
    original = ib.heif_file(specs, 1, [(b"dimg", 3, [1, 2])], brands=(b"heic", b"mif1", b"heic", b"tmap"))
    stripped, result = _assert_kept(original, {1, 2, 3})
    assert result.kept == ("gain map",)


@pytest.mark.parametrize("iloc_version", [0, 1, 2])
def test_iloc_keeps_version_0_and_writes_version_1_for_1_and_2(iloc_version):
    original = hs.simple_heic(iloc_version=iloc_version)
    stripped = metadata.strip(original)
    assert stripped[_in_meta(stripped)[b"iloc"]] == min(iloc_version, 1)
    assert ib.read_heif(stripped).items[1].data == ib.coded_tile(5).data


def test_an_image_held_in_idat_is_written_without_an_mdat_box():
    tile = ib.coded_tile(5)
    original = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties, method=1)], 1, [])
    stripped = metadata.strip(original)
    assert ib.top_level_types(stripped) == [b"ftyp", b"meta"]
    assert ib.read_heif(stripped).items[1].data == tile.data
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)


@pytest.mark.parametrize(("kept", "flags"), [(127, 0), (128, 1)])
def test_ipma_indexes_are_15_bits_wide_only_past_127_properties(kept, flags):
    tile = ib.coded_tile(1)
    filler = [(ib.box(b"pasp", struct.pack(">II", n + 1, n + 1)), False) for n in range(kept - len(tile.properties))]
    stripped = metadata.strip(ib.heif_file([Spec(1, b"hvc1", tile.data, filler + tile.properties)], 1, []))
    ipma = next(p for kind, _, p, _ in ib.boxes(stripped, _in_meta(stripped)[b"iprp"]) if kind == b"ipma")
    assert stripped[ipma + 3] == flags
    assert ib.read_heif(stripped).items[1].properties == filler + tile.properties


def _apple_gain_map_with(xmp: bytes) -> bytes:
    """A photo (1), its Apple HDR gain map (2, auxiliary) and an XMP item (3) describing the gain map."""
    photo, gain_map = ib.coded_tile(1), ib.coded_tile(11, (32, 32))
    specs = [
        Spec(1, b"hvc1", photo.data, photo.properties),
        Spec(2, b"hvc1", gain_map.data, gain_map.properties + [(ib.auxc(hs.APPLE_GAIN_MAP_URN), True)], hidden=True),
        Spec(3, b"mime", xmp, content_type=b"application/rdf+xml"),
    ]
    return ib.heif_file(specs, 1, [(b"auxl", 2, [1]), (b"cdsc", 3, [2])])


def test_an_apple_gain_map_xmp_item_is_reported_only_when_reduced_and_dropped_when_nothing_renders():
    first = metadata.clean(_apple_gain_map_with(hs.APPLE_GAIN_MAP_XMP))
    assert first.removed == ("xmp",)  # its CreatorTool went
    reduced = ib.read_heif(first.data).items[3].data
    assert b"HDRGainMapHeadroom" in reduced and b.SECRET not in reduced
    again = metadata.clean(_apple_gain_map_with(reduced))
    assert again.removed == () and ib.read_heif(again.data).items[3].data == reduced
    nothing = (  # a well-formed packet with no rendering property
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{hs.RDF}"><rdf:Description rdf:about=""'
        f' xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="{b.SECRET.decode()}"/></rdf:RDF></x:xmpmeta>'
    ).encode()
    dropped = metadata.clean(_apple_gain_map_with(nothing))
    assert sorted(ib.read_heif(dropped.data).items) == [1, 2]
    assert dropped.removed == ("xmp",)


@pytest.mark.parametrize("over", [False, True])
def test_an_apple_gain_map_xmp_item_over_max_xmp_packet_is_dropped(monkeypatch, over):
    # MAX_XMP_PACKET (the largest XMP item read) patched to this item's size, at the module that reads it.
    from metadata.formats.heif import payloads

    monkeypatch.setattr(payloads, "MAX_XMP_PACKET", len(hs.APPLE_GAIN_MAP_XMP) - int(over))
    result = metadata.clean(_apple_gain_map_with(hs.APPLE_GAIN_MAP_XMP))
    assert sorted(ib.read_heif(result.data).items) == ([1, 2] if over else [1, 2, 3])
    assert result.removed == ("xmp",)


def test_every_written_reference_names_written_items_only():
    # XMP item 3 describes the gain map and XMP item 5, which describes the gain map too but
    # has nothing that renders: 5 goes, and no reference may name it
    nothing = (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{hs.RDF}"><rdf:Description rdf:about=""'
        f' xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="{b.SECRET.decode()}"/></rdf:RDF></x:xmpmeta>'
    ).encode()
    photo, gain_map = ib.coded_tile(1), ib.coded_tile(11, (32, 32))
    specs = [
        Spec(1, b"hvc1", photo.data, photo.properties),
        Spec(2, b"hvc1", gain_map.data, gain_map.properties + [(ib.auxc(hs.APPLE_GAIN_MAP_URN), True)], hidden=True),
        Spec(3, b"mime", hs.APPLE_GAIN_MAP_XMP, content_type=b"application/rdf+xml"),
        Spec(5, b"mime", nothing, content_type=b"application/rdf+xml"),
    ]
    original = ib.heif_file(specs, 1, [(b"auxl", 2, [1]), (b"cdsc", 3, [2, 5]), (b"cdsc", 5, [2])])
    heif = ib.read_heif(metadata.strip(original))
    assert sorted(heif.items) == [1, 2, 3]
    assert all(source in heif.items and set(targets) <= set(heif.items) for _, source, targets in heif.references), heif.references
    assert (b"auxl", 2, (1,)) in heif.references


# ---------------------------------------------------------------- layout.py: idat pieces and ipma entries in iinf order


def test_an_image_in_idat_in_three_pieces_is_written_with_each_piece_after_the_one_before():
    tile = ib.coded_tile(5)
    original = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties, method=1, pieces=3)], 1, [])
    stripped = metadata.strip(original)
    idat = _in_meta(stripped)[b"idat"]
    assert stripped[idat : idat - 8 + struct.unpack_from(">I", stripped, idat - 8)[0]] == tile.data  # the pieces in order
    heif = ib.read_heif(stripped)
    assert (heif.items[1].extents, heif.items[1].data) == (ib.read_heif(original).items[1].extents, tile.data)
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)


def test_an_item_without_properties_listed_first_leaves_the_associations_of_the_items_after_it():
    # iinf lists the gain map's XMP item (no property) before the gain map itself
    photo, gain_map = ib.coded_tile(1), ib.coded_tile(11, (32, 32))
    gain_map_properties = gain_map.properties + [(ib.auxc(hs.APPLE_GAIN_MAP_URN), True)]
    specs = [
        Spec(1, b"hvc1", photo.data, photo.properties),
        Spec(3, b"mime", hs.APPLE_GAIN_MAP_XMP, content_type=b"application/rdf+xml"),
        Spec(2, b"hvc1", gain_map.data, gain_map_properties, hidden=True),
    ]
    heif = ib.read_heif(metadata.strip(ib.heif_file(specs, 1, [(b"auxl", 2, [1]), (b"cdsc", 3, [2])])))
    assert list(heif.items) == [1, 3, 2]
    assert (heif.items[1].properties, heif.items[3].properties, heif.items[2].properties) == (photo.properties, [], gain_map_properties)


# ---------------------------------------------------------------- selection.py: each auxiliary image typed by its own auxC


def test_an_alpha_is_kept_when_the_auxl_of_a_depth_map_is_listed_before_its_own():
    tile, alpha = ib.coded_tile(5), ib.coded_alpha()
    specs = [
        Spec(1, b"hvc1", tile.data, tile.properties),
        Spec(2, b"hvc1", alpha.data, alpha.properties, hidden=True),
        Spec(3, b"hvc1", DEPTH.data, DEPTH.properties + [(ib.auxc(ib.DEPTH_URN), True)], hidden=True),
    ]
    result = metadata.clean(ib.heif_file(specs, 1, [(b"auxl", 3, [1]), (b"auxl", 2, [1])]))
    heif = ib.read_heif(result.data)
    assert sorted(heif.items) == [1, 2]
    assert heif.items[2].data == alpha.data and heif.items[2].properties == alpha.properties
    assert heif.references == [(b"auxl", 2, (1,))]
    assert DEPTH.data not in result.data and result.removed == ("other",)


def test_an_alpha_whose_auxc_ends_ipco_is_kept():
    tile, alpha = ib.coded_tile(5), ib.coded_alpha()
    original = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"hvc1", alpha.data, alpha.properties, hidden=True)], 1, [(b"auxl", 2, [1])])
    ipco = next((p, e) for kind, _, p, e in ib.boxes(original, _in_meta(original)[b"iprp"]) if kind == b"ipco")
    assert ib.boxes(original, *ipco)[-1][0] == b"auxC"  # the alpha's auxC is ipco's last property
    heif = ib.read_heif(metadata.strip(original))
    assert sorted(heif.items) == [1, 2]
    assert heif.items[2].data == alpha.data and heif.items[2].properties == alpha.properties


# ---------------------------------------------------------------- walk.py: the new payloads written one after the other


def test_a_cleaned_item_and_the_kept_exif_item_are_written_back_to_back_at_the_end_of_mdat():
    sei = pb.length_prefixed(pb.sei_user_data())
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"hvc1", sei + tile.data, tile.properties), Spec(2, b"Exif", ib.exif_item_payload(EXIF))]
    stripped = metadata.strip(ib.heif_file(specs, 1, [(b"cdsc", 2, [1])]), keep_copyright=True)
    heif = ib.read_heif(stripped)
    assert [(n, item.type) for n, item in heif.items.items()] == [(1, b"hvc1"), (2, b"Exif")]  # the next ID after the kept ones
    exif = heif.items[2].data
    assert exif.startswith(struct.pack(">I", 6) + b"Exif\x00\x00") and b.OWNER_COPYRIGHT in exif and GPS_BYTES not in exif
    mdat_start, mdat_end = next((p, e) for kind, _, p, e in ib.boxes(stripped) if kind == b"mdat")
    assert stripped[mdat_start:mdat_end] == tile.data + exif  # the cleaned item, then the Exif item, nothing between
    assert heif.items[1].data == tile.data
