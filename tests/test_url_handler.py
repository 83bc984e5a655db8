"""The function-URL handler (buffered): function-URL events in, payload-2.0 responses out.

The image bucket lives in moto (in-process, mock_aws); the handler reads it through its
own boto3 client, as with s3:GetObject in Lambda. Each test checks what CloudFront would
receive: status, headers, the base64 body decoded and parsed again, the JSON error body.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import socket
import threading
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication

import olap_fixtures as fx
import url_fixtures as ux
from olap_fixtures import SECRET
from url_fixtures import BUCKET, CACHE_CONTROL

import metadata
from function_url.bucket_read import s3_client
from function_url.payload_limits import LAMBDA_BUFFERED_RESPONSE_LIMIT_BYTES, ResponseLimit
from function_url.render import buffered_payload_size, render_buffered, render_http
from serving.error_table import ERROR_CODE_PATTERN, error_reply
from serving.errors import InvalidKeyError, MethodNotAllowedError, ResponseTooLargeError
from serving.original import Timeouts
from serving.reply import Reply
from serving.settings import SettingsError

_loaded = itertools.count()


def load_url_handler(**environment: str):  # noqa: ANN201 - (module, log stream)
    """A fresh function_url/handler.py, loaded as on a cold start with `environment`."""
    env = {**ux.ADMIN_ENV, "BUCKET_NAME": BUCKET, "POWERTOOLS_SERVICE_NAME": "exif-transform-url-test", **environment}
    unset = (*fx.SETTING_NAMES, "BUCKET_NAME", "AWS_ENDPOINT_URL")
    return fx.load_cold("function_url/handler.py", env, unset)


@pytest.fixture
def aws():
    """moto's S3 and IAM with the image bucket; yields (admin S3 client, reader credentials)."""
    with mock.patch.dict(os.environ, ux.ADMIN_ENV), mock_aws():
        s3 = boto3.client("s3")
        ux.make_bucket(s3)
        yield s3, ux.reader_credentials(boto3.client("iam"))


@pytest.fixture
def s3(aws):
    return aws[0]


@pytest.fixture
def load(aws):
    """load(**env) -> (module, log stream), reading the bucket as the reader, not the admin."""
    return lambda **environment: load_url_handler(**aws[1].environment(), **environment)


@pytest.fixture
def handler(load):
    return load()[0]


def invoke(module, event: dict) -> dict:
    return module.lambda_handler(event, fx.LambdaContext())


def get(module, key: str, **kwargs: object) -> dict:
    return invoke(module, ux.url_event(ux.canonical_path(key), **kwargs))


def body_of(result: dict) -> bytes:
    if result["isBase64Encoded"]:
        return base64.b64decode(result["body"], validate=True)
    return result["body"].encode()


def assert_error(result: dict, status: int, code: str) -> dict:
    assert result["statusCode"] == status
    assert result["headers"]["Content-Type"] == "application/json"
    assert result["isBase64Encoded"] is False
    error = json.loads(result["body"])
    assert set(error) == {"code", "message"}
    assert error["code"] == code
    assert error["message"] and "\n" not in error["message"]
    return error


# ---------------------------------------------------------------- the image path
@pytest.mark.parametrize("image_format", sorted(fx.IMAGE_MAKERS))
def test_every_format_is_answered_stripped_as_base64(handler, s3, image_format):
    original = fx.IMAGE_MAKERS[image_format]()
    assert fx.leftover_metadata(original), "the test image must carry metadata to begin with"
    key = f"photos/2024/holiday {image_format}.img"
    ux.put(s3, key, original, ContentType="binary/octet-stream")

    result = get(handler, key)

    assert result["statusCode"] == 200
    assert result["isBase64Encoded"] is True
    body = body_of(result)
    assert fx.leftover_metadata(body) == []
    assert fx.pixels(body) == fx.pixels(original)
    headers = result["headers"]
    assert headers["Content-Type"] == fx.MIME_BY_FORMAT[image_format], "from the bytes, not the stored type"
    assert headers["Cache-Control"] == CACHE_CONTROL
    assert headers["Last-Modified"].endswith(" GMT")
    assert not {"ETag", "Content-Length"} & set(headers), "no ETag (the bytes differ); Lambda sets the length"


@pytest.mark.parametrize(
    "key",
    [
        "a b+c.jpg",
        "albums/été 2024/photo (1).jpg",
        "weird/100% & more=yes;@,!'.jpg",
        "percent%2Fnot-a-slash.jpg",
        "~tilde_under-dot.jpg",
    ],
)
def test_the_key_is_the_canonical_path_decoded_once(handler, s3, key):
    ux.put(s3, key, fx.IMAGE_MAKERS["jpeg"]())
    assert get(handler, key)["statusCode"] == 200


def test_a_plus_in_the_path_is_a_plus_not_a_space(handler, s3):
    ux.put(s3, "a+b.jpg", fx.IMAGE_MAKERS["jpeg"]())
    assert invoke(handler, ux.url_event("/a+b.jpg"))["statusCode"] == 200
    assert_error(invoke(handler, ux.url_event("/a%20b.jpg")), 404, "NoSuchKey")


def test_keep_copyright_reaches_the_core(load, s3):
    from PIL import Image  # noqa: PLC0415

    handler = load(KEEP_COPYRIGHT="true")[0]
    ux.put(s3, "c.jpg", fx.IMAGE_MAKERS["jpeg"]())
    with Image.open(io.BytesIO(body_of(get(handler, "c.jpg")))) as image:
        assert image.getexif().get(0x8298) == f"{SECRET}-copyright"


# ---------------------------------------------------------------- showExif
@pytest.mark.parametrize("query", ["showExif=true", "showExif=TRUE", "a=1&showExif=True"])
def test_show_exif_answers_the_safe_view_by_default(handler, s3, query):
    ux.put(s3, "g.jpg", fx.IMAGE_MAKERS["jpeg"]())
    result = get(handler, "g.jpg", query=query)
    assert result["statusCode"] == 200
    assert result["headers"]["Content-Type"] == "application/json"
    assert result["isBase64Encoded"] is False
    exif = json.loads(result["body"])
    assert exif["Image"]["Make"] == "TestCam"
    assert "GPS" not in exif and "Artist" not in exif["Image"]
    assert f"{SECRET}-serial" not in result["body"]


@pytest.mark.parametrize(("exif_query", "gps"), [("no-gps", False), ("full", True)])
def test_show_exif_no_gps_is_safe_and_full_is_everything(load, s3, exif_query, gps):
    handler = load(EXIF_QUERY=exif_query)[0]
    ux.put(s3, "g.jpg", fx.IMAGE_MAKERS["jpeg"]())
    exif = json.loads(get(handler, "g.jpg", query="showExif=true")["body"])
    assert ("GPS" in exif) is gps
    assert ("Artist" in exif["Image"]) is gps
    assert exif["Image"]["Make"] == "TestCam"
    if gps:
        assert exif["GPS"]["latitude"] == pytest.approx(48 + 51 / 60 + 29.88 / 3600)


def test_show_exif_off_serves_the_stripped_image(load, s3):
    handler = load(EXIF_QUERY="off")[0]
    ux.put(s3, "g.jpg", fx.IMAGE_MAKERS["jpeg"]())
    result = get(handler, "g.jpg", query="showExif=true")
    assert result["headers"]["Content-Type"] == "image/jpeg"
    assert fx.leftover_metadata(body_of(result)) == []


@pytest.mark.parametrize("query", ["showExif=false", "showexif=true", "showExif", ""])
def test_other_queries_serve_the_image(handler, s3, query):
    ux.put(s3, "g.jpg", fx.IMAGE_MAKERS["jpeg"]())
    assert get(handler, "g.jpg", query=query)["headers"]["Content-Type"] == "image/jpeg"


# ---------------------------------------------------------------- errors
def test_a_missing_key_is_404_no_such_key(handler, s3):
    error = assert_error(get(handler, "missing.jpg"), 404, "NoSuchKey")
    assert error["message"] == "The object does not exist"


@pytest.mark.parametrize("raw_path", ["/", "", "/%FF%FE.jpg", "/" + "k" * 1025])
def test_a_path_that_names_no_object_is_404_without_calling_s3(handler, raw_path):
    calls = []
    handler.S3().meta.events.register("before-call.s3.GetObject", lambda **kwargs: calls.append(kwargs))
    assert_error(invoke(handler, ux.url_event(raw_path)), 404, "NoSuchKey")
    assert calls == []


def test_an_object_the_role_may_not_read_is_403_access_denied(handler, s3):
    ux.put(s3, f"{ux.DENIED_PREFIX}secret.jpg", fx.IMAGE_MAKERS["jpeg"]())
    ux.put(s3, "public.jpg", fx.IMAGE_MAKERS["jpeg"]())
    with enable_iam_authentication():  # moto now checks the reader's signature and policy
        allowed = get(handler, "public.jpg")
        denied = get(handler, f"{ux.DENIED_PREFIX}secret.jpg")
    assert allowed["statusCode"] == 200, "the reader's credentials work; only its policy refuses"
    assert_error(denied, 403, "AccessDenied")


def test_a_non_image_is_415_with_a_fixed_message(handler, s3):
    ux.put(s3, "notes.jpg", b"%PDF-1.7\n" + b"x" * 100)
    error = assert_error(get(handler, "notes.jpg"), 415, "UnsupportedMediaType")
    assert error["message"] == "The object is not an image the transform can serve"
    assert_error(get(handler, "notes.jpg", query="showExif=true"), 415, "UnsupportedMediaType")


def test_an_original_over_the_size_cap_is_413(load, s3):
    image = fx.IMAGE_MAKERS["png"]()
    ux.put(s3, "big.png", image)
    handler = load(MAX_INPUT_BYTES=str(len(image) - 1))[0]
    assert_error(get(handler, "big.png"), 413, "EntityTooLarge")
    assert get(load(MAX_INPUT_BYTES=str(len(image)))[0], "big.png")["statusCode"] == 200


def test_post_is_405_with_allow(handler, s3):
    ux.put(s3, "g.jpg", fx.IMAGE_MAKERS["jpeg"]())
    result = invoke(handler, ux.url_event("/g.jpg", method="POST"))
    assert_error(result, 405, "MethodNotAllowed")
    assert result["headers"]["Allow"] == "GET, HEAD"


def test_an_unexpected_core_failure_is_500_and_never_the_original(handler, s3, monkeypatch):
    def broken_clean(data, **kwargs):
        raise RuntimeError("core bug")

    monkeypatch.setattr(metadata, "clean", broken_clean)
    ux.put(s3, "bug.jpg", fx.IMAGE_MAKERS["jpeg"]())
    result = get(handler, "bug.jpg")
    assert_error(result, 500, "InternalError")
    assert SECRET not in result["body"]


def test_the_function_url_modes_own_failures_map_to_their_statuses():
    own = {
        InvalidKeyError("the path names no object"): (404, "NoSuchKey"),
        MethodNotAllowedError("PUT"): (405, "MethodNotAllowed"),
        ResponseTooLargeError(7_000_000, 6_291_456, "deploy with StreamingResponses=true"): (413, "EntityTooLarge"),
    }
    for error, (status, code) in own.items():
        reply = error_reply(error)
        assert (reply.status, reply.error_code) == (status, code)
        assert ERROR_CODE_PATTERN.match(reply.error_code) and reply.body is None


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _silent_server() -> tuple[socket.socket, int]:
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    return listener, listener.getsockname()[1]


def _client_for(port: int):  # noqa: ANN202 - a botocore S3 client with short timeouts
    with mock.patch.dict(os.environ, {**ux.ADMIN_ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}):
        return s3_client(Timeouts(socket_seconds=0.5, total_seconds=1.0))


def test_s3_unreachable_is_502_and_silent_is_504():
    handler = load_url_handler()[0]
    handler.S3 = _client_for(_closed_port())
    assert_error(get(handler, "a.jpg"), 502, "BadGateway")

    listener, port = _silent_server()
    with listener:
        handler.S3 = _client_for(port)
        assert_error(get(handler, "a.jpg"), 504, "GatewayTimeout")


# ---------------------------------------------------------------- Range
def _full(handler, s3, key: str) -> bytes:
    ux.put(s3, key, fx.IMAGE_MAKERS["png"]())
    return body_of(get(handler, key))


@pytest.mark.parametrize(
    ("spec", "first_last"),
    [
        ("bytes=0-99", lambda size: (0, 99)),
        ("bytes=100-", lambda size: (100, size - 1)),
        ("bytes=-50", lambda size: (size - 50, size - 1)),
    ],
)
def test_range_is_206_cut_from_the_stripped_image(handler, s3, spec, first_last):
    full = _full(handler, s3, "r.png")
    first, last = first_last(len(full))
    result = get(handler, "r.png", headers={"range": spec})
    assert result["statusCode"] == 206
    assert body_of(result) == full[first : last + 1]
    assert result["headers"]["Content-Range"] == f"bytes {first}-{last}/{len(full)}"


def test_range_as_a_query_parameter_is_honoured(handler, s3):
    full = _full(handler, s3, "r.png")
    result = get(handler, "r.png", query="range=bytes%3D0-9")
    assert (result["statusCode"], body_of(result)) == (206, full[:10])


def test_unsatisfiable_range_is_416_with_the_size(handler, s3):
    full = _full(handler, s3, "r.png")
    result = get(handler, "r.png", headers={"range": f"bytes={len(full)}-"})
    assert_error(result, 416, "InvalidRange")
    assert result["headers"]["Content-Range"] == f"bytes */{len(full)}"


# ---------------------------------------------------------------- HEAD
def test_head_agrees_with_get_and_carries_the_length_for_lambda_to_remap(handler, s3):
    ux.put(s3, "h.webp", fx.IMAGE_MAKERS["webp"]())
    got = get(handler, "h.webp")
    head = get(handler, "h.webp", method="HEAD")
    assert head["statusCode"] == got["statusCode"] == 200
    assert (head["body"], head["isBase64Encoded"]) == ("", False)
    assert head["headers"]["Content-Length"] == str(len(body_of(got)))
    assert {k: v for k, v in head["headers"].items() if k != "Content-Length"} == got["headers"]


@pytest.mark.parametrize(("key", "status"), [("missing.jpg", 404), ("text.jpg", 415)])
def test_head_errors_have_the_get_status_and_no_body(handler, s3, key, status):
    ux.put(s3, "text.jpg", b"plain text")
    head = get(handler, key, method="HEAD")
    assert head["statusCode"] == status
    assert head["body"] == ""
    assert int(head["headers"]["Content-Length"]) == len(get(handler, key)["body"])


def test_head_with_show_exif_gives_the_json_length(handler, s3):
    ux.put(s3, "g.jpg", fx.IMAGE_MAKERS["jpeg"]())
    length = len(get(handler, "g.jpg", query="showExif=true")["body"].encode())
    head = get(handler, "g.jpg", query="showExif=true", method="HEAD")
    assert head["headers"]["Content-Length"] == str(length)


# ---------------------------------------------------------------- the buffered limit
def test_an_image_whose_base64_passes_6_mb_is_413_naming_streaming_responses(handler, s3):
    big = ux.noisy_png(1300, 1300)  # about 5.1 MB: stripped and base64-encoded, over 6 MiB
    ux.put(s3, "big.png", big)
    assert 4 * len(big) // 3 > LAMBDA_BUFFERED_RESPONSE_LIMIT_BYTES > len(big)

    result = get(handler, "big.png")

    error = assert_error(result, 413, "EntityTooLarge")
    assert error["message"] == (
        "The response is larger than this deployment can send; deploy with StreamingResponses=true to serve it"
    )
    assert len(json.dumps(result)) < 1000, "no part of the image rides along"
    head = get(handler, "big.png", method="HEAD")
    assert head["statusCode"] == 413, "HEAD agrees with GET"
    ranged = get(handler, "big.png", headers={"range": "bytes=0-1023"})
    assert (ranged["statusCode"], len(body_of(ranged))) == (206, 1024), "a range that fits is served"


def test_the_limit_counts_the_exact_json_lambda_sends(handler, s3, monkeypatch):
    ux.put(s3, "p.png", fx.IMAGE_MAKERS["png"]())
    served = get(handler, "p.png")
    exact = len(json.dumps(served, ensure_ascii=False).encode())
    monkeypatch.setattr(handler, "BUFFERED_LIMIT", ResponseLimit(exact, "advice"))
    assert get(handler, "p.png")["statusCode"] == 200
    monkeypatch.setattr(handler, "BUFFERED_LIMIT", ResponseLimit(exact - 1, "advice"))
    assert_error(get(handler, "p.png"), 413, "EntityTooLarge")


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, body=bytes(range(256)) * 7 + b"x", content_type="image/png", cache_control="max-age=1"),
        Reply(200, body='{"Image":{"Artist":"Zoë \\"q\\"\\u00e9"}}'.encode(), content_type="application/json"),
        Reply(206, body=b"ab", content_type="image/gif", content_range="bytes 0-1/9"),
        Reply(404, error_code="NoSuchKey", error_message="The object does not exist"),
        Reply(304),
    ],
)
def test_buffered_payload_size_is_exactly_the_serialised_result(reply):
    response = render_http(reply)
    serialised = json.dumps(render_buffered(response, head=False), ensure_ascii=False).encode()
    assert buffered_payload_size(response) == len(serialised)


# ---------------------------------------------------------------- logs and settings
def test_one_json_log_line_per_request_without_secrets(load, s3):
    handler, log_stream = load()
    ux.put(s3, "log.jpg", fx.IMAGE_MAKERS["jpeg"]())
    result = get(handler, "log.jpg", request_id="req-url-42")
    get(handler, "log.jpg", query="showExif=true", request_id="req-url-43")

    first, second = ux.json_lines(log_stream.getvalue())
    assert first["correlation_id"] == "req-url-42"
    assert (first["operation"], first["key"], first["status"], first["format"]) == ("GET", "log.jpg", 200, "jpeg")
    assert first["bytes_out"] == len(body_of(result))
    assert first["removed"]
    assert second["response"] == "exif-json"
    raw = log_stream.getvalue()
    for leak in (SECRET, "TestCam", "latitude", "2024:01:02", result["body"][:40], "AKIA", "ASIA"):
        assert leak not in raw


def test_an_error_is_logged_once_with_its_status(load, s3):
    handler, log_stream = load()
    get(handler, "missing.jpg", request_id="req-404")
    (line,) = ux.json_lines(log_stream.getvalue())
    assert (line["status"], line["error_code"], line["correlation_id"]) == (404, "NoSuchKey", "req-404")
    assert line["level"] == "INFO"


@pytest.mark.parametrize(
    ("environment", "variable"),
    [({"BUCKET_NAME": ""}, "BUCKET_NAME"), ({"EXIF_QUERY": "some"}, "EXIF_QUERY"), ({"MAX_INPUT_BYTES": "0"}, "MAX_INPUT_BYTES")],
)
def test_a_bad_setting_stops_the_cold_start_naming_the_variable(environment, variable):
    with pytest.raises(SettingsError, match=variable):
        load_url_handler(**environment)
