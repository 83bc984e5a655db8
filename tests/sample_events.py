"""Sample Lambda events, shaped as AWS documents them, from tests/events/*.json.

    olap_get_object, olap_get_object_range, olap_head_object
        S3 Object Lambda (S3 User Guide, olap-event-context.html)
    function_url_get, function_url_head
        Lambda function URL, payload format 2.0 (Lambda Developer Guide, urls-invocation.html)
    s3_batch_lambda_invoke
        S3 Batch Operations LambdaInvoke, invocation schema 2.0 (S3 User Guide, batch-ops-invoke-lambda.html);
        the key is URL-encoded as in the job's manifest

Each call returns a fresh copy, so a test may change it freely.
"""

from __future__ import annotations

import json
from pathlib import Path

EVENTS_DIR = Path(__file__).resolve().parent / "events"


def load_event(name: str) -> dict:
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())
