"""The answer to one request for an object, whichever way the request arrived.

Both entry points (the S3 Object Lambda handler and the function-URL handler or its
HTTP server) read the original their own way, then come here: the original becomes
the stripped image or its EXIF as JSON, cut to the requested range, and any failure
on the way becomes the error reply ERROR_TABLE maps it to. Never the original bytes.
"""

from __future__ import annotations

import json
from typing import Callable

import metadata
from env_settings import Settings
from original_fetch import Original
from replies import ERROR_TABLE, ErrorRow, Reply, error_reply, ok_reply, one_line

JSON_CONTENT_TYPE = "application/json"


def render_exif_json(data: bytes, exif_query: str) -> bytes:
    exif = metadata.read_exif(data)
    if exif_query == "no-gps":
        exif.pop("GPS", None)
    return json.dumps(exif, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def transform(
    original: Original,
    *,
    show_exif: bool,
    range_header: str | None,
    settings: Settings,
) -> tuple[Reply, dict]:
    """The reply for a fetched original, and what the log line says about it."""
    if show_exif and settings.exif_query != "off":
        body = render_exif_json(original.body, settings.exif_query)
        content_type = JSON_CONTENT_TYPE
        fields = {"format": metadata.detect_format(original.body), "response": "exif-json", "removed": []}
    else:
        result = metadata.clean(original.body, keep_copyright=settings.keep_copyright)
        body, content_type = result.data, result.mime_type
        fields = {"format": result.format, "response": "image", "removed": list(result.removed)}
    fields["bytes_out"] = len(body)
    reply = ok_reply(
        body,
        content_type,
        range_header=range_header,
        cache_control=original.headers.get("Cache-Control"),
        last_modified=original.headers.get("Last-Modified"),
    )
    return reply, fields


def answer(
    read_original: Callable[[], Original],
    *,
    show_exif: bool,
    range_header: str | None,
    settings: Settings,
    error_table: tuple[ErrorRow, ...] = ERROR_TABLE,
) -> tuple[Reply, dict, BaseException | None]:
    """The reply for any request: a transformed body, or the error `error_table` maps it to."""
    fields: dict = {}
    try:
        original = read_original()
        fields["bytes_in"] = len(original.body)
        reply, transform_fields = transform(
            original, show_exif=show_exif, range_header=range_header, settings=settings
        )
        fields.update(transform_fields)
    except Exception as error:  # noqa: BLE001 - every failure is answered, never the original
        fields["error"] = f"{type(error).__name__}: {one_line(str(error))}"
        return error_reply(error, error_table), fields, error
    return reply, fields, None
