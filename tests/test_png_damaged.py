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
from metadata.formats import png_image_data
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


def test_empty_idat_failing_its_crc_before_the_image_data_is_served_as_it_is():
    start = idat_span(0)[0]
    empty = b.png_chunk(b"IDAT", b"")[:-4] + b"\x00" * 4  # its CRC is 35 AF 06 1E
    out = _assert_served(SOURCE[:start] + empty + SOURCE[start:])
    assert out.endswith(b.png_chunk(b"IEND", b""))


def test_png_ending_right_after_an_idat_whose_crc_vouches_for_bytes_after_its_stream_is_served():
    plain = b.png(exif=False, text=False, icc=False)
    image_data = dict(b.png_chunks(plain))[b"IDAT"]  # the one IDAT
    data = plain[:IHDR_END] + b.png_chunk(b"IDAT", image_data + bytes(10))  # no IEND
    assert metadata.strip(data) == data


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


# Headers a damaged IDAT is checked against: Pillow-encoded (mode, save options, size), its image data
# inflating to exactly what IHDR implies; and interlaced ones (width, height, bit depth, colour type).
# "grey over a megabyte" inflates to 1025 x 1025 bytes, more than the inflater produces in one step (1 MiB).
ENCODED_HEADERS = {
    "grey over a megabyte": ("L", {}, (1024, 1025)),
    "grey of 1 bit": ("1", {}, (13, 7)),
    "grey of 8 bits": ("L", {}, (13, 7)),
    "grey of 16 bits": ("I;16", {}, (13, 7)),
    "grey and alpha": ("LA", {}, (13, 7)),
    "RGB": ("RGB", {}, (13, 7)),
    "RGBA": ("RGBA", {}, (13, 7)),
    "palette of 8 bits": ("P", {}, (13, 7)),
    "palette of 4 bits": ("P", {"bits": 4}, (13, 7)),
    "palette of 2 bits": ("P", {"bits": 2}, (13, 7)),
}
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))  # spec, 8.2
INTERLACED_HEADERS = {
    "interlaced 1x1": (1, 1, 8, 0),
    "interlaced 3x2 of 1 bit": (3, 2, 1, 0),
    "interlaced 13x7 RGB": (13, 7, 8, 2),
    "interlaced 9x9 RGBA of 16 bits": (9, 9, 16, 6),
}


def _encoded(case: str) -> tuple[bytes, bytes, int]:
    """(the signature, IHDR and any PLTE of a Pillow-encoded PNG; what its image data inflates to)."""
    mode, options, size = ENCODED_HEADERS[case]
    image = Image.new(mode, size)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    chunks = b.png_chunks(buffer.getvalue())
    head = b.PNG_SIGNATURE + b"".join(b.png_chunk(name, body) for name, body in chunks if name in (b"IHDR", b"PLTE"))
    inflated = len(zlib.decompress(b"".join(body for name, body in chunks if name == b"IDAT")))
    return head, inflated


def _interlaced(case: str) -> tuple[bytes, int]:
    """(signature and IHDR, the inflated size), the size counted pass by pass on the test side."""
    width, height, depth, colour = INTERLACED_HEADERS[case]
    bits = depth * {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    inflated = 0
    for x, y, dx, dy in ADAM7:
        columns, rows = len(range(x, width, dx)), len(range(y, height, dy))
        if columns and rows:
            inflated += rows * (1 + (columns * bits + 7) // 8)
    return b.PNG_SIGNATURE + b.png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 1)), inflated


def _with_damaged_idat(head: bytes, image_data: bytes) -> bytes:
    """`head`, one IDAT of `image_data` failing its CRC, and IEND."""
    idat = b.png_chunk(b"IDAT", image_data)
    return head + idat[:-4] + bytes(byte ^ 0xFF for byte in idat[-4:]) + b.png_chunk(b"IEND", b"")


@pytest.mark.parametrize("case", sorted(ENCODED_HEADERS) + sorted(INTERLACED_HEADERS))
def test_damaged_idat_inflating_to_the_size_ihdr_implies_is_served_and_one_byte_more_refused(case):
    head, inflated = _encoded(case) if case in ENCODED_HEADERS else _interlaced(case)
    exact = _with_damaged_idat(head, zlib.compress(bytes(inflated)))
    assert metadata.strip(exact) == exact
    over = _with_damaged_idat(head, zlib.compress(bytes(inflated + 1)))
    assert_refused(over, reason=f"^PNG: damaged image data inflates to more than the {inflated} bytes IHDR declares$")


@pytest.mark.parametrize("case", ["RGB", "grey over a megabyte"])
def test_damaged_idat_with_one_byte_after_its_adler_32_is_refused(case):
    head, inflated = _encoded(case)
    assert_refused(
        _with_damaged_idat(head, zlib.compress(bytes(inflated)) + b"\x00"),
        reason="^PNG: damaged IDAT runs 5 bytes past the end of its image data$",
    )


ZEROS_20 = zlib.compress(bytes(20))  # a zlib stream inflating to 20 bytes
# (what is fed first, IHDR's inflated size, what the check then knows): the deflate stream is
# broken (an invalid block type), inflates past IHDR's size, or has ended (4 bytes of its Adler-32 on).
SETTLED_STREAMS = {
    "broken": (b"\x78\x9c" + b"\xff" * 8, 20, (None, None)),
    "over": (ZEROS_20[:-4], 19, (None, None)),
    "ended": (ZEROS_20 + b"tail", 20, (len(ZEROS_20) - 4, len(ZEROS_20))),
}


@pytest.mark.parametrize("case", sorted(SETTLED_STREAMS))
def test_image_data_is_not_inflated_again_once_its_stream_is_broken_over_or_ended(monkeypatch, case):
    first, expected, (stream_end, kept_until) = SETTLED_STREAMS[case]
    calls = []
    real = zlib.decompressobj

    class CountingInflater:
        def __init__(self, *args):
            self._inflater = real(*args)

        def decompress(self, data, max_length=0):
            calls.append(len(data))
            return self._inflater.decompress(data, max_length)

        def __getattr__(self, name):
            return getattr(self._inflater, name)

    monkeypatch.setattr(zlib, "decompressobj", CountingInflater)
    check = png_image_data.ImageDataCheck(expected, "PNG")
    check.feed(first)
    assert len(calls) == 1
    for piece in (ZEROS_20, b"\x00" * 100):  # more deflate data, then anything
        check.feed(piece)
    assert len(calls) == 1, "nothing inflated after the first piece"
    assert (check.stream_end, check.kept_until()) == (stream_end, kept_until)
    assert check.consumed == len(first) + len(ZEROS_20) + 100


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


def test_apng_frame_data_failing_its_crc_is_refused():
    animated = b.png(exif=False, text=False, icc=False, animated=True)
    start, end = [(s, e) for name, s, e in chunk_spans(animated) if name == b"fdAT"][0]
    damaged = animated[: end - 1] + bytes([animated[end - 1] ^ 1]) + animated[end:]
    assert_refused(damaged, reason=f"^PNG: fdAT chunk at offset {start} fails its CRC check$")


def test_other_chunk_failing_its_crc_is_still_refused():
    start, end = [(s, e) for name, s, e in chunk_spans(SOURCE) if name == b"tEXt"][-1]
    damaged = SOURCE[: end - 1] + bytes([SOURCE[end - 1] ^ 1]) + SOURCE[end:]
    assert_refused(damaged, reason="tEXt chunk at offset .* fails its CRC")
