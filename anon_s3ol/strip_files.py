"""`anon-s3ol strip`: write, under the same file names, the bytes a viewer would get.

The bytes are metadata.clean's, the call the Lambdas make, with the deployment's default
input limit. Every output is checked before anything is written: an --out that is an
input's own folder, or two inputs with one file name, stop the command, so an input is
never overwritten. A file is written whole or not at all (a temporary file renamed).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TextIO

import metadata
from serving.reply import one_line
from serving.settings import DEFAULT_MAX_INPUT_BYTES

from .errors import CommandError
from .sources import Unreadable, read_file

EXIT_REFUSED = 1


def _checked_outputs(paths: list[Path], out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out}: --out must be a folder; this is a file")
    out_resolved = out.resolve()
    seen: dict[str, Path] = {}
    for path in paths:
        # The file's folder as named and, for a symlink, its target's: neither may be --out.
        if out_resolved in (path.absolute().parent.resolve(), path.resolve().parent):
            msg = f"{path}: --out {out} is this file's own folder; the stripped file would overwrite it"
            raise CommandError(msg)
        if path.name in seen:
            msg = f"{path}: has the same file name as {seen[path.name]}; both would be written to {out / path.name}"
            raise CommandError(msg)
        seen[path.name] = path


def _write_whole(target: Path, data: bytes) -> None:
    """`data` at `target`, or nothing there if the write fails."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def strip_line(result: metadata.StripResult, bytes_in: int) -> str:
    """format, removed kinds, kept pictures when any, bytes in and out."""
    removed = ", ".join(result.removed) if result.removed else "nothing"
    kept = result.kept
    kept_text = f"; kept {', '.join(kept)}" if kept else ""
    return f"{result.format}, removed {removed}{kept_text}; {bytes_in} -> {len(result.data)} bytes"


def strip_files(paths: list[str], out: str, *, keep_copyright: bool, out_stream: TextIO) -> int:
    inputs = [Path(path) for path in paths]
    folder = Path(out)
    _checked_outputs(inputs, folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(f"{folder}: cannot create the folder: {error.strerror or type(error).__name__}") from None
    status = 0
    for path in inputs:
        try:
            data = read_file(path, DEFAULT_MAX_INPUT_BYTES)
            result = metadata.clean(data, keep_copyright=keep_copyright)
        except (Unreadable, metadata.ImageError) as error:
            print(f"{path}: refused: {one_line(str(error))}", file=out_stream, flush=True)
            status = EXIT_REFUSED
            continue
        target = folder / path.name
        try:
            _write_whole(target, result.data)
        except OSError as error:
            raise CommandError(f"{target}: cannot write: {error.strerror or type(error).__name__}") from None
        print(f"{path}: {strip_line(result, len(data))}", file=out_stream, flush=True)
    return status
