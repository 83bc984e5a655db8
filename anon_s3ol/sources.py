"""Where the audit's files come from: a local folder (or one file) or an S3 prefix, listed lazily.

Both list Entry values one at a time (a folder walked in name order, a bucket page by
page), so memory does not grow with the number of files, and read one entry's bytes
within a byte cap. A failure that concerns one file only raises Unreadable with the
reason its row reports; one that stops everything (no credentials, the network, a
missing bucket, a listing denied) raises CommandError.

Names starting with "." (.DS_Store, .git, editors' backups) are left out of a folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from .errors import CommandError
from .s3_access import S3Location, client_error_code, failure_line, listing_failure


class Entry(NamedTuple):
    key: str  # the path under the folder (with "/"), or the object's whole key
    size: int


class Unreadable(Exception):
    """One file could not be read; the message is its row's reason."""


class TooLarge(Unreadable):
    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than the {limit}-byte input limit the service accepts (MaxInputBytes)")


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def read_file(path: Path, max_bytes: int) -> bytes:
    """A file's bytes, at most max_bytes of them (TooLarge past that), or Unreadable."""
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except FileNotFoundError:
        raise Unreadable("cannot read: no such file") from None
    except IsADirectoryError:
        raise Unreadable("cannot read: a folder, not a file") from None
    except PermissionError:
        raise Unreadable("cannot read: permission denied") from None
    except OSError as error:
        raise Unreadable(f"cannot read: {error.strerror or type(error).__name__}") from None
    if len(data) > max_bytes:
        raise TooLarge(max_bytes)
    return data


class FolderSource:
    """The regular files under a folder (symlinked folders not followed), or one file."""

    def __init__(self, root: Path) -> None:
        if not root.exists():
            raise CommandError(f"{root}: no such file or folder")
        self.root = root
        self.name = str(root)

    def _path(self, key: str) -> Path:
        return self.root if self.root.is_file() else self.root / key

    def entries(self) -> Iterator[Entry]:
        if self.root.is_file():
            yield Entry(self.root.name, self.root.stat().st_size)
            return
        yield from self._walk(self.root, "")

    def _walk(self, folder: Path, under: str) -> Iterator[Entry]:
        """Depth first, in name order, files and subfolders interleaved (as a bucket lists keys)."""
        try:
            with os.scandir(folder) as scan:
                names = sorted((item.name, item.is_dir(follow_symlinks=False)) for item in scan)
        except OSError as error:
            raise CommandError(f"{folder}: cannot list the folder: {error.strerror or type(error).__name__}") from None
        for name, is_folder in names:
            if is_hidden(name):
                continue
            if is_folder:
                yield from self._walk(folder / name, f"{under}{name}/")
                continue
            path = folder / name
            try:
                if not path.is_file():  # sockets, fifos, broken links
                    continue
                size = path.stat().st_size
            except OSError:
                size = 0  # the read reports why
            yield Entry(under + name, size)

    def read(self, entry: Entry, max_bytes: int) -> bytes:
        if entry.size > max_bytes:
            raise TooLarge(max_bytes)
        return read_file(self._path(entry.key), max_bytes)


class BucketSource:
    """The objects under an S3 prefix ("folder" placeholder keys ending in "/" left out)."""

    def __init__(self, s3, location: S3Location) -> None:  # noqa: ANN001 - a botocore S3 client
        self.s3 = s3
        self.location = location
        self.name = str(location)

    def entries(self) -> Iterator[Entry]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.location.bucket, Prefix=self.location.prefix
        )
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    if not item["Key"].endswith("/"):
                        yield Entry(item["Key"], int(item.get("Size", 0)))
        except (ClientError, BotoCoreError) as error:
            raise listing_failure(error, self.location) from None

    def read(self, entry: Entry, max_bytes: int) -> bytes:
        if entry.size > max_bytes:
            raise TooLarge(max_bytes)
        where = f"s3://{self.location.bucket}/{entry.key}"
        try:
            response = self.s3.get_object(Bucket=self.location.bucket, Key=entry.key)
            with response["Body"] as body:
                data = body.read(max_bytes + 1)
        except (ClientError, BotoCoreError) as error:
            line = failure_line(error, action="reading", where=where)
            if line is not None:
                raise CommandError(line) from None
            code = client_error_code(error) if isinstance(error, ClientError) else type(error).__name__
            raise Unreadable(f"cannot read: S3 answered {code}") from None
        if len(data) > max_bytes:
            raise TooLarge(max_bytes)
        return data
