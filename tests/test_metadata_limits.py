"""Every named limit of metadata/limits.py, reached: at the limit the input is accepted, one past
it the input is refused (or the field dropped) for that limit's reason.

Inputs are built here by hand, small wherever the limit allows. Where an input at the real limit
would take seconds or hundreds of megabytes to decode (the pixel budgets), the boundary is tested
with the module's limit set to the size of a small image, and the real limit is reached by a
refusal that happens before anything is decoded.

Limits of one format's streamed strip or gain map are tested beside that format's other tests
(test_streaming_strip, test_jpeg_gain_map, test_xmp_rendering, test_jxl, test_jxl_codestream,
test_hevc_payloads, test_av1_payloads, test_metadata_exif_json); the last test here fails when a
constant of limits.py is used by no test module at all.
"""

from __future__ import annotations

import ast
import io
import pathlib
import re
import struct

import piexif
import pytest
from PIL import Image

import image_builders as b
import isobmff_builders as ib
import metadata
from isobmff_builders import Spec, box
from metadata import ImageError, limits
from metadata.formats import gif, tiff
from metadata.icc_profile import icc_problem
from metadata.limits import (
    MAX_BOX_DEPTH,
    MAX_BOXES,
    MAX_DECODED_PIXELS,
    MAX_EXIF_PAYLOAD,
    MAX_EXTENTS_PER_ITEM,
    MAX_GIF_DECODED_PIXELS,
    MAX_ICC_PROFILE_BYTES,
    MAX_IFD_ENTRIES,
    MAX_ITEM_REFERENCES,
    MAX_ITEMS,
    MAX_JSON_SEQUENCE,
    MAX_KEPT_TEXT,
    MAX_PIXELS,
    MAX_TIFF_PAGES,
)

APP1 = 0xE1


def _plain_jpeg() -> bytes:
    return b.jpeg(exif=False, comment=False, xmp=False, icc=False)


def _jpeg_with_exif(structure: bytes) -> bytes:
    return b.insert_after_soi(_plain_jpeg(), b.jpeg_segment(APP1, b"Exif\x00\x00" + structure))


# ---------------------------------------------------------------- pixels


def _jpeg_declaring(width: int, height: int) -> bytes:
    data = _plain_jpeg()
    position = b.jpeg_structure(data).offset_of(0xC0) + 5  # FF C0, length, precision, then height, width
    return data[:position] + struct.pack(">HH", height, width) + data[position + 4 :]


def test_max_pixels():
    width = 20_000
    assert MAX_PIXELS % width == 0 and MAX_PIXELS // width <= 0xFFFF
    at_limit = _jpeg_declaring(width, MAX_PIXELS // width)
    assert metadata.strip(at_limit)  # declared only: a JPEG is copied, never decoded
    with pytest.raises(ImageError, match=f"over the limit of {MAX_PIXELS}"):
        metadata.strip(_jpeg_declaring(width, MAX_PIXELS // width + 1))


def _tiff_entry(data: bytes, tag: int, value: int) -> bytes:
    """data with IFD0's `tag` set to the LONG `value` (little-endian TIFF from Pillow)."""
    ifd = struct.unpack_from("<I", data, 4)[0]
    for index in range(struct.unpack_from("<H", data, ifd)[0]):
        position = ifd + 2 + 12 * index
        if struct.unpack_from("<H", data, position)[0] == tag:
            out = bytearray(data)
            struct.pack_into("<HII", out, position + 2, 4, 1, value)
            return bytes(out)
    raise AssertionError(f"no tag {tag}")


def test_max_pixels_of_a_tiff_page():
    # Declared only: at the limit the page passes this check and meets the decode budget, one row more it does not.
    width = 20_000
    assert MAX_PIXELS % width == 0 and MAX_PIXELS > MAX_DECODED_PIXELS
    data = b.tiff(icc=False, compression="tiff_lzw")
    at_limit = _tiff_entry(_tiff_entry(_tiff_entry(data, 256, width), 257, MAX_PIXELS // width), 278, MAX_PIXELS // width)
    with pytest.raises(ImageError, match=f"more than {MAX_DECODED_PIXELS} pixels to decode"):
        metadata.strip(at_limit)
    over = _tiff_entry(at_limit, 257, MAX_PIXELS // width + 1)
    with pytest.raises(ImageError, match=f"^TIFF: page 0 declares {width}x{MAX_PIXELS // width + 1} pixels, over the limit of {MAX_PIXELS}$"):
        metadata.strip(over)


def test_tiff_decode_budget_at_the_real_limit_is_refused_before_decoding():
    # One LZW strip said to hold 8000 x 5001 pixels: over MAX_DECODED_PIXELS, under MAX_PIXELS.
    data = b.tiff(icc=False, compression="tiff_lzw")
    for tag, value in ((256, 8000), (257, MAX_DECODED_PIXELS // 8000 + 1), (278, 8000)):
        data = _tiff_entry(data, tag, value)
    with pytest.raises(ImageError, match=f"more than {MAX_DECODED_PIXELS} pixels to decode"):
        metadata.strip(data)


def test_tiff_decode_budget_boundary(monkeypatch):
    data = b.tiff(icc=False, size=(12, 8), pages=2)
    monkeypatch.setattr(tiff, "MAX_DECODED_PIXELS", 2 * 12 * 8)
    assert metadata.strip(data)
    monkeypatch.setattr(tiff, "MAX_DECODED_PIXELS", 2 * 12 * 8 - 1)
    with pytest.raises(ImageError, match=f"more than {2 * 12 * 8 - 1} pixels to decode"):
        metadata.strip(data)


def test_gif_decode_budget_at_the_real_limit_is_refused_before_decoding():
    # 14 frames of 6000 x 6000 (each under MAX_DECODED_PIXELS) declared one after the other.
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 6000, 6000, 0) + b"\x08\x01\x00\x00"
    frames = MAX_GIF_DECODED_PIXELS // (6000 * 6000) + 1
    data = b"GIF89a" + struct.pack("<HHBBB", 6000, 6000, 0, 0, 0) + frame * frames + b"\x3b"
    with pytest.raises(ImageError, match=f"more than {MAX_GIF_DECODED_PIXELS} pixels"):
        metadata.strip(data)


def test_gif_decode_budget_boundary(monkeypatch):
    data = b.gif(animated=True)
    pixels = sum(width * height for width, height in _gif_frame_sizes(data))
    monkeypatch.setattr(gif, "MAX_GIF_DECODED_PIXELS", pixels)
    assert metadata.strip(data)
    monkeypatch.setattr(gif, "MAX_GIF_DECODED_PIXELS", pixels - 1)
    with pytest.raises(ImageError, match=f"more than {pixels - 1} pixels"):
        metadata.strip(data)


def _gif_frame_sizes(data: bytes) -> list[tuple[int, int]]:
    """Each frame's image descriptor size, read with Pillow (its tile extents)."""
    image = Image.open(io.BytesIO(data))
    sizes = []
    for index in range(image.n_frames):
        image.seek(index)
        (_, (left, top, right, bottom), _, _), *_ = image.tile
        sizes.append((right - left, bottom - top))
    return sizes


# ---------------------------------------------------------------- TIFF structure


def _grey_tiff(pages: int, extra_entries: int = 0) -> bytes:
    """A little-endian TIFF of 1x1 grey pages; page 0 carries `extra_entries` private BYTE tags."""
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for page in range(pages):
        at = len(out)
        entries = [
            (256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
            (273, 4, 1, 0), (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 1, 1),
        ]  # fmt: skip
        if page == 0:
            entries += [(0xE000 + i, 1, 1, 0) for i in range(extra_entries)]  # tags no table names
        size = 2 + 12 * len(entries) + 4
        pixel_at = at + size
        next_at = pixel_at + 2 if page + 1 < pages else 0
        table = struct.pack("<H", len(entries))
        for tag, kind, count, value in sorted(entries):
            value = pixel_at if tag == 273 else value
            packed = struct.pack("<I", value) if kind == 4 else struct.pack("<HH", value, 0) if kind == 3 else bytes((value, 0, 0, 0))
            table += struct.pack("<HHI", tag, kind, count) + packed
        out += table + struct.pack("<I", next_at) + bytes((0x80 + page % 100, 0))
    return bytes(out)


def test_max_tiff_pages():
    served = metadata.strip(_grey_tiff(MAX_TIFF_PAGES))
    assert Image.open(io.BytesIO(served)).n_frames == MAX_TIFF_PAGES
    with pytest.raises(ImageError, match=f"more than {MAX_TIFF_PAGES} pages"):
        metadata.strip(_grey_tiff(MAX_TIFF_PAGES + 1))


def test_max_ifd_entries_in_a_tiff_page():
    assert metadata.strip(_grey_tiff(1, extra_entries=MAX_IFD_ENTRIES - 9))
    with pytest.raises(ImageError, match=f"declares {MAX_IFD_ENTRIES + 1} entries"):
        metadata.strip(_grey_tiff(1, extra_entries=MAX_IFD_ENTRIES - 8))


def test_max_ifd_entries_in_an_exif_block_reads_that_many_and_no_more():
    # EXIF is read leniently: an IFD0 longer than the limit shows its first MAX_IFD_ENTRIES entries.
    def block(fillers: int) -> bytes:
        entries = [(0xE000 + i, 1, 1, b"\x00\x00\x00\x00") for i in range(fillers)]  # tags no table names
        entries.append((piexif.ImageIFD.Model, 2, 4, b"X1\x00\x00"))
        return b.tiff_header() + b.ifd_bytes(entries)

    assert metadata.read_exif(_jpeg_with_exif(block(MAX_IFD_ENTRIES - 1)), view="full") == {"Image": {"Model": "X1"}}
    assert metadata.read_exif(_jpeg_with_exif(block(MAX_IFD_ENTRIES)), view="full") == {}


# ---------------------------------------------------------------- kept and shown values


@pytest.mark.parametrize("image_format", ["jpeg", "tiff"])
def test_max_kept_text(image_format):
    def kept(length: int) -> bytes | None:
        copyright_ = b"C" * length
        if image_format == "jpeg":
            data = _jpeg_with_exif(piexif.dump({"0th": {piexif.ImageIFD.Copyright: copyright_}})[6:])
        else:
            data = _tiff_with_copyright(copyright_)
        out = metadata.strip(data, keep_copyright=True)
        return copyright_ if copyright_ in out else None

    assert kept(MAX_KEPT_TEXT) == b"C" * MAX_KEPT_TEXT
    assert kept(MAX_KEPT_TEXT + 1) is None  # longer than any real notice: not carried over


def _tiff_with_copyright(text: bytes) -> bytes:
    buffer = io.BytesIO()
    info = Image.Exif()
    info[piexif.ImageIFD.Copyright] = text.decode()
    Image.new("L", (4, 4), 90).save(buffer, "TIFF", exif=info)
    return buffer.getvalue()


def test_max_json_sequence():
    def shown(count: int):
        run_at = 8 + 2 + 12 + 4
        structure = b.tiff_header() + b.ifd_bytes([(piexif.ImageIFD.TransferFunction, 3, count, struct.pack(">I", run_at))]) + b"\x00\x05" * count
        return metadata.read_exif(_jpeg_with_exif(structure), view="full")["Image"]["TransferFunction"]

    assert shown(MAX_JSON_SEQUENCE) == [5] * MAX_JSON_SEQUENCE
    assert shown(MAX_JSON_SEQUENCE + 1) == {"type": "SHORT", "count": MAX_JSON_SEQUENCE + 1}


def _icc_of_size(size: int) -> bytes:
    header = struct.pack(">I", size) + bytes(32) + b"acsp"
    return header + bytes(size - len(header))


def test_max_icc_profile_bytes():
    assert icc_problem(_icc_of_size(MAX_ICC_PROFILE_BYTES)) is None
    assert icc_problem(_icc_of_size(MAX_ICC_PROFILE_BYTES + 1)) == f"{MAX_ICC_PROFILE_BYTES + 1} bytes, over the limit of {MAX_ICC_PROFILE_BYTES}"


# ---------------------------------------------------------------- HEIF


def _heif_with_exif(payload_size: int) -> bytes:
    tile = ib.coded_tile(5)
    exif = piexif.dump({"0th": {piexif.ImageIFD.Model: b"X1"}})[6:]
    item = struct.pack(">I", 0) + exif + bytes(payload_size - 4 - len(exif))
    return ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"Exif", item)], 1, [(b"cdsc", 2, [1])])


def test_max_exif_payload():
    assert metadata.read_exif(_heif_with_exif(MAX_EXIF_PAYLOAD), view="full") == {"Image": {"Model": "X1"}}
    with pytest.raises(ImageError, match=f"^HEIF: EXIF item 2 is larger than {MAX_EXIF_PAYLOAD} bytes$"):
        metadata.read_exif(_heif_with_exif(MAX_EXIF_PAYLOAD + 1))


def test_max_extents_per_item():
    tile = ib.coded_tile(5)

    def with_pieces(pieces: int) -> bytes:
        exif = ib.exif_item_payload(b.exif_block(6))
        exif += bytes(-len(exif) % pieces)  # a multiple of `pieces`: the builder cuts that many extents
        specs = [Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"Exif", exif, pieces=pieces)]
        return ib.heif_file(specs, 1, [(b"cdsc", 2, [1])])

    at_limit = with_pieces(MAX_EXTENTS_PER_ITEM)
    assert ib.read_heif(at_limit).items[2].extents == MAX_EXTENTS_PER_ITEM
    assert metadata.read_exif(at_limit)["Image"]["Orientation"] == 6
    with pytest.raises(ImageError, match=f"{MAX_EXTENTS_PER_ITEM + 1} extents, over the limit of {MAX_EXTENTS_PER_ITEM}"):
        metadata.strip(with_pieces(MAX_EXTENTS_PER_ITEM + 1))


def _heif_with_items(count: int) -> bytes:
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"hvc1", tile.data, tile.properties)] + [Spec(n, b"mime", content_type=b"text/plain") for n in range(2, count + 1)]
    return ib.heif_file(specs, 1, [])


def test_max_items():
    assert ib.top_level_types(metadata.strip(_heif_with_items(MAX_ITEMS))) == [b"ftyp", b"meta", b"mdat"]
    with pytest.raises(ImageError, match=f"{MAX_ITEMS + 1} items, over the limit of {MAX_ITEMS}"):
        metadata.strip(_heif_with_items(MAX_ITEMS + 1))


def test_max_item_references():
    # cdsc references from item 2 to the primary, repeated: MAX_ITEM_REFERENCES targets in all.
    def with_references(total: int) -> bytes:
        tile = ib.coded_tile(5)
        specs = [Spec(1, b"hvc1", tile.data, tile.properties), Spec(2, b"mime", b"x", content_type=b"text/plain")]
        per_box = 1000
        references = [(b"cdsc", 2, [1] * min(per_box, total - start)) for start in range(0, total, per_box)]
        return ib.heif_file(specs, 1, references)

    assert metadata.strip(with_references(MAX_ITEM_REFERENCES))
    with pytest.raises(ImageError, match=f"more than {MAX_ITEM_REFERENCES} item references"):
        metadata.strip(with_references(MAX_ITEM_REFERENCES + 1))


def _heif_with_boxes(total: int) -> bytes:
    """A HEIF file whose strip reads `total` boxes: its own, then empty free boxes at the end of
    meta, which comes last (a box past the budget at the top level ends the walk as trailing data)."""
    tile = ib.coded_tile(5)
    specs = [Spec(1, b"hvc1", tile.data, tile.properties)]
    own = _boxes_walked(ib.heif_file(specs, 1, [], meta_after_mdat=True))
    return ib.heif_file(specs, 1, [], meta_after_mdat=True, meta_extra=(box(b"free", b""),) * (total - own))


def test_max_boxes_boundary(monkeypatch):
    from metadata.formats import isobmff

    monkeypatch.setattr(isobmff, "MAX_BOXES", 100)
    assert metadata.strip(_heif_with_boxes(100))
    # meta's children (the free boxes among them) are read before the boxes inside them: the
    # 101st box read is ipco's last property (pixi)
    over = _heif_with_boxes(101)
    with pytest.raises(ImageError, match="^" + re.escape(f"HEIF: more than 100 boxes (at offset {over.index(b'pixi') - 4})") + "$"):
        metadata.strip(over)


def test_max_boxes_at_the_real_limit():
    with pytest.raises(ImageError, match=f"more than {MAX_BOXES} boxes"):
        metadata.strip(_heif_with_boxes(MAX_BOXES + 1))


def _boxes_walked(data: bytes) -> int:
    """Boxes the strip reads: top level, meta's children, iinf's entries, iprp's and ipco's."""
    count = 0
    for kind, start, payload, end in ib.boxes(data):
        count += 1
        if kind == b"meta":
            for child, c_start, c_payload, c_end in ib.boxes(data, payload + 4, end):
                count += 1
                if child == b"iinf":
                    count += len(ib.boxes(data, c_payload + 6, c_end))
                elif child == b"iprp":
                    for inner, _, i_payload, i_end in ib.boxes(data, c_payload, c_end):
                        count += 1
                        if inner == b"ipco":
                            count += len(ib.boxes(data, i_payload, i_end))
                elif child == b"iref":
                    count += len(ib.boxes(data, c_payload + 4, c_end))
    return count


def test_max_box_depth():
    from metadata.formats.isobmff import BoxBudget, read_boxes

    def nested(depth: int) -> bytes:
        inner = box(b"free", b"")
        for _ in range(depth):
            inner = box(b"dinf", inner)
        return inner

    data = nested(1)
    assert len(read_boxes(data, 0, len(data), "test", BoxBudget("test"), MAX_BOX_DEPTH)) == 1
    with pytest.raises(ImageError, match=f"nested more than {MAX_BOX_DEPTH} deep"):
        read_boxes(data, 0, len(data), "test", BoxBudget("test"), MAX_BOX_DEPTH + 1)


# ---------------------------------------------------------------- PNG text-chunk EXIF (ImageMagick)


def _png_with_raw_profile_of_length(length: int) -> bytes:
    """A PNG whose zTXt "Raw profile type exif" text is `length` bytes, its last hex digit last."""
    import zlib

    from metadata.limits import MAX_RAW_PROFILE_TEXT

    assert length >= MAX_RAW_PROFILE_TEXT - 1
    block = piexif.dump({"0th": {piexif.ImageIFD.Model: b"X1"}})
    head, digits = f"\nexif\n{len(block):8d}\n".encode(), block.hex().encode()
    text = head + b" " * (length - len(head) - len(digits)) + digits  # whitespace between is skipped
    chunk = b.png_chunk(b"zTXt", b"Raw profile type exif\x00\x00" + zlib.compress(text, 9))
    return b.png_insert_before_iend(b.png(exif=False, text=False, icc=False), chunk)


def test_max_raw_profile_text():
    from metadata.limits import MAX_RAW_PROFILE_TEXT

    assert metadata.read_exif(_png_with_raw_profile_of_length(MAX_RAW_PROFILE_TEXT)) == {"Image": {"Model": "X1"}}
    # One byte more: the text read stops at the limit, before the profile's last digit.
    assert metadata.read_exif(_png_with_raw_profile_of_length(MAX_RAW_PROFILE_TEXT + 1)) == {}


def test_tiff_growth_boundary(monkeypatch):
    data = b.tiff(1, icc=False)
    grown = len(metadata.strip(data)) - len(data)  # what the re-save adds (or takes): sets the cap to the byte
    monkeypatch.setattr(tiff, "MAX_TIFF_GROWTH", 1)
    monkeypatch.setattr(tiff, "TIFF_GROWTH_ALLOWANCE", grown)  # the cap is then exactly the output's size
    assert metadata.strip(data)
    monkeypatch.setattr(tiff, "TIFF_GROWTH_ALLOWANCE", grown - 1)
    with pytest.raises(ImageError, match="re-saved image would be"):
        metadata.strip(data)


# ---------------------------------------------------------------- every limit has a test


def _names_used_in_tests() -> set[str]:
    """Names a test module uses in its code (a variable, an attribute, or a string such as
    monkeypatch.setattr's name): an import alone does not count."""
    used: set[str] = set()
    for path in sorted(pathlib.Path(__file__).parent.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                used.add(node.value)
    return used


def test_every_named_limit_is_used_by_a_test():
    """A new constant in metadata/limits.py needs a test at the limit and one past it (see the
    module docstring); this fails until some test module uses it."""
    constants = {name for name in vars(limits) if name.isupper() and isinstance(getattr(limits, name), int)}
    assert len(constants) >= 30  # the module read is the real one
    missing = sorted(constants - _names_used_in_tests())
    assert missing == [], f"limits no test uses: {missing}"


# ---------------------------------------------------------------- the format modules' own bounds


def _heic_with_compatible_brands(count: int) -> bytes:
    tile = ib.coded_tile(3)
    compatible = (b"mif1", b"heic") + (b"miaf",) * (count - 2)
    return ib.heif_file([Spec(1, b"hvc1", tile.data, tile.properties)], 1, [], brands=(b"heic", *compatible))


def test_max_brands_in_an_ftyp_box():
    from metadata.formats.isobmff import MAX_BRANDS

    at = _heic_with_compatible_brands(MAX_BRANDS)
    assert at[4:8] == b"ftyp" and struct.unpack(">I", at[:4])[0] == 8 + 8 + 4 * MAX_BRANDS
    assert metadata.clean(at).data[4:8] == b"ftyp"  # served (its ftyp rewritten, duplicate brands go)
    past = _heic_with_compatible_brands(MAX_BRANDS + 1)
    with pytest.raises(ImageError, match="^" + re.escape(f"HEIF: 'ftyp' box of {8 + 4 * (MAX_BRANDS + 1)} bytes at offset 0") + "$"):
        metadata.clean(past)


def _png_with_icc_keyword(keyword: bytes) -> bytes:
    import zlib

    data = b.png(exif=False, text=False, icc=False)
    iccp = b.png_chunk(b"iCCP", keyword + b"\x00\x00" + zlib.compress(b.icc_profile()))
    idat = data.index(b"IDAT") - 4
    return data[:idat] + iccp + data[idat:]


def test_max_keyword_of_a_png_icc_profile():
    # iCCP's keyword is 1-79 bytes (PNG spec, 11.3.3.3): a profile named with MAX_KEYWORD bytes
    # is kept (under a neutral name), one named with one byte more is not a valid chunk and goes.
    from metadata.formats.png import MAX_KEYWORD

    at = metadata.clean(_png_with_icc_keyword(b"k" * MAX_KEYWORD))
    assert [data.split(b"\x00")[0] for name, data in b.png_chunks(at.data) if name == b"iCCP"] == [b"ICC profile"]
    past = metadata.clean(_png_with_icc_keyword(b"k" * (MAX_KEYWORD + 1)))
    assert [name for name, _ in b.png_chunks(past.data) if name == b"iCCP"] == []
    assert "other" in past.removed


def _png_with_chunk_declaring(length: int) -> bytes:
    """A PNG whose last chunk before IEND (after the image data) declares `length` bytes: the
    file ends long before it."""
    data = b.png(exif=False, text=False, icc=False)
    return data[:-12] + struct.pack(">I", length) + b"tEXt" + b"Comment\x00short"


def test_max_chunk_length_of_a_png_chunk():
    # 2**31 - 1 (PNG spec, 5.3): a chunk declaring that many bytes is read as cut off (and goes);
    # one declaring one more is refused for its length.
    from metadata.formats.png import MAX_CHUNK_LENGTH

    at = metadata.clean(_png_with_chunk_declaring(MAX_CHUNK_LENGTH))
    assert b"short" not in at.data and b"tEXt" not in at.data
    with pytest.raises(ImageError, match=f"tEXt chunk at offset \\d+ declares {MAX_CHUNK_LENGTH + 1} bytes"):
        metadata.clean(_png_with_chunk_declaring(MAX_CHUNK_LENGTH + 1))


def _gif_with_data_after_end(extra: int) -> bytes:
    """The first image's data followed (before its terminator) by one sub-block of `extra` - 1
    bytes: `extra` bytes after the LZW end code, counting the sub-block's size byte."""
    data = b.gif(comment=False, extensions=False)
    position = data.index(b"\x2c", 13 + 3 * 256) + 11
    while data[position]:
        position += 1 + data[position]
    return data[:position] + bytes((extra - 1,)) + b"\x00" * (extra - 1) + data[position:]


def test_max_data_after_end_of_a_gif_image():
    assert gif.MAX_DATA_AFTER_END == 3  # encoders pad the last sub-block a little, never more
    at = _gif_with_data_after_end(gif.MAX_DATA_AFTER_END)
    assert metadata.clean(at).data
    with pytest.raises(ImageError, match=f"has {gif.MAX_DATA_AFTER_END + 1} bytes of data after its end"):
        metadata.clean(_gif_with_data_after_end(gif.MAX_DATA_AFTER_END + 1))
