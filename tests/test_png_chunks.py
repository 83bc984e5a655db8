"""PNG chunks kept, dropped or renamed by where they stand and what they hold: iCCP (one valid
profile before the image data, kept under a neutral name), and the chunks the end of the file
cuts off after the image data (dropped, their kind named by their type or their keyword).
Inputs are built here from the builders' PNG without metadata (signature, IHDR, IDAT, IEND)."""

from __future__ import annotations

import re
import struct
import zlib

import piexif
import pytest

import image_builders as b
import metadata
from metadata import ImageError
from metadata_checks import assert_refused
from metadata.formats import png

PLAIN = b.png(exif=False, text=False, icc=False)
IHDR_END = len(b.PNG_SIGNATURE) + 25
COMPRESSED = zlib.compress(b.icc_profile())
NEUTRAL = b"ICC profile\x00\x00" + COMPRESSED  # keyword, NUL, method 0 (zlib), the profile


def _after_ihdr(*chunks: bytes) -> bytes:
    return PLAIN[:IHDR_END] + b"".join(chunks) + PLAIN[IHDR_END:]


def _iccp(data: bytes) -> bytes:
    return b.png_chunk(b"iCCP", data)


# (the input, whether it keeps its profile (as NEUTRAL, right after IHDR), what is reported removed)
ICCP_CASES = {
    "valid": (_after_ihdr(_iccp(NEUTRAL)), True, ()),
    "a keyword of 1 byte": (_after_ihdr(_iccp(b"P\x00\x00" + COMPRESSED)), True, ("other",)),
    "a keyword of 79 bytes": (_after_ihdr(_iccp(b"P" * 79 + b"\x00\x00" + COMPRESSED)), True, ("other",)),
    "an empty keyword": (_after_ihdr(_iccp(b"\x00\x00" + COMPRESSED)), False, ("other",)),
    "a keyword of 80 bytes": (_after_ihdr(_iccp(b"P" * 80 + b"\x00\x00" + COMPRESSED)), False, ("other",)),
    "no compression method": (_after_ihdr(_iccp(b"ICC profile\x00")), False, ("other",)),
    "compression method 1": (_after_ihdr(_iccp(b"ICC profile\x00\x01" + COMPRESSED)), False, ("other",)),
    "a second one": (_after_ihdr(_iccp(NEUTRAL), _iccp(b"Second\x00\x00" + COMPRESSED)), True, ("other",)),
    "after the image data": (b.png_insert_before_iend(PLAIN, _iccp(NEUTRAL)), False, ("other",)),
}


@pytest.mark.parametrize("case", sorted(ICCP_CASES))
def test_png_keeps_one_valid_iccp_before_the_image_data_and_drops_any_other(case):
    original, kept, removed = ICCP_CASES[case]
    result = metadata.clean(original)
    assert (result.data, result.removed) == (_after_ihdr(_iccp(NEUTRAL)) if kept else PLAIN, removed)


# A chunk after the image data that the end of the file cuts (its last 6 bytes of data and
# its CRC missing), and the kind of metadata it is reported as.
CUT_CHUNKS = {
    "tEXt naming XMP": (b.png_chunk(b"tEXt", b"XML:com.adobe.xmp\x00" + b.XMP_PACKET), "xmp"),
    "zTXt naming EXIF": (b.png_chunk(b"zTXt", b"Raw profile type exif\x00\x00" + zlib.compress(b"exif " + b.SECRET)), "exif"),
    "iTXt naming XMP": (b.png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + b.XMP_PACKET), "xmp"),
    "a short tEXt naming XMP": (b.png_chunk(b"tEXt", b"XML:com.adobe.xmp\x00" + b"x" * 7), "xmp"),  # only 3 bytes of text left
    "tEXt with another keyword": (b.png_chunk(b"tEXt", b"Comment\x00" + b.SECRET), "comment"),
    "eXIf": (b.png_chunk(b"eXIf", b.tiff_structure(b.exif_block(6))), "exif"),
    "tIME": (b.png_chunk(b"tIME", struct.pack(">HBBBBB", 2024, 1, 2, 3, 4, 5)), "comment"),
    "a private chunk": (b.png_chunk(b"prVt", b.SECRET), "other"),
}


@pytest.mark.parametrize("case", sorted(CUT_CHUNKS))
def test_png_chunk_cut_off_after_the_image_data_is_dropped_and_reported_by_its_type_or_keyword(case):
    chunk, kind = CUT_CHUNKS[case]
    result = metadata.clean(PLAIN[:-12] + chunk[:-10])
    assert (result.data, result.removed) == (PLAIN[:-12], (kind,))


# An eXIf that already is the minimal block (only Orientation 6): kept as it is before the image
# data (nothing to report), dropped and reported after it (browsers ignore it there, and its
# replacement must not start rotating the image).
MINIMAL_EXIF = b.png_chunk(b"eXIf", piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6}})[len(b"Exif\x00\x00") :])


@pytest.mark.parametrize("before_image_data", [True, False])
def test_png_exif_already_minimal_is_kept_before_the_image_data_and_reported_removed_after_it(before_image_data):
    if before_image_data:
        original = _after_ihdr(MINIMAL_EXIF)
        expected = (original, ())
    else:
        original = b.png_insert_before_iend(PLAIN, MINIMAL_EXIF)
        expected = (PLAIN, ("exif",))
    result = metadata.clean(original)
    assert (result.data, result.removed) == expected


# --- bounds while streaming (MAX_STREAM_HEAD_BYTES made 4096 bytes) ---------------------------


def _walked(data: bytes, pieces: list[int]) -> bytes:
    """`data` fed to a PNG walk in pieces of the given lengths, then the rest, with ranged reads."""
    walk = png.open_walk(len(data), lambda start, end: data[start:end], False)
    out, at = [], 0
    for length in [*pieces, len(data)]:
        out.append(walk.feed(data[at : at + length]))
        at += length
    return b"".join(out) + walk.finish()


@pytest.mark.parametrize("extra", [0, 1])
def test_png_head_may_hold_max_stream_head_bytes_and_one_byte_more_is_refused(monkeypatch, extra):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    data = _after_ihdr(b.png_chunk(b"pHYs", bytes(2100)), b.png_chunk(b"pHYs", bytes(2100)))  # kept: held in the head
    assert data.index(b"IDAT") - 4 > 4097  # the first piece ends before the image data
    if extra:
        with pytest.raises(ImageError, match=r"^PNG: no image data begins in the first 4096 bytes \(the most a head may hold\)$"):
            _walked(data, [4097])
    else:
        assert _walked(data, [4096]) == data


@pytest.mark.parametrize("extra", [0, 1])
def test_png_idat_after_the_image_stream_may_hold_max_stream_head_bytes_and_one_byte_more_is_refused(monkeypatch, extra):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    monkeypatch.setattr(png, "MAX_HELD_IDAT", 0)  # every IDAT inflated as it passes
    image_data = dict(b.png_chunks(PLAIN))[b"IDAT"]  # the one IDAT
    first = PLAIN[:IHDR_END] + b.png_chunk(b"IDAT", image_data)  # the whole deflate stream, vouched for by its CRC
    data = first + b.png_chunk(b"IDAT", bytes(4096 + extra)) + PLAIN[-12:]  # all of it after the stream: held
    pieces = [512] * (len(data) // 512)
    if extra:
        reason = f"^PNG: the IDAT chunk at offset {len(first)} holds more than 4096 bytes after the end of its image data$"
        with pytest.raises(ImageError, match=reason):
            _walked(data, pieces)
    else:
        assert _walked(data, pieces) == data


# Chunk types are four ASCII letters (A-Z, a-z): the bytes just outside each range are refused.
@pytest.mark.parametrize("last", [b"A", b"Z", b"a", b"z", b"@", b"[", b"`", b"{"])
def test_png_chunk_type_of_letters_only_is_walked_and_any_other_byte_refused(last):
    name = b"prV" + last  # ancillary (lower-case first letter): dropped when it is a valid type
    original = _after_ihdr(b.png_chunk(name, b.SECRET))
    if last.isalpha():
        result = metadata.clean(original)
        assert (result.data, result.removed) == (PLAIN, ("other",))
    else:
        assert_refused(original, reason=re.escape(f"PNG: chunk at offset {IHDR_END} has an invalid type {name!r}") + "$")


def test_png_cut_off_after_a_whole_chunk_header_is_judged_by_that_header():
    iend_header = metadata.clean(PLAIN[:-4])  # IEND's 8-byte header, its CRC cut off: nothing more to drop
    assert (iend_header.data, iend_header.removed) == (PLAIN[:-12], ())
    idat_header = metadata.clean(PLAIN[:-12] + b.png_chunk(b"IDAT", b"\x00" * 8)[:8])  # a second IDAT, none of its data
    assert (idat_header.data, idat_header.removed) == (PLAIN[:-12], ("other",))
    invalid = PLAIN[:-12] + b"\x00\x00\x00\x00t3Xt"  # an invalid type, even as the last 8 bytes
    assert_refused(invalid, reason=re.escape(f"PNG: chunk at offset {len(PLAIN) - 12} has an invalid type b't3Xt'") + "$")


@pytest.mark.parametrize("extra", [0, 1])
def test_png_text_chunk_of_max_stream_head_bytes_is_held_and_read_and_one_byte_longer_walked_over(monkeypatch, extra):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    block = piexif.dump({"0th": {piexif.ImageIFD.Model: b"X100V"}})
    digits = block.hex().encode()
    text = b"\nexif\n%8d\n" % len(block) + digits + b"\n"  # ImageMagick's raw profile
    body = b"Raw profile type exif\x00" + text
    body += b" " * (4096 + extra - 12 - len(body))  # padded with whitespace, which the profile ignores
    data = b.png_insert_before_iend(PLAIN, b.png_chunk(b"tEXt", body))
    found = png.find_exif(data)
    assert (bytes(found) if found is not None else None) == (None if extra else block)
    result = metadata.clean(data)
    assert (result.data, result.removed) == (PLAIN, ("exif",))


def test_png_image_data_is_inflated_only_when_an_idat_is_damaged(monkeypatch):
    created = []

    class RecordedCheck(png.ImageDataCheck):
        def __init__(self, *args):
            super().__init__(*args)
            created.append(self)

    monkeypatch.setattr(png, "ImageDataCheck", RecordedCheck)
    assert metadata.strip(PLAIN) == PLAIN
    assert created == [], "an undamaged PNG is not inflated: its IDATs are vouched for by their CRCs"
    damaged = PLAIN[:-16] + bytes(byte ^ 0xFF for byte in PLAIN[-16:-12]) + PLAIN[-12:]  # the IDAT's CRC fails
    assert metadata.strip(damaged) == damaged
    assert len(created) == 1 and created[0].kept_until() is not None  # inflated to the end of its stream


def test_png_unknown_critical_chunk_too_long_to_hold_is_refused_not_walked_over(monkeypatch):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    data = b.png_insert_before_iend(PLAIN, b.png_chunk(b"CgBI", bytes(4096)))
    reason = f"^PNG: CgBI chunk at offset {len(PLAIN) - 12} is longer than the 4096 bytes a chunk held whole may be$"
    with pytest.raises(ImageError, match=reason):
        metadata.clean(data)


def test_png_walk_of_another_format_is_refused_at_its_signature():
    walk = png.open_walk(16, None, False)
    with pytest.raises(ImageError, match=r"^PNG: no PNG signature at offset 0$"):
        walk.feed(b"GIF89a" + bytes(10))
