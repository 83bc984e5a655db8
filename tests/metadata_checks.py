"""Checks the metadata test modules share: bounded memory, the EXIF a stripped image keeps, the pixels a
viewer sees."""

from __future__ import annotations

import contextlib
import io
import struct
import tracemalloc

from PIL import Image

import image_builders as b

# Memory a hostile input may make the core allocate (Python-side, measured by tracemalloc).
HOSTILE_MEMORY_LIMIT = 16 * 1024 * 1024
# An IFD entry: Orientation (SHORT) 6.
ORIENTATION_ENTRY = (0x0112, 3, 1, struct.pack(">H", 6))


@contextlib.contextmanager
def bounded_memory(limit: int = HOSTILE_MEMORY_LIMIT):
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak Python allocation {peak} bytes"


def exif_of(data: bytes) -> dict[int, object]:
    return dict(Image.open(io.BytesIO(data)).getexif())


def expected_kept_exif(orientation: int | None, keep_copyright: bool) -> dict[int, object]:
    kept: dict[int, object] = {}
    if orientation not in (None, 1):
        kept[b.ORIENTATION_TAG] = orientation
    if keep_copyright:
        kept[b.COPYRIGHT_TAG] = b.OWNER_COPYRIGHT.decode()
        kept[b.ARTIST_TAG] = b.OWNER_ARTIST.decode()
    return kept


def assert_same_display(original: bytes, stripped: bytes) -> None:
    before, after = b.displayed(original), b.displayed(stripped)
    assert after.size == before.size
    assert after.tobytes() == before.tobytes()
