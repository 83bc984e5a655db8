"""Large JPEGs for the streaming tests, built without holding them: a Pillow head (EXIF, XMP,
ICC, a comment), then scan data of marker-free bytes produced on demand."""

from __future__ import annotations

import image_builders as b

# A DHT segment whose table spec is invalid: refused wherever it stands.
BAD_DHT = b"\xff\xc4\x00\x03\x55"


def jpeg_head() -> bytes:
    """SOI up to and including the first SOS segment of a JPEG with every metadata kind."""
    data = b.jpeg(6)
    start = b.jpeg_structure(data).scan_start
    return data[: start + 2 + int.from_bytes(data[start + 2 : start + 4], "big")]


def scan_bytes(size: int) -> bytes:
    pattern = bytes(range(256)).replace(b"\xff", b"\x00")
    return (pattern * (size // len(pattern) + 1))[:size]


class JpegSource:
    """read(n) over head + `scan_size` bytes of scan data + `tail`, produced as read."""

    def __init__(self, scan_size: int, tail: bytes = b"\xff\xd9") -> None:
        self.parts = [jpeg_head(), None, tail]
        self.scan_size = scan_size
        self.size = len(self.parts[0]) + scan_size + len(tail)
        self.read_bytes = 0
        self._pattern = scan_bytes(64 * 1024)

    def read(self, count: int) -> bytes:
        head, tail = self.parts[0], self.parts[2]
        at = self.read_bytes
        if at < len(head):
            out = head[at : at + count]
        elif at < len(head) + self.scan_size:
            left = len(head) + self.scan_size - at
            out = (self._pattern * (min(count, left) // len(self._pattern) + 1))[: min(count, left)]
        else:
            out = tail[at - len(head) - self.scan_size :][:count]
        self.read_bytes += len(out)
        return out

    def whole(self) -> bytes:
        return jpeg_head() + scan_bytes(self.scan_size) + self.parts[2]
