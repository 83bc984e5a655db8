"""anon-s3ol audit over a folder and over moto's S3 on 127.0.0.1: rows, summary, shapes, bounds, errors."""

from __future__ import annotations

import csv
import http.server
import io
import json
import socket
import threading
from pathlib import Path

import cli_fixtures as cf
from url_fixtures import moto_endpoint
import image_builders as b
import metadata
import pytest

from anon_s3ol import audit, cli
from anon_s3ol.findings import C2PA, OWNER_OR_SERIAL, examine, has_c2pa_manifest
from anon_s3ol.progress import Progress
from anon_s3ol.sources import Entry, Unreadable

BUCKET = "holiday-photos"
ROW_KEYS = {"key", "format", "served", "gps", "found", "removed", "kept", "bytes", "bytes_out"}


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """The corpus in a folder and a subfolder, a PDF, a C2PA-signed JPEG and hidden files."""
    folder = tmp_path_factory.mktemp("Pictures")
    originals = {f"2024/{name}": data for name, data in cf.write_corpus(folder / "2024").items()}
    originals["report.pdf"] = cf.NOT_AN_IMAGE
    originals["signed.jpg"] = cf.jpeg_with_c2pa()
    for key in ("report.pdf", "signed.jpg"):
        (folder / key).write_bytes(originals[key])
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / ".thumbnails").mkdir()
    (folder / ".thumbnails" / "t.jpg").write_bytes(b.jpeg())
    return folder, originals


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def audit_json(capsys, *argv: str) -> dict:
    status, out, err = run(capsys, "audit", *argv, "--json")
    assert status == 0, err
    assert err == "", "no progress bar when stderr is not a terminal"
    return json.loads(out)


def expected_row(key: str, data: bytes) -> dict:
    """What each row must say, from metadata.clean itself."""
    try:
        result = metadata.clean(data)
    except metadata.ImageError as error:
        return {"key": key, "served": False, "reason": str(error)}
    return {"key": key, "format": result.format, "served": True, "removed": list(result.removed), "gps": "gps" in result.removed, "bytes": len(data), "bytes_out": len(result.data)}


def assert_rows(document: dict, originals: dict[str, bytes], prefix: str = "") -> None:
    rows = document["rows"]
    assert [row["key"] for row in rows] == sorted(prefix + key for key in originals), "listing order, hidden files left out"
    for row in rows:
        assert ROW_KEYS <= set(row)
        expected = expected_row(row["key"], originals[row["key"][len(prefix) :]])
        assert {name: row.get(name) for name in expected} == expected
        assert set(row["removed"]) <= set(row["found"])


# ---------------------------------------------------------------- a folder
def test_audit_of_a_folder_as_json(pictures, capsys):
    folder, originals = pictures
    document = audit_json(capsys, str(folder), "--workers", "3")

    assert document["source"] == str(folder)
    assert_rows(document, originals)
    summary = document["summary"]
    served = [data for data in originals.values() if expected_row("", data)["served"]]
    assert summary["files"] == len(originals)
    assert summary["served"] == len(served) == len(originals) - 1
    assert summary["refused"] == 1
    assert summary["formats"] == {"gif": 1, "heif": 2, "jpeg": 3, "jxl": 1, "png": 1, "tiff": 1, "unknown": 1, "webp": 1}
    gps = sum("gps" in metadata.clean(data).removed for data in served)
    assert summary["gps"] == summary["found"]["gps"] == gps
    assert summary["bytes"] == sum(map(len, originals.values()))
    refused = next(row for row in document["rows"] if not row["served"])
    assert refused == {"key": "report.pdf", "format": None, "served": False, "reason": cf.NOT_AN_IMAGE_REASON, "gps": False, "found": [], "removed": [], "kept": [], "bytes": len(cf.NOT_AN_IMAGE), "bytes_out": None}


def test_the_audit_finds_owners_serials_and_c2pa(pictures, capsys):
    folder, _ = pictures
    rows = {row["key"]: row for row in audit_json(capsys, str(folder))["rows"]}
    assert OWNER_OR_SERIAL in rows["2024/everything.jpg"]["found"]  # Artist and BodySerialNumber in its EXIF
    assert C2PA in rows["signed.jpg"]["found"]
    assert C2PA not in rows["2024/everything.jpg"]["found"]
    assert rows["2024/plain.jpg"]["found"] == []


def test_the_audit_table_and_summary(pictures, capsys):
    folder, originals = pictures
    status, out, err = run(capsys, "audit", str(folder))
    assert status == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[len(originals)] == "", "the rows, a blank line, the summary"
    assert lines[0].startswith("2024/everything.jpg: jpeg, served; found ")
    assert f"report.pdf: unknown, refused: {cf.NOT_AN_IMAGE_REASON}; {len(cf.NOT_AN_IMAGE)} bytes" in lines
    assert lines[len(originals) + 1] == f"{len(originals)} files: {len(originals) - 1} served, 1 refused"
    assert lines[len(originals) + 3].startswith("GPS found in ")


def test_the_audit_as_csv(pictures, tmp_path, capsys):
    folder, originals = pictures
    report = tmp_path / "audit.csv"
    status, out, _ = run(capsys, "audit", str(folder), "--csv", str(report))
    assert status == 0
    assert out.startswith(f"{len(originals)} files: ")
    with report.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["key"] for row in rows] == sorted(originals)
    assert list(rows[0]) == ["key", "format", "served", "reason", "gps", "owner_serial", "xmp", "iptc", "thumbnail", "c2pa", "found", "kept", "bytes", "bytes_out"]
    everything = next(row for row in rows if row["key"] == "2024/everything.jpg")
    assert (everything["served"], everything["gps"], everything["xmp"], everything["iptc"], everything["c2pa"]) == ("yes", "yes", "yes", "yes", "no")
    pdf = next(row for row in rows if row["key"] == "report.pdf")
    assert (pdf["served"], pdf["reason"], pdf["bytes_out"]) == ("no", cf.NOT_AN_IMAGE_REASON, "")


def test_one_file_can_be_audited(pictures, capsys):
    folder, originals = pictures
    document = audit_json(capsys, str(folder / "signed.jpg"))
    assert [row["key"] for row in document["rows"]] == ["signed.jpg"]


def test_an_empty_folder_is_an_empty_report(tmp_path, capsys):
    document = audit_json(capsys, str(tmp_path))
    assert document["rows"] == []
    assert document["summary"]["files"] == 0


def test_a_file_over_the_input_limit_is_refused_unread(tmp_path, capsys, monkeypatch):
    (tmp_path / "big.jpg").write_bytes(b.jpeg())
    (tmp_path / "small.png").write_bytes(b.png())
    limit = len(b.png())
    monkeypatch.setattr(audit, "MAX_INPUT_BYTES", limit)
    opened = []
    real_read = audit.FolderSource.read
    monkeypatch.setattr(audit.FolderSource, "read", lambda self, entry, max_bytes: opened.append(entry.key) or real_read(self, entry, max_bytes))

    rows = {row["key"]: row for row in audit_json(capsys, str(tmp_path))["rows"]}

    assert rows["big.jpg"]["served"] is False
    assert rows["big.jpg"]["reason"] == f"larger than the {limit}-byte input limit the service accepts (MaxInputBytes)"
    assert rows["small.png"]["served"] is True
    assert opened == ["small.png"]


# ---------------------------------------------------------------- bounds
class CountingSource:
    """A listing of `count` tiny JPEGs, counting how far it has been pulled."""

    name = "counting"

    def __init__(self, count: int) -> None:
        self.count = count
        self.listed = 0
        self.data = b.jpeg(exif=False, icc=False, comment=False, xmp=False)

    def entries(self):
        for index in range(self.count):
            self.listed += 1
            yield Entry(f"{index:06}.jpg", len(self.data))

    def read(self, entry: Entry, max_bytes: int) -> bytes:
        if entry.key.endswith("3.jpg"):
            raise Unreadable("cannot read: S3 answered AccessDenied")
        return self.data


def test_the_listing_is_pulled_only_a_bounded_window_ahead_and_order_is_kept():
    source = CountingSource(10_000)
    workers = 2
    findings = audit.audited(source, source.entries(), workers=workers, max_bytes=1 << 20)
    first = next(findings)
    assert first.key == "000000.jpg"
    assert source.listed <= audit.WINDOW_PER_WORKER * workers + 1
    keys = [first.key] + [finding.key for _, finding in zip(range(99), findings)]
    assert keys == [f"{index:06}.jpg" for index in range(100)]
    assert source.listed <= 100 + audit.WINDOW_PER_WORKER * workers + 1
    findings.close()


def test_an_unreadable_file_is_a_refused_row_with_the_reason():
    source = CountingSource(5)
    findings = list(audit.audited(source, source.entries(), workers=2, max_bytes=1 << 20))
    assert [finding.served for finding in findings] == [True, True, True, False, True]
    assert findings[3].reason == "cannot read: S3 answered AccessDenied"


def test_the_byte_budget_lets_a_file_over_it_through_alone():
    budget = audit.ByteBudget(100)
    budget.take(60)
    waiter_done = threading.Event()

    def take_more() -> None:
        budget.take(60)
        waiter_done.set()

    thread = threading.Thread(target=take_more)
    thread.start()
    assert not waiter_done.wait(0.2), "60 + 60 is over the budget: it waits"
    budget.give_back(60)
    assert waiter_done.wait(2)
    thread.join()
    budget.give_back(60)
    budget.take(500)  # over the whole budget, alone: goes through
    assert budget.held == 500


def test_the_progress_line_is_drawn_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress(stream)
        progress.update(3, 1, force=True)
        progress.clear()
    assert terminal.getvalue() == "\r\x1b[Kaudited 3 files, 1 refused ...\r\x1b[K"
    assert pipe.getvalue() == ""


def test_c2pa_detection_needs_the_description_label():
    assert has_c2pa_manifest(cf.jpeg_with_c2pa())
    assert not has_c2pa_manifest(b"jumb c2pa but no description box")
    assert not has_c2pa_manifest(b"jumd" + b"\x00" * 17 + b"xmp!")
    assert C2PA not in examine("x.jpg", b.jpeg()).found


# ---------------------------------------------------------------- S3 through moto's server
@pytest.fixture(scope="module")
def bucket(pictures):
    folder, originals = pictures
    with moto_endpoint() as endpoint:
        s3 = cf.s3_admin(endpoint)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for key, data in originals.items():
            s3.put_object(Bucket=BUCKET, Key=f"photos/{key}", Body=data)
        s3.put_object(Bucket=BUCKET, Key="photos/empty-folder/", Body=b"")
        s3.put_object(Bucket=BUCKET, Key="elsewhere/outside.jpg", Body=b.jpeg())
        s3.put_object(Bucket=BUCKET, Key="photos-not-a-folder.jpg", Body=b.jpeg())
        yield endpoint, originals


@pytest.fixture
def aws(bucket, monkeypatch):
    endpoint, _ = bucket
    for name in cf.CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in cf.aws_environment(endpoint).items():
        monkeypatch.setenv(name, value)
    return endpoint


def test_audit_of_a_bucket_prefix(bucket, aws, capsys):
    _, originals = bucket
    document = audit_json(capsys, f"s3://{BUCKET}/photos", "--workers", "4")
    assert document["source"] == f"s3://{BUCKET}/photos/"
    assert_rows(document, originals, prefix="photos/")
    assert document["summary"]["refused"] == 1
    assert document["summary"]["gps"] == audit_json(capsys, f"s3://{BUCKET}/photos/")["summary"]["gps"] > 0


def test_the_console_script_audits_a_bucket_with_aws_endpoint_url(bucket):
    endpoint, originals = bucket
    result = cf.run_script(
        "audit", f"s3://{BUCKET}/photos/2024", "--json", env=cf.aws_environment(endpoint), unset=cf.CREDENTIAL_VARIABLES
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [row["key"] for row in rows] == sorted(f"photos/{key}" for key in originals if key.startswith("2024/"))


def test_an_object_over_the_limit_is_refused_without_a_get(bucket, aws, capsys, monkeypatch):
    monkeypatch.setattr(audit, "MAX_INPUT_BYTES", 10)
    gets = []
    real_client = audit.s3_client

    def counting_client(**kwargs):
        client = real_client(**kwargs)
        client.meta.events.register("before-call.s3.GetObject", lambda **event: gets.append(event))
        return client

    monkeypatch.setattr(audit, "s3_client", counting_client)
    document = audit_json(capsys, f"s3://{BUCKET}/elsewhere")
    assert document["rows"][0]["reason"] == "larger than the 10-byte input limit the service accepts (MaxInputBytes)"
    assert gets == []


def test_a_missing_bucket_is_one_line(aws, capsys):
    status, out, err = run(capsys, "audit", "s3://no-such-bucket-here/photos")
    assert (status, out) == (1, "")
    assert err == "anon-s3ol audit: s3://no-such-bucket-here/photos/: the bucket does not exist (NoSuchBucket)\n"


def test_no_credentials_is_one_line(bucket, monkeypatch, capsys):
    endpoint, _ = bucket
    for name in cf.CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in cf.NO_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    status, _, err = run(capsys, "audit", f"s3://{BUCKET}")
    assert status == 1
    assert err.startswith(f"anon-s3ol audit: s3://{BUCKET}/: no AWS credentials found for listing it (set AWS_PROFILE")
    assert err.count("\n") == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_network_failure_is_not_missing_credentials(aws, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    status, _, err = run(capsys, "audit", f"s3://{BUCKET}")
    assert status == 1
    assert err.startswith(f"anon-s3ol audit: s3://{BUCKET}/: cannot reach S3 for listing it: network failure (EndpointConnectionError")
    assert "credentials" not in err
    assert err.count("\n") == 1


class RefusingS3(http.server.BaseHTTPRequestHandler):
    """Answers every request with the status and S3 error code the server was given."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        status, code = self.server.answer
        body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>refused</Message></Error>'.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "code", "line"),
    [
        (403, "AccessDenied", "access denied listing it (AccessDenied); the command needs s3:ListBucket on the bucket"),
        (403, "InvalidAccessKeyId", "S3 refused the AWS credentials (InvalidAccessKeyId); check AWS_PROFILE or run 'aws configure'"),
    ],
)
def test_access_denied_and_refused_credentials_are_one_line_each(aws, monkeypatch, capsys, status, code, line):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RefusingS3)
    server.answer = (status, code)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
        result, out, err = run(capsys, "audit", f"s3://{BUCKET}/photos", "--json")
    finally:
        server.shutdown()
        server.server_close()
    assert (result, out) == (1, ""), "nothing printed before the listing answered"
    assert err == f"anon-s3ol audit: s3://{BUCKET}/photos/: {line}\n"
