"""Fail closed on what is served, not on what is dropped.

A malformed metadata block is removed whole and the image served, with the orientation
readable from what is left of IFD0; an invalid ICC profile is dropped, a valid one kept;
a JPEG segment whose length is wrong is skipped up to the next marker as libjpeg does;
only when the image data itself cannot be delimited is the image refused. Inputs are
built inline; outputs are read back with Pillow and the test-side walkers.
"""

from __future__ import annotations

import re
import struct
import zlib

import pytest

import image_builders as b
import tiff_shapes as t
import metadata
from metadata import ImageError
from metadata.formats import tiff as tiff_format
from metadata_checks import (
    ORIENTATION_ENTRY,
    assert_same_display,
    bounded_memory,
    exif_of,
    expected_kept_exif,
)

APP0, APP1, APP2, APP13, APP14, COM, DQT = 0xE0, 0xE1, 0xE2, 0xED, 0xEE, 0xFE, 0xDB
VP8X_ICC = 0x20

# An EXIF structure whose IFD0 is readable (Orientation 6) but whose Exif pointer loops
# back to IFD0 and whose Make runs past the end of the block.
BROKEN_EXIF = b.tiff_header() + b.ifd_bytes(
    [(0x010F, 2, 400, struct.pack(">I", 8)), ORIENTATION_ENTRY, (0x8769, 4, 1, struct.pack(">I", 8))]
)
UNREADABLE_EXIF = b"MM\x00*\x00"  # a TIFF header cut short: no IFD0 to read


def _plain_jpeg(**options) -> bytes:
    return b.jpeg(exif=False, comment=False, xmp=False, **{"icc": False, **options})


def _served_like(original: bytes, result: metadata.StripResult, orientation: int) -> None:
    assert exif_of(result.data) == expected_kept_exif(orientation, keep_copyright=False)
    assert b.metadata_problems(result.data) == []
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()


# ---------------------------------------------------------------- malformed EXIF, every container


def _png_with(*chunks: bytes, before_image_data: bool = True) -> bytes:
    plain = b.png(exif=False, text=False, icc=False)
    if not before_image_data:
        return b.png_insert_before_iend(plain, *chunks)
    return plain[:33] + b"".join(chunks) + plain[33:]  # right after IHDR


def _webp_with_exif(structure: bytes) -> bytes:
    return b.riff_file([*(b.riff_chunk(*chunk) for chunk in b.riff_chunks(b.webp_simple())), b.riff_chunk(b"EXIF", structure)])


CONTAINERS = {
    "jpeg": lambda structure: b.insert_after_soi(_plain_jpeg(), b.jpeg_segment(APP1, b"Exif\x00\x00" + structure)),
    "png": lambda structure: _png_with(b.png_chunk(b"eXIf", structure)),
    "webp": _webp_with_exif,
}


@pytest.mark.parametrize("container", sorted(CONTAINERS))
@pytest.mark.parametrize(("structure", "orientation"), [(BROKEN_EXIF, 6), (UNREADABLE_EXIF, 1)], ids=["broken", "unreadable"])
def test_malformed_exif_is_removed_and_the_image_served(container, structure, orientation):
    original = CONTAINERS[container](structure)
    with bounded_memory():
        result = metadata.clean(original)
    assert "exif" in result.removed
    _served_like(original, result, orientation)
    assert metadata.read_exif(original, view="full").get("Image", {}).get("Orientation", 1) == orientation


def test_tiff_with_a_looping_exif_ifd_is_served():
    original = b.tiff(6, icc=False)
    ifd0 = struct.unpack_from("<I", original, 4)[0]
    count = struct.unpack_from("<H", original, ifd0)[0]
    looped = bytearray(original)
    for index in range(count):
        position = ifd0 + 2 + 12 * index
        if struct.unpack_from("<H", original, position)[0] == 0x8769:
            struct.pack_into("<I", looped, position + 8, ifd0)  # the Exif IFD is IFD0
    result = metadata.clean(bytes(looped))
    assert b.metadata_problems(result.data) == []
    assert_same_display(original, result.data)


@pytest.mark.parametrize("first_broken", [False, True])
def test_jpeg_with_several_exif_blocks_takes_the_first_and_drops_them_all(first_broken):
    good = b.exif_block(8, gps=False, thumbnail=False)
    blocks = [b"Exif\x00\x00" + UNREADABLE_EXIF, good] if first_broken else [good, b"Exif\x00\x00" + BROKEN_EXIF]
    original = b.insert_after_soi(_plain_jpeg(), *(b.jpeg_segment(APP1, block) for block in blocks))
    result = metadata.clean(original)
    _served_like(original, result, 1 if first_broken else 8)  # browsers read the first block


# ---------------------------------------------------------------- ICC: valid kept, invalid dropped


def _bad_profile() -> bytes:
    profile = bytearray(b.icc_profile())
    profile[36:40] = b"nope"  # no 'acsp' signature
    return bytes(profile)


def _jpeg_icc_segments(profile: bytes, numbering: list[tuple[int, int]]) -> list[bytes]:
    size = -(-len(profile) // len(numbering))
    pieces = [profile[i : i + size] for i in range(0, len(profile), size)]
    return [b.jpeg_segment(APP2, b"ICC_PROFILE\x00" + bytes(n) + piece) for n, piece in zip(numbering, pieces)]


@pytest.mark.parametrize(
    ("profile", "numbering", "kept"),
    [
        (b.icc_profile(), [(1, 2), (2, 2)], True),
        (b.icc_profile(), [(1, 2), (1, 2)], False),  # numbered inconsistently
        (b.icc_profile(), [(1, 3), (2, 3)], False),  # a chunk missing
        (b.icc_profile(), [(1, 2), (2, 3)], False),  # counts that differ
        (_bad_profile(), [(1, 1)], False),
        (b.icc_profile()[:-9], [(1, 1)], False),  # shorter than it declares
    ],
    ids=["valid", "same number twice", "chunk missing", "counts differ", "no signature", "cut short"],
)
def test_jpeg_icc_profile_is_kept_when_valid_and_dropped_otherwise(profile, numbering, kept):
    plain = _plain_jpeg()
    original = b.insert_after_soi(plain, *_jpeg_icc_segments(profile, numbering))
    result = metadata.clean(original)
    assert b.decoded(result.data).info.get("icc_profile") == (profile if kept else None)
    assert result.removed == (() if kept else ("other",))
    assert b.decoded(result.data).tobytes() == b.decoded(plain).tobytes()


def test_jpeg_icc_chunks_out_of_order_and_an_empty_chunk_make_one_profile():
    profile = b.icc_profile()
    half = len(profile) // 2
    chunks = [(2, 3, profile[half:]), (3, 3, b""), (1, 3, profile[:half])]  # numbered 1..3, in another order
    segments = [b.jpeg_segment(APP2, b"ICC_PROFILE\x00" + bytes((number, count)) + piece) for number, count, piece in chunks]
    plain = _plain_jpeg()
    original = b.insert_after_soi(plain, *segments)
    result = metadata.clean(original)
    assert result.data == original
    assert result.removed == ()
    assert b.decoded(result.data).info.get("icc_profile") == profile


def _iccp(name: bytes, compressed: bytes) -> bytes:
    return b.png_chunk(b"iCCP", name + b"\x00\x00" + compressed)


@pytest.mark.parametrize(
    ("chunk", "kept"),
    [
        (_iccp(b"ICC profile", zlib.compress(b.icc_profile())), True),
        (_iccp(b"Ada Lovelace, 51.5N 0.12W " + b.SECRET[:20], zlib.compress(b.icc_profile())), True),
        (_iccp(b"ICC profile", zlib.compress(b.icc_profile())[:-10]), False),  # does not inflate
        (_iccp(b"ICC profile", zlib.compress(b.icc_profile()) + b.SECRET), False),  # bytes after the stream
        (_iccp(b"ICC profile", zlib.compress(_bad_profile())), False),
        (_iccp(b"ICC profile", zlib.compress(bytes(300 * 1024 * 1024))), False),  # inflates past the bound
    ],
    ids=["valid", "personal name", "does not inflate", "trailing bytes", "no signature", "bomb"],
)
def test_png_iccp_is_kept_with_a_neutral_name_when_valid_and_dropped_otherwise(chunk, kept):
    original = _png_with(chunk)
    with bounded_memory(limit=len(original) * 4 + 32 * 1024 * 1024):
        result = metadata.clean(original)
    iccp = [data for name, data in b.png_chunks(result.data) if name == b"iCCP"]
    if kept:
        assert iccp == [b"ICC profile\x00\x00" + chunk[8 + chunk[8:].index(b"\x00") + 2 : -4]]
        assert b.decoded(result.data).info["icc_profile"] == b.icc_profile()
    else:
        assert iccp == []
    assert b.SECRET[:20] not in result.data
    assert b.decoded(result.data).tobytes() == b.decoded(_png_with()).tobytes()
    assert metadata.strip(result.data) == result.data


@pytest.mark.parametrize("kept", [True, False])
def test_webp_iccp_is_kept_when_valid_and_dropped_with_its_flag_otherwise(kept):
    chunks = b.riff_chunks(b.webp(exif=False, xmp=False))
    assert chunks[1][0] == b"ICCP"
    profile = b.icc_profile() if kept else _bad_profile()
    original = b.riff_file([b.riff_chunk(*chunks[0]), b.riff_chunk(b"ICCP", profile), *(b.riff_chunk(*c) for c in chunks[2:])])
    result = metadata.clean(original)
    after = b.riff_chunks(result.data)
    assert bool(after[0][1][0] & VP8X_ICC) == kept
    assert (b"ICCP" in [name for name, _ in after]) == kept
    assert b.decoded(result.data).info.get("icc_profile") == (profile if kept else None)
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()
    assert result.removed == (() if kept else ("other",))


@pytest.mark.parametrize("kept", [True, False])
def test_gif_icc_extension_is_kept_when_valid_and_dropped_otherwise(kept):
    plain = b.gif(comment=False, extensions=False)
    profile = b.icc_profile() if kept else _bad_profile()
    extension = b.gif_application_extension(b"ICCRGBG1012", profile)
    original = plain[:-1] + extension + b"\x3b"
    result = metadata.clean(original)
    assert (extension in result.data) == kept
    assert result.removed == (() if kept else ("other",))
    assert b.frames(result.data) == b.frames(plain)


def test_tiff_icc_profile_is_kept_when_valid():
    result = metadata.clean(b.tiff(1, icc=True))
    assert b.decoded(result.data).info["icc_profile"] == b.icc_profile()


# ---------------------------------------------------------------- JPEG: resynchronise as libjpeg does


def test_jpeg_app13_whose_length_overshoots_is_skipped_to_the_next_marker():
    plain = _plain_jpeg()
    comment = b.jpeg_segment(COM, b"comment " + b.SECRET)
    app13 = b.jpeg_segment(APP13, b.photoshop_iptc_payload())
    overshooting = app13[:2] + struct.pack(">H", len(app13) - 2 + 6) + app13[4:]  # eats into the COM
    original = b.insert_after_soi(plain, overshooting, comment)
    result = metadata.clean(original)
    assert set(result.removed) == {"iptc", "other", "photoshop"}
    _served_like(original, result, 1)
    assert result.data == plain  # the skipped bytes are not served


def test_jpeg_app13_whose_length_falls_short_is_skipped_to_the_next_marker():
    plain = _plain_jpeg()
    app13 = b.jpeg_segment(APP13, b.photoshop_iptc_payload())
    assert b"\xff" not in app13[2:]
    short = app13[:2] + struct.pack(">H", 20) + app13[4:]  # the rest of the payload is left between segments
    original = b.insert_after_soi(plain, short)
    result = metadata.clean(original)
    _served_like(original, result, 1)
    assert result.data == plain


def test_jpeg_truncated_adobe_segment_keeps_only_its_colour_transform():
    plain = _plain_jpeg()
    truncated = b"\xff\xee" + struct.pack(">H", 14) + b"Adobe\x00\x64\x80\x00\x00\x00"  # 11 of its 12 bytes
    original = b.insert_after_soi(plain, truncated, b.jpeg_segment(COM, b"comment " + b.SECRET))
    result = metadata.clean(original)
    # A decoder reads the colour transform from the 12th byte: the FF that starts the COM.
    assert b.jpeg_structure(result.data).payloads(APP14) == [b"Adobe\x00\x64\x00\x00\x00\x00\xff"]
    assert b.metadata_problems(result.data) == []
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes() == b.decoded(plain).tobytes()


def _stray_byte_after(data: bytes, marker: int) -> bytes:
    """`data` with a 00 byte after the first segment of `marker`: its length falls one byte short."""
    structure = b.jpeg_structure(data)
    end = structure.offset_of(marker) + 2 + 2 + len(structure.payloads(marker)[0])
    return data[:end] + b"\x00" + data[end:]


def test_jpeg_jfif_header_whose_length_is_wrong_is_dropped():
    plain = _plain_jpeg()
    jfif_end = 4 + int.from_bytes(plain[4:6], "big")
    result = metadata.clean(_stray_byte_after(plain, APP0))
    assert result.data == plain[:2] + plain[jfif_end:]
    assert result.removed == ("other",)


def test_jpeg_exif_block_whose_length_is_wrong_is_dropped_and_says_nothing_of_xmp():
    original = _stray_byte_after(b.insert_after_soi(_plain_jpeg(), b.jpeg_segment(APP1, b.exif_block(6))), APP1)
    result = metadata.clean(original)
    assert set(result.removed) == {"exif", "gps", "makernote", "thumbnail", "other"}
    _served_like(original, result, 6)


def test_jpeg_icc_chunk_whose_length_is_wrong_voids_the_profile():
    original = _stray_byte_after(_plain_jpeg(icc=True), APP2)
    result = metadata.clean(original)
    assert b.jpeg_structure(result.data).payloads(APP2) == []
    assert result.removed == ("other",)
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()


def test_jpeg_app14_not_from_adobe_whose_length_is_wrong_is_dropped_not_rebuilt():
    plain = _plain_jpeg()
    original = _stray_byte_after(b.insert_after_soi(plain, b.jpeg_segment(APP14, b"Other" + bytes(12))), APP14)
    result = metadata.clean(original)
    assert result.data == plain
    assert result.removed == ("other",)


def test_jpeg_comment_whose_length_is_wrong_leaves_the_icc_profile_alone():
    with_icc = _plain_jpeg(icc=True)
    original = _stray_byte_after(b.insert_after_soi(with_icc, b.jpeg_segment(COM, b"comment " + b.SECRET)), COM)
    result = metadata.clean(original)
    assert result.data == with_icc
    assert result.removed == ("comment", "other")


def _damage_dqt(data: bytes, how: str) -> bytes:
    offset = b.jpeg_structure(data).offset_of(DQT)
    length = int.from_bytes(data[offset + 2 : offset + 4], "big")
    if how == "short":
        return data[: offset + 2] + struct.pack(">H", length - 1) + data[offset + 4 :]
    end = offset + 2 + length
    return data[:end] + b"\x00\x01" + data[end:]  # not followed by a marker


@pytest.mark.parametrize(("how", "reason"), [("short", "DQT table"), ("not followed by a marker", "does not end at a marker")])
def test_jpeg_table_segment_whose_length_is_wrong_is_refused(how, reason):
    with pytest.raises(ImageError, match=reason):
        metadata.strip(_damage_dqt(_plain_jpeg(), how))


def _first_stuffed_ff(data: bytes) -> int:
    structure = b.jpeg_structure(data)
    return data.index(b"\xff\x00", structure.scan_start + 14)


def test_jpeg_fill_byte_inside_scan_data_is_kept_and_decodes_the_same():
    plain = _plain_jpeg(size=(64, 48))
    position = _first_stuffed_ff(plain)
    original = plain[:position] + b"\xff" + plain[position:]  # FF FF 00: one stuffed FF to libjpeg
    result = metadata.clean(original)
    assert result.data == original
    assert b.decoded(result.data).tobytes() == b.decoded(plain).tobytes()


@pytest.mark.parametrize("stray", [b"\xff\x4f", b"\xff\xd8", b"\xff\x01", b"\xff\xc5"])
def test_jpeg_stray_marker_inside_scan_data_stays_scan_data(stray):
    plain = _plain_jpeg(size=(64, 48))
    position = _first_stuffed_ff(plain)
    original = plain[:position] + stray + plain[position:]
    result = metadata.clean(original)
    # Every scan byte is kept, so a decoder meets exactly what it met in the original.
    assert b.jpeg_structure(result.data).scan == b.jpeg_structure(original).scan
    assert b.metadata_problems(result.data) == []


def test_jpeg_garbage_between_segments_is_skipped_not_served():
    plain = _plain_jpeg()
    original = b.insert_after_soi(plain, b.jpeg_segment(COM, b"x"), b"junk " + b.SECRET)
    result = metadata.clean(original)
    assert result.data == plain
    assert b.decoded(result.data).tobytes() == b.decoded(plain).tobytes()


@pytest.mark.parametrize(
    "between",
    [b"\xff\xd0", b"\xff\xd0\xff\xd7", b"\xff\xff\xff\xd0\xff\xff", b"\xff\x00", b"\xff\x00junk\xff"],
)
def test_jpeg_bytes_other_than_fill_after_soi_are_skipped_and_reported(between):
    plain = _plain_jpeg()
    result = metadata.clean(plain[:2] + between + plain[2:])
    assert result.data == plain
    assert result.removed == ("other",)


def test_jpeg_fill_bytes_after_soi_are_skipped_and_not_reported():
    plain = _plain_jpeg()
    result = metadata.clean(plain[:2] + b"\xff" * 5 + plain[2:])
    assert result.data == plain
    assert result.removed == ()


# ---------------------------------------------------------------- PNG: eXIf where browsers read it


@pytest.mark.parametrize("before_image_data", [True, False])
def test_png_orientation_is_kept_only_from_an_exif_browsers_read(before_image_data):
    original = _png_with(b.png_chunk(b"eXIf", b.tiff_structure(b.exif_block(6))), before_image_data=before_image_data)
    result = metadata.clean(original)
    names = [name for name, _ in b.png_chunks(result.data)]
    if before_image_data:
        assert names.index(b"eXIf") < names.index(b"IDAT")
        assert exif_of(result.data) == {b.ORIENTATION_TAG: 6}
    else:
        assert b"eXIf" not in names  # the image showed unrotated, and still does
    assert b.decoded(result.data).tobytes() == b.decoded(original).tobytes()


def test_png_copyright_from_a_late_exif_is_kept_without_its_orientation():
    original = _png_with(b.png_chunk(b"eXIf", b.tiff_structure(b.exif_block(6))), before_image_data=False)
    assert exif_of(metadata.strip(original, keep_copyright=True)) == expected_kept_exif(None, keep_copyright=True)


# ---------------------------------------------------------------- TIFF: what is served stays bounded


def _tiff_claiming(width: int, height: int, strip: bytes, extra: list[tuple[int, int, int, bytes]] = ()) -> bytes:
    """A little-endian RGBA TIFF whose one strip holds `strip`, however many rows it claims."""
    entries = sorted([
        (256, 4, 1, struct.pack("<I", width)),
        (257, 4, 1, struct.pack("<I", height)),
        (258, 3, 4, b"OFST"),  # BitsPerSample, placed after the IFD
        (259, 3, 1, struct.pack("<H", 1)),
        (262, 3, 1, struct.pack("<H", 2)),
        (273, 4, 1, b"STRP"),
        (277, 3, 1, struct.pack("<H", 4)),
        (279, 4, 1, struct.pack("<I", len(strip))),
        (338, 3, 1, struct.pack("<H", 2)),  # ExtraSamples: unassociated alpha
        *extra,
    ])  # fmt: skip
    ifd_size = 2 + 12 * len(entries) + 4
    bits_at = 8 + ifd_size
    strip_at = bits_at + 8
    resolved = [
        (tag, kind, count, struct.pack("<I", bits_at) if value == b"OFST" else struct.pack("<I", strip_at) if value == b"STRP" else value)
        for tag, kind, count, value in entries
    ]
    return b.tiff_header(order="<") + b.ifd_bytes(resolved, order="<") + struct.pack("<4H", 8, 8, 8, 8) + strip


def test_tiff_whose_strips_do_not_cover_the_image_is_refused():
    original = _tiff_claiming(8, 5_000_000, bytes(range(32)))  # one row of an 8 x 5,000,000 image
    assert len(original) < 200
    with bounded_memory():
        with pytest.raises(ImageError, match="uncompressed pixels"):
            metadata.strip(original)


def test_tiff_with_fewer_strips_than_its_rows_need_is_refused():
    original = _tiff_claiming(8, 5_000_000, bytes(32), extra=[(278, 4, 1, struct.pack("<I", 1))])  # RowsPerStrip 1
    with pytest.raises(ImageError, match="strips or tiles"):
        metadata.strip(original)


def test_tiff_whose_strips_cover_the_image_is_served():
    """The refused cases above differ from this one only in the rows they claim."""
    original = _tiff_claiming(8, 1, bytes(range(32)))
    assert b.decoded(metadata.strip(original)).tobytes() == b.decoded(original).tobytes()


@pytest.mark.parametrize(
    "tag",
    [270, 271, 315, 700, 33432],  # ImageDescription, Make, Artist, XMP, Copyright
)
def test_tiff_metadata_tag_whose_value_lies_past_the_end_is_dropped_and_the_page_served(tag):
    original = _tiff_claiming(8, 1, bytes(range(32)), extra=[(tag, 2, 4000, struct.pack("<I", 10_000))])
    stripped = metadata.strip(original)
    assert b.decoded(stripped).tobytes() == b.decoded(original).tobytes()
    assert tag not in dict(b.decoded(stripped).getexif())
    assert "other" in metadata.clean(original).removed


@pytest.mark.parametrize("tag", [273, 279, 258])  # StripOffsets, StripByteCounts, BitsPerSample
def test_tiff_pixel_tag_whose_value_lies_past_the_end_is_refused(tag):
    entries = {273: (273, 4, 2, struct.pack("<I", 10_000)), 279: (279, 4, 2, struct.pack("<I", 10_000)), 258: (258, 3, 4, struct.pack("<I", 10_000))}
    original = _tiff_claiming(8, 1, bytes(range(32)))
    broken = _tiff_with_entry(original, *entries[tag])
    with pytest.raises(ImageError, match="past the end"):
        metadata.strip(broken)


def _tiff_with_entry(data: bytes, tag: int, kind: int, count: int, value: bytes) -> bytes:
    """`data` (little-endian, IFD0 at offset 8) with one entry's type, count and value replaced."""
    entries = struct.unpack_from("<H", data, 8)[0]
    for position in range(10, 10 + 12 * entries, 12):
        if struct.unpack_from("<H", data, position)[0] == tag:
            return data[:position] + struct.pack("<HHI", tag, kind, count) + value + data[position + 12 :]
    raise AssertionError(f"no tag {tag}")


def _tiled_tiff(width: int, height: int, tile: int, tiles: list[bytes]) -> bytes:
    """A little-endian 8-bit greyscale TIFF in `tile` x `tile` tiles."""
    entries = [
        (256, 4, 1, struct.pack("<I", width)),
        (257, 4, 1, struct.pack("<I", height)),
        (258, 3, 1, struct.pack("<H", 8)),
        (259, 3, 1, struct.pack("<H", 1)),
        (262, 3, 1, struct.pack("<H", 1)),
        (277, 3, 1, struct.pack("<H", 1)),
        (322, 4, 1, struct.pack("<I", tile)),
        (323, 4, 1, struct.pack("<I", tile)),
        (324, 4, len(tiles), b"OFFS"),
        (325, 4, len(tiles), b"CNTS"),
    ]
    table_at = 8 + 2 + 12 * len(entries) + 4
    offsets_at, counts_at = table_at, table_at + 4 * len(tiles)
    data_at = counts_at + 4 * len(tiles)
    starts = [data_at + sum(len(piece) for piece in tiles[:index]) for index in range(len(tiles))]
    resolved = [
        (tag, kind, count, struct.pack("<I", offsets_at if value == b"OFFS" else counts_at) if value in (b"OFFS", b"CNTS") and len(tiles) > 1
         else struct.pack("<I", starts[0] if value == b"OFFS" else len(tiles[0])) if value in (b"OFFS", b"CNTS") else value)
        for tag, kind, count, value in entries
    ]
    tables = struct.pack(f"<{len(tiles)}I", *starts) + struct.pack(f"<{len(tiles)}I", *(len(piece) for piece in tiles))
    return b.tiff_header(order="<") + b.ifd_bytes(resolved, order="<") + tables + b"".join(tiles)


def test_tiled_tiff_whose_tiles_cover_the_image_is_served():
    tiles = [bytes([16 * index] * 256) for index in range(4)]  # 2 x 2 tiles of 16 x 16
    original = _tiled_tiff(32, 32, 16, tiles)
    assert b.decoded(metadata.strip(original)).tobytes() == b.decoded(original).tobytes()


def test_tiled_tiff_with_too_few_tiles_is_refused():
    original = _tiled_tiff(32, 5_000_000, 16, [bytes(256)] * 4)  # 4 tiles where 2 x 312,500 are needed
    assert len(original) < 2000
    with bounded_memory():
        with pytest.raises(ImageError, match="strips or tiles"):
            metadata.strip(original)


def test_tiled_tiff_whose_uncompressed_tiles_are_short_is_refused():
    original = _tiled_tiff(32, 32, 16, [bytes(16)] * 4)  # 16 of the 256 bytes each tile needs
    with pytest.raises(ImageError, match="uncompressed pixels"):
        metadata.strip(original)


def _rgb_planes(planes: list[bytes], bits: list[int] = [8, 8, 8], **tags) -> bytes:
    """A 2 x 2 RGB page whose red, green and blue planes are stored apart (PlanarConfiguration 2), one strip each."""
    entries = {
        t.IMAGE_WIDTH: (t.LONG, [2]), t.IMAGE_LENGTH: (t.LONG, [2]), t.BITS_PER_SAMPLE: (t.SHORT, bits),
        t.COMPRESSION: (t.SHORT, [1]), t.PHOTOMETRIC: (t.SHORT, [2]), t.SAMPLES_PER_PIXEL: (t.SHORT, [3]),
        t.ROWS_PER_STRIP: (t.LONG, [2]), t.PLANAR_CONFIGURATION: (t.SHORT, [2]),
    }  # fmt: skip
    return t.tiff_file(t.Page(entries, planes))


def _tiled(tile_width: int | None, tile_length: int | None, tiles: int = 1) -> bytes:
    """A 16 x 16 greyscale page in `tiles` tiles of 256 bytes, with the given TileWidth and TileLength (None: absent)."""
    entries = dict(t.grey(16, 16).tags)
    del entries[t.ROWS_PER_STRIP]
    for tag, value in ((t.TILE_WIDTH, tile_width), (t.TILE_LENGTH, tile_length)):
        if value is not None:
            entries[tag] = (t.SLONG, [value])
    return t.tiff_file(t.Page(entries, [bytes(range(256))] * tiles, tiled=True))


TIFF_STRUCTURE_REFUSALS = {
    "no IFD": (lambda: b"II*\x00" + bytes(4), "TIFF: no IFD (first IFD offset is 0)"),
    "negative width": (
        lambda: t.tiff_file(t.grey(4, 3, tags={t.IMAGE_WIDTH: (t.SLONG, [-4])})),
        "TIFF: page 0 (IFD at offset 8) has no valid width and height",
    ),
    "negative height": (
        lambda: t.tiff_file(t.grey(4, 3, tags={t.IMAGE_LENGTH: (t.SSHORT, [-3])})),
        "TIFF: page 0 (IFD at offset 8) has no valid width and height",
    ),
    "no width": (
        lambda: t.tiff_file(t.grey(4, 3, tags={t.IMAGE_WIDTH: None})),
        "TIFF: page 0 (IFD at offset 8) has no valid width and height",
    ),
    "zero width": (
        lambda: t.tiff_file(t.grey(4, 3, tags={t.IMAGE_WIDTH: (t.LONG, [0])})),
        "TIFF: page 0 (IFD at offset 8) has no valid width and height",
    ),
    "no height": (
        lambda: t.tiff_file(t.grey(4, 3, tags={t.IMAGE_LENGTH: None})),
        "TIFF: page 0 (IFD at offset 8) has no valid width and height",
    ),
    "more byte counts than strips": (
        lambda: t.tiff_file(t.grey(4, 3, tags={t.STRIP_BYTE_COUNTS: (t.LONG, [12, 12])})),
        "TIFF: page 0 (IFD at offset 8) has no consistent strip or tile table",
    ),
    "no strips": (
        lambda: t.tiff_file(t.Page(t.grey(4, 3).tags, [])),
        "TIFF: page 0 (IFD at offset 8) has no consistent strip or tile table",
    ),
    "strip one byte past the end": (
        lambda: t.tiff_file(t.grey(4, 3))[:-1],
        "TIFF: page 0 has a strip or tile at offset 122 running past the end of the data",  # 8 + 2 + 12 * 9 + 4
    ),
    "negative rows per strip": (
        lambda: t.tiff_file(t.grey(4, 3, tags={t.ROWS_PER_STRIP: (t.SLONG, [-1])})),
        "TIFF: page 0 declares -1 rows per strip",
    ),
    "no tile width": (lambda: _tiled(None, 16), "TIFF: page 0 is tiled without a valid tile size"),
    "no tile length": (lambda: _tiled(16, None), "TIFF: page 0 is tiled without a valid tile size"),
    "zero tile width": (lambda: _tiled(0, 16), "TIFF: page 0 is tiled without a valid tile size"),
    "zero tile length": (lambda: _tiled(16, 0), "TIFF: page 0 is tiled without a valid tile size"),
    "negative tile width": (lambda: _tiled(-16, 16), "TIFF: page 0 is tiled without a valid tile size"),
    "negative tile length": (lambda: _tiled(16, -16), "TIFF: page 0 is tiled without a valid tile size"),
    "planes in one strip": (
        lambda: _rgb_planes([bytes(12)]),
        "TIFF: page 0 lists 1 strips or tiles where its 2x2 pixels need 3",
    ),
    "8-bit grey one byte short": (
        lambda: t.tiff_file(t.grey(4, 3, bytes(11))),
        "TIFF: page 0 has 11 bytes of uncompressed pixels where 4x3 need 12",
    ),
    "RGB one byte short": (
        lambda: t.tiff_file(t.Page({**t.grey(2, 2).tags, t.BITS_PER_SAMPLE: (t.SHORT, [8, 8, 8]), t.PHOTOMETRIC: (t.SHORT, [2]), t.SAMPLES_PER_PIXEL: (t.SHORT, [3])}, [bytes(11)])),
        "TIFF: page 0 has 11 bytes of uncompressed pixels where 2x2 need 12",
    ),
    "bilevel without BitsPerSample one byte short": (
        lambda: t.tiff_file(t.grey(9, 2, bytes(3), tags={t.BITS_PER_SAMPLE: None})),
        "TIFF: page 0 has 3 bytes of uncompressed pixels where 9x2 need 4",
    ),
    "planes one byte short": (
        lambda: _rgb_planes([bytes(4), bytes(4), bytes(3)]),
        "TIFF: page 0 has 11 bytes of uncompressed pixels where 2x2 need 12",
    ),
    "planes with one BitsPerSample one byte short": (
        lambda: _rgb_planes([bytes(4), bytes(4), bytes(3)], bits=[8]),
        "TIFF: page 0 has 11 bytes of uncompressed pixels where 2x2 need 12",
    ),
    "planes of 16 and 8 bits one byte short": (
        lambda: _rgb_planes([bytes(8), bytes(4), bytes(3)], bits=[16, 8]),
        "TIFF: page 0 has 15 bytes of uncompressed pixels where 2x2 need 16",
    ),
    "tiles one byte short": (
        lambda: t.tiff_file(t.Page({**_tiled_tags(), t.TILE_BYTE_COUNTS: (t.LONG, [255])}, [bytes(256)], tiled=True)),
        "TIFF: page 0 has 255 bytes of uncompressed pixels where 16x16 need 256",
    ),
}


def _tiled_tags() -> dict:
    return t.Page(dict(t.grey(16, 16).tags), []).tags | {t.TILE_WIDTH: (t.LONG, [16]), t.TILE_LENGTH: (t.LONG, [16])}


@pytest.mark.parametrize("case", sorted(TIFF_STRUCTURE_REFUSALS))
def test_tiff_whose_pages_cannot_be_delimited_is_refused_for_that_reason(case):
    build, reason = TIFF_STRUCTURE_REFUSALS[case]
    with pytest.raises(ImageError, match=f"^{re.escape(reason)}$"):
        metadata.strip(build())


TIFF_EXACT_FITS = {
    # Each one byte more than its one-byte-short case above, or a shape the checks must read as the spec says.
    "8-bit grey": (lambda: t.tiff_file(t.grey(4, 3)), "L", bytes(range(12))),
    "one pixel": (lambda: t.tiff_file(t.grey(1, 1, b"\x2a")), "L", b"\x2a"),
    "strip ending at the last byte": (lambda: t.tiff_file(t.grey(4, 3)), "L", bytes(range(12))),
    "bilevel without BitsPerSample (1 bit)": (
        lambda: t.tiff_file(t.grey(9, 2, bytes([0xFF, 0x80, 0x00, 0x00]), tags={t.BITS_PER_SAMPLE: None, t.PHOTOMETRIC: (t.SHORT, [1])})),
        "1",
        bytes([0xFF, 0x80, 0x00, 0x00]),
    ),
    "planes": (lambda: _rgb_planes([bytes([1, 2, 3, 4]), bytes([5, 6, 7, 8]), bytes([9, 10, 11, 12])]), "RGB", bytes([1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12])),
    "planes with one BitsPerSample": (
        lambda: _rgb_planes([bytes([1, 2, 3, 4]), bytes([5, 6, 7, 8]), bytes([9, 10, 11, 12])], bits=[8]),
        "RGB",
        bytes([1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12]),
    ),
    "planar without SamplesPerPixel (one plane)": (
        lambda: t.tiff_file(t.grey(4, 3, tags={t.SAMPLES_PER_PIXEL: None, t.PLANAR_CONFIGURATION: (t.SHORT, [2])})),
        "L",
        bytes(range(12)),
    ),
    "tiles of one pixel": (
        lambda: t.tiff_file(t.Page({**_tiled_tags(), t.IMAGE_WIDTH: (t.LONG, [2]), t.IMAGE_LENGTH: (t.LONG, [1]), t.TILE_WIDTH: (t.LONG, [1]), t.TILE_LENGTH: (t.LONG, [1])}, [b"\x07", b"\x09"], tiled=True)),
        "L",
        b"\x07\x09",
    ),
}


@pytest.mark.parametrize("case", sorted(TIFF_EXACT_FITS))
def test_tiff_whose_pixels_exactly_fill_its_strips_or_tiles_is_served(case):
    build, mode, pixels = TIFF_EXACT_FITS[case]
    original = build()
    assert (b.decoded(original).mode, b.decoded(original).tobytes()) == (mode, pixels), "Pillow reads the shape as built"
    stripped = b.decoded(metadata.strip(original))
    assert (stripped.mode, stripped.tobytes()) == (mode, pixels)


def test_tiff_resave_larger_than_the_cap_is_refused(monkeypatch):
    monkeypatch.setattr(tiff_format, "MAX_TIFF_GROWTH", 0)
    monkeypatch.setattr(tiff_format, "TIFF_GROWTH_ALLOWANCE", 100)
    with pytest.raises(ImageError, match="re-saved image would be"):
        metadata.strip(b.tiff(1, icc=False))


def test_unrecognised_input_is_not_echoed_in_the_error():
    data = b"AWS_SECRET_ACCESS_KEY=" + b.SECRET
    with pytest.raises(ImageError) as refused:
        metadata.detect_format(data)
    assert data[:8].hex() not in str(refused.value) and "AWS" not in str(refused.value)
    assert str(refused.value) == "unrecognised data: not a JPEG, PNG, WebP, TIFF, GIF, HEIF/HEIC/AVIF or JPEG XL image"
