"""tools/package_transform.py: the Lambda zip is deterministic, complete and within limits.

Installing the requirements for Lambda's platform needs PyPI (pip's own cache makes reruns
cheap); each build here starts from an empty dependency cache, so the two builds compared
really ran pip twice.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOL = REPO_ROOT / "tools" / "package_transform.py"
FUNCTION_DIR = REPO_ROOT / "lambdas" / "exif_transform"

_spec = importlib.util.spec_from_file_location("package_transform", TOOL)
package_transform = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(package_transform)

ZIP_NAME = re.compile(r"^exif-transform-([0-9a-f]{64})\.zip$")


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> tuple[Path, Path]:
    first = package_transform.build(
        tmp_path_factory.mktemp("out1"), cache_root=tmp_path_factory.mktemp("deps1")
    )
    second = package_transform.build(
        tmp_path_factory.mktemp("out2"), cache_root=tmp_path_factory.mktemp("deps2")
    )
    return first, second


def test_two_builds_from_scratch_give_the_same_bytes_and_name(two_builds):
    first, second = two_builds
    assert first.name == second.name
    assert first.read_bytes() == second.read_bytes()
    match = ZIP_NAME.match(first.name)
    assert match, first.name
    assert match.group(1) == hashlib.sha256(first.read_bytes()).hexdigest()


def test_the_zip_holds_the_function_and_its_aarch64_cp313_dependencies(two_builds):
    with zipfile.ZipFile(two_builds[0]) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    own_modules = sorted(path.relative_to(FUNCTION_DIR).as_posix() for path in FUNCTION_DIR.rglob("*.py"))
    assert "olap/handler.py" in own_modules and "metadata/__init__.py" in own_modules
    assert set(own_modules) <= set(names), "every package sits at the zip root"
    assert any(re.fullmatch(r"PIL/_imaging\.cpython-313-aarch64-linux-gnu\.so", name) for name in names)
    assert not any(name.endswith("x86_64-linux-gnu.so") for name in names)
    assert any(name.startswith("piexif/") for name in names)
    assert any(name.startswith("aws_lambda_powertools/") for name in names)
    assert not any(name.split("/")[0] in ("boto3", "botocore", "s3transfer") for name in names)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert not any(name.startswith("bin/") or name.endswith(".dist-info/RECORD") for name in names)
    assert not any("/tests/" in name or name.startswith("tests/") for name in names)
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {info.filename: info.external_attr >> 16 for info in infos}
    assert modes.pop("function_url/run.sh") == 0o100755, "Lambda Web Adapter executes run.sh"
    assert set(modes.values()) == {0o100644}


def test_run_sh_is_executable_in_the_zip_whatever_the_checkout_says(tmp_path):
    function_dir = tmp_path / "fn"
    (function_dir / "function_url").mkdir(parents=True)
    (function_dir / "function_url" / "server.py").write_text("print('hi')\n")
    (function_dir / "function_url" / "run.sh").write_text("#!/bin/sh\nexec python3 -m function_url.server\n")
    for checkout_mode in (0o644, 0o755):
        (function_dir / "function_url" / "run.sh").chmod(checkout_mode)
        data, _ = package_transform.deterministic_zip(package_transform.function_entries(function_dir))
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        assert modes == {"function_url/run.sh": 0o100755, "function_url/server.py": 0o100644}


def test_a_missing_run_sh_fails_clearly(tmp_path):
    (tmp_path / "server.py").write_text("")
    with pytest.raises(package_transform.PackageError, match=r"missing function_url/run\.sh$"):
        package_transform.function_entries(tmp_path)


def test_the_limits_are_checked_and_named():
    zipped, unzipped = package_transform.LAMBDA_ZIPPED_LIMIT_BYTES, package_transform.LAMBDA_UNZIPPED_LIMIT_BYTES
    package_transform.check_lambda_limits("a.zip", zipped, unzipped)
    with pytest.raises(package_transform.PackageError, match=r"^a\.zip: .*zipped"):
        package_transform.check_lambda_limits("a.zip", zipped + 1, unzipped)
    with pytest.raises(package_transform.PackageError, match=r"^a\.zip: .*unzipped"):
        package_transform.check_lambda_limits("a.zip", zipped, unzipped + 1)


def test_an_oversized_package_fails_with_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(package_transform, "LAMBDA_UNZIPPED_LIMIT_BYTES", 1000)
    assert package_transform.main(["--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert re.match(r"^exif-transform-[0-9a-f]{64}\.zip: \d+ bytes unzipped, over Lambda's 1000-byte limit$", line)
    assert list(tmp_path.iterdir()) == []


def test_missing_requirements_fail_clearly(tmp_path, capsys):
    assert package_transform.main(["--out", str(tmp_path), "--requirements", str(tmp_path / "nope.txt")]) == 1
    assert capsys.readouterr().err.strip().endswith("nope.txt: not found")


def test_the_command_prints_only_the_zip_path(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(TOOL), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    (printed,) = completed.stdout.splitlines()
    assert Path(printed).parent == tmp_path
    assert ZIP_NAME.match(Path(printed).name)
    assert Path(printed).is_file()
