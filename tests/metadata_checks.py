"""Checks the metadata tests share: bounded memory, refusal, what an output displays and keeps.

Outputs are read back with Pillow and the test-side walkers of image_builders, never with the
core's own parsers.
"""

from __future__ import annotations

import contextlib
import io
import struct
import tracemalloc
from typing import Any, Callable

import pytest
from PIL import Image

import image_builders as b
import metadata
from metadata import ImageError

# An IFD entry: Orientation (SHORT) = 6.
ORIENTATION_ENTRY = (0x0112, 3, 1, struct.pack(">H", 6))
# Memory a hostile input may make the core allocate (Python-side, measured by tracemalloc).
HOSTILE_MEMORY_LIMIT = 16 * 1024 * 1024


def traced_peak(call: Callable[[], Any]) -> tuple[Any, int]:
    """call()'s result, and the peak Python allocation (tracemalloc) while it ran."""
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@contextlib.contextmanager
def bounded_memory(limit: int = HOSTILE_MEMORY_LIMIT):
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak Python allocation {peak} bytes"


def assert_refused(data: bytes, *, reason: str) -> None:
    """strip and read_exif both raise ImageError for `reason` (a regular expression), with bounded memory."""
    assert reason, "a refusal is checked for its reason"
    with bounded_memory():
        with pytest.raises(ImageError, match=reason):
            metadata.strip(data)
        with pytest.raises(ImageError, match=reason):
            metadata.read_exif(data)


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
