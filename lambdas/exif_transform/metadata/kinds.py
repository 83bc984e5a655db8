"""The fixed vocabulary that names the kinds of metadata a strip removed (for logs).

Every format module reports what it found and removed with these names, so a log
line reads the same whatever the image's format was.
"""

from __future__ import annotations

from typing import NamedTuple

COMMENT = "comment"  # JPEG COM, PNG tEXt/zTXt/iTXt/tIME, GIF comment extension
EXIF = "exif"  # an EXIF block, or descriptive TIFF tags
GPS = "gps"  # a GPS IFD inside EXIF
IPTC = "iptc"  # IPTC-NAA records (inside Photoshop resources or on their own)
MAKERNOTE = "makernote"  # the camera maker's private EXIF block
MPF = "mpf"  # the JPEG Multi-Picture Format index (APP2 "MPF")
OTHER = "other"  # any other segment or chunk that decoding does not need
PHOTOSHOP = "photoshop"  # Photoshop image resources (JPEG APP13, TIFF tag 34377)
THUMBNAIL = "thumbnail"  # EXIF IFD1, JFIF/JFXX thumbnails, reduced-resolution TIFF pages
TRAILER = "trailer"  # bytes after the end of the image (MPF images, appended videos)
XMP = "xmp"  # XMP packets, standard and extended

ALL_KINDS = frozenset(
    {COMMENT, EXIF, GPS, IPTC, MAKERNOTE, MPF, OTHER, PHOTOSHOP, THUMBNAIL, TRAILER, XMP}
)

# Pictures a strip kept beyond the primary image, by kind (Stripped.kept): a viewer can
# be shown each of them, so they survive byte for byte; only their metadata goes.
GAIN_MAP = "gain map"  # an HDR gain map (Ultra HDR / ISO 21496-1 / Apple), with what derives it
ALTERNATE = "alternate"  # a HEIF `altr` alternative to the primary
COLLECTION = "collection"  # another master image of a HEIF collection
STEREO = "stereo pair"  # the other eye of a HEIF `ster` group
PYRAMID = "pyramid level"  # another level of a HEIF `pymd` pyramid

ALL_KEPT = frozenset({GAIN_MAP, ALTERNATE, COLLECTION, STEREO, PYRAMID})


class Stripped(NamedTuple):
    """What a format's strip produced: the new bytes, the kinds of metadata removed and
    the kinds of pictures kept beyond the primary."""

    data: bytes
    removed: frozenset[str]
    # The output's MIME type when it depends on the data (HEIF or AVIF, from the ftyp
    # brands); None means the format's own.
    mime_type: str | None = None
    kept: frozenset[str] = frozenset()
