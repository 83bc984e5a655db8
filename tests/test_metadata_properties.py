"""Property-based tests of the transform's core: whatever the bytes, strip and read_exif
either return or raise ImageError, and what strip returns carries no metadata.

The outputs are checked with image_builders.metadata_problems, which scans the bytes
for the planted SECRET and for metadata signatures and asks Pillow what it finds;
it does not use the core's parsers.
"""

from __future__ import annotations

import functools
import json

from hypothesis import example, given
from hypothesis import strategies as st

import image_builders as b
import metadata
from metadata import ImageError
from property_settings import examples  # moderate counts keep the whole file to a few seconds


SEEDS = {
    "jpeg": lambda: b.jpeg_with_everything(6),
    "jpeg-progressive": lambda: b.jpeg(3, progressive=True),
    "jpeg-cmyk": lambda: b.jpeg(8, mode="CMYK"),
    "png": lambda: b.png(6),
    "apng": lambda: b.png(5, animated=True),
    "webp": lambda: b.webp(6),
    "webp-animated": lambda: b.webp(7, animated=True, lossless=True),
    "gif": lambda: b.gif(animated=True),
    "tiff": lambda: b.tiff(6, size=(12, 8)),
    "tiff-lzw": lambda: b.tiff(2, compression="tiff_lzw", pages=2, size=(12, 8)),
}
MAGIC_PREFIXES = [
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\x00\x01\x00\x00WEBP",
    b"II*\x00",
    b"MM\x00*",
    b"GIF89a",
]


@functools.lru_cache(maxsize=None)
def seed(name: str) -> bytes:
    return SEEDS[name]()


def without_kept_text(data: bytes) -> bytes:
    """The output with its kept Copyright and Artist values blanked: keep_copyright keeps
    whatever those tags say, and in a mutated image they may point at any text."""
    try:
        exif = b.decoded(data).getexif()
    except Exception:  # noqa: BLE001 - an output Pillow cannot open has no EXIF to look at
        return data
    values = [exif.get(tag) for tag in (b.COPYRIGHT_TAG, b.ARTIST_TAG)]
    # Longest first: one value may contain the other.
    for value in sorted((v for v in values if isinstance(v, str) and v), key=len, reverse=True):
        encoded = value.encode("latin-1", "replace")
        data = data.replace(encoded, bytes(len(encoded)))  # same length: offsets stay valid
    return data


def check_strip(data: bytes, keep_copyright: bool) -> bool:
    """Refused, or served without metadata; True when served (the leak checks ran)."""
    try:
        result = metadata.clean(data, keep_copyright=keep_copyright)
    except ImageError:
        return False
    assert isinstance(result.data, bytes)
    assert metadata.detect_format(result.data) == result.format
    assert b.metadata_problems(without_kept_text(result.data) if keep_copyright else result.data) == []
    return True


def check_read_exif(data: bytes) -> None:
    try:
        exif = metadata.read_exif(data)
    except ImageError:
        return
    assert isinstance(exif, dict)
    json.dumps(exif, allow_nan=False)


@examples(60)
@given(st.binary(max_size=4096))
@example(b"")
@example(b"\xff\xd8")
def test_random_bytes(data):
    check_strip(data, keep_copyright=False)
    check_read_exif(data)


@examples(90)
@given(st.sampled_from(MAGIC_PREFIXES), st.binary(max_size=2048))
def test_random_bytes_behind_a_known_signature(prefix, rest):
    check_strip(prefix + rest, keep_copyright=False)
    check_read_exif(prefix + rest)


# Random bytes alone are nearly always refused, so they never reach the leak checks: these
# write random bytes over part of a valid file that carries every kind of metadata.
@examples(120)
@given(st.sampled_from(sorted(SEEDS)), st.floats(0, 1), st.binary(min_size=1, max_size=64), st.booleans())
@example("jpeg", 0.9, b"\x00", False)  # inside the scan data: served, and checked
def test_random_bytes_written_over_a_valid_file(name, where, patch, keep_copyright):
    data = seed(name)
    position = int(where * (len(data) - len(patch)))
    patched = data[:position] + patch + data[position + len(patch) :]
    check_strip(patched, keep_copyright)
    check_read_exif(patched)


def test_every_seed_is_served_so_the_leak_checks_run():
    for name in SEEDS:
        assert check_strip(seed(name), keep_copyright=False), name
        assert check_strip(seed(name), keep_copyright=True), name


MUTATIONS = ("flip", "set", "truncate", "insert", "delete", "duplicate")


@st.composite
def mutated_images(draw):
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(seed(name))
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        # Headers, segments and chunks cluster at the start: aim there half of the time.
        position = draw(st.one_of(st.integers(0, min(400, len(data) - 1)), st.integers(0, len(data) - 1)))
        mutation = draw(st.sampled_from(MUTATIONS))
        if mutation == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif mutation == "set":
            data[position] = draw(st.sampled_from([0x00, 0xFF, 0x01, 0x7F, 0x80, draw(st.integers(0, 255))]))
        elif mutation == "truncate":
            del data[position:]
        elif mutation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif mutation == "delete":
            del data[position : position + draw(st.integers(1, 16))]
        else:
            data[position:position] = data[position : position + draw(st.integers(1, 32))]
    return name, bytes(data)


@examples(200)
@given(mutated_images(), st.booleans())
def test_mutated_images(case, keep_copyright):
    _, data = case
    check_strip(data, keep_copyright)
    check_read_exif(data)


@examples(30)
@given(
    st.sampled_from(["jpeg", "png", "webp", "tiff"]),
    st.integers(1, 8),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_generated_images_keep_only_what_they_should(image_format, orientation, icc, keep_copyright, gps):
    builder = {"jpeg": b.jpeg, "png": b.png, "webp": b.webp}.get(image_format)
    if builder is None:
        original = b.tiff(orientation, icc=icc, size=(12, 8))
    else:
        original = builder(orientation, icc=icc, gps=gps)
    result = metadata.clean(original, keep_copyright=keep_copyright)
    assert b.metadata_problems(result.data) == []
    assert metadata.clean(result.data, keep_copyright=keep_copyright) == result._replace(removed=())
    assert b.displayed(result.data).tobytes() == b.displayed(original).tobytes()
    info = b.decoded(result.data).info
    assert info.get("icc_profile") == (b.icc_profile() if icc else None)
    kept = dict(b.decoded(result.data).getexif())
    assert (kept.get(b.COPYRIGHT_TAG) == b.OWNER_COPYRIGHT.decode()) == keep_copyright
    assert ("gps" in result.removed) == (gps or image_format == "tiff")
