"""anon-s3ol serve over real HTTP on 127.0.0.1: the function URL's replies from a folder or a bucket.

GET, HEAD, Range, 404, ?showExif=true and refusals answer as the deployed function URL does
(the same UrlServer and serve()); nothing outside the folder is ever served.
"""

from __future__ import annotations

import http.client
import io
import json
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import cli_fixtures as cf
from url_fixtures import moto_endpoint
import image_builders as b
import metadata
from stream_builders import JpegSource
import pytest

from anon_s3ol import cli, local_server
from anon_s3ol.local_server import build_local_server
from serving.settings import Settings

BUCKET = "serve-photos"
OUTSIDE_SECRET = "secret.jpg"


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = {name.lower(): value for name, value in response.getheaders()}
        self.body = response.read()

    def error_code(self) -> str:
        return json.loads(self.body)["code"]


def fetch(port: int, path: str, *, method: str = "GET", headers: dict | None = None) -> Answer:
    """`path` exactly as given on the request line (http.client does not normalise it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, headers=headers or {})
        return Answer(connection.getresponse())
    finally:
        connection.close()


class Running:
    def __init__(self, source: str, **settings: object) -> None:
        self.log = io.StringIO()
        self.server = build_local_server(source, port=0, settings=Settings(**settings), err=self.log)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """A folder to serve (the corpus, a subfolder, a PDF, a hidden file, a symlink out) beside a secret."""
    parent = tmp_path_factory.mktemp("site")
    (parent / OUTSIDE_SECRET).write_bytes(b.jpeg())
    root = parent / "photos"
    originals = cf.write_corpus(root)
    (root / "albums" / "été 2024").mkdir(parents=True)
    originals["albums/été 2024/a b+c.png"] = b.png()
    (root / "albums" / "été 2024" / "a b+c.png").write_bytes(originals["albums/été 2024/a b+c.png"])
    (root / "report.pdf").write_bytes(cf.NOT_AN_IMAGE)
    (root / ".hidden.jpg").write_bytes(b.jpeg())
    (root / "link-out.jpg").symlink_to(parent / OUTSIDE_SECRET)
    (root / "link-dir").symlink_to(parent)
    return root, originals


@pytest.fixture(scope="module")
def folder_server(site):
    running = Running(str(site[0]))
    yield running
    running.stop()


def quoted(key: str) -> str:
    from urllib.parse import quote

    return "/" + quote(key)


@pytest.mark.parametrize("name", sorted(cf.CORPUS))
def test_get_answers_the_stripped_image(folder_server, site, name):
    _, originals = site
    answer = fetch(folder_server.port, quoted(name))
    expected = metadata.clean(originals[name])
    assert answer.status == 200
    assert answer.body == expected.data
    assert answer.headers["content-type"] == expected.mime_type
    if name == "photo.tif":  # held whole behind the streaming contract, as deployed: its length is known
        assert answer.headers["content-length"] == str(len(expected.data))
    else:  # stripped as it is read, as deployed: its length is not known at the first byte
        assert (answer.headers["transfer-encoding"], "content-length" in answer.headers) == ("chunked", False)
    assert answer.headers["last-modified"].endswith(" GMT")


def test_a_key_with_spaces_plus_and_accents(folder_server, site):
    _, originals = site
    answer = fetch(folder_server.port, quoted("albums/été 2024/a b+c.png"))
    assert answer.status == 200
    assert answer.body == metadata.strip(originals["albums/été 2024/a b+c.png"])


def test_head_has_the_get_headers_and_no_body(folder_server):
    get = fetch(folder_server.port, "/photo.png")
    head = fetch(folder_server.port, "/photo.png", method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert (head.headers["content-type"], head.headers["content-length"]) == (get.headers["content-type"], str(len(get.body)))


def test_range_is_206_and_past_the_end_416(folder_server, site):
    stripped = metadata.strip(site[1]["photo.webp"])
    part = fetch(folder_server.port, "/photo.webp", headers={"Range": "bytes=4-11"})
    assert part.status == 206
    assert part.body == stripped[4:12]
    assert part.headers["content-range"] == "bytes 4-11/*"  # as deployed: the rest is not stripped, the total not known
    rest = fetch(folder_server.port, "/photo.webp", headers={"Range": "bytes=12-"})
    assert (rest.status, rest.body) == (206, stripped[12:])
    assert rest.headers["content-range"] == f"bytes 12-{len(stripped) - 1}/{len(stripped)}"
    past = fetch(folder_server.port, "/photo.webp", headers={"Range": f"bytes={len(stripped) + 5}-"})
    assert past.status == 416


def test_the_first_bytes_are_sent_before_the_original_is_read_whole(tmp_path, monkeypatch):
    """As deployed, a GET is stripped as it is read: the stripped head reaches the client while the server is
    still reading the rest of the file (here held back until the client has the first bytes)."""
    original = JpegSource(3 * 1024 * 1024).whole()
    (tmp_path / "big.jpg").write_bytes(original)
    expected = metadata.strip(original)
    reading_more, release = threading.Event(), threading.Event()
    read_bytes = []
    open_folder = local_server.folder_opener

    def held_back_opener(root: Path):  # noqa: ANN202
        open_key = open_folder(root)

        def open_held_back(key: str | None):  # noqa: ANN202
            source = open_key(key)

            def read(size: int) -> bytes:
                if read_bytes:  # the first read gave the head: the next waits for the client's first bytes
                    reading_more.set()
                    if not release.wait(20):
                        raise OSError("the client never had the first bytes")
                read_bytes.append(len(part := source.read(size)))
                return part

            return source._replace(read=read)

        return open_held_back

    monkeypatch.setattr(local_server, "folder_opener", held_back_opener)
    running = Running(str(tmp_path))
    connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
    try:
        connection.request("GET", "/big.jpg")
        response = connection.getresponse()
        assert (response.status, response.getheader("Transfer-Encoding")) == (200, "chunked")
        first = response.read(64 * 1024)
        assert reading_more.wait(20), "the server goes on reading the original"
        assert sum(read_bytes) < len(original)
        release.set()
        rest = response.read()
    finally:
        release.set()
        connection.close()
        running.stop()
    assert first == expected[: 64 * 1024]
    assert first + rest == expected
    assert sum(read_bytes) == len(original)


def test_show_exif_answers_the_json_and_full_on_opt_in(folder_server, site, capsys):
    answer = fetch(folder_server.port, "/everything.jpg?showExif=true")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert cli.main(["show", str(site[0] / "everything.jpg")]) == 0
    assert answer.body + b"\n" == capsys.readouterr().out.encode()
    assert "GPS" not in json.loads(answer.body)
    full = Running(str(site[0]), exif_query="full")
    try:
        assert "GPS" in json.loads(fetch(full.port, "/everything.jpg?showExif=true").body)
    finally:
        full.stop()


def test_missing_refused_and_other_methods(folder_server):
    assert fetch(folder_server.port, "/nope.jpg").error_code() == "NoSuchKey"
    assert fetch(folder_server.port, "/").status == 404
    refused = fetch(folder_server.port, "/report.pdf")
    assert (refused.status, refused.error_code()) == (415, "UnsupportedMediaType")
    assert fetch(folder_server.port, "/photo.png", method="DELETE").status == 405


@pytest.mark.parametrize(
    "path",
    [
        f"/../{OUTSIDE_SECRET}",
        f"/%2e%2e/{OUTSIDE_SECRET}",
        f"/%2E%2E%2F{OUTSIDE_SECRET}",
        f"/albums/../../{OUTSIDE_SECRET}",
        f"/albums/%2e%2e/%2e%2e/{OUTSIDE_SECRET}",
        f"//{OUTSIDE_SECRET}",
        f"/..%5C{OUTSIDE_SECRET}",
        "/link-out.jpg",
        f"/link-dir/{OUTSIDE_SECRET}",
        "/.hidden.jpg",
        "/photo.png%00.jpg",
        "/./photo.png",
    ],
)
def test_nothing_outside_the_folder_is_served(folder_server, path):
    answer = fetch(folder_server.port, path)
    assert answer.status == 404
    assert answer.error_code() == "NoSuchKey"


def test_each_request_prints_one_line_with_the_reason_of_a_refusal(site):
    running = Running(str(site[0]))
    try:
        fetch(running.port, "/photo.png")
        fetch(running.port, "/report.pdf")
        deadline = time.monotonic() + 5
        while running.log.getvalue().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        running.stop()
    assert running.log.getvalue().splitlines() == [
        "GET /photo.png -> 200",
        f"GET /report.pdf -> 415 UnsupportedMediaType (ImageError: {cf.NOT_AN_IMAGE_REASON})",
    ]


# ---------------------------------------------------------------- a bucket, through moto's server
@pytest.fixture(scope="module")
def bucket(site):
    _, originals = site
    with moto_endpoint() as endpoint:
        s3 = cf.s3_admin(endpoint)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for key, data in originals.items():
            s3.put_object(Bucket=BUCKET, Key=f"photos/{key}", Body=data, CacheControl="max-age=60")
        s3.put_object(Bucket=BUCKET, Key="private/secret.jpg", Body=b.jpeg())
        yield endpoint


@pytest.fixture
def aws(bucket, monkeypatch):
    for name in cf.CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in cf.aws_environment(bucket).items():
        monkeypatch.setenv(name, value)


def test_a_bucket_prefix_is_served_as_the_function_url_serves_it(aws, site):
    _, originals = site
    running = Running(f"s3://{BUCKET}/photos")
    try:
        image = fetch(running.port, quoted("albums/été 2024/a b+c.png"))
        head = fetch(running.port, "/photo.heic", method="HEAD")
        exif = fetch(running.port, "/everything.jpg?showExif=true")
        outside = fetch(running.port, "/../private/secret.jpg")
        missing = fetch(running.port, "/nope.jpg")
    finally:
        running.stop()
    assert image.status == 200
    assert image.body == metadata.strip(originals["albums/été 2024/a b+c.png"])
    assert image.headers["cache-control"] == "max-age=60"
    assert (head.status, head.body, head.headers["content-type"]) == (200, b"", "image/heic")
    assert exif.status == 200
    assert "Exif" in json.loads(exif.body)
    assert outside.status == 404, "the key stays under the prefix"
    assert missing.error_code() == "NoSuchKey"


def test_serving_a_missing_bucket_is_one_line(aws, capsys):
    assert cli.main(["serve", "s3://no-such-bucket-here", "--port", "1"]) == 1
    assert capsys.readouterr().err == "anon-s3ol serve: s3://no-such-bucket-here/: the bucket does not exist (NoSuchBucket)\n"


# ---------------------------------------------------------------- the console script
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_the_console_script_serves_until_ctrl_c(site):
    port = free_port()
    process = subprocess.Popen(
        [str(cf.CONSOLE_SCRIPT), "serve", str(site[0]), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A test run started in the background by a non-interactive shell ignores SIGINT, and a child
        # inherits that (Python then installs no Ctrl-C handler): give it a terminal's default.
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = fetch(port, "/photo.gif")
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        busy = subprocess.run(
            [str(cf.CONSOLE_SCRIPT), "serve", str(site[0]), "--port", str(port)], capture_output=True, timeout=60, check=False
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # not left serving after the test
            raise
    assert answer.status == 200
    assert answer.body == metadata.strip(site[1]["photo.gif"])
    assert process.returncode == 0
    assert err.decode().splitlines() == [
        f"serving {site[0]} at http://127.0.0.1:{port}/KEY (?showExif=true for the EXIF); Ctrl-C stops",
        "GET /photo.gif -> 200",
    ]
    assert busy.returncode == 1
    assert busy.stderr.decode() == f"anon-s3ol serve: 127.0.0.1:{port}: cannot listen: Address already in use (choose another with --port N)\n"
