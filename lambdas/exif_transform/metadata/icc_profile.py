"""A sanity check for embedded ICC colour profiles, which the strip keeps.

Byte layout (ICC.1:2022, section 7.2): u32 big-endian profile size at offset 0, the
signature "acsp" at offset 36, a 128-byte header in all. Checking that the declared
size matches the bytes carried means a length field that was stretched over the
next segment or chunk cannot smuggle that segment into the output as "colour profile".
"""

from __future__ import annotations

from .errors import ImageError

ICC_HEADER_SIZE = 128
ICC_SIGNATURE = b"acsp"
ICC_SIGNATURE_OFFSET = 36
# Writers may pad a profile to a multiple of four bytes.
MAX_PADDING = 3


def check_icc_profile(profile: bytes | memoryview, fmt: str, where: str) -> None:
    size = len(profile)
    if size < ICC_HEADER_SIZE:
        raise ImageError(f"{fmt}: ICC profile in {where} is {size} bytes, shorter than its header")
    declared = int.from_bytes(profile[:4], "big")
    signature = bytes(profile[ICC_SIGNATURE_OFFSET : ICC_SIGNATURE_OFFSET + 4])
    if signature != ICC_SIGNATURE:
        raise ImageError(f"{fmt}: ICC profile in {where} lacks the 'acsp' signature")
    if not declared <= size <= declared + MAX_PADDING:
        raise ImageError(f"{fmt}: ICC profile in {where} declares {declared} bytes but carries {size}")
