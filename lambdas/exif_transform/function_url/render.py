"""A Reply as an HTTP response: for the function URL's buffered payload and for the HTTP server.

One HttpResponse holds what a GET answers (status, headers, body). A HEAD answers the
same status and headers without the body, so HEAD and GET agree; its Content-Length is
the GET's. Errors carry a short JSON body {"code": ..., "message": ...}. The original's
Cache-Control and Last-Modified pass through; its ETag never does (the bytes differ).

Buffered function URLs take the response as JSON (payload format 2.0) with a base64
body, and Lambda refuses a payload over its synchronous limit; buffered_payload_size
measures that JSON exactly without building it, so HEAD can apply the GET's limit.
"""

from __future__ import annotations

import base64
import json
from typing import NamedTuple

from serving.errors import ALLOWED_METHODS
from serving.reply import Reply

ERROR_CONTENT_TYPE = "application/json"
# Bodies of these types go into the buffered payload as text; anything else as base64.
TEXT_CONTENT_TYPES = ("application/json",)


class HttpResponse(NamedTuple):
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes  # what a GET sends; a HEAD sends none

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


def _error_body(reply: Reply) -> bytes:
    return json.dumps({"code": reply.error_code, "message": reply.error_message}, separators=(",", ":")).encode()


def render_http(reply: Reply) -> HttpResponse:
    if reply.error_code:
        body, content_type = _error_body(reply), ERROR_CONTENT_TYPE
    else:
        body, content_type = reply.body or b"", reply.content_type
    optional = (
        ("Content-Type", content_type if body else None),
        ("Content-Length", str(len(body))),
        ("Content-Range", reply.content_range),
        ("Cache-Control", reply.cache_control),
        ("Last-Modified", reply.last_modified),
        ("Allow", ", ".join(ALLOWED_METHODS) if reply.status == 405 else None),  # noqa: PLR2004 - HTTP 405
    )
    return HttpResponse(reply.status, tuple((name, value) for name, value in optional if value is not None), body)


def _is_text(response: HttpResponse) -> bool:
    return (response.header("Content-Type") or "").split(";")[0].strip() in TEXT_CONTENT_TYPES


def render_buffered(response: HttpResponse, *, head: bool) -> dict:
    """The handler's return value for a buffered function URL.

    Lambda sets Content-Length from the body it sends, and remaps one the function sets
    to x-amzn-Remapped-Content-Length; so a GET leaves it out, and a HEAD (no body) keeps
    the GET's, which reaches the caller as x-amzn-Remapped-Content-Length.
    """
    headers = {name: value for name, value in response.headers if head or name != "Content-Length"}
    payload: dict = {"statusCode": response.status, "headers": headers}
    if head or not response.body:
        payload.update(body="", isBase64Encoded=False)
    elif _is_text(response):
        payload.update(body=response.body.decode("utf-8"), isBase64Encoded=False)
    else:
        payload.update(body=base64.b64encode(response.body).decode("ascii"), isBase64Encoded=True)
    return payload


def _encoded_body_chars(response: HttpResponse) -> int:
    if not response.body:
        return 0
    if _is_text(response):
        return len(json.dumps(response.body.decode("utf-8"), ensure_ascii=False).encode()) - 2  # without quotes
    return 4 * ((len(response.body) + 2) // 3)  # base64 (ASCII, nothing to escape)


def buffered_payload_size(response: HttpResponse) -> int:
    """Bytes of the JSON Lambda's Python runtime sends for the GET (json.dumps, default separators)."""
    envelope = render_buffered(response._replace(body=b""), head=False)
    envelope["isBase64Encoded"] = not _is_text(response) and bool(response.body)
    return len(json.dumps(envelope, ensure_ascii=False).encode()) + _encoded_body_chars(response)

