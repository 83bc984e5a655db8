"""HEIF/HEIC and AVIF: real encodes (pillow-heif, Pillow) and hand-built structures
(isobmff_builders), each checked by decoding input and output and by reading the
output's items back with the tests' own reader."""

from __future__ import annotations

import re
import struct

import image_builders as b
import isobmff_builders as ib
import metadata
import piexif
import pytest
from heif_shapes import DEPTH, EXIF, HOSTILE, LAYOUTS, THUMBNAIL, everything
from hypothesis import example, given
from hypothesis import strategies as st
from isobmff_builders import Spec, box, colr_icc, irot, ispe, udes
from metadata import ImageError
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
