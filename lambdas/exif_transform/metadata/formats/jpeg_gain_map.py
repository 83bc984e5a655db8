"""Which image after a JPEG's primary is its HDR gain map, and the MPF index that lists it.

Ultra HDR (Google, "Ultra HDR Image Format" v1.1), Apple's HDR JPEG and ISO 21496-1 JPEGs
all append the gain map as a second JPEG after the primary's EOI and list both in the
primary's MPF index (formats/mpf.py). An entry is tried as the gain map when the index
says it is JPEG data of the undefined type (0x000000: libultrahdr's
lib/src/multipictureformat.cpp writes that; thumbnails, panorama, disparity and
multi-angle images have type codes of their own and are never kept) and its bytes lie
after the primary and inside the file. It is kept when it strips cleanly as a JPEG and
says itself that it is a gain map, as the decoders read it:

    - an ISO 21496-1 APP2 record with parameters (gain_map_metadata.py), or
    - XMP with gain-map parameters in hdrgm (Ultra HDR: GainMapMax, HDRCapacityMax...),
      or Apple's apdi:AuxiliaryImageType urn:com:apple:photo:2020:aux:hdrgainmap or
      HDRGainMap:HDRGainMapVersion (xmp_rendering.py).

The primary's GContainer directory (Item:Semantic "GainMap") is not required: Apple
files have none. Depth, matte and disparity auxiliaries in the same position carry
other apdi types and are dropped.
"""

from __future__ import annotations

from typing import NamedTuple

from ..gain_map_metadata import ISO_21496_ID, has_parameters
from ..limits import MAX_GAIN_MAP_TRIES
from ..xmp_rendering import read_rendering
from .mpf import TYPE_UNDEFINED, MpEntry, MpIndex, index_payload, index_size

# An APP2 segment: FF E2, u16 length, "MPF\0", then the TIFF header offsets count from.
MPF_TIFF_HEADER_OFFSET = 4 + 4


class Candidate(NamedTuple):
    entry: MpEntry
    start: int  # where its bytes begin in the input
    end: int


def candidates(index: MpIndex, mpf_segment_start: int, primary_end: int, file_size: int) -> list[Candidate]:
    """The entries after the primary that may be its gain map, at most MAX_GAIN_MAP_TRIES."""
    tiff_start = mpf_segment_start + MPF_TIFF_HEADER_OFFSET
    found = []
    for entry in index.entries[1:]:
        start = tiff_start + entry.offset
        if entry.is_jpeg and entry.type_code == TYPE_UNDEFINED and 0 < entry.size <= file_size - start and start >= primary_end:
            found.append(Candidate(entry, start, start + entry.size))
            if len(found) == MAX_GAIN_MAP_TRIES:
                break
    return found


def says_gain_map(xmp_packet: bytes | None, iso_segments: list[bytes]) -> bool:
    """Whether an image's own metadata says it is a gain map (see the module's note)."""
    if any(has_parameters(segment[len(ISO_21496_ID) :]) for segment in iso_segments):
        return True
    facts = read_rendering(xmp_packet) if xmp_packet is not None else None
    return facts is not None and facts.describes_gain_map()


def mpf_segment_size() -> int:
    """The length of the new APP2 MPF segment, marker and length field included."""
    return 4 + index_size(2)


def mpf_index(index: MpIndex, gain_map: MpEntry, primary_size: int, mpf_segment_at: int, gain_map_size: int) -> bytes:
    """The new MPF payload for the primary (written as `primary_size` bytes, its MPF
    segment at `mpf_segment_at`) followed directly by the gain map."""
    gain_map_offset = primary_size - (mpf_segment_at + MPF_TIFF_HEADER_OFFSET)
    entries = [
        MpEntry(index.entries[0].attribute, primary_size, 0),
        MpEntry(gain_map.attribute, gain_map_size, gain_map_offset),
    ]
    return index_payload(index.byte_order, entries)
