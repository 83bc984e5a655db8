"""JPEG XL files of the shapes the tests share: metadata boxes with a planted secret, containers around
real codestreams (pillow-jxl-plugin) split into jxlp parts as the tests choose, hostile files, and
the gain map (jhgm) box as libjxl writes it."""

from __future__ import annotations

import struct

import image_builders as b
import isobmff_builders as ib
from isobmff_builders import box

EXIF = b.exif_block(6)
XML = box(b"xml ", b.XMP_PACKET)
JUMB = box(b"jumb", box(b"jumd", b"c2pa " + b.SECRET))
BROB_EXIF = box(b"brob", b"Exif", b"brotli bytes " + b.SECRET)
JBRD = box(b"jbrd", b"jpeg reconstruction " + b.SECRET)
MALFORMED_GAIN_MAP = box(b"jhgm", b"gain map " + b.SECRET)
TRAILER = b"trailing bytes " + b.SECRET + b"<x:xmpmeta>"


def parts_swapped() -> bytes:
    data = ib.jxl_container(parts=3)
    parts = [data[s:e] for kind, s, _, e in ib.boxes(data) if kind == b"jxlp"]
    return data.replace(parts[0] + parts[1], parts[1] + parts[0])


HOSTILE = {
    "truncated": lambda: ib.jxl_container()[:-10],
    "no-codestream": lambda: ib.JXL_SIGNATURE + box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ") + XML,
    "last-part-missing": lambda: ib.jxl_container(parts=3).rsplit(b"jxlp", 1)[0][:-4],
    "parts-out-of-order": parts_swapped,
    "jxlc-and-jxlp": lambda: ib.jxl_container(parts=2) + box(b"jxlc", b"\xff\x0a"),
    "no-ftyp": lambda: ib.JXL_SIGNATURE + ib.jxl_container()[32:],
    "box-size-huge": lambda: ib.jxl_container()[:32] + b"\xff\xff\xff\xf0" + ib.jxl_container()[36:],
    "box-size-1-short": lambda: ib.jxl_container()[:32] + b"\x00\x00\x00\x01" + ib.jxl_container()[36:],
    "codestream-without-signature": lambda: ib.JXL_SIGNATURE + box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ") + box(b"jxlc", b"\x00" * 20),
    "bare-huge-size": lambda: b"\xff\x0a" + bytes((0b11111110, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)),
    "bare-truncated": lambda: b"\xff\x0a\x00",
}


def bare_codestream(size: tuple[int, int] = (40, 24), **options) -> bytes:
    return ib.encode_jxl(b.pattern(size=size), use_container=False, **options)


def jxlp_parts(*pieces: bytes) -> list[bytes]:
    return [box(b"jxlp", struct.pack(">I", i | (0x80000000 if i == len(pieces) - 1 else 0)), piece) for i, piece in enumerate(pieces)]


def container_of(*stream_boxes: bytes) -> bytes:
    return ib.JXL_SIGNATURE + box(b"ftyp", b"jxl \x00\x00\x00\x00jxl ") + b"".join(stream_boxes)


def gain_map_metadata(*, channels: int = 1, common_denominator: bool = False) -> bytes:
    """ISO 21496-1 metadata: versions 0/0, flags, headrooms, per-channel fractions."""
    flags = (0x80 if channels == 3 else 0) | (0x08 if common_denominator else 0)
    out = struct.pack(">HHB", 0, 0, flags)
    if common_denominator:
        return out + struct.pack(">I", 64) + struct.pack(">II", 0, 128) + struct.pack(">iiIii", 0, 256, 64, 1, 1) * channels
    headrooms = struct.pack(">IIII", 0, 1, 2, 1)
    fractions = struct.pack(">iIiIIIiIiI", 0, 1, 4, 1, 1, 1, 1, 64, 1, 64)
    return out + headrooms + fractions * channels


GAIN_MAP_CODESTREAM = ib.encode_jxl(b.pattern("L", size=(20, 12)), use_container=False)


def gain_map_box(
    *,
    metadata_bytes: bytes | None = None,
    encoding: bytes = b"",
    icc: bytes = b"",
    icc_size: int | None = None,
    codestream: bytes = GAIN_MAP_CODESTREAM,
    version: int = 0,
) -> bytes:
    """A jhgm box as libjxl's JxlGainMapWriteBundle lays it out."""
    meta = gain_map_metadata() if metadata_bytes is None else metadata_bytes
    payload = bytes([version]) + struct.pack(">H", len(meta)) + meta + bytes([len(encoding)]) + encoding
    icc_field = struct.pack(">I", len(icc) if icc_size is None else icc_size)
    return box(b"jhgm", payload, icc_field, icc, codestream)
