"""The payload of a kept HEIF/AVIF image item, checked against its coding type.

Every picture a viewer can be shown is served byte for byte, but only as far as the
bytes can be accounted for: each coding type has one checker, which returns the payload
to serve (the same bytes, or the payload with what a decoder does not need removed) or
raises ImageError. Item types without a checker are refused.

    item type  checker (module)                     cleaned / refused
    hvc1       hevc.check_hvc1 (hvcC's length size)  SEI and non-VCL NAL units removed
    av01       av1.check_obus                        non-HDR metadata, padding and redundant
                                                     frame header OBUs removed; tile lists refused
    jpeg       jpeg.strip_codestream                 metadata segments removed
    grid, iovl, iden, tmap
               item_descriptors                      exact descriptor size, else refused
    unci, mski uncompressed                          exact size from the properties, else refused
    any other  -                                     refused

Decoder configuration properties go through check_decoder_config: hvcC keeps only its
VPS/SPS/PPS arrays, av1C only its sequence header and HDR metadata OBUs.

`properties` maps a property box type to its payload: the bytes after the 8-byte box
header (version and flags included for full boxes such as ispe, uncC, mskC).
"""

from __future__ import annotations

from functools import partial
from typing import Callable

from ..errors import ImageError
from . import av1, hevc, item_descriptors, uncompressed
from .jpeg import strip_codestream

HVC1, AV01, JPEG = b"hvc1", b"av01", b"jpeg"
GRID, OVERLAY, IDENTITY, TONE_MAP = b"grid", b"iovl", b"iden", b"tmap"
UNCOMPRESSED, MASK = b"unci", b"mski"
HVCC, AV1C = b"hvcC", b"av1C"


def printable_type(four_cc: bytes) -> str:
    """A box or item type for messages: its text when printable ASCII, else its hex."""
    text = four_cc.decode("latin-1")
    return repr(text) if four_cc.isascii() and text.isprintable() else four_cc.hex()


def _hevc(payload: bytes, config: bytes | None, input_count: int, properties: dict[bytes, bytes]) -> bytes:
    if config is None:
        raise ImageError("HEIF: HEVC ('hvc1') item has no 'hvcC' property")
    return hevc.check_hvc1(payload, hevc.length_size(config))


def _av1(payload: bytes, config: bytes | None, input_count: int, properties: dict[bytes, bytes]) -> bytes:
    return av1.check_obus(payload)


def _jpeg(payload: bytes, config: bytes | None, input_count: int, properties: dict[bytes, bytes]) -> bytes:
    # An item's own APP1 EXIF, XMP, comments and thumbnails go, as in a JPEG file; an item is
    # one codestream, so nothing after its EOI is kept and one cut short is refused.
    return strip_codestream(payload, False).data


# The derived and raw-sample checkers are bound to their check when called (partial), not
# by a closure built at import: the call then runs this module's code each time.
def _descriptor(
    payload: bytes, config: bytes | None, input_count: int, properties: dict[bytes, bytes], *, check: Callable[[bytes, int], bytes]
) -> bytes:
    return check(payload, input_count)


def _raw(
    payload: bytes,
    config: bytes | None,
    input_count: int,
    properties: dict[bytes, bytes],
    *,
    check: Callable[[bytes, dict[bytes, bytes]], bytes],
) -> bytes:
    return check(payload, properties)


CHECKERS: dict[bytes, Callable[[bytes, bytes | None, int, dict[bytes, bytes]], bytes]] = {
    HVC1: _hevc,
    AV01: _av1,
    JPEG: _jpeg,
    GRID: partial(_descriptor, check=item_descriptors.check_grid),
    OVERLAY: partial(_descriptor, check=item_descriptors.check_overlay),
    IDENTITY: partial(_descriptor, check=item_descriptors.check_identity),
    TONE_MAP: partial(_descriptor, check=item_descriptors.check_tone_map),
    UNCOMPRESSED: partial(_raw, check=uncompressed.check_uncompressed),
    MASK: partial(_raw, check=uncompressed.check_mask),
}
# Derived items take their pictures from 'dimg' inputs; coded items must have none.
DERIVED_TYPES = frozenset({GRID, OVERLAY, IDENTITY, TONE_MAP})


def check_item_payload(
    item_type: bytes,
    payload: bytes,
    *,
    config: bytes | None,
    input_count: int,
    properties: dict[bytes, bytes],
) -> bytes:
    """The payload to serve for a kept image item of `item_type`, or ImageError.

    config: the item's decoder configuration property payload (hvcC or av1C), or None.
    input_count: the number of the item's 'dimg' inputs.
    properties: the item's associated property payloads by box type (see the module doc).
    The result is `payload` itself when nothing was removed (a memoryview is read as bytes)."""
    payload = bytes(payload) if isinstance(payload, memoryview) else payload
    checker = CHECKERS.get(item_type)
    if checker is None:
        raise ImageError(f"HEIF: image items of type {printable_type(item_type)} are not supported")
    if input_count and item_type not in DERIVED_TYPES:
        raise ImageError(f"HEIF: coded item of type {printable_type(item_type)} has {input_count} 'dimg' inputs")
    return checker(payload, config, input_count, properties)


def check_decoder_config(box_type: bytes, payload: bytes) -> bytes:
    """The hvcC or av1C payload (after the box header) to serve: cleaned, or ImageError."""
    payload = bytes(payload) if isinstance(payload, memoryview) else payload
    if box_type == HVCC:
        return hevc.check_hvcc(payload)
    if box_type == AV1C:
        return av1.check_av1c(payload)
    raise ImageError(f"HEIF: decoder configuration {printable_type(box_type)} is not supported")
