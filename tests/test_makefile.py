"""The Makefile's virtual-environment rule, run by make with a stand-in python (no network, no real venv).

What a new user tripped on: `make` with a Python older than the project needs went on and
left a broken .venv, and later runs with the right Python kept failing on it. Now an old
Python stops make before anything is touched, naming the version needed, and any .venv
without a finished install is rebuilt from scratch.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET = ".venv/bin/.installed"

# A python that reports FAKE_PYTHON_VERSION, runs `-c` code under that version, makes a
# venv of stand-in scripts, and logs every call to FAKE_LOG.
FAKE_PYTHON = f"""#!{sys.executable}
import os, sys
from pathlib import Path

version = tuple(int(part) for part in os.environ["FAKE_PYTHON_VERSION"].split("."))
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write("python " + " ".join(args) + "\\n")
if args[:1] == ["--version"]:
    print("Python %d.%d.%d" % version)
elif args[:1] == ["-c"]:
    sys.version_info = version + ("final", 0)
    exec(args[1])
elif args[:2] == ["-m", "venv"]:
    bin_dir = Path(args[2], "bin")
    bin_dir.mkdir(parents=True)
    for name in ("python", "pip"):
        script = bin_dir / name
        script.write_text('#!/bin/sh\\necho "{{name}} $*" >> "$FAKE_LOG"\\n'.replace("{{name}}", name))
        script.chmod(0o755)
else:
    sys.exit("fake python: unexpected arguments " + " ".join(args))
"""


def min_python() -> str:
    match = re.search(r"^MIN_PYTHON := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, "the Makefile names MIN_PYTHON"
    return match.group(1)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The Makefile with the files its venv rule depends on, and a stand-in python beside them."""
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "requirements.txt").write_text("pytest\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    python = tmp_path / "fake-bin" / "python3"
    python.parent.mkdir()
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp_path


def make(checkout: Path, version: str, python: str | None = None) -> subprocess.CompletedProcess:
    # As a user's shell runs it: not a sub-make of `make test` (whose MAKELEVEL and MAKEFLAGS would
    # change make's messages to "make[1]: ..." and pass on its flags).
    outer_make = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")
    env = {name: value for name, value in os.environ.items() if name not in outer_make}
    env |= {"FAKE_PYTHON_VERSION": version, "FAKE_LOG": str(checkout / "calls.log")}
    return subprocess.run(
        ["make", "--no-print-directory", TARGET, f"PYTHON={python or checkout / 'fake-bin' / 'python3'}"],
        cwd=checkout,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def calls(checkout: Path) -> list[str]:
    log = checkout / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_the_makefile_and_pyproject_name_the_same_oldest_python():
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={min_python()}"


def test_pyproject_lists_every_package_under_the_folders_it_maps():
    """setuptools installs only the packages named: a subpackage left out (formats/heif) is missing from a wheel."""
    setuptools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {"anon_s3ol"}
    for name, folder in setuptools["package-dir"].items():
        for init in (REPO_ROOT / folder).rglob("__init__.py"):
            found.add(".".join([name, *init.parent.relative_to(REPO_ROOT / folder).parts]))
    assert sorted(setuptools["packages"]) == sorted(found)


def test_an_old_python_stops_make_at_once_naming_the_version_needed(checkout):
    (checkout / ".venv" / "lib").mkdir(parents=True)
    (checkout / ".venv" / "lib" / "kept").write_text("")
    python = checkout / "fake-bin" / "python3"

    result = make(checkout, "3.9.7")

    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        f"make: anon-s3ol needs Python {min_python()} or newer; {python} is Python 3.9.7. "
        f"Install Python {min_python()}+ and run: make PYTHON=python3.13 (any python{min_python()} or newer)"
    )
    assert [call.split()[1] for call in calls(checkout)] == ["-c", "--version"], "no venv made, nothing installed"
    assert (checkout / ".venv" / "lib" / "kept").exists(), "nothing touched"


def test_a_missing_python_is_named(checkout):
    result = make(checkout, "3.13.0", python="/nonexistent/python3")
    assert result.returncode != 0
    assert f"make: anon-s3ol needs Python {min_python()} or newer; /nonexistent/python3 is not found." in result.stderr


def test_a_broken_venv_is_rebuilt_from_scratch_by_the_next_make(checkout):
    assert make(checkout, "3.9.7").returncode != 0
    # What an older Python's half-finished run leaves: a venv whose pip fails, no .installed.
    stale = checkout / ".venv" / "lib" / "python3.9" / "site-packages"
    stale.mkdir(parents=True)
    (checkout / ".venv" / "bin").mkdir()
    (checkout / ".venv" / "bin" / "pip").write_text("#!/bin/sh\nexit 1\n")
    (checkout / ".venv" / "bin" / "pip").chmod(0o755)
    (checkout / "calls.log").unlink()

    result = make(checkout, "3.13.1")

    assert result.returncode == 0, result.stderr
    assert not stale.exists(), "the old venv's files are gone"
    assert (checkout / TARGET).exists()
    assert [call for call in calls(checkout) if not call.startswith("python -c")] == [
        "python -m venv .venv",
        "pip install --quiet --upgrade pip",
        "pip install --quiet -r requirements.txt",
        "pip install --quiet --no-deps --no-build-isolation --editable .",
    ]
    assert make(checkout, "3.13.1").stdout.startswith("make: '.venv/bin/.installed' is up to date"), "built once"


def test_a_symlinked_venv_is_replaced_and_its_target_left_alone(checkout, tmp_path_factory):
    shared = tmp_path_factory.mktemp("shared-venv")
    (shared / "bin").mkdir()
    (shared / "bin" / "keep-me").write_text("")
    (checkout / ".venv").symlink_to(shared)

    assert make(checkout, "3.12.0").returncode == 0
    assert not (checkout / ".venv").is_symlink()
    assert (shared / "bin" / "keep-me").exists()
