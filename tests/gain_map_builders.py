"""JPEGs with HDR gain maps for the tests, built from Pillow JPEGs and tiny byte builders,
and readers that check an output independently of the core.

Layouts: the MPF index as CIPA DC-007 gives it (what libultrahdr writes: big-endian, three
tags, offsets from the index's TIFF header, 0 for the primary); the ISO 21496-1 record as
libultrahdr's gainmapmetadata.cpp writes it; XMP as the Ultra HDR v1 spec and Apple show it.
Every metadata text planted contains image_builders.SECRET.
"""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ElementTree
from typing import NamedTuple

from PIL import Image

import image_builders as b

SECRET = b.SECRET
APP1, APP2 = 0xE1, 0xE2
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
ISO_ID = b"urn:iso:std:iso:ts:21496:-1\x00"
MPF_ID = b"MPF\x00"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
HDRGM = "http://ns.adobe.com/hdr-gain-map/1.0/"
APPLE_GAIN_MAP = "http://ns.apple.com/HDRGainMap/1.0/"
APDI = "http://ns.apple.com/pixeldatainfo/1.0/"
CONTAINER = "http://ns.google.com/photos/1.0/container/"
ITEM = "http://ns.google.com/photos/1.0/container/item/"
RENDERING_NAMESPACES = {RDF, "adobe:ns:meta/", HDRGM, APPLE_GAIN_MAP, APDI, CONTAINER, ITEM}

TYPE_PRIMARY, TYPE_UNDEFINED = 0x030000, 0x000000
TYPE_LARGE_THUMBNAIL, TYPE_DISPARITY = 0x010001, 0x020002
REPRESENTATIVE, DEPENDENT_PARENT = 0x20000000, 0x80000000

# Ultra HDR gain-map parameters (hdrgm, as libultrahdr writes them) and the same fit as an
# ISO 21496-1 record: version 0/0, flags (common denominator), denominator, headrooms,
# one channel of min, max, gamma, base and alternate offsets.
GAIN_MAP_PARAMETERS = {
    "Version": "1.0",
    "GainMapMin": "0",
    "GainMapMax": "2.16048",
    "Gamma": "1",
    "OffsetSDR": "0.015625",
    "OffsetHDR": "0.015625",
    "HDRCapacityMin": "0",
    "HDRCapacityMax": "2.16048",
    "BaseRenditionIsHDR": "False",
}
ISO_VERSION_ONLY = b"\x00\x00\x00\x00"
ISO_PARAMETERS = b"\x00\x00\x00\x00" + b"\x08" + struct.pack(">IIIiiIii", 100000, 0, 216048, 0, 216048, 100000, 1562, 1562)
APPLE_AUX_TYPE = "urn:com:apple:photo:2020:aux:hdrgainmap"

# Metadata an editor or a phone adds beside the rendering properties.
_SECRET_DESCRIPTION = (
    f'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    f'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="{SECRET.decode()}">'
    f"<dc:creator><rdf:Seq><rdf:li>{SECRET.decode()}</rdf:li></rdf:Seq></dc:creator></rdf:Description>"
)


def xmp_packet(description_attributes: str, children: str = "", namespaces: str = "") -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 5.1.2">'
        f'<rdf:RDF xmlns:rdf="{RDF}">'
        f'<rdf:Description rdf:about="" {namespaces} {description_attributes}>{children}</rdf:Description>'
        f"{_SECRET_DESCRIPTION}</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def ultra_hdr_primary_xmp(gain_map_length: int) -> bytes:
    namespaces = f'xmlns:hdrgm="{HDRGM}" xmlns:Container="{CONTAINER}" xmlns:Item="{ITEM}"'
    directory = (
        "<Container:Directory><rdf:Seq>"
        '<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="Primary" Item:Mime="image/jpeg"/></rdf:li>'
        '<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="GainMap" Item:Mime="image/jpeg" '
        f'Item:Length="{gain_map_length}"/></rdf:li>'
        "</rdf:Seq></Container:Directory>"
    )
    return xmp_packet('hdrgm:Version="1.0"', directory, namespaces)


def ultra_hdr_gain_map_xmp() -> bytes:
    attributes = " ".join(f'hdrgm:{name}="{value}"' for name, value in GAIN_MAP_PARAMETERS.items())
    return xmp_packet(attributes, namespaces=f'xmlns:hdrgm="{HDRGM}"')


def apple_gain_map_xmp() -> bytes:
    namespaces = f'xmlns:HDRGainMap="{APPLE_GAIN_MAP}" xmlns:apdi="{APDI}"'
    children = (
        f"<apdi:AuxiliaryImageType>{APPLE_AUX_TYPE}</apdi:AuxiliaryImageType>"
        "<apdi:StoredFormat>1278226488</apdi:StoredFormat>"
        "<HDRGainMap:HDRGainMapVersion>131072</HDRGainMap:HDRGainMapVersion>"
        "<HDRGainMap:HDRGainMapHeadroom>2.569</HDRGainMap:HDRGainMapHeadroom>"
    )
    return xmp_packet("", children, namespaces)


def apple_depth_xmp() -> bytes:
    namespaces = f'xmlns:apdi="{APDI}"'
    children = "<apdi:AuxiliaryImageType>urn:com:apple:photo:2018:aux:portraiteffectsmatte</apdi:AuxiliaryImageType>"
    return xmp_packet("", children, namespaces)


def plain_jpeg(size: tuple[int, int], *, mode: str = "RGB", seed: int = 0, progressive: bool = False) -> bytes:
    """A Pillow JPEG with EXIF (GPS, MakerNote, thumbnail) and a comment, no XMP or ICC."""
    buffer = io.BytesIO()
    b.pattern(mode, size, seed).save(
        buffer, "JPEG", quality=90, exif=b.exif_block(), comment=b"comment " + SECRET, progressive=progressive
    )
    return buffer.getvalue()


def with_segments(jpeg: bytes, *segments: bytes) -> bytes:
    return b.insert_after_soi(jpeg, *segments)


def mpf_payload(entries: list[tuple[int, int, int]], order: str = ">", *, attribute_ifd: bool = True) -> bytes:
    """An MPF index: (attribute, size, offset) per image; with an MP Attribute IFD holding
    MPIndividualNum and a BaseViewpointNum, as cameras write it."""
    header = b"MM\x00\x2a" if order == ">" else b"II\x2a\x00"
    entries_at = 8 + 2 + 3 * 12 + 4
    attribute_at = entries_at + 16 * len(entries) if attribute_ifd else 0
    body = header + struct.pack(order + "IH", 8, 3)
    body += struct.pack(order + "HHI", 0xB000, 7, 4) + b"0100"
    body += struct.pack(order + "HHII", 0xB001, 4, 1, len(entries))
    body += struct.pack(order + "HHII", 0xB002, 7, 16 * len(entries), entries_at)
    body += struct.pack(order + "I", attribute_at)
    for attribute, size, offset in entries:
        body += struct.pack(order + "IIIHH", attribute, size, offset, 0, 0)
    if attribute_ifd:
        body += struct.pack(order + "H", 2)
        body += struct.pack(order + "HHII", 0xB101, 4, 1, 1)
        body += struct.pack(order + "HHII", 0xB204, 4, 1, 1)
        body += struct.pack(order + "I", 0)
    return MPF_ID + body


def with_mpf(primary: bytes, images: list[tuple[int, bytes]], *, primary_attribute: int = REPRESENTATIVE | TYPE_PRIMARY,
             order: str = ">", padding: bytes = b"") -> bytes:
    """The primary with an MPF index (APP2, after its other leading segments) listing it
    and `images` (attribute, JPEG bytes), which follow it in order, after `padding`."""
    entries = [(primary_attribute, 0, 0)] + [(attribute, len(image), 0) for attribute, image in images]
    placeholder = b.jpeg_segment(APP2, mpf_payload(entries, order))
    position = _before_tables(primary)
    with_index = primary[:position] + placeholder + primary[position:]
    tiff_at = position + 8
    primary_size = len(with_index)
    offset = primary_size + len(padding) - tiff_at
    fixed = [(primary_attribute, primary_size, 0)]
    for attribute, image in images:
        fixed.append((attribute, len(image), offset))
        offset += len(image)
    segment = b.jpeg_segment(APP2, mpf_payload(fixed, order))
    return primary[:position] + segment + primary[position:] + padding + b"".join(image for _, image in images)


def _before_tables(jpeg: bytes) -> int:
    """Where the first segment that is not APPn starts (after the metadata segments)."""
    structure = b.jpeg_structure(jpeg)
    for (marker, _), offset in zip(structure.markers, structure.offsets):
        if not 0xE0 <= marker <= 0xEF:
            return offset
    return structure.scan_start


def ultra_hdr(*, primary_size: tuple[int, int] = (64, 48), iso: bool = True, xmp: bool = True,
              order: str = ">", progressive: bool = False) -> bytes:
    """An Ultra HDR JPEG as a Pixel writes it: a primary with EXIF, XMP (hdrgm:Version, a
    GContainer directory; creator and city beside them), ISO 21496-1 version record and an
    MPF index; then a gain map (grey, a quarter the size) with EXIF, its hdrgm XMP and an ISO
    21496-1 record with parameters."""
    gain_map = plain_jpeg((primary_size[0] // 2, primary_size[1] // 2), mode="L", seed=7, progressive=progressive)
    gain_map_segments = []
    if xmp:
        gain_map_segments.append(b.jpeg_segment(APP1, XMP_ID + ultra_hdr_gain_map_xmp()))
    if iso:
        gain_map_segments.append(b.jpeg_segment(APP2, ISO_ID + ISO_PARAMETERS))
    gain_map = with_segments(gain_map, *gain_map_segments)
    primary = plain_jpeg(primary_size, progressive=progressive)
    segments = [b.jpeg_segment(APP1, XMP_ID + ultra_hdr_primary_xmp(len(gain_map)))]
    if iso:
        segments.append(b.jpeg_segment(APP2, ISO_ID + ISO_VERSION_ONLY))
    primary = with_segments(primary, *segments)
    return with_mpf(primary, [(TYPE_UNDEFINED, gain_map)], order=order)


def apple_hdr() -> bytes:
    """Apple's HDR JPEG: a primary with EXIF and an MPF index, then a gain map whose XMP
    names it (apdi:AuxiliaryImageType, HDRGainMap), then a portrait matte."""
    gain_map = with_segments(plain_jpeg((32, 24), mode="L", seed=3), b.jpeg_segment(APP1, XMP_ID + apple_gain_map_xmp()))
    matte = with_segments(plain_jpeg((32, 24), mode="L", seed=5), b.jpeg_segment(APP1, XMP_ID + apple_depth_xmp()))
    return with_mpf(plain_jpeg((64, 48)), [(TYPE_UNDEFINED, gain_map), (TYPE_UNDEFINED, matte)], order="<")


def iso_only() -> bytes:
    """A gain map described only by ISO 21496-1 records (no XMP), little-endian MPF."""
    return ultra_hdr(xmp=False, order="<")


def preview_and_disparity() -> bytes:
    """A camera MPO: primary, a large-thumbnail preview and a disparity image."""
    preview = plain_jpeg((32, 24), seed=1)
    disparity = plain_jpeg((64, 48), seed=2)
    return with_mpf(plain_jpeg((64, 48)), [(DEPENDENT_PARENT | TYPE_LARGE_THUMBNAIL, preview), (TYPE_DISPARITY, disparity)])


# --- reading an output back ---------------------------------------------------------------


class MpEntry(NamedTuple):
    attribute: int
    size: int
    offset: int


def segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    return b.jpeg_structure(jpeg).markers


def primary_end(data: bytes) -> int:
    return b.jpeg_structure(data).eoi_end


def mpf_entries(data: bytes) -> tuple[int, list[MpEntry]] | None:
    """(offset of the index's TIFF header in `data`, entries) of the primary's MPF index."""
    structure = b.jpeg_structure(data)
    for (marker, payload), offset in zip(structure.markers, structure.offsets):
        if marker == APP2 and payload.startswith(MPF_ID):
            tiff = payload[4:]
            order = "<" if tiff[:2] == b"II" else ">"
            ifd = struct.unpack(order + "I", tiff[4:8])[0]
            count = struct.unpack(order + "H", tiff[ifd : ifd + 2])[0]
            tags = {}
            for index in range(count):
                tag, _, number, value = struct.unpack(order + "HHII", tiff[ifd + 2 + 12 * index : ifd + 14 + 12 * index])
                tags[tag] = (number, value)
            number, at = tags[0xB002]
            entries = [MpEntry(*struct.unpack(order + "III", tiff[at + 16 * i : at + 16 * i + 12])) for i in range(number // 16)]
            return offset + 8, entries
    return None


def xmp_packets(jpeg: bytes) -> list[bytes]:
    return [payload[len(XMP_ID) :] for marker, payload in segments(jpeg) if marker == APP1 and payload.startswith(XMP_ID)]


def iso_records(jpeg: bytes) -> list[bytes]:
    return [payload[len(ISO_ID) :] for marker, payload in segments(jpeg) if marker == APP2 and payload.startswith(ISO_ID)]


def xmp_properties(packet: bytes) -> dict[str, object]:
    """{"{namespace}Name": value} over every rdf:Description (arrays as lists)."""
    root = ElementTree.fromstring(packet)
    found: dict[str, object] = {}
    for description in root.iter(f"{{{RDF}}}Description"):
        found.update({key: value for key, value in description.attrib.items() if key != f"{{{RDF}}}about"})
        for child in description:
            items = [li.text for li in child.iter(f"{{{RDF}}}li") if li.text]
            found[child.tag] = items or child.text
    return found


def namespaces_in(packet: bytes) -> set[str]:
    """Every namespace an element or attribute of the packet uses."""
    root = ElementTree.fromstring(packet)
    used = set()
    for element in root.iter():
        for name in (element.tag, *element.attrib):
            if name.startswith("{"):
                used.add(name[1:].split("}")[0])
    return used


def decoded_frames(data: bytes) -> list[bytes]:
    """Every frame Pillow finds (MPO frames for an MPF file), decoded to raw pixels."""
    image = Image.open(io.BytesIO(data))
    frames = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        image.load()
        frames.append(image.tobytes())
    return frames


def pixels(jpeg: bytes) -> bytes:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image.tobytes()
