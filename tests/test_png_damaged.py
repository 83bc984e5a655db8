"""PNG files browsers show although they are damaged: cut off (no IEND) or with an IDAT
failing its CRC. They are served with their metadata removed and their image bytes as
they are; what cannot be delimited (no IHDR, no IDAT, an IDAT whose length swallows the
chunks after it) is still refused. Inputs are built inline from a Pillow-encoded PNG whose
image data is split over four IDAT chunks, with metadata chunks before and after it.
"""

from __future__ import annotations

import contextlib
import io
import random
import struct
import zlib

import pytest
from PIL import Image, ImageFile

import image_builders as b
import metadata
from metadata_checks import assert_refused

TEXT_AFTER = b.png_chunk(b"tEXt", b"Comment\x00after " + b.SECRET)
ITXT_AFTER = b.png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + b.XMP_PACKET)
IDAT_PARTS = 4
IHDR_END = len(b.PNG_SIGNATURE) + 25


def _noise(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A picture that does not compress much, so its image data spans several kilobytes."""
    rng = random.Random(7)
    return Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(size[0] * size[1] * 3)))


def _split_image_data(data: bytes, parts: int) -> bytes:
    """The same PNG with its (single) IDAT's data spread over `parts` IDAT chunks."""
    chunks = b.png_chunks(data)
    image_data = b"".join(body for name, body in chunks if name == b"IDAT")
    step = -(-len(image_data) // parts)
    out = [b.PNG_SIGNATURE]
    for name, body in chunks:
        if name == b"IDAT":
            out += [b.png_chunk(b"IDAT", image_data[i : i + step]) for i in range(0, len(image_data), step)]
        else:
            out.append(b.png_chunk(name, body))
    return b"".join(out)


def _damaged_source() -> bytes:
    """eXIf, text, XMP, tIME and a private chunk before the image data, text and XMP after it."""
    original = b.png(6, icc=False, text=True)
    image = io.BytesIO()
    _noise().save(image, "PNG")
    picture = [(name, body) for name, body in b.png_chunks(image.getvalue()) if name in (b"IHDR", b"IDAT")]
    chunks = [(name, body) for name, body in b.png_chunks(original) if name not in (b"IHDR", b"IDAT", b"IEND")]
    whole = b"".join([b.PNG_SIGNATURE, *(b.png_chunk(n, d) for n, d in picture[:1] + chunks + picture[1:])])
    whole += TEXT_AFTER + ITXT_AFTER + b.png_chunk(b"IEND", b"")
    return _split_image_data(whole, IDAT_PARTS)


SOURCE = _damaged_source()


def _offsets(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of each complete chunk, walked on the test side."""
    found, pos = [], len(b.PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        found.append((data[pos + 4 : pos + 8], pos, pos + 12 + length))
        pos += 12 + length
    return found


def _idat(index: int) -> tuple[int, int]:
    starts = [(start, end) for name, start, end in _offsets(SOURCE) if name == b"IDAT"]
    return starts[index]


def _image_bytes(data: bytes) -> bytes:
    """From the first IDAT's start up to the last IDAT's end (or the end of the file)."""
    spans = [(start, end) for name, start, end in _offsets(data) if name == b"IDAT"]
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
    kept = {name for name, _, _ in _offsets(out)}
    assert kept <= {b"IHDR", b"IDAT", b"IEND", b"eXIf"}, kept
    assert _image_bytes(out) == _image_bytes(damaged)  # the image bytes as they are, damage included
    # Decoded as the input's IHDR and image bytes alone decode (Pillow stops at a cut-off text chunk).
    assert _pixels(out) == _pixels(damaged[:IHDR_END] + _image_bytes(damaged))
    assert metadata.strip(out) == out
    return out


CUTS = {
    "inside the first IDAT": lambda: _idat(0)[0] + 100,
    "inside the third IDAT": lambda: _idat(2)[0] + 300,
    "between two IDATs": lambda: _idat(2)[0],
    "inside an IDAT's header": lambda: _idat(2)[0] + 6,
    "inside the last IDAT's CRC": lambda: _idat(IDAT_PARTS - 1)[1] - 2,
    "after the last IDAT": lambda: _idat(IDAT_PARTS - 1)[1],
    "inside a tEXt after the image data": lambda: _idat(IDAT_PARTS - 1)[1] + 20,
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
    removed = metadata.clean(SOURCE[: _idat(IDAT_PARTS - 1)[1] + 20]).removed
    assert {"exif", "comment", "xmp", "other"} <= set(removed)


def test_cut_inside_the_image_data_keeps_exactly_the_bytes_up_to_the_end():
    cut = _idat(1)[0] + 500
    out = metadata.strip(SOURCE[:cut])
    assert out.endswith(SOURCE[_idat(0)[0] : cut])
    assert out[:IHDR_END] == SOURCE[:IHDR_END]  # signature and IHDR


def _with_crc(data: bytes, index: int, crc: int) -> bytes:
    start, end = _idat(index)
    return data[: end - 4] + struct.pack(">I", crc) + data[end:]


def test_idat_failing_its_crc_is_served_as_it_is():
    damaged = _with_crc(SOURCE, 1, 0x12345678)
    out = _assert_served(damaged)
    assert out.endswith(b.png_chunk(b"IEND", b""))
    assert _pixels(out) == _pixels(SOURCE)  # only the CRC field was wrong


def test_idat_with_damaged_data_is_served_as_it_is():
    start, end = _idat(2)
    damaged = bytearray(SOURCE)
    damaged[start + 8 + 50] ^= 0xFF  # a damaged deflate byte: the CRC no longer matches
    _assert_served(bytes(damaged))


def test_cut_off_idat_failing_its_crc_before_it_is_served():
    damaged = _with_crc(SOURCE, 0, 0)[: _idat(2)[0] + 40]
    _assert_served(damaged)


def _swallowing_idat(*, cut: bool) -> bytes:
    """The last IDAT's length made to cover the text chunks after it: followed by a CRC
    and IEND, or running past the end of the file (`cut`)."""
    start, end = _idat(IDAT_PARTS - 1)
    tail_end = len(SOURCE) - 12  # before IEND
    if cut:
        return SOURCE[:start] + struct.pack(">I", len(SOURCE) - start) + SOURCE[start + 4 :]
    length = tail_end - start - 8
    return SOURCE[:start] + struct.pack(">I", length) + SOURCE[start + 4 : tail_end] + b"\x00" * 4 + SOURCE[tail_end:]


def test_damaged_idat_whose_length_swallows_the_chunks_after_it_is_refused():
    assert_refused(_swallowing_idat(cut=True), reason="past the end of its image data")
    assert_refused(_swallowing_idat(cut=False), reason="past the end of its image data")


def test_idat_cut_off_after_a_complete_image_stream_with_more_bytes_is_refused():
    start, end = _idat(IDAT_PARTS - 1)
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
    "before the image data": (lambda: _idat(0)[0], "before any IDAT"),
    "inside the eXIf before the image data": (lambda: _idat(0)[0] - 40, "before any IDAT"),
    "inside the first IDAT's header": (lambda: _idat(0)[0] + 8, "before any IDAT"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_CUTS))
def test_cut_off_png_without_image_data_is_refused(case):
    cut, reason = REFUSED_CUTS[case]
    assert_refused(SOURCE[: cut()], reason=reason)


def test_other_chunk_failing_its_crc_is_still_refused():
    start, end = [(s, e) for name, s, e in _offsets(SOURCE) if name == b"tEXt"][-1]
    damaged = SOURCE[: end - 1] + bytes([SOURCE[end - 1] ^ 1]) + SOURCE[end:]
    assert_refused(damaged, reason="tEXt chunk at offset .* fails its CRC")
