"""HEIF/HEIC and AVIF: real encodes (pillow-heif, Pillow) and hand-built structures
(isobmff_builders), each checked by decoding input and output and by reading the
output's items back with the tests' own reader."""

from __future__ import annotations

import re
import struct

import heif_shapes as hs
import image_builders as b
import payload_builders as pb
import isobmff_builders as ib
import metadata
import piexif
import pytest
from heif_shapes import DEPTH, EXIF, HOSTILE, LAYOUTS, THUMBNAIL, everything
from hypothesis import example, given
from hypothesis import strategies as st
from isobmff_builders import Spec, box, colr_icc, full_box, irot, ispe, udes
from metadata import ImageError
from metadata.byte_reader import ByteReader
from metadata.formats import isobmff as iso
from metadata.formats.heif.tables import parse
from metadata.formats.heif.walk import open_walk
from metadata.limits import MAX_BOX_DEPTH, MAX_BOXES, MAX_EXTENTS_PER_ITEM, MAX_ITEM_REFERENCES, MAX_ITEMS
from metadata_checks import assert_refused
from property_settings import examples

GPS_BYTES = struct.pack(">IIIIII", 52, 1, 31, 1, 1234, 100)  # the planted latitude as EXIF stores it


def assert_clean(data: bytes) -> None:
    assert b.SECRET not in data
    assert GPS_BYTES not in data
    assert b"Exif\x00\x00" not in data
    assert b"<x:xmpmeta" not in data
    assert ib.C2PA_UUID not in data
    assert THUMBNAIL.data not in data
    assert DEPTH.data not in data


def assert_strip_is_lossless(original: bytes, **options) -> bytes:
    stripped = metadata.strip(original, **options)
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)
    assert metadata.strip(stripped, **options) == stripped
    assert metadata.clean(stripped, **options).removed == ()
    before, after = ib.read_heif(original), ib.read_heif(stripped)
    kept = after.items
    assert after.items[after.primary].data == before.items[before.primary].data
    for item in kept.values():  # every kept item's coded payload and properties, byte for byte
        source = next(i for i in before.items.values() if i.data == item.data and i.type == item.type)
        assert item.properties == [p for p in source.properties if p[0][4:8] != b"udes"]
    return stripped


# ---------------------------------------------------------------- real encodes


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_heic_from_pillow_heif_loses_exif_xmp_and_thumbnails(mode):
    original = ib.encode_heic(b.pattern(mode, (64, 48)), exif=EXIF, xmp=b.XMP_PACKET, thumbnails=[32])
    assert b.SECRET in original
    result = metadata.clean(original)
    assert (result.format, result.mime_type) == ("heif", "image/heic")
    assert set(result.removed) >= {"exif", "gps", "xmp", "thumbnail"}
    stripped = assert_strip_is_lossless(original)
    assert_clean(stripped)
    types = sorted(item.type for item in ib.read_heif(stripped).items.values())
    assert types == ([b"hvc1", b"hvc1"] if mode == "RGBA" else [b"hvc1"])  # image (and alpha) only
    assert metadata.read_exif(stripped) == {}


def test_heic_grid_from_pillow_heif_keeps_every_tile():
    original = ib.encode_heic(b.pattern(size=(130, 70)), exif=EXIF, tile_size=64)
    heif = ib.read_heif(original)
    assert heif.items[heif.primary].type == b"grid"
    stripped = assert_strip_is_lossless(original)
    assert_clean(stripped)
    assert len(ib.read_heif(stripped).items) == len(heif.items) - 1


def _latitude_bytes(heif: bytes) -> bytes:
    """GPSLatitude's rationals as the file's own Exif item stores them (Pillow's AVIF encoder
    rewrites the block and reduces 1234/100 to 617/50), read with piexif."""
    (item,) = [i for i in ib.read_heif(heif).items.values() if i.type == b"Exif"]
    tiff = item.data[4 + int.from_bytes(item.data[:4], "big") :]
    latitude = piexif.load(tiff)["GPS"][piexif.GPSIFD.GPSLatitude]
    return struct.pack(("<" if tiff[:2] == b"II" else ">") + "6I", *(n for pair in latitude for n in pair))


def test_avif_from_pillow_is_served_as_avif():
    original = ib.encode_avif(b.pattern("RGBA", (40, 24)), exif=EXIF, xmp=b.XMP_PACKET)
    latitude = _latitude_bytes(original)
    assert latitude in original and b.SECRET in original and b"<x:xmpmeta" in original
    result = metadata.clean(original)
    assert (result.format, result.mime_type) == ("heif", "image/avif")
    assert {"exif", "gps", "xmp"} <= set(result.removed)
    stripped = assert_strip_is_lossless(original)
    assert_clean(stripped)
    assert latitude not in stripped


def test_read_exif_reads_the_exif_item():
    original = ib.encode_heic(b.pattern(size=(40, 24)), exif=EXIF)
    exif = metadata.read_exif(original, view="full")
    assert exif["GPS"]["GPSLatitudeRef"] == "S"
    assert exif["Image"]["Copyright"] == b.OWNER_COPYRIGHT.decode()


def test_keep_copyright_keeps_a_minimal_exif_item():
    original = ib.encode_heic(b.pattern(size=(40, 24)), exif=EXIF, xmp=b.XMP_PACKET)
    stripped = metadata.strip(original, keep_copyright=True)
    assert b.OWNER_COPYRIGHT in stripped and b.OWNER_ARTIST in stripped and b.SECRET not in stripped
    assert GPS_BYTES not in stripped
    image = b.decoded(stripped)
    assert {key: image.getexif()[key] for key in (b.COPYRIGHT_TAG, b.ARTIST_TAG)} == {
        b.COPYRIGHT_TAG: b.OWNER_COPYRIGHT.decode(),
        b.ARTIST_TAG: b.OWNER_ARTIST.decode(),
    }
    # irot orients HEIF: a kept Orientation would turn the image a second time in viewers that honour
    # both. Read with piexif from the output's own Exif item, not with the core's reader.
    (exif_item,) = [item for item in ib.read_heif(stripped).items.values() if item.type == b"Exif"]
    kept = piexif.load(exif_item.data[4 + int.from_bytes(exif_item.data[:4], "big") :])
    assert kept["0th"][piexif.ImageIFD.Copyright] == b.OWNER_COPYRIGHT
    assert piexif.ImageIFD.Orientation not in kept["0th"]
    # Declared as any Exif item is: infe version 2, not hidden, no protection, an empty name.
    assert exif_item.entry == full_box(b"infe", 2, 0, struct.pack(">H", exif_item.id), b"\x00\x00", b"Exif", b"\x00")
    assert metadata.strip(stripped, keep_copyright=True) == stripped
    assert metadata.clean(stripped, keep_copyright=True).removed == ()
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)


# ---------------------------------------------------------------- hand-built structures


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_hand_built_heic_keeps_the_displayed_image_only(layout):
    original = everything(**LAYOUTS[layout])
    stripped = assert_strip_is_lossless(original)
    assert_clean(stripped)
    assert ib.top_level_types(stripped) == [b"ftyp", b"meta", b"mdat"]
    heif = ib.read_heif(stripped)
    assert sorted(heif.items) == [1, 2, 3, 4, 5, 6]
    assert {(kind, source) for kind, source, _ in heif.references} == {(b"dimg", 1), (b"auxl", 6)}
    grid = heif.items[heif.primary]
    assert [raw[4:8] for raw, _ in grid.properties] == [b"ispe", b"colr", b"irot", b"imir", b"clap"]
    assert heif.items[2].extents == 3  # several extents stay several
    assert len(stripped) < len(original) - len(THUMBNAIL.data) - len(DEPTH.data)
    assert stripped.count(ib.coded_tile(2).data) == 1  # a shared extent is copied once
    removed = set(metadata.clean(original).removed)
    assert removed >= {"exif", "gps", "xmp", "thumbnail", "comment", "other"}


def test_an_invalid_icc_colr_is_dropped_and_the_image_served():
    broken = bytearray(b.icc_profile())
    broken[36:40] = b"nope"  # no acsp signature: not a profile a decoder could use
    original = ib.heif_file(
        [Spec(1, b"grid", ib.grid_descriptor(2, 2, 128, 128), [(ispe(128, 128), False), (colr_icc(bytes(broken)), False), (irot(1), True)])]
        + [Spec(n, b"hvc1", ib.coded_tile(n).data, ib.properties_of(ib.coded_tile(n), b"hvcC", b"ispe"), hidden=True) for n in (2, 3, 4, 5)],
        1,
        [(b"dimg", 1, [2, 3, 4, 5])],
    )
    stripped = metadata.strip(original)
    grid = ib.read_heif(stripped).items[1]
    assert [raw[4:8] for raw, _ in grid.properties] == [b"ispe", b"irot"]
    assert bytes(broken) not in stripped
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)


def test_properties_are_renumbered_past_127():
    # 130 distinct ispe-like display properties before the kept ones: 15-bit ipma indexes
    tile = ib.coded_tile(1)
    filler = [(box(b"pasp", struct.pack(">II", n + 1, n + 1)), False) for n in range(130)]
    specs = [
        Spec(1, b"hvc1", tile.data, filler + tile.properties),
        Spec(2, b"hvc1", THUMBNAIL.data, THUMBNAIL.properties + [(udes(b.SECRET), False)]),
    ]
    original = ib.heif_file(specs, 1, [(b"thmb", 2, [1])])
    stripped = metadata.strip(original)
    assert_clean(stripped)
    assert ib.read_heif(stripped).items[1].properties == filler + tile.properties


def test_a_c2pa_box_before_mdat_shifts_every_offset():
    tile = ib.coded_tile(4)
    original = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties)], 1, [], before_mdat=(ib.c2pa_box(),))
    stripped = assert_strip_is_lossless(original)
    assert ib.C2PA_UUID not in stripped


def test_mime_type_follows_the_brands():
    tile = ib.coded_tile(4)
    for brands, mime_type in (((b"mif1", b"mif1"), "image/heif"), ((b"mif1", b"mif1", b"avif"), "image/avif")):
        data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties)], 1, [], brands=brands)
        assert metadata.clean(data).mime_type == mime_type


# ---------------------------------------------------------------- hostile variants


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused(case):
    assert_refused(HOSTILE[case](), reason="HEIF")


def test_sequences_are_refused_with_a_message_that_says_so():
    with pytest.raises(ImageError, match="sequences"):
        metadata.strip(HOSTILE["sequence"]())


def test_a_kept_item_with_an_unknown_essential_property_is_refused():
    tile = ib.coded_tile(5)
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties + [(box(b"zzzz", b"?"), True)])], 1, [])
    with pytest.raises(ImageError, match="unknown property"):
        metadata.strip(data)


def _grid_of(tiles: list[int], rows: int = 2, columns: int = 2) -> bytes:
    """A rows x columns grid primary whose dimg names `tiles` (of four coded tiles, 2 to 5)."""
    specs = [Spec(1, b"grid", ib.grid_descriptor(rows, columns, 128, 128), [(ispe(128, 128), False)])]
    specs += [Spec(n, b"hvc1", ib.coded_tile(n).data, ib.properties_of(ib.coded_tile(n), b"hvcC", b"ispe"), hidden=True) for n in (2, 3, 4, 5)]
    return ib.heif_file(specs, 1, [(b"dimg", 1, tiles)] if tiles else [])


def _with_iref_renamed() -> bytes:
    # The failure the random search found: iref's type zeroed (byte 702 of heif_shapes.everything()), so
    # the grid loses its tiles; it was served as ftyp + meta, a grid with no tiles and no mdat.
    data = bytearray(everything())
    assert data[702:706] == b"iref"
    data[702] = 0
    return bytes(data)


DERIVATIONS_WITHOUT_INPUTS = {  # the file, and the reason it is refused
    "iref-renamed": (_with_iref_renamed, "has no input images"),
    "grid-without-dimg": (lambda: _grid_of([]), "has no input images"),
    "grid-missing-a-tile": (lambda: _grid_of([2, 3, 4]), "grid of 2 x 2 tiles has 3 'dimg' inputs"),
    "grid-with-a-tile-too-many": (lambda: _grid_of([2, 3, 4, 5], rows=1, columns=3), "grid of 1 x 3 tiles has 4 'dimg' inputs"),
}


@pytest.mark.parametrize("case", sorted(DERIVATIONS_WITHOUT_INPUTS))
def test_a_kept_derived_item_without_its_inputs_is_refused(case):
    build, reason = DERIVATIONS_WITHOUT_INPUTS[case]
    data = build()
    for call in (metadata.strip, metadata.clean, metadata.read_exif):
        with pytest.raises(ImageError, match=reason):
            call(data)
    assert metadata.strip(_grid_of([2, 3, 4, 5]))  # the same grid with its four tiles is served


@examples(150)
@given(st.lists(st.tuples(st.integers(0, 900), st.integers(0, 255)), min_size=1, max_size=4), st.data())
@example(edits=[(702, 0)], draw=None)  # iref renamed: a grid with no tiles was served (issue 18)
def test_mutated_files_strip_or_raise_image_error(edits, draw):
    seed = everything()
    data = bytearray(seed)
    for position, value in edits:  # the boxes' headers and meta
        data[position] = value
    cut = None if draw is None else draw.draw(st.one_of(st.none(), st.integers(0, len(data))))
    mutated = bytes(data if cut is None else data[:cut])
    try:
        stripped = metadata.strip(mutated)
    except ImageError:
        return
    # A mutated iloc may point a kept item at any bytes of mdat, which are then that item's
    # coded data; what the strip itself writes (ftyp, meta, the item list) stays clean.
    assert ib.top_level_types(stripped) == [b"ftyp", b"meta", b"mdat"]
    meta = next(stripped[s:e] for kind, s, _, e in ib.boxes(stripped) if kind == b"meta")
    assert b.SECRET not in meta
    assert {item.type for item in ib.read_heif(stripped).items.values()} <= {b"grid", b"hvc1"}
    assert metadata.strip(stripped) == stripped


# ---------------------------------------------------------------- tables.py: each malformed table refused at its place
# Every file below is heif_shapes.simple_heic() (an hvc1 primary, item 1, and its Exif item 2)
# with one table made wrong; the refusal names what is wrong and the offset of the box.


def _at(data: bytes, kind: bytes, nth: int = 0) -> int:
    """The offset of the nth box of `kind` (found by its type's bytes: each is unique enough here)."""
    found = [i - 4 for i in range(len(data)) if data.startswith(kind, i)]
    return found[nth]


def _grown(data: bytes, at: int, extra: bytes, *containers: bytes) -> bytes:
    """`extra` inserted at `at`, each enclosing box (by type, first of its kind) made that much larger."""
    out = bytearray(data[:at] + extra + data[at:])
    for kind in containers:
        start = _at(data, kind)
        out[start : start + 4] = struct.pack(">I", struct.unpack_from(">I", data, start)[0] + len(extra))
    return bytes(out)


def _simple(**options) -> bytes:
    return hs.simple_heic(**options)


def _infe(item_id: int, item_type: bytes) -> bytes:
    """The start of an infe v2 box as heif_file writes it (flags 0, protection index 0)."""
    return b"infe\x02\x00\x00\x00" + struct.pack(">HH", item_id, 0) + item_type


def _iloc_row(item_id: int) -> bytes:
    """An iloc v1 row's start as heif_file writes it: ID, construction method 0, data reference 0, one extent."""
    return struct.pack(">HHHH", item_id, 0, 0, 1)


def _two_ipco() -> tuple[bytes, int]:
    data = _simple()
    at = _at(data, b"ipma")
    return _grown(data, at, box(b"ipco", ispe(1, 1)), b"meta", b"iprp"), at


def _two_ipma() -> tuple[bytes, int]:
    data = _simple(meta_after_mdat=True)
    at = _at(data, b"ipma") + struct.unpack_from(">I", data, _at(data, b"ipma"))[0]
    return _grown(data, at, full_box(b"ipma", 0, 0, struct.pack(">IHB", 1, 1, 0)), b"meta", b"iprp"), at


def _grouped(*groups: bytes) -> bytes:
    tile = ib.coded_tile(5)
    return ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties)], 1, [], meta_extra=(box(b"grpl", *groups),))


def _table_cases() -> dict[str, tuple[bytes, str, int]]:
    simple = _simple()
    meta = _at(simple, b"meta")
    moov = box(b"moov", box(b"mvhd", bytes(100)))
    cases = {}

    def case(name, data, message, offset):
        cases[name] = (data, message, offset)

    ftyp = simple[:24]
    case("second-ftyp", ftyp + simple, "a second 'ftyp' box", 24)
    case("second-ftyp-not-brands", ftyp + box(b"ftyp", b"heic\x00") + simple[24:], "a second 'ftyp' box", 24)
    case("ftyp-past-the-end", hs.HOSTILE["ftyp-size-huge"](), f"box 'ftyp' declares {0x7FFFFFFF} bytes but {len(simple)} are left", 0)
    case("second-meta", hs.two_metas(), "a second 'meta' box", len(simple))
    case("heif-sequence", _simple(after_all=(moov,)), "HEIF image sequences in a 'moov' box: sequences are not supported", len(simple))
    avif = _simple(brands=(b"mif1", b"mif1", b"avif"))
    case("avif-sequence", avif + moov, "animated AVIF ('avis') in a 'moov' box: sequences are not supported", len(avif))
    case("compact-avif", hs.ftyp(b"avif", b"mif3", b"avif") + box(b"mini", bytes(24)), "compact AVIF ('mini' box, AVIF 1.2) is not supported", 24)
    second_pitm = _simple(meta_extra=(full_box(b"pitm", 0, 0, b"\x00\x01"),))
    case("second-pitm", second_pitm, "a second 'pitm' box in meta", _at(second_pitm, b"pitm", 1))
    case("no-meta", hs.without_meta(), "no 'meta' box", len(hs.without_meta()))
    case("handler", hs.patched(simple, b"\x00" * 4 + b"pict", b"\x00" * 4 + b"vide"), "'meta' handler is b'vide', not 'pict'", meta)
    case("primary-undeclared", hs.HOSTILE["primary-missing"](), "primary item 7 is not declared in 'iinf'", meta)
    case("no-pitm", hs.patched(simple, b"pitm", b"pitX"), "primary item None is not declared in 'iinf'", meta)
    # iinf and infe
    iinf = _at(simple, b"iinf")
    case("iinf-count", hs.patched(simple, b"iinf" + bytes(4) + b"\x00\x02", b"iinf" + bytes(4) + struct.pack(">H", MAX_ITEMS + 1)), f"'iinf' declares {MAX_ITEMS + 1} items, over the limit of {MAX_ITEMS}", iinf)
    case("item-twice", hs.patched(simple, _infe(2, b"Exif"), _infe(1, b"Exif")), "item 1 declared twice", _at(simple, b"infe", 1))
    for version in (1, 4):
        changed = hs.patched(simple, _infe(1, b"hvc1"), b"infe" + bytes((version,)) + _infe(1, b"hvc1")[5:])
        case(f"infe-version-{version}", changed, f"'infe' version {version} (only 2 and 3 are HEIF)", _at(simple, b"infe"))
    items = hs.too_many_items()  # 1002 items, the count declared as 1
    items = hs.patched(items, b"iinf" + bytes(4) + struct.pack(">H", MAX_ITEMS + 2), b"iinf" + bytes(4) + b"\x00\x01")
    case("items", items, f"more than {MAX_ITEMS} items", _at(items, b"infe", MAX_ITEMS))
    protected = hs.patched(simple, _infe(1, b"hvc1"), _infe(1, b"hvc1")[:10] + b"\x00\x01" + b"hvc1")
    case("protected", protected, "protected item 1", _at(simple, b"infe"))
    # iloc
    iloc = _at(simple, b"iloc")
    head = b"iloc\x01\x00\x00\x00"
    case("iloc-version", hs.patched(simple, head, b"iloc\x03\x00\x00\x00"), "'iloc' version 3", iloc)
    for sizes in (0x3400, 0x4500, 0x4420, 0x4401, 0x4C00):
        case(f"iloc-sizes-{sizes:04x}", hs.patched(simple, head + b"\x44\x00", head + struct.pack(">H", sizes)), f"'iloc' field sizes {sizes:04x}", iloc)
    count = head + b"\x44\x00\x00\x02"
    case("iloc-count", hs.patched(simple, count, count[:-2] + struct.pack(">H", MAX_ITEMS + 1)), f"'iloc' declares {MAX_ITEMS + 1} items, over the limit of {MAX_ITEMS}", iloc)
    extents = _iloc_row(1)[:-2] + struct.pack(">H", MAX_EXTENTS_PER_ITEM + 1)
    case("extents", hs.patched(simple, _iloc_row(1), extents), f"item 1 has {MAX_EXTENTS_PER_ITEM + 1} extents, over the limit of {MAX_EXTENTS_PER_ITEM}", iloc)
    case("located-twice", hs.patched(simple, _iloc_row(2), _iloc_row(1)), "item 1 located twice in 'iloc'", iloc)
    case("data-reference", hs.patched(simple, _iloc_row(1), struct.pack(">HHHH", 1, 0, 1, 1)), "item 1 has its data in another file", iloc)
    # iref, iprp, grpl
    cdsc = b"cdsc\x00\x02\x00\x01"
    references = hs.patched(simple, cdsc, cdsc[:-2] + struct.pack(">H", MAX_ITEM_REFERENCES + 1))
    case("references", references, f"more than {MAX_ITEM_REFERENCES} item references", _at(simple, b"cdsc"))
    data, at = _two_ipco()
    case("second-ipco", data, "a second 'ipco' box", at)
    ipma = b"ipma" + bytes(4) + b"\x00\x00\x00\x01"
    case("ipma-count", hs.patched(simple, ipma, ipma[:-4] + struct.pack(">I", MAX_ITEMS + 1)), f"'ipma' declares {MAX_ITEMS + 1} entries, over the limit of {MAX_ITEMS}", _at(simple, b"ipma"))
    data, at = _two_ipma()
    case("associated-twice", data, "item 1 associated twice in 'ipma'", at)
    references = _simple(references=[(b"cdsc", 2, [1] * (MAX_ITEM_REFERENCES - 1)), (b"cdsc", 2, [1, 1])])
    case("references-in-two", references, f"more than {MAX_ITEM_REFERENCES} item references", _at(references, b"cdsc", 1))
    many = _grouped(hs.entity_group(b"abcd", 20, [1] * MAX_ITEM_REFERENCES), full_box(b"abcd", 0, 0, struct.pack(">II", 21, 1)))
    case("grpl-entities", many, f"more than {MAX_ITEM_REFERENCES} entities or {MAX_ITEMS} groups in 'grpl'", _at(many, b"abcd", 1))
    groups = _grouped(*(hs.entity_group(b"abcd", 20 + n, [1]) for n in range(MAX_ITEMS + 1)))
    case("grpl-groups", groups, f"more than {MAX_ITEM_REFERENCES} entities or {MAX_ITEMS} groups in 'grpl'", _at(groups, b"abcd", MAX_ITEMS))
    return cases


TABLE_CASES = _table_cases()


@pytest.mark.parametrize("case", sorted(TABLE_CASES))
def test_a_malformed_table_is_refused_with_its_reason_and_place(case):
    data, message, offset = TABLE_CASES[case]
    assert_refused(data, reason="^" + re.escape(f"HEIF: {message} at offset {offset}") + "$")


def _mime_items(count: int) -> bytes:
    """An hvc1 primary and count - 1 text items, each with data and a property: count rows in iinf, iloc and ipma."""
    tile = ib.coded_tile(5)
    pasp = (box(b"pasp", struct.pack(">II", 1, 1)), False)
    texts = [Spec(n, b"mime", b"text %d" % n, [pasp], content_type=b"text/plain") for n in range(2, count + 1)]
    return ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties), *texts], 1, [])


AT_THE_LIMITS = {
    "items": lambda: _mime_items(MAX_ITEMS),
    "extents": lambda: ib.heif_file([Spec(1, b"hvc1", ib.coded_tile(5).data, ib.coded_tile(5).properties, pieces=31)], 1, []),
    "references": lambda: _simple(references=[(b"cdsc", 2, [1] * (MAX_ITEM_REFERENCES - 1)), (b"cdsc", 2, [1])]),
    "entities": lambda: _grouped(hs.entity_group(b"abcd", 20, [1] * (MAX_ITEM_REFERENCES - 1)), hs.entity_group(b"abcd", 21, [1])),
    "groups": lambda: _grouped(*(hs.entity_group(b"abcd", 20 + n, [1]) for n in range(MAX_ITEMS))),
}


@pytest.mark.parametrize("case", sorted(AT_THE_LIMITS))
def test_tables_at_their_limits_are_served(case):
    """One more of each is refused: TABLE_CASES (iinf-count, items, extents, references-in-two, grpl-*)."""
    data = AT_THE_LIMITS[case]()
    if case == "extents":
        assert ib.read_heif(data).items[1].extents == MAX_EXTENTS_PER_ITEM
    stripped = metadata.strip(data)
    assert ib.read_heif(stripped).items[1].data == ib.coded_tile(5).data


# ---------------------------------------------------------------- read_exif (heif/__init__.py find_exif)


# ---------------------------------------------------------------- which Exif and XMP items (selection.py)


def _with_exif_items(*payloads: bytes, describing: int | None = None, content_types: tuple[bytes, ...] = ()) -> bytes:
    """A HEIC of one image (item 1), Exif items 2, 3... holding `payloads` (item `describing`
    linked to the image by cdsc), then mime items of `content_types`."""
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"hvc1", tile.data, tile.properties)]
    specs += [Spec(2 + n, b"Exif", payload) for n, payload in enumerate(payloads)]
    specs += [Spec(10 + n, b"mime", b"<x:xmpmeta " + b.SECRET + b"/>", content_type=kind) for n, kind in enumerate(content_types)]
    return ib.heif_file(specs, 1, [(b"cdsc", describing, [1])] if describing else [])


@pytest.mark.parametrize("describing", [2, 3])
def test_read_exif_shows_the_exif_item_that_describes_the_primary_image_wherever_it_is_listed(describing):
    blocks = {2: b.exif_block(3), 3: b.exif_block(3)}
    blocks[describing] = b.exif_block(6)
    data = _with_exif_items(ib.exif_item_payload(blocks[2]), ib.exif_item_payload(blocks[3]), describing=describing)
    assert metadata.read_exif(data)["Image"]["Orientation"] == 6


def test_read_exif_shows_the_first_exif_item_when_none_describes_the_primary_image():
    data = _with_exif_items(ib.exif_item_payload(b.exif_block(8)), ib.exif_item_payload(b.exif_block(6)))
    assert metadata.read_exif(data)["Image"]["Orientation"] == 8
    # the second one describing the thumbnail, not the primary image, comes no earlier
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"hvc1", tile.data, tile.properties), Spec(4, b"hvc1", THUMBNAIL.data, THUMBNAIL.properties)]
    specs += [Spec(2, b"Exif", ib.exif_item_payload(b.exif_block(8))), Spec(3, b"Exif", ib.exif_item_payload(b.exif_block(6)))]
    with_thumbnail = ib.heif_file(specs, 1, [(b"thmb", 4, [1]), (b"cdsc", 3, [4])])
    assert metadata.read_exif(with_thumbnail)["Image"]["Orientation"] == 8


@pytest.mark.parametrize(
    ("payload", "reason"),
    [(b"\x00\x00", "EXIF item 2 is 2 bytes"), (struct.pack(">I", 5) + b"II*\x00", "EXIF item 2 points its TIFF header past its end")],
    ids=["shorter-than-its-offset-field", "offset-past-its-end"],
)
def test_read_exif_names_an_exif_item_it_cannot_read_that_strip_drops(payload, reason):
    tile = ib.coded_tile(5)
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"Exif", payload)], 1, [(b"cdsc", 2, [1])])
    assert [item.type for item in ib.read_heif(metadata.strip(data)).items.values()] == [b"hvc1"]
    with pytest.raises(ImageError, match="^" + re.escape(f"HEIF: {reason}") + "$"):
        metadata.read_exif(data)


def test_read_exif_does_not_plan_the_copyright_exif_item():
    # The primary has the largest item ID there is, so the minimal Exif item that keep_copyright
    # writes would have none: only that strip is refused; read_exif reads the file's own item.
    tile = ib.coded_tile(5)
    top = 0xFFFFFFFF
    data = ib.heif_file([Spec(top, b"hvc1", tile.data, tile.properties), Spec(2, b"Exif", ib.exif_item_payload(EXIF))], top, [(b"cdsc", 2, [top])], iloc_version=2)
    assert metadata.read_exif(data, view="full")["Image"]["Copyright"] == b.OWNER_COPYRIGHT.decode()
    assert ib.read_heif(metadata.strip(data)).items[top].data == tile.data
    with pytest.raises(ImageError, match=re.escape("HEIF: no item ID is left for the kept EXIF item")):
        metadata.strip(data, keep_copyright=True)


# ---------------------------------------------------------------- isobmff.py: the box walker HEIF and JPEG XL share
# Boxes read from hand-built bytes placed after three bytes of something else (offsets are file offsets).

PAD = b"\xee" * 3


def _boxes_in(raw: bytes, depth: int = 1) -> list[iso.Box]:
    return iso.read_boxes(PAD + raw, len(PAD), len(PAD) + len(raw), "T", iso.BoxBudget("T"), depth)


USERTYPE = bytes(range(16))
READ_BOXES = [  # the bytes, then (type, start, payload start, end, usertype) of each box, offsets after PAD
    (struct.pack(">I4s", 12, b"free") + b"1234", [(b"free", 0, 8, 12, b"")]),
    (struct.pack(">I4s", 8, b"free"), [(b"free", 0, 8, 8, b"")]),
    (struct.pack(">I4sQ", 1, b"mdat", 20) + b"1234", [(b"mdat", 0, 16, 20, b"")]),
    (struct.pack(">I4sQ", 1, b"mdat", 16), [(b"mdat", 0, 16, 16, b"")]),
    (struct.pack(">I4s", 0, b"mdat") + b"to the end", [(b"mdat", 0, 8, 18, b"")]),
    (struct.pack(">I4s", 9, b"free") + b"1" + struct.pack(">I4s", 0, b"mdat") + b"end", [(b"free", 0, 8, 9, b""), (b"mdat", 9, 17, 20, b"")]),
    (struct.pack(">I4s", 32, b"uuid") + USERTYPE + b"12345678", [(b"uuid", 0, 24, 32, USERTYPE)]),
    (struct.pack(">I4sQ", 1, b"uuid", 34) + USERTYPE + b"12", [(b"uuid", 0, 32, 34, USERTYPE)]),
    (struct.pack(">I4s", 0, b"uuid") + USERTYPE + b"1", [(b"uuid", 0, 24, 25, USERTYPE)]),
]


@pytest.mark.parametrize(("raw", "expected"), READ_BOXES, ids=range(len(READ_BOXES)))
def test_boxes_are_read_with_their_header_sizes(raw, expected):
    found = _boxes_in(raw)
    three = len(PAD)
    assert found == [iso.Box(kind, start + three, payload + three, end + three, usertype) for kind, start, payload, end, usertype in expected]


BAD_BOXES = [  # the bytes, then the message (its offsets after PAD)
    (struct.pack(">I4s", 7, b"free"), "box 'free' declares 7 bytes, less than its 8-byte header at offset 0"),
    (struct.pack(">I4sQ", 1, b"mdat", 15), "box 'mdat' declares 15 bytes, less than its 16-byte header at offset 0"),
    (struct.pack(">I4s", 23, b"uuid") + USERTYPE, "box 'uuid' declares 23 bytes, less than its 24-byte header at offset 0"),
    (struct.pack(">I4sQ", 1, b"uuid", 31) + USERTYPE, "box 'uuid' declares 31 bytes, less than its 32-byte header at offset 0"),
    (struct.pack(">I4s", 13, b"free") + b"1234", "box 'free' declares 13 bytes but 12 are left at offset 0"),
    (struct.pack(">I4sQ", 1, b"mdat", (1 << 32) + 20) + b"1234", "box 'mdat' declares 4294967316 bytes but 20 are left at offset 0"),
    (struct.pack(">I4s", 33, b"uuid") + USERTYPE + b"12345678", "box 'uuid' declares 33 bytes but 32 are left at offset 0"),
    (struct.pack(">I", 7) + b"\xff\x00\x01\x02", "box 'ff000102' declares 7 bytes, less than its 8-byte header at offset 0"),
    (struct.pack(">I4s", 8, b"free") + b"\x00\x00\x00", "box size needs 4 bytes but 3 are left at offset 8"),
    (struct.pack(">I", 12) + b"fr", "box type needs 4 bytes but 2 are left at offset 4"),
    (struct.pack(">I4s", 1, b"mdat") + b"\x00" * 2, "box largesize needs 4 bytes but 2 are left at offset 8"),
    (struct.pack(">I4s", 1, b"mdat") + b"\x00" * 7, "box largesize needs 4 bytes but 3 are left at offset 12"),
    (struct.pack(">I4s", 24, b"uuid") + USERTYPE[:15], "uuid box usertype needs 16 bytes but 15 are left at offset 8"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_BOXES, ids=range(len(BAD_BOXES)))
def test_a_box_that_does_not_fit_is_refused_at_its_place(raw, message):
    shifted = re.sub(r"at offset (\d+)$", lambda m: f"at offset {int(m.group(1)) + len(PAD)}", message)
    with pytest.raises(ImageError, match="^" + re.escape(f"T: {shifted}") + "$"):
        _boxes_in(raw)


def test_boxes_nest_at_most_max_box_depth_deep():
    raw = struct.pack(">I4s", 8, b"free")
    assert len(_boxes_in(raw, MAX_BOX_DEPTH)) == 1
    with pytest.raises(ImageError, match="^" + re.escape(f"T: boxes nested more than {MAX_BOX_DEPTH} deep at offset 3") + "$"):
        _boxes_in(raw, MAX_BOX_DEPTH + 1)


def test_a_file_walks_at_most_max_boxes_boxes():
    budget = iso.BoxBudget("T")
    for offset in range(MAX_BOXES):
        budget.spend(offset)
    with pytest.raises(ImageError, match="^" + re.escape(f"T: more than {MAX_BOXES} boxes (at offset 77)") + "$"):
        budget.spend(77)
    budget = iso.BoxBudget("T")
    for offset in range(MAX_BOXES - 1):
        budget.spend(offset)
    raw = struct.pack(">I4s", 8, b"free") * 2
    with pytest.raises(ImageError, match="^" + re.escape(f"T: more than {MAX_BOXES} boxes (at offset 11)") + "$"):
        iso.read_boxes(PAD + raw, 3, 3 + len(raw), "T", budget, 1)  # the second box is one too many


def test_children_start_after_the_fields_of_their_box():
    inner = struct.pack(">I4s", 9, b"free") + b"1"
    data = PAD + iso.full_box(b"meta", 0, 0, inner)
    meta = iso.Box(b"meta", 3, 11, len(data))
    assert iso.children(data, meta, "T", iso.BoxBudget("T"), 1, skip=4) == [iso.Box(b"free", 15, 23, 24)]
    assert iso.children(data, meta, "T", iso.BoxBudget("T"), 1, skip=13) == []
    with pytest.raises(ImageError, match="^" + re.escape("T: box 'meta' at offset 3 is too short for its fields") + "$"):
        iso.children(data, meta, "T", iso.BoxBudget("T"), 1, skip=14)


@pytest.mark.parametrize(("size", "valid"), [(4, False), (8, True), (10, False), (12, True), (4 * 34, True), (4 * 34 + 2, False), (4 * 35, False)])
def test_an_ftyp_box_is_a_whole_number_of_at_most_34_fields(size, valid):
    part = iso.Box(b"ftyp", 5, 13, 13 + size)
    if valid:
        assert iso.check_brand_list(part, "T") is None
    else:
        with pytest.raises(ImageError, match="^" + re.escape(f"T: 'ftyp' box of {size} bytes at offset 5") + "$"):
            iso.check_brand_list(part, "T")


def test_a_full_box_reader_starts_after_version_and_flags():
    data = PAD + box(b"iloc", b"\x02\x01\x02\x03", b"\x44")
    reader, version, flags = iso.full_box_reader(data, iso.Box(b"iloc", 3, 11, len(data)), "T")
    assert (version, flags, reader.pos, reader.u8("x")) == (2, 0x010203, 15, 0x44)
    with pytest.raises(ImageError, match="^" + re.escape("T 'iloc' box: y needs 1 bytes but 0 are left at offset 16") + "$"):
        reader.u8("y")
    with pytest.raises(ImageError, match="^" + re.escape("T 'iloc' box: flags needs 3 bytes but 2 are left at offset 12") + "$"):
        iso.full_box_reader(PAD + box(b"iloc", b"\x02\x01\x02"), iso.Box(b"iloc", 3, 11, 14), "T")


def test_unsigned_fields_and_strings_are_read_as_sized():
    reader = ByteReader(PAD + b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", "T", 3)
    assert [iso.read_uint(reader, size, "n") for size in (0, 1, 2, 4, 8, 0)] == [0, 0x01, 0x0203, 0x04050607, 0x08090A0B0C0D0E0F, 0]
    assert reader.at_end()
    reader = ByteReader(PAD + b"urn\x00\x00rest", "T", 3)
    assert [iso.read_string(reader) for _ in range(3)] == [b"urn", b"", b"rest"]
    assert reader.at_end()


def test_a_box_header_is_64_bit_only_when_its_size_needs_it():
    assert iso.box_header(b"mdat", 0xFFFFFFFF - 8) == struct.pack(">I4s", 0xFFFFFFFF, b"mdat")
    assert iso.box_header(b"mdat", 0xFFFFFFFF - 7) == struct.pack(">I4sQ", 1, b"mdat", 0xFFFFFFFF - 7 + 16)
    assert iso.box(b"free", b"ab", memoryview(b"c")) == b"\x00\x00\x00\x0bfreeabc"
    assert iso.full_box(b"pitm", 1, 0x020304, b"\x00\x05") == b"\x00\x00\x00\x0epitm\x01\x02\x03\x04\x00\x05"


@pytest.mark.parametrize(("kind", "name"), [(b"meta", "meta"), (b"xml ", "xml "), (b"\x00\x01ab", "00016162"), (b"\xa9nam", "\xa9nam")])
def test_a_box_is_named_by_its_type_or_the_hex_of_it(kind, name):
    assert iso.Box(kind, 0, 8, 8).name() == name


# ---------------------------------------------------------------- brands.py and the mime type
# MP4RA's registered brands (mp4ra.org, the HEIF, MIAF, AVIF and ISOBMFF rows), written out here.
AVIF_MAJOR = [b"avif", b"avis"]
HEIC_MAJOR = [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"]
HEIF_MAJOR = [b"mif1", b"msf1", b"mif2", b"mif3", b"miaf"]
OTHER_REGISTERED = [
    *(b"hevm", b"hevs", b"avci", b"avcs", b"vvic", b"vvis", b"jpeg", b"jpgs", b"j2ki", b"j2is", b"unif", b"1pic"),
    *(b"MiHA", b"MiHB", b"MiHE", b"MiHS", b"MiPr", b"MiAC", b"MiCm", b"MiBu", b"avio", b"MA1A", b"MA1B"),
    *(b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41", b"mp42"),
]


@pytest.mark.parametrize(
    ("major", "mime_type"),
    [*((m, "image/avif") for m in AVIF_MAJOR), *((m, "image/heic") for m in HEIC_MAJOR), *((m, "image/heif") for m in HEIF_MAJOR)],
    ids=lambda v: v.decode() if isinstance(v, bytes) else v,
)
def test_each_heif_major_brand_is_served_with_its_mime_type(major, mime_type):
    data = _simple(brands=(major, b"mif1"))
    result = metadata.clean(data)
    assert (result.format, result.mime_type) == ("heif", mime_type)
    assert hs.brands(result.data) == [major, b"mif1"]


def test_the_mime_type_is_avif_before_heic_before_heif():
    assert metadata.clean(_simple(brands=(b"mif1", b"heic", b"avif"))).mime_type == "image/avif"
    assert metadata.clean(_simple(brands=(b"mif1", b"avis", b"heix"))).mime_type == "image/avif"
    assert metadata.clean(_simple(brands=(b"mif1", b"mif1", b"hevx"))).mime_type == "image/heic"


def test_a_file_whose_major_brand_is_not_heif_is_not_read_as_heif():
    with pytest.raises(ImageError, match=re.escape("unsupported image format: ISOBMFF without a HEIF or AVIF brand")):
        metadata.strip(_simple(brands=(b"isom", b"mif1", b"heic")))


REGISTERED = AVIF_MAJOR + HEIC_MAJOR + HEIF_MAJOR + OTHER_REGISTERED


@pytest.mark.parametrize("part", [0, 1], ids=["first-32", "the-rest"])
def test_every_registered_brand_is_kept_in_ftyp(part):
    compatible = REGISTERED[32 * part : 32 * part + 32]
    data = _simple(brands=(b"heic", *compatible))
    assert hs.brands(metadata.strip(data)) == [b"heic", *compatible]


# ---------------------------------------------------------------- walk.py: the streamed walk, driven directly


def _walked(data: bytes, streamed: bytes | None = None, piece: int | None = None) -> bytes:
    """The walk planned from `data` by ranged reads, fed `streamed` (default: data) in pieces."""
    walk = open_walk(len(data), lambda start, end: data[start:end], False)
    streamed = data if streamed is None else streamed
    piece = piece or len(streamed)
    out = [walk.feed(streamed[i : i + piece]) for i in range(0, len(streamed), piece)]
    return b"".join(out) + walk.finish()


def _flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes((data[at] ^ 0x20,)) + data[at + 1 :]


def test_a_streamed_heif_walk_needs_ranged_reads():
    with pytest.raises(ImageError, match="^" + re.escape("HEIF: a streamed strip needs ranged reads of the file (its meta box and box headers)") + "$"):
        open_walk(100, None, False)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: box(b"free", b"x") + _simple(), "first box is 'free', not 'ftyp' at offset 0"),
        (lambda: hs.ftyp(b"isom", b"mp41") + _simple()[24:], "'ftyp' box with no HEIF or AVIF brand at offset 0"),
    ],
    ids=["free-first", "no-heif-brand"],
)
def test_a_walk_opened_on_a_file_the_sniff_would_not_send_is_refused(build, message):
    with pytest.raises(ImageError, match="^" + re.escape(f"HEIF: {message}") + "$"):
        _walked(build())


def test_a_ranged_read_that_comes_back_short_is_refused():
    data = _simple()
    with pytest.raises(ImageError, match="^" + re.escape(f"HEIF: a read of {len(data)} bytes gave {len(data) - 1} at offset 0") + "$"):
        open_walk(len(data), lambda start, end: data[start : end - 1], False)
    data = _meta_ending_at(WINDOW + 1)  # the meta box is read on its own, from its start
    meta = _at(data, b"meta")
    message = f"HEIF: a read of {WINDOW + 1 - meta} bytes gave {WINDOW - meta} at offset {meta}"
    with pytest.raises(ImageError, match="^" + re.escape(message) + "$"):
        open_walk(len(data), lambda start, end: data[start : end - (start > 0)], False)


@pytest.mark.parametrize("piece", [None, 1, 7], ids=["whole", "bytes", "sevens"])
def test_an_ftyp_or_meta_byte_that_streams_different_from_its_read_is_refused(piece):
    data = _simple()
    expected = metadata.strip(data)
    assert _walked(data, piece=piece) == expected
    meta = _at(data, b"meta")
    meta_end = meta + struct.unpack_from(">I", data, meta)[0]
    for at, origin in ((8, 8), (23, 8), (meta, meta), (meta_end - 1, meta)):
        with pytest.raises(ImageError, match="^" + re.escape(f"HEIF: the box at offset {origin} differs from the one read before the first byte (changed while read?)") + "$"):
            _walked(data, _flipped(data, at), piece)
    assert _walked(data, _flipped(data, 7), piece) == expected  # ftyp's header is written new, never compared
    assert _walked(data, _flipped(data, meta_end), piece) == expected  # the byte after meta (mdat's size) is not kept


# ---------------------------------------------------------------- tables.py: boxes that go, reported by kind


def _one_tile(**options) -> bytes:
    tile = ib.coded_tile(5)
    return ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties)], 1, [], **options)


@pytest.mark.parametrize(
    ("options", "removed"),
    [
        ({}, ()),
        ({"meta_extra": (box(b"xml ", b.XMP_PACKET),)}, ("xmp",)),
        ({"meta_extra": (box(b"bxml", b.XMP_PACKET),)}, ("xmp",)),
        ({"meta_extra": (box(b"dinf", b.SECRET),)}, ("other",)),
        ({"before_mdat": (box(b"free", b.SECRET),)}, ("other",)),
        ({"before_mdat": (box(b"skip", b.SECRET),)}, ("other",)),
        ({"before_mdat": (ib.c2pa_box(),)}, ("other",)),
        ({"after_all": (box(b"udta", b.SECRET),)}, ("other",)),
        ({"after_all": (b.SECRET,)}, ("trailer",)),
    ],
    ids=["nothing", "xml", "bxml", "dinf", "free", "skip", "uuid", "udta", "bytes-after-the-last-box"],
)
def test_boxes_that_go_are_reported_by_kind(options, removed):
    data = _one_tile(**options)
    result = metadata.clean(data)
    assert (result.data, result.removed) == (metadata.strip(_one_tile()), removed)


# ---------------------------------------------------------------- tables.py: a table cut inside a field names the field


def _with_child(kind: bytes, new: bytes, *, inside: tuple[bytes, ...] = (b"meta",)) -> tuple[bytes, int]:
    """_simple() with its `kind` box (a child of meta, or of iprp) replaced by `new`, the
    enclosing boxes resized; and where it starts."""
    data = _simple()
    start = _at(data, kind)
    end = start + struct.unpack_from(">I", data, start)[0]
    out = bytearray(data[:start] + new + data[end:])
    for outer in inside:
        at = _at(data, outer)
        out[at : at + 4] = struct.pack(">I", struct.unpack_from(">I", data, at)[0] + len(new) - (end - start))
    return bytes(out), start


def _infe_in_iinf(infe: bytes) -> bytes:
    return full_box(b"iinf", 0, 0, b"\x00\x01", infe)


# (the table's type, the replacement, what the message names: reader, field, bytes needed, bytes left, offset after the table's start)
CUT_FIELDS = {
    "hdlr-version": (b"hdlr", box(b"hdlr"), "'hdlr' box", "version", 1, 0, 8),
    "hdlr-pre-defined": (b"hdlr", full_box(b"hdlr", 0, 0, b"\x00\x00"), "'hdlr' box", "pre_defined", 4, 2, 12),
    "hdlr-type": (b"hdlr", full_box(b"hdlr", 0, 0, bytes(4), b"pi"), "'hdlr' box", "handler type", 4, 2, 16),
    "pitm-v0": (b"pitm", full_box(b"pitm", 0, 0, b"\x00"), "'pitm' box", "item ID", 2, 1, 12),
    "pitm-v1": (b"pitm", full_box(b"pitm", 1, 0, b"\x00\x01"), "'pitm' box", "item ID", 4, 2, 12),
    "iinf-v0": (b"iinf", full_box(b"iinf", 0, 0, b"\x00"), "'iinf' box", "entry count", 2, 1, 12),
    "iinf-v1": (b"iinf", full_box(b"iinf", 1, 0, b"\x00\x01"), "'iinf' box", "entry count", 4, 2, 12),
    "infe-v2-id": (b"iinf", _infe_in_iinf(full_box(b"infe", 2, 0, b"\x00")), "'infe' box", "item ID", 2, 1, 26),
    "infe-v3-id": (b"iinf", _infe_in_iinf(full_box(b"infe", 3, 0, b"\x00\x01")), "'infe' box", "item ID", 4, 2, 26),
    "infe-protection": (b"iinf", _infe_in_iinf(full_box(b"infe", 2, 0, b"\x00\x01")), "'infe' box", "item protection index", 2, 0, 28),
    "infe-type": (b"iinf", _infe_in_iinf(full_box(b"infe", 2, 0, b"\x00\x01\x00\x00hv")), "'infe' box", "item type", 4, 2, 30),
    "iloc-sizes": (b"iloc", full_box(b"iloc", 1, 0, b"\x44"), "'iloc' box", "field sizes", 2, 1, 12),
    "iloc-v1-count": (b"iloc", full_box(b"iloc", 1, 0, b"\x44\x00\x00"), "'iloc' box", "item count", 2, 1, 14),
    "iloc-v2-count": (b"iloc", full_box(b"iloc", 2, 0, b"\x44\x00\x00\x00\x01"), "'iloc' box", "item count", 4, 3, 14),
    "iloc-v1-id": (b"iloc", full_box(b"iloc", 1, 0, b"\x44\x00\x00\x01\x00"), "'iloc' box", "item ID", 2, 1, 16),
    "iloc-v2-id": (b"iloc", full_box(b"iloc", 2, 0, b"\x44\x00\x00\x00\x00\x01\x00\x00\x01"), "'iloc' box", "item ID", 4, 3, 18),
    "iloc-method": (b"iloc", full_box(b"iloc", 1, 0, b"\x44\x00\x00\x01\x00\x01\x00"), "'iloc' box", "construction method", 2, 1, 18),
    "iloc-reference": (b"iloc", full_box(b"iloc", 1, 0, b"\x44\x00\x00\x01\x00\x01\x00\x00\x00"), "'iloc' box", "data reference index", 2, 1, 20),
    "iloc-base": (b"iloc", full_box(b"iloc", 1, 0, b"\x44\x40\x00\x01\x00\x01\x00\x00\x00\x00\x00"), "'iloc' box", "base offset", 4, 1, 22),
    "iloc-extents": (b"iloc", full_box(b"iloc", 1, 0, b"\x44\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00"), "'iloc' box", "extent count", 2, 1, 22),
    "iloc-index": (b"iloc", full_box(b"iloc", 1, 0, b"\x44\x04\x00\x01\x00\x01\x00\x00\x00\x00\x00\x01\x00"), "'iloc' box", "extent index", 4, 1, 24),
    "iloc-offset": (b"iloc", full_box(b"iloc", 1, 0, b"\x44\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x01\x00"), "'iloc' box", "extent offset", 4, 1, 24),
    "iloc-length": (b"iloc", full_box(b"iloc", 0, 0, b"\x44\x00\x00\x01\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00"), "'iloc' box", "extent length", 4, 1, 26),
    "iref-version": (b"iref", box(b"iref"), "'iref' box", "version", 1, 0, 8),
    "iref-from": (b"iref", full_box(b"iref", 0, 0, box(b"cdsc", b"\x00")), "'cdsc' reference", "from item ID", 2, 1, 20),
    "iref-v1-from": (b"iref", full_box(b"iref", 1, 0, box(b"cdsc", b"\x00\x00\x00")), "'cdsc' reference", "from item ID", 4, 3, 20),
    "iref-count": (b"iref", full_box(b"iref", 0, 0, box(b"cdsc", b"\x00\x02\x00")), "'cdsc' reference", "reference count", 2, 1, 22),
    "iref-to": (b"iref", full_box(b"iref", 0, 0, box(b"cdsc", b"\x00\x02\x00\x01\x00")), "'cdsc' reference", "to item ID", 2, 1, 24),
    "iref-v1-to": (b"iref", full_box(b"iref", 1, 0, box(b"cdsc", b"\x00\x00\x00\x02\x00\x01\x00\x00\x00")), "'cdsc' reference", "to item ID", 4, 3, 26),
    "ipma-count": (b"ipma", full_box(b"ipma", 0, 0, b"\x00\x00\x01"), "'ipma' box", "entry count", 4, 3, 12),
    "ipma-v0-id": (b"ipma", full_box(b"ipma", 0, 0, b"\x00\x00\x00\x01\x00"), "'ipma' box", "item ID", 2, 1, 16),
    "ipma-v1-id": (b"ipma", full_box(b"ipma", 1, 0, b"\x00\x00\x00\x01\x00\x00\x01"), "'ipma' box", "item ID", 4, 3, 16),
    "ipma-associations": (b"ipma", full_box(b"ipma", 0, 0, b"\x00\x00\x00\x01\x00\x01"), "'ipma' box", "association count", 1, 0, 18),
    "ipma-7-bit": (b"ipma", full_box(b"ipma", 0, 0, b"\x00\x00\x00\x01\x00\x01\x02\x81"), "'ipma' box", "property index", 1, 0, 20),
    "ipma-15-bit": (b"ipma", full_box(b"ipma", 0, 1, b"\x00\x00\x00\x01\x00\x01\x01\x80"), "'ipma' box", "property index", 2, 1, 19),
}


@pytest.mark.parametrize("case", sorted(CUT_FIELDS))
def test_a_table_cut_inside_a_field_is_refused_naming_the_field(case):
    kind, new, reader, field, size, left, after = CUT_FIELDS[case]
    data, start = _with_child(kind, new, inside=(b"meta", b"iprp") if kind == b"ipma" else (b"meta",))
    message = f"HEIF {reader}: {field} needs {size} bytes but {left} are left at offset {start + after}"
    assert_refused(data, reason="^" + re.escape(message) + "$")


def test_an_ipma_without_an_ipco_is_refused_for_a_property_past_the_end_of_none():
    data, _ = _with_child(b"ipco", b"", inside=(b"meta", b"iprp"))
    assert_refused(data, reason="^" + re.escape(f"HEIF: item 1 is associated with property 1 of 0 at offset {_at(data, b'meta')}") + "$")


@pytest.mark.parametrize(
    ("group", "field", "size", "left", "after"),
    [
        (full_box(b"altr", 0, 0, b"\x00\x00\x00"), "group ID", 4, 3, 12),
        (full_box(b"altr", 0, 0, b"\x00\x00\x00\x09\x00\x00"), "entity count", 4, 2, 16),
        (full_box(b"altr", 0, 0, b"\x00\x00\x00\x09\x00\x00\x00\x02\x00\x00\x00\x01"), "2 entity IDs", 8, 4, 20),
    ],
    ids=["group-id", "entity-count", "entity-ids"],
)
def test_an_entity_group_cut_inside_a_field_is_refused_naming_the_field(group, field, size, left, after):
    data = _one_tile(meta_extra=(box(b"grpl", group),))
    start = _at(data, b"altr")
    message = f"HEIF 'altr' box: {field} needs {size} bytes but {left} are left at offset {start + after}"
    assert_refused(data, reason="^" + re.escape(message) + "$")


# ---------------------------------------------------------------- tables.py: the reads that find the top-level boxes


def _reads(data: bytes) -> list[tuple[int, int]]:
    """The ranged reads tables.parse makes to find the top-level boxes and read ftyp and meta."""
    reads = []

    def read_range(start: int, end: int) -> bytes:
        reads.append((start, end))
        return data[start:end]

    parse(len(data), read_range)
    return reads


WINDOW = 64 * 1024  # top-level box headers are read in windows of this many bytes


def _meta_ending_at(end: int) -> bytes:
    """_one_tile() with a free box before its meta so that the meta box ends at `end`."""
    meta_size = struct.unpack_from(">I", _one_tile(), 24)[0]
    data = _one_tile(before_mdat=(box(b"free", bytes(end - 24 - meta_size - 8)),))
    meta = _at(data, b"meta")
    assert meta + struct.unpack_from(">I", data, meta)[0] == end
    return data


def test_top_level_boxes_are_found_in_64_kb_windows_and_meta_read_once():
    small = _one_tile(after_all=(box(b"free"),))  # the last box header is the file's last 8 bytes
    assert _reads(small) == [(0, len(small))]
    data = _meta_ending_at(WINDOW)  # the meta box ends where the first window does
    assert _reads(data) == [(0, WINDOW), (WINDOW, len(data))]
    data = _meta_ending_at(WINDOW + 1)
    meta = _at(data, b"meta")
    assert _reads(data) == [(0, WINDOW), (meta, WINDOW + 1), (WINDOW + 1, len(data))]
    # a box header that starts 32 bytes (a largesize and a usertype) before the window's end is read from it
    tail = _one_tile()
    for gap, reads in ((WINDOW - 32, [(0, WINDOW)]), (WINDOW - 31, [(0, WINDOW), (WINDOW - 31, WINDOW - 31 + WINDOW)])):
        spaced = tail + box(b"free", bytes(gap - len(tail) - 8)) + box(b"free", bytes(WINDOW))
        assert _at(spaced, b"free", 1) == gap
        assert _reads(spaced) == reads


def test_a_meta_box_after_a_larger_mdat_is_held_to_the_meta_limit_only(monkeypatch):
    from metadata.formats.heif import tables

    data = _one_tile(meta_after_mdat=True)
    meta = _at(data, b"meta")
    monkeypatch.setattr(tables, "MAX_HEIF_META_BYTES", len(data) - meta)
    assert _at(data, b"mdat") < meta and meta - _at(data, b"mdat") > len(data) - meta
    assert metadata.strip(data) == metadata.strip(_one_tile())
    assert _reads(data) == [(0, len(data))]


def test_an_iloc_v0_ignores_its_index_size_field():
    data = _simple(iloc_version=0)
    quirk = hs.patched(data, b"iloc\x00\x00\x00\x00\x44\x00", b"iloc\x00\x00\x00\x00\x44\x04")
    assert metadata.strip(quirk) == metadata.strip(data)


@pytest.mark.parametrize("essential", [False, True])
def test_the_essential_bit_of_a_15_bit_property_index_is_read(essential):
    tile = ib.coded_tile(1)
    filler = [(box(b"pasp", struct.pack(">II", n + 1, n + 1)), False) for n in range(130)]
    long_pasp = box(b"pasp", struct.pack(">II", 1, 1), b.SECRET)
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, filler + tile.properties + [(long_pasp, essential)])], 1, [])
    if essential:
        assert_refused(data, reason=re.escape("item 1 needs property 'pasp': 21 bytes where its fields take 8"))
    else:
        assert ib.read_heif(metadata.strip(data)).items[1].properties == filler + tile.properties


# ---------------------------------------------------------------- properties.py: properties of one item type


UNCC_RGB3 = full_box(b"uncC", 1, 0, b"rgb3")  # version 1: a profile, 8-bit interleaved RGB
CMPD_RGB = box(b"cmpd", struct.pack(">IHHH", 3, 4, 5, 6))
MSKC_8 = full_box(b"mskC", 0, 0, b"\x08")


@pytest.mark.parametrize(
    ("item_type", "data", "properties"),
    [(b"unci", bytes(range(36)), [(UNCC_RGB3, True), (CMPD_RGB, False)]), (b"mski", bytes(range(12)), [(MSKC_8, True)])],
    ids=["unci", "mski"],
)
def test_raw_sample_items_keep_their_own_properties(item_type, data, properties):
    specs = [Spec(1, item_type, data, [(ispe(4, 3), False), *properties])]
    stripped = ib.read_heif(metadata.strip(ib.heif_file(specs, 1, [])))
    assert (stripped.items[1].type, stripped.items[1].data, stripped.items[1].properties) == (item_type, data, specs[0].properties)


@pytest.mark.parametrize("kind", [b"av1C", b"uncC", b"cmpd", b"mskC"], ids=lambda k: k.decode())
@pytest.mark.parametrize("essential", [False, True])
def test_a_property_of_another_item_type_goes_and_refuses_the_item_that_needs_it(kind, essential):
    other = {b"av1C": next(raw for raw, _ in hs.av1_image(1).properties if raw[4:8] == b"av1C"), b"uncC": UNCC_RGB3, b"cmpd": CMPD_RGB, b"mskC": MSKC_8}[kind]
    tile = ib.coded_tile(5)
    data = ib.heif_file([Spec(1, b"hvc1", tile.data, [*tile.properties, (other, essential)])], 1, [])
    if essential:
        assert_refused(data, reason="^" + re.escape(f"HEIF: item 1 needs property {kind.decode()!r} at offset {data.index(other)}") + "$")
    else:
        assert ib.read_heif(metadata.strip(data)).items[1].properties == tile.properties


def test_an_alpha_plane_named_by_either_alpha_urn_is_kept():
    tile, alpha = ib.coded_tile(5), ib.coded_alpha()
    for urn in (ib.ALPHA_URN, b"urn:mpeg:hevc:2015:auxid:1\x00"):
        properties = [(ib.auxc(urn) if raw[4:8] == b"auxC" else raw, essential) for raw, essential in alpha.properties]
        data = ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"hvc1", alpha.data, properties, hidden=True)], 1, [(b"auxl", 2, [1])])
        assert sorted(ib.read_heif(metadata.strip(data)).items) == [1, 2], urn


# ---------------------------------------------------------------- walk.py and tables.py: what the output says of the input


def test_units_removed_from_a_kept_payload_or_its_hvcc_are_reported():
    tile = ib.coded_tile(5)
    hvcc = next(raw for raw, _ in tile.properties if raw[4:8] == b"hvcC")
    planted_hvcc = box(b"hvcC", pb.hvcc_with(hvcc[8:], pb.hvcc_array(pb.PREFIX_SEI, pb.sei_user_data())))
    with_sei = pb.length_prefixed(pb.sei_user_data(), *pb.nal_units(tile.data))
    for data, properties in ((with_sei, tile.properties), (tile.data, [(planted_hvcc if raw == hvcc else raw, e) for raw, e in tile.properties])):
        result = metadata.clean(ib.heif_file([Spec(1, b"hvc1", data, properties)], 1, []))
        assert (result.data, result.removed) == (metadata.strip(_one_tile()), ("other",))


def test_boxes_in_iinf_other_than_infe_are_skipped():
    data = _simple(meta_after_mdat=True)
    iinf = _at(data, b"iinf")
    size = struct.unpack_from(">I", data, iinf)[0]
    padded = _grown(data, iinf + 14, box(b"free", b.SECRET), b"meta", b"iinf")  # after iinf's version, flags and count
    assert metadata.strip(padded) == metadata.strip(data)
    assert struct.unpack_from(">I", padded, iinf)[0] == size + 8 + len(b.SECRET)


@pytest.mark.parametrize(("options", "version"), [({"iloc_version": 0}, 0), ({"iloc_version": 1}, 1), ({"iloc_version": 2}, 1)], ids=["v0", "v1", "v2-small-ids"])
def test_the_output_iloc_keeps_the_input_version_unless_it_needs_another(options, version):
    stripped = metadata.strip(_simple(**options))
    assert stripped[_at(stripped, b"iloc") + 8] == version


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x00\x00\x00", "HEIF: EXIF item 2 is 3 bytes"),
        (b"\x00\x00\x00\x00", None),  # an empty TIFF structure right after the offset: no EXIF to show
        (struct.pack(">I", 3) + b"abc", None),  # the TIFF header at the item's very end
        (struct.pack(">I", 4) + b"abc", "HEIF: EXIF item 2 points its TIFF header past its end"),
    ],
    ids=["3-bytes", "4-bytes", "offset-to-the-end", "offset-past-the-end"],
)
def test_an_exif_item_too_short_for_its_offset_is_refused_by_read_exif_and_dropped_by_strip(payload, reason):
    data = _with_exif_items(payload, describing=2)
    if reason is None:
        assert metadata.read_exif(data) == {}
    else:
        with pytest.raises(ImageError, match=f"^{re.escape(reason)}$"):
            metadata.read_exif(data)
    assert sorted(ib.read_heif(metadata.strip(data, keep_copyright=True)).items) == [1]


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [(b"application/rdf+xml", "xmp"), (b"application/rdf+xml; charset=utf-8", "xmp"), (b"application/rdf+xml ;x", "xmp"), (b"text/plain", "other")],
)
def test_a_mime_item_is_reported_as_xmp_by_its_content_type_before_any_parameter(content_type, kind):
    result = metadata.clean(_with_exif_items(content_types=(content_type,)))
    assert b.SECRET not in result.data
    assert set(result.removed) == {kind}


def test_keep_copyright_reports_exif_removed_unless_the_one_exif_item_is_already_minimal():
    minimal = next(item.data for item in ib.read_heif(metadata.strip(_with_exif_items(ib.exif_item_payload(EXIF)), keep_copyright=True)).items.values() if item.type == b"Exif")
    assert b.OWNER_COPYRIGHT in minimal and GPS_BYTES not in minimal
    assert metadata.clean(_with_exif_items(minimal), keep_copyright=True).removed == ()
    # the same minimal item listed first, with a full one after it: that one goes, and it is said
    assert "exif" in metadata.clean(_with_exif_items(minimal, ib.exif_item_payload(EXIF)), keep_copyright=True).removed


@pytest.mark.parametrize("over", [False, True])
def test_read_exif_reads_an_exif_item_of_the_limit_and_refuses_one_byte_more(monkeypatch, over):
    # MAX_EXIF_PAYLOAD (the largest Exif item read) patched to this item's size, at the module that reads it.
    import metadata.formats.heif as heif

    payload = ib.exif_item_payload(b.exif_block(6))
    monkeypatch.setattr(heif, "MAX_EXIF_PAYLOAD", len(payload) - int(over))
    data = _with_exif_items(payload, describing=2)
    if over:
        with pytest.raises(ImageError, match=f"^HEIF: EXIF item 2 is larger than {len(payload) - 1} bytes$"):
            metadata.read_exif(data)
    else:
        assert metadata.read_exif(data)["Image"]["Orientation"] == 6


# ---------------------------------------------------------------- tables.py and payloads.py: iloc field sizes, a meta box without hdlr, boxes past their table, short reads
# (the iloc of _one_tile() rewritten with other field sizes: its one item keeps its bytes)


def _with_iloc(version: int, offset_size: int, length_size: int, base_size: int, index_size: int) -> bytes:
    """_one_tile() with its iloc rewritten: `version`, these field sizes (bytes), the one extent's
    place split between base offset and extent offset (all in the base when the offset has no bytes)."""
    data = _one_tile()
    start = _at(data, b"iloc")
    old_offset, length = struct.unpack_from(">II", data, start + 24)  # v1, 0x4400, one row: ID, method, reference, count, then the extent

    def iloc(place: int) -> bytes:
        base = place if offset_size == 0 else (place - 7 if base_size else 0)
        wide = version == 2
        row = (1).to_bytes(4 if wide else 2, "big") + (b"\x00\x00" if version else b"") + b"\x00\x00"
        row += base.to_bytes(base_size, "big") + b"\x00\x01"
        row += (5 if index_size else 0).to_bytes(index_size, "big") if version else b""  # an extent index, read and ignored
        row += (place - base).to_bytes(offset_size, "big") + length.to_bytes(length_size, "big")
        sizes = bytes((offset_size << 4 | length_size, base_size << 4 | index_size))
        return full_box(b"iloc", version, 0, sizes, (1).to_bytes(4 if wide else 2, "big"), row)

    grown = len(iloc(old_offset)) - struct.unpack_from(">I", data, start)[0]  # its size does not depend on the place
    new = iloc(old_offset + grown)
    end = start + struct.unpack_from(">I", data, start)[0]
    out = bytearray(data[:start] + new + data[end:])
    meta = _at(data, b"meta")
    out[meta : meta + 4] = struct.pack(">I", struct.unpack_from(">I", data, meta)[0] + grown)
    return bytes(out)


@pytest.mark.parametrize(
    ("version", "offset_size", "length_size", "base_size", "index_size"),
    [(1, 4, 4, 0, 0), (1, 8, 4, 0, 0), (1, 0, 8, 4, 0), (1, 4, 4, 8, 4), (2, 8, 8, 8, 8), (2, 0, 4, 8, 0)],
    ids=["4-4-0-0", "8-4-0-0", "0-8-4-0", "4-4-8-4", "v2-8-8-8-8", "v2-0-4-8-0"],
)
def test_an_iloc_of_any_field_sizes_0_4_and_8_is_read(version, offset_size, length_size, base_size, index_size):
    data = _with_iloc(version, offset_size, length_size, base_size, index_size)
    assert data[_at(data, b"iloc") + 12 : _at(data, b"iloc") + 14] == bytes((offset_size << 4 | length_size, base_size << 4 | index_size))
    assert metadata.strip(data) == metadata.strip(_one_tile())


def test_a_meta_box_without_a_handler_is_refused_as_not_pict():
    data = hs.patched(_simple(), b"hdlr", b"hdlX")  # an unknown box in meta: dropped, and no handler read
    assert_refused(data, reason="^" + re.escape(f"HEIF: 'meta' handler is b'', not 'pict' at offset {_at(data, b'meta')}") + "$")


@pytest.mark.parametrize(("size", "message"), [(1, "box size needs 4 bytes but 1 are left at offset 0"), (4, "box type needs 4 bytes but 0 are left at offset 4"), (7, "box type needs 4 bytes but 3 are left at offset 4")])
def test_a_file_shorter_than_a_box_header_is_read_once_and_refused(size, message):
    data = b"\x00\x00\x00\x10ftyp"[:size]
    reads = []

    def read_range(start: int, end: int) -> bytes:
        reads.append((start, end))
        return data[start:end]

    with pytest.raises(ImageError, match="^" + re.escape(f"HEIF: {message}") + "$"):
        parse(size, read_range)
    assert reads == [(0, size)]


@pytest.mark.parametrize("table", [b"meta", b"iinf", b"iref", b"iprp", b"ipco", b"grpl"], ids=lambda t: t.decode())
def test_a_box_running_past_its_table_is_refused_naming_the_format_and_its_place(table):
    # a box header declaring 40 bytes, with 4 bytes of payload, as the last child of `table`
    data = _simple(meta_extra=(box(b"grpl"),))
    containers = {b"meta": (), b"iinf": (b"iinf",), b"iref": (b"iref",), b"iprp": (b"iprp",), b"ipco": (b"iprp", b"ipco"), b"grpl": (b"grpl",)}[table]
    end = _at(data, table) + struct.unpack_from(">I", data, _at(data, table))[0]
    data = _grown(data, end, struct.pack(">I4s", 40, b"zzzz") + bytes(4), b"meta", *containers)
    message = f"HEIF: box 'zzzz' declares 40 bytes but 12 are left at offset {end}"
    assert_refused(data, reason="^" + re.escape(message) + "$")


def test_a_kept_item_s_read_before_the_first_byte_that_comes_back_short_is_refused():
    data = _simple()  # one 64 KB window holds every box header: only the tile's read starts past 0
    tile = ib.coded_tile(5).data
    at = data.index(tile)
    message = f"HEIF: a read of {len(tile)} bytes at offset {at} gave {len(tile) - 1} at offset {_at(data, b'meta')}"
    with pytest.raises(ImageError, match="^" + re.escape(message) + "$"):
        open_walk(len(data), lambda start, end: data[start : end - (start > 0)], False)


def test_the_read_ahead_budget_goes_to_the_blocks_that_start_first_in_the_file(monkeypatch):
    # MAX_HEIF_READ_AHEAD (16 MB) patched to one item's size: of two visible hvc1 items, only the
    # one starting first in the file is read ahead. Item 1 lists its pieces out of file order
    # (its first piece last in mdat, its second first): it starts first, so it is read ahead
    # (streamed, an item out of file order would be refused); item 2 lies between them.
    from metadata.formats.heif import payloads

    tile = ib.coded_tile(5)
    first, second = tile.data[:40], tile.data[40:]
    head = hs.ftyp(b"heic", b"mif1", b"heic")
    properties = [(i + 1, e) for i, (_, e) in enumerate(tile.properties)]

    def meta(at: int) -> bytes:
        one = hs.RawItem(1, b"hvc1", [(at + len(second) + len(tile.data), len(first)), (at, len(second))], properties)
        two = hs.RawItem(2, b"hvc1", [(at + len(second), len(tile.data))], properties)
        return hs.raw_meta([one, two], 1, [raw for raw, _ in tile.properties], [])

    data = head + meta(len(head) + len(meta(0)) + 8) + box(b"mdat", second, tile.data, first)
    monkeypatch.setattr(payloads, "MAX_HEIF_READ_AHEAD", len(tile.data))
    items = ib.read_heif(metadata.strip(data)).items
    assert (items[1].data, items[2].data) == (tile.data, tile.data)


# ---------------------------------------------------------------- brands.py: compatible brands read four bytes at a time


def test_compatible_brands_are_read_whole_never_across_two_of_them():
    # b"xxav" + b"ifxx" hold b"avif" across their boundary: neither is a brand the output keeps
    result = metadata.clean(_simple(brands=(b"mif1", b"mif1", b"xxav", b"ifxx")))
    assert (result.mime_type, hs.brands(result.data)) == ("image/heif", [b"mif1", b"mif1"])


# ---------------------------------------------------------------- walk.py: the input's size, refused in HEIF's name


@pytest.mark.parametrize("extra", [-1, 1], ids=["ends-early", "runs-over"])
def test_a_heif_walk_fed_more_or_fewer_bytes_than_declared_is_refused_in_heif_s_name(extra):
    data = _simple()
    walk = open_walk(len(data), lambda start, end: data[start:end], False)
    if extra < 0:
        walk.feed(data[:-1])
        message = f"HEIF: the input ended at offset {len(data) - 1}, before its declared size {len(data)}"
        with pytest.raises(ImageError, match=f"^{re.escape(message)}$"):
            walk.finish()
    else:
        with pytest.raises(ImageError, match=f"^{re.escape(f'HEIF: the input is longer than its declared {len(data)} bytes')}$"):
            walk.feed(data + b"\x00")
