"""WebP files of hostile structure the tests share: an absurd canvas, sizes past the end, a missing image chunk,
an unknown chunk inside an animation frame. Each entry of WEBP_HOSTILE makes its file from a valid WebP."""

from __future__ import annotations

import struct

import image_builders as b


def webp_with_canvas(width: int, height: int) -> bytes:
    chunks = b.riff_chunks(b.webp(6))
    vp8x = chunks[0][1][:4] + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b.riff_file([b.riff_chunk(b"VP8X", vp8x), *(b.riff_chunk(*chunk) for chunk in chunks[1:])])


def webp_with_frame_chunk(name: bytes) -> bytes:
    chunks = b.riff_chunks(b.webp(animated=True))
    rebuilt = [b.riff_chunk(n, p + (b.riff_chunk(name, b"x" * 8) if n == b"ANMF" else b"")) for n, p in chunks]
    return b.riff_file(rebuilt)


WEBP_HOSTILE = {
    "absurd canvas": lambda data: webp_with_canvas(1 << 24, 1 << 24),
    "RIFF size past the end": lambda data: data[:4] + struct.pack("<I", len(data) + 100) + data[8:],
    "odd RIFF size": lambda data: data[:4] + struct.pack("<I", len(data) - 9) + data[8:] + b"",
    "chunk size past the end": lambda data: data[:16] + struct.pack("<I", 0xFFFFFF00) + data[20:],
    "no image chunk": lambda data: b.riff_file([b.riff_chunk(*chunk) for chunk in b.riff_chunks(data) if chunk[0] not in (b"VP8 ", b"ALPH")]),
    "unknown chunk inside a frame": lambda data: webp_with_frame_chunk(b"XMP "),
    "first chunk not an image header": lambda data: b.riff_file([b.riff_chunk(b"EXIF", b"x"), *(b.riff_chunk(*c) for c in b.riff_chunks(data))]),
    "broken VP8 header": lambda data: b.riff_file([b.riff_chunk(b"VP8 ", b"\x00" * 12)]),
}
