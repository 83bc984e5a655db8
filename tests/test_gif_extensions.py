"""GIF extension blocks one at a time: what is kept, what goes (and is logged as what), and what is
refused, each behind a plain GIF's header so that nothing else decides the answer."""

from __future__ import annotations

import re

import pytest

import image_builders as b
import metadata
from metadata import ImageError
from metadata.formats import gif
from metadata_checks import assert_refused


def _plain() -> bytes:
    return b.gif(comment=False, extensions=False)


def _with(block: bytes) -> bytes:
    """The plain GIF with `block` just before its first image descriptor."""
    data = _plain()
    first_image = data.index(b"\x2c", 13 + 3 * 256)
    return data[:first_image] + block + data[first_image:]


def _fed(data: bytes, pieces: list[bytes]) -> tuple[bytes, metadata.StreamStrip]:
    """`data` stripped by the streaming walk, fed `pieces` in turn: the output, and the strip."""
    strip = metadata.open_strip(data[:16], len(data), None, max_buffered=0)
    out = b"".join(strip.feed(piece) for piece in pieces) + strip.finish()
    return out, strip


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]




def test_plain_text_is_image_content_and_kept():
    data = _with(b"\x21\x01\x0c" + bytes(12) + b"\x05hello\x00")
    result = metadata.clean(data)
    assert result.data == data and result.removed == ()


@pytest.mark.parametrize("header", [b"", bytes(11), bytes(13)], ids=["none", "11-bytes", "13-bytes"])
def test_plain_text_without_its_12_byte_header_is_refused(header):
    sub_blocks = (bytes((len(header),)) + header if header else b"") + b"\x00"
    assert_refused(_with(b"\x21\x01" + sub_blocks), reason="plain text extension at offset \\d+ has no 12-byte header")


# A kept extension cut off by the end of the file: its bytes, and the refusal given its offset.
CUT_OFF_KEPT_EXTENSIONS = {
    "plain text, inside a sub-block": (
        b"\x21\x01\x0c" + bytes(12) + b"\x05hel",
        lambda at: f"sub-block in plain text extension needs 5 bytes but 3 are left at offset {at + 16}",
    ),
    "plain text, before a size byte": (
        b"\x21\x01\x0c" + bytes(12),
        lambda at: f"sub-block size in plain text extension needs 1 bytes but 0 are left at offset {at + 15}",
    ),
    "graphic control": (
        b"\x21\xf9\x04ab",
        lambda at: f"sub-block in graphic control extension needs 4 bytes but 2 are left at offset {at + 3}",
    ),
    "loop": (
        b"\x21\xff\x0bNETSCAPE2.0\x03\x01",
        lambda at: f"sub-block in the application extension at offset {at} needs 3 bytes but 1 are left at offset {at + 15}",
    ),
}


def _cut_at_the_image(block: bytes) -> tuple[bytes, int]:
    """The plain GIF up to its image descriptor (after the header and 256-colour table), then
    `block` and the end of the file; and the offset at which `block` starts."""
    at = _plain().index(b"\x2c", 13 + 3 * 256)
    return _plain()[:at] + block, at


# The plain GIF's image: descriptor (10 bytes), LZW minimum code size, then sub-blocks of 255 bytes.
_IMAGE = _plain()[_cut_at_the_image(b"")[1] :]

# A block that is not held whole (an extension that is dropped, an image), cut off by the end of
# the file: its bytes, and the refusal given its offset. An application extension is walked over
# as soon as its 11-byte identifier (14 bytes from its start) shows it is not one display needs.
CUT_OFF_BLOCKS = {
    "extension, its introducer alone": (b"\x21", lambda at: f"extension label needs 1 bytes but 0 are left at offset {at + 1}"),
    "image, inside its position": (_IMAGE[:3], lambda at: f"image position needs 4 bytes but 2 are left at offset {at + 1}"),
    "image, inside its width": (_IMAGE[:6], lambda at: f"image width needs 2 bytes but 1 are left at offset {at + 5}"),
    "image, inside its height": (_IMAGE[:8], lambda at: f"image height needs 2 bytes but 1 are left at offset {at + 7}"),
    "image, before its flags": (_IMAGE[:9], lambda at: f"image descriptor flags needs 1 bytes but 0 are left at offset {at + 9}"),
    "image, inside its local colour table": (  # flags 81: a table of 4 colours, 12 bytes
        _IMAGE[:9] + b"\x81" + bytes(5),
        lambda at: f"local colour table of the image at offset {at} needs 12 bytes but 5 are left at offset {at + 10}",
    ),
    "image, before its LZW code size": (
        _IMAGE[:10],
        lambda at: f"LZW minimum code size of the image at offset {at} needs 1 bytes but 0 are left at offset {at + 10}",
    ),
    "image, before its data": (_IMAGE[:11], lambda at: f"sub-block size in the image at offset {at} needs 1 bytes but 0 are left at offset {at + 11}"),
    "image, inside its data": (_IMAGE[:17], lambda at: f"sub-block in the image at offset {at} needs 255 bytes but 5 are left at offset {at + 12}"),
    "comment, after its label": (b"\x21\xfe", lambda at: f"sub-block size in the extension at offset {at} needs 1 bytes but 0 are left at offset {at + 2}"),
    "comment, after a size byte": (b"\x21\xfe\x05", lambda at: f"sub-block in the extension at offset {at} needs 5 bytes but 0 are left at offset {at + 3}"),
    "comment, inside a sub-block": (b"\x21\xfe\x05hel", lambda at: f"sub-block in the extension at offset {at} needs 5 bytes but 3 are left at offset {at + 3}"),
    "comment, after a whole sub-block": (
        b"\x21\xfe\x05hello",
        lambda at: f"sub-block size in the extension at offset {at} needs 1 bytes but 0 are left at offset {at + 8}",
    ),
    "XMP, right after its identifier": (
        b"\x21\xff\x0bXMP DataXMP",
        lambda at: f"sub-block size in the extension at offset {at} needs 1 bytes but 0 are left at offset {at + 14}",
    ),
    "XMP, inside a sub-block": (
        b"\x21\xff\x0bXMP DataXMP\x10<x:xmp",
        lambda at: f"sub-block in the extension at offset {at} needs 16 bytes but 6 are left at offset {at + 15}",
    ),
}


CUT_OFF = {**CUT_OFF_KEPT_EXTENSIONS, **CUT_OFF_BLOCKS}
assert len(CUT_OFF) == len(CUT_OFF_KEPT_EXTENSIONS) + len(CUT_OFF_BLOCKS)


@pytest.mark.parametrize("case", sorted(CUT_OFF))
def test_a_block_cut_off_by_the_end_of_the_file_is_refused_naming_it(case):
    # Kept extensions (graphic control, plain text, the loop) and the blocks that go alike.
    block, reason = CUT_OFF[case]
    cut, at = _cut_at_the_image(block)
    expected = f"^{re.escape('GIF: ' + reason(at))}$"
    assert_refused(cut, reason=expected)
    for size in (1, 7):  # fed in pieces, the offsets are still the file's
        with pytest.raises(ImageError, match=expected):
            _fed(cut, _pieces(cut, size))


@pytest.mark.parametrize(
    ("identifier", "kind"),
    [(b"XMP DataXMP", "xmp"), (b"MGK8BIM0000", "photoshop"), (b"MGKIPTC0000", "iptc"), (b"VENDORAPP01", "other")],
)
def test_application_extensions_go_as_their_kind(identifier, kind):
    data = _with(b.gif_application_extension(identifier, b"payload " + b.SECRET))
    result = metadata.clean(data)
    assert result.data == _plain() and result.removed == (kind,)


def test_a_malformed_application_extension_goes_whole():
    data = _with(b"\x21\xff\x05short" + b.gif_sub_blocks(b.SECRET))
    result = metadata.clean(data)
    assert result.data == _plain() and result.removed == ("other",)


def test_an_application_extension_without_sub_blocks_goes():
    result = metadata.clean(_with(b"\x21\xff\x00"))
    assert result.data == _plain() and result.removed == ("other",)


def test_the_loop_extension_is_kept_and_must_be_well_formed():
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    assert metadata.clean(_with(loop)).data == _with(loop)
    assert_refused(_with(b"\x21\xff\x0bNETSCAPE2.0\x03\x02\x00\x00\x00"), reason="loop extension at offset \\d+ has sub-block id 2")
    assert_refused(_with(b"\x21\xff\x0bNETSCAPE2.0\x02\x01\x00\x00"), reason="loop extension at offset \\d+ has sub-blocks of \\[11, 2\\] bytes")


def test_a_frame_of_one_pixel_is_served_and_of_none_refused():
    data = _plain()
    descriptor = data.index(b"\x2c", 13 + 3 * 256)
    one_by_one = b"\x2c" + bytes(4) + b"\x01\x00\x01\x00\x00" + b"\x02\x02\x44\x01\x00"  # 1x1, LZW min code 2
    served = data[:descriptor] + one_by_one + data[descriptor:]
    assert metadata.strip(served) == served
    empty = b"\x2c" + bytes(4) + b"\x00\x00\x01\x00\x00" + b"\x02\x02\x44\x01\x00"
    with pytest.raises(ImageError, match="declares 0x1 pixels"):
        metadata.strip(data[:descriptor] + empty + data[descriptor:])


# Before the first image, in this order: what is kept (K) and what goes (D, as its kind).
LOOP = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
MIXED_EXTENSIONS = [
    (b"\x21\xfe" + b.gif_sub_blocks(b"comment " + b.SECRET), "comment"),
    (LOOP, None),
    (b.gif_xmp_extension(), "xmp"),
    (b"\x21\xf9\x04\x04\x0a\x00\x00\x00", None),  # graphic control
    (b.gif_application_extension(b"MGK8BIM0000", b"8BIM" + b.SECRET), "photoshop"),
    (b"\x21\x01\x0c" + bytes(12) + b"\x05hello\x00", None),  # plain text
    (b"\x21\x77" + b.gif_sub_blocks(b.SECRET), "other"),  # an unknown label
    (b"\x21\xff\x05short" + b.gif_sub_blocks(b.SECRET), "other"),  # a malformed application extension
    (b.gif_application_extension(gif.ICC_APPLICATION, b.icc_profile()), None),
    (b.gif_application_extension(gif.ICC_APPLICATION, b"not a profile " + b.SECRET), "other"),
]


@pytest.mark.parametrize("size", [*range(1, 24), 100, 1 << 20])
def test_extensions_are_kept_and_dropped_alike_however_the_file_is_fed(size):
    data = _with(b"".join(block for block, _ in MIXED_EXTENSIONS))
    kept = _with(b"".join(block for block, kind in MIXED_EXTENSIONS if kind is None))
    out, strip = _fed(data, _pieces(data, size))
    assert out == kept
    assert strip.removed == ("comment", "other", "photoshop", "xmp")


def test_a_kept_extension_and_the_frame_after_it_are_passed_on_before_the_file_ends():
    data = _with(LOOP)
    strip = metadata.open_strip(data[:16], len(data), None, max_buffered=0)
    out = b"".join(strip.feed(piece) for piece in _pieces(data[:-1], 64))  # all but the trailer
    assert out == data[:-1]
    assert out + strip.feed(data[-1:]) + strip.finish() == data


def test_an_application_extension_that_goes_is_walked_over_without_being_held():
    huge = _with(b.gif_application_extension(b"XMP DataXMP", b"x" * 3_000_000))
    strip = metadata.open_strip(huge[:16], len(huge), None, max_buffered=0)
    walk = strip._walk  # noqa: SLF001
    out = []
    for piece in _pieces(huge, 65536):
        out.append(strip.feed(piece))
        assert len(walk._buf) <= 65536 + 256  # noqa: SLF001
    out.append(strip.finish())
    assert b"".join(out) == _plain() and strip.removed == ("xmp",)


def test_a_held_extension_is_measured_from_its_own_start_not_from_the_piece_it_came_in(monkeypatch):
    # MAX_HELD_EXTENSION (16 MB and a little) patched to this ICC extension's size. The piece that
    # brings all of it but its terminator also holds the header and the colour table before it.
    extension = b.gif_application_extension(gif.ICC_APPLICATION, b.icc_profile())
    data = _with(extension)
    end = data.index(extension) + len(extension)
    monkeypatch.setattr(gif, "MAX_HELD_EXTENSION", len(extension))
    assert _fed(data, [data[: end - 1], data[end - 1 :]])[0] == data


@pytest.mark.parametrize(
    ("length", "reason"),
    [
        (7, "screen width needs 2 bytes but 1 are left at offset 6"),
        (9, "screen height needs 2 bytes but 1 are left at offset 8"),
        (10, "screen flags needs 1 bytes but 0 are left at offset 10"),
        (12, "background colour and aspect ratio needs 2 bytes but 1 are left at offset 11"),
        (113, "global colour table needs 768 bytes but 100 are left at offset 13"),
    ],
)
def test_a_header_cut_off_by_the_end_of_the_file_is_refused_naming_the_field(length, reason):
    assert_refused(_plain()[:length], reason=f"^{re.escape('GIF: ' + reason)}$")


def test_a_signature_of_another_gif_version_is_refused():
    with pytest.raises(ImageError, match=f"^{re.escape('GIF: no GIF87a/GIF89a signature at offset 0')}$"):
        gif.strip(b"GIF88a" + _plain()[6:], False)


def _unit_ends(data: bytes) -> list[int]:
    """Test-side walk of a GIF with nothing to drop: where each part the walk passes on as one
    piece ends (header and colour table; an extension; an image descriptor with its colour table
    and code size; each data sub-block; the 00 after them; the trailer)."""
    table = lambda flags: 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0  # noqa: E731
    pos = 13 + table(data[10])
    ends = [0, pos]
    while data[pos] != 0x3B:
        if data[pos] == 0x21:
            pos += 2
            while data[pos]:
                pos += 1 + data[pos]
        else:
            pos += 10 + table(data[pos + 9]) + 1
            ends.append(pos)
            while data[pos]:
                pos += 1 + data[pos]
                ends.append(pos)
        pos += 1
        ends.append(pos)
    return [*ends, pos + 1]


def _local_table_only() -> bytes:
    """The plain GIF with its 256 colours moved from the screen's global table to the image's own."""
    data = _plain()
    image = data.index(b"\x2c", 13 + 3 * 256)
    return data[:10] + bytes((data[10] & 0x7F,)) + data[11:13] + data[image : image + 9] + bytes((data[image + 9] | 0x87,)) + data[13:image] + data[image + 10 :]


GIF_SHAPES = {
    "plain": _plain,
    "animated": lambda: b.gif(animated=True, comment=False, extensions=False),  # a loop extension, graphic controls
    "local colour table only": _local_table_only,
}


@pytest.mark.parametrize("shape", sorted(GIF_SHAPES))
@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11, 64, 300, 1 << 20])
def test_each_part_is_passed_on_as_soon_as_its_last_byte_arrives(shape, size):
    data = GIF_SHAPES[shape]()
    ends = _unit_ends(data)
    strip = metadata.open_strip(data[:16], len(data), None, max_buffered=0)
    out, fed = b"", 0
    for piece in _pieces(data, size):
        out += strip.feed(piece)
        fed += len(piece)
        assert out == data[: max(end for end in ends if end <= fed)], f"after {fed} bytes"
    assert out + strip.finish() == data


def test_a_gif_with_only_a_local_colour_table_is_served_as_it_is():
    data = _local_table_only()
    assert data[10] & 0x80 == 0 and data[13 + 9] & 0x87 == 0x87  # no global table; the image's own, 256 colours
    assert metadata.strip(data) == data
    assert b.decoded(data).tobytes() == b.decoded(_plain()).tobytes()


def test_bytes_after_the_trailer_go_as_a_trailer():
    result = metadata.clean(_plain() + b"x")
    assert result.data == _plain() and result.removed == ("trailer",)


@pytest.mark.parametrize(("height", "served"), [(5000, True), (5001, False)])
def test_a_logical_screen_of_max_pixels_is_served_and_one_row_more_refused(height, served):
    data = _plain()[:6] + (50000).to_bytes(2, "little") + height.to_bytes(2, "little") + _plain()[10:]
    if served:
        assert metadata.strip(data) == data
    else:
        assert_refused(data, reason=f"^{re.escape(f'GIF: logical screen declares 50000x{height} pixels, over the limit of 250000000')}$")


def _with_frame(width: int, height: int, rest: bytes) -> bytes:
    """The plain GIF with a frame of width x height before its image: descriptor, then `rest`."""
    return _with(b"\x2c" + bytes(4) + width.to_bytes(2, "little") + height.to_bytes(2, "little") + b"\x00" + rest)


@pytest.mark.parametrize(("height", "served"), [(5000, True), (5001, False)])
def test_a_frame_of_max_decoded_pixels_is_served_and_one_row_more_refused(height, served):
    # MAX_DECODED_PIXELS is 40,000,000 (8000 x 5000); the frame's data ends before its pixels do.
    data = _with_frame(8000, height, b"\x02\x02\x44\x01\x00")
    if served:
        assert metadata.strip(data) == data
    else:
        at = data.index(b"\x2c", 13 + 3 * 256)
        assert_refused(data, reason=f"^{re.escape(f'GIF: image at offset {at} declares 8000x{height} pixels')}$")


@pytest.mark.parametrize("code_size", [1, 9])
def test_an_lzw_code_size_out_of_2_to_8_is_refused(code_size):
    data = _with_frame(1, 1, bytes((code_size,)) + b"\x02\x44\x01\x00")
    at = data.index(b"\x2c", 13 + 3 * 256)
    assert_refused(data, reason=f"^{re.escape(f'GIF: image at offset {at} has an LZW minimum code size of {code_size}')}$")


def test_frame_data_that_does_not_decode_is_refused():
    data = _with_frame(4, 4, b"\x02\x02\x00\xff\x00")  # a code the table does not have yet
    at = data.index(b"\x2c", 13 + 3 * 256)
    assert_refused(data, reason=f"^{re.escape(f'GIF: the image data at offset {at} does not decode (error -2)')}$")


@pytest.mark.parametrize(("after_end", "served"), [(b"\x02ab", True), (b"\x01a\x01b", False)])
def test_data_after_a_frames_end_is_counted_over_its_sub_blocks(after_end, served):
    # MAX_DATA_AFTER_END is 3 bytes, size bytes included: one sub-block of 2 bytes, or two of 1 (4 in all).
    data = _with_frame(1, 1, b"\x02\x02\x44\x01" + after_end + b"\x00")
    if served:
        assert metadata.strip(data) == data
    else:
        at = data.index(b"\x2c", 13 + 3 * 256)
        assert_refused(data, reason=f"^{re.escape(f'GIF: the image at offset {at} has 4 bytes of data after its end')}$")
