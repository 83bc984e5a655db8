"""`anon-s3ol serve`: the deployed function URL's paths and replies, on 127.0.0.1.

The server is function_url.server's UrlServer, the one Lambda Web Adapter talks to when
deployed, so paths, replies, Range, HEAD, 404 and ?showExif=true are the deployed ones;
only the reader of the original differs: a local folder, or a bucket and prefix through
function_url.bucket_read with the user's credentials. A folder's reader never opens a
file outside the folder: dot segments, hidden names and backslashes are 404, and the
resolved path (symlinks followed) must still lie inside the folder.

Each request prints one short line on stderr, with the reason of a refusal.
"""

from __future__ import annotations

import sys
from email.message import Message
from email.utils import formatdate
from pathlib import Path
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from function_url.bucket_read import bucket_reader, named_key
from function_url.serve import ReadOriginal
from function_url.server import UrlServer
from serving.errors import OriginalTooLargeError, UpstreamStatusError, UpstreamUnreachableError
from serving.original import Original
from serving.settings import DEFAULT_MAX_INPUT_BYTES, Settings

from .errors import CommandError
from .s3_access import S3Location, is_s3, listing_failure, parse_location, s3_client
from .sources import TooLarge, Unreadable, is_hidden, read_file

HOST = "127.0.0.1"
NOT_FOUND = 404
FORBIDDEN = 403


def _refused_part(part: str) -> bool:
    return part in ("", ".", "..") or is_hidden(part) or "\\" in part or "\x00" in part


def folder_reader(root: Path) -> ReadOriginal:
    """serve()'s read(key, max_bytes) over the files under `root`, and nothing outside it."""
    base = root.resolve()

    def read(key: str | None, max_bytes: int) -> Original:
        parts = named_key(key).split("/")
        if any(_refused_part(part) for part in parts):
            raise UpstreamStatusError(NOT_FOUND)
        try:
            path = base.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, or a symlink loop
            raise UpstreamStatusError(NOT_FOUND) from None
        if not path.is_relative_to(base) or not path.is_file():
            raise UpstreamStatusError(NOT_FOUND)
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
        headers = Message()
        headers["Last-Modified"] = formatdate(modified, usegmt=True)
        return Original(data, headers)

    return read


def prefixed(read: ReadOriginal, prefix: str) -> ReadOriginal:
    """A bucket reader for keys under `prefix` ("" names no object, as without a prefix).

    S3 keys have no dot segments, but an HTTP stack on the way might resolve them: a key
    with a "." or ".." segment is 404 rather than a read that could leave the prefix.
    """

    def read_under(key: str | None, max_bytes: int) -> Original:
        if key and any(part in (".", "..") for part in key.split("/")):
            raise UpstreamStatusError(NOT_FOUND)
        return read(prefix + key if key else key, max_bytes)

    return read_under


def bucket_source_reader(location: S3Location) -> ReadOriginal:
    """The bucket's reader, after one listing call so a bad bucket or credentials stop the command now."""
    s3 = s3_client()
    try:
        s3.list_objects_v2(Bucket=location.bucket, Prefix=location.prefix, MaxKeys=1)
    except (ClientError, BotoCoreError) as error:
        raise listing_failure(error, location) from None
    return prefixed(bucket_reader(s3, location.bucket), location.prefix)


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
        read = bucket_source_reader(parse_location(source))
    else:
        root = Path(source).expanduser()
        if not root.is_dir():
            raise CommandError(f"{source}: not a folder")
        read = folder_reader(root)
    try:
        return UrlServer((HOST, port), settings=settings, read=read, logger=AccessLog(err))
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
