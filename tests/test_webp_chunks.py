"""WebP chunks one at a time: the bitstream headers a new VP8X chunk is made from (VP8L), the frames
of an animation (ANMF) and what is checked inside them, each in a file that is otherwise valid.
Expected bytes and offsets come from a test-side walk of the file (image_builders.riff_chunks)."""

from __future__ import annotations

import io
import re

import pytest

import image_builders as b
import metadata
from metadata_checks import assert_refused

VP8X_ALPHA, VP8X_EXIF, VP8X_ANIMATION = 0x10, 0x08, 0x02


def _lossless(mode: str) -> bytes:
    """A simple WebP: one VP8L chunk, whose header says whether the image has alpha."""
    buffer = io.BytesIO()
    b.pattern(mode).save(buffer, "WEBP", lossless=True)
    return buffer.getvalue()


def _with_exif(simple: bytes) -> bytes:
    return b.riff_file([*(b.riff_chunk(*chunk) for chunk in b.riff_chunks(simple)), b.riff_chunk(b"EXIF", b.tiff_structure(b.exif_block(6)))])


def _chunk_offsets(data: bytes) -> list[tuple[bytes, int]]:
    """(FourCC, file offset) of every top-level chunk."""
    offsets, pos = [], 12
    for name, payload in b.riff_chunks(data):
        offsets.append((name, pos))
        pos += 8 + len(payload) + len(payload) % 2
    return offsets


@pytest.mark.parametrize(("mode", "flags"), [("RGB", VP8X_EXIF), ("RGBA", VP8X_EXIF | VP8X_ALPHA)])
def test_a_simple_lossless_webp_keeping_its_orientation_gets_the_alpha_flag_its_bitstream_declares(mode, flags):
    simple = _lossless(mode)
    assert [name for name, _ in b.riff_chunks(simple)] == [b"VP8L"]
    chunks = b.riff_chunks(metadata.strip(_with_exif(simple)))
    assert [name for name, _ in chunks] == [b"VP8X", b"VP8L", b"EXIF"]
    assert chunks[0][1][:4] == bytes((flags, 0, 0, 0))


# A simple file of one hand-made VP8L chunk: only its 5-byte header (signature 2F, then 14 bits
# width - 1, 14 bits height - 1, alpha, version) is read, so that is all the chunk needs.
VP8L_HEADER_40X24 = b"\x2f" + (39 | 23 << 14).to_bytes(4, "little")


@pytest.mark.parametrize(
    ("payload", "served"),
    [
        (VP8L_HEADER_40X24, True),
        (VP8L_HEADER_40X24 + bytes(3), True),
        (VP8L_HEADER_40X24[:4], False),  # one byte short, its signature right
        (VP8L_HEADER_40X24[:1], False),
        (b"", False),
        (b"\x2e" + VP8L_HEADER_40X24[1:], False),
    ],
    ids=["5 bytes", "8 bytes", "4 bytes", "signature only", "empty", "wrong signature"],
)
def test_a_vp8l_chunk_needs_its_signature_and_a_whole_5_byte_header(payload, served):
    data = b.riff_file([b.riff_chunk(b"VP8L", payload)])
    if served:
        assert metadata.clean(data) == (data, "webp", "image/webp", (), ())
    else:
        assert_refused(data, reason=f"^{re.escape('WebP: VP8L chunk at offset 12 has no VP8L signature')}$")


def test_animation_frames_with_alpha_are_kept_as_they_are():
    original = b.webp(animated=True, mode="RGBA", exif=False, xmp=False, icc=False)
    frames = [payload for name, payload in b.riff_chunks(original) if name == b"ANMF"]
    assert len(frames) == 3 and all(frame[16:20] == b"ALPH" for frame in frames)  # ALPH, then VP8
    assert metadata.clean(original) == (original, "webp", "image/webp", (), ())


def _frames_rebuilt(data: bytes, frame: int, rebuild) -> bytes:
    """`data` with the payload of its ANMF chunk number `frame` replaced by rebuild(payload)."""
    chunks, seen = [], 0
    for name, payload in b.riff_chunks(data):
        if name == b"ANMF":
            payload = rebuild(payload) if seen == frame else payload
            seen += 1
        chunks.append(b.riff_chunk(name, payload))
    return b.riff_file(chunks)


def test_a_frame_whose_vp8_bitstream_has_no_key_frame_header_is_refused_naming_that_bitstream():
    original = b.webp(animated=True, exif=False, xmp=False, icc=False)  # each frame: ANMF header, then VP8
    broken = _frames_rebuilt(original, 1, lambda payload: payload[:16 + 8 + 3] + b"\x00\x00\x00" + payload[16 + 8 + 6 :])
    second_frame = [offset for name, offset in _chunk_offsets(broken) if name == b"ANMF"][1]
    assert broken[second_frame + 8 + 16 : second_frame + 8 + 20] == b"VP8 "
    reason = f"WebP: VP8 chunk at offset {second_frame + 8 + 16} has no key frame header"
    assert_refused(broken, reason=f"^{re.escape(reason)}$")


@pytest.mark.parametrize("size", [15, 16])
def test_an_anmf_chunk_needs_its_16_byte_header(size):
    # An extra frame of `size` bytes: of its header alone (16 bytes, no bitstream), or one byte short.
    original = b.webp(animated=True, exif=False, xmp=False, icc=False)
    extra = b.riff_chunk(b"ANMF", bytes(size))
    data = b.riff_file([*(b.riff_chunk(*chunk) for chunk in b.riff_chunks(original)), extra])
    at = len(data) - len(extra)
    if size == 16:
        assert metadata.strip(data) == data
    else:
        reason = f"WebP: ANMF header at offset {at} needs 16 bytes but 15 are left at offset {at + 8}"
        assert_refused(data, reason=f"^{re.escape(reason)}$")
