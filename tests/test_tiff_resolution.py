"""A TIFF's resolution (XResolution, YResolution, ResolutionUnit) survives the re-save when it is
whole and sound, and is left out otherwise; read back with Pillow."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

import metadata

X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT = 282, 283, 296


def _tiff(resolution: dict[int, tuple[int, int, int]]) -> bytes:
    """A 2x2 grey little-endian TIFF with the given entries: tag -> (type, count, value or offset)."""
    entries = {256: (3, 1, 2), 257: (3, 1, 2), 258: (3, 1, 8), 259: (3, 1, 1), 262: (3, 1, 1), 273: (4, 1, 0), 277: (3, 1, 1), 278: (3, 1, 2), 279: (4, 1, 4)}
    entries.update(resolution)
    table_end = 8 + 2 + 12 * len(entries) + 4
    rationals = b""
    body = struct.pack("<H", len(entries))
    for tag, (kind, count, value) in sorted(entries.items()):
        if kind == 5:  # value is (numerator, denominator), stored after the table
            value_field = struct.pack("<I", table_end + len(rationals))
            rationals += struct.pack("<II", *value)
        elif tag == 273:
            value_field = struct.pack("<I", table_end + 8 * sum(1 for k, _, _ in resolution.values() if k == 5))
        elif kind == 3:
            value_field = struct.pack("<HH", value, 0)
        else:
            value_field = struct.pack("<I", value)
        body += struct.pack("<HHI", tag, kind, count) + value_field
    return b"II*\x00" + struct.pack("<I", 8) + body + struct.pack("<I", 0) + rationals + bytes((10, 60, 120, 250))


def _resolution_of(data: bytes) -> dict:
    tags = Image.open(io.BytesIO(data)).tag_v2
    return {tag: tags.get(tag) for tag in (X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT) if tag in tags}


@pytest.mark.parametrize("unit", [1, 2, 3])
def test_a_sound_resolution_is_kept(unit):
    data = _tiff({X_RESOLUTION: (5, 1, (145, 2)), Y_RESOLUTION: (5, 1, (300, 1)), RESOLUTION_UNIT: (3, 1, unit)})
    assert _resolution_of(data) == {X_RESOLUTION: 72.5, Y_RESOLUTION: 300.0, RESOLUTION_UNIT: unit}
    stripped = metadata.strip(data)
    assert _resolution_of(stripped) == {X_RESOLUTION: 72.5, Y_RESOLUTION: 300.0, RESOLUTION_UNIT: unit}


@pytest.mark.parametrize(
    "resolution",
    [
        {X_RESOLUTION: (5, 1, (72, 1)), Y_RESOLUTION: (5, 1, (72, 1)), RESOLUTION_UNIT: (3, 1, 4)},  # no such unit
        {X_RESOLUTION: (5, 1, (72, 1)), Y_RESOLUTION: (5, 1, (72, 1))},  # no unit
        {X_RESOLUTION: (5, 1, (72, 1)), RESOLUTION_UNIT: (3, 1, 2)},  # one axis only
        {X_RESOLUTION: (5, 1, (72, 0)), Y_RESOLUTION: (5, 1, (72, 1)), RESOLUTION_UNIT: (3, 1, 2)},  # zero denominator
        {X_RESOLUTION: (5, 1, (0, 1)), Y_RESOLUTION: (5, 1, (72, 1)), RESOLUTION_UNIT: (3, 1, 2)},  # zero numerator
        {X_RESOLUTION: (4, 1, 72), Y_RESOLUTION: (5, 1, (72, 1)), RESOLUTION_UNIT: (3, 1, 2)},  # not a rational
    ],
    ids=["unit-4", "no-unit", "one-axis", "zero-denominator", "zero-numerator", "not-rational"],
)
def test_an_unsound_resolution_is_left_out(resolution):
    stripped = metadata.strip(_tiff(resolution))
    assert Image.open(io.BytesIO(stripped)).tobytes() == bytes((10, 60, 120, 250))
    assert _resolution_of(stripped) == {}
