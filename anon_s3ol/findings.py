"""What the audit says about one file: served or refused (and why), and the kinds of metadata found.

Pure: bytes in, a Finding out. "Served" means the deployed service would answer the
stripped image (metadata.clean, the Lambdas' own call, with the deployment's defaults);
its `removed` kinds are what that strip found and removed. Two kinds only the audit
looks for are added to `found`: an owner's name or a camera or lens serial number in
the EXIF, and a C2PA manifest.
"""

from __future__ import annotations

from typing import NamedTuple

import metadata
from serving.reply import one_line

OWNER_OR_SERIAL = "owner/serial"
C2PA = "c2pa"
GPS = "gps"
# EXIF fields that name a person, or one camera or lens: (read_exif's group, piexif's tag name).
IDENTIFYING_FIELDS = (
    ("Image", "Artist"),
    ("Exif", "CameraOwnerName"),
    ("Exif", "BodySerialNumber"),
    ("Exif", "LensSerialNumber"),
)
# A C2PA manifest store is a JUMBF superbox whose description box ("jumd": a 16-byte type UUID,
# one toggles byte, then the label) is labelled "c2pa" (C2PA Technical Specification, "JUMBF"),
# whatever carries it: JPEG APP11, a JPEG XL jumb box, a PNG caBX chunk, a HEIF uuid box.
JUMBF_DESCRIPTION = b"jumd"
C2PA_LABEL = b"c2pa"
LABEL_OFFSET = len(JUMBF_DESCRIPTION) + 16 + 1
# Description boxes looked at, at most: a manifest store comes first in its superbox.
MAX_DESCRIPTIONS = 64


class Finding(NamedTuple):
    key: str
    format: str | None  # None: not recognised as any image format
    served: bool
    reason: str | None  # why it is refused
    removed: tuple[str, ...]  # kinds the strip removed, sorted
    kept: tuple[str, ...]  # pictures kept beyond the primary (gain maps), sorted
    found: tuple[str, ...]  # removed plus owner/serial and c2pa when present, sorted
    bytes_in: int
    bytes_out: int | None

    @property
    def gps(self) -> bool:
        return GPS in self.found


def has_c2pa_manifest(data: bytes) -> bool:
    start = 0
    for _ in range(MAX_DESCRIPTIONS):
        at = data.find(JUMBF_DESCRIPTION, start)
        if at < 0:
            return False
        if data[at + LABEL_OFFSET : at + LABEL_OFFSET + len(C2PA_LABEL)] == C2PA_LABEL:
            return True
        start = at + 1
    return False


def names_owner_or_serial(data: bytes) -> bool:
    try:
        exif = metadata.read_exif(data, view=metadata.FULL_VIEW)
    except metadata.ImageError:
        return False
    return any(exif.get(group, {}).get(name) not in (None, "") for group, name in IDENTIFYING_FIELDS)


def refusal(key: str, size: int, reason: str, data: bytes | None = None) -> Finding:
    """A refused file's row; its format when the first bytes name one."""
    image_format = None
    if data:
        try:
            image_format = metadata.detect_format(data)
        except metadata.ImageError:
            pass
    return Finding(key, image_format, False, one_line(reason), (), (), (), size, None)


def examine(key: str, data: bytes, *, keep_copyright: bool = False) -> Finding:
    try:
        result = metadata.clean(data, keep_copyright=keep_copyright)
    except metadata.ImageError as error:
        return refusal(key, len(data), str(error), data)
    found = set(result.removed)
    if names_owner_or_serial(data):
        found.add(OWNER_OR_SERIAL)
    if has_c2pa_manifest(data):
        found.add(C2PA)
    # StripResult.kept (pictures kept beyond the primary) comes with the gain-map work; until
    # then nothing is kept.
    kept = tuple(getattr(result, "kept", ()))
    return Finding(key, result.format, True, None, result.removed, kept, tuple(sorted(found)), len(data), len(result.data))
