"""Where a JPEG XL codestream ends: real codestreams (pillow-jxl-plugin, also transcoded
from JPEG with an ICC profile, so the entropy-coded ICC stream is walked) end exactly at
their last byte; hand-built codestreams (a tiny bit writer below, field by field as
ISO/IEC 18181-1 lays them out) cover what the encoder never writes: several frames, a
permuted TOC, hostile sizes and counts. Trailing bytes are cut from what is served."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import image_builders as b
import isobmff_builders as ib
import metadata
from metadata import ImageError
from metadata.formats import jxl_codestream, jxl_entropy
from metadata.formats.jxl_bits import WINDOW_BYTES, BitReader, ceil_log2
from metadata.formats.jxl_codestream import codestream_end
from metadata.limits import MAX_JXL_FRAMES, MAX_JXL_ICC_STREAM
from metadata.formats.jxl_entropy import EntropyCode, SymbolReader
from jxl_bit_builders import (
    ANS_FINAL_STATE,
    Bits,
    ans_icc_stream,
    canonical_codes,
    complex_prefix_code,
    exact_histogram,
    log_count_histogram,
    prefix_icc_stream,
    then,
)
from metadata_checks import assert_refused
from operation_counts import count_calls

TRAILER = b"after the last frame " + b.SECRET


def _end(codestream: bytes) -> int:
    return codestream_end([memoryview(codestream)], "JPEG XL")


ENCODED = {
    "vardct": lambda: ib.encode_jxl(b.pattern(size=(300, 200)), use_container=False),
    "vardct-multi-group": lambda: ib.encode_jxl(b.pattern(size=(700, 500)), use_container=False, effort=9),
    "lossless": lambda: ib.encode_jxl(b.pattern(size=(300, 200)), use_container=False, lossless=True),
    "lossless-multi-group": lambda: ib.encode_jxl(b.pattern(size=(700, 500)), use_container=False, lossless=True),
    "fast": lambda: ib.encode_jxl(b.pattern(size=(300, 200)), use_container=False, effort=1, decoding_speed=4),
    "low-quality": lambda: ib.encode_jxl(b.pattern(size=(300, 200)), use_container=False, quality=30),
    "alpha": lambda: ib.encode_jxl(b.pattern("RGBA", size=(300, 200)), use_container=False),
    "grey-alpha-lossless": lambda: ib.encode_jxl(b.pattern("LA", size=(300, 200)), use_container=False, lossless=True),
    "tiny": lambda: ib.encode_jxl(b.pattern(size=(1, 1)), use_container=False),
}


@pytest.mark.parametrize("case", sorted(ENCODED))
def test_encoded_codestream_ends_at_its_last_byte(case):
    codestream = ENCODED[case]()
    assert _end(codestream) == len(codestream)
    assert _end(codestream + TRAILER) == len(codestream)
    assert metadata.strip(codestream + TRAILER) == codestream


def _transcoded_jpeg(tmp_path, icc: bytes | None, subsampling: int) -> bytes:
    """A JPEG (with its ICC profile) recompressed losslessly into JPEG XL; the codestream
    of the jxlp parts (pillow-jxl-plugin writes them around a jbrd box)."""
    path = tmp_path / "source.jpg"
    options = {"quality": 90, "subsampling": subsampling}
    if icc:
        options["icc_profile"] = icc
    b.pattern(size=(300, 200)).save(path, "JPEG", **options)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Image.open(path).save(buffer, "JXL", lossless_jpeg=True)
    container = buffer.getvalue()
    return b"".join(container[p + 4 : e] for kind, _, p, e in ib.boxes(container) if kind == b"jxlp")


@pytest.mark.parametrize("icc", [True, False], ids=["icc", "no-icc"])
@pytest.mark.parametrize("subsampling", [0, 2], ids=["444", "420"])
def test_jpeg_transcoded_codestream_with_its_icc_stream_ends_at_its_last_byte(tmp_path, icc, subsampling):
    codestream = _transcoded_jpeg(tmp_path, b.icc_profile() if icc else None, subsampling)
    assert _end(codestream) == len(codestream)
    stripped = metadata.strip(codestream + TRAILER)
    assert stripped == codestream
    assert ib.decoded_rgba(stripped)[0] == (300, 200)


# ---------------------------------------------------------------- the conformance suite's files

CONFORMANCE = Path(__file__).parent / "data" / "jxl-conformance"


def _conformance_codestream(data: bytes) -> bytes:
    if data[:2] == b"\xff\x0a":
        return data
    return b"".join(data[p:e] for kind, _, p, e in ib.boxes(data) if kind == b"jxlc")


@pytest.mark.parametrize("name", sorted(path.name for path in CONFORMANCE.glob("*.jxl")))
def test_conformance_file_ends_at_its_last_frame(name):
    data = (CONFORMANCE / name).read_bytes()
    codestream = _conformance_codestream(data)
    assert _end(codestream) == len(codestream)
    stripped = metadata.strip(data)
    assert _conformance_codestream(stripped) == codestream
    assert ib.decoded_rgba(stripped) == ib.decoded_rgba(codestream)
    if data is codestream:
        assert stripped == data
        assert metadata.strip(data + TRAILER) == data


def test_conformance_container_loses_its_jpeg_reconstruction_data():
    result = metadata.clean((CONFORMANCE / "grayscale_jpeg.jxl").read_bytes())
    assert result.removed == ("other",)
    assert ib.top_level_types(result.data) == [b"JXL ", b"ftyp", b"jxlc"]


# ---------------------------------------------------------------- hand-built codestreams


def _header(
    bits: Bits,
    *,
    width_div8: int = 1,
    height_div8: int = 1,
    want_icc: bool = False,
    icc_size: int = 0,
    preview: bool | Bits = False,
    timecodes: bool | None = None,
    extra_channels: int = 0,
    intensity_target: int | None = None,
) -> Bits:
    """Signature, SizeHeader, ImageMetadata (with a 128 x 128 preview, or the PreviewHeader
    given, an animation with or without timecodes, default alpha channels when asked),
    default transform data, and the ICC stream's size when `want_icc`. Tone mapping is
    the default unless an `intensity_target` (half float bits) is given."""
    bits.put(0x0AFF, 16)  # FF 0A
    bits.put(1, 1).put(height_div8 - 1, 5).put(0, 3).put(width_div8 - 1, 5)  # SizeHeader, div8, ratio 0
    extra_fields = preview is not False or timecodes is not None or intensity_target is not None
    if not (want_icc or extra_fields or extra_channels):
        return bits.put(1, 1).put(1, 1)  # ImageMetadata and transform data: all default
    bits.put(0, 1).put(int(extra_fields), 1)  # not all default
    if extra_fields:
        bits.put(0, 3).put(0, 1)  # orientation 1, no intrinsic size
        bits.put(int(preview is not False), 1)
        if isinstance(preview, Bits):
            then(bits, preview)
        elif preview:
            bits.put(1, 1).u32(0).put(1, 3)  # div8, height 16 * 8, ratio 1:1
        bits.put(int(timecodes is not None), 1)
        if timecodes is not None:
            bits.u32(0).u32(0).u32(0).put(int(timecodes), 1)  # 100/1 ticks a second, no loops
    bits.put(0, 1).u32(0)  # 8-bit integer samples
    bits.put(1, 1)  # 16-bit buffers suffice
    bits.u32(min(extra_channels, 1)) if extra_channels <= 1 else bits.u32(2, extra_channels - 2, 4)
    for _ in range(extra_channels):
        bits.put(1, 1)  # a default (8-bit alpha) channel
    bits.put(1, 1)  # xyb_encoded
    if want_icc:
        bits.put(0, 1).put(1, 1).u32(0)  # ColorEncoding: not default, want_icc, RGB
    else:
        bits.put(1, 1)  # sRGB
    if intensity_target is not None:  # tone mapping: intensity target, min nits 0, relative, linear below 0
        bits.put(0, 1).put(intensity_target, 16).put(0, 16).put(1, 1).put(0, 16)
    elif extra_fields:
        bits.put(1, 1)  # default tone mapping
    bits.u32(0)  # no extensions (U64 0)
    bits.put(1, 1)  # default transform data
    if want_icc:
        bits.u64(icc_size)
    return bits


def _frame(
    bits: Bits,
    section_sizes: list[int],
    *,
    last: bool,
    permutation: list[int] | Bits | None = None,
    pad_bit: int = 0,
    extra_channels: int = 0,
    duration: int | None = None,
    timecode: int | None = None,
) -> Bits:
    """A modular frame (group size 128) with the given TOC; sections filled by _codestream.
    `permutation`: its Lehmer code (see _permutation), or the whole permuted TOC's bits.
    `duration` (and `timecode`) when the image is animated; `pad_bit` goes into the
    padding after the TOC entries."""
    bits.put(0, 1).put(0, 2).put(1, 1)  # not all default, regular frame, modular
    bits.u32(0)  # flags (U64 0)
    bits.put(0, 2)  # no upsampling
    for _ in range(extra_channels):
        bits.put(0, 2)  # nor for the extra channel
    bits.put(0, 2)  # group_size_shift 0
    bits.u32(0)  # one pass
    bits.put(0, 1)  # no crop
    for _ in range(1 + extra_channels):
        bits.u32(0)  # blend mode replace
    if duration is not None:
        bits.u32(2, duration, 8)
        if timecode is not None:
            bits.put(timecode, 32)
    bits.put(int(last), 1)
    if not last:
        bits.put(0, 2)  # save_as_reference 0
        if not duration:
            bits.put(0, 1)  # save_before_colour_transform: only a frame that can be referenced
    bits.u32(0)  # no name
    bits.put(1, 1)  # default loop filter
    bits.u32(0)  # no extensions
    if permutation is None:
        bits.put(0, 1)
    elif isinstance(permutation, Bits):
        then(bits.put(1, 1), permutation)
    else:
        bits.put(1, 1)
        _permutation(bits, len(section_sizes), permutation)
    bits.pad()
    for size in section_sizes:
        assert size < 1024
        bits.u32(0, size, 10)
    if bits.count % 8:
        bits.put(pad_bit, 1)
    return bits.pad()


def _permutation(bits: Bits, sections: int, lehmer: list[int]) -> None:
    """Its entropy code: no LZ77, one cluster (simple map), a prefix code of the symbols
    0..3 at two bits each (simple, tree-select 0), hybrid integers literal below 16."""
    bits.put(0, 1)  # no LZ77
    bits.put(1, 1).put(0, 2)  # simple cluster map, 0 bits each: one cluster
    bits.put(1, 1)  # prefix codes
    bits.put(4, 4).put(0, 3).put(0, 3)  # hybrid config: split exponent 4, no msb/lsb in token
    bits.put(1, 1).put(1, 4).put(1, 1)  # alphabet size 1 + 2 + 1 = 4
    bits.put(1, 2).put(3, 2)  # simple prefix code of 4 symbols
    for symbol in range(4):
        bits.put(symbol, 2)
    bits.put(0, 1)  # tree-select 0: every code 2 bits

    def symbol(value: int) -> None:  # canonical code, most significant bit first
        bits.put(value >> 1, 1).put(value & 1, 1)

    symbol(len(lehmer))
    for value in lehmer:
        symbol(value)


def _codestream(frames: list[tuple[list[int], dict]], *, last_frame: bool = True, **header) -> bytes:
    """Header, then each frame's header and TOC followed by its sections' bytes; the
    last frame is marked so when `last_frame`."""
    out = _header(Bits(), **header).data()
    filler = 0x30
    for index, (sizes, options) in enumerate(frames):
        bits = Bits()
        _frame(bits, sizes, last=last_frame and index == len(frames) - 1, **options)
        out += bits.data()
        for size in sizes:
            out += bytes([filler]) * size
            filler += 1
    return out


def test_frames_up_to_the_last_are_kept_and_what_follows_is_cut():
    codestream = _codestream([([17], {}), ([40], {}), ([3], {})])
    assert _end(codestream) == len(codestream)
    assert metadata.strip(codestream + TRAILER) == codestream
    assert metadata.clean(codestream + TRAILER).removed == ("trailer",)


def test_preview_and_animation_frames_are_walked():
    header = {"preview": True, "timecodes": True, "extra_channels": 1}
    preview = {"extra_channels": 1, "duration": 0, "timecode": 0}  # 128 x 128: one section
    frame = {"extra_channels": 1, "duration": 10, "timecode": 0xDEADBEEF}
    codestream = _codestream([([12], preview), ([7], frame), ([8], frame), ([9], frame)], **header)
    assert _end(codestream) == len(codestream)
    assert metadata.strip(codestream + TRAILER) == codestream


# PreviewHeader: div8, height, ratio (0: then the width); sections of its frame in 128-pixel
# groups: 1 LF global + 1 LF group + 1 HF global + one per group. A ratio gives the width as
# height * numerator // denominator: 214 * 12 // 10 = 256 (not 256.8: 2 groups, not 3).
PREVIEWS = {
    "div8-with-width": (Bits().put(1, 1).u32(2, 24, 5).put(0, 3).u32(2, 30, 5), 7),  # 248 x 200: 2 x 2 groups
    "with-width": (Bits().put(0, 1).u32(1, 135, 8).put(0, 3).u32(1, 235, 8), 9),  # 300 x 200: 3 x 2 groups
    "ratio-12:10": (Bits().put(0, 1).u32(1, 214 - 65, 8).put(2, 3), 7),  # 256 x 214: 2 x 2 groups
    "ratio-2:1": (Bits().put(0, 1).u32(1, 214 - 65, 8).put(7, 3), 11),  # 428 x 214: 4 x 2 groups
}


@pytest.mark.parametrize("name", sorted(PREVIEWS))
def test_preview_size_gives_the_sections_of_the_preview_frame(name):
    size, sections = PREVIEWS[name]
    codestream = _codestream([(list(range(1, sections + 1)), {}), ([5], {})], preview=size, width_div8=8, height_div8=8)
    assert _end(codestream) == len(codestream)
    assert metadata.strip(codestream + TRAILER) == codestream


@pytest.mark.parametrize(("bits", "walked"), [(0x7BFF, True), (0x7C00, False), (0xFE00, False)], ids=["65504", "infinity", "nan"])
def test_tone_mapping_half_float_must_be_finite(bits, walked):
    codestream = _codestream([([4], {})], intensity_target=bits)
    if walked:
        assert _end(codestream) == len(codestream)
    else:
        assert_refused(codestream, reason="a half float is not a finite number")


def test_animation_without_timecodes_is_walked():
    frame = {"duration": 5, "extra_channels": 3}
    codestream = _codestream([([3], frame), ([4], frame)], timecodes=False, extra_channels=3)
    assert _end(codestream) == len(codestream)


def test_permuted_toc_is_decoded_to_find_the_sections():
    # 256 x 8 pixels in 128-pixel groups: 2 groups, 1 LF group, so 1 + 1 + 1 + 2 sections.
    codestream = _codestream([([5, 6, 7, 8, 9], {"permutation": [1, 2, 0]})], width_div8=32)
    assert _end(codestream) == len(codestream)
    assert metadata.strip(codestream + TRAILER) == codestream


def test_permutation_longer_than_the_toc_is_refused():
    codestream = _codestream([([5, 6, 7, 8, 9], {"permutation": [3, 3, 3]})], width_div8=32)
    assert_refused(codestream, reason=re.escape("JPEG XL: TOC permutation out of range (at byte "))


def test_nonzero_padding_after_the_toc_is_refused():
    codestream = _codestream([([17], {"pad_bit": 1})])
    assert_refused(codestream, reason="padding bits before a byte boundary are not zero")


def test_section_past_the_end_is_refused():
    assert_refused(_codestream([([17], {}), ([900], {})])[:-1], reason="ends inside a frame's sections")


def test_codestream_without_a_last_frame_is_refused():
    assert_refused(_codestream([([4], {}), ([4], {})], last_frame=False), reason="ends inside a header field")


def test_too_many_frames_are_refused_in_bounded_time(monkeypatch):
    # The walk stops at the limit: MAX_JXL_FRAMES frames are read, the next one is not.
    frame = _frame(Bits(), [0], last=False).data()
    codestream = _header(Bits()).data() + frame * (MAX_JXL_FRAMES + 2)
    frames_read = count_calls(monkeypatch, jxl_codestream, "_frame")
    with pytest.raises(ImageError, match=f"more than {MAX_JXL_FRAMES} frames"):
        metadata.strip(codestream)
    assert frames_read.count == MAX_JXL_FRAMES


def test_max_jxl_frames_boundary(monkeypatch):
    # MAX_JXL_FRAMES (16,384 frames: half a second to walk) patched to 3 at the module that reads
    # it; the real limit is reached by test_too_many_frames_are_refused_in_bounded_time.
    monkeypatch.setattr(jxl_codestream, "MAX_JXL_FRAMES", 3)
    at = _codestream([([4], {})] * 3)
    assert _end(at) == len(at)
    assert metadata.strip(at + TRAILER) == at
    with pytest.raises(ImageError, match="more than 3 frames"):
        metadata.strip(_codestream([([4], {})] * 4))

def test_icc_stream_over_the_limit_is_refused():
    bits = _header(Bits(), want_icc=True, icc_size=MAX_JXL_ICC_STREAM + 1)
    assert_refused(bits.data() + bytes(16), reason=f"ICC profile stream of {MAX_JXL_ICC_STREAM + 1} bytes, over the limit")


def test_icc_stream_at_the_limit_is_walked_in_bounded_time(monkeypatch):
    # One cluster of a one-symbol prefix code: every ICC byte costs no bits at all, and one
    # symbol is decoded per byte with the code read once.
    bits = _header(Bits(), want_icc=True, icc_size=MAX_JXL_ICC_STREAM)
    bits.put(0, 1).put(1, 1).put(0, 2)  # no LZ77, simple cluster map: one cluster
    bits.put(1, 1).put(15, 4).put(0, 1)  # prefix codes, split exponent 15, alphabet of 1
    codestream = bits.data() + _frame(Bits(), [2], last=True).data() + b"ok"
    codes_read = count_calls(monkeypatch, jxl_codestream, "EntropyCode")
    symbols_decoded = count_calls(monkeypatch, jxl_entropy.SymbolReader, "decode")
    assert _end(codestream) == len(codestream)
    assert (codes_read.count, symbols_decoded.count) == (1, MAX_JXL_ICC_STREAM)


def _ans_icc(final_state: int) -> bytes:
    """An ICC stream of 300 bytes coded with ANS: one cluster whose distribution has a
    single symbol (0), so every byte costs no bits and the state stays where it starts."""
    bits = _header(Bits(), want_icc=True, icc_size=300)
    bits.put(0, 1).put(1, 1).put(0, 2).put(0, 1)  # no LZ77, one cluster, ANS
    bits.put(0, 2).put(5, 3)  # log alphabet size 5; hybrid config: split exponent 5
    bits.put(1, 2).put(0, 1)  # one-symbol distribution, symbol 0
    bits.put(final_state, 32)  # the initial state, which one symbol never changes
    return bits.data() + _frame(Bits(), [2], last=True).data() + b"ok"


def test_ans_coded_icc_stream_is_walked():
    codestream = _ans_icc(0x130000)
    assert _end(codestream) == len(codestream)


@pytest.mark.parametrize("state", [0x130001, 0x130080, 0x131000], ids=["position-1", "bucket-1", "above-the-12-bits"])
def test_ans_stream_not_ending_in_its_final_state_is_refused(state):
    # A one-symbol distribution leaves any state as it is (buckets of 128 positions here: 0x80
    # is the first position of the second), so the stream ends in the state it starts in.
    assert_refused(_ans_icc(state), reason="ANS stream does not end in its final state")


def test_image_over_the_pixel_limit_is_refused():
    bits = Bits().put(0x0AFF, 16).put(0, 1).u32(3, (1 << 30) - 1, 30).put(1, 3)  # 2^30 x 2^30
    assert_refused(bits.data() + bytes(8), reason="over the limit of")


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_codestreams_strip_or_raise_image_error(draw):
    seed = _codestream([([5, 6, 7, 8, 9], {"permutation": [1, 2, 0]}), ([3], {})], width_div8=32)
    data = bytearray(seed + TRAILER)
    for _ in range(draw.draw(st.integers(1, 3))):
        data[draw.draw(st.integers(0, len(seed) - 1))] = draw.draw(st.integers(0, 255))
    try:
        stripped = metadata.strip(bytes(data))
    except ImageError:
        return
    assert b.SECRET not in stripped
    assert metadata.strip(stripped) == stripped


# ---------------------------------------------------------------- the bit reader (jxl_bits): half floats, U64, reads at the end


def _upsampling_weights_codestream(last_weight: int) -> bytes:
    """An 8 x 8 codestream whose transform data has custom 2x upsampling weights: 15 half
    floats, the first 14 of them 1.0 and the last `last_weight`, then one frame."""
    bits = Bits().put(0x0AFF, 16).put(1, 1).put(0, 5).put(0, 3).put(0, 5)  # FF 0A, 8 x 8 (30 bits)
    bits.put(1, 1)  # ImageMetadata all default (XYB)
    bits.put(0, 1).put(1, 1).put(1, 3)  # custom transform data: default opsin matrix, 2x weights
    for weight in [0x3C00] * 14 + [last_weight]:
        bits.put(weight, 16)  # 36 + 15 * 16 = 276 bits read at the last weight
    return _frame(bits.pad(), [6], last=True).data() + bytes(6)


# F16 exponent bits 0x7C00 all set: infinity (mantissa 0) or NaN; finite values include those
# whose bits lie within the exponent's (2.0 = 0x4000, the largest 65504 = 0x7BFF).
FINITE_F16 = [0x0000, 0x3C00, 0x4000, 0x7800, 0x7BFF, 0xFBFF, 0x8000]
NOT_FINITE_F16 = [0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFFFF]


@pytest.mark.parametrize("weight", FINITE_F16, ids=hex)
def test_finite_half_float_is_read_as_sixteen_bits(weight):
    codestream = _upsampling_weights_codestream(weight)
    assert _end(codestream + TRAILER) == len(codestream)


@pytest.mark.parametrize("weight", NOT_FINITE_F16, ids=hex)
def test_half_float_infinity_or_nan_is_refused(weight):
    reason = "JPEG XL: a half float is not a finite number (at byte 34 of the codestream)"  # 276 // 8
    with pytest.raises(ImageError, match=re.escape(reason)):
        _end(_upsampling_weights_codestream(weight))


def test_u64_of_64_bits_takes_4_bits_after_bit_60():
    bits = Bits().put(3, 2).put(0xFFF, 12)  # selector 3: 12 bits, then while a 1 bit, 8 more
    for _ in range(6):
        bits.put(1, 1).put(0xFF, 8)  # bits 12..59
    bits.put(1, 1).put(0xF, 4).put(0x5A, 8)  # bits 60..63: only 4; then a byte of something else
    reader = BitReader([memoryview(bits.data())], "JPEG XL")
    assert (reader.u64(), reader.pos, reader.u(8)) == (2**64 - 1, 2 + 12 + 6 * 9 + 1 + 4, 0x5A)


U64_FIELDS = {  # value: a writer of its bits (selector, then 0, 4, 8 or 12 + 8 + ... bits), fresh for each run
    0: lambda: Bits().put(0, 2),
    1: lambda: Bits().put(1, 2).put(0, 4),
    16: lambda: Bits().put(1, 2).put(15, 4),
    17: lambda: Bits().put(2, 2).put(0, 8),
    272: lambda: Bits().put(2, 2).put(255, 8),
    4095: lambda: Bits().put(3, 2).put(4095, 12).put(0, 1),
    4096 * 256 + 5: lambda: Bits().put(3, 2).put(5, 12).put(1, 1).put(0, 8).put(1, 1).put(1, 8).put(0, 1),
}


@pytest.mark.parametrize("value", sorted(U64_FIELDS))
def test_u64_of_every_selector_is_read(value):
    bits = U64_FIELDS[value]()
    length = bits.count
    reader = BitReader([memoryview(bits.put(0x5A, 8).data())], "JPEG XL")
    assert (reader.u64(), reader.pos, reader.u(8)) == (value, length, 0x5A)


def test_read_past_the_end_is_refused():
    reader = BitReader([memoryview(b"\xa5")], "JPEG XL")
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside a header field (at byte 0 of the codestream)")):
        reader.u(9)
    assert reader.u(8) == 0xA5


def test_read_past_the_end_inside_a_loaded_window_is_refused():
    # peek(9) on one byte loads a window wider than the data: a read must still stop at its end
    reader = BitReader([memoryview(b"\xa5")], "JPEG XL")
    assert reader.peek(9) == 0xA5
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside a header field (at byte 0 of the codestream)")):
        reader.u(9)
    assert reader.u(8) == 0xA5


def test_bit_reader_loads_its_window_once_per_window_of_reads(monkeypatch):
    # Reads shift one integer of WINDOW_BYTES bytes: a reader that loaded the bytes again for
    # each read would copy WINDOW_BYTES bytes per field (over a ranged span, one ranged read each).
    data = bytes(range(256)) * 16
    reader = BitReader([memoryview(data)], "JPEG XL")
    loads = []
    original = BitReader._bytes
    monkeypatch.setattr(BitReader, "_bytes", lambda self, start, count: loads.append(start) or original(self, start, count))
    assert [reader.u(8) for _ in range(len(data))] == list(data)
    assert len(loads) <= len(data) // WINDOW_BYTES + 1, loads


BIT_READER_DATA = bytes((index * 37 + 11) % 256 for index in range(700))
READ_SIZES = [13, 1, 30, 0, 7, 64, 9]


def _bits_at(pos: int, count: int) -> int:
    """Bits [pos, pos + count) of BIT_READER_DATA, least significant first, zero past its end."""
    return (int.from_bytes(BIT_READER_DATA, "little") >> pos) & ((1 << count) - 1)


PIECE_SIZES = {"whole": [700], "two": [500, 200], "with an empty one": [256, 0, 444], "bytes": [1] * 700, "sevens": [7] * 100}


@pytest.mark.parametrize("name", sorted(PIECE_SIZES))
def test_bit_reader_over_pieces_reads_what_the_whole_holds(name):
    pieces, start = [], 0
    for size in PIECE_SIZES[name]:
        pieces.append(memoryview(BIT_READER_DATA[start : start + size]))
        start += size
    reader = BitReader(pieces, "JPEG XL")
    pos, index = 0, 0
    while pos + READ_SIZES[index % len(READ_SIZES)] <= 700 * 8:
        count = READ_SIZES[index % len(READ_SIZES)]
        assert (reader.peek(count), reader.u(count)) == (_bits_at(pos, count), _bits_at(pos, count))
        pos, index = pos + count, index + 1
    assert reader.remaining() == 700 * 8 - pos
    assert reader.peek(64) == _bits_at(pos, 64)  # zero past the end
    reader.seek_byte(3, "a test")  # back before the loaded window
    assert (reader.byte_pos(), reader.u(16)) == (3, _bits_at(24, 16))
    reader.seek_byte(700, "a test")
    assert reader.remaining() == 0
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside a test (at byte 700 of")):
        reader.seek_byte(701, "a test")
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside a field (at byte 700 of")):
        reader.skip(1)


def test_skip_of_the_bits_left_reaches_the_end_and_a_negative_skip_is_refused():
    reader = BitReader([memoryview(b"\x00\x80")], "JPEG XL")
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside a gap (at byte 0 of")):
        reader.skip(-1, "a gap")
    reader.skip(15, "a gap")
    assert reader.u(1) == 1 and reader.remaining() == 0


def test_ceil_log2_is_the_bits_that_hold_every_value_below():
    # 0 and 1 values need no bits, 2 need 1, 3 and 4 need 2, 5 to 8 need 3, 9 need 4
    assert [ceil_log2(value) for value in range(10)] == [0, 0, 1, 2, 2, 3, 3, 3, 3, 4]


# ---------------------------------------------------------------- entropy code: ANS distributions
# Counts below are worked out by hand from ISO/IEC 18181-1 C.2.5 (libjxl ReadHistogram): a log
# count c >= 2 with shift s gives 2^(c-1) + (u(b) << (c-1-b)), b = min(max(0, s - ((12-(c-1)) >> 1)), c-1);
# the first largest log count is omitted and gets 4096 less the others.

HISTOGRAMS = {
    "every-log-count-shift-0": (
        log_count_histogram(0, [0, 12, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
        [0, 1, 2048, 1024, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1],
    ),
    "run-and-extra-bits-shift-6": (
        log_count_histogram(
            6, [5, ("run", 5), 9, 12, 12, 3, 2, 1, 0, 11], [(3, 2), (9, 4), (1, 6), (1, 1), (1, 1), (3, 5)]
        ),
        [28, 28, 28, 28, 28, 28, 400, 318, 2080, 6, 3, 1, 0, 1120],
    ),
    "shift-13-every-bit-read": (
        log_count_histogram(13, [9, 11, 2, 12], [(255, 8), (1023, 10), (1, 1)]),
        [511, 2047, 3, 1535],
    ),
    "all-zero-log-counts": (log_count_histogram(0, [0, 0, 0]), [4096, 0, 0]),
    "run-of-zeros-first": (log_count_histogram(0, [("run", 4), 1]), [0, 0, 0, 0, 4096]),
    "two-symbols": (Bits().put(3, 2).u8(4).u8(1).put(1000, 12), [0, 3096, 0, 0, 1000]),
    "one-symbol": (Bits().put(1, 2).u8(31), [0] * 31 + [4096]),
    "flat-of-3": (Bits().put(2, 2).u8(2), [1366, 1365, 1365]),
}


def _read_distribution(histogram: Bits) -> tuple[list[int], int]:
    """The counts an entropy code of one context, ANS with log alphabet size 5, reads from
    `histogram`, and the bits it read (all of them, when it reads exactly the histogram)."""
    bits = Bits().put(0, 1).put(0, 1).put(0, 2).put(5, 3)  # no LZ77, ANS, log alphabet 5, split 5
    then(bits, histogram)
    reader = BitReader([memoryview(bits.data() + b"\xff")], "JPEG XL")
    code = EntropyCode(reader, 1)
    return code.ans[0].counts, reader.pos


@pytest.mark.parametrize("name", sorted(HISTOGRAMS))
def test_ans_distribution_is_read_with_its_counts_and_nothing_more(name):
    histogram, counts = HISTOGRAMS[name]
    expected = counts + [0] * (32 - len(counts))
    assert sum(expected) == 4096
    assert _read_distribution(histogram) == (expected, 7 + histogram.count)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(5, 8), st.binary(min_size=40, max_size=40))
def test_every_ans_distribution_read_sums_to_4096_and_gets_its_alias_table(log_alpha, data):
    # Whatever the bits, a distribution is refused or its counts sum to 4096, all the positions
    # of the buckets: the alias table, built here too, relies on it (it lends the positions of
    # buckets under their share while some bucket is over, and never runs out of them).
    bits = Bits().put(0, 1).put(0, 1).put(log_alpha - 5, 2).put(log_alpha, ceil_log2(log_alpha + 1))  # split log_alpha
    bits.put(int.from_bytes(data, "little"), 8 * len(data))  # then any distribution
    reader = BitReader([memoryview(bits.data())], "JPEG XL")
    try:
        code = EntropyCode(reader, 1)
    except (jxl_entropy.EntropyError, ImageError) as error:
        assert re.search("ANS|the codestream ends inside", str(error)), error
        return
    assert sum(code.ans[0].counts) == 4096


def _icc_end(stream: bytes) -> int:
    return jxl_codestream.icc_stream_end(memoryview(stream), "JPEG XL")


SYMBOLS = [(index * 7 + index // 5) % 32 for index in range(300)]
UNIFORM = {
    "flat": (Bits().put(2, 2).u8(31), 5),
    "flat-256": (Bits().put(2, 2).u8(255), 8),
    "log-counts-with-a-run": (log_count_histogram(0, [8, 8, ("run", 30)]), 5),
}


@pytest.mark.parametrize("name", sorted(UNIFORM))
def test_ans_coded_icc_stream_is_decoded_to_its_end(name):
    histogram, log_alpha = UNIFORM[name]
    stream = ans_icc_stream(histogram, log_alpha, SYMBOLS)
    assert _icc_end(stream + b"trailing") == len(stream)


def _icc_values(stream: bytes, count: int) -> list[int]:
    """The first `count` values of the compressed ICC profile `stream`, all decoded in context 0
    (its cluster map puts every context in one cluster); the ANS state must then be the final one."""
    reader = BitReader([memoryview(stream)], "JPEG XL")
    reader.u64()
    symbols = SymbolReader(EntropyCode(reader, jxl_codestream.ICC_CONTEXTS), reader)
    values = [symbols.decode(0) for _ in range(count)]
    symbols.finish()
    return values


# Distributions whose symbols do not each fill one bucket of the alias table (4096 >> log_alpha
# positions), so buckets lend their positions past a cutoff to a symbol that overflows its own:
# (log alphabet size, counts by symbol, then the histogram when it is not written as exact log counts).
SKEWED = {
    "one-big-symbol-in-30-buckets": (5, {3: 3800, 0: 1, 7: 2, 12: 60, 20: 127, 31: 106}),
    "several-overflowing-one-just-over-and-one-full": (
        6,
        {0: 900, 1: 1, 2: 700, 5: 63, 6: 64, 7: 65, 9: 300, 13: 2, 20: 33, 21: 40, 40: 129, 41: 128, 63: 1671},
    ),
    "many-overflowing-by-up-to-2-buckets": (8, {index: 1 + index * 7 % 40 for index in range(0, 250, 2)} | {255: 1631}),
    "two-symbols": (7, {4: 1000, 100: 3096}, Bits().put(3, 2).u8(4).u8(100).put(1000, 12)),
    "flat-of-3": (5, {0: 1366, 1: 1365, 2: 1365}, Bits().put(2, 2).u8(2)),
    "one-symbol-not-0": (5, {9: 4096}, Bits().put(1, 2).u8(9)),
}


def _skewed_icc(name: str, state_xor: int = 0) -> tuple[bytes, list[int]]:
    """The ICC stream of the SKEWED distribution `name` (written as exact log counts unless it
    comes with its histogram) coding 1200 values: every other one its most frequent symbol,
    the others each symbol in turn; and those values."""
    log_alpha, by_symbol, *histogram = SKEWED[name]
    counts = [by_symbol.get(symbol, 0) for symbol in range(1 << log_alpha)]
    assert sum(counts) == 4096
    present = sorted(by_symbol)
    most = max(present, key=by_symbol.get)
    values = [present[(index * 7 + index // 5) % len(present)] if index % 2 else most for index in range(1200)]
    histogram = histogram[0] if histogram else exact_histogram(counts[: max(3, max(present) + 1)])
    return ans_icc_stream(histogram, log_alpha, values, counts, state_xor), values


@pytest.mark.parametrize("name", sorted(SKEWED))
def test_ans_coded_symbols_of_a_skewed_distribution_are_decoded_as_encoded(name):
    stream, values = _skewed_icc(name)
    assert _icc_values(stream, len(values)) == values
    assert _icc_end(stream + b"trailing") == len(stream)


@pytest.mark.parametrize("name", ["one-big-symbol-in-30-buckets", "many-overflowing-by-up-to-2-buckets"])
def test_ans_coded_icc_stream_with_a_corrupted_state_is_refused(name):
    stream, _ = _skewed_icc(name, state_xor=0x1000)
    reason = "JPEG XL: ICC profile entropy code: ANS stream does not end in its final state (at byte"
    with pytest.raises(ImageError, match=re.escape(reason)):
        _icc_end(stream + bytes(64))


def _ans_icc_header(histogram: Bits) -> Bits:
    stream = Bits().u64(0).put(0, 1).put(1, 1).put(0, 2)  # no bytes; no LZ77, one cluster
    stream.put(0, 1).put(0, 2).put(5, 3)  # ANS, log alphabet 5, split 5
    return then(stream, histogram)


MALFORMED_HISTOGRAMS = {
    "shift-14": (log_count_histogram(14, [8, 8, 8]), "ANS shift out of range"),
    "alphabet-over-32": (log_count_histogram(0, [8, 8, ("run", 31)]), "ANS alphabet too large"),
    "flat-alphabet-over-32": (Bits().put(2, 2).u8(32), "ANS alphabet too large"),
    "run-past-the-alphabet": (log_count_histogram(0, [8, ("run", 5)], alphabet=5), "invalid ANS log counts"),
    "only-runs": (log_count_histogram(0, [("run", 4)]), "invalid ANS log counts"),
    "run-after-the-omitted-count": (log_count_histogram(0, [12, ("run", 4)]), "ANS run after the omitted count"),
    "nothing-left-to-omit": (log_count_histogram(0, [12, 12, 12]), "invalid ANS counts"),
    "one-symbol-out-of-range": (Bits().put(1, 2).u8(32), "ANS symbol out of range"),
    "two-symbols-the-same": (Bits().put(3, 2).u8(4).u8(4), "ANS symbols out of range"),
    "two-symbols-out-of-range": (Bits().put(3, 2).u8(4).u8(32), "ANS symbols out of range"),
    "two-symbols-first-out-of-range": (Bits().put(3, 2).u8(32).u8(4), "ANS symbols out of range"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_HISTOGRAMS))
def test_malformed_ans_distribution_is_refused(name):
    histogram, reason = MALFORMED_HISTOGRAMS[name]
    stream = _ans_icc_header(histogram).put(ANS_FINAL_STATE, 32)
    with pytest.raises(ImageError, match=re.escape(f"JPEG XL: ICC profile entropy code: {reason} (at byte")):
        _icc_end(stream.data())


def test_icc_stream_ending_inside_a_log_count_is_refused():
    # Log counts of 10 (3 bits each) put the 7-bit code of the last one, 12, across a byte
    # boundary; the stream is cut 4 bits into it.
    for fillers in range(8):
        stream = _ans_icc_header(log_count_histogram(0, [10] * fillers + [12], alphabet=max(3, fillers + 1)))
        if (stream.count - 7 + 4) % 8 == 0:
            break
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside an ANS distribution (at byte")):
        _icc_end(stream.data()[: (stream.count - 3) // 8])


# ---------------------------------------------------------------- entropy code: LZ77 in a cluster map


def _lz77_cluster_map_icc(move_to_front: bool, tokens: list[int], clusters: int) -> bytes:
    """A compressed ICC profile of no bytes whose 41 contexts' cluster map is entropy-coded
    with LZ77: tokens below 224 are values, 224 + n copies 3 + n values from `distance`
    back, the next token being distance - 1. The tokens are 0, 1, 224 and 258 of a prefix
    code of two bits each. The map must give `clusters` clusters, each a one-symbol code."""
    bits = Bits().u64(0).put(0, 1)  # no bytes; no LZ77 for them
    bits.put(0, 1).put(int(move_to_front), 1)  # cluster map coded with its own entropy code
    bits.put(1, 1).put(0, 2).put(0, 2).put(8, 4)  # LZ77 from token 224, length 3 + (token - 224)
    bits.put(1, 1).put(0, 2)  # its 2 contexts (values, distances): one cluster
    bits.put(1, 1).put(15, 4)  # prefix codes, tokens below 2^15 are the values themselves
    bits.put(1, 1).put(8, 4).put(2, 8)  # alphabet of 1 + 256 + 2 symbols
    bits.put(1, 2).put(3, 2)  # simple prefix code of 4 symbols
    symbols = [0, 1, 224, 258]
    for symbol in symbols:
        bits.put(symbol, 9)
    bits.put(0, 1)  # all four codes two bits long: 00, 01, 10, 11 in symbol order
    for token in tokens:
        code = symbols.index(token)
        bits.put(code >> 1, 1).put(code & 1, 1)  # most significant bit first
    bits.put(1, 1)  # prefix codes for the bytes
    for _ in range(clusters):
        bits.put(15, 4)
    for _ in range(clusters):
        bits.put(0, 1)  # an alphabet of one symbol: no code to read
    return bits.data()


LZ77_CLUSTER_MAPS = {
    # 3 values copied from the empty window are zeros, then 37 copies of the last, then a 0:
    # all 41 contexts in cluster 0.
    "copy-from-the-empty-window": (False, [224, 0, 258, 0, 0], 1),
    # 1, three copies of the value one back (the window's first), 37 more: 41 ones, which
    # move-to-front turns into 1, 0, 1, 0...: two clusters.
    "copy-of-the-window-start": (True, [1, 224, 0, 258, 0], 2),
}


@pytest.mark.parametrize("name", sorted(LZ77_CLUSTER_MAPS))
def test_lz77_copies_in_an_entropy_coded_cluster_map_are_decoded(name):
    stream = _lz77_cluster_map_icc(*LZ77_CLUSTER_MAPS[name])
    assert _icc_end(stream + b"trailing") == len(stream)


# ---------------------------------------------------------------- ICC stream contexts


def _icc_context_probe(byte: int, context: int) -> bytes:
    """A compressed ICC profile of 130 bytes in three clusters of one-symbol prefix codes
    (no bits per byte): context 0 (the first 129 bytes) gives `byte`; `context` gives "A";
    every other context gives 300, which is not a byte. Byte 129 is coded in the context
    of its two predecessors, both `byte`: the stream is walked only if that is `context`."""
    bits = Bits().u64(130).put(0, 1)  # 130 bytes, no LZ77
    bits.put(1, 1).put(2, 2)  # simple cluster map, 2 bits a context
    for index in range(41):
        bits.put(0 if index == 0 else 1 if index == context else 2, 2)
    bits.put(1, 1)  # prefix codes
    for _ in range(3):
        bits.put(15, 4)  # values below 2^15 as they are
    for _ in range(3):
        bits.put(1, 1).put(8, 4).put(44, 8)  # an alphabet of 1 + 256 + 44 symbols
    for symbol in (byte, ord("A"), 300):
        bits.put(1, 2).put(0, 2).put(symbol, 9)  # a simple prefix code of that one symbol
    return bits.data()


# libjxl ICCANSContext: 1 + ByteKind1(previous) + 8 * ByteKind2(before). ByteKind1: letter 0,
# digit or . , 1, NUL 2, 0x01 3, other below 16 4, above 240 5, 0xFF 6, else 7; ByteKind2:
# letter 0, digit or . , 1, below 16 2, above 240 3, else 4.
BYTE_KINDS = {
    "A": (0, 0), "Z": (0, 0), "a": (0, 0), "z": (0, 0), "@": (7, 4), "[": (7, 4), "`": (7, 4), "{": (7, 4),
    "0": (1, 1), "9": (1, 1), "/": (7, 4), ":": (7, 4), ",": (1, 1), ".": (1, 1), "-": (7, 4),
    "\x00": (2, 2), "\x01": (3, 2), "\x02": (4, 2), "\x0f": (4, 2), "\x10": (7, 4), "\x7f": (7, 4),
    "\xc1": (7, 4), "\xda": (7, 4), "\xf0": (7, 4), "\xf1": (5, 3), "\xfe": (5, 3), "\xff": (6, 3),
}  # fmt: skip


@pytest.mark.parametrize("byte", sorted(BYTE_KINDS), ids=lambda byte: f"{ord(byte):02x}")
def test_icc_byte_is_coded_in_the_context_of_the_kinds_of_the_two_before_it(byte):
    kind, kind2 = BYTE_KINDS[byte]
    stream = _icc_context_probe(ord(byte), 1 + kind + 8 * kind2)
    assert _icc_end(stream) == len(stream)
    other = 1 + (kind + 1) % 8 + 8 * kind2  # the walk reaches the cluster of 300 in any other context
    with pytest.raises(ImageError, match="^" + re.escape("JPEG XL: ICC profile stream holds a value that is not a byte (at byte ")):
        _icc_end(_icc_context_probe(ord(byte), other))


# ---------------------------------------------------------------- entropy code: prefix codes

LONG_CODE_LENGTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11]  # codes past the 9-bit lookup table


def test_prefix_code_with_codes_longer_than_its_lookup_table_is_decoded():
    # Code lengths 1..5 coded in 3 bits, 6..11 in 4 (5/8 + 6/16 = 1).
    length_code = {length: 3 if length <= 5 else 4 for length in range(1, 12)}
    code = complex_prefix_code(length_code, LONG_CODE_LENGTHS)
    symbol_codes = canonical_codes(dict(enumerate(LONG_CODE_LENGTHS)))
    symbols = list(range(12)) + [11, 10, 9, 0, 11]
    stream = prefix_icc_stream(Bits().put(3, 4).put(3, 3), code, symbol_codes, symbols).data()  # 1 + 8 + 3 symbols
    assert _icc_end(stream + b"\xff" * 4) == len(stream)


def test_prefix_code_whose_lengths_all_have_one_code_is_decoded():
    # The code length code has one length in use (3), which takes no bits: 8 codes of 3 bits.
    code = complex_prefix_code({3: 1}, [3] * 8)
    symbol_codes = canonical_codes(dict.fromkeys(range(8), 3))
    stream = prefix_icc_stream(Bits().put(2, 4).put(3, 2), code, symbol_codes, [7, 0, 3, 5, 1]).data()  # 1 + 4 + 3
    assert _icc_end(stream + b"\xff" * 2) == len(stream)


def test_prefix_code_lengths_start_from_8_and_end_when_the_code_space_is_full():
    # 16 first repeats the default length 8 (three times); then lengths 1..6 and 9..15, 15
    # fill the space exactly (the last 15 takes its last unit); the alphabet's last three
    # symbols are left out (no length read). The code length code ends with its 15, which
    # takes the last 1/32 of its space.
    length_code = dict.fromkeys((16, 1, 2, 3), 3) | dict.fromkeys((4, 5, 6, 9, 10, 11), 4) | dict.fromkeys((12, 13, 14, 15), 5)
    lengths = [(16, 0), 1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 15]
    code = complex_prefix_code(length_code, lengths)
    symbol_lengths = dict(enumerate([8, 8, 8, 1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 15]))
    symbol_codes = canonical_codes(symbol_lengths)
    stream = prefix_icc_stream(Bits().put(4, 4).put(3, 4), code, symbol_codes, [16, 3, 0, 9, 15, 2, 8]).data()  # 1 + 16 + 3
    assert _icc_end(stream + b"\xff" * 2) == len(stream)


def test_prefix_code_lengths_with_repeat_codes_are_decoded():
    # 3 zeros first (17 with extra 0), then 4, three and five more 4s (16 after 16 adds
    # 4 * (3 - 2) + 1 + 3 - 3 = 5), 10 zeros, then 4 and six more: 16 codes of 4 bits.
    # The code length code skips its first three lengths (HSKIP 3: 1, 2 and 3 are unused).
    length_code = {0: 3, 4: 1, 16: 2, 17: 3}
    lengths = [(17, 0), 4, (16, 0), (16, 1), (17, 7), 4, (16, 3)]
    code = complex_prefix_code(length_code, lengths, hskip=3)
    coded = [3 + index for index in range(9)] + [22 + index for index in range(7)]
    symbol_codes = canonical_codes(dict.fromkeys(coded, 4))
    stream = prefix_icc_stream(Bits().put(4, 4).put(12, 4), code, symbol_codes, coded + coded[::-1]).data()  # 1 + 16 + 12
    assert _icc_end(stream + b"\xff" * 4) == len(stream)


def _one_symbol(symbol: int, size_bits: int) -> Bits:
    return Bits().put(1, 2).put(0, 2).put(symbol, size_bits)  # simple prefix code of one symbol


@pytest.mark.parametrize(
    ("token", "extra", "walked"),
    # split exponent 4, 1 msb and 1 lsb in the token: token 31 carries 5 extra bits, and with
    # them all set is ((0b11 << 5 | 31) << 1) | 1 = 255; token 32 carries 6, (0b10 << 6) << 1 = 256.
    [(31, (31, 5), True), (32, (0, 6), False)],
    ids=["255", "256"],
)
def test_hybrid_integer_with_msb_and_lsb_in_its_token_is_decoded(token, extra, walked):
    config = Bits().put(4, 4).put(1, 3).put(1, 2)  # split 4; msb in ceil(log2(5)) bits; lsb in ceil(log2(4))
    stream = Bits().u64(1).put(0, 1).put(1, 1).put(0, 2).put(1, 1)  # one byte, no LZ77, one cluster, prefix
    then(stream, config).put(1, 1).put(6, 4).put(0, 6)  # alphabet of 1 + 64 symbols
    then(stream, _one_symbol(token, 7)).put(*extra)
    if walked:
        assert _icc_end(stream.data() + b"\xff") == len(stream.data())
    else:
        with pytest.raises(ImageError, match="ICC profile stream holds a value that is not a byte"):
            _icc_end(stream.data())


# Split exponent 4, 1 msb and 1 lsb in the token (ISO/IEC 18181-1 annex C, by hand): a token t below
# 16 is its value; from 16 on it carries n = 2 + ((t - 16) >> 2) extra bits e, and the value is
# ((0b10 | (t >> 1) & 1) << n | e) << 1 | (t & 1).
HYBRID_TOKENS = {
    "15-below-the-split": (15, (0, 0), 15),
    "16-at-the-split": (16, (3, 2), (0b10 << 2 | 3) << 1),
    "17-its-lsb-set": (17, (1, 2), (0b10 << 2 | 1) << 1 | 1),
    "18-its-msb-set": (18, (0, 2), 0b11 << 2 << 1),
    "21-three-extra-bits": (21, (5, 3), (0b10 << 3 | 5) << 1 | 1),
    "31-five-extra-bits": (31, (31, 5), (0b11 << 5 | 31) << 1 | 1),
}


@pytest.mark.parametrize("name", sorted(HYBRID_TOKENS))
def test_hybrid_integer_token_is_decoded_with_its_extra_bits_to_its_value(name):
    token, extra, value = HYBRID_TOKENS[name]
    stream = Bits().put(0, 1).put(1, 1)  # no LZ77, prefix codes (one context: no cluster map)
    stream.put(4, 4).put(1, 3).put(1, 2)  # split 4; msb in ceil(log2(5)) bits; lsb in ceil(log2(4))
    then(stream.put(1, 1).put(6, 4).put(0, 6), _one_symbol(token, 7)).put(*extra)  # alphabet of 1 + 64 symbols
    reader = BitReader([memoryview(stream.data() + b"\xff")], "JPEG XL")
    symbols = SymbolReader(EntropyCode(reader, 1), reader)
    assert (symbols.decode(0), reader.pos) == (value, stream.count)


def _prefix_refusal(config: Bits, size: Bits, code: Bits, payload: Bits = Bits(), count: int = 1) -> bytes:
    stream = Bits().u64(count).put(0, 1).put(1, 1).put(0, 2).put(1, 1)
    then(then(then(then(stream, config).put(1, 1), size), code), payload)
    return stream.data()


SPLIT_15 = Bits().put(15, 4)
INCOMPLETE_LENGTH_CODE = Bits().put(0, 2).put(3, 3).put(3, 3).put(0, 2 * 16)  # lengths 2, 2, then 16 zeros
SIZE_12 = Bits().put(3, 4).put(3, 3)


def _ans_with_config(config: Bits) -> bytes:
    stream = Bits().u64(0).put(0, 1).put(1, 1).put(0, 2).put(0, 1).put(0, 2)  # no bytes, ANS, log alphabet 5
    return then(stream, config).data() + bytes(8)


MALFORMED_CODES = {
    "simple-symbol-past-the-alphabet": (_prefix_refusal(SPLIT_15, SIZE_12, _one_symbol(12, 4)), "invalid simple prefix code"),
    "simple-symbols-repeated": (
        _prefix_refusal(SPLIT_15, SIZE_12, Bits().put(1, 2).put(1, 2).put(3, 4).put(3, 4)),
        "invalid simple prefix code",
    ),
    "code-length-code-incomplete": (  # two code length codes of 2 bits, then none: 1/2 of the space
        _prefix_refusal(SPLIT_15, SIZE_12, INCOMPLETE_LENGTH_CODE),
        "invalid prefix code lengths",
    ),
    "code-incomplete": (  # lengths 1 and 2 for an alphabet of 2: 3/4 of the space
        _prefix_refusal(SPLIT_15, Bits().put(0, 4).put(0, 0), complex_prefix_code({1: 1, 2: 1}, [1, 2])),
        "incomplete prefix code",
    ),
    "lengths-past-the-alphabet": (
        _prefix_refusal(
            SPLIT_15,
            Bits().put(4, 4).put(11, 4),  # 1 + 16 + 11 = 28 symbols, one short of the lengths' 29
            complex_prefix_code({0: 3, 4: 1, 16: 2, 17: 3}, [(17, 0), 4, (16, 0), (16, 1), (17, 7), 4, (16, 3)]),
        ),
        "prefix code lengths run past the alphabet",
    ),
    "hybrid-split-over-the-alphabet": (_ans_with_config(Bits().put(6, 3)), "hybrid integer split out of range"),
    "hybrid-msb-over-the-split": (_ans_with_config(Bits().put(4, 3).put(5, 3)), "hybrid integer configuration out of range"),
    "hybrid-msb-and-lsb-over-the-split": (
        _ans_with_config(Bits().put(4, 3).put(2, 3).put(3, 2)),
        "hybrid integer configuration out of range",
    ),
    # split exponent 0: token 33 would carry 32 extra bits (token 32, 31: a value, not a byte)
    "hybrid-of-32-bits": (_prefix_refusal(Bits().put(0, 4), Bits().put(5, 4).put(2, 5), _one_symbol(33, 6)), "hybrid integer too large"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_CODES))
def test_malformed_entropy_code_is_refused(name):
    stream, reason = MALFORMED_CODES[name]
    with pytest.raises(ImageError, match=re.escape(f"JPEG XL: ICC profile entropy code: {reason} (at byte")):
        _icc_end(stream)


def test_stream_ending_inside_a_code_length_code_is_refused():
    stream = _prefix_refusal(SPLIT_15, SIZE_12, INCOMPLETE_LENGTH_CODE)
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside a prefix code (at byte")):
        _icc_end(stream[:-2])


def test_hybrid_integer_of_31_bits_is_read():
    stream = _prefix_refusal(Bits().put(0, 4), Bits().put(5, 4).put(2, 5), _one_symbol(32, 6), Bits().put(0, 31))
    with pytest.raises(ImageError, match="ICC profile stream holds a value that is not a byte"):
        _icc_end(stream)
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside a hybrid integer (at byte")):
        _icc_end(stream[:-1])


# ---------------------------------------------------------------- header fields encoders rarely write
# An 8 x 8 image (one section a frame) whose ImageMetadata, ColorEncoding, ExtraChannelInfo,
# FrameHeader blending, passes, crop and loop filter are written field by field as
# ISO/IEC 18181-1 (A.3, A.4, C.2) and libjxl's VisitFields lay them out.

F16_ONE = 0x3C00


def _f16s(bits: Bits, count: int) -> None:
    for _ in range(count):
        bits.put(F16_ONE, 16)


def _enum(bits: Bits, value: int) -> Bits:  # U32(0, 1, 2 + u(4), 18 + u(6))
    return bits.u32(value) if value < 2 else bits.u32(2, value - 2, 4) if value < 18 else bits.u32(3, value - 18, 6)


def _channel(kind: int, tail=lambda bits: None):  # noqa: ANN001, ANN202 - an ExtraChannelInfo writer
    def write(bits: Bits) -> None:
        _enum(bits.put(0, 1), kind)  # not all default
        bits.put(0, 1).u32(0)  # 8-bit integer samples
        bits.u32(0).u32(0)  # dim_shift 0, no name
        tail(bits)

    return write


EXTRA_CHANNELS = {
    "alpha": _channel(0, lambda bits: bits.put(1, 1)),  # alpha_associated
    "depth": _channel(1),
    "spot colour": _channel(2, lambda bits: _f16s(bits, 4)),  # red, green, blue, solidity
    "selection mask": _channel(3),
    "black": _channel(4),
    "CFA": _channel(5, lambda bits: bits.u32(3, 200 - 19, 8)),  # cfa_channel 200
    "thermal": _channel(6),
    "optional": _channel(16),
    "float samples": lambda bits: _enum(bits.put(0, 1), 1).put(1, 1).u32(3, 20, 6).put(7, 4).u32(3, 5, 3).u32(1, 3, 4).put(0x41, 8).put(0x42, 8).put(0x43, 8),
}


def _colour(space: int, *, white: int = 1, primaries: int = 1, gamma: bool = False):  # noqa: ANN202
    def write(bits: Bits) -> None:
        _enum(bits.put(0, 1).put(0, 1), space)  # not all default, no ICC
        if space != 2:  # XYB has neither white point, primaries nor transfer function
            _enum(bits, white)
            if white == 2:
                bits.u32(3, 5, 21).u32(0, 7, 19)  # custom x, y
            if space != 1:  # grey has no primaries
                _enum(bits, primaries)
                if primaries == 2:
                    for selector in (0, 1, 2):
                        bits.u32(selector, 9, 19 + max(selector - 1, 0)).u32(selector, 11, 19 + max(selector - 1, 0))
            bits.put(int(gamma), 1)
            bits.put(0x123456, 24) if gamma else _enum(bits, 13)  # gamma, or transfer function 13 (sRGB)
        _enum(bits, 1)  # rendering intent relative

    return write


def _metadata_header(*, extra=(), colour=None, xyb: bool = True, intrinsic: bool = False) -> Bits:  # noqa: ANN001
    bits = Bits().put(0x0AFF, 16).put(1, 1).put(0, 5).put(0, 3).put(0, 5)  # FF 0A, 8 x 8
    bits.put(0, 1).put(int(intrinsic), 1)  # ImageMetadata not all default; extra fields
    if intrinsic:
        bits.put(0, 3).put(1, 1)  # orientation 1, an intrinsic size:
        bits.put(0, 1).u32(1, 100, 13).put(0, 3).u32(3, 1000, 30)  # 1001 x 101
        bits.put(0, 1).put(0, 1)  # no preview, no animation
    bits.put(0, 1).u32(0).put(1, 1)  # 8-bit integer samples; 16-bit buffers suffice
    bits.u32(len(extra)) if len(extra) < 2 else bits.u32(2, len(extra) - 2, 4)
    for write in extra:
        write(bits)
    bits.put(int(xyb), 1)
    colour(bits) if colour else bits.put(1, 1)
    if intrinsic:
        bits.put(1, 1)  # default tone mapping
    return bits.u32(0).put(1, 1)  # no extensions, default transform data


def _blend(mode: int, alpha: int | None = None, source: bool = False):  # noqa: ANN202
    def write(bits: Bits) -> None:
        bits.u32(mode) if mode < 3 else bits.u32(3, mode - 3, 2)
        if alpha is not None:
            bits.u32(alpha) if alpha < 3 else bits.u32(3, alpha - 3, 3)
        if alpha is not None or mode == 4:
            bits.put(1, 1)  # clamp
        if source:
            bits.put(3, 2)

    return write


def _custom_frame(
    bits: Bits, *, extra: int = 0, xyb: bool = True, ycbcr=None, modular: bool = True, flags: int = 0,  # noqa: ANN001
    passes=None, crop=None, blends=None, loop_filter=None, sections: int = 1,  # noqa: ANN001
) -> bytes:
    """A last regular frame of `sections` sections of one byte each after the TOC."""
    bits.pad().put(0, 1).put(0, 2).put(int(modular), 1)  # not all default, regular
    bits.u32(0) if not flags else bits.u32(2, flags - 17, 8)
    if not xyb:
        bits.put(int(ycbcr is not None), 1)
    if not flags & 0x20:
        for mode in ycbcr or ():
            bits.put(mode, 2)
        bits.put(0, 2)  # upsampling 1
        for _ in range(extra):
            bits.put(0, 2)
    if modular:
        bits.put(0, 2)  # group_size_shift 0
    elif xyb:
        bits.put(2, 3).put(5, 3)  # x and b quantisation matrix scales
    if passes:
        passes(bits)
    else:
        bits.u32(0)  # one pass
    if crop:
        crop(bits)
    else:
        bits.put(0, 1)
    for write in blends or [_blend(0)] * (1 + extra):
        write(bits)
    bits.put(1, 1)  # is_last
    bits.u32(0)  # no name
    if loop_filter:
        loop_filter(bits)
    else:
        bits.put(1, 1)
    bits.u32(0).put(0, 1).pad()  # no extensions; TOC not permuted
    for _ in range(sections):
        bits.u32(0, 1, 10)
    return bits.pad().data() + b"\x5a" * sections


def _walked(codestream: bytes) -> None:
    assert _end(codestream + TRAILER) == len(codestream)
    assert metadata.strip(codestream + TRAILER) == codestream


@pytest.mark.parametrize("name", sorted(EXTRA_CHANNELS))
def test_extra_channel_of_every_known_type_is_walked(name):
    header = _metadata_header(extra=[EXTRA_CHANNELS[name], EXTRA_CHANNELS["alpha"]])
    _walked(_custom_frame(header, extra=2))


@pytest.mark.parametrize("kind", [7, 15, 17, 63 + 18])
def test_extra_channel_of_unknown_type_is_refused(kind):
    codestream = _custom_frame(_metadata_header(extra=[_channel(kind)]), extra=1)
    assert_refused(codestream, reason=re.escape(f"JPEG XL: extra channel of unknown type {kind} (at byte "))


COLOUR_ENCODINGS = {
    "RGB, custom white point and primaries, gamma": _colour(0, white=2, primaries=2, gamma=True),
    "RGB, D50, P3, transfer function": _colour(0, white=10, primaries=11),
    "grey, custom white point": _colour(1, white=2),
    "XYB": _colour(2),
    "unknown space": _colour(3, gamma=True),
}


@pytest.mark.parametrize("name", sorted(COLOUR_ENCODINGS))
def test_colour_encoding_fields_are_walked(name):
    _walked(_custom_frame(_metadata_header(colour=COLOUR_ENCODINGS[name])))


@pytest.mark.parametrize("space", [4, 17, 18])
def test_colour_space_of_unknown_kind_is_refused(space):
    codestream = _custom_frame(_metadata_header(colour=_colour(space)))
    assert_refused(codestream, reason=re.escape(f"JPEG XL: unknown colour space {space} (at byte "))


def test_intrinsic_size_is_walked():
    _walked(_custom_frame(_metadata_header(intrinsic=True)))


# A crop's x0 and y0 are U32s packed as signed: even v is v / 2, odd v is -(v + 1) / 2. The
# frame is partial (it reads a 2-bit source frame after blend mode replace) when it starts
# right of or below the image's corner or ends short of its right or bottom edge (8 x 8).
CROPS = {  # (x0 packed, y0 packed, width, height): partial
    "x0 0, 8 wide": ((0, 0, 8, 8), False),
    "x0 1, 8 wide": ((2, 0, 8, 8), True),
    "x0 1, 9 wide": ((2, 0, 9, 8), True),
    "x0 -1, 8 wide": ((1, 0, 8, 8), True),
    "x0 -1, 9 wide": ((1, 0, 9, 8), False),
    "x0 -2, 9 wide": ((3, 0, 9, 8), True),
    "x0 -2, 10 wide": ((3, 0, 10, 8), False),
    "y0 1, 9 high": ((0, 2, 8, 9), True),
    "y0 -1, 8 high": ((0, 1, 8, 8), True),
    "y0 -1, 9 high": ((0, 1, 8, 9), False),
}


@pytest.mark.parametrize("name", sorted(CROPS))
def test_crop_origin_is_unpacked_as_signed_to_tell_a_partial_frame(name):
    (x0, y0, width, height), partial = CROPS[name]

    def crop(bits: Bits) -> None:
        bits.put(1, 1)
        for value in (x0, y0, width, height):
            bits.u32(0, value, 8)

    _walked(_custom_frame(_metadata_header(), crop=crop, blends=[_blend(0, source=partial)]))


FRAMES = {
    "YCbCr 4:2:0": {"xyb": False, "ycbcr": [1, 1, 1]},
    "YCbCr 4:2:2 and 4:4:0": {"xyb": False, "ycbcr": [2, 3, 0]},
    "RGB": {"xyb": False},
    "VarDCT": {"modular": False},
    "LF from an LF frame": {"flags": 0x20, "extra": 1},
    # 512 x 8 in groups of 128: four groups, a TOC of seven entries; read as upsampled twice
    # (upsampling is signalled only without an LF frame), it would have five.
    "LF from an LF frame, 512 wide": {
        "flags": 0x20,
        "crop": lambda bits: bits.put(1, 1).u32(0, 0, 8).u32(0, 0, 8).u32(1, 512 - 256, 11).u32(0, 8, 8),
        "sections": 7,
    },
    "two passes, two downsampled": {"passes": lambda bits: bits.u32(1).u32(2).put(0, 2).put(0, 4).u32(0).u32(1), "sections": 5},
    "crop inside the image": {"crop": lambda bits: bits.put(1, 1).u32(0, 2, 8).u32(0, 3, 8).u32(0, 4, 8).u32(0, 4, 8), "blends": [_blend(0, source=True)]},
    # Every channel of a partial frame names its source frame, the extra channel's too.
    "crop inside the image, an extra channel": {
        "extra": 1,
        "crop": lambda bits: bits.put(1, 1).u32(0, 2, 8).u32(0, 3, 8).u32(0, 4, 8).u32(0, 4, 8),
        "blends": [_blend(0, source=True), _blend(0, source=True)],
    },
    "blend with alpha": {"extra": 1, "blends": [_blend(2, alpha=0, source=True), _blend(0)]},
    "alpha-weighted add": {"extra": 2, "blends": [_blend(3, alpha=1, source=True), _blend(0), _blend(1, source=True)]},
    "multiply": {"blends": [_blend(4, source=True)]},
    "multiply with extra channels": {"extra": 1, "blends": [_blend(4, source=True), _blend(4, source=True)]},
    "blend without extra channels": {"blends": [_blend(2, source=True)]},
    "custom loop filter, modular": {"loop_filter": lambda bits: _loop_filter_bits(bits, modular=True)},
    "custom loop filter, VarDCT": {"modular": False, "loop_filter": lambda bits: _loop_filter_bits(bits, modular=False)},
    # The custom-sigma flag is one bit: the extension mask's first bit (1) follows it.
    "custom loop filter, VarDCT, default sigma, an extension": {
        "modular": False,
        "loop_filter": lambda bits: _loop_filter_bits(bits, modular=False, sigma=False, extension=True),
    },
}


def _loop_filter_bits(bits: Bits, *, modular: bool, sigma: bool = True, extension: bool = False) -> None:
    bits.put(0, 1).put(1, 1).put(1, 1)  # not all default, Gaborish with custom weights
    _f16s(bits, 6)
    bits.put(2, 2)  # two EPF iterations
    if not modular:
        _f16s(bits.put(1, 1), 8)  # custom sharpness
    _f16s(bits.put(1, 1), 5)  # custom weights: channel scales, two zero-flush thresholds
    if sigma:
        _f16s(bits.put(1, 1), 3 if modular else 4)  # custom sigma (VarDCT: and a quantisation multiplier)
    else:
        bits.put(0, 1)
    if modular:
        _f16s(bits, 1)  # sigma for modular
    if extension:
        bits.u64(1).u64(0)  # extension 0, of no bits
    else:
        bits.u32(0)  # no extensions


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_frame_header_fields_are_walked(name):
    options = FRAMES[name]
    extra = options.get("extra", 0)
    header = _metadata_header(extra=[EXTRA_CHANNELS["alpha"]] * extra, xyb=options.get("xyb", True))
    _walked(_custom_frame(header, **options))


BAD_FRAMES = {
    "blend mode 5": ({"blends": [_blend(5)]}, "unknown blend mode 5"),
    "blend mode 6": ({"blends": [_blend(6)]}, "unknown blend mode 6"),
    "alpha channel past the last": ({"extra": 1, "blends": [_blend(2, alpha=1)]}, "blending names an alpha channel the image does not have"),
    "more downsampled passes than passes": ({"passes": lambda bits: bits.u32(1).u32(3, 1, 1)}, "a frame has more downsampled passes than passes"),
    "crop of zero width": ({"crop": lambda bits: bits.put(1, 1).u32(0, 0, 8).u32(0, 0, 8).u32(0, 0, 8).u32(0, 4, 8)}, "a frame of zero width or height"),
    "crop of zero height": ({"crop": lambda bits: bits.put(1, 1).u32(0, 0, 8).u32(0, 0, 8).u32(0, 4, 8).u32(0, 0, 8)}, "a frame of zero width or height"),
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_frame_header_out_of_range_is_refused(name):
    options, reason = BAD_FRAMES[name]
    header = _metadata_header(extra=[EXTRA_CHANNELS["alpha"]] * options.get("extra", 0))
    assert_refused(_custom_frame(header, **options), reason=re.escape(f"JPEG XL: {reason} (at byte "))


@pytest.mark.parametrize(("lehmer", "walked"), [([0], True), ([0, 0], False)], ids=["as-long", "longer"])
def test_toc_permutation_longer_than_the_toc_is_refused(lehmer, walked):
    codestream = _codestream([([5], {"permutation": lehmer})])  # 8 x 8: a TOC of one entry
    if walked:
        assert _end(codestream + TRAILER) == len(codestream)
    else:
        assert_refused(codestream, reason=re.escape("JPEG XL: TOC permutation longer than the TOC (at byte "))


@pytest.mark.parametrize("symbol", [1, 2], ids=["2-bit-code", "3-bit-code"])
def test_prefix_code_cut_short_is_refused_at_the_byte_where_it_starts(symbol):
    # Codes 0, 10, 110, 111 (simple prefix code, tree-select 1): zeros, then the code of
    # `symbol`, placed so that the stream stops just before its last bit (a 0), past byte 8.
    code = Bits().put(1, 2).put(3, 2).put(0, 2).put(1, 2).put(2, 2).put(3, 2).put(1, 1)
    symbol_codes = {0: (0, 1), 1: (0b10, 2), 2: (0b110, 3)}
    for zeros in range(32, 40):
        bits = prefix_icc_stream(Bits().put(1, 4).put(1, 1), code, symbol_codes, [0] * zeros + [symbol])  # 1 + 2 + 1
        start = bits.count - symbol_codes[symbol][1]
        if (bits.count - 1) % 8 == 0:
            break
    with pytest.raises(ImageError, match=re.escape(f"JPEG XL: the codestream ends inside a prefix code (at byte {start // 8} ")):
        _icc_end(bits.data()[: start // 8 + 1])


@pytest.mark.parametrize(
    ("symbols", "codes"),
    # simple prefix codes: lengths 1, 1 or 1, 2, 2 in the order the symbols are listed,
    # codes canonical (by length, then symbol)
    [([5, 3], {3: (0, 1), 5: (1, 1)}), ([7, 2, 9], {7: (0, 1), 2: (0b10, 2), 9: (0b11, 2)}), ([1, 0], {0: (0, 1), 1: (1, 1)})],
    ids=["two-symbols", "three-symbols", "alphabet-of-2"],
)
def test_simple_prefix_code_is_decoded(symbols, codes):
    # an alphabet of 12 symbols (4 bits a symbol), or of 2 (1 bit)
    size, size_bits = (Bits().put(3, 4).put(3, 3), 4) if max(symbols) > 1 else (Bits().put(0, 4), 1)
    code = Bits().put(1, 2).put(len(symbols) - 1, 2)
    for symbol in symbols:
        code.put(symbol, size_bits)
    sequence = [symbol for symbol in codes for _ in range(3)] + symbols
    stream = prefix_icc_stream(size, code, codes, sequence).data()
    assert _icc_end(stream + b"\xff" * 2) == len(stream)


# ---------------------------------------------------------------- frames of many sections
# Images whose size the SizeHeader gives in full (not in multiples of 8), so that frames have
# many groups; sections: 1 LF global + LF groups (8 x 8 groups each) + 1 HF global + one per
# group and pass, or 1 when there is one group and one pass.


def _plain_header(width: int, height: int) -> bytes:
    """Signature, SizeHeader (height up to 2^13, width up to 2^18), default ImageMetadata."""
    bits = Bits().put(0x0AFF, 16).put(0, 1).u32(1, height - 1, 13).put(0, 3).u32(2, width - 1, 18)
    return bits.put(1, 1).put(1, 1).data()  # ImageMetadata and transform data: all default


@pytest.mark.parametrize(("width", "sections"), [(256, 1), (257, 5)])
def test_default_frame_is_vardct_in_groups_of_256_of_one_pass(width, sections):
    frame = Bits().put(1, 1).put(0, 1).pad()  # FrameHeader all default, TOC not permuted
    for _ in range(sections):
        frame.u32(0, 1, 10)
    codestream = _plain_header(width, 8) + frame.pad().data() + b"\x5a" * sections
    assert _end(codestream + TRAILER) == len(codestream)
    assert metadata.strip(codestream + TRAILER) == codestream


def _crop_u32(bits: Bits, value: int) -> Bits:  # U32(u(8), 256 + u(11), 2304 + u(14), ...)
    return bits.u32(0, value, 8) if value < 256 else bits.u32(1, value - 256, 11) if value < 2304 else bits.u32(2, value - 2304, 14)


def _typed_frame(frame_type: int, sections: int, *, lf_level: int = 0, crop=(), last=False, source=False) -> bytes:  # noqa: ANN001
    """A modular frame (groups of 128) of `frame_type` (0 regular, 1 LF, 2 reference only, 3
    skip progressive) in an image without extra channels nor animation, as libjxl's
    FrameHeader::VisitFields reads it, then a TOC of `sections` one-byte sections. `crop`:
    (width, height), or (x0, y0, width, height) packed as signed, for the types that have
    an origin; `source`: whether the blending info has a source frame (a partial frame)."""
    bits = Bits().put(0, 1).put(frame_type, 2).put(1, 1)  # not all default, type, modular
    bits.u32(0).put(0, 2).put(0, 2)  # no flags, upsampling 1, group_size_shift 0
    if frame_type != 2:
        bits.u32(0)  # one pass (a reference-only frame has none to read)
    if frame_type == 1:
        bits.put(lf_level - 1, 2)  # an LF frame has no custom size, blending, is_last
    else:
        bits.put(int(bool(crop)), 1)
        for value in crop:
            _crop_u32(bits, value)
    if frame_type in (0, 3):
        bits.u32(0)  # blend mode replace
        if source:
            bits.put(0, 2)
        bits.put(int(last), 1)
    if frame_type != 1 and not last:
        bits.put(0, 2)  # save_as_reference
    if frame_type == 2 or (not last and frame_type != 1 and not source):
        bits.put(0, 1)  # save_before_colour_transform
    bits.u32(0).put(1, 1).u32(0)  # no name, default loop filter, no extensions
    bits.put(0, 1).pad()  # TOC not permuted
    for _ in range(sections):
        bits.u32(0, 1, 10)
    return bits.pad().data() + b"\x5a" * sections


# A 2048 x 1032 image: each frame below, then (unless it is the last) a default frame, VarDCT in
# groups of 256: 8 x 5 groups, 1 LF group, so 43 sections. The frames below are modular, in
# groups of 128.
FRAME_TYPES = {
    # level 1: 2048 x 1032 pixels in 8 x 8 blocks, 256 x 129: 2 x 2 groups, 1 LF group
    "LF frame": _typed_frame(1, 7, lf_level=1),
    # a crop of 300 x 200 (no origin), one pass (none read): 3 x 2 groups, 1 LF group
    "reference-only frame": _typed_frame(2, 9, crop=(300, 200)),
    # starting at x0 = 8: partial, so the replace blending has a source frame; 1 group
    "skip-progressive frame": _typed_frame(3, 1, crop=(16, 0, 64, 64), last=True, source=True),
    # the whole image as its crop: not partial, no source frame; 16 x 9 groups, 2 x 2 LF groups
    "skip-progressive frame, whole": _typed_frame(3, 150, crop=(0, 0, 2048, 1032)),
}
FRAMES_LAST = {"skip-progressive frame"}


@pytest.mark.parametrize("name", sorted(FRAME_TYPES))
def test_frame_of_each_type_reads_the_fields_of_its_type(name):
    codestream = _plain_header(2048, 1032) + FRAME_TYPES[name]
    if name not in FRAMES_LAST:
        last = Bits().put(1, 1).put(0, 1).pad()  # all default, TOC not permuted
        for _ in range(43):
            last.u32(0, 1, 10)
        codestream += last.pad().data() + b"\x5a" * 43
    assert _end(codestream + TRAILER) == len(codestream)
    assert metadata.strip(codestream + TRAILER) == codestream


# A permuted TOC: its entropy code has 8 contexts (ISO/IEC 18181-1 C.3.2, libjxl DecodePermutation):
# its length is coded in context min(7, ceil(log2(sections + 1))), each Lehmer value in context
# min(7, ceil(log2(previous + 1))), `previous` being the value before (0 for the first). Here each
# context is its own cluster, whose prefix code has a single symbol (no bits), so the context
# alone gives the value decoded: a context the walk must not use gives 255, over any TOC here.


def _permutation_by_context(values: list[int]) -> Bits:
    """A permuted TOC's entropy code and symbols: context k decodes values[k]."""
    bits = Bits().put(0, 1)  # no LZ77
    bits.put(1, 1).put(3, 2)  # simple cluster map, 3 bits a context
    for context in range(8):
        bits.put(context, 3)  # context k: cluster k
    bits.put(1, 1)  # prefix codes
    for _ in range(8):
        bits.put(15, 4)  # hybrid integers: values below 2^15 as they are
    for _ in range(8):
        bits.put(1, 1).put(8, 4).put(0, 8)  # an alphabet of 1 + 256 symbols
    for value in values:
        bits.put(1, 2).put(0, 2).put(value, 9)  # a simple prefix code of that one symbol
    return bits


# (width, height, sections, values by context). Sections: 1 LF global + LF groups (of 128 x 128
# blocks of 8 pixels) + 1 HF global + groups (of 128 pixels).
PERMUTATIONS_BY_CONTEXT = {
    # 2 x 1 groups: 5 sections, the length (2) in context 3; Lehmer 4 (context 0), then 2 (context 3)
    "5 sections": (256, 8, 5, [4, 255, 255, 2, 255, 255, 255, 255]),
    # 2 x 2 groups: 7 sections, the length in context 3 (not 4: log2 of 7 + 1 is 3); the same code
    "7 sections": (256, 256, 7, [4, 255, 255, 2, 255, 255, 255, 255]),
    # 200 x 1 groups, 25 x 1 LF groups: 227 sections, the length (2) in context 7 (not 8);
    # Lehmer 200 (context 0), then 2 (context 7, not 8)
    "227 sections": (25600, 8, 227, [200, 255, 255, 255, 255, 255, 255, 2]),
}


@pytest.mark.parametrize("name", sorted(PERMUTATIONS_BY_CONTEXT))
def test_toc_permutation_is_decoded_in_the_contexts_of_its_length_and_previous_value(name):
    width, height, sections, values = PERMUTATIONS_BY_CONTEXT[name]
    frame = _frame(Bits(), [1] * sections, last=True, permutation=_permutation_by_context(values)).data()
    codestream = _plain_header(width, height) + frame + b"\x5a" * sections
    assert _end(codestream + TRAILER) == len(codestream)
    assert metadata.strip(codestream + TRAILER) == codestream


# ---------------------------------------------------------------- sizes, limits and fields past the end


@pytest.mark.parametrize(
    ("width_div8", "height_div8", "sections"),
    # in multiples of 8 (height, then width: 1 + u(5) each); a frame's groups are 128 pixels
    [(16, 1, 1), (17, 1, 5), (1, 16, 1), (1, 17, 5), (16, 16, 1), (17, 17, 7)],
)
def test_size_in_multiples_of_8_gives_the_groups_of_a_frame(width_div8, height_div8, sections):
    codestream = _codestream([(list(range(1, sections + 1)), {})], width_div8=width_div8, height_div8=height_div8)
    assert _end(codestream + TRAILER) == len(codestream)


@pytest.mark.parametrize("limit", [64, 63])
def test_image_of_max_pixels_is_walked_and_one_pixel_more_refused(monkeypatch, limit):
    monkeypatch.setattr(jxl_codestream, "MAX_PIXELS", limit)  # read by _check_pixels, at its module
    codestream = _codestream([([5], {})])  # 8 x 8
    if limit == 64:
        assert _end(codestream + TRAILER) == len(codestream)
    else:
        with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream declares 8x8 pixels, over the limit of 63 (at byte ")):
            _end(codestream)


def test_preview_over_the_pixel_limit_is_refused(monkeypatch):
    # A PreviewHeader holds at most 10880 x 5440 pixels, under MAX_PIXELS: the limit is lowered here.
    monkeypatch.setattr(jxl_codestream, "MAX_PIXELS", 128 * 128 - 1)
    codestream = _codestream([([12], {}), ([5], {})], preview=True)  # a 128 x 128 preview of an 8 x 8 image
    with pytest.raises(ImageError, match=re.escape(f"JPEG XL: the preview declares 128x128 pixels, over the limit of {128 * 128 - 1} (at byte ")):
        _end(codestream)


def test_frame_over_the_pixel_limit_is_refused():
    def crop(bits: Bits) -> None:  # at 0, 0: 1000000 x 1000 pixels
        bits.put(1, 1).u32(0, 0, 8).u32(0, 0, 8).u32(3, 1000000 - 18688, 30).u32(1, 1000 - 256, 11)

    codestream = _custom_frame(_metadata_header(), crop=crop, blends=[_blend(0, source=True)])
    assert_refused(codestream, reason=re.escape("JPEG XL: a frame declares 1000000x1000 pixels, over the limit of 250000000 (at byte "))


def _with_extensions(sizes: dict[int, int], *, payload: bool = True) -> Bits:
    """An 8 x 8 ImageMetadata with extensions: bit -> size in bits (zeros, when `payload`)."""
    bits = Bits().put(0x0AFF, 16).put(1, 1).put(0, 5).put(0, 3).put(0, 5)  # FF 0A, 8 x 8
    bits.put(0, 1).put(0, 1)  # not all default, no extra fields
    bits.put(0, 1).u32(0).put(1, 1).u32(0)  # 8-bit samples, 16-bit buffers suffice, no extra channels
    bits.put(1, 1).put(1, 1)  # xyb_encoded, sRGB
    bits.u64(sum(1 << bit for bit in sizes))
    for bit in sorted(sizes):
        bits.u64(sizes[bit])
    for bit in sorted(sizes):
        bits.put(0, sizes[bit] if payload else 0)
    return bits.put(1, 1)  # default transform data


def test_header_extensions_are_skipped_by_their_sizes():
    # extensions 0, 3 and 40: 5, 11 and 3 bits
    _walked(_custom_frame(_with_extensions({0: 5, 3: 11, 40: 3})))


def test_header_extensions_past_the_end_are_refused():
    codestream = _with_extensions({2: 1 << 40}, payload=False).data()
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside header extensions (at byte ")):
        _end(codestream)


def test_name_past_the_end_is_refused():
    def channel(bits: Bits) -> None:  # a depth channel of 8-bit samples named by 1000 bytes
        _enum(bits.put(0, 1), 1).put(0, 1).u32(0).u32(0).u32(3, 1000 - 48, 10)

    codestream = _metadata_header(extra=[channel]).data()
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside a name (at byte ")):
        _end(codestream)


def _single_value_icc_stream(value: int) -> bytes:
    """An ICC stream of one value, coded by a prefix code of that single symbol (no bits)."""
    bits = Bits().u64(1).put(0, 1).put(1, 1).put(0, 2)  # one value, no LZ77, one cluster
    bits.put(1, 1).put(15, 4)  # prefix codes, values below 2^15 as they are
    bits.put(1, 1).put(8, 4).put(0, 8)  # an alphabet of 1 + 256 symbols
    return bits.put(1, 2).put(0, 2).put(value, 9).data()


def test_icc_stream_value_of_255_is_a_byte_and_256_is_not():
    stream = _single_value_icc_stream(255)
    assert _icc_end(stream + b"\xff") == len(stream)
    with pytest.raises(ImageError, match="^" + re.escape("JPEG XL: ICC profile stream holds a value that is not a byte (at byte ")):
        _icc_end(_single_value_icc_stream(256))


@pytest.mark.parametrize(
    ("codestream", "reason"),
    [
        (b"\xff", "no codestream signature FF 0A (at byte 0 of the codestream)"),
        (b"\xff\x0b\x00", "no codestream signature FF 0A (at byte 2 of the codestream)"),
        (b"\xff\x0a", "the codestream ends inside a header field (at byte 2 of the codestream)"),
    ],
    ids=["one-byte", "wrong-signature", "signature-alone"],
)
def test_codestream_signature_is_read_only_when_its_16_bits_are_there(codestream, reason):
    with pytest.raises(ImageError, match="^" + re.escape(f"JPEG XL: {reason}") + "$"):
        _end(codestream)


def test_passes_past_the_end_are_refused():
    # 11 passes (4 + u(3) = 7), none downsampled: 2 * 10 bits of shifts, which the codestream lacks
    def passes(bits: Bits) -> None:
        bits.u32(3, 7, 3).u32(0)

    codestream = _custom_frame(_metadata_header(), passes=passes)
    cut = len(_metadata_header().pad().data()) + 3  # the frame header up to its passes, and a little
    with pytest.raises(ImageError, match=re.escape("JPEG XL: the codestream ends inside the passes (at byte ")):
        _end(codestream[:cut])
