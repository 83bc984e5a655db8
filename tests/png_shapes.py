"""A PNG whose metadata the tests plant and whose damage they choose: Pillow-encoded noise with its image data
split over four IDAT chunks, eXIf, text, XMP, tIME and a private chunk before the image data, text and XMP after it;
where its chunks lie, and the IDAT damages (a wrong CRC, a length that swallows the chunks after it)."""

from __future__ import annotations

import io
import random
import struct

from PIL import Image

import image_builders as b

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


def chunk_spans(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of each complete chunk, walked on the test side."""
    found, pos = [], len(b.PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        found.append((data[pos + 4 : pos + 8], pos, pos + 12 + length))
        pos += 12 + length
    return found


def idat_span(index: int) -> tuple[int, int]:
    starts = [(start, end) for name, start, end in chunk_spans(SOURCE) if name == b"IDAT"]
    return starts[index]


def with_idat_crc(data: bytes, index: int, crc: int) -> bytes:
    start, end = idat_span(index)
    return data[: end - 4] + struct.pack(">I", crc) + data[end:]


def swallowing_idat(*, cut: bool) -> bytes:
    """The last IDAT's length made to cover the text chunks after it: followed by a CRC
    and IEND, or running past the end of the file (`cut`)."""
    start, end = idat_span(IDAT_PARTS - 1)
    tail_end = len(SOURCE) - 12  # before IEND
    if cut:
        return SOURCE[:start] + struct.pack(">I", len(SOURCE) - start) + SOURCE[start + 4 :]
    length = tail_end - start - 8
    return SOURCE[:start] + struct.pack(">I", length) + SOURCE[start + 4 : tail_end] + b"\x00" * 4 + SOURCE[tail_end:]
