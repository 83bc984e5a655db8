"""respond_streamed(): one request answered as the original arrives, for both modes.

The adapter opens the original (a Source: its size, its headers, read(n) for the next
bytes and read_range(start, end) for any other part, each bounded by the adapter's
deadline) and the stripped bytes are produced as it is read (metadata.open_strip).

Everything refusable is refused before the first byte, with the reply the error table
maps it to (the same replies as the buffered pipeline): the original cannot be read,
is not an image, its head is malformed. After the first byte the only honest failure
is to cut the response short (STYLE 22): the chunks iterator raises StreamCut and the
adapter ends the response without its end (no terminating chunk; a failed request),
so no viewer or cache takes a truncated image as complete.

Range: the image is stripped from its start and the requested range is answered from
a held window of at most RANGE_HOLD_BYTES, as a plain (bounded) Reply:
    bytes=a-b   206 for a..b, "bytes a-b/*" when b was reached before the end (the total is
                not known then, and the rest is not read), "bytes a-end/total" when the
                image ended first, 416 "bytes */total" when it ended before a;
    bytes=a-    the same with b = a + RANGE_HOLD_BYTES - 1 (a 206 may carry less than an
                open range asks; the client asks for the rest);
    bytes=-n    the last min(n, RANGE_HOLD_BYTES) bytes, with the total (read to the end).
?showExif=true reads the original whole within MAX_INPUT_BYTES, as before (pipeline.py).
"""

from __future__ import annotations

import time
from email.message import Message
from typing import Callable, Iterator, NamedTuple

import metadata

from .byte_range import RangeNotSatisfiableError, parse_range
from .errors import OriginalTooLargeError, ResponseTooLargeError, UpstreamTimeoutError, UpstreamUnreachableError
from .original import Original
from .pipeline import Outcome, failed, transform
from .reply import HTTP_PARTIAL_CONTENT, Reply, http_date, one_line
from .settings import Settings

# How many bytes the head read must hold to recognise the format (metadata.detect_format).
SIGNATURE_BYTES = 16
# Bytes a ranged reply holds at most (see the module's note).
RANGE_HOLD_BYTES = 16 * 1024 * 1024
READ_BYTES = 1024 * 1024
# One ranged read (a JPEG gain map, a piece of the primary): metadata.limits bounds what the strip asks for,
# this what an adapter fetches for it.
MAX_RANGE_READ = 64 * 1024 * 1024


class Source(NamedTuple):
    """The original, opened: the adapters' bounded reads of it."""

    size: int  # as declared (Content-Length)
    headers: Message
    read: Callable[[int], bytes]  # the next bytes, b"" at the end
    read_range: Callable[[int, int], bytes]  # bytes start..end-1 of the object
    close: Callable[[], None]


def bounded_source(
    size: int,
    headers: Message,
    *,
    read_next: Callable[[int], bytes],
    read_part: Callable[[int, int], bytes],
    close: Callable[[], None],
    deadline: float,
) -> Source:
    """A Source over an adapter's two raw reads: each read checks `deadline` first, and a ranged read is at most
    MAX_RANGE_READ and must answer exactly the bytes asked for. `read_part(start, end)` reads at most
    end - start + 1 bytes: the one extra shows an answer that ignored the range, without holding all of it."""

    def in_time() -> None:
        if time.monotonic() > deadline:
            msg = "the original's body did not arrive in time"
            raise UpstreamTimeoutError(msg)

    def read(size: int) -> bytes:
        in_time()
        return read_next(size)

    def read_range(start: int, end: int) -> bytes:
        in_time()
        if end - start > MAX_RANGE_READ:
            raise OriginalTooLargeError(MAX_RANGE_READ)
        part = read_part(start, end)
        if len(part) != end - start:
            msg = f"a ranged read of the original answered {len(part)} of {end - start} bytes"
            raise UpstreamUnreachableError(msg)
        return part

    return Source(size, headers, read, read_range, close)


class StreamCut(Exception):
    """The stream failed after its first byte: the response must be cut short."""


class Streamed:
    """A 200 whose body is produced as the original is read: chunks() yields it."""

    def __init__(self, content_type: str, reply: Reply, first: bytes, rest: Iterator[bytes], fields: dict) -> None:
        self.reply = reply  # status and headers (no body)
        self.length: int | None = None  # known before the first byte only for a held format
        self.content_type = content_type
        self._first = first
        self._rest = rest
        self.fields = fields  # completed as the body is produced (bytes_out, removed, kept, error)
        self.error: BaseException | None = None

    def chunks(self) -> Iterator[bytes]:
        yield self._first
        try:
            yield from self._rest
        except Exception as error:  # noqa: BLE001 - any failure now can only cut the stream
            self.error = error
            self.fields["error"] = f"{type(error).__name__}: {one_line(str(error))}"
            self.fields["cut"] = True
            raise StreamCut(str(error)) from error

    def outcome(self) -> Outcome:
        """The Outcome for the log line, once the body has been produced or cut."""
        return Outcome(self.reply, self.fields, self.error)


def _read_at_least(source: Source, count: int) -> bytes:
    parts, have = [], 0
    while have < count:
        part = source.read(READ_BYTES)
        if not part:
            break
        parts.append(part)
        have += len(part)
    return b"".join(parts)


class OutputLimit(NamedTuple):
    """The most a mode can send (Lambda's streamed response), and what its 413 advises."""

    max_bytes: int
    advice: str


# A stripped JPEG is never more than a few kilobytes larger than its original (a minimal
# EXIF block and a rebuilt XMP packet replace what was removed): an original past the
# output limit by more than this is refused before the first byte.
OUTPUT_GROWTH_ALLOWANCE = 1024 * 1024


def _stripped(source: Source, strip: metadata.StreamStrip, first: bytes, fields: dict, limit: OutputLimit | None) -> Iterator[bytes]:
    """The strip's output, chunk by chunk, to the end of the original; fields completed."""
    written = 0

    def counted(out: bytes) -> bytes:
        nonlocal written
        written += len(out)
        if limit is not None and written > limit.max_bytes:
            raise ResponseTooLargeError(written, limit.max_bytes, limit.advice)
        return out

    try:
        out = strip.feed(first)
        if out:
            yield counted(out)
        while True:
            chunk = source.read(READ_BYTES)
            if not chunk:
                break
            fields["bytes_in"] = fields.get("bytes_in", 0) + len(chunk)
            out = strip.feed(chunk)
            if out:
                yield counted(out)
        out = strip.finish()
        if out:
            yield counted(out)
        fields.update(removed=list(strip.removed), kept=list(strip.kept), bytes_out=written)
    finally:
        source.close()


def _ranged(chunks: Iterator[bytes], header: str, common: dict, *, native: bool) -> Reply:
    """The requested range from a held window (see the module's note). A held format's
    output comes whole at once, so its total is always known."""
    probe = parse_range(header, 1 << 62)  # the header's shape, as if the image were endless
    suffix = header.split("=", 1)[1].strip().startswith("-")
    if suffix:
        tail, total = b"", 0
        want = min(probe.length, RANGE_HOLD_BYTES)
        for chunk in chunks:
            total += len(chunk)
            tail = (tail + chunk)[-want:]
        byte_range = parse_range(header, total)
        return Reply(HTTP_PARTIAL_CONTENT, body=tail[-byte_range.length :], content_range=byte_range.content_range(total), **common)
    first = probe.first
    last = min(probe.last, first + RANGE_HOLD_BYTES - 1)
    window, at = bytearray(), 0
    for chunk in chunks:
        start, end = at, at + len(chunk)
        at = end
        if end > first:
            window += chunk[max(first - start, 0) : last + 1 - start]
        if at > last and native:
            return Reply(HTTP_PARTIAL_CONTENT, body=bytes(window), content_range=f"bytes {first}-{last}/*", **common)
    if first >= at:
        raise RangeNotSatisfiableError(at)
    end = min(at - 1, last)
    return Reply(HTTP_PARTIAL_CONTENT, body=bytes(window), content_range=f"bytes {first}-{end}/{at}", **common)


def respond_streamed(
    open_source: Callable[[], Source],
    *,
    show_exif: bool,
    range_header: str | None,
    settings: Settings,
    limit: OutputLimit | None,
) -> Outcome | Streamed:
    """An error Outcome (before any byte), a bounded Outcome (showExif, Range), or Streamed."""
    fields: dict = {}
    source = None
    try:
        source = open_source()
        common = {
            "cache_control": source.headers.get("Cache-Control") or None,
            "last_modified": http_date(source.headers.get("Last-Modified")),
        }
        if show_exif and settings.exif_query != "off":
            try:
                body = _read_at_least(source, min(source.size, settings.max_input_bytes) + 1)
            finally:
                source.close()  # read whole (or past the cap): nothing more is needed
            if len(body) > settings.max_input_bytes:
                raise OriginalTooLargeError(settings.max_input_bytes)
            fields["bytes_in"] = len(body)
            reply, more = transform(Original(body, source.headers), show_exif=True, range_header=range_header, settings=settings)
            fields.update(more)
            return Outcome(reply, fields, None)
        first = _read_at_least(source, SIGNATURE_BYTES)
        fields["bytes_in"] = len(first)
        strip = metadata.open_strip(
            first[:SIGNATURE_BYTES], source.size, source.read_range,
            keep_copyright=settings.keep_copyright, max_buffered=settings.max_input_bytes,
        )
        fields.update(format=strip.format, response="image", removed=[], kept=[])
        if limit is not None and source.size > limit.max_bytes + OUTPUT_GROWTH_ALLOWANCE:
            raise ResponseTooLargeError(source.size, limit.max_bytes, limit.advice)
        chunks = _stripped(source, strip, first, fields, limit)
        if range_header and parse_range(range_header, 1 << 62) is not None:
            try:
                reply = _ranged(chunks, range_header, common, native=strip.native)
            finally:
                chunks.close()  # the rest of the original is not read
            reply = reply._replace(content_type=strip.mime_type)
            fields["bytes_out_range"] = len(reply.body)
            return Outcome(reply, fields, None)
        opening = next((chunk for chunk in chunks if chunk), b"")  # the head: refusable until here
    except Exception as error:  # noqa: BLE001 - every failure before the first byte is answered
        if source is not None:
            source.close()
        if isinstance(error, metadata.TooLargeToHold):
            error = OriginalTooLargeError(settings.max_input_bytes)  # the cap of the buffered path
        return failed(error, fields)
    reply = Reply(status=200, content_type=strip.mime_type, **common)
    streamed = Streamed(strip.mime_type, reply, opening, chunks, fields)
    if not strip.native:
        # Held whole: its output came in one piece at finish, so its length is known.
        for _ in chunks:
            pass  # nothing more; the generator completes the log fields
        streamed.length = len(opening)
    return streamed
