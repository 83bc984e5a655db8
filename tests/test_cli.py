"""anon-s3ol's command line: --help, usage errors, one-line errors, and the strip and show commands.

strip must write exactly metadata.strip's bytes (what a viewer gets) and show exactly the
body the function-URL handler answers to ?showExif=true. A few tests run the installed
console script (.venv/bin/anon-s3ol, installed by make); the rest call main(argv).
"""

from __future__ import annotations

import json
from email.message import Message
from pathlib import Path

import cli_fixtures as cf
import image_builders as b
import metadata
import pytest
import url_fixtures as ux

from anon_s3ol import cli
from function_url.payload_limits import BUFFERED_LIMIT
from function_url.render import buffered_payload_size, render_buffered
from function_url.request import parse_event
from function_url.serve import serve
from serving.original import Original
from serving.settings import Settings

SUBCOMMANDS = ("strip", "show", "audit", "serve", "invalidate")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    folder = tmp_path_factory.mktemp("corpus")
    return folder, cf.write_corpus(folder)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ---------------------------------------------------------------- the console script, --help, usage
def test_make_installs_the_console_script():
    assert cf.CONSOLE_SCRIPT.is_file(), "run make: it installs .venv/bin/anon-s3ol"
    result = cf.run_script("--help")
    assert result.returncode == 0
    for command in SUBCOMMANDS:
        assert command in result.stdout.decode()


def test_the_help_names_every_exit_code(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0 done; 1 a file was refused (strip), a task could not audit its object" in out
    assert "2 usage; 130 interrupted." in out


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: anon-s3ol {command}")


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["strip", "a.jpg"], "the following arguments are required: --out"),
        (["show", "a.jpg", "--view", "everything"], "invalid choice: 'everything'"),
        (["audit", ".", "--json", "--csv", "x.csv"], "not allowed with argument"),
        (["audit", ".", "--workers", "0"], "expected a whole number from 1 to 64"),
        (["serve", ".", "--port", "70000"], "expected a whole number from 1 to 65535"),
        (["invalidate", "a.jpg"], "the following arguments are required: --region"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_with_the_reason(argv, complaint, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert complaint in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["show", "/nonexistent/a.jpg"], "anon-s3ol show: /nonexistent/a.jpg: refused: cannot read: no such file"),
        (["audit", "/nonexistent/folder"], "anon-s3ol audit: /nonexistent/folder: no such file or folder"),
        (["serve", "/nonexistent/folder", "--port", "1"], "anon-s3ol serve: /nonexistent/folder: not a folder"),
        (["audit", "s3://"], "anon-s3ol audit: s3://: no bucket named; expected s3://BUCKET[/PREFIX]"),
    ],
)
def test_errors_are_one_line_on_stderr_with_exit_1_and_no_traceback(argv, line):
    result = cf.run_script(*argv)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode() == line + "\n"


# ---------------------------------------------------------------- strip
def test_strip_writes_exactly_the_bytes_a_viewer_gets_for_every_format(corpus, tmp_path):
    folder, originals = corpus
    out = tmp_path / "out"
    result = cf.run_script("strip", *(str(folder / name) for name in originals), "--out", str(out))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == len(originals)
    for name, original in originals.items():
        expected = metadata.clean(original)
        assert (out / name).read_bytes() == metadata.strip(original)
        line = next(line for line in lines if line.startswith(f"{folder / name}: "))
        removed = ", ".join(expected.removed) if expected.removed else "nothing"
        assert line == f"{folder / name}: {expected.format}, removed {removed}; {len(original)} -> {len(expected.data)} bytes"
    assert sorted(path.name for path in out.iterdir()) == sorted(originals), "no temporary file left behind"


def test_strip_names_what_it_removed(tmp_path, capsys):
    photo = tmp_path / "in" / "gps.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b.jpeg())
    status, out, _ = run(capsys, "strip", str(photo), "--out", str(tmp_path / "out"))
    assert status == 0
    assert out.startswith(f"{photo}: jpeg, removed comment, exif, gps, ")
    assert b.SECRET not in (tmp_path / "out" / "gps.jpg").read_bytes()


def test_strip_keep_copyright_keeps_what_the_lambda_keeps(tmp_path, capsys):
    photo = tmp_path / "in" / "signed.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b.jpeg())
    status, _, _ = run(capsys, "strip", str(photo), "--out", str(tmp_path / "out"), "--keep-copyright")
    assert status == 0
    written = (tmp_path / "out" / "signed.jpg").read_bytes()
    assert written == metadata.strip(photo.read_bytes(), keep_copyright=True)
    assert b.OWNER_COPYRIGHT in written


def test_a_refused_file_is_reported_with_its_reason_and_exit_1_the_rest_written(tmp_path, capsys):
    good, bad = tmp_path / "in" / "good.png", tmp_path / "in" / "report.pdf"
    good.parent.mkdir()
    good.write_bytes(b.png())
    bad.write_bytes(cf.NOT_AN_IMAGE)
    status, out, err = run(capsys, "strip", str(bad), str(good), "--out", str(tmp_path / "out"))
    assert status == 1
    assert err == ""
    assert f"{bad}: refused: {cf.NOT_AN_IMAGE_REASON}\n" in out
    assert (tmp_path / "out" / "good.png").read_bytes() == metadata.strip(b.png())
    assert not (tmp_path / "out" / "report.pdf").exists()


def test_a_missing_input_is_refused_with_exit_1(tmp_path, capsys):
    status, out, _ = run(capsys, "strip", str(tmp_path / "gone.jpg"), "--out", str(tmp_path / "out"))
    assert status == 1
    assert out == f"{tmp_path / 'gone.jpg'}: refused: cannot read: no such file\n"


def test_strip_never_overwrites_an_input(tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    original = b.jpeg()
    photo.write_bytes(original)
    status, out, err = run(capsys, "strip", str(photo), "--out", str(tmp_path))
    assert status == 1
    assert out == ""
    assert err == f"anon-s3ol strip: {photo}: --out {tmp_path} is this file's own folder; the stripped file would overwrite it\n"
    assert photo.read_bytes() == original


def test_strip_refuses_an_out_reached_through_a_symlinked_input(tmp_path, capsys):
    real = tmp_path / "real"
    real.mkdir()
    (real / "photo.jpg").write_bytes(b.jpeg())
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "photo.jpg").symlink_to(real / "photo.jpg")
    status, _, err = run(capsys, "strip", str(tmp_path / "links" / "photo.jpg"), "--out", str(real))
    assert status == 1
    assert "is this file's own folder" in err


def test_strip_refuses_two_inputs_with_one_file_name(tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.jpg").write_bytes(b.jpeg())
    status, _, err = run(capsys, "strip", str(tmp_path / "a" / "x.jpg"), str(tmp_path / "b" / "x.jpg"), "--out", str(tmp_path / "out"))
    assert status == 1
    assert err == f"anon-s3ol strip: {tmp_path / 'b' / 'x.jpg'}: has the same file name as {tmp_path / 'a' / 'x.jpg'}; both would be written to {tmp_path / 'out' / 'x.jpg'}\n"
    assert not (tmp_path / "out").exists()


def test_strip_refuses_an_out_that_is_a_file(tmp_path, capsys):
    (tmp_path / "in.jpg").write_bytes(b.jpeg())
    (tmp_path / "taken").write_bytes(b"")
    status, _, err = run(capsys, "strip", str(tmp_path / "in.jpg"), "--out", str(tmp_path / "taken"))
    assert status == 1
    assert err == f"anon-s3ol strip: {tmp_path / 'taken'}: --out must be a folder; this is a file\n"


# ---------------------------------------------------------------- show
def handler_body(data: bytes, *, view: str, keep_copyright: bool = False) -> bytes:
    """The body the buffered function-URL handler answers to GET /photo.jpg?showExif=true."""
    request = parse_event(ux.url_event("/photo.jpg", query="showExif=true"))
    served = serve(
        request,
        read=lambda key, max_bytes: Original(data, Message()),
        settings=Settings(exif_query=view, keep_copyright=keep_copyright),
        limit=BUFFERED_LIMIT,
        size_of=buffered_payload_size,
    )
    payload = render_buffered(served.response, head=False)
    assert payload["statusCode"] == 200
    return payload["body"].encode()


@pytest.mark.parametrize("name", sorted(cf.CORPUS))
@pytest.mark.parametrize("view", ["safe", "full"])
def test_show_prints_what_show_exif_answers(corpus, name, view, capsys):
    folder, originals = corpus
    status = cli.main(["show", str(folder / name), "--view", view])
    out = capsys.readouterr().out
    assert status == 0
    assert out.encode() == handler_body(originals[name], view=view) + b"\n"


def test_show_is_the_safe_view_by_default_and_full_shows_gps(tmp_path, capsys):
    photo = tmp_path / "gps.jpg"
    photo.write_bytes(b.jpeg())
    status, safe, _ = run(capsys, "show", str(photo))
    assert status == 0
    assert "GPS" not in json.loads(safe)
    status, full, _ = run(capsys, "show", str(photo), "--view", "full")
    assert json.loads(full)["GPS"]["latitude"] == pytest.approx(-(52 + 31 / 60 + 12.34 / 3600))


def test_show_keep_copyright_matches_the_handler(tmp_path, capsys):
    photo = tmp_path / "signed.jpg"
    photo.write_bytes(b.jpeg())
    status, out, _ = run(capsys, "show", str(photo), "--keep-copyright")
    assert status == 0
    assert out.encode() == handler_body(photo.read_bytes(), view="safe", keep_copyright=True) + b"\n"
    assert json.loads(out)["Image"]["Copyright"] == b.OWNER_COPYRIGHT.decode()


def test_show_of_a_refused_file_is_one_line_and_exit_1(tmp_path, capsys):
    bad = tmp_path / "report.pdf"
    bad.write_bytes(cf.NOT_AN_IMAGE)
    status, out, err = run(capsys, "show", str(bad))
    assert status == 1
    assert out == ""
    assert err == f"anon-s3ol show: {bad}: refused: {cf.NOT_AN_IMAGE_REASON}\n"


def test_an_unexpected_failure_is_still_one_line(tmp_path, capsys, monkeypatch):
    import anon_s3ol.show_exif

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("a bug")

    monkeypatch.setattr(anon_s3ol.show_exif, "render_exif_json", broken)
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b.jpeg())
    status, out, err = run(capsys, "show", str(photo))
    assert (status, out) == (1, "")
    assert err == "anon-s3ol show: unexpected error: RuntimeError: a bug\n"


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path):
    for index in range(1500):  # rows well past a pipe's buffer: the writes meet the closed pipe
        (tmp_path / f"{index:04}.jpg").write_bytes(b"not an image")
    import subprocess

    pipeline = subprocess.run(
        f"'{cf.CONSOLE_SCRIPT}' audit '{tmp_path}' | head -n 1",
        shell=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert pipeline.stdout.decode().startswith("0000.jpg: unknown, refused: ")
    assert pipeline.stderr == b""


def test_an_unknown_aws_profile_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    status, _, err = run(capsys, "audit", "s3://some-bucket")
    assert status == 1
    assert err == "anon-s3ol audit: the AWS profile 'no-such-profile' is not configured\n"
