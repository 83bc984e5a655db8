"""PNG files browsers show although they are damaged: cut off (no IEND) or with an IDAT
failing its CRC. They are served with their metadata removed and their image bytes as
they are; what cannot be delimited (no IHDR, no IDAT, an IDAT whose length swallows the
chunks after it) is still refused. Inputs are cut or damaged here from png_shapes.SOURCE, a Pillow-encoded PNG
whose image data is split over four IDAT chunks, with metadata chunks before and after it.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zlib

import pytest
from PIL import Image, ImageFile

import image_builders as b
import metadata
from metadata_checks import assert_refused
from png_shapes import IDAT_PARTS, IHDR_END, SOURCE, chunk_spans, idat_span, swallowing_idat, with_idat_crc


def _image_bytes(data: bytes) -> bytes:
    """From the first IDAT's start up to the last IDAT's end (or the end of the file)."""
    spans = [(start, end) for name, start, end in chunk_spans(data) if name == b"IDAT"]
    return data[spans[0][0] : min(spans[-1][1], len(data))]


@contextlib.contextmanager
def _truncated_images_allowed():
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def _pixels(data: bytes) -> bytes:
    with _truncated_images_allowed():
        image = Image.open(io.BytesIO(data))
        image.load()
        return image.tobytes()


def _assert_served(damaged: bytes) -> bytes:
    result = metadata.clean(damaged)
    out = result.data
    assert result.format == "png"
    assert b.SECRET not in out and b"<x:xmpmeta" not in out
    kept = {name for name, _, _ in chunk_spans(out)}
    assert kept <= {b"IHDR", b"IDAT", b"IEND", b"eXIf"}, kept
    assert _image_bytes(out) == _image_bytes(damaged)  # the image bytes as they are, damage included
    # Decoded as the input's IHDR and image bytes alone decode (Pillow stops at a cut-off text chunk).
    assert _pixels(out) == _pixels(damaged[:IHDR_END] + _image_bytes(damaged))
    assert metadata.strip(out) == out
    return out


CUTS = {
    "inside the first IDAT": lambda: idat_span(0)[0] + 100,
    "inside the third IDAT": lambda: idat_span(2)[0] + 300,
    "between two IDATs": lambda: idat_span(2)[0],
    "inside an IDAT's header": lambda: idat_span(2)[0] + 6,
    "inside the last IDAT's CRC": lambda: idat_span(IDAT_PARTS - 1)[1] - 2,
    "after the last IDAT": lambda: idat_span(IDAT_PARTS - 1)[1],
    "inside a tEXt after the image data": lambda: idat_span(IDAT_PARTS - 1)[1] + 20,
    "inside an iTXt after the image data": lambda: len(SOURCE) - 12 - 30,
    "inside IEND": lambda: len(SOURCE) - 3,
}


@pytest.mark.parametrize("case", sorted(CUTS))
def test_cut_off_png_is_served_without_its_metadata(case):
    cut = CUTS[case]()
    damaged = SOURCE[:cut]
    out = _assert_served(damaged)
    assert not out.endswith(b.png_chunk(b"IEND", b""))  # nothing is added


def test_cut_off_png_reports_what_it_removed():
    removed = metadata.clean(SOURCE[: idat_span(IDAT_PARTS - 1)[1] + 20]).removed
    assert {"exif", "comment", "xmp", "other"} <= set(removed)


def test_cut_inside_the_image_data_keeps_exactly_the_bytes_up_to_the_end():
    cut = idat_span(1)[0] + 500
    out = metadata.strip(SOURCE[:cut])
    assert out.endswith(SOURCE[idat_span(0)[0] : cut])
    assert out[:IHDR_END] == SOURCE[:IHDR_END]  # signature and IHDR


def test_idat_failing_its_crc_is_served_as_it_is():
    damaged = with_idat_crc(SOURCE, 1, 0x12345678)
    out = _assert_served(damaged)
    assert out.endswith(b.png_chunk(b"IEND", b""))
    assert _pixels(out) == _pixels(SOURCE)  # only the CRC field was wrong


def test_idat_with_damaged_data_is_served_as_it_is():
    start, end = idat_span(2)
    damaged = bytearray(SOURCE)
    damaged[start + 8 + 50] ^= 0xFF  # a damaged deflate byte: the CRC no longer matches
    _assert_served(bytes(damaged))


def test_cut_off_idat_failing_its_crc_before_it_is_served():
    damaged = with_idat_crc(SOURCE, 0, 0)[: idat_span(2)[0] + 40]
    _assert_served(damaged)


def test_damaged_idat_whose_length_swallows_the_chunks_after_it_is_refused():
    assert_refused(swallowing_idat(cut=True), reason="past the end of its image data")
    assert_refused(swallowing_idat(cut=False), reason="past the end of its image data")


def test_idat_cut_off_after_a_complete_image_stream_with_more_bytes_is_refused():
    start, end = idat_span(IDAT_PARTS - 1)
    body = SOURCE[start + 8 : end - 4] + b"tEXtComment\x00" + b.SECRET
    damaged = SOURCE[:start] + struct.pack(">I", len(body) + 1000) + b"IDAT" + body
    assert_refused(damaged, reason="past the end of its image data")


def test_damaged_image_data_that_inflates_past_its_size_is_refused():
    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)
    image_data = zlib.compress(bytes(5 * 4) + bytes(5000), 0)  # 20 bytes of rows, then 5000 more
    damaged = b.PNG_SIGNATURE + b.png_chunk(b"IHDR", ihdr) + b.png_chunk(b"IDAT", image_data)[:-20]
    assert_refused(damaged, reason="more than the 20 bytes IHDR declares")


REFUSED_CUTS = {
    "inside the signature": (lambda: 5, "unrecognised"),
    "inside IHDR": (lambda: 20, "before a complete IHDR"),
    "before the image data": (lambda: idat_span(0)[0], "before any IDAT"),
    "inside the eXIf before the image data": (lambda: idat_span(0)[0] - 40, "before any IDAT"),
    "inside the first IDAT's header": (lambda: idat_span(0)[0] + 8, "before any IDAT"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_CUTS))
def test_cut_off_png_without_image_data_is_refused(case):
    cut, reason = REFUSED_CUTS[case]
    assert_refused(SOURCE[: cut()], reason=reason)


def test_other_chunk_failing_its_crc_is_still_refused():
    start, end = [(s, e) for name, s, e in chunk_spans(SOURCE) if name == b"tEXt"][-1]
    damaged = SOURCE[: end - 1] + bytes([SOURCE[end - 1] ^ 1]) + SOURCE[end:]
    assert_refused(damaged, reason="tEXt chunk at offset .* fails its CRC")
