"""HEIF/AVIF ftyp brands: which files are HEIF, and the brand list the output declares.

A brand is a four-character code a reader matches, never text a viewer shows, so the
output's ftyp lists only registered brands (an unregistered one could carry four bytes of
anything) and only brands true of what is kept: a `tmap` brand without a `tmap` item
makes Chromium show nothing (observed, Chromium 156).

Sources: MP4RA's registered brands (mp4ra.org/registered-types/brands: the HEIF, MIAF,
AVIF and ISOBMFF rows), ISO/IEC 23008-12 (HEIF) Annex B and ISO/IEC 23000-22 (MIAF)
section 10, the AV1 Image File Format section 6 (avif, avis, avio, MA1A, MA1B) and
ISO 21496-1 in HEIF (tmap).
"""

from __future__ import annotations

from ..isobmff import box

AVIF_BRANDS = frozenset({b"avif", b"avis"})
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2", b"mif3", b"miaf"})
# Major brands that make the first 16 bytes a HEIF/AVIF file (the rest come from the
# compatible brands once the whole ftyp is read).
MAJOR_BRANDS = AVIF_BRANDS | HEIC_BRANDS | HEIF_BRANDS
TONE_MAP_BRAND = b"tmap"
MINOR_VERSION = bytes(4)

REGISTERED_BRANDS = MAJOR_BRANDS | frozenset(
    {
        # HEIF (23008-12 Annex B): image and sequence brands per coding format
        b"hevm", b"hevs", b"avci", b"avcs", b"vvic", b"vvis", b"jpeg", b"jpgs",
        b"j2ki", b"j2is", b"unif", b"1pic",
        # MIAF (23000-22): profile and application brands
        b"MiHA", b"MiHB", b"MiHE", b"MiHS", b"MiPr", b"MiAC", b"MiCm", b"MiBu",
        # AVIF: intra-only sequences, baseline and advanced profiles
        b"avio", b"MA1A", b"MA1B",
        # ISO 21496-1 gain map
        TONE_MAP_BRAND,
        # ISOBMFF editions and MP4
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41", b"mp42",
    }
)  # fmt: skip


def read_brands(payload: bytes) -> tuple[bytes, list[bytes]]:
    """(major brand, compatible brands) of an ftyp payload (length checked by the caller); the
    minor version between them is informative and never read."""
    return payload[0:4], [payload[i : i + 4] for i in range(8, len(payload), 4)]


def file_type(payload: bytes, *, tone_map: bool) -> bytes:
    """The output's ftyp box: the major brand as it is, minor version 0 (an informative
    field, and four bytes of anything), the compatible brands that are registered and
    true of what is kept, each once."""
    major, compatible = read_brands(payload)
    kept: list[bytes] = []
    for brand in compatible:
        if brand in REGISTERED_BRANDS and brand not in kept and (tone_map or brand != TONE_MAP_BRAND):
            kept.append(brand)
    return box(b"ftyp", major, MINOR_VERSION, *kept)
