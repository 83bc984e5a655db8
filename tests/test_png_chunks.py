"""PNG chunks kept, dropped or renamed by where they stand and what they hold: iCCP (one valid
profile before the image data, kept under a neutral name), and the chunks the end of the file
cuts off after the image data (dropped, their kind named by their type or their keyword).
Inputs are built here from the builders' PNG without metadata (signature, IHDR, IDAT, IEND)."""

from __future__ import annotations

import struct
import zlib

import pytest

import image_builders as b
import metadata

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
