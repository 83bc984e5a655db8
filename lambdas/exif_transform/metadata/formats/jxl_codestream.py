"""Where a JPEG XL codestream ends: its headers read, each frame's header and TOC read,
each frame's sections skipped, up to the frame marked is_last.

Byte layout (ISO/IEC 18181-1; libjxl lib/jxl/headers.cc, image_metadata.cc,
color_encoding_internal.cc, frame_header.cc, loop_filter.cc, toc.cc, frame_dimensions.h):
    FF 0A          signature
    SizeHeader     image width and height
    ImageMetadata  orientation, intrinsic size, preview and animation headers, bit depth,
                   extra channels, xyb_encoded, colour encoding, tone mapping, extensions
    transform data custom opsin matrix and upsampling weights
    ICC profile    entropy-coded, when the colour encoding wants one (jxl_entropy.py)
    preview frame  when ImageMetadata has a preview
    frames         each at a byte boundary: FrameHeader, TOC (an optional entropy-coded
                   permutation, then one U32 size per section), the sections; the
                   frame with is_last ends the codestream
A frame has one section when it has one group and one pass, else one for the LF
global data, one per LF group, one for the HF global data and one per group and pass;
the group counts follow from the frame's size, its upsampling, chroma subsampling and
LF level. Nothing in a frame's sections needs decoding: their sizes are in the TOC.

Bounded: every read is checked against the end of the codestream (jxl_bits.py), the
image and every frame against MAX_PIXELS (which bounds the TOC entries), the frames
and the ICC stream against the limits in limits.py.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from ..limits import MAX_JXL_FRAMES, MAX_JXL_ICC_STREAM, MAX_PIXELS
from .jxl_bits import BitReader, ceil_log2
from .jxl_entropy import EntropyCode, EntropyError, SymbolReader

SIGNATURE = 0x0AFF  # FF 0A, read as 16 bits least significant first
SIZE_BITS = ((1, 9), (1, 13), (1, 18), (1, 30))
PREVIEW_DIV8 = ((16, 0), (32, 0), (1, 5), (33, 9))
PREVIEW_BITS = ((1, 6), (65, 8), (321, 10), (1345, 12))
# Width / height for the ratio codes 1..7.
RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}
BIT_DEPTH = ((8, 0), (10, 0), (12, 0), (1, 6))
FLOAT_BIT_DEPTH = ((32, 0), (16, 0), (24, 0), (1, 6))
EXTRA_CHANNELS = ((0, 0), (1, 0), (2, 4), (1, 12))
DIM_SHIFT = ((0, 0), (3, 0), (4, 0), (1, 3))
CFA_CHANNEL = ((1, 0), (0, 2), (3, 4), (19, 8))
NAME_LENGTH = ((0, 0), (0, 4), (16, 5), (48, 10))
TICKS_NUMERATOR = ((100, 0), (1000, 0), (1, 10), (1, 30))
TICKS_DENOMINATOR = ((1, 0), (1001, 0), (1, 8), (1, 10))
LOOPS = ((0, 0), (0, 3), (0, 16), (0, 32))
CUSTOM_XY = ((0, 19), (524288, 19), (1048576, 20), (2097152, 21))
EC_ALPHA, EC_SPOT, EC_CFA = 0, 2, 5
EC_KNOWN = {0, 1, 2, 3, 4, 5, 6, 16}  # alpha, depth, spot, mask, black, CFA, thermal, optional
CS_RGB, CS_GREY, CS_XYB, CS_UNKNOWN = 0, 1, 2, 3
WP_CUSTOM = PRIMARIES_CUSTOM = 2
GAMMA_BITS = 24
OPSIN_F16 = 9 + 3 + 4  # inverse matrix, biases, quantisation biases
UPSAMPLING_WEIGHTS = ((1, 15), (2, 55), (4, 210))  # custom_weights_mask bit, F16 count
ICC_CONTEXTS = 41
# Frame header
REGULAR, LF_FRAME, REFERENCE_ONLY, SKIP_PROGRESSIVE = 0, 1, 2, 3
USE_LF_FRAME = 0x20  # a flag: the LF coefficients come from an earlier LF frame
PASSES = ((1, 0), (2, 0), (3, 0), (4, 3))
DOWNSAMPLES = ((0, 0), (1, 0), (2, 0), (3, 1))
LAST_PASS = ((0, 0), (1, 0), (2, 0), (0, 3))
CROP = ((0, 8), (256, 11), (2304, 14), (18688, 30))
BLEND_MODE = ((0, 0), (1, 0), (2, 0), (3, 2))
BLEND_REPLACE, BLEND_BLEND, BLEND_WEIGHTED_ADD, BLEND_MUL = 0, 2, 3, 4
ALPHA_CHANNEL = ((0, 0), (1, 0), (2, 0), (3, 3))
DURATION = ((0, 0), (1, 0), (0, 8), (0, 32))
GABORISH_F16 = 6
EPF_SHARP_F16 = 8
EPF_WEIGHT_F16 = 5
EPF_SIGMA_F16 = 3  # and one more (quantisation multiplier) for VarDCT
TOC_ENTRY = ((0, 10), (1024, 14), (17408, 22), (4211712, 30))
TOC_CONTEXTS = 8
GROUP_DIM = 128  # times 2 ** group_size_shift
BLOCK_DIM = 8


class Image(NamedTuple):
    """The image metadata its frames are read with (the image's size is passed to each frame)."""

    preview: tuple[int, int] | None
    animated: bool
    timecodes: bool
    extra_channels: int
    xyb: bool


def _size(reader: BitReader) -> tuple[int, int]:
    """A SizeHeader: (width, height)."""
    div8 = reader.u(1)
    height = (reader.u(5) + 1) * 8 if div8 else reader.u32(SIZE_BITS)
    ratio = reader.u(3)
    if ratio:
        numerator, denominator = RATIOS[ratio]
        return height * numerator // denominator, height
    return ((reader.u(5) + 1) * 8 if div8 else reader.u32(SIZE_BITS)), height


def _preview_size(reader: BitReader) -> tuple[int, int]:
    div8 = reader.u(1)
    height = reader.u32(PREVIEW_DIV8) * 8 if div8 else reader.u32(PREVIEW_BITS)
    ratio = reader.u(3)
    if ratio:
        numerator, denominator = RATIOS[ratio]
        return height * numerator // denominator, height
    return (reader.u32(PREVIEW_DIV8) * 8 if div8 else reader.u32(PREVIEW_BITS)), height


def _check_pixels(reader: BitReader, width: int, height: int, what: str) -> None:
    if width * height > MAX_PIXELS:
        raise reader.error(f"{what} declares {width}x{height} pixels, over the limit of {MAX_PIXELS}")


def _bit_depth(reader: BitReader) -> None:
    if reader.u(1):  # floating point samples: bits, then exponent bits
        reader.u32(FLOAT_BIT_DEPTH)
        reader.u(4)
    else:
        reader.u32(BIT_DEPTH)


def _skip_f16(reader: BitReader, count: int) -> None:
    for _ in range(count):
        reader.f16()


def _name(reader: BitReader) -> None:
    reader.skip(8 * reader.u32(NAME_LENGTH), "a name")


def extensions(reader: BitReader) -> None:
    """A bundle's extensions: a U64 mask, a U64 size in bits per set bit, skipped."""
    mask = reader.u64()
    if mask:
        bits = sum(reader.u64() for index in range(64) if mask >> index & 1)
        reader.skip(bits, "header extensions")


def _extra_channel(reader: BitReader) -> None:
    if reader.u(1):  # all default: an 8-bit alpha channel
        return
    kind = reader.enum()
    if kind not in EC_KNOWN:
        raise reader.error(f"extra channel of unknown type {kind}")
    _bit_depth(reader)
    reader.u32(DIM_SHIFT)
    _name(reader)
    if kind == EC_ALPHA:
        reader.u(1)
    elif kind == EC_SPOT:
        _skip_f16(reader, 4)
    elif kind == EC_CFA:
        reader.u32(CFA_CHANNEL)


def colour_encoding(reader: BitReader) -> bool:
    """A ColorEncoding bundle; whether it wants an ICC profile."""
    if reader.u(1):  # all default: sRGB
        return False
    want_icc = reader.bool()
    space = reader.enum()
    if space not in (CS_RGB, CS_GREY, CS_XYB, CS_UNKNOWN):
        raise reader.error(f"unknown colour space {space}")
    if want_icc:
        return True
    if space != CS_XYB:
        if reader.enum() == WP_CUSTOM:
            reader.u32(CUSTOM_XY), reader.u32(CUSTOM_XY)
        if space != CS_GREY and reader.enum() == PRIMARIES_CUSTOM:
            for _ in range(3):
                reader.u32(CUSTOM_XY), reader.u32(CUSTOM_XY)
        if reader.u(1):  # have_gamma
            reader.u(GAMMA_BITS)
        else:
            reader.enum()
    reader.enum()  # rendering intent
    return False


def _image_metadata(reader: BitReader) -> tuple[Image, bool]:
    """ImageMetadata and the transform data after it; whether an ICC profile follows."""
    preview, animated, timecodes, extra, xyb, want_icc = None, False, False, 0, True, False
    if not reader.u(1):
        extra_fields = reader.u(1)
        if extra_fields:
            reader.u(3)  # orientation
            if reader.u(1):
                _size(reader)  # intrinsic size
            if reader.u(1):
                preview = _preview_size(reader)
                _check_pixels(reader, *preview, "the preview")
            if reader.u(1):
                animated = True
                reader.u32(TICKS_NUMERATOR), reader.u32(TICKS_DENOMINATOR), reader.u32(LOOPS)
                timecodes = reader.bool()
        _bit_depth(reader)
        reader.u(1)  # modular_16_bit_buffer_sufficient
        extra = reader.u32(EXTRA_CHANNELS)
        for _ in range(extra):
            _extra_channel(reader)
        xyb = reader.bool()
        want_icc = colour_encoding(reader)
        if extra_fields and not reader.u(1):  # tone mapping: intensity target, min nits,
            _skip_f16(reader, 2)  # relative_to_max_display, linear below
            reader.u(1)
            reader.f16()
        extensions(reader)
    if not reader.u(1):  # custom transform data
        if xyb and not reader.u(1):
            _skip_f16(reader, OPSIN_F16)
        mask = reader.u(3)
        for bit, count in UPSAMPLING_WEIGHTS:
            if mask & bit:
                _skip_f16(reader, count)
    return Image(preview, animated, timecodes, extra, xyb), want_icc


def _byte_kind(byte: int) -> int:
    """libjxl ByteKind1: letter, digit (or '.' ','), 0, 1, other below 16, above 240, 255, other."""
    if 97 <= byte | 32 <= 122:
        return 0
    if 48 <= byte <= 57 or byte in (44, 46):
        return 1
    if byte < 2:
        return 2 + byte
    if byte < 16:
        return 4
    if byte == 255:
        return 6
    return 5 if byte > 240 else 7


def _byte_kind2(byte: int) -> int:
    """libjxl ByteKind2: letter, digit (or '.' ','), below 16, above 240, other."""
    if 97 <= byte | 32 <= 122:
        return 0
    if 48 <= byte <= 57 or byte in (44, 46):
        return 1
    if byte < 16:
        return 2
    return 3 if byte > 240 else 4


ICC_CONTEXT_START = 129  # libjxl ICCANSContext: the bytes before are context 0


def skip_icc(reader: BitReader) -> None:
    """The entropy-coded ICC profile: its size (U64), its code, its bytes, decoded and dropped."""
    size = reader.u64()
    if size > MAX_JXL_ICC_STREAM:
        raise reader.error(f"ICC profile stream of {size} bytes, over the limit of {MAX_JXL_ICC_STREAM}")
    symbols = SymbolReader(EntropyCode(reader, ICC_CONTEXTS), reader)
    # The context of a later byte: 1, plus the kind of the previous byte, plus 8 times the kind
    # of the one before. Tabled on each call (512 calls): a table built at import is out of
    # reach of mutation testing, which switches a mutant on only after the import.
    kind = [1 + _byte_kind(byte) for byte in range(256)]
    kind2 = [8 * _byte_kind2(byte) for byte in range(256)]
    previous = before = 0
    for index in range(size):
        byte = symbols.decode(kind[previous] + kind2[before] if index >= ICC_CONTEXT_START else 0)
        if byte > 255:
            raise reader.error("ICC profile stream holds a value that is not a byte")
        previous, before = byte, previous
    symbols.finish()


class _Frame(NamedTuple):
    is_last: bool
    sections: int  # TOC entries


def _blending(reader: BitReader, extra: int, partial: bool) -> int:
    mode = reader.u32(BLEND_MODE)
    if mode > BLEND_MUL:
        raise reader.error(f"unknown blend mode {mode}")
    if extra and mode in (BLEND_BLEND, BLEND_WEIGHTED_ADD):
        if reader.u32(ALPHA_CHANNEL) >= extra:
            raise reader.error("blending names an alpha channel the image does not have")
    if (extra and mode in (BLEND_BLEND, BLEND_WEIGHTED_ADD)) or mode == BLEND_MUL:
        reader.u(1)  # clamp
    if mode != BLEND_REPLACE or partial:
        reader.u(2)  # source frame
    return mode


def _loop_filter(reader: BitReader, modular: bool) -> None:
    if reader.u(1):  # all default
        return
    if reader.u(1) and reader.u(1):  # Gaborish, with custom weights
        _skip_f16(reader, GABORISH_F16)
    if reader.u(2):  # EPF iterations
        if not modular and reader.u(1):
            _skip_f16(reader, EPF_SHARP_F16)
        if reader.u(1):
            _skip_f16(reader, EPF_WEIGHT_F16)
        if reader.u(1):
            _skip_f16(reader, EPF_SIGMA_F16 + (0 if modular else 1))
        if modular:
            reader.f16()
    extensions(reader)


def _frame_header(reader: BitReader, image: Image, size: tuple[int, int]) -> _Frame:
    """A FrameHeader; its is_last and the number of TOC entries."""
    width, height = size
    if reader.u(1):  # all default: one regular, full-size, last VarDCT frame
        return _Frame(True, _sections(width, height, 1, 1, 1))
    frame_type = reader.u(2)
    modular = reader.bool()
    flags = reader.u64()
    ycbcr = False if image.xyb else reader.bool()
    upsampling = 1
    if not flags & USE_LF_FRAME:
        if ycbcr:  # chroma subsampling mode of each channel: see _sections
            reader.u(2), reader.u(2), reader.u(2)
        upsampling = 1 << reader.u(2)
        for _ in range(image.extra_channels):
            reader.u(2)
    group_shift = reader.u(2) if modular else 1
    if not modular and image.xyb:
        reader.u(3), reader.u(3)  # x and b quantisation matrix scales
    passes = 1
    if frame_type != REFERENCE_ONLY:
        passes = reader.u32(PASSES)
        if passes != 1:
            downsamples = reader.u32(DOWNSAMPLES)
            if downsamples > passes:
                raise reader.error("a frame has more downsampled passes than passes")
            reader.skip(2 * (passes - 1) + 2 * downsamples, "the passes")
            for _ in range(downsamples):
                reader.u32(LAST_PASS)
    lf_level = reader.u(2) + 1 if frame_type == LF_FRAME else 0
    partial = False
    if frame_type != LF_FRAME and reader.u(1):  # custom size or origin
        x0 = y0 = 0
        if frame_type in (REGULAR, SKIP_PROGRESSIVE):
            x0, y0 = _unpack_signed(reader.u32(CROP)), _unpack_signed(reader.u32(CROP))
        frame_width, frame_height = reader.u32(CROP), reader.u32(CROP)
        if not frame_width or not frame_height:
            raise reader.error("a frame of zero width or height")
        _check_pixels(reader, frame_width, frame_height, "a frame")
        partial = x0 > 0 or y0 > 0 or frame_width + x0 < width or frame_height + y0 < height
        width, height = frame_width, frame_height
    is_last, duration, mode = False, 0, BLEND_REPLACE
    if frame_type in (REGULAR, SKIP_PROGRESSIVE):
        mode = _blending(reader, image.extra_channels, partial)
        for _ in range(image.extra_channels):
            _blending(reader, image.extra_channels, partial)
        if image.animated:
            duration = reader.u32(DURATION)
            if image.timecodes:
                reader.u(32)
        is_last = reader.bool()
    save_as_reference = 0
    if frame_type != LF_FRAME and not is_last:
        save_as_reference = reader.u(2)
    can_be_referenced = not is_last and frame_type != LF_FRAME and (duration == 0 or save_as_reference != 0)
    if frame_type == REFERENCE_ONLY or (
        can_be_referenced and mode == BLEND_REPLACE and not partial and frame_type in (REGULAR, SKIP_PROGRESSIVE)
    ):
        reader.u(1)  # save before the colour transform
    _name(reader)
    _loop_filter(reader, modular)
    extensions(reader)
    if lf_level:
        scale = 1 << (3 * lf_level)
        width, height = -(-width // scale), -(-height // scale)
    return _Frame(is_last, _sections(width, height, upsampling, group_shift, passes))


def _unpack_signed(value: int) -> int:
    return -((value + 1) >> 1) if value & 1 else value >> 1


def _sections(width: int, height: int, upsampling: int, group_shift: int, passes: int) -> int:
    """TOC entries of a frame (libjxl FrameDimensions::Set and NumTocEntries)."""
    group = GROUP_DIM << group_shift
    width, height = -(-width // upsampling), -(-height // upsampling)
    # libjxl rounds the blocks up to an even number under chroma subsampling (a shift of 1),
    # which never changes the LF groups: an odd count below a multiple of the even `group`
    # stays at or below it when made even. So the subsampling modes are read but not used.
    x_blocks = -(-width // BLOCK_DIM)
    y_blocks = -(-height // BLOCK_DIM)
    groups = -(-width // group) * -(-height // group)
    lf_groups = -(-x_blocks // group) * -(-y_blocks // group)
    if groups == 1 and passes == 1:
        return 1
    return 2 + lf_groups + groups * passes


def _toc(reader: BitReader, sections: int) -> int:
    """The TOC: bytes of the frame's sections, which start at the byte boundary after it.
    `sections` is bounded through MAX_PIXELS (limits.py)."""
    if reader.u(1):  # permuted: a Lehmer code, decoded only to find its end
        symbols = SymbolReader(EntropyCode(reader, TOC_CONTEXTS), reader)
        count = symbols.decode(min(7, ceil_log2(sections + 1)))
        if count > sections:
            raise reader.error("TOC permutation longer than the TOC")
        previous = 0
        for index in range(count):
            previous = symbols.decode(min(7, ceil_log2(previous + 1)))
            if previous >= sections - index:
                raise reader.error("TOC permutation out of range")
        symbols.finish()
    reader.zero_pad_to_byte()
    total = sum(reader.u32(TOC_ENTRY) for _ in range(sections))
    reader.zero_pad_to_byte()
    return total


def icc_stream_end(compressed: memoryview, fmt: str) -> int:
    """The byte where a compressed ICC profile on its own (libjxl JxlICCProfileEncode: the
    ICC stream, zero-padded to the byte) ends."""
    reader = BitReader([compressed], fmt)
    try:
        skip_icc(reader)
    except EntropyError as error:
        raise reader.error(f"ICC profile entropy code: {error}") from None
    reader.zero_pad_to_byte()
    return reader.byte_pos()


def codestream_end(pieces: Sequence[memoryview], fmt: str) -> int:
    """The byte offset, in the concatenation of `pieces`, where the codestream's last
    frame ends; ImageError when it cannot be found within them."""
    reader = BitReader(pieces, fmt)
    try:
        return _walk(reader)
    except EntropyError as error:
        raise reader.error(f"codestream entropy code: {error}") from None


def _walk(reader: BitReader) -> int:
    if reader.remaining() < 16 or reader.u(16) != SIGNATURE:
        raise reader.error("no codestream signature FF 0A")
    width, height = _size(reader)
    _check_pixels(reader, width, height, "the codestream")
    image, want_icc = _image_metadata(reader)
    if want_icc:
        skip_icc(reader)
    if image.preview is not None:
        _frame(reader, image, image.preview)
    for _ in range(MAX_JXL_FRAMES):
        if _frame(reader, image, (width, height)):
            return reader.byte_pos()
    raise reader.error(f"more than {MAX_JXL_FRAMES} frames")


def _frame(reader: BitReader, image: Image, size: tuple[int, int]) -> bool:
    """One frame, skipped; whether it is the last."""
    reader.zero_pad_to_byte()
    frame = _frame_header(reader, image, size)
    length = _toc(reader, frame.sections)
    reader.seek_byte(reader.byte_pos() + length, "a frame's sections")
    return frame.is_last
