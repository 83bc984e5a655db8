"""JPEG XL: containers built around real codestreams (pillow-jxl-plugin), with metadata
boxes between and after the codestream boxes; bare codestreams pass through."""

from __future__ import annotations

import struct

import image_builders as b
import isobmff_builders as ib
import metadata
import pytest
from hypothesis import given
from hypothesis import strategies as st
from isobmff_builders import box
from metadata import ImageError
from metadata_checks import assert_refused
from property_settings import examples

EXIF = b.exif_block(6)
GPS_BYTES = struct.pack(">IIIIII", 52, 1, 31, 1, 1234, 100)
XML = box(b"xml ", b.XMP_PACKET)
JUMB = box(b"jumb", box(b"jumd", b"c2pa " + b.SECRET))
BROB_EXIF = box(b"brob", b"Exif", b"brotli bytes " + b.SECRET)
JBRD = box(b"jbrd", b"jpeg reconstruction " + b.SECRET)
GAIN_MAP = box(b"jhgm", b"gain map " + b.SECRET)
KEPT_TYPES = (b"JXL ", b"ftyp", b"jxll", b"jxlc", b"jxlp")


def _codestream_boxes(data: bytes) -> list[bytes]:
    return [data[s:e] for kind, s, _, e in ib.boxes(data) if kind in KEPT_TYPES]


def assert_clean(data: bytes) -> None:
    assert b.SECRET not in data
    assert GPS_BYTES not in data
    assert b"<x:xmpmeta" not in data
    assert set(ib.top_level_types(data)) <= set(KEPT_TYPES)


@pytest.mark.parametrize("parts", [1, 3])
def test_container_loses_every_metadata_box(parts):
    everything = [(0, ib.jxl_exif_box(EXIF)), (0, box(b"jxll", b"\x05")), (1, XML), (1, JUMB), (parts, BROB_EXIF), (parts, JBRD), (parts, GAIN_MAP)]
    original = ib.jxl_container(*everything, parts=parts)
    result = metadata.clean(original)
    assert (result.format, result.mime_type) == ("jxl", "image/jxl")
    assert set(result.removed) >= {"exif", "gps", "xmp", "other"}
    assert_clean(result.data)
    assert _codestream_boxes(result.data) == _codestream_boxes(original)  # byte for byte, in order
    assert ib.decoded_rgba(result.data) == ib.decoded_rgba(original)
    assert metadata.strip(result.data) == result.data
    assert metadata.clean(result.data).removed == ()


def test_pillow_jxl_plugin_encode_is_stripped():
    original = ib.encode_jxl(b.pattern(size=(40, 24)), exif=EXIF, xmp=b.XMP_PACKET, use_container=True)
    assert b.SECRET in original
    stripped = metadata.strip(original)
    assert_clean(stripped)
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)


def test_bare_codestream_passes_through():
    codestream = ib.encode_jxl(b.pattern(size=(40, 24)), use_container=False)
    assert metadata.clean(codestream) == (codestream, "jxl", "image/jxl", ())
    assert metadata.read_exif(codestream) == {}


def test_read_exif_reads_the_exif_box_and_not_a_compressed_one():
    assert metadata.read_exif(ib.jxl_container((0, ib.jxl_exif_box(EXIF))), view="full")["GPS"]["GPSLatitudeRef"] == "S"
    assert metadata.read_exif(ib.jxl_container((0, BROB_EXIF))) == {}


def test_keep_copyright_keeps_a_minimal_exif_box():
    original = ib.jxl_container((0, ib.jxl_exif_box(EXIF)), (1, XML))
    stripped = metadata.strip(original, keep_copyright=True)
    assert b.OWNER_COPYRIGHT in stripped and b.OWNER_ARTIST in stripped
    assert b.SECRET not in stripped and GPS_BYTES not in stripped
    exif = metadata.read_exif(stripped, view="full")
    assert exif == {"Image": {"Copyright": b.OWNER_COPYRIGHT.decode(), "Artist": b.OWNER_ARTIST.decode()}}
    assert metadata.strip(stripped, keep_copyright=True) == stripped
    assert metadata.clean(stripped, keep_copyright=True).removed == ()
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(original)


def _parts_swapped() -> bytes:
    data = ib.jxl_container(parts=3)
    parts = [data[s:e] for kind, s, _, e in ib.boxes(data) if kind == b"jxlp"]
    return data.replace(parts[0] + parts[1], parts[1] + parts[0])


HOSTILE = {
    "truncated": lambda: ib.jxl_container()[:-10],
    "no-codestream": lambda: ib.JXL_SIGNATURE + box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ") + XML,
    "last-part-missing": lambda: ib.jxl_container(parts=3).rsplit(b"jxlp", 1)[0][:-4],
    "parts-out-of-order": _parts_swapped,
    "jxlc-and-jxlp": lambda: ib.jxl_container(parts=2) + box(b"jxlc", b"\xff\x0a"),
    "no-ftyp": lambda: ib.JXL_SIGNATURE + ib.jxl_container()[32:],
    "box-size-huge": lambda: ib.jxl_container()[:32] + b"\xff\xff\xff\xf0" + ib.jxl_container()[36:],
    "box-size-1-short": lambda: ib.jxl_container()[:32] + b"\x00\x00\x00\x01" + ib.jxl_container()[36:],
    "codestream-without-signature": lambda: ib.JXL_SIGNATURE + box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ") + box(b"jxlc", b"\x00" * 20),
    "bare-huge-size": lambda: b"\xff\x0a" + bytes((0b11111110, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)),
    "bare-truncated": lambda: b"\xff\x0a\x00",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused(case):
    assert_refused(HOSTILE[case](), reason="JPEG XL")


@examples(150)
@given(st.data())
def test_mutated_files_strip_or_raise_image_error(draw):
    seed = ib.jxl_container((0, ib.jxl_exif_box(EXIF)), (1, XML), (2, JUMB), parts=2)
    data = bytearray(seed)
    for _ in range(draw.draw(st.integers(1, 4))):
        position = draw.draw(st.integers(0, len(data) - 1))
        data[position] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.one_of(st.none(), st.integers(0, len(data))))
    mutated = bytes(data if cut is None else data[:cut])
    try:
        stripped = metadata.strip(mutated)
    except ImageError:
        return
    # Whatever a mutated box header let through, no planted metadata (XMP, the Exif block, the
    # JUMBF secret) is in the output.
    assert b"<x:xmpmeta" not in stripped
    assert b.SECRET not in stripped
    assert EXIF[6:] not in stripped and b"Exif\x00\x00" not in stripped
    assert metadata.strip(stripped) == stripped
