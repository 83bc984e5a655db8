"""Build the transform Lambda's zip, byte-for-byte the same for the same sources.

The zip holds the function's packages (lambdas/exif_transform/*/*.py, tests and caches left
out) and its handler script function_url/run.sh at its root, and its requirements installed by pip for
the Lambda's platform: Python 3.13 on arm64, Amazon Linux 2023. Entries are sorted and
carry a fixed timestamp and fixed permissions (0755 for run.sh, which Lambda executes,
0644 for everything else, whatever the checkout says); nothing that names the build
machine or the build time goes in.

Writes build/exif-transform-<sha256>.zip (or into --out DIR) and prints only its path on
stdout; deploy.sh uploads it as exif-transform/<sha256>.zip.

Exit codes: 0 built; 1 pip failed or the package exceeds a Lambda size limit; 2 usage.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = REPO_ROOT / "lambdas" / "exif_transform"
REQUIREMENTS = FUNCTION_DIR / "requirements.txt"
ARTIFACT_PREFIX = "exif-transform"
# pip runs again only when the requirements change; reruns of the build reuse this.
DEPENDENCY_CACHE = REPO_ROOT / "build" / "lambda-deps"

# Lambda quotas for a .zip deployment package: 50 MB zipped when uploaded directly,
# 250 MB unzipped including layers (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
LAMBDA_ZIPPED_LIMIT_BYTES = 50 * 1024 * 1024
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024

# The python3.13 runtime is Amazon Linux 2023 (glibc 2.34) on arm64
# (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html). pip does not widen a
# manylinux_2_X platform to older glibc versions, so every compatible one is listed.
LAMBDA_PYTHON_VERSION = "3.13"
LAMBDA_GLIBC_MINOR = 34
LAMBDA_PLATFORMS = (
    *(f"manylinux_2_{minor}_aarch64" for minor in range(LAMBDA_GLIBC_MINOR, 16, -1)),
    "manylinux2014_aarch64",
)

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can hold
FILE_MODE = 0o100644  # regular file, rw-r--r--
EXECUTABLE_MODE = 0o100755  # regular file, rwxr-xr-x
# Files Lambda executes: with StreamingResponses=true the handler is run.sh, which
# Lambda Web Adapter's wrapper runs as a program, so it must keep its execute bits.
FUNCTION_SCRIPTS = ("function_url/run.sh",)
UNIX_SYSTEM = 3
# Left out of the dependencies: console scripts carry the build machine's interpreter
# path in their shebang, and RECORD lists their hashes.
SKIPPED_DEPENDENCY_DIRS = ("bin", "__pycache__")
SKIPPED_DEPENDENCY_FILES = ("RECORD",)
SKIPPED_FUNCTION_DIRS = ("tests", "__pycache__")


class PackageError(Exception):
    """Reported as one line on stderr, exit code 1."""


class Entry(NamedTuple):
    name: str
    path: Path
    mode: int = FILE_MODE


def pip_install_command(requirements: Path, target: Path) -> list[str]:
    platforms = [argument for platform in LAMBDA_PLATFORMS for argument in ("--platform", platform)]
    return [
        sys.executable, "-m", "pip", "install",
        *platforms,
        "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON_VERSION,
        "--only-binary=:all:",
        "--no-compile",
        "--disable-pip-version-check",
        "--quiet",
        "--target", str(target),
        "-r", str(requirements),
    ]  # fmt: skip


def _dependencies_key(requirements: Path) -> str:
    """Changes when the requirements or the target platform change."""
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(repr((LAMBDA_PYTHON_VERSION, LAMBDA_PLATFORMS)).encode())
    return digest.hexdigest()[:32]


def installed_dependencies(requirements: Path, cache_root: Path) -> Path:
    """The requirements installed for Lambda, from the cache or pip (then cached)."""
    if not requirements.is_file():
        msg = f"{_shown(requirements)}: not found"
        raise PackageError(msg)
    cached = cache_root / _dependencies_key(requirements)
    if cached.is_dir():
        return cached
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="installing-", dir=cache_root))
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
            pip_install_command(requirements, staging / "site"),
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            sys.stderr.write(completed.stdout + completed.stderr)
            msg = (
                f"{_shown(requirements)}: pip could not install it for Python {LAMBDA_PYTHON_VERSION} "
                f"manylinux aarch64 (exit {completed.returncode}); see pip's message above"
            )
            raise PackageError(msg)
        try:
            (staging / "site").rename(cached)
        except OSError:
            if not cached.is_dir():  # not a concurrent build that finished first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cached


def _files_under(root: Path, skipped_dirs: Iterable[str]) -> Iterator[Path]:
    skipped = set(skipped_dirs)
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if name not in skipped]
        for name in files:
            yield Path(directory) / name


def function_entries(function_dir: Path) -> list[Entry]:
    modules = [
        Entry(path.relative_to(function_dir).as_posix(), path)
        for path in _files_under(function_dir, SKIPPED_FUNCTION_DIRS)
        if path.suffix == ".py" and not path.name.startswith("test_")
    ]
    scripts = [Entry(name, function_dir / name, EXECUTABLE_MODE) for name in FUNCTION_SCRIPTS]
    missing = [entry.name for entry in scripts if not entry.path.is_file()]
    if missing:
        msg = f"{_shown(function_dir)}: missing {', '.join(missing)}"
        raise PackageError(msg)
    return modules + scripts


def dependency_entries(site: Path) -> list[Entry]:
    return [
        Entry(path.relative_to(site).as_posix(), path)
        for path in _files_under(site, SKIPPED_DEPENDENCY_DIRS)
        if path.suffix != ".pyc" and path.name not in SKIPPED_DEPENDENCY_FILES
    ]


def deterministic_zip(entries: list[Entry]) -> tuple[bytes, int]:
    """The zip's bytes and its unzipped size; entries sorted, timestamps and modes fixed."""
    names = [entry.name for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        msg = f"{_shown(FUNCTION_DIR)}: module names clash with dependencies: {', '.join(duplicates)}"
        raise PackageError(msg)
    buffer = io.BytesIO()
    unzipped = 0
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in sorted(entries):
            info = zipfile.ZipInfo(entry.name, date_time=FIXED_DATE_TIME)
            info.create_system = UNIX_SYSTEM
            info.external_attr = entry.mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = entry.path.read_bytes()
            unzipped += len(data)
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue(), unzipped


def check_lambda_limits(zip_name: str, zipped: int, unzipped: int) -> None:
    if zipped > LAMBDA_ZIPPED_LIMIT_BYTES:
        msg = f"{zip_name}: {zipped} bytes zipped, over Lambda's {LAMBDA_ZIPPED_LIMIT_BYTES}-byte limit"
        raise PackageError(msg)
    if unzipped > LAMBDA_UNZIPPED_LIMIT_BYTES:
        msg = f"{zip_name}: {unzipped} bytes unzipped, over Lambda's {LAMBDA_UNZIPPED_LIMIT_BYTES}-byte limit"
        raise PackageError(msg)


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def build(
    out_dir: Path,
    *,
    requirements: Path = REQUIREMENTS,
    function_dir: Path = FUNCTION_DIR,
    cache_root: Path = DEPENDENCY_CACHE,
) -> Path:
    site = installed_dependencies(requirements, cache_root)
    data, unzipped = deterministic_zip(function_entries(function_dir) + dependency_entries(site))
    name = f"{ARTIFACT_PREFIX}-{hashlib.sha256(data).hexdigest()}.zip"
    check_lambda_limits(name, len(data), unzipped)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    if not target.is_file() or target.read_bytes() != data:  # same name, same bytes: leave it
        partial = target.with_suffix(".zip.partial")
        partial.write_bytes(data)
        partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build", help="directory for the zip (build/)")
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        target = build(args.out, requirements=args.requirements)
    except PackageError as error:
        print(f"{error}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
