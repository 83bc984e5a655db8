"""The one log line per request, for every mode: no image bytes, no EXIF values, no credentials."""

from __future__ import annotations

import time

from .pipeline import Outcome

SERVER_ERROR = 500


def log_request(
    logger,  # noqa: ANN001 - a Powertools Logger (or anything with info/error)
    *,
    operation: str,
    key: str | None,
    show_exif: bool,
    outcome: Outcome,
    started: float,
    **extra: object,
) -> None:
    """One JSON line: the request, the reply's status and code, and what the pipeline noted."""
    reply = outcome.reply
    line = {
        "operation": operation[:10],
        "key": key,
        "status": reply.status,
        "error_code": reply.error_code,
        "show_exif": show_exif,
        "content_range": reply.content_range,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        **outcome.fields,
        **extra,
    }
    if reply.status >= SERVER_ERROR or "write_error" in line:
        unexpected = outcome.error is not None and reply.error_code == "InternalError"
        logger.error("transform", extra=line, exc_info=outcome.error if unexpected else None)
    else:
        logger.info("transform", extra=line)
