"""Images with metadata for the core's tests, made with Pillow and piexif plus tiny
inline byte builders, and checks that read the output back independently of the core.

Every text the builders plant in metadata contains SECRET, so a test can search the
output's bytes for it; Copyright and Artist carry OWNER instead, because
keep_copyright keeps them on purpose.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib

import piexif
from PIL import Image, ImageCms, ImageOps, PngImagePlugin
from PIL.ExifTags import IFD


SECRET = b"SECRET-c0ffee"
OWNER_COPYRIGHT = b"(c) 2024 OWNER-Ada"
OWNER_ARTIST = b"OWNER-Ada Lovelace"
XMP_PACKET = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>' + SECRET + b"</rdf:Description></x:xmpmeta>"
XMP_NAMESPACE = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXTENSION_NAMESPACE = b"http://ns.adobe.com/xmp/extension/\x00"
GPS_LATITUDE = ((52, 1), (31, 1), (1234, 100))  # 52 deg 31' 12.34" S
GPS_LONGITUDE = ((13, 1), (24, 1), (0, 1))  # 13 deg 24' 0" W
ORIENTATION_TAG = 0x0112
COPYRIGHT_TAG = 0x8298
ARTIST_TAG = 0x013B
EXIF_IFD_TAG, GPS_IFD_TAG = 0x8769, 0x8825


# --- pixels and profiles --------------------------------------------------------------------


def pattern(mode: str = "RGB", size: tuple[int, int] = (40, 24), seed: int = 0) -> Image.Image:
    """A picture with no symmetry, so a wrong rotation or flip changes its pixels."""
    width, height = size
    rgb = Image.new("RGB", size)
    rgb.putdata([((x * 7 + seed) % 256, (y * 11 + 3 * seed) % 256, (x * y + 50) % 256) for y in range(height) for x in range(width)])
    rgb.paste((255, 0, 0), (0, 0, 5, 3))  # a red mark in the top-left corner
    if mode == "RGB":
        return rgb
    if mode == "RGBA":
        image = rgb.convert("RGBA")
        image.putalpha(Image.linear_gradient("L").resize(size))
        return image
    return rgb.convert(mode)


@functools.lru_cache(maxsize=None)
def icc_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _jpeg_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


# --- EXIF -----------------------------------------------------------------------------------


def exif_dict(
    orientation: int | None = None,
    *,
    gps: bool = True,
    makernote: bool = True,
    thumbnail: bool = True,
    owner: bool = True,
) -> dict:
    """A piexif dict with a bit of everything EXIF can hold."""
    zeroth = {
        piexif.ImageIFD.Make: b"Camera " + SECRET,
        piexif.ImageIFD.Model: b"Model " + SECRET,
        piexif.ImageIFD.ImageDescription: b"desc " + SECRET,
        piexif.ImageIFD.XResolution: (300, 1),
        piexif.ImageIFD.YResolution: (300, 1),
        piexif.ImageIFD.ResolutionUnit: 2,
        piexif.ImageIFD.Software: b"software " + SECRET,
    }
    if orientation is not None:
        zeroth[piexif.ImageIFD.Orientation] = orientation
    if owner:
        zeroth[piexif.ImageIFD.Copyright] = OWNER_COPYRIGHT
        zeroth[piexif.ImageIFD.Artist] = OWNER_ARTIST
    exif = {
        piexif.ExifIFD.DateTimeOriginal: b"2024:01:02 03:04:05",
        piexif.ExifIFD.ExifVersion: b"0232",
        piexif.ExifIFD.ExposureTime: (1, 250),
        piexif.ExifIFD.FNumber: (28, 10),
        piexif.ExifIFD.ISOSpeedRatings: 400,
        piexif.ExifIFD.BodySerialNumber: b"serial " + SECRET,
        piexif.ExifIFD.UserComment: b"ASCII\x00\x00\x00comment " + SECRET,
        piexif.ExifIFD.ComponentsConfiguration: b"\x01\x02\x03\x00",
        piexif.ExifIFD.SceneType: b"\x01",
        piexif.ExifIFD.ShutterSpeedValue: (8, 1),
        piexif.ExifIFD.ExposureBiasValue: (-1, 3),
        piexif.ExifIFD.SubjectDistance: (1, 0),  # a zero denominator
    }
    if makernote:
        exif[piexif.ExifIFD.MakerNote] = b"maker note " + SECRET + bytes(range(64))
    result = {"0th": zeroth, "Exif": exif, "Interop": {piexif.InteropIFD.InteroperabilityIndex: b"R98"}}
    if gps:
        result["GPS"] = {
            piexif.GPSIFD.GPSVersionID: (2, 2, 0, 0),
            piexif.GPSIFD.GPSLatitudeRef: b"S",
            piexif.GPSIFD.GPSLatitude: GPS_LATITUDE,
            piexif.GPSIFD.GPSLongitudeRef: b"W",
            piexif.GPSIFD.GPSLongitude: GPS_LONGITUDE,
            piexif.GPSIFD.GPSAltitude: (1234, 10),
            piexif.GPSIFD.GPSProcessingMethod: b"ASCII\x00\x00\x00GPS " + SECRET,
        }
    if thumbnail:
        result["1st"] = {piexif.ImageIFD.XResolution: (72, 1), piexif.ImageIFD.YResolution: (72, 1)}
        result["thumbnail"] = _jpeg_bytes(pattern(size=(16, 10)), comment=b"thumb " + SECRET)
    return result


def exif_block(orientation: int | None = None, **options) -> bytes:
    """An EXIF block as a JPEG APP1 payload: "Exif\\0\\0" and a big-endian TIFF structure."""
    return piexif.dump(exif_dict(orientation, **options))


def tiff_structure(exif: bytes) -> bytes:
    """The TIFF structure of an EXIF block (what PNG eXIf and WebP EXIF hold)."""
    return exif[6:] if exif.startswith(b"Exif\x00\x00") else exif


# --- JPEG -----------------------------------------------------------------------------------


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def photoshop_iptc_payload() -> bytes:
    """An APP13 payload: Photoshop image resources holding an IPTC-NAA record (8BIM 0x0404)."""
    iptc = b"\x1c\x02\x78" + struct.pack(">H", len(SECRET) + 8) + b"caption " + SECRET  # 2:120 Caption
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    if len(iptc) % 2:
        resource += b"\x00"
    return b"Photoshop 3.0\x00" + resource


def extended_xmp_payload() -> bytes:
    guid = b"0123456789ABCDEF0123456789ABCDEF"
    body = b"<x:xmpmeta><extended>" + SECRET + b"</extended></x:xmpmeta>"
    return XMP_EXTENSION_NAMESPACE + guid + struct.pack(">II", len(body), 0) + body


def jfif_with_thumbnail() -> bytes:
    """APP0 JFIF with a 2x2 RGB thumbnail (version, units, densities, thumbnail size, pixels)."""
    return jpeg_segment(0xE0, b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x02\x02" + bytes(12))


def insert_after_soi(jpeg: bytes, *segments: bytes) -> bytes:
    """Puts segments right after SOI and a leading APP0, where metadata usually sits."""
    position = 2
    if jpeg[2:4] == b"\xff\xe0":
        position = 4 + int.from_bytes(jpeg[4:6], "big")
    return jpeg[:position] + b"".join(segments) + jpeg[position:]


def insert_before_sos(jpeg: bytes, *segments: bytes) -> bytes:
    position = jpeg_structure(jpeg).scan_start
    return jpeg[:position] + b"".join(segments) + jpeg[position:]


class JpegStructure:
    """A test-side walk of a JPEG: its markers before the first scan, and the scan data."""

    def __init__(self, data: bytes):
        self.markers: list[tuple[int, bytes]] = []
        self.offsets: list[int] = []  # where each of `markers` starts (its FF byte)
        pos = 2
        while data[pos + 1] != 0xDA:
            marker = data[pos + 1]
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            self.markers.append((marker, data[pos + 4 : pos + 2 + length]))
            self.offsets.append(pos)
            pos += 2 + length
        self.scan_start = pos
        # FF D9 cannot occur inside entropy-coded data (an FF there is followed by 00 or D0-D7).
        self.eoi_end = data.index(b"\xff\xd9", pos) + 2
        self.scan = data[self.scan_start : self.eoi_end]
        self.trailer = data[self.eoi_end :]

    def offset_of(self, marker: int) -> int:
        return self.offsets[[found for found, _ in self.markers].index(marker)]

    def payloads(self, marker: int) -> list[bytes]:
        return [payload for found, payload in self.markers if found == marker]


def jpeg_structure(data: bytes) -> JpegStructure:
    return JpegStructure(data)


def jpeg(
    orientation: int | None = None,
    *,
    mode: str = "RGB",
    progressive: bool = False,
    icc: bool = True,
    exif: bool = True,
    comment: bool = True,
    xmp: bool = True,
    size: tuple[int, int] = (40, 24),
    **exif_options,
) -> bytes:
    """A JPEG with EXIF (GPS, MakerNote, thumbnail), XMP, ICC and a comment, as Pillow writes them."""
    options: dict = {"quality": 90, "progressive": progressive}
    if exif:
        options["exif"] = exif_block(orientation, **exif_options)
    if icc:
        options["icc_profile"] = icc_profile()
    if comment:
        options["comment"] = b"comment " + SECRET
    if xmp:
        options["xmp"] = XMP_PACKET
    return _jpeg_bytes(pattern(mode, size), **options)


def jpeg_with_everything(orientation: int | None = 6) -> bytes:
    """Every metadata kind a JPEG can carry, MPF secondary image included."""
    image = pattern()
    buffer = io.BytesIO()
    image.save(
        buffer,
        "MPO",
        save_all=True,
        append_images=[pattern(seed=99)],
        exif=exif_block(orientation),
        icc_profile=icc_profile(),
        comment=b"comment " + SECRET,
        xmp=XMP_PACKET,
        quality=90,
    )
    data = buffer.getvalue()
    return insert_after_soi(
        data,
        jpeg_segment(0xED, photoshop_iptc_payload()),
        jpeg_segment(0xE1, extended_xmp_payload()),
        jpeg_segment(0xEC, b"Ducky\x00" + SECRET),  # APP12, as Photoshop's "Save for Web" writes
        jpeg_segment(0xE0, b"JFXX\x00\x10" + SECRET),  # a JFIF extension thumbnail
    )


# --- PNG ------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(name: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + name + data + struct.pack(">I", zlib.crc32(name + data))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """A test-side walk of a PNG: (type, data) of every chunk."""
    chunks, pos = [], len(PNG_SIGNATURE)
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
        if chunks[-1][0] == b"IEND":
            break
    return chunks


def png(
    orientation: int | None = None,
    *,
    mode: str = "RGB",
    icc: bool = True,
    exif: bool = True,
    text: bool = True,
    animated: bool = False,
    **exif_options,
) -> bytes:
    """A PNG with eXIf, tEXt, zTXt, iTXt (XMP), tIME, a private chunk and iCCP."""
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", "text " + SECRET.decode())
        info.add_text("Author", "ztxt " + SECRET.decode(), zip=True)
        info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode(), zip=False)
        info.add_text("Raw profile type exif", "exif " + SECRET.decode(), zip=True)
        info.add(b"tIME", struct.pack(">HBBBBB", 2024, 1, 2, 3, 4, 5))
        info.add(b"prVt", b"private " + SECRET)
    options: dict = {"pnginfo": info}
    if exif:
        options["exif"] = tiff_structure(exif_block(orientation, **exif_options))
    if icc:
        options["icc_profile"] = icc_profile()
    buffer = io.BytesIO()
    image = pattern(mode)
    if animated:
        frames = [pattern(mode, seed=seed) for seed in (0, 40, 80)]
        frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=2, **options)
    else:
        image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def png_insert_before_iend(data: bytes, *chunks: bytes) -> bytes:
    return data[:-12] + b"".join(chunks) + data[-12:]


# --- WebP -----------------------------------------------------------------------------------


def riff_chunk(name: bytes, payload: bytes) -> bytes:
    return name + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")


def riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """A test-side walk of a WebP: (FourCC, payload) of every top-level chunk."""
    chunks, pos = [], 12
    end = 8 + int.from_bytes(data[4:8], "little")
    while pos < end:
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunks.append((data[pos : pos + 4], data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + size % 2
    return chunks


def riff_file(chunks: list[bytes]) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp(
    orientation: int | None = None,
    *,
    mode: str = "RGB",
    lossless: bool = False,
    icc: bool = True,
    exif: bool = True,
    xmp: bool = True,
    animated: bool = False,
    **exif_options,
) -> bytes:
    """A WebP with EXIF, XMP and ICCP chunks, as Pillow writes them."""
    options: dict = {"lossless": lossless, "quality": 90}
    if exif:
        options["exif"] = exif_block(orientation, **exif_options)
    if icc:
        options["icc_profile"] = icc_profile()
    if xmp:
        options["xmp"] = XMP_PACKET
    buffer = io.BytesIO()
    if animated:
        frames = [pattern(mode, seed=seed) for seed in (0, 40, 80)]
        frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=3, **options)
    else:
        pattern(mode).save(buffer, "WEBP", **options)
    return buffer.getvalue()


def webp_simple(lossless: bool = False) -> bytes:
    buffer = io.BytesIO()
    pattern().save(buffer, "WEBP", lossless=lossless, quality=90)
    return buffer.getvalue()


# --- GIF ------------------------------------------------------------------------------------


def gif_sub_blocks(data: bytes) -> bytes:
    return b"".join(bytes((len(data[i : i + 255]),)) + data[i : i + 255] for i in range(0, len(data), 255)) + b"\x00"


def gif_application_extension(identifier: bytes, data: bytes) -> bytes:
    return b"\x21\xff\x0b" + identifier + gif_sub_blocks(data)


def gif_xmp_extension() -> bytes:
    """XMP as Adobe writes it into GIF: raw bytes followed by a 258-byte "magic trailer"."""
    magic_trailer = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"
    return b"\x21\xff\x0b" + b"XMP DataXMP" + XMP_PACKET + magic_trailer


def gif(*, animated: bool = False, comment: bool = True, extensions: bool = True) -> bytes:
    """A GIF with a comment, XMP and ImageMagick 8BIM application extensions and a trailer."""
    buffer = io.BytesIO()
    options: dict = {}
    if comment:
        options["comment"] = b"comment " + SECRET
    if animated:
        frames = [pattern("P", seed=seed) for seed in (0, 40, 80)]
        frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0, disposal=[1, 2, 1], optimize=False, **options)
    else:
        pattern("P").save(buffer, "GIF", **options)
    data = buffer.getvalue()
    if extensions:
        extra = gif_xmp_extension() + gif_application_extension(b"MGK8BIM0000", b"8BIM" + SECRET)
        data = data[:-1] + extra + b"\x3b" + b"trailer " + SECRET
    return data


# --- TIFF -----------------------------------------------------------------------------------


def tiff(
    orientation: int | None = None,
    *,
    mode: str = "RGB",
    compression: str = "raw",
    icc: bool = True,
    exif: bool = True,
    pages: int = 1,
    reduced_page: bool = False,
    size: tuple[int, int] = (40, 24),
) -> bytes:
    """A TIFF whose IFD0 holds descriptive tags, XMP, IPTC, Photoshop and an Exif/GPS IFD."""
    tags = {
        270: "description " + SECRET.decode(),
        271: "Camera " + SECRET.decode(),
        305: "software " + SECRET.decode(),
        33432: OWNER_COPYRIGHT.decode(),
        315: OWNER_ARTIST.decode(),
        700: XMP_PACKET,
        33723: b"\x1c\x02\x78\x00\x10caption " + SECRET[:8],
        34377: photoshop_iptc_payload()[len(b"Photoshop 3.0\x00") :],
    }
    if orientation is not None:
        tags[ORIENTATION_TAG] = orientation
    options: dict = {"compression": compression}
    if exif and compression == "raw":
        # Pillow writes sub-IFDs (Exif, GPS) only without libtiff, i.e. uncompressed.
        # Without an Interop IFD: Pillow would copy its pointer into the TIFF without relocating it.
        exif_data = Image.Exif()
        exif_data.load(piexif.dump({**exif_dict(orientation, thumbnail=False), "Interop": {}}))
        for tag, value in tags.items():
            exif_data[tag] = value
        options["exif"] = exif_data
    else:
        options["tiffinfo"] = tags
    if icc:
        options["icc_profile"] = icc_profile()
    frames = [pattern(mode, size, seed=seed * 40) for seed in range(pages)]
    if reduced_page:
        # A preview page (NewSubfileType bit 0): Pillow lets an appended frame carry its own tags.
        preview = pattern(mode, (10, 6), seed=7)
        preview.encoderinfo = {"tiffinfo": {254: 1, 270: "preview " + SECRET.decode()}, "compression": "raw"}
        frames.append(preview)
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:], **options)
    return buffer.getvalue()


# --- inline TIFF-structure builder (for hostile EXIF) ---------------------------------------


def ifd_bytes(entries: list[tuple[int, int, int, bytes]], next_offset: int = 0, order: str = ">") -> bytes:
    """An IFD: count, then (tag, type, count, 4-byte value or offset) entries, then the next offset."""
    body = struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack(order + "HHI", tag, kind, count) + value.ljust(4, b"\x00")
    return body + struct.pack(order + "I", next_offset)


def tiff_header(first_ifd: int = 8, order: str = ">") -> bytes:
    return (b"MM\x00*" if order == ">" else b"II*\x00") + struct.pack(order + "I", first_ifd)


# --- reading the output back, independently of the core -------------------------------------

TEXT_MARKERS = (
    b"http://ns.adobe.com/xap",
    b"http://ns.adobe.com/xmp",
    b"<x:xmpmeta",
    b"Photoshop 3.0",
    b"8BIM",
    b"XMP DataXMP",
    b"MGK8BIM",
    b"MPF\x00",
    b"JFXX",
    b"Ducky",
)
PNG_METADATA_CHUNKS = (b"tEXt", b"zTXt", b"iTXt", b"tIME", b"prVt")
KEPT_EXIF_TAGS = frozenset({ORIENTATION_TAG, COPYRIGHT_TAG, ARTIST_TAG})
# Tags that describe a TIFF's pixels; Pillow reports them through getexif() for TIFF.
TIFF_STRUCTURE_TAGS = frozenset(
    {254, 256, 257, 258, 259, 262, 273, 277, 278, 279, 282, 283, 284, 296, 317, 320, 338, 339, 34675}
)


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def displayed(data: bytes) -> Image.Image:
    """The pixels as a viewer shows them: decoded, then turned by the EXIF Orientation."""
    return ImageOps.exif_transpose(decoded(data).convert("RGBA"))


def frames(data: bytes) -> list[tuple[bytes, dict]]:
    """Every frame's RGBA pixels and timing/disposal info."""
    image = Image.open(io.BytesIO(data))
    result = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        image.load()
        timing = {key: image.info.get(key) for key in ("duration", "loop", "disposal")}
        timing["disposal"] = getattr(image, "disposal_method", None)
        result.append((image.convert("RGBA").tobytes(), timing))
    return result


def _without_tiff_pixel_data(data: bytes) -> bytes:
    """A TIFF with its strips zeroed: a damaged file may point its strips at any bytes,
    which then are its pixels, re-saved as such."""
    out = bytearray(data)
    try:
        image = Image.open(io.BytesIO(data))
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            for offsets, counts in ((273, 279), (324, 325)):
                for offset, count in zip(image.tag_v2.get(offsets, ()), image.tag_v2.get(counts, ())):
                    out[offset : offset + count] = bytes(len(out[offset : offset + count]))
    except Exception:  # noqa: BLE001 - then every byte is scanned
        return data
    return bytes(out)


def metadata_problems(data: bytes, *, allowed_exif: frozenset[int] = KEPT_EXIF_TAGS) -> list[str]:
    """What in `data` still looks like metadata, found by byte scans and by Pillow."""
    problems = []
    scanned = _without_tiff_pixel_data(data) if data[:4] in (b"II*\x00", b"MM\x00*") else data
    if SECRET in scanned:
        problems.append("a planted SECRET is still in the bytes")
    problems += [f"marker {marker!r} is still in the bytes" for marker in TEXT_MARKERS if marker in scanned]
    if data[:8] == PNG_SIGNATURE:
        problems += [f"PNG chunk {name!r}" for name, _ in png_chunks(data) if name in PNG_METADATA_CHUNKS]
    if data[:4] == b"RIFF":
        problems += [f"WebP chunk {name!r}" for name, _ in riff_chunks(data) if name in (b"XMP ",)]
    if data.count(b"Exif\x00\x00") > 1:
        problems.append("more than one EXIF header")
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - a mutated image may no longer open; the byte scans still ran
        return problems
    for key in ("comment", "xmp", "XML:com.adobe.xmp", "photoshop", "Comment", "Author"):
        if key in image.info:
            problems.append(f"Pillow finds info[{key!r}]")
    extension = image.info.get("extension")
    if extension and extension[0] not in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
        problems.append(f"Pillow finds a GIF application extension {extension[0]!r}")
    try:
        text = getattr(image, "text", None)  # loads a PNG to its end, which a cut-off one lacks
    except Exception:  # noqa: BLE001 - a damaged PNG is served; its chunk walk above still ran
        text = None
    if text:
        problems.append(f"Pillow finds PNG text {sorted(text)}")
    try:
        exif = image.getexif()
        if image.format == "TIFF":
            extra = {tag for tag in exif if tag not in TIFF_STRUCTURE_TAGS}
        else:
            extra = set(exif)
        extra -= allowed_exif
        if extra:
            problems.append(f"Pillow finds EXIF tags {sorted(extra)}")
        for ifd in (EXIF_IFD_TAG, GPS_IFD_TAG):
            if exif.get_ifd(ifd):
                problems.append(f"Pillow finds EXIF IFD 0x{ifd:04x}")
        if image.format != "TIFF" and exif.get_ifd(IFD.IFD1):
            problems.append("Pillow finds an EXIF thumbnail IFD")
    except Exception as error:  # noqa: BLE001 - EXIF that Pillow cannot read is EXIF all the same
        problems.append(f"Pillow cannot read the EXIF it finds ({type(error).__name__})")
    return problems

