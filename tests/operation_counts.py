"""Operation counts for the tests that guard against repeated or quadratic work.

Speed is measured with benchmarks (bench/), never with timed assertions in tests: a test
that guards a cost counts the operations that cost (calls of the function that does the
repeated work, bytes copied out of the input) and asserts the count, which holds on any
machine and under mutmut's trampolines.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest


class Calls:
    """How many times a function was called."""

    def __init__(self) -> None:
        self.count = 0


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> Calls:  # noqa: ANN401 - a module or a class
    """Wraps owner.name (a module's function, or a class's method) so its calls are counted."""
    calls = Calls()
    original = getattr(owner, name)

    @functools.wraps(original)
    def counted(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - the wrapped function's own
        calls.count += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


class CopyCountingBytes(bytes):
    """Bytes that count how many bytes slicing or concatenation copies out of them; the
    slices and sums are CopyCountingBytes too, sharing the count (a copy of a copy counts)."""

    def __new__(cls, data: bytes, copies: Calls | None = None) -> CopyCountingBytes:
        made = super().__new__(cls, data)
        made.copies = copies if copies is not None else Calls()
        return made

    def __getitem__(self, key: Any) -> Any:  # noqa: ANN401 - an int or bytes, as bytes answers
        got = super().__getitem__(key)
        if isinstance(key, slice):
            self.copies.count += len(got)
            return CopyCountingBytes(got, self.copies)
        return got

    def __add__(self, other: bytes) -> CopyCountingBytes:
        joined = super().__add__(other)
        self.copies.count += len(joined)
        return CopyCountingBytes(joined, self.copies)
