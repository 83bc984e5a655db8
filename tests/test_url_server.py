"""The streaming mode's HTTP server over real HTTP on 127.0.0.1, with moto's S3 server behind it.

The server is what Lambda Web Adapter forwards each function-URL request to: the same
paths and answers as the buffered handler, the body streamed, up to Lambda's streaming
limit instead of 6 MiB. run.sh, the handler script the adapter starts, is run for real.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from unittest import mock

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication

import olap_fixtures as fx
import url_fixtures as ux
from olap_fixtures import SECRET
from url_fixtures import BUCKET, CACHE_CONTROL

from function_url import server as url_server
from function_url.payload_limits import LAMBDA_BUFFERED_RESPONSE_LIMIT_BYTES, ResponseLimit

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


# ---------------------------------------------------------------- moto's S3, real HTTP
@pytest.fixture(scope="module")
def moto():
    with ux.moto_endpoint() as endpoint:
        with mock.patch.dict(os.environ, ux.ADMIN_ENV):
            s3 = boto3.session.Session().client("s3", endpoint_url=endpoint)
            ux.make_bucket(s3)
            reader = ux.reader_credentials(boto3.session.Session().client("iam", endpoint_url=endpoint))
        yield endpoint, s3, reader


@pytest.fixture(scope="module")
def s3(moto):
    return moto[1]


class Running:
    """A url_server on 127.0.0.1 in a thread, and the log lines it writes."""

    started = itertools.count()

    def __init__(self, endpoint: str, reader: ux.Credentials, **environment: str) -> None:
        env = {
            **ux.ADMIN_ENV,
            **reader.environment(),
            "AWS_ENDPOINT_URL": endpoint,
            "BUCKET_NAME": BUCKET,
            # Powertools loggers of one service share a handler: one service per server.
            "POWERTOOLS_SERVICE_NAME": f"exif-transform-url-server-{next(Running.started)}",
            **environment,
        }
        with mock.patch.dict(os.environ, env):
            self.server = url_server.build_server(os.environ, port=0)
        self.port = self.server.server_address[1]
        self.log = io.StringIO()
        self.server.logger.registered_handler.setStream(self.log)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def lines_for(self, key: str, seconds: float = 5.0) -> list[dict]:
        """The log lines about `key`. The server logs after sending, so wait for them a moment."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = [line for line in ux.json_lines(self.log.getvalue()) if line.get("key") == key]
            if found:
                time.sleep(0.05)  # room for a second line, which would be a bug
                return [line for line in ux.json_lines(self.log.getvalue()) if line.get("key") == key]
            time.sleep(0.01)
        return []


_running: dict[tuple, Running] = {}


@pytest.fixture(scope="module")
def start(moto):
    """start(**env) -> Running; one server per environment, stopped with the module."""

    def _start(**environment: str) -> Running:
        cache_key = tuple(sorted(environment.items()))
        if cache_key not in _running:
            _running[cache_key] = Running(moto[0], moto[2], **environment)
        running = _running[cache_key]
        running.log.seek(0)
        running.log.truncate()
        return running

    yield _start
    for running in _running.values():
        running.stop()
    _running.clear()


@pytest.fixture
def server(start):
    return start()


class Answer:
    def __init__(self, response: http.client.HTTPResponse, body: bytes) -> None:
        self.status = response.status
        self.headers = {name.lower(): value for name, value in response.getheaders()}
        self.body = body

    def error(self) -> dict:
        assert self.headers["content-type"] == "application/json"
        error = json.loads(self.body)
        assert set(error) == {"code", "message"}
        return error


def fetch(server: Running, path: str, *, method: str = "GET", headers: dict | None = None) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return Answer(response, response.read())
    finally:
        connection.close()


def get(server: Running, key: str, query: str = "", **kwargs: object) -> Answer:
    return fetch(server, ux.canonical_path(key) + (f"?{query}" if query else ""), **kwargs)


def assert_error(answer: Answer, status: int, code: str) -> dict:
    assert answer.status == status
    error = answer.error()
    assert error["code"] == code
    assert error["message"] and "\n" not in error["message"]
    assert answer.headers["content-length"] == str(len(answer.body))
    return error


# ---------------------------------------------------------------- the image path
@pytest.mark.parametrize("image_format", sorted(fx.IMAGE_MAKERS))
def test_every_format_is_streamed_stripped(server, s3, image_format):
    original = fx.IMAGE_MAKERS[image_format]()
    key = f"photos/2024/holiday {image_format}.img"
    ux.put(s3, key, original, ContentType="binary/octet-stream")

    answer = get(server, key)

    assert answer.status == 200
    assert fx.leftover_metadata(answer.body) == []
    assert fx.pixels(answer.body) == fx.pixels(original)
    assert answer.headers["content-type"] == fx.MIME_BY_FORMAT[image_format]
    if image_format in ("jpeg", "gif", "png", "webp", "heif", "jxl"):  # stripped as it arrives: its length is not known at the first byte
        assert (answer.headers["transfer-encoding"], "content-length" in answer.headers) == ("chunked", False)
    else:  # held whole behind the streaming contract: its length is known
        assert answer.headers["content-length"] == str(len(answer.body))
    assert answer.headers["cache-control"] == CACHE_CONTROL
    assert answer.headers["last-modified"].endswith(" GMT")
    assert "etag" not in answer.headers
    assert "server" not in answer.headers, "no software banner"


@pytest.mark.parametrize("key", ["a b+c.jpg", "albums/été 2024/photo (1).jpg", "weird/100% & more=yes;@,!'.jpg"])
def test_the_key_is_the_canonical_path_decoded_once(server, s3, key):
    ux.put(s3, key, fx.IMAGE_MAKERS["jpeg"]())
    assert get(server, key).status == 200


def test_a_plus_in_the_path_is_a_plus_not_a_space(server, s3):
    ux.put(s3, "a+b.jpg", fx.IMAGE_MAKERS["jpeg"]())
    assert fetch(server, "/a+b.jpg").status == 200
    assert_error(fetch(server, "/a%20b.jpg"), 404, "NoSuchKey")


# ---------------------------------------------------------------- showExif
def test_show_exif_answers_the_safe_view_by_default_and_full_on_opt_in(server, start, s3):
    ux.put(s3, "g.jpg", fx.IMAGE_MAKERS["jpeg"]())
    answer = get(server, "g.jpg", "showExif=TRUE")
    assert answer.headers["content-type"] == "application/json"
    assert "GPS" not in json.loads(answer.body)
    full = json.loads(get(start(EXIF_QUERY="full"), "g.jpg", "showExif=true").body)
    assert full["GPS"]["longitude"] == pytest.approx(2 + 17 / 60 + 40.2 / 3600)


def test_show_exif_no_gps_and_off(start, s3):
    ux.put(s3, "g.jpg", fx.IMAGE_MAKERS["jpeg"]())
    exif = json.loads(get(start(EXIF_QUERY="no-gps"), "g.jpg", "showExif=true").body)
    assert "GPS" not in exif
    assert exif["Image"]["Make"] == "TestCam"
    off = get(start(EXIF_QUERY="off"), "g.jpg", "showExif=true")
    assert off.headers["content-type"] == "image/jpeg"
    assert fx.leftover_metadata(off.body) == []


# ---------------------------------------------------------------- errors
def test_a_missing_key_and_an_empty_path_are_404(server):
    assert_error(get(server, "missing.jpg"), 404, "NoSuchKey")
    assert_error(fetch(server, "/"), 404, "NoSuchKey")
    assert_error(fetch(server, "/?showExif=true"), 404, "NoSuchKey")


def test_an_object_the_role_may_not_read_is_403(server, s3):
    ux.put(s3, f"{ux.DENIED_PREFIX}secret.jpg", fx.IMAGE_MAKERS["jpeg"]())
    ux.put(s3, "public.jpg", fx.IMAGE_MAKERS["jpeg"]())
    with enable_iam_authentication():
        allowed = get(server, "public.jpg")
        denied = get(server, f"{ux.DENIED_PREFIX}secret.jpg")
    assert allowed.status == 200, "the reader's credentials work; only its policy refuses"
    assert_error(denied, 403, "AccessDenied")


def test_a_non_image_is_415(server, s3):
    ux.put(s3, "notes.jpg", b"just some text")
    assert_error(get(server, "notes.jpg"), 415, "UnsupportedMediaType")


def test_an_original_over_the_size_cap_is_413(start, s3):
    image = fx.IMAGE_MAKERS["tiff"]()  # a format held whole
    ux.put(s3, "cap.tif", image)
    assert_error(get(start(MAX_INPUT_BYTES=str(len(image) - 1)), "cap.tif"), 413, "EntityTooLarge")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_are_405_with_allow(server, method):
    answer = fetch(server, "/g.jpg", method=method, headers={"Content-Length": "0"})
    assert_error(answer, 405, "MethodNotAllowed")
    assert answer.headers["allow"] == "GET, HEAD"


def test_s3_unreachable_is_502(moto):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    running = Running(f"http://127.0.0.1:{closed}", moto[2])
    try:
        assert_error(get(running, "a.jpg"), 502, "BadGateway")
    finally:
        running.stop()


# ---------------------------------------------------------------- Range and HEAD
def test_range_is_206_and_past_the_end_is_416(server, s3):
    ux.put(s3, "r.tif", fx.IMAGE_MAKERS["tiff"]())  # held whole: its length is known
    full = get(server, "r.tif").body
    ranged = get(server, "r.tif", headers={"Range": "bytes=10-19"})
    assert (ranged.status, ranged.body) == (206, full[10:20])
    assert ranged.headers["content-range"] == f"bytes 10-19/{len(full)}"
    assert get(server, "r.tif", "range=bytes%3D-5").body == full[-5:]
    past = get(server, "r.tif", headers={"Range": f"bytes={len(full)}-"})
    assert_error(past, 416, "InvalidRange")
    assert past.headers["content-range"] == f"bytes */{len(full)}"


def test_head_has_the_get_status_and_headers_without_a_body(server, s3):
    ux.put(s3, "h.gif", fx.IMAGE_MAKERS["tiff"]())  # held whole: the GET sends its Content-Length too
    got = get(server, "h.gif")
    head = get(server, "h.gif", method="HEAD")
    assert head.status == got.status == 200
    assert head.body == b""
    assert {k: v for k, v in head.headers.items() if k != "date"} == {
        k: v for k, v in got.headers.items() if k != "date"
    }
    assert int(head.headers["content-length"]) == len(got.body)
    missing = get(server, "missing.gif", method="HEAD")
    assert (missing.status, missing.body) == (404, b"")


def test_head_sends_no_body_bytes_on_the_wire(server, s3):
    ux.put(s3, "w.png", fx.IMAGE_MAKERS["png"]())
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(b"HEAD /w.png HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        received = b"".join(iter(lambda: connection.recv(65536), b""))
    head, _, after = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"Content-Length: " in head
    assert after == b"", "a HEAD answer ends with its headers"


# ---------------------------------------------------------------- large responses
def test_an_image_too_large_for_buffered_mode_is_served_whole(server, s3):
    big = ux.noisy_png(1300, 1300)
    assert 4 * len(big) // 3 > LAMBDA_BUFFERED_RESPONSE_LIMIT_BYTES
    ux.put(s3, "big.png", big)
    answer = get(server, "big.png")
    assert answer.status == 200
    assert fx.leftover_metadata(answer.body) == []
    assert fx.pixels(answer.body) == fx.pixels(big)


def test_a_20_mb_image_is_streamed_whole_and_stripped(server, s3):
    big = ux.noisy_png(2600, 2600)  # about 20.3 MB of incompressible pixels
    assert len(big) > 20_000_000
    assert SECRET.encode() in big
    ux.put(s3, "huge.png", big)

    answer = get(server, "huge.png")

    assert answer.status == 200
    assert (answer.headers["transfer-encoding"], len(answer.body) > 20_000_000) == ("chunked", True)  # streamed
    assert SECRET.encode() not in answer.body
    assert fx.leftover_metadata(answer.body) == []
    assert fx.pixels(answer.body) == fx.pixels(big)
    (line,) = server.lines_for("huge.png")
    assert (line["bytes_in"], line["bytes_out"]) == (len(big), len(answer.body))


def test_past_the_streaming_limit_is_413(server, s3, monkeypatch):
    ux.put(s3, "p.png", fx.IMAGE_MAKERS["png"]())
    size = len(get(server, "p.png").body)
    monkeypatch.setattr(url_server, "STREAMED_LIMIT", ResponseLimit(size - 1, "no Lambda response can be larger"))
    error = assert_error(get(server, "p.png"), 413, "EntityTooLarge")
    assert error["message"] == "The response is larger than this deployment can send; no Lambda response can be larger"
    monkeypatch.setattr(url_server, "STREAMED_LIMIT", ResponseLimit(size, "no Lambda response can be larger"))
    assert get(server, "p.png").status == 200


# ---------------------------------------------------------------- connections and logs
def test_keep_alive_and_an_idle_connection_do_not_block_the_next(server, s3):
    ux.put(s3, "k.jpg", fx.IMAGE_MAKERS["jpeg"]())
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for _ in range(2):  # two requests on one connection, as the adapter's pool sends them
            idle.request("GET", "/k.jpg")
            response = idle.getresponse()
            assert (response.status, response.will_close) == (200, False)
            response.read()
        assert get(server, "k.jpg").status == 200, "a second connection is served while the first idles"
    finally:
        idle.close()


def test_one_json_log_line_per_request_with_the_function_urls_request_id(server, s3):
    ux.put(s3, "log.jpg", fx.IMAGE_MAKERS["jpeg"]())
    context = json.dumps({"requestId": "req-stream-7", "http": {"method": "GET"}})
    answer = get(server, "log.jpg", "showExif=true", headers={"x-amzn-request-context": context})
    (line,) = server.lines_for("log.jpg")
    assert (line["correlation_id"], line["status"]) == ("req-stream-7", 200)
    assert line["response"] == "exif-json"
    raw = server.log.getvalue()
    for leak in (SECRET, "TestCam", "latitude", answer.body[:30].decode()):
        assert leak not in raw


# ---------------------------------------------------------------- run.sh, as Lambda Web Adapter starts it
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "run.sh exited early"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    pytest.fail("run.sh's server did not listen in time")


def test_run_sh_starts_the_server_on_aws_lwa_port(moto, s3, tmp_path):
    endpoint, _, reader = moto
    ux.put(s3, "run.jpg", fx.IMAGE_MAKERS["jpeg"]())
    port = _free_port()
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "LAMBDA_TASK_ROOT": str(fx.FUNCTION_DIR),
        "AWS_LWA_PORT": str(port),
        "BUCKET_NAME": BUCKET,
        "AWS_ENDPOINT_URL": endpoint,
        "POWERTOOLS_SERVICE_NAME": "exif-transform-run-sh",
        **ux.ADMIN_ENV,
        **reader.environment(),
    }
    process = subprocess.Popen(  # noqa: S603 - the script under test, run as the adapter runs it
        [str(fx.FUNCTION_DIR / "function_url" / "run.sh")], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    stdout_lines: list[bytes] = []
    reader = threading.Thread(target=lambda: stdout_lines.extend(iter(process.stdout.readline, b"")), daemon=True)
    reader.start()
    try:
        _wait_for_port(port, process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/run.jpg") as response:
            body = response.read()
        head = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/run.jpg", method="HEAD"))
        head.close()
        deadline = time.monotonic() + 5
        while len(stdout_lines) < 2 and time.monotonic() < deadline:  # logged after each answer is sent
            time.sleep(0.01)
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=5)
        stderr = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert fx.leftover_metadata(body) == []
    assert head.headers["Content-Length"] == str(len(body))
    assert stderr == b"", "no per-request noise on stderr"
    lines = ux.json_lines(b"".join(stdout_lines).decode())
    assert [(line["operation"], line["status"]) for line in lines] == [("GET", 200), ("HEAD", 200)]


@pytest.mark.parametrize(
    ("environment", "variable"),
    [({"BUCKET_NAME": ""}, "BUCKET_NAME"), ({"EXIF_QUERY": "maybe"}, "EXIF_QUERY"), ({"AWS_LWA_PORT": "http"}, "AWS_LWA_PORT")],
)
def test_a_bad_setting_exits_1_naming_the_variable(environment, variable):
    env = {**ux.ADMIN_ENV, "PATH": os.environ.get("PATH", ""), "BUCKET_NAME": BUCKET, **environment}
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "function_url.server"],
        cwd=fx.FUNCTION_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith("function_url.server: ")
    assert variable in completed.stderr
    assert len(completed.stderr.splitlines()) == 1


# ---------------------------------------------------------------- streamed as it is stripped
def test_a_failure_after_the_first_byte_cuts_the_chunked_stream(server, s3):
    from stream_builders import BAD_DHT, JpegSource

    source = JpegSource(3 * 1024 * 1024, tail=BAD_DHT + b"\xff\xd9")
    ux.put(s3, "cut.jpg", source.whole())
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(b"GET /cut.jpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b"".join(iter(lambda: connection.recv(1 << 20), b""))  # until the server closes
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"Transfer-Encoding: chunked" in head and b"Content-Length" not in head
    assert len(body) > 1024 * 1024, "the image had begun"
    assert not body.endswith(b"0\r\n\r\n"), "no last chunk: the response is cut short, never complete"
    (line,) = server.lines_for("cut.jpg")
    assert line["cut"] is True and "bad table spec" in line["error"]
    with pytest.raises(http.client.IncompleteRead):
        get(server, "cut.jpg")


def test_a_range_of_a_streamed_jpeg_is_206_from_the_stripped_image(server, s3):
    original = fx.IMAGE_MAKERS["jpeg"]()
    ux.put(s3, "range.jpg", original)
    full = get(server, "range.jpg").body
    ranged = get(server, "range.jpg", headers={"Range": "bytes=10-19"})
    assert (ranged.status, ranged.body) == (206, full[10:20])
    assert ranged.headers["content-range"] == "bytes 10-19/*"  # the total is not known yet
    rest = get(server, "range.jpg", headers={"Range": "bytes=20-"})
    assert (rest.body, rest.headers["content-range"]) == (full[20:], f"bytes 20-{len(full) - 1}/{len(full)}")
    assert_error(get(server, "range.jpg", headers={"Range": f"bytes={len(full)}-"}), 416, "InvalidRange")


def test_head_of_a_streamed_jpeg_has_the_length_the_get_sends(server, s3):
    ux.put(s3, "h.jpg", fx.IMAGE_MAKERS["jpeg"]())
    got = get(server, "h.jpg")
    head = get(server, "h.jpg", method="HEAD")
    assert (head.status, head.body) == (200, b"")
    assert int(head.headers["content-length"]) == len(got.body)
    assert head.headers["content-type"] == "image/jpeg"
