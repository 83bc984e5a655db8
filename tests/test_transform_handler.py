"""The transform handler end to end: real HTTP on 127.0.0.1, real botocore serialisation.

The original is served at the presigned URL by a local server; the WriteGetObjectResponse
the handler sends through botocore is captured by another, and each test checks the
route, token, status, error code, headers and body that S3 Object Lambda would receive.
"""

from __future__ import annotations

import io
import json
import re
from urllib.parse import quote

import pytest
from PIL import Image

import gain_map_builders
import olap_fixtures as fx
from olap_fixtures import SECRET, Resource

import metadata
from metadata import ImageError
from olap.event import signed_headers_to_forward, user_query
from serving.byte_range import ByteRange, RangeNotSatisfiableError, parse_range
from serving.error_table import ERROR_CODE_PATTERN, error_reply
from serving.errors import (
    InvalidKeyError,
    MethodNotAllowedError,
    OriginalTooLargeError,
    ResponseTooLargeError,
    RoleReadDeniedError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from serving.original import Timeouts
from serving.reply import Reply
from serving.request_query import query_pairs, wants_exif
from serving.settings import SettingsError, load_settings

FAST_TIMEOUTS = Timeouts(socket_seconds=0.5, total_seconds=1.5)


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def servers():
    origin = fx.OriginServer().start()
    with fx.resolve_localhost_subdomains(), fx.trusting(origin.ca_file):
        aws = fx.AwsServer(origin).start()
        yield origin, aws
        aws.stop()
        origin.stop()


@pytest.fixture
def origin(servers):
    origin, aws = servers
    origin.resources.clear()
    origin.seen.clear()
    aws.seen.clear()
    aws.write_status = 200
    aws.role_read_status = 200
    return origin


@pytest.fixture
def aws(servers, origin):
    return servers[1]


@pytest.fixture(scope="module")
def cold_starts(servers):
    """The handlers loaded against these servers, by environment. Kept with the servers, not in a
    global: a handler's client points at this AwsServer's port, and a second pytest session in
    the same process (mutmut's stats then clean run) starts new servers on other ports."""
    return {}


@pytest.fixture
def load(aws, cold_starts):
    """load(**env) -> (handler module, log stream); one cold start per environment."""

    def _load(**environment: str):
        cache_key = tuple(sorted(environment.items()))
        if cache_key not in cold_starts:
            cold_starts[cache_key] = fx.load_handler(aws, **environment)
        module, log_stream = cold_starts[cache_key]
        module.FETCH_TIMEOUTS = FAST_TIMEOUTS
        module.STREAM_TIMEOUTS = FAST_TIMEOUTS
        log_stream.seek(0)
        log_stream.truncate()
        return module, log_stream

    return _load


@pytest.fixture
def handler(load):
    return load()[0]


def invoke(module, event: dict):
    return module.lambda_handler(event, fx.LambdaContext())


def the_write(aws) -> fx.Seen:
    writes = aws.writes()
    assert len(writes) == 1, f"expected one WriteGetObjectResponse, got {len(writes)}"
    return writes[0]


def fwd(seen: fx.Seen, name: str) -> str | None:
    return seen.headers.get(name)


def assert_error_write(seen: fx.Seen, status: int, code: str) -> None:
    assert fwd(seen, "x-amz-fwd-status") == str(status)
    assert fwd(seen, "x-amz-fwd-error-code") == code
    assert ERROR_CODE_PATTERN.match(code)
    message = fwd(seen, "x-amz-fwd-error-message")
    assert message and "\n" not in message
    assert seen.body == b"", "an error answer carries no body"
    assert fwd(seen, "x-amz-fwd-header-Content-Type") is None


def put_image(origin, key: str, data: bytes, **kwargs) -> None:
    origin.put(key, Resource(body=data, **kwargs))


# ---------------------------------------------------------------- the image path
@pytest.mark.parametrize("image_format", sorted(fx.IMAGE_MAKERS))
def test_image_is_answered_stripped_through_botocore(handler, origin, aws, image_format):
    original = fx.IMAGE_MAKERS[image_format]()
    assert fx.leftover_metadata(original), "the test image must carry metadata to begin with"
    key = f"photos/2024/holiday {image_format}.img"
    put_image(origin, key, original)

    result = invoke(handler, fx.get_event(origin, key))

    seen = the_write(aws)
    assert result == {"statusCode": 200}
    assert seen.host == f"{fx.OUTPUT_ROUTE}.localhost:{aws.port}"
    assert seen.path == "/WriteGetObjectResponse"
    assert fwd(seen, "x-amz-request-route") == fx.OUTPUT_ROUTE
    assert fwd(seen, "x-amz-request-token") == fx.OUTPUT_TOKEN
    assert "s3-object-lambda/aws4_request" in fwd(seen, "Authorization")
    assert fwd(seen, "x-amz-fwd-status") == "200"
    assert fwd(seen, "x-amz-fwd-error-code") is None
    assert fwd(seen, "x-amz-fwd-header-Content-Type") == fx.MIME_BY_FORMAT[image_format]
    assert fwd(seen, "x-amz-fwd-header-Cache-Control") == fx.CACHE_CONTROL
    assert fwd(seen, "x-amz-fwd-header-Last-Modified") == fx.LAST_MODIFIED
    assert fwd(seen, "x-amz-fwd-header-ETag") is None, "the original's ETag names other bytes"
    assert seen.body != original
    assert fx.leftover_metadata(seen.body) == []
    assert fx.pixels(seen.body) == fx.pixels(original)
    with Image.open(io.BytesIO(seen.body)) as decoded:
        assert decoded.format.lower() == image_format


def test_origin_is_fetched_with_the_signed_headers_but_not_host(handler, origin, aws):
    key = "signed.jpg"
    put_image(origin, key, fx.IMAGE_MAKERS["jpeg"]())
    event = fx.get_event(
        origin,
        key,
        signed_headers="host;x-amz-checksum-mode;x-amz-request-payer",
        headers={"X-Amz-Checksum-Mode": "ENABLED", "x-AMZ-request-payer": "requester", "Cookie": "c=1"},
    )

    invoke(handler, event)

    (fetched,) = origin.seen
    assert fetched.method == "GET"
    assert fetched.headers.get("x-amz-checksum-mode") == "ENABLED"
    assert fetched.headers.get("x-amz-request-payer") == "requester"
    assert fetched.headers.get("Cookie") is None, "unsigned caller headers stay behind"
    assert fetched.host == f"127.0.0.1:{origin.port}"
    assert f"/{quote(key)}?" in fetched.path
    assert fwd(the_write(aws), "x-amz-fwd-status") == "200"


# ---------------------------------------------------------------- showExif
def _exif_json(handler, origin, aws, query: str) -> tuple[fx.Seen, dict | None]:
    put_image(origin, "gps.jpg", fx.IMAGE_MAKERS["jpeg"]())
    invoke(handler, fx.get_event(origin, "gps.jpg", query=query))
    seen = the_write(aws)
    is_json = fwd(seen, "x-amz-fwd-header-Content-Type") == "application/json"
    return seen, json.loads(seen.body) if is_json else None


IDENTIFYING = (f"{SECRET}-artist", f"{SECRET}-serial", f"{SECRET}-copyright", f"{SECRET}-description", "latitude")


@pytest.mark.parametrize("query", ["showExif=true", "showExif=TRUE", "a=1&showExif=True"])
def test_show_exif_answers_the_safe_view_by_default(handler, origin, aws, query):
    seen, exif = _exif_json(handler, origin, aws, query)
    assert fwd(seen, "x-amz-fwd-status") == "200"
    assert exif is not None
    assert exif["Image"]["Make"] == "TestCam"
    assert "GPS" not in exif
    for planted in IDENTIFYING:
        assert planted.encode() not in seen.body, planted


@pytest.mark.parametrize("exif_query", ["safe", "no-gps"])
def test_safe_and_no_gps_leave_out_place_and_identity(load, origin, aws, exif_query):
    handler = load(EXIF_QUERY=exif_query)[0]
    seen, exif = _exif_json(handler, origin, aws, "showExif=true")
    assert exif["Image"]["Make"] == "TestCam"
    assert b"GPSLatitude" not in seen.body and b"BodySerialNumber" not in seen.body and b"Artist" not in seen.body


def test_show_exif_full_is_an_opt_in_to_everything(load, origin, aws):
    handler = load(EXIF_QUERY="full")[0]
    seen, exif = _exif_json(handler, origin, aws, "showExif=true")
    assert exif["Image"]["Artist"] == f"{SECRET}-artist"
    assert exif["Exif"]["BodySerialNumber"] == f"{SECRET}-serial"
    assert exif["GPS"]["latitude"] == pytest.approx(48 + 51 / 60 + 29.88 / 3600, abs=1e-6)


def test_keep_copyright_adds_artist_and_copyright_to_the_safe_view(load, origin, aws):
    handler = load(KEEP_COPYRIGHT="true")[0]
    seen, exif = _exif_json(handler, origin, aws, "showExif=true")
    assert (exif["Image"]["Artist"], exif["Image"]["Copyright"]) == (f"{SECRET}-artist", f"{SECRET}-copyright")
    assert "GPS" not in exif and b"BodySerialNumber" not in seen.body


def test_show_exif_off_serves_the_stripped_image(load, origin, aws):
    handler = load(EXIF_QUERY="off")[0]
    seen, exif = _exif_json(handler, origin, aws, "showExif=true")
    assert exif is None
    assert fwd(seen, "x-amz-fwd-header-Content-Type") == "image/jpeg"
    assert fx.leftover_metadata(seen.body) == []


@pytest.mark.parametrize("query", ["showExif=false", "showexif=true", "showExif=truthy", ""])
def test_other_queries_serve_the_image(handler, origin, aws, query):
    seen, exif = _exif_json(handler, origin, aws, query)
    assert exif is None
    assert fwd(seen, "x-amz-fwd-header-Content-Type") == "image/jpeg"


def test_a_key_that_looks_like_a_query_does_not_turn_on_show_exif():
    key = "odd?showExif=true"
    assert not wants_exif(query_pairs(user_query(f"https://{fx.OLAP_HOST}/{key}", key)))
    assert wants_exif(query_pairs(user_query(f"https://{fx.OLAP_HOST}/{key}?showExif=true", key)))


def test_show_exif_on_a_non_image_is_415(handler, origin, aws):
    origin.put("notes.txt", Resource(body=b"just some text, not an image"))
    invoke(handler, fx.get_event(origin, "notes.txt", query="showExif=true"))
    assert_error_write(the_write(aws), 415, "UnsupportedMediaType")


@pytest.mark.parametrize(
    "body",
    [
        b"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG",  # not an image at all
        b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00SECRET-7f3a-owner",  # a JPEG cut off inside its EXIF
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + SECRET.encode(),  # a PNG whose header is garbage
    ],
)
def test_a_415_says_what_failed_and_nothing_of_the_object(load, origin, aws, body):
    handler, log_stream = load()
    origin.put("odd.jpg", Resource(body=body))
    invoke(handler, fx.get_event(origin, "odd.jpg"))
    seen = the_write(aws)
    assert_error_write(seen, 415, "UnsupportedMediaType")
    assert fwd(seen, "x-amz-fwd-error-message") == "The object is not an image the transform can serve"
    assert _log_lines(log_stream)[-1]["error"].startswith("ImageError: "), "the details go to the log"


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("resource", "status", "code"),
    [
        (Resource(status=404), 404, "NoSuchKey"),
        (Resource(status=403), 403, "AccessDenied"),
        (Resource(status=412), 412, "PreconditionFailed"),
        (Resource(status=500), 502, "BadGateway"),
        (Resource(body=b"%PDF-1.7 not an image at all"), 415, "UnsupportedMediaType"),
        (Resource(body=b""), 415, "UnsupportedMediaType"),
        (Resource(body=b"\xff\xd8\xff\xe0\x00\x10JFIF\x00truncated"), 415, "UnsupportedMediaType"),
        # Streamed: no cap on a declared length before the format is known (it is not an image).
        (Resource(body=b"x" * 64, behaviour="declare_huge"), 415, "UnsupportedMediaType"),
        # Streamed: an original without a declared length is not read.
        (Resource(behaviour="chunked_endless"), 502, "BadGateway"),
        # A format held whole (TIFF) keeps MAX_INPUT_BYTES, checked against the declared length.
        (Resource(body=b"II*\x00\x08\x00\x00\x00" + b"x" * 64, behaviour="declare_huge"), 413, "EntityTooLarge"),
        # Held whole until its end (TIFF): the body cut off is found before the first byte.
        (Resource(body=b"II*\x00\x08\x00\x00\x00" + b"x" * 4096, behaviour="truncate"), 502, "BadGateway"),
        (Resource(body=b"x" * 64, behaviour="stall", delay=1.5), 504, "GatewayTimeout"),
        (Resource(body=b"II*\x00\x08\x00\x00\x00" + b"x" * 64, behaviour="trickle", delay=0.1), 504, "GatewayTimeout"),
    ],
    ids=lambda value: value.behaviour + str(value.status) if isinstance(value, Resource) else str(value),
)
def test_each_failure_is_answered_with_its_status_and_code(load, origin, aws, resource, status, code):
    handler = load(MAX_INPUT_BYTES="1048576")[0]
    origin.put("broken.jpg", resource)
    result = invoke(handler, fx.get_event(origin, "broken.jpg"))
    seen = the_write(aws)
    assert result == {"statusCode": status}
    assert fwd(seen, "x-amz-request-token") == fx.OUTPUT_TOKEN
    assert_error_write(seen, status, code)


def test_a_missing_key_is_404_even_without_a_resource(handler, origin, aws):
    invoke(handler, fx.get_event(origin, "nothing/here.jpg"))
    assert_error_write(the_write(aws), 404, "NoSuchKey")


def test_connection_refused_is_502(handler, origin, aws):
    event = fx.get_event(origin, "a.jpg")
    event["getObjectContext"]["inputS3Url"] = f"https://127.0.0.1:{fx.closed_port()}/a.jpg?X-Amz-SignedHeaders=host"
    invoke(handler, event)
    assert_error_write(the_write(aws), 502, "BadGateway")


@pytest.mark.parametrize("scheme", ["http", "ftp", "file"])
def test_a_presigned_url_that_is_not_https_is_never_fetched(scheme, handler, origin, aws):
    """S3 Object Lambda hands over https URLs only; another scheme would carry the caller's credentials in clear."""
    put_image(origin, "a.jpg", fx.IMAGE_MAKERS["jpeg"]())
    event = fx.get_event(origin, "a.jpg")
    url = event["getObjectContext"]["inputS3Url"]
    event["getObjectContext"]["inputS3Url"] = scheme + url[len("https"):]
    invoke(handler, event)
    assert_error_write(the_write(aws), 502, "BadGateway")
    assert origin.seen == []


def test_the_fetch_refuses_a_url_that_is_not_https_by_name():
    from olap.presigned_fetch import fetch_original
    from serving.errors import UpstreamUnreachableError

    with pytest.raises(UpstreamUnreachableError, match="^the original's URL is not https$"):
        fetch_original("http://127.0.0.1:9/a.jpg", headers={}, max_bytes=10)


def test_the_streamed_open_refuses_a_url_that_is_not_https_by_the_same_name():
    from olap.presigned_stream import open_presigned
    from serving.errors import UpstreamUnreachableError
    from serving.original import Timeouts

    with pytest.raises(UpstreamUnreachableError, match="^the original's URL is not https$"):
        open_presigned("http://127.0.0.1:9/a.jpg", headers={}, timeouts=Timeouts())


def test_the_size_cap_comes_from_the_environment(load, origin, aws):
    image = fx.IMAGE_MAKERS["tiff"]()
    put_image(origin, "big.tif", image)
    handler = load(MAX_INPUT_BYTES=str(len(image) - 1))[0]
    invoke(handler, fx.get_event(origin, "big.tif"))
    assert_error_write(the_write(aws), 413, "EntityTooLarge")


def test_an_unexpected_core_failure_is_500_and_never_the_original(handler, origin, aws, monkeypatch):
    def broken_strip(*args, **kwargs):
        raise RuntimeError("core bug")

    monkeypatch.setattr(metadata, "open_strip", broken_strip)
    put_image(origin, "bug.jpg", fx.IMAGE_MAKERS["jpeg"]())
    invoke(handler, fx.get_event(origin, "bug.jpg"))
    assert_error_write(the_write(aws), 500, "InternalError")


def test_a_failed_write_is_raised_so_lambda_records_it(handler, origin, aws):
    aws.write_status = 500
    put_image(origin, "w.jpg", fx.IMAGE_MAKERS["jpeg"]())
    # A streamed Body cannot be sent twice: botocore's retry stops at the rewind.
    with pytest.raises(Exception, match="WriteGetObjectResponse|rewind the stream"):
        invoke(handler, fx.get_event(origin, "w.jpg"))


def test_every_error_answer_has_a_code_s3_accepts_and_no_body():
    errors = [UpstreamStatusError(status) for status in (403, 404, 412, 500, 503)] + [
        OriginalTooLargeError(1),
        ImageError("jpeg: segment length runs past the end at offset 2"),
        RangeNotSatisfiableError(5),
        UpstreamTimeoutError("slow"),
        UpstreamUnreachableError("refused"),
        RoleReadDeniedError("denied"),
        InvalidKeyError("the path names no object"),
        MethodNotAllowedError("PUT"),
        ResponseTooLargeError(7_000_000, 6_291_456, "deploy with StreamingResponses=true"),
        RuntimeError("anything else"),
    ]
    for error in errors:
        reply = error_reply(error)
        assert ERROR_CODE_PATTERN.match(reply.error_code), error
        assert reply.status >= 400, error
        assert reply.body is None, error
    assert error_reply(UpstreamStatusError(304)) == Reply(status=304)


# ---------------------------------------------------------------- Range
def _full_body(handler, origin, aws, key: str) -> bytes:
    invoke(handler, fx.get_event(origin, key))
    body = the_write(aws).body
    aws.seen.clear()
    return body


@pytest.mark.parametrize(
    ("header_name", "spec", "first", "last"),
    [
        ("Range", "bytes=0-99", 0, 99),
        ("range", "bytes=100-", 100, None),
        ("RANGE", "bytes=-50", None, None),
        ("Range", "bytes=10-999999999", 10, None),
    ],
)
def test_range_is_cut_from_the_transformed_object(handler, origin, aws, header_name, spec, first, last):
    put_image(origin, "r.tif", fx.IMAGE_MAKERS["tiff"]())
    full = _full_body(handler, origin, aws, "r.tif")
    size = len(full)
    if first is None:
        first, last = size - 50, size - 1
    last = size - 1 if last is None else last

    invoke(handler, fx.get_event(origin, "r.tif", headers={header_name: spec}))

    seen = the_write(aws)
    assert fwd(seen, "x-amz-fwd-status") == "206"
    assert fwd(seen, "x-amz-fwd-header-Content-Range") == f"bytes {first}-{last}/{size}"
    assert fwd(seen, "x-amz-fwd-header-Content-Type") == "image/tiff"
    assert seen.body == full[first : last + 1]


def test_range_as_a_query_parameter_is_honoured(handler, origin, aws):
    put_image(origin, "r.tif", fx.IMAGE_MAKERS["tiff"]())
    full = _full_body(handler, origin, aws, "r.tif")
    invoke(handler, fx.get_event(origin, "r.tif", query="Range=bytes=5-14"))
    seen = the_write(aws)
    assert fwd(seen, "x-amz-fwd-status") == "206"
    assert seen.body == full[5:15]


def test_unsatisfiable_range_is_416_invalid_range(handler, origin, aws):
    put_image(origin, "r.tif", fx.IMAGE_MAKERS["tiff"]())
    size = len(_full_body(handler, origin, aws, "r.tif"))
    invoke(handler, fx.get_event(origin, "r.tif", headers={"Range": f"bytes={size}-"}))
    seen = the_write(aws)
    assert_error_write(seen, 416, "InvalidRange")
    assert fwd(seen, "x-amz-fwd-header-Content-Range") == f"bytes */{size}"


@pytest.mark.parametrize("spec", ["bytes=0-9,20-29", "items=0-9", "bytes=9-0", "bytes=abc"])
def test_multi_range_and_malformed_range_get_the_whole_object(handler, origin, aws, spec):
    put_image(origin, "r.tif", fx.IMAGE_MAKERS["tiff"]())
    full = _full_body(handler, origin, aws, "r.tif")
    invoke(handler, fx.get_event(origin, "r.tif", headers={"Range": spec}))
    seen = the_write(aws)
    assert fwd(seen, "x-amz-fwd-status") == "200"
    assert fwd(seen, "x-amz-fwd-header-Content-Range") is None
    assert seen.body == full


def test_parse_range_edges():
    assert parse_range(None, 10) is None
    assert parse_range("bytes=0-0", 10) == ByteRange(0, 0)
    assert parse_range("bytes=-20", 10) == ByteRange(0, 9)
    assert parse_range(" Bytes = 2 - 4 ", 10) == ByteRange(2, 4)
    assert ByteRange(2, 4).content_range(10) == "bytes 2-4/10"
    for unsatisfiable in ("bytes=10-", "bytes=-0", "bytes=10-20"):
        with pytest.raises(RangeNotSatisfiableError):
            parse_range(unsatisfiable, 10)
    with pytest.raises(RangeNotSatisfiableError):
        parse_range("bytes=0-", 0)


# ---------------------------------------------------------------- HEAD
def test_head_agrees_with_get_and_sends_no_write(handler, origin, aws):
    put_image(origin, "h.webp", fx.IMAGE_MAKERS["webp"]())
    full = _full_body(handler, origin, aws, "h.webp")

    result = invoke(handler, fx.head_event(origin, "h.webp"))

    assert aws.writes() == []
    assert result["statusCode"] == 200
    assert "errorCode" not in result
    assert result["headers"]["Content-Type"] == "image/webp"
    assert result["headers"]["Content-Length"] == str(len(full))
    assert result["headers"]["Cache-Control"] == fx.CACHE_CONTROL
    assert result["headers"]["Last-Modified"] == fx.LAST_MODIFIED
    assert "ETag" not in result["headers"]
    head_requests = [seen for seen in origin.seen if seen.method == "HEAD"]
    assert len(head_requests) == 1, "the caller's permission is checked with the presigned HEAD"
    # one read of the whole original, and (a WebP streams natively) ranged reads of its chunk headers
    reads = [seen for seen in aws.seen if seen.method == "GET"]
    (role_read,) = [seen for seen in reads if "Range" not in seen.headers]
    for read in reads:
        assert read.host == f"{fx.SUPPORTING_AP_NAME}-{fx.ACCOUNT}.localhost:{aws.port}"
        assert read.headers.get("If-Match") == fx.ORIGINAL_ETAG


def test_head_with_show_exif_gives_the_json_length(handler, origin, aws):
    put_image(origin, "h.jpg", fx.IMAGE_MAKERS["jpeg"]())
    invoke(handler, fx.get_event(origin, "h.jpg", query="showExif=true"))
    json_body = the_write(aws).body
    result = invoke(handler, fx.head_event(origin, "h.jpg", query="showExif=true"))
    assert result["headers"]["Content-Type"] == "application/json"
    assert result["headers"]["Content-Length"] == str(len(json_body))


def test_head_with_range_answers_as_get_would(handler, origin, aws):
    put_image(origin, "h.tif", fx.IMAGE_MAKERS["tiff"]())
    size = len(_full_body(handler, origin, aws, "h.tif"))
    result = invoke(handler, fx.head_event(origin, "h.tif", headers={"Range": "bytes=0-9"}))
    assert result["statusCode"] == 206
    assert result["headers"]["Content-Length"] == "10"
    assert result["headers"]["Content-Range"] == f"bytes 0-9/{size}"


@pytest.mark.parametrize(
    ("resource", "status", "code"),
    [
        (None, 404, "NoSuchKey"),
        (Resource(status=403), 403, "AccessDenied"),
        (Resource(body=b"plain text"), 415, "UnsupportedMediaType"),
    ],
)
def test_head_errors_carry_error_code_and_message(handler, origin, aws, resource, status, code):
    if resource is not None:
        origin.put("e.jpg", resource)
    result = invoke(handler, fx.head_event(origin, "e.jpg"))
    assert aws.writes() == []
    assert result["statusCode"] == status
    assert result["errorCode"] == code
    assert result["errorMessage"]
    assert result["headers"]["Content-Length"] == "0"


def test_head_when_the_role_may_not_read_is_500_not_the_callers_fault(handler, origin, aws):
    put_image(origin, "h.jpg", fx.IMAGE_MAKERS["jpeg"]())
    aws.role_read_status = 403
    result = invoke(handler, fx.head_event(origin, "h.jpg"))
    assert result["statusCode"] == 500
    assert result["errorCode"] == "InternalError"


def test_a_list_event_is_refused_without_a_write(handler, origin, aws):
    event = fx.get_event(origin, "x")
    event["listObjectsV2Context"] = {"inputS3Url": event.pop("getObjectContext")["inputS3Url"]}
    result = invoke(handler, event)
    assert result["statusCode"] == 501
    assert aws.writes() == []


# ---------------------------------------------------------------- logs
def _log_lines(log_stream) -> list[dict]:
    return [json.loads(line) for line in log_stream.getvalue().splitlines() if line.strip()]


def test_one_json_log_line_per_request_without_secrets(load, origin, aws):
    handler, log_stream = load()
    put_image(origin, "log.jpg", fx.IMAGE_MAKERS["jpeg"]())
    invoke(handler, fx.get_event(origin, "log.jpg", request_id="req-log-42"))

    (line,) = _log_lines(log_stream)
    assert line["correlation_id"] == "req-log-42"
    assert line["key"] == "log.jpg"
    assert line["format"] == "jpeg"
    assert line["status"] == 200
    assert line["bytes_in"] == len(fx.IMAGE_MAKERS["jpeg"]())
    assert line["bytes_out"] == len(the_write(aws).body)
    assert line["removed"], "the kinds of metadata removed are listed"
    assert line["kept"] == [], "no picture beyond the primary in this JPEG"
    assert isinstance(line["duration_ms"], float)
    raw = log_stream.getvalue()
    for secret in (SECRET, fx.PRESIGN_SIGNATURE, fx.PRESIGN_SECURITY_TOKEN, fx.OUTPUT_TOKEN, "inputS3Url"):
        assert secret not in raw


def test_the_log_line_says_which_pictures_were_kept(load, origin, aws):
    handler, log_stream = load()
    put_image(origin, "hdr.jpg", gain_map_builders.ultra_hdr())
    invoke(handler, fx.get_event(origin, "hdr.jpg"))

    (line,) = _log_lines(log_stream)
    assert line["status"] == 200
    assert line["kept"] == ["gain map"]
    assert "xmp" in line["removed"]


def test_the_exif_json_path_logs_no_exif_values(load, origin, aws):
    handler, log_stream = load()
    put_image(origin, "log.jpg", fx.IMAGE_MAKERS["jpeg"]())
    invoke(handler, fx.get_event(origin, "log.jpg", query="showExif=true"))
    (line,) = _log_lines(log_stream)
    assert line["response"] == "exif-json"
    raw = log_stream.getvalue()
    for exif_word in (SECRET, "GPS", "latitude", "TestCam", "2024:01:02"):
        assert exif_word not in raw


def test_an_error_is_logged_once_with_its_status(load, origin, aws):
    handler, log_stream = load()
    invoke(handler, fx.get_event(origin, "missing.jpg", request_id="req-404"))
    (line,) = _log_lines(log_stream)
    assert (line["status"], line["error_code"], line["correlation_id"]) == (404, "NoSuchKey", "req-404")
    assert line["level"] == "INFO"


# ---------------------------------------------------------------- settings (cold start)
def test_keep_copyright_reaches_the_core(load, origin, aws):
    handler = load(KEEP_COPYRIGHT="true")[0]
    put_image(origin, "c.jpg", fx.IMAGE_MAKERS["jpeg"]())
    invoke(handler, fx.get_event(origin, "c.jpg"))
    with Image.open(io.BytesIO(the_write(aws).body)) as image:
        assert image.getexif().get(0x8298) == f"{SECRET}-copyright"


@pytest.mark.parametrize(
    ("environment", "variable"),
    [
        ({"EXIF_QUERY": "some"}, "EXIF_QUERY"),
        ({"KEEP_COPYRIGHT": "maybe"}, "KEEP_COPYRIGHT"),
        ({"MAX_INPUT_BYTES": "100MB"}, "MAX_INPUT_BYTES"),
        ({"MAX_INPUT_BYTES": "0"}, "MAX_INPUT_BYTES"),
    ],
)
def test_a_bad_setting_stops_the_cold_start_naming_the_variable(aws, environment, variable):
    with pytest.raises(SettingsError, match=variable):
        fx.load_handler(aws, **environment)


def test_settings_defaults_and_spellings():
    settings = load_settings({})
    assert (settings.exif_query, settings.keep_copyright, settings.max_input_bytes) == ("safe", False, 104857600)
    settings = load_settings({"EXIF_QUERY": "No-GPS", "KEEP_COPYRIGHT": "TRUE", "MAX_INPUT_BYTES": "42"})
    assert (settings.exif_query, settings.keep_copyright, settings.max_input_bytes) == ("safe", True, 42)
    assert load_settings({"EXIF_QUERY": " FULL "}).exif_query == "full"


def test_signed_headers_are_matched_case_insensitively():
    from aws_lambda_powertools.utilities.data_classes.common import CaseInsensitiveDict  # noqa: PLC0415

    url = "https://ap.example/k?X-Amz-SignedHeaders=host%3Bx-amz-expected-bucket-owner"
    headers = CaseInsensitiveDict({"Host": "h", "X-Amz-Expected-Bucket-Owner": "111122223333"})
    assert signed_headers_to_forward(url, headers) == {"x-amz-expected-bucket-owner": "111122223333"}
    assert re.fullmatch(r"[a-z-]+", next(iter(signed_headers_to_forward(url, headers))))


# ---------------------------------------------------------------- streamed WriteGetObjectResponse
def test_a_jpeg_is_streamed_chunked_without_a_length_and_unsigned(handler, origin, aws):
    original = fx.IMAGE_MAKERS["jpeg"]()
    put_image(origin, "s.jpg", original)
    assert invoke(handler, fx.get_event(origin, "s.jpg")) == {"statusCode": 200}
    seen = the_write(aws)
    assert seen.headers["Transfer-Encoding"] == "chunked" and seen.headers["Content-Length"] is None
    assert seen.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert (seen.complete, seen.body) == (True, metadata.clean(original).data)


def test_a_held_format_is_sent_with_its_content_length(handler, origin, aws):
    original = fx.IMAGE_MAKERS["tiff"]()
    put_image(origin, "s.tif", original)
    invoke(handler, fx.get_event(origin, "s.tif"))
    seen = the_write(aws)
    assert seen.headers["Content-Length"] == str(len(metadata.clean(original).data))
    assert seen.body == metadata.clean(original).data


def test_a_failure_after_the_first_byte_fails_the_write_request(handler, origin, aws):
    from stream_builders import BAD_DHT, JpegSource

    source = JpegSource(3 * 1024 * 1024, tail=BAD_DHT + b"\xff\xd9")
    put_image(origin, "cut.jpg", source.whole())
    with pytest.raises(Exception):  # noqa: B017, PT011 - botocore's wrapping of the cut body varies
        invoke(handler, fx.get_event(origin, "cut.jpg"))
    seen = the_write(aws)
    assert seen.complete is False, "the body broke off before its last chunk"
    assert seen.body.startswith(b"\xff\xd8") and len(seen.body) < source.size


def test_a_range_is_answered_from_the_stripped_image(handler, origin, aws):
    original = fx.IMAGE_MAKERS["jpeg"]()
    full = metadata.clean(original).data
    put_image(origin, "r.jpg", original)
    invoke(handler, fx.get_event(origin, "r.jpg", headers={"Range": "bytes=10-19"}))
    seen = the_write(aws)
    assert (fwd(seen, "x-amz-fwd-status"), seen.body) == ("206", full[10:20])
    assert fwd(seen, "x-amz-fwd-header-Content-Range") == "bytes 10-19/*"


def test_head_counts_a_streamed_jpeg_with_its_gain_map_and_no_size_cap(load, origin, aws):
    handler = load(MAX_INPUT_BYTES="1024")[0]  # the cap of formats held whole; a JPEG streams
    original = gain_map_builders.ultra_hdr(primary_size=(320, 240))
    assert len(original) > 1024
    put_image(origin, "hdr.jpg", original)
    result = invoke(handler, fx.head_event(origin, "hdr.jpg"))
    assert result["statusCode"] == 200
    assert result["headers"]["Content-Length"] == str(len(metadata.clean(original).data))
    assert aws.writes() == [], "HEAD is answered by the return value, never WriteGetObjectResponse"
    tiff = fx.IMAGE_MAKERS["tiff"]()
    put_image(origin, "big.tif", tiff)
    assert invoke(handler, fx.head_event(origin, "big.tif"))["statusCode"] == 413
