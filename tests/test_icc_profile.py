"""metadata/icc_profile.py's one question, is this an ICC profile, at each edge of its answer."""

from __future__ import annotations

import struct

import image_builders as b
from metadata.icc_profile import MAX_PADDING, icc_problem, is_icc_profile

HEADER = 128


def _profile(size: int, declared: int | None = None, signature: bytes = b"acsp") -> bytes:
    head = struct.pack(">I", size if declared is None else declared) + bytes(32) + signature
    return head + bytes(size - len(head))


def test_a_real_profile_is_one():
    assert icc_problem(b.icc_profile()) is None and is_icc_profile(b.icc_profile())


def test_a_bare_header_is_a_profile_and_a_byte_less_is_not():
    assert icc_problem(_profile(HEADER)) is None
    assert icc_problem(_profile(HEADER)[:-1]) == f"{HEADER - 1} bytes, shorter than its header"


def test_the_signature_is_required():
    assert icc_problem(_profile(200, signature=b"ACSP")) == "no 'acsp' signature"
    assert not is_icc_profile(_profile(200, signature=b"nope"))


def test_up_to_three_bytes_of_padding_after_the_declared_size():
    for padding in range(MAX_PADDING + 1):
        assert icc_problem(_profile(200 + padding, declared=200)) is None, padding
    assert icc_problem(_profile(200 + MAX_PADDING + 1, declared=200)) == f"declares 200 bytes but carries {200 + MAX_PADDING + 1}"
    assert icc_problem(_profile(199, declared=200)) == "declares 200 bytes but carries 199"
