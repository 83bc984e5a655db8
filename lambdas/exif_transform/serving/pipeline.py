"""respond(): one request for an object, from the read of its original to the Reply.

Both modes read the original their own way and hand the read over as a function; here
the original becomes the stripped image or its EXIF as JSON, cut to the requested
range, and any failure on the way becomes the Reply the error table maps it to. Never
the original's bytes.
"""

from __future__ import annotations

import json
from typing import Callable, NamedTuple

import metadata

from .error_table import error_reply
from .original import Original
from .reply import Reply, ok_reply, one_line
from .settings import Settings

JSON_CONTENT_TYPE = "application/json"


class Outcome(NamedTuple):
    reply: Reply
    fields: dict  # what the request's log line says beyond the request itself
    error: BaseException | None  # the failure the reply answers, if any


def render_exif_json(data: bytes, settings: Settings) -> bytes:
    """The EXIF in the view the deployment chose (settings.exif_query is "safe" or "full" here)."""
    exif = metadata.read_exif(data, view=settings.exif_query, keep_copyright=settings.keep_copyright)
    return json.dumps(exif, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode()


def transform(original: Original, *, show_exif: bool, range_header: str | None, settings: Settings) -> tuple[Reply, dict]:
    """The Reply for a read original, and what the log line says about it."""
    if show_exif and settings.exif_query != "off":
        body = render_exif_json(original.body, settings)
        content_type = JSON_CONTENT_TYPE
        fields = {"format": metadata.detect_format(original.body), "response": "exif-json", "removed": [], "kept": []}
    else:
        stripped = metadata.clean(original.body, keep_copyright=settings.keep_copyright)
        body, content_type = stripped.data, stripped.mime_type
        fields = {
            "format": stripped.format,
            "response": "image",
            "removed": list(stripped.removed),
            "kept": list(stripped.kept),
        }
    fields["bytes_out"] = len(body)
    reply = ok_reply(
        body,
        content_type,
        range_header=range_header,
        cache_control=original.headers.get("Cache-Control"),
        last_modified=original.headers.get("Last-Modified"),
    )
    return reply, fields


def failed(error: BaseException, fields: dict | None = None) -> Outcome:
    """The Outcome for a failure: the reply the error table maps it to, the details for the log."""
    fields = dict(fields or {})
    fields["error"] = f"{type(error).__name__}: {one_line(str(error))}"
    return Outcome(error_reply(error), fields, error)


def respond(
    read_original: Callable[[], Original],
    *,
    show_exif: bool,
    range_header: str | None,
    settings: Settings,
) -> Outcome:
    """The Outcome of any request: a transformed body, or the error reply; never raises."""
    fields: dict = {}
    try:
        original = read_original()
        fields["bytes_in"] = len(original.body)
        reply, transform_fields = transform(original, show_exif=show_exif, range_header=range_header, settings=settings)
    except Exception as error:  # noqa: BLE001 - every failure is answered, never the original
        return failed(error, fields)
    fields.update(transform_fields)
    return Outcome(reply, fields, None)
