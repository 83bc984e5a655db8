"""HEIF/AVIF files built to carry bytes past the strip, or to make it work without bound:
each is refused (with its reason) or cleaned, and the inputs once reported slow are
stripped or refused with a number of operations proportional to their size."""

from __future__ import annotations

import functools
import re
import struct

import heif_shapes as hs
import image_builders as b
import isobmff_builders as ib
import metadata
import payload_builders as pb
import functools

import pytest
from heif_shapes import RawItem
from isobmff_builders import Spec, box, full_box, ispe
from metadata import ImageError
from metadata.formats.heif.properties import Property, read_property
from metadata.formats.isobmff import Box
from metadata_checks import assert_refused, bounded_memory

EXIF = b.exif_block(6)
GPS_BYTES = struct.pack(">IIIIII", 52, 1, 31, 1, 1234, 100)
# Python and C calls per input byte a strip may make. Parsing costs about 3 per byte on
# a file of nothing but empty boxes, the worst case; the inputs once reported slow made
# hundreds per byte (one Exif parse per copy) or millions (every extent against every mdat).
OPERATIONS_PER_BYTE = 4


def _av1_with(extra: list[RawItem], payload_after: bytes, *, image_length_extra: int = 0, references=()) -> bytes:
    """An AVIF of one real AV1 image followed in mdat by `payload_after`; extra items'
    extents are given relative to the end of the image data."""
    tile = hs.av1_image(1)
    properties = [raw for raw, _ in tile.properties]
    head = hs.ftyp(b"avif", b"mif1", b"avif")

    def meta(at: int) -> bytes:
        image = RawItem(1, b"av01", [(at, len(tile.data) + image_length_extra)], [(i + 1, e) for i, (_, e) in enumerate(tile.properties)])
        moved = [RawItem(x.id, x.type, [(at + len(tile.data) + o, n) for o, n in x.extents], x.properties, x.hidden, x.content_type) for x in extra]
        return hs.raw_meta([image, *moved], 1, properties, list(references))

    at = len(head) + len(meta(0)) + 8
    return head + meta(at) + box(b"mdat", tile.data, payload_after)


# ---------------------------------------------------------------- bytes that would ride along


def test_an_image_extent_covering_the_exif_item_is_refused():
    exif = ib.exif_item_payload(EXIF)
    data = _av1_with([RawItem(2, b"Exif", [(0, len(exif))])], exif, image_length_extra=len(exif), references=[(b"cdsc", 2, [1])])
    assert GPS_BYTES in data
    assert_refused(data, reason="the data of dropped item 2 lies inside the data of a kept image")


@pytest.mark.parametrize(
    ("extent", "inside"),
    [
        (lambda image: (image, 20), False),  # right after the image's data
        (lambda image: (image - 1, 20), True),  # from the image's last byte
        (lambda image: (-20, 20), False),  # right before it, ending where it starts
        (lambda image: (-19, 20), True),  # ending on its first byte
        (lambda image: (image, 0), False),  # length 0: to the end of the file, from after the image
        (lambda image: (-1, 0), True),  # length 0 from just before the image: over it
    ],
    ids=["after", "on-the-last-byte", "before", "on-the-first-byte", "to-the-end-after", "to-the-end-over"],
)
def test_a_dropped_extent_may_touch_kept_data_but_not_share_a_byte(extent, inside):
    # An AVIF whose mdat holds 40 bytes, the image's data, 40 bytes; the Exif item's extent is
    # given relative to the start of the image's data.
    tile = hs.av1_image(1)
    head = hs.ftyp(b"avif", b"mif1", b"avif")

    def meta(at: int) -> bytes:
        image = RawItem(1, b"av01", [(at, len(tile.data))], [(i + 1, e) for i, (_, e) in enumerate(tile.properties)])
        offset, length = extent(len(tile.data))
        return hs.raw_meta([image, RawItem(2, b"Exif", [(at + offset, length)])], 1, [raw for raw, _ in tile.properties], [(b"cdsc", 2, [1])])

    at = len(head) + len(meta(40)) + 8 + 40
    data = head + meta(at) + box(b"mdat", bytes(40), tile.data, bytes(40))
    if inside:
        meta_start = len(head)
        with pytest.raises(ImageError, match=f"^HEIF: the data of dropped item 2 lies inside the data of a kept image at offset {meta_start}$"):
            metadata.clean(data)
    else:
        assert ib.read_heif(metadata.strip(data)).items[1].data == tile.data


# ---------------------------------------------------------------- where a kept item's bytes may lie (extents.py)


def _av1_in_two_mdats(extents, *, method: int = 0) -> tuple[bytes, int, int]:
    """An AVIF of one AV1 image whose data fill the first of two mdat boxes (40 zero bytes in
    the second); `extents(at, size)` gives the image's extents from where its data start and
    their size. The file, `at` and the meta box's offset."""
    tile = hs.av1_image(1)
    head = hs.ftyp(b"avif", b"mif1", b"avif")

    def meta(at: int) -> bytes:
        image = RawItem(1, b"av01", extents(at, len(tile.data)), [(i + 1, e) for i, (_, e) in enumerate(tile.properties)], method=method)
        return hs.raw_meta([image], 1, [raw for raw, _ in tile.properties], [])

    at = len(head) + len(meta(100)) + 8  # the meta box's size does not depend on the offsets
    return head + meta(at) + box(b"mdat", tile.data) + box(b"mdat", bytes(40)), at, len(head)


@pytest.mark.parametrize(
    ("extents", "reason"),
    [
        (lambda at, size: [(at, size)], None),
        (lambda at, size: [(at, 10), (at + 10, size - 10)], None),  # adjacent extents
        (lambda at, size: [(at - 1, size)], "an extent of item 1 ({size} bytes at {start}) is outside its data box"),  # from the mdat header
        (lambda at, size: [(at + 1, size)], "an extent of item 1 ({size} bytes at {start}) is outside its data box"),  # into the next box
        (lambda at, size: [(20, size)], "an extent of item 1 ({size} bytes at {start}) is outside its data box"),  # in meta, before any mdat
        (lambda at, size: [(at, 0)], "an extent of item 1 (0 bytes at {start}) is outside its data box"),
        (lambda at, size: [(at, 11), (at + 10, size - 10)], "the extents of item 1 overlap each other"),
    ],
    ids=["whole-mdat", "adjacent", "from-a-header", "into-the-next-box", "before-any-mdat", "length-0", "overlapping"],
)
def test_a_kept_item_s_extents_lie_inside_one_mdat_without_overlapping(extents, reason):
    data, at, meta_start = _av1_in_two_mdats(extents)
    if reason is None:
        assert ib.read_heif(metadata.strip(data)).items[1].data == hs.av1_image(1).data
        return
    (start, size), *_ = extents(at, len(hs.av1_image(1).data))
    expected = f"HEIF: {reason.format(size=size, start=start)} at offset {meta_start}"
    with pytest.raises(ImageError, match=f"^{re.escape(expected)}$"):
        metadata.clean(data)


def test_a_kept_item_built_from_another_item_s_data_is_refused():
    data, _, meta_start = _av1_in_two_mdats(lambda at, size: [(0, size)], method=2)
    with pytest.raises(ImageError, match=f"^HEIF: item 1 uses construction method 2 at offset {meta_start}$"):
        metadata.clean(data)


def test_kept_items_sharing_part_of_their_data_are_refused():
    tile = hs.av1_image(1)
    # a second (visible) image whose extent starts inside the first one's
    data = _av1_with([RawItem(2, b"av01", [(-10, len(tile.data))], [(3, True)])], bytes(len(tile.data)))
    assert_refused(data, reason="share part of their data")


def test_items_sharing_data_under_different_codings_are_refused():
    tile = hs.av1_image(1)
    data = _av1_with([RawItem(2, b"av01", [(-len(tile.data), len(tile.data))], [(3, True)])], b"")
    assert_refused(data, reason="shares its data with an item of another coding")  # no ispe, pixi, colr on item 2


def test_an_item_listing_the_same_bytes_twice_is_refused():
    assert_refused(hs.repeated_hevc_extents(tiles=4, block=4096), reason="extents of item 2 overlap each other")


@pytest.mark.parametrize("essential", [True, False])
def test_a_property_longer_than_its_fields_is_refused_or_dropped(essential):
    tile = ib.coded_tile(5)
    long_pasp = box(b"pasp", struct.pack(">II", 1, 1), b.SECRET)
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties + [(long_pasp, essential)])], 1, [])
    if essential:
        with pytest.raises(ImageError, match=r"item 1 needs property 'pasp': 21 bytes where its fields take 8"):
            metadata.strip(data)
        return
    stripped = metadata.strip(data)
    assert b.SECRET not in stripped
    assert [raw for raw, _ in ib.read_heif(stripped).items[1].properties] == [raw for raw, _ in tile.properties]
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(data)


def test_an_auxiliary_type_is_written_without_its_subtype_bytes():
    tile, alpha = ib.coded_tile(5), ib.coded_alpha()
    auxc = next(raw for raw, _ in alpha.properties if raw[4:8] == b"auxC")
    padded = full_box(b"auxC", 0, 0, auxc[12:], b"subtype " + b.SECRET)
    properties = [(padded if raw == auxc else raw, essential) for raw, essential in alpha.properties]
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"hvc1", alpha.data, properties, hidden=True)], 1, [(b"auxl", 2, [1])])
    stripped = metadata.strip(data)
    assert b.SECRET not in stripped
    assert auxc in stripped
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(data)


def test_a_derived_item_without_its_inputs_is_refused():
    data = bytearray(hs.everything())
    assert data[702:706] == b"iref"
    data[702] = 0  # the iref box's type: the grid loses its dimg references
    assert_refused(bytes(data), reason=r"derived item 1 \('grid'\) has no input images")


def test_a_coded_input_without_data_is_refused():
    tile = ib.coded_tile(1)
    specs = [Spec(1, b"grid", ib.grid_descriptor(1, 2, 128, 64), [(ispe(128, 64), False)]), Spec(2, b"hvc1", tile.data, tile.properties, hidden=True), Spec(3, b"hvc1", properties=tile.properties, hidden=True)]
    assert_refused(ib.heif_file(specs, 1, [(b"dimg", 1, [2, 3])]), reason="image item 3 has no data")


def test_a_grid_missing_a_tile_is_refused():
    tiles = [ib.coded_tile(n) for n in (2, 3, 4)]
    specs = [Spec(1, b"grid", ib.grid_descriptor(2, 2, 128, 128), [(ispe(128, 128), False)])]
    specs += [Spec(n, b"hvc1", tile.data, tile.properties, hidden=True) for n, tile in zip((2, 3, 4), tiles)]
    assert_refused(ib.heif_file(specs, 1, [(b"dimg", 1, [2, 3, 4])]), reason=r"grid of 2 x 2 tiles has 3 'dimg' inputs")


def _tone_mapped(descriptor: bytes, inputs: list[int]) -> bytes:
    base, gain_map = ib.coded_tile(1), ib.coded_tile(11, (32, 32))
    specs = [
        Spec(1, b"hvc1", base.data, base.properties),
        Spec(2, b"hvc1", gain_map.data, gain_map.properties, hidden=True),
        Spec(3, b"tmap", descriptor, [(ispe(64, 64), False)]),
    ]
    return ib.heif_file(specs, 1, [(b"dimg", 3, inputs)], brands=(b"heic", b"mif1", b"heic", b"tmap"))


@pytest.mark.parametrize(
    ("descriptor", "inputs", "reason"),
    [
        (hs.tone_map_descriptor() + b.SECRET, [1, 2], r"tone-map \('tmap'\) item is 75 bytes, its fields take 62"),
        (hs.tone_map_descriptor(), [1], r"tone-map \('tmap'\) item has 1 'dimg' inputs, not 2"),
    ],
    ids=["bytes-after-the-parameters", "no-gain-map-input"],
)
def test_a_tone_map_item_not_exactly_its_fields_and_inputs_is_refused(descriptor, inputs, reason):
    assert metadata.strip(_tone_mapped(hs.tone_map_descriptor(), [1, 2]))  # the well-formed file is served
    assert_refused(_tone_mapped(descriptor, inputs), reason=reason)


def test_an_entity_group_with_bytes_after_its_fields_is_refused():
    tile = ib.coded_tile(1)
    group = hs.entity_group(b"altr", 9, [1], b.SECRET)
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties)], 1, [], meta_extra=(box(b"grpl", group),))
    assert_refused(data, reason=r"entity group 9 \(altr\) is 29 bytes, its fields take 16")


def test_an_entity_group_with_the_id_of_an_item_is_refused():
    tile = ib.coded_tile(1)
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties)], 1, [], meta_extra=(box(b"grpl", hs.entity_group(b"ster", 1, [1])),))
    assert_refused(data, reason="entity group 1 has the ID of an item")


# ---------------------------------------------------------------- what is kept, refused with its exact reason (selection.py)


def _grid_with(tiles: list[int], *extra: Spec) -> bytes:
    """A 2 x 2 grid primary over hidden coded tiles 2 to 5, its dimg naming `tiles`, with `extra` items."""
    specs = [Spec(1, b"grid", ib.grid_descriptor(2, 2, 128, 128), [(ispe(128, 128), False)])]
    specs += [Spec(n, b"hvc1", ib.coded_tile(n).data, ib.properties_of(ib.coded_tile(n), b"hvcC", b"ispe"), hidden=True) for n in (2, 3, 4, 5)]
    return ib.heif_file(specs + list(extra), 1, [(b"dimg", 1, tiles)])


def _associated_with_property(index: int) -> bytes:
    """A HEIC whose image is associated with its four properties and with ipco index `index`."""
    tile = ib.coded_tile(5)
    head = hs.ftyp(b"heic", b"mif1", b"heic")

    def meta(at: int) -> bytes:
        associations = [(i + 1, e) for i, (_, e) in enumerate(tile.properties)] + [(index, False)]
        return hs.raw_meta([RawItem(1, b"hvc1", [(at, len(tile.data))], associations)], 1, [raw for raw, _ in tile.properties], [])

    at = len(head) + len(meta(100)) + 8
    return head + meta(at) + box(b"mdat", tile.data)


SELECTION_REFUSALS = {
    "looping-dimg": (hs.looping_grid, "'dimg' references loop through item 1"),
    "undeclared-input": (lambda: _grid_with([2, 3, 4, 7]), "item 1 refers to undeclared item 7"),
    "metadata-input": (lambda: _grid_with([2, 3, 4, 6], Spec(6, b"mime", b"text", content_type=b"text/plain")), "kept item 6 is of type b'mime', not an image"),
    "property-past-ipco": (lambda: _associated_with_property(5), "item 1 is associated with property 5 of 4"),
    "group-longer-than-its-fields": (
        lambda: ib.heif_file([Spec(1, b"hvc1", ib.coded_tile(1).data, ib.coded_tile(1).properties)], 1, [], meta_extra=(box(b"grpl", hs.entity_group(b"altr", 9, [1], b.SECRET)),)),
        "entity group 9 (altr) is 29 bytes, its fields take 16",
    ),
    "group-of-version-1": (
        lambda: ib.heif_file([Spec(1, b"hvc1", ib.coded_tile(1).data, ib.coded_tile(1).properties)], 1, [], meta_extra=(box(b"grpl", full_box(b"altr", 1, 0, struct.pack(">III", 9, 1, 1))),)),
        "entity group 9 (altr) is 16 bytes, its fields take 16",  # a version or flags the strip does not know
    ),
    "group-with-an-item-id": (
        lambda: ib.heif_file([Spec(1, b"hvc1", ib.coded_tile(1).data, ib.coded_tile(1).properties)], 1, [], meta_extra=(box(b"grpl", hs.entity_group(b"ster", 1, [1])),)),
        "entity group 1 has the ID of an item",
    ),
    # payloads.py: the kept items' data
    "image-without-data": (lambda: ib.heif_file([Spec(1, b"hvc1", b"", ib.coded_tile(5).properties)], 1, []), "image item 1 has no data"),
    "grid-without-inputs": (
        lambda: ib.heif_file([Spec(1, b"grid", ib.grid_descriptor(2, 2, 128, 128), [(ispe(128, 128), False)])], 1, []),
        "derived item 1 ('grid') has no input images",
    ),
    "data-shared-in-part": (
        lambda: _av1_with([RawItem(2, b"av01", [(-10, len(hs.av1_image(1).data))], [(3, True)])], bytes(len(hs.av1_image(1).data))),
        "kept items share part of their data at offset {image_end_less_10} without sharing all of it",
    ),
    "data-shared-across-codings": (
        lambda: _av1_with([RawItem(2, b"av01", [(-len(hs.av1_image(1).data), len(hs.av1_image(1).data))], [(3, True)])], b""),
        "item 2 shares its data with an item of another coding",
    ),
}


@pytest.mark.parametrize("case", sorted(SELECTION_REFUSALS))
def test_a_structure_the_strip_cannot_keep_whole_is_refused_with_its_exact_reason(case):
    build, reason = SELECTION_REFUSALS[case]
    data = build()
    meta_start = next(start for kind, start, _, _ in ib.boxes(data) if kind == b"meta")
    image = hs.av1_image(1).data
    reason = reason.format(image_end_less_10=data.find(image) + len(image) - 10)
    assert_refused(data, reason=f"^{re.escape(f'HEIF: {reason} at offset {meta_start}')}$")


def test_a_property_index_at_the_end_of_ipco_is_kept_and_index_0_means_none():
    tile = ib.coded_tile(5)
    kept = ib.read_heif(metadata.strip(_associated_with_property(4))).items[1]
    assert [raw[4:8] for raw, _ in kept.properties] == [b"hvcC", b"colr", b"ispe", b"pixi", b"pixi"]
    none = ib.read_heif(metadata.strip(_associated_with_property(0))).items[1]
    assert none.properties == tile.properties


def test_an_unknown_essential_property_is_refused_at_its_own_offset():
    tile = ib.coded_tile(5)
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties + [(box(b"zzzz", b"?"), True)])], 1, [])
    assert_refused(data, reason=rf"^HEIF: item 1 needs unknown property 'zzzz' at offset {data.index(b'zzzz') - 4}$")


def test_a_grid_using_one_tile_twice_is_no_loop():
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"grid", ib.grid_descriptor(1, 2, 128, 64), [(ispe(128, 64), False)])]
    specs.append(Spec(2, b"hvc1", tile.data, ib.properties_of(tile, b"hvcC", b"ispe"), hidden=True))
    stripped = metadata.strip(ib.heif_file(specs, 1, [(b"dimg", 1, [2, 2])]))
    assert ib.read_heif(stripped).references == [(b"dimg", 1, (2, 2))]
    assert ib.decoded_rgba(stripped)[0] == (128, 64)


def test_ftyp_keeps_only_registered_brands_true_of_the_output():
    tile = ib.coded_tile(1)
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties)], 1, [], brands=(b"heic", b"mif1", b"heic", b"tmap", b"SECR", b"ET!!", b"mif1"))
    stripped = metadata.strip(data)
    assert hs.brands(stripped) == [b"heic", b"mif1", b"heic"]
    assert stripped[12:16] == bytes(4)  # minor version
    assert metadata.strip(stripped) == stripped


# ---------------------------------------------------------------- shapes that are not served


def test_compact_avif_is_refused_with_a_message_that_names_it():
    data = hs.ftyp(b"avif", b"mif3", b"avif") + box(b"mini", b"\x00" * 24)
    assert_refused(data, reason=r"compact AVIF \('mini' box")


def test_animated_avif_is_refused_with_a_message_that_names_it():
    tile = hs.av1_image(1)
    data = ib.heif_file([Spec(1, b"av01", tile.data, tile.properties)], 1, [], brands=(b"avis", b"avif", b"msf1"), after_all=(box(b"moov", box(b"mvhd", bytes(100))),))
    assert_refused(data, reason=r"animated AVIF \('avis'\)")


# ---------------------------------------------------------------- work proportional to the input


@pytest.mark.parametrize(
    "shape",
    # 8,000 mdat boxes, not the 40,000 of the report: work quadratic in them would be 64 million
    # operations against a bound of half a million, and the test, run on every HEIF mutant by
    # `make mutate`, takes a third of the time.
    [functools.partial(hs.many_mdats, mdats=8_000), hs.exif_items_sharing_one_block, hs.repeated_hevc_extents],
    ids=["many-mdat-boxes", "999-exif-items-one-block", "repeated-hevc-extents"],
)
def test_inputs_once_slow_take_work_proportional_to_their_size(shape):
    data = shape()
    with bounded_memory():
        result, operations = hs.operations(metadata.strip, data)
    assert operations <= OPERATIONS_PER_BYTE * len(data), operations
    if shape is hs.repeated_hevc_extents:
        assert isinstance(result, ImageError) and "overlap each other" in str(result)
    else:
        assert isinstance(result, bytes)
        assert b.SECRET not in result and b"Exif\x00\x00" not in result


# ---------------------------------------------------------------- property readers (properties.py)
# Each property box read on its own, placed between other bytes: kept, its payload is its
# bytes as they are (auxC: up to its URN's NUL); refused, the reason names what is wrong.

V0 = bytes(4)  # a full box's version 0 and flags 0
OTHER, COMMENT = "other", "comment"
# Fixed-size property types: payload bytes, and whether they start with version and flags. Written
# out from ISO/IEC 23008-12 and 14496-12 here, not taken from properties.FIXED_FIELDS, so that a
# wrong entry there is caught.
FIELDS = {
    b"ispe": (12, True),
    b"irot": (1, False),
    b"imir": (1, False),
    b"clap": (32, False),
    b"pasp": (8, False),
    b"rloc": (12, True),
    b"lsel": (2, False),
    b"a1op": (1, False),
    b"clli": (4, False),
    b"mdcv": (24, False),
    b"amve": (8, False),
    b"cloc": (5, True),
    b"mskC": (5, True),
}


def _read(kind: bytes, payload: bytes) -> tuple[Box, Property]:
    raw = box(kind, payload)
    part = Box(kind, 5, 13, 5 + len(raw))
    return part, read_property(b"\xaa" * 5 + raw + b"\xbb" * 3, part)


def _fixed_cases() -> list[tuple[bytes, bytes, str]]:
    cases = []
    for kind, (size, full) in FIELDS.items():
        fields = (V0 if full else b"\x07\x07\x07\x07"[: min(size, 4)]) + b"\x01" * (size - min(size, 4))
        cases.append((kind, fields, ""))
        cases.append((kind, fields[:-1], f"{size - 1} bytes where its fields take {size}"))
        cases.append((kind, fields + b"\x01", f"{size + 1} bytes where its fields take {size}"))
        if full:
            cases.append((kind, b"\x01\x00\x00\x00" + fields[4:], "a version or flags this reader does not know"))
            cases.append((kind, b"\x00\x00\x00\x01" + fields[4:], "a version or flags this reader does not know"))
    return cases


def _components(count: int, *fields: bytes) -> bytes:
    return struct.pack(">I", count) + b"".join(fields)


PROPERTY_CASES = [  # type, payload, why it may not be kept ("": kept as it is)
    *_fixed_cases(),
    # pixi: version 0, a channel count, one bit depth per channel
    (b"pixi", V0 + b"\x03\x08\x08\x08", ""),
    (b"pixi", V0 + b"\x00", ""),
    (b"pixi", V0 + b"\x03\x08\x08", "7 bytes for 3 channels"),
    (b"pixi", V0 + b"\x03\x08\x08\x08\x08", "9 bytes for 3 channels"),
    (b"pixi", V0, "a version or flags this reader does not know"),
    (b"pixi", b"\x01\x00\x00\x00\x01\x08", "a version or flags this reader does not know"),
    (b"pixi", b"\x00\x00\x00\x01\x01\x08", "a version or flags this reader does not know"),
    # a1lx: flags (bit 0: 32-bit sizes), then three sizes
    (b"a1lx", b"\x00" + b"\x00\x10" * 3, ""),
    (b"a1lx", b"\x01" + b"\x00\x00\x00\x10" * 3, ""),
    (b"a1lx", b"\x02" + b"\x00\x10" * 3, ""),  # only bit 0 chooses the size
    (b"a1lx", b"\x03" + b"\x00\x00\x00\x10" * 3, ""),
    (b"a1lx", b"\x00" + b"\x00\x00\x00\x10" * 3, "13 bytes where its fields take 7"),
    (b"a1lx", b"\x01" + b"\x00\x10" * 3, "7 bytes where its fields take 13"),
    (b"a1lx", b"\x00" + b"\x00\x10" * 3 + b"\x00", "8 bytes where its fields take 7"),
    (b"a1lx", b"", "no fields"),
    # colr: nclx and nclc have fixed fields, prof and rICC carry a whole ICC profile
    (b"colr", b"nclx" + bytes(7), ""),
    (b"colr", b"nclx" + bytes(6), "10 bytes where its fields take 11"),
    (b"colr", b"nclx" + bytes(8), "12 bytes where its fields take 11"),
    (b"colr", b"nclc" + bytes(6), ""),
    (b"colr", b"nclc" + bytes(7), "11 bytes where its fields take 10"),
    (b"colr", b"prof" + b.icc_profile(), ""),
    (b"colr", b"rICC" + b.icc_profile(), ""),
    (b"colr", b"prof" + bytes(100), "ICC profile: 100 bytes, shorter than its header"),
    (b"colr", b"rICC" + bytes(100), "ICC profile: 100 bytes, shorter than its header"),
    (b"colr", b"nclX" + bytes(7), "colour type 'nclX'"),
    (b"colr", b"\x00\x01\x02\x03" + bytes(7), "colour type 00010203"),
    # cmpd: u32 count, then u16 types, a type from 0x8000 followed by a NUL-terminated URI
    (b"cmpd", _components(2, b"\x00\x01\x00\x02"), ""),
    (b"cmpd", _components(0), ""),
    (b"cmpd", _components(1, b"\x80\x00urn:x\x00"), ""),
    (b"cmpd", _components(2, b"\x80\x00urn:x\x00", b"\x00\x03"), ""),
    (b"cmpd", _components(1, b"\xff\xffurn:x"), ""),  # a URI without its NUL ends with the box
    (b"cmpd", _components(1, b"\x7f\xffu\x00"), "2 bytes after its fields"),  # 0x7fff has no URI
    (b"cmpd", _components(1, b"\x00\x01\x00"), "1 bytes after its fields"),
    (b"cmpd", _components(3, b"\x00\x01\x00\x02"), "3 components in 4 bytes"),
    (b"cmpd", _components(2, b"\x00\x01\x00"), "2 components in 3 bytes"),
    (b"cmpd", _components(2, b"\x80\x00u\x00"), "2 components in too few bytes"),
    (b"cmpd", _components(3, b"\x80\x00u\x00", b"\x00\x01\x00"), "3 components in too few bytes"),
    (b"cmpd", b"\x00\x00\x00", "no component count"),
    (b"cmpd", b"", "no component count"),
    # decoder configurations: their fields are checked with the item they configure
    (b"hvcC", b"\x01anything", ""),
    (b"av1C", b"\x81anything", ""),
    (b"uncC", b"", ""),
]


@pytest.mark.parametrize(("kind", "payload", "problem"), PROPERTY_CASES, ids=lambda v: v.hex()[:24] if isinstance(v, bytes) else v)
def test_a_property_is_kept_only_when_it_is_exactly_its_fields(kind, payload, problem):
    part, found = _read(kind, payload)
    expected = Property(part, None, OTHER, problem) if problem else Property(part, payload)
    assert found == expected
    assert (found.kind, found.aux_type, found.known) == (OTHER, b"", True)


@pytest.mark.parametrize(
    ("payload", "urn"),
    [
        (V0 + ib.ALPHA_URN + b"subtype " + b.SECRET, ib.ALPHA_URN[:-1]),
        (V0 + ib.ALPHA_URN, ib.ALPHA_URN[:-1]),
        (V0 + b"urn:no:terminator", b"urn:no:terminator"),
        (V0 + b"\x00" + b.SECRET, b""),
        (V0, b""),
    ],
    ids=["subtype", "urn-only", "no-nul", "empty-urn", "no-urn"],
)
def test_an_auxiliary_type_property_keeps_its_urn_only(payload, urn):
    part, found = _read(b"auxC", payload)
    assert found == Property(part, V0 + urn + b"\x00", OTHER, "", urn, True)


@pytest.mark.parametrize("payload", [b"", V0[:3], b"\x01\x00\x00\x00urn\x00", b"\x00\x00\x00\x01urn\x00"], ids=["empty", "short", "version-1", "flags-1"])
def test_an_auxiliary_type_property_of_another_version_may_not_be_kept(payload):
    part, found = _read(b"auxC", payload)
    assert found == Property(part, None, OTHER, "a version or flags this reader does not know", b"", True)


def test_a_user_description_goes_as_a_comment_and_an_unknown_property_as_unknown():
    part, found = _read(b"udes", V0 + b"en\x00" + b.SECRET + b"\x00\x00\x00")
    assert found == Property(part, None, COMMENT, "", b"", True)
    part, found = _read(b"zzzz", b"\x00\x01")
    assert found == Property(part, None, OTHER, "a property type the strip does not know", b"", False)


@pytest.mark.parametrize("essential", [False, True])
def test_a_decoder_configuration_of_another_coding_is_dropped_or_refused_when_essential(essential):
    # hvcC belongs to hvc1 items: on an av01 item it is dropped, or refused when marked essential.
    tile, hevc = hs.av1_image(1), ib.coded_tile(5)
    hvcc = next(raw for raw, _ in hevc.properties if raw[4:8] == b"hvcC")
    data = ib.heif_file([Spec(1, b"av01", tile.data, tile.properties + [(hvcc, essential)])], 1, [], brands=(b"avif", b"mif1", b"avif"))
    if essential:
        assert_refused(data, reason=rf"^HEIF: item 1 needs property 'hvcC' at offset {data.index(hvcc)}$")
        return
    result = metadata.clean(data)
    assert set(result.removed) == {"other"}
    assert ib.read_heif(result.data).items[1].properties == tile.properties


def test_an_hvcc_carrying_a_sei_array_is_written_without_it():
    # hvcC arrays other than parameter sets (an SEI's user data) go; the property is rewritten
    tile = ib.coded_tile(5)
    hvcc = next(raw for raw, _ in tile.properties if raw[4:8] == b"hvcC")
    with_sei = box(b"hvcC", pb.hvcc_with(hvcc[8:], pb.hvcc_array(pb.PREFIX_SEI, pb.sei_user_data())))
    properties = [(with_sei if raw == hvcc else raw, essential) for raw, essential in tile.properties]
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, properties)], 1, [])
    assert b.SECRET in data
    result = metadata.clean(data)
    assert b.SECRET not in result.data
    assert ib.read_heif(result.data).items[1].properties == tile.properties
    assert result.removed == ("other",)


def test_a_dropped_item_built_from_another_item_s_data_is_not_placed():
    tile = hs.av1_image(1)
    head = hs.ftyp(b"avif", b"mif1", b"avif")

    def meta(at: int) -> bytes:
        image = RawItem(1, b"av01", [(at, len(tile.data))], [(i + 1, e) for i, (_, e) in enumerate(tile.properties)])
        return hs.raw_meta([image, RawItem(2, b"Exif", [(0, 40)], method=2)], 1, [raw for raw, _ in tile.properties], [(b"cdsc", 2, [1])])

    at = len(head) + len(meta(100)) + 8
    result = metadata.clean(head + meta(at) + box(b"mdat", tile.data))
    assert sorted(ib.read_heif(result.data).items) == [1]
    assert "exif" in result.removed


def test_an_exif_item_read_short_is_not_read_for_keep_copyright():
    # the ranged read of the Exif item comes back one byte short: its facts are not read, so no
    # minimal Exif item is written (the whole item is dropped as ever)
    original = hs.simple_heic()
    exif = ib.exif_item_payload(hs.EXIF)
    at = original.index(exif)

    def read_range(start: int, end: int) -> bytes:
        return original[start : end - 1] if (start, end) == (at, at + len(exif)) else original[start:end]

    strip = metadata.open_strip(original[:16], len(original), read_range, max_buffered=0, keep_copyright=True)
    out = strip.feed(original) + strip.finish()
    assert sorted(ib.read_heif(out).items) == [1]
    full = metadata.clean(original, keep_copyright=True).data
    assert sorted(ib.read_heif(full).items) == [1, 2]  # read whole, it is


# ---------------------------------------------------------------- extents.py: a metadata item's ranged read that comes back short


def test_a_minimal_exif_item_read_short_the_second_time_is_refused_naming_the_read():
    # keep_copyright reads the one Exif item twice: for its facts, then to see whether it is
    # already the minimal item; the second read comes back one byte short
    minimal = next(item.data for item in ib.read_heif(metadata.strip(hs.simple_heic(), keep_copyright=True)).items.values() if item.type == b"Exif")
    tile = ib.coded_tile(5)
    original = hs.simple_heic(specs=[Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"Exif", minimal)])
    at = original.index(minimal)
    reads = []

    def read_range(start: int, end: int) -> bytes:
        reads.append((start, end))
        short = (start, end) == (at, at + len(minimal)) and reads.count((start, end)) > 1
        return original[start : end - short]

    message = f"HEIF: a read of {len(minimal)} bytes gave {len(minimal) - 1} at offset {at}"
    with pytest.raises(ImageError, match="^" + re.escape(message) + "$"):
        metadata.open_strip(original[:16], len(original), read_range, max_buffered=0, keep_copyright=True)
    assert reads.count((at, at + len(minimal))) == 2


# ---------------------------------------------------------------- extents.py: an item in idat lies inside idat


@pytest.mark.parametrize(("grow", "idat"), [(0, True), (1, True), (0, False)], ids=["filling-idat", "one-byte-past-idat", "no-idat-box"])
def test_an_item_in_idat_lies_inside_the_idat_box(grow, idat):
    tile = ib.coded_tile(5)
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties, method=1)], 1, [])
    data = hs.patched(data, struct.pack(">HHHHII", 1, 1, 0, 1, 0, len(tile.data)), struct.pack(">HHHHII", 1, 1, 0, 1, 0, len(tile.data) + grow))
    if not idat:
        data = hs.patched(data, b"idat", b"idaX")  # an unknown box in meta: no item data box
    if grow == 0 and idat:
        assert ib.read_heif(metadata.strip(data)).items[1].data == tile.data
        return
    message = f"HEIF: an extent of item 1 ({len(tile.data) + grow} bytes at 0) is outside its data box at offset {data.index(b'meta') - 4}"
    assert_refused(data, reason="^" + re.escape(message) + "$")


# ---------------------------------------------------------------- derivation loops wherever they start (selection.py)
# Grids of one tile (1 x 1 descriptors) whose dimg references make a loop, and an hvc1 tile.
# The loop is found whichever kept image the search reaches it from: below the primary (not
# through it), or under a second master image reached only after the primary's own tile.


def _grids(grids: dict[int, bool], dimg: list[tuple[int, int]]) -> bytes:
    """Grid items (ID -> hidden), hidden hvc1 tile 4, and dimg references (source, target)."""
    tile = ib.coded_tile(5)
    specs = [Spec(n, b"grid", ib.grid_descriptor(1, 1, 64, 64), [(ispe(64, 64), False)], hidden=hidden) for n, hidden in grids.items()]
    specs.append(Spec(4, b"hvc1", tile.data, ib.properties_of(tile, b"hvcC", b"ispe"), hidden=True))
    return ib.heif_file(specs, 1, [(b"dimg", source, [target]) for source, target in dimg])


@pytest.mark.parametrize(
    ("grids", "dimg", "looping"),
    [
        ({1: False, 2: True, 3: True}, [(1, 2), (2, 3), (3, 2)], 2),  # 1 -> 2 -> 3 -> 2
        ({1: False, 5: False, 6: True}, [(1, 4), (5, 6), (6, 5)], 5),  # 1 -> 4; master 5 -> 6 -> 5
    ],
    ids=["below-the-primary", "under-a-second-master"],
)
def test_a_dimg_loop_is_refused_wherever_the_search_meets_it(grids, dimg, looping):
    data = _grids(grids, dimg)
    meta_start = next(start for kind, start, _, _ in ib.boxes(data) if kind == b"meta")
    message = f"HEIF: 'dimg' references loop through item {looping} at offset {meta_start}"
    assert_refused(data, reason=f"^{re.escape(message)}$")
