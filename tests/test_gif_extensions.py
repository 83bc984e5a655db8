"""GIF extension blocks one at a time: what is kept, what goes (and is logged as what), and what is
refused, each behind a plain GIF's header so that nothing else decides the answer."""

from __future__ import annotations

import re

import pytest

import image_builders as b
import metadata
from metadata import ImageError
from metadata_checks import assert_refused


def _plain() -> bytes:
    return b.gif(comment=False, extensions=False)


def _with(block: bytes) -> bytes:
    """The plain GIF with `block` just before its first image descriptor."""
    data = _plain()
    first_image = data.index(b"\x2c", 13 + 3 * 256)
    return data[:first_image] + block + data[first_image:]




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


@pytest.mark.parametrize("case", sorted(CUT_OFF_KEPT_EXTENSIONS))
def test_a_kept_extension_cut_off_by_the_end_of_the_file_is_refused_naming_it(case):
    block, reason = CUT_OFF_KEPT_EXTENSIONS[case]
    data = _plain()
    at = data.index(b"\x2c", 13 + 3 * 256)  # the first image descriptor, where the extension goes
    assert_refused(data[:at] + block, reason=f"^{re.escape('GIF: ' + reason(at))}$")


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
