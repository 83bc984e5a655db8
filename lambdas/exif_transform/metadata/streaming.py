"""One contract for stripping an image as it arrives: sans-I/O, bytes pushed in, bytes out.

The caller (serving/, with its own reads) opens a strip with the image's first bytes, its
total size and read_range(start, end) -> bytes, a read of any other part of the file for
the facts a format keeps elsewhere (bounded by the caller: an ImageError or a read error
it raises is the strip's failure). Then:

    out = strip.feed(chunk)     any number of times, chunks of any size, in order
    out = strip.finish()        once, after the last chunk
    strip.format, strip.mime_type    known once opened (mime_type: once the head is parsed)
    strip.removed, strip.kept        known once finished

Written out, the outputs of feed and finish are the image without its metadata, the
same bytes metadata.clean() answers for the whole input. After an ImageError every call
fails, so a half-walked image is never continued.

A format whose module offers open_walk (formats/contract.py) streams: its head is held,
the image data after it passes through as it comes (JPEG, GIF, PNG), or its head is planned
from ranged reads first (WebP's chunk headers, HEIF's boxes and meta, JPEG XL's headers);
formats/walks.py holds what the walks share: Cursor (JPEG, GIF, PNG) and PlannedWalk
(WebP, HEIF). Every other format goes through BufferedWalk: the input is held whole,
within the caller's cap, and stripped at finish by the format's strip(). Making a format
native changes only its module.
"""

from __future__ import annotations

from typing import Any, Callable

from .errors import ImageError
from .formats.contract import Format

ReadRange = Callable[[int, int], bytes]


class TooLargeToHold(ImageError):
    """A format held whole (no streaming walk yet) is over the caller's cap."""


class BufferedWalk:
    """The input held whole (at most max_bytes), stripped at finish by the format's strip()."""

    def __init__(self, image_format: Format, size: int, keep_copyright: bool, max_bytes: int) -> None:
        if size > max_bytes:
            raise TooLargeToHold(f"{image_format.name.upper()}: a {size}-byte image is over the {max_bytes}-byte limit for its format")
        self._format = image_format
        self._keep_copyright = keep_copyright
        self._max_bytes = max_bytes
        self._buffer = bytearray()
        self.mime_type: str | None = None
        self.removed: frozenset[str] = frozenset()
        self.kept: frozenset[str] = frozenset()

    def feed(self, chunk: bytes | bytearray | memoryview) -> bytes:
        if len(self._buffer) + len(chunk) > self._max_bytes:
            raise TooLargeToHold(f"{self._format.name.upper()}: the image is over the {self._max_bytes}-byte limit for its format")
        self._buffer += chunk
        return b""

    def finish(self) -> bytes:
        data, self._buffer = bytes(self._buffer), bytearray()
        stripped = self._format.strip(data, self._keep_copyright)
        self.mime_type = stripped.mime_type
        self.removed, self.kept = stripped.removed, stripped.kept
        return stripped.data


class StreamStrip:
    """The contract over one format's walk: order of calls, failure for good after an error."""

    def __init__(self, image_format: Format, walk: Any, *, native: bool) -> None:
        self.format = image_format.name
        self.native = native  # False: held whole until finish (BufferedWalk)
        self._default_mime = image_format.mime_type
        self._walk = walk
        self._failed = False
        self._finished = False

    @property
    def mime_type(self) -> str | None:
        """The output's MIME type; for a held format it may depend on the data (HEIF, AVIF),
        so it is known at finish."""
        if not self.native and not self._finished:
            return None
        return getattr(self._walk, "mime_type", None) or self._default_mime

    @property
    def removed(self) -> tuple[str, ...]:
        self._check_finished()
        return tuple(sorted(self._walk.removed))

    @property
    def kept(self) -> tuple[str, ...]:
        self._check_finished()
        return tuple(sorted(self._walk.kept))

    def feed(self, chunk: bytes | bytearray | memoryview) -> bytes:
        self._check_usable()
        return self._guarded(self._walk.feed, chunk)

    def finish(self) -> bytes:
        self._check_usable()
        out = self._guarded(self._walk.finish)
        self._finished = True
        return out

    def _guarded(self, call: Callable, *args: Any) -> bytes:
        try:
            return call(*args)
        except BaseException:
            self._failed = True  # never continued: the walk's state is half-updated
            raise

    def _check_usable(self) -> None:
        if self._failed:
            raise ImageError(f"{self.format.upper()}: the strip failed earlier; it cannot continue")
        if self._finished:
            raise ImageError(f"{self.format.upper()}: the strip has finished")

    def _check_finished(self) -> None:
        if not self._finished:
            raise ImageError(f"{self.format.upper()}: what was removed is known only at finish")


def open_walk(image_format: Format, size: int, read_range: ReadRange | None, *, keep_copyright: bool, max_buffered: int) -> StreamStrip:
    """The strip for an image of `image_format`: native when its module streams, else held."""
    if image_format.open_walk is not None:
        return StreamStrip(image_format, image_format.open_walk(size, read_range, keep_copyright), native=True)
    return StreamStrip(image_format, BufferedWalk(image_format, size, keep_copyright, max_buffered), native=False)
