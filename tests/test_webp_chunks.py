"""WebP chunks one at a time: the bitstream headers a new VP8X chunk is made from (VP8L), the frames
of an animation (ANMF) and what is checked inside them, each in a file that is otherwise valid.
Expected bytes and offsets come from a test-side walk of the file (image_builders.riff_chunks)."""

from __future__ import annotations

import io
import re

import piexif
import pytest

import image_builders as b
import metadata
from metadata import ImageError
from metadata.formats import webp
from metadata_checks import assert_refused
from webp_shapes import webp_with_canvas

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


@pytest.mark.parametrize("size", [8, 12])
def test_a_first_vp8x_chunk_of_another_size_than_10_bytes_is_refused(size):
    chunks = b.riff_chunks(b.webp(6))
    vp8x = chunks[0][1] + bytes(2) if size == 12 else chunks[0][1][:8]
    data = b.riff_file([b.riff_chunk(b"VP8X", vp8x), *(b.riff_chunk(*chunk) for chunk in chunks[1:])])
    assert_refused(data, reason=f"^{re.escape(f'WebP: VP8X chunk at offset 12 is {size} bytes, expected 10')}$")


def test_a_vp8x_chunk_after_the_first_is_refused_unread(monkeypatch):
    # The read-ahead budget patched to the first VP8X's 10 bytes: the second, read whole, would go
    # over it and be refused for that instead.
    chunks = b.riff_chunks(b.webp(6))
    data = b.riff_file([b.riff_chunk(*chunks[0]), b.riff_chunk(*chunks[0]), *(b.riff_chunk(*chunk) for chunk in chunks[1:])])
    monkeypatch.setattr(webp, "MAX_WEBP_READ_AHEAD", 10)
    assert_refused(data, reason=f"^{re.escape('WebP: VP8X chunk at offset 30 is not the first chunk')}$")


def _vp8_header(width: int, height: int) -> bytes:
    """A VP8 key frame's first 10 bytes: frame tag, start code, u16le width and height."""
    return bytes(3) + b"\x9d\x01\x2a" + width.to_bytes(2, "little") + height.to_bytes(2, "little")


def _vp8l_header(width: int, height: int) -> bytes:
    return b"\x2f" + ((width - 1) | (height - 1) << 14).to_bytes(4, "little")


# MAX_PIXELS is 250,000,000 (50000 x 5000).
PIXEL_LIMITS = {
    "canvas at the limit": (webp_with_canvas(50000, 5000), None),
    "canvas a row over": (webp_with_canvas(50000, 5001), "VP8X canvas at offset 12 declares 50000x5001 pixels"),
    "canvas wide and low": (webp_with_canvas(1 << 24, 100), "VP8X canvas at offset 12 declares 16777216x100 pixels"),
    "VP8 of 16383 x 16383": (b.riff_file([b.riff_chunk(b"VP8 ", _vp8_header(16383, 16383))]), "VP8 at offset 12 declares 16383x16383 pixels"),
    "VP8L wide and low": (b.riff_file([b.riff_chunk(b"VP8L", _vp8l_header(16384, 15300))]), "VP8L at offset 12 declares 16384x15300 pixels"),
    "VP8L under the limit": (b.riff_file([b.riff_chunk(b"VP8L", _vp8l_header(16384, 15258))]), None),
}


@pytest.mark.parametrize("case", sorted(PIXEL_LIMITS))
def test_a_canvas_or_bitstream_over_max_pixels_is_refused(case):
    data, reason = PIXEL_LIMITS[case]
    if reason is None:
        name, payload = b.riff_chunks(metadata.strip(data))[0]
        assert (name, payload[4:]) == (b.riff_chunks(data)[0][0], b.riff_chunks(data)[0][1][4:])  # served, its canvas or bitstream as it was
    else:
        assert_refused(data, reason=f"^{re.escape(f'WebP: {reason}, over the limit of 250000000')}$")


def test_a_riff_header_that_is_not_webp_is_refused():
    data = b"RIFF" + (4).to_bytes(4, "little") + b"WAVE"
    with pytest.raises(ImageError, match=f"^{re.escape('WebP: no RIFF/WEBP header at offset 0')}$"):
        webp.strip(data, False)
    with pytest.raises(ImageError, match=f"^{re.escape('WebP: no RIFF/WEBP header at offset 0')}$"):
        webp.strip(b"RIFX" + b.webp(6)[4:], False)


@pytest.mark.parametrize(
    ("riff_size", "reason"),
    [(2, "RIFF size 2 at offset 4 does not fit the 12 bytes of data"), (4, "a still image needs a VP8 or VP8L chunk and no ANMF frames")],
)
def test_a_riff_body_of_webp_alone_is_read_and_one_shorter_refused(riff_size, reason):
    assert_refused(b"RIFF" + riff_size.to_bytes(4, "little") + b"WEBP", reason=f"^{re.escape('WebP: ' + reason)}$")


def _with_body_tail(data: bytes, tail: bytes) -> bytes:
    """`data` with `tail` added inside its RIFF body, after its last chunk."""
    return b"RIFF" + (int.from_bytes(data[4:8], "little") + len(tail)).to_bytes(4, "little") + data[8:] + tail


@pytest.mark.parametrize(
    ("tail", "reason"),
    [
        (b"JU", "chunk FourCC needs 4 bytes but 2 are left at offset {at}"),
        (b"JUNK\x01\x00", "size of the b'JUNK' chunk at offset {at} needs 4 bytes but 2 are left at offset {after_name}"),
    ],
    ids=["inside the FourCC", "inside the size"],
)
def test_a_chunk_header_cut_off_by_the_end_of_the_riff_body_is_refused_naming_the_field(tail, reason):
    data = b.webp(6)
    at = len(data)
    expected = "WebP: " + reason.format(at=at, after_name=at + 4)
    assert_refused(_with_body_tail(data, tail), reason=f"^{re.escape(expected)}$")


def test_a_frame_chunk_of_odd_size_without_its_pad_byte_is_refused():
    original = b.webp(animated=True, exif=False, xmp=False, icc=False)

    def odd_vp8(frame: bytes) -> bytes:
        vp8 = frame[16 + 8 :][: int.from_bytes(frame[16 + 4 : 16 + 8], "little")]
        odd = vp8 if len(vp8) % 2 else vp8[:-1]
        return frame[:16] + b"VP8 " + len(odd).to_bytes(4, "little") + odd  # no pad byte after it

    data = _frames_rebuilt(original, 0, odd_vp8)
    frame = [offset for name, offset in _chunk_offsets(data) if name == b"ANMF"][0]
    size = int.from_bytes(data[frame + 8 + 16 + 4 : frame + 8 + 16 + 8], "little")
    inner = frame + 8 + 16
    expected = f"WebP: pad byte of the b'VP8 ' chunk at offset {inner} needs 1 bytes but 0 are left at offset {inner + 8 + size}"
    assert_refused(data, reason=f"^{re.escape(expected)}$")


@pytest.mark.parametrize("frames", [0, 3], ids=["no frames", "frames"])
def test_an_animated_file_needs_its_frames_and_no_still_image_chunk(frames):
    animated = b.webp(animated=True, exif=False, xmp=False, icc=False)
    chunks = [chunk for chunk in b.riff_chunks(animated) if chunk[0] != b"ANMF" or frames]
    still = [chunk for chunk in b.riff_chunks(b.webp_simple()) if chunk[0] == b"VP8 "]
    data = b.riff_file([b.riff_chunk(*chunk) for chunk in chunks + still])
    assert_refused(data, reason=f"^{re.escape('WebP: an animated file needs ANMF frames and no other image chunk')}$")


def test_a_streamed_webp_needs_ranged_reads():
    data = b.webp(6)
    with pytest.raises(ImageError, match=f"^{re.escape('WebP: a streamed strip needs ranged reads of the file (its chunk headers)')}$"):
        metadata.open_strip(data[:16], len(data), None, max_buffered=0)


def test_a_streamed_webp_that_ends_before_its_declared_size_is_refused():
    data = b.webp(6)
    strip = metadata.open_strip(data[:16], len(data), lambda start, end: data[start:end], max_buffered=0)
    strip.feed(data[:-10])
    with pytest.raises(ImageError, match=f"^{re.escape(f'WebP: the input ended at offset {len(data) - 10}, before its declared size {len(data)}')}$"):
        strip.finish()


def test_the_riff_size_of_a_webp_over_2_gib_is_written_unsigned():
    # Only chunk headers and a bitstream's first bytes are read before the first byte goes out, so
    # a file of 2 GiB and more is planned from its first bytes (the rest reads as zeros here).
    payload = 1 << 31
    head = b"RIFF" + (4 + 8 + payload).to_bytes(4, "little") + b"WEBP" + b"VP8 " + payload.to_bytes(4, "little") + _vp8_header(40, 24)
    size = 8 + 4 + 8 + payload
    strip = metadata.open_strip(head, size, lambda start, end: head[start:end].ljust(end - start, b"\x00"), max_buffered=0)
    assert strip.feed(head) == head  # nothing dropped: the RIFF size is the input's


def test_an_exif_chunk_of_odd_size_gets_its_pad_byte():
    # Copyright "abcdef" takes 7 bytes after the IFD (Artist "xy" fits in its entry): the kept
    # TIFF structure is of odd size.
    tags = {b.ORIENTATION_TAG: 6, b.COPYRIGHT_TAG: b"abcdef", b.ARTIST_TAG: b"xy"}
    exif = piexif.dump({"0th": tags})[6:]
    data = b.riff_file([*(b.riff_chunk(*chunk) for chunk in b.riff_chunks(b.webp_simple())), b.riff_chunk(b"EXIF", exif)])
    stripped = metadata.strip(data, keep_copyright=True)
    assert b.riff_chunks(stripped)[-1] == (b"EXIF", exif) and len(exif) % 2
    assert stripped.endswith(exif + b"\x00") and int.from_bytes(stripped[4:8], "little") == len(stripped) - 8


def test_a_webp_whose_structure_needs_more_reads_than_allowed_is_refused(monkeypatch):
    monkeypatch.setattr(webp, "MAX_WEBP_HEADER_READS", 0)
    assert_refused(b.webp(6), reason=f"^{re.escape('WebP: more than 0 reads to find its structure (at offset 0)')}$")
