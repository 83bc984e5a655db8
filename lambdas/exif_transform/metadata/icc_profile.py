"""The one check for embedded ICC colour profiles, which the strip keeps when valid.

Byte layout (ICC.1:2022, section 7.2): u32 big-endian profile size at offset 0, the
signature "acsp" at offset 36, a 128-byte header in all. Checking that the declared
size matches the bytes carried means a length field that was stretched over the
next segment or chunk cannot smuggle that segment into the output as "colour profile".

Every format asks the same question (is this a profile?) and acts the same way on the
answer: a valid profile is kept, an invalid one is dropped and the image still served,
because a profile changes colours, never whether the pixels can be decoded. A PNG
iCCP profile is zlib-compressed; it is inflated here with a bound.
"""

from __future__ import annotations

from .inflate import inflate
from .limits import MAX_ICC_PROFILE_BYTES

ICC_HEADER_SIZE = 128
ICC_SIGNATURE = b"acsp"
ICC_SIGNATURE_OFFSET = 36
# Writers may pad a profile to a multiple of four bytes.
MAX_PADDING = 3


def icc_problem(profile: bytes | memoryview) -> str | None:
    """Why `profile` is not an ICC profile, or None when its header is sound."""
    size = len(profile)
    if size < ICC_HEADER_SIZE:
        return f"{size} bytes, shorter than its header"
    if size > MAX_ICC_PROFILE_BYTES:
        return f"{size} bytes, over the limit of {MAX_ICC_PROFILE_BYTES}"
    declared = int.from_bytes(profile[:4], "big")
    if bytes(profile[ICC_SIGNATURE_OFFSET : ICC_SIGNATURE_OFFSET + 4]) != ICC_SIGNATURE:
        return "no 'acsp' signature"
    if not declared <= size <= declared + MAX_PADDING:
        return f"declares {declared} bytes but carries {size}"
    return None


def is_icc_profile(profile: bytes | memoryview) -> bool:
    return icc_problem(profile) is None


def inflate_profile(compressed: bytes | memoryview) -> bytes | None:
    """A compressed profile (PNG iCCP) inflated, at most MAX_ICC_PROFILE_BYTES; None if it does not inflate."""
    return inflate(compressed, MAX_ICC_PROFILE_BYTES)
