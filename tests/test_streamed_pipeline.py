"""serving/streamed.py: answers produced as the original is read, for both modes.

Errors before the first byte keep the buffered pipeline's replies; a failure after it
cuts the stream (StreamCut); ranges come from a held window; the image is never held
whole (a 64 MB JPEG through a counting reader)."""

from __future__ import annotations

import io
import time
from email.message import Message

import image_builders as b
import isobmff_builders as ib
import jxl_shapes as jxs
import metadata
import png_shapes as pngs
import pytest
from stream_builders import BAD_DHT, JpegSource

from function_url.bucket_read import open_object
from olap.access_point_read import open_via_access_point
from serving.errors import OriginalTooLargeError, ResponseTooLargeError, UpstreamTimeoutError, UpstreamUnreachableError
from serving.pipeline import Outcome
from serving.settings import load_settings
from serving.streamed import (
    MAX_RANGE_READ,
    RANGE_HOLD_BYTES,
    OutputLimit,
    Source,
    StreamCut,
    Streamed,
    bounded_source,
    respond_streamed,
)

SETTINGS = load_settings({})
NATIVE = {
    "apng": lambda: b.png(2, animated=True),
    "png damaged idat": lambda: pngs.with_idat_crc(pngs.SOURCE, 1, 0x12345678),
    "jxl jxlp": lambda: ib.jxl_container((1, jxs.XML), (2, jxs.JUMB), parts=3),
    "jxl bare with a trailer": lambda: jxs.bare_codestream((120, 80)) + jxs.TRAILER,
}


def _source(data_or_reader, size: int | None = None, headers: Message | None = None) -> Source:
    if isinstance(data_or_reader, bytes):
        data, position = data_or_reader, [0]

        def read(count: int) -> bytes:
            out = data[position[0] : position[0] + count]
            position[0] += len(out)
            return out

        return Source(len(data), headers or Message(), read, lambda s, e: data[s:e], lambda: None)
    return Source(size, headers or Message(), data_or_reader.read, lambda s, e: data_or_reader.whole()[s:e], lambda: None)


def _answer(source: Source, *, range_header: str | None = None, settings=SETTINGS, limit=None):
    return respond_streamed(lambda: source, show_exif=False, range_header=range_header, settings=settings, limit=limit)


def test_a_streamed_jpeg_equals_the_buffered_strip_and_says_what_it_removed():
    data = b.jpeg_with_everything()
    answer = _answer(_source(data))
    assert isinstance(answer, Streamed) and answer.length is None
    assert b"".join(answer.chunks()) == metadata.clean(data).data
    assert answer.reply.status == 200 and answer.content_type == "image/jpeg"
    assert answer.fields["removed"] == list(metadata.clean(data).removed)
    assert answer.fields["bytes_out"] == len(metadata.clean(data).data)


@pytest.mark.parametrize("name", ["apng", "png damaged idat", "jxl jxlp", "jxl bare with a trailer"])
def test_a_streamed_png_or_jxl_equals_the_buffered_strip(name):
    data = NATIVE[name]()
    answer = _answer(_source(data))
    assert isinstance(answer, Streamed) and answer.length is None
    assert b"".join(answer.chunks()) == metadata.clean(data).data
    assert answer.fields["removed"] == list(metadata.clean(data).removed)


def test_a_png_idat_swallowing_the_chunks_after_it_cuts_the_stream_before_them():
    data = pngs.swallowing_idat(cut=False)
    position = [0]

    def read(count: int) -> bytes:  # the original arriving 1000 bytes at a time
        out = data[position[0] : position[0] + min(count, 1000)]
        position[0] += len(out)
        return out

    answer = _answer(Source(len(data), Message(), read, lambda s, e: data[s:e], lambda: None))
    assert isinstance(answer, Streamed), "the head was fine: the answer had begun"
    written = []
    with pytest.raises(StreamCut, match="past the end of its image data"):
        for chunk in answer.chunks():
            written.append(chunk)
    assert written and b.SECRET not in b"".join(written)
    assert answer.outcome().fields["cut"] is True


def test_a_held_format_is_answered_whole_with_its_length():
    data = b.tiff()
    answer = _answer(_source(data))
    assert isinstance(answer, Streamed) and answer.length == len(metadata.clean(data).data)
    assert b"".join(answer.chunks()) == metadata.clean(data).data


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"%PDF-1.7 not an image", 415, "UnsupportedMediaType"),
        (b"", 415, "UnsupportedMediaType"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00truncated", 415, "UnsupportedMediaType"),
    ],
)
def test_errors_before_the_first_byte_keep_their_replies(data, status, code):
    answer = _answer(_source(data))
    assert isinstance(answer, Outcome)
    assert (answer.reply.status, answer.reply.error_code) == (status, code)


def test_a_held_format_over_max_input_bytes_is_413_before_reading_it():
    data = b.tiff()
    answer = _answer(_source(data), settings=load_settings({"MAX_INPUT_BYTES": str(len(data) - 1)}))
    assert (answer.reply.status, answer.reply.error_code) == (413, "EntityTooLarge")


def test_an_original_far_over_the_output_limit_is_413_before_the_first_byte():
    source = JpegSource(4 * 1024 * 1024)
    answer = _answer(_source(source, source.size), limit=OutputLimit(1024, "no Lambda response can be larger"))
    assert (answer.reply.status, answer.reply.error_code) == (413, "EntityTooLarge")
    assert isinstance(answer.error, ResponseTooLargeError)


def test_a_failure_after_the_first_byte_cuts_the_stream():
    source = JpegSource(3 * 1024 * 1024, tail=BAD_DHT + b"\xff\xd9")
    answer = _answer(_source(source, source.size))
    assert isinstance(answer, Streamed), "the head was fine: the answer had begun"
    chunks = answer.chunks()
    first = next(chunks)
    assert first.startswith(b"\xff\xd8")
    with pytest.raises(StreamCut, match="bad table spec"):
        for _ in chunks:
            pass
    outcome = answer.outcome()
    assert outcome.fields["cut"] is True and "ImageError" in outcome.fields["error"]


def test_output_past_the_limit_after_the_first_byte_cuts_the_stream():
    source = JpegSource(2 * 1024 * 1024)
    answer = _answer(_source(source, source.size), limit=OutputLimit(source.size - 1024 * 1024 // 2, "advice"))
    with pytest.raises(StreamCut, match="over the"):
        b"".join(answer.chunks())


def test_the_whole_image_is_never_held():
    """A 64 MB JPEG: what has been read but not yet handed on stays about one read."""
    source = JpegSource(64 * 1024 * 1024)
    answer = _answer(_source(source, source.size))
    handed, held = 0, 0
    for chunk in answer.chunks():
        handed += len(chunk)
        held = max(held, source.read_bytes - handed)
    assert held <= 2 * 1024 * 1024, f"{held} bytes read but not handed on"
    assert source.read_bytes == source.size and handed > 64 * 1024 * 1024


# ---------------------------------------------------------------- Range on a streamed reply
def _ranged(header: str, data: bytes | None = None):
    data = data if data is not None else b.jpeg_with_everything()
    full = metadata.clean(data).data
    return _answer(_source(data), range_header=header), full


def test_a_closed_range_is_206_with_an_unknown_total_once_its_last_byte_is_out():
    answer, full = _ranged("bytes=10-19")
    assert isinstance(answer, Outcome)
    assert (answer.reply.status, answer.reply.body) == (206, full[10:20])
    assert answer.reply.content_range == "bytes 10-19/*"
    assert answer.reply.content_type == "image/jpeg"


def test_a_range_past_the_end_of_a_short_image_is_clamped_with_the_total():
    answer, full = _ranged(f"bytes=100-{10**9}")
    assert (answer.reply.status, answer.reply.body) == (206, full[100:])
    assert answer.reply.content_range == f"bytes 100-{len(full) - 1}/{len(full)}"


def test_an_open_range_and_a_suffix_range():
    answer, full = _ranged("bytes=50-")
    assert (answer.reply.body, answer.reply.content_range) == (full[50:], f"bytes 50-{len(full) - 1}/{len(full)}")
    answer, full = _ranged("bytes=-7")
    assert (answer.reply.body, answer.reply.content_range) == (full[-7:], f"bytes {len(full) - 7}-{len(full) - 1}/{len(full)}")


def test_a_range_starting_past_the_end_is_416_with_the_total():
    answer, full = _ranged("bytes=999999-")
    assert (answer.reply.status, answer.reply.error_code) == (416, "InvalidRange")


def test_an_open_range_holds_at_most_the_window_and_reads_no_further():
    source = JpegSource(3 * RANGE_HOLD_BYTES)
    answer = _answer(_source(source, source.size), range_header="bytes=0-")
    assert answer.reply.status == 206
    assert len(answer.reply.body) == RANGE_HOLD_BYTES
    assert answer.reply.content_range == f"bytes 0-{RANGE_HOLD_BYTES - 1}/*"
    assert source.read_bytes < 2 * RANGE_HOLD_BYTES, "the rest of the original is not read"


class _RangeIgnoringS3:
    """A stand-in S3 client that answers every GetObject with the whole object, Range or not."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.calls: list[dict] = []

    def get_object(self, **params) -> dict:
        self.calls.append(params)
        return {"Body": io.BytesIO(self.data), "ContentLength": len(self.data), "ETag": '"e"'}


@pytest.mark.parametrize("adapter", ["bucket", "access point"])
def test_a_ranged_read_answered_with_the_whole_object_is_refused_not_held(adapter):
    s3 = _RangeIgnoringS3(bytes(range(256)) * 64)
    if adapter == "bucket":
        source = open_object(s3, bucket="b", key="a.jpg")
    else:
        source = open_via_access_point(
            s3, access_point_arn="arn", key="a.jpg", version_id=None, etag='"e"', headers=Message(), total_seconds=5.0
        )
    with pytest.raises(UpstreamUnreachableError, match="^a ranged read of the original answered 11 of 10 bytes$"):
        source.read_range(100, 110)
    assert s3.calls[-1]["Range"] == "bytes=100-109"


def test_a_bounded_source_refuses_a_range_over_its_cap_and_reads_after_the_deadline():
    asked: list[tuple[int, int]] = []

    def read_part(start: int, end: int) -> bytes:
        asked.append((start, end))
        return bytes(end - start)

    source = bounded_source(
        10, Message(), read_next=lambda n: b"", read_part=read_part, close=lambda: None, deadline=time.monotonic() + 60
    )
    assert source.read_range(2, 5) == bytes(3)
    with pytest.raises(OriginalTooLargeError):
        source.read_range(0, MAX_RANGE_READ + 1)
    assert asked == [(2, 5)]
    late = bounded_source(
        10, Message(), read_next=lambda n: b"x", read_part=read_part, close=lambda: None, deadline=time.monotonic() - 1
    )
    with pytest.raises(UpstreamTimeoutError, match="did not arrive in time"):
        late.read(1)


@pytest.mark.parametrize(("show_exif", "range_header"), [(False, None), (True, None), (False, "bytes=0-9")])
def test_the_original_is_closed_once_answered(show_exif, range_header):
    data, closed = b.jpeg(), []
    source = _source(data)._replace(close=lambda: closed.append(True))
    answer = respond_streamed(lambda: source, show_exif=show_exif, range_header=range_header, settings=SETTINGS, limit=None)
    if isinstance(answer, Streamed):
        b"".join(answer.chunks())
    assert closed, "the original's body was left open"
