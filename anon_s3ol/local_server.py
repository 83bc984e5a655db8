"""`anon-s3ol serve`: the deployed function URL's paths and replies, on 127.0.0.1.

The server is function_url.server's UrlServer, the one Lambda Web Adapter talks to when
deployed with StreamingResponses=true, and it streams as deployed: a GET is stripped as the
original is read (serving/streamed.py), its first bytes sent as soon as the image's head is
parsed, so paths, replies, Range, HEAD, 404 and ?showExif=true are the deployed ones. Only
the opener of the original differs: a local folder, or a bucket and prefix through
function_url.bucket_read with the user's credentials. A folder's opener never opens a
file outside the folder: dot segments, hidden names and backslashes are 404, and the
resolved path (symlinks followed) must still lie inside the folder.

Each request prints one short line on stderr, with the reason of a refusal.
"""

from __future__ import annotations

import math
import os
import sys
from email.message import Message
from email.utils import formatdate
from pathlib import Path
from typing import Callable, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from function_url.bucket_read import bucket_opener, bucket_reader, named_key
from function_url.serve import ReadOriginal
from function_url.server import UrlServer
from serving.errors import OriginalTooLargeError, UpstreamStatusError, UpstreamUnreachableError
from serving.original import Original
from serving.settings import DEFAULT_MAX_INPUT_BYTES, Settings
from serving.streamed import Source, bounded_source

from .errors import CommandError
from .s3_access import S3Location, is_s3, listing_failure, parse_location, s3_client
from .sources import TooLarge, Unreadable, is_hidden, read_file

HOST = "127.0.0.1"
NOT_FOUND = 404
FORBIDDEN = 403


def _refused_part(part: str) -> bool:
    return part in ("", ".", "..") or is_hidden(part) or "\\" in part or "\x00" in part


def _inside(base: Path, key: str | None) -> Path:
    """The regular file `key` names under `base` (symlinks resolved), else 404."""
    parts = named_key(key).split("/")
    if any(_refused_part(part) for part in parts):
        raise UpstreamStatusError(NOT_FOUND)
    try:
        path = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        raise UpstreamStatusError(NOT_FOUND) from None
    if not path.is_relative_to(base) or not path.is_file():
        raise UpstreamStatusError(NOT_FOUND)
    return path


def _last_modified(modified: float) -> Message:
    headers = Message()
    headers["Last-Modified"] = formatdate(modified, usegmt=True)
    return headers


def _unreadable(error: OSError) -> Exception:
    if isinstance(error, PermissionError):
        return UpstreamStatusError(FORBIDDEN)
    return UpstreamUnreachableError(f"cannot read: {error.strerror or type(error).__name__}")


def folder_reader(root: Path) -> ReadOriginal:
    """serve()'s read(key, max_bytes) over the files under `root`, and nothing outside it."""
    base = root.resolve()

    def read(key: str | None, max_bytes: int) -> Original:
        path = _inside(base, key)
        try:
            data = read_file(path, max_bytes)
            modified = path.stat().st_mtime
        except TooLarge:
            raise OriginalTooLargeError(max_bytes) from None
        except Unreadable as error:
            if "permission denied" in str(error):
                raise UpstreamStatusError(FORBIDDEN) from None
            raise UpstreamUnreachableError(str(error)) from None
        except OSError as error:
            raise UpstreamUnreachableError(f"cannot read: {type(error).__name__}") from None
        return Original(data, _last_modified(modified))

    return read


def folder_opener(root: Path) -> Callable[[str | None], Source]:
    """The streamed path's open(key) over the files under `root`, and nothing outside it: the file read a
    chunk at a time, its ranged reads at their offset. A local file has no deadline."""
    base = root.resolve()

    def open_key(key: str | None) -> Source:
        path = _inside(base, key)
        try:
            file = path.open("rb")
        except OSError as error:
            raise _unreadable(error) from None
        try:
            status = os.fstat(file.fileno())
        except OSError as error:
            file.close()
            raise _unreadable(error) from None

        def read_next(size: int) -> bytes:
            try:
                return file.read(size)
            except OSError as error:
                raise _unreadable(error) from None

        def read_part(start: int, end: int) -> bytes:
            try:
                return os.pread(file.fileno(), end - start, start)
            except OSError as error:
                raise _unreadable(error) from None

        return bounded_source(
            status.st_size,
            _last_modified(status.st_mtime),
            read_next=read_next,
            read_part=read_part,
            close=file.close,
            deadline=math.inf,
        )

    return open_key


def _under(prefix: str, key: str | None) -> str | None:
    """The bucket key for `key` under `prefix` ("" names no object, as without a prefix).

    S3 keys have no dot segments, but an HTTP stack on the way might resolve them: a key
    with a "." or ".." segment is 404 rather than a read that could leave the prefix.
    """
    if key and any(part in (".", "..") for part in key.split("/")):
        raise UpstreamStatusError(NOT_FOUND)
    return prefix + key if key else key


def bucket_source(location: S3Location) -> tuple[ReadOriginal, Callable[[str | None], Source]]:
    """The bucket's reader and opener for keys under the prefix, after one listing call so a bad bucket
    or credentials stop the command now."""
    s3 = s3_client()
    try:
        s3.list_objects_v2(Bucket=location.bucket, Prefix=location.prefix, MaxKeys=1)
    except (ClientError, BotoCoreError) as error:
        raise listing_failure(error, location) from None
    read, open_key = bucket_reader(s3, location.bucket), bucket_opener(lambda: s3, location.bucket)
    return (
        lambda key, max_bytes: read(_under(location.prefix, key), max_bytes),
        lambda key: open_key(_under(location.prefix, key)),
    )


class AccessLog:
    """What log_request and UrlServer call on a logger, as one short line per request on `stream`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def _line(self, extra: dict) -> None:
        status = f"{extra.get('status')}" + (f" {extra['error_code']}" if extra.get("error_code") else "")
        detail = f" ({extra['error']})" if extra.get("error") else ""
        query = "?showExif=true" if extra.get("show_exif") else ""
        print(f"{extra.get('operation')} /{extra.get('key')}{query} -> {status}{detail}", file=self.stream, flush=True)

    def info(self, message: str, *, extra: dict | None = None, **_: object) -> None:
        self._line(extra or {"operation": message})

    def error(self, message: str, *, extra: dict | None = None, **_: object) -> None:
        self._line(extra or {"operation": message})

    def exception(self, message: str, *_: object, **__: object) -> None:
        failure = sys.exc_info()[0]
        print(f"{message}: {failure.__name__ if failure else 'unknown'}", file=self.stream, flush=True)


def build_local_server(source: str, *, port: int, settings: Settings, err: TextIO) -> UrlServer:
    if is_s3(source):
        read, open_source = bucket_source(parse_location(source))
    else:
        root = Path(source).expanduser()
        if not root.is_dir():
            raise CommandError(f"{source}: not a folder")
        read, open_source = folder_reader(root), folder_opener(root)
    try:
        return UrlServer((HOST, port), settings=settings, read=read, open_source=open_source, logger=AccessLog(err))
    except OSError as error:
        msg = f"{HOST}:{port}: cannot listen: {error.strerror or type(error).__name__} (choose another with --port N)"
        raise CommandError(msg) from None


def run_server(source: str, *, port: int, view: str, keep_copyright: bool, err: TextIO) -> int:
    settings = Settings(exif_query=view, keep_copyright=keep_copyright, max_input_bytes=DEFAULT_MAX_INPUT_BYTES)
    server = build_local_server(source, port=port, settings=settings, err=err)
    with server:
        print(
            f"serving {source} at http://{HOST}:{server.server_address[1]}/KEY (?showExif=true for the EXIF); Ctrl-C stops",
            file=err,
            flush=True,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0
