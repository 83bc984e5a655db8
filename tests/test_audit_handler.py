"""The audit handler (audit/handler.py): S3 Batch Operations LambdaInvoke events (schema 2.0) in, results out.

The objects live in moto's server on 127.0.0.1, read by the handler's own boto3 client as in Lambda. The
event is AWS's documented sample (tests/events/s3_batch_lambda_invoke.json); the answer is checked against
the documented result shape, and each result string is read back as an audit row. S3's throttling and
refusals, which moto cannot be made to answer, come from botocore's Stubber on the same client.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from urllib.parse import quote

import boto3
import piexif
import pytest
from botocore.stub import Stubber

import image_builders as ib
import olap_fixtures as fx
from sample_events import load_event
from url_fixtures import ADMIN_ENV, REGION, moto_endpoint

from serving.audit_row import row_from_json

BUCKET = "anon-s3ol-images-111122223333"
SAMPLE_KEY = "photos/2024/holiday photo.jpg"
RESULT_FIELDS = {"taskId", "resultCode", "resultString"}
RESPONSE_FIELDS = {"invocationSchemaVersion", "treatMissingKeysAs", "invocationId", "results"}
RESULT_CODES = {"Succeeded", "TemporaryFailure", "PermanentFailure"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_endpoint() as url:
        yield url


@pytest.fixture
def s3(endpoint):
    """The bucket, fresh for each test (versioned, so a task can name an older version)."""
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ADMIN_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=ADMIN_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    yield client
    for version in client.list_object_versions(Bucket=BUCKET).get("Versions", []):
        client.delete_object(Bucket=BUCKET, Key=version["Key"], VersionId=version["VersionId"])
    for marker in client.list_object_versions(Bucket=BUCKET).get("DeleteMarkers", []):
        client.delete_object(Bucket=BUCKET, Key=marker["Key"], VersionId=marker["VersionId"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def load(endpoint, s3):  # noqa: ARG001 - the bucket exists before the function starts
    """load(**env) -> (module, log stream): a cold start of audit/handler.py against moto's server."""

    def cold_start(**environment: str):  # noqa: ANN202
        env = {**ADMIN_ENV, "AWS_ENDPOINT_URL": endpoint, "POWERTOOLS_SERVICE_NAME": "audit-test", **environment}
        return fx.load_cold("audit/handler.py", env, fx.SETTING_NAMES)

    return cold_start


@pytest.fixture
def handler(load):
    return load()[0]


def batch_event(*tasks: tuple[str, str | None], user_arguments: dict | None = None) -> dict:
    """The documented sample event with these (key, version) tasks, keys URL-encoded as S3 sends them."""
    event = load_event("s3_batch_lambda_invoke")
    template = event["tasks"][0]
    event["tasks"] = [
        {**template, "taskId": f"task-{n}", "s3Key": quote(key, safe="/"), "s3VersionId": version, "s3Bucket": BUCKET}
        for n, (key, version) in enumerate(tasks)
    ]
    if user_arguments is not None:
        event["job"]["userArguments"] = user_arguments
    return event


def invoke(module, event: dict) -> dict:
    response = module.lambda_handler(event, fx.LambdaContext())
    assert set(response) == RESPONSE_FIELDS
    assert response["invocationSchemaVersion"] == event["invocationSchemaVersion"]
    assert response["invocationId"] == event["invocationId"]
    assert response["treatMissingKeysAs"] in RESULT_CODES
    assert [result["taskId"] for result in response["results"]] == [task["taskId"] for task in event["tasks"]]
    for result in response["results"]:
        assert set(result) == RESULT_FIELDS
        assert result["resultCode"] in RESULT_CODES
    json.dumps(response)  # Lambda returns it as JSON
    return response


def only_result(response: dict) -> tuple[str, object]:
    (result,) = response["results"]
    return result["resultCode"], row_from_json(result["resultString"])


def test_the_documented_sample_event_is_answered_with_the_documented_shape(handler, s3):
    data = ib.jpeg()
    s3.put_object(Bucket=BUCKET, Key=SAMPLE_KEY, Body=data)
    event = load_event("s3_batch_lambda_invoke")

    response = invoke(handler, event)

    assert response["treatMissingKeysAs"] == "PermanentFailure"
    (result,) = response["results"]
    assert result["taskId"] == "dGFza2lkZ29lc2hlcmUK"
    assert result["resultCode"] == "Succeeded"
    row = row_from_json(result["resultString"])
    assert (row.format, row.served, row.reason, row.gps, row.bytes_in) == ("jpeg", True, None, True, len(data))
    assert {"exif", "gps", "xmp", "owner/serial"} <= set(row.found)
    assert 0 < row.bytes_out < len(data)


def test_a_task_names_an_older_version(handler, s3):
    old = s3.put_object(Bucket=BUCKET, Key="a.img", Body=ib.png())["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="a.img", Body=ib.jpeg())
    response = invoke(handler, batch_event(("a.img", old), ("a.img", None)))
    formats = [row_from_json(result["resultString"]).format for result in response["results"]]
    assert formats == ["png", "jpeg"]


def test_several_tasks_get_one_result_each_in_order(handler, s3):
    s3.put_object(Bucket=BUCKET, Key="x/1.webp", Body=ib.webp())
    s3.put_object(Bucket=BUCKET, Key="x/2 + 3.gif", Body=ib.gif())
    response = invoke(handler, batch_event(("x/1.webp", None), ("x/2 + 3.gif", None)))
    rows = [row_from_json(result["resultString"]) for result in response["results"]]
    assert [row.format for row in rows] == ["webp", "gif"]
    assert all(result["resultCode"] == "Succeeded" for result in response["results"])


def test_a_refused_image_succeeds_with_the_reason(handler, s3):
    s3.put_object(Bucket=BUCKET, Key="doc.pdf", Body=b"%PDF-1.7\n" + bytes(64))
    code, row = only_result(invoke(handler, batch_event(("doc.pdf", None))))
    assert code == "Succeeded"
    assert (row.served, row.format, row.reason, row.bytes_in, row.bytes_out) == (
        False, None, "unsupported image format: PDF", 73, None,
    )  # fmt: skip


def test_an_object_over_the_cap_is_refused_without_reading_it(load, s3):
    module, _ = load(MAX_INPUT_BYTES="100")
    data = ib.jpeg()
    s3.put_object(Bucket=BUCKET, Key="big.jpg", Body=data)
    code, row = only_result(invoke(module, batch_event(("big.jpg", None))))
    assert code == "Succeeded"
    assert (row.served, row.reason, row.bytes_in) == (False, "the original is larger than 100 bytes", len(data))


def test_a_missing_key_fails_for_good_and_the_row_says_so(handler):
    code, row = only_result(invoke(handler, batch_event(("gone.jpg", None))))
    assert code == "PermanentFailure"
    assert (row.served, row.reason) == (False, "the object no longer exists")


@pytest.mark.parametrize(
    ("error_code", "status", "expected_code", "reason"),
    [
        ("SlowDown", 503, "TemporaryFailure", "S3 answered SlowDown; try again later"),
        ("InternalError", 500, "TemporaryFailure", "S3 answered InternalError; try again later"),
        ("ServiceUnavailable", 503, "TemporaryFailure", "S3 answered ServiceUnavailable; try again later"),
        ("RequestTimeout", 400, "TemporaryFailure", "S3 answered RequestTimeout; try again later"),
        ("AccessDenied", 403, "PermanentFailure", "the audit function may not read this object (AccessDenied)"),
        # GetObject on an archived object (S3 API Reference, GetObject).
        ("InvalidObjectState", 403, "PermanentFailure", "S3 refused the read (InvalidObjectState)"),
        ("NoSuchVersion", 404, "PermanentFailure", "the object no longer exists"),
    ],
)
def test_s3_failures_map_to_the_task_result(handler, error_code, status, expected_code, reason):
    with Stubber(handler.S3) as stub:
        stub.add_client_error("get_object", service_error_code=error_code, http_status_code=status)
        code, row = only_result(invoke(handler, batch_event(("k.jpg", None))))
    assert (code, row.served, row.reason) == (expected_code, False, reason)


def test_keep_copyright_from_the_job_keeps_artist_out_of_found(load, s3):
    module, _ = load()
    exif = ib.exif_dict(gps=False, makernote=False, thumbnail=False)
    # Only the owner's tags and what EXIF cannot do without: with keepCopyright nothing is removed from EXIF.
    owner_tags = (piexif.ImageIFD.Artist, piexif.ImageIFD.Copyright)
    exif = {"0th": {k: v for k, v in exif["0th"].items() if k in owner_tags}, "Exif": {}, "Interop": {}}
    s3.put_object(Bucket=BUCKET, Key="c.jpg", Body=ib._jpeg_bytes(ib.pattern(), exif=piexif.dump(exif)))
    _, plain = only_result(invoke(module, batch_event(("c.jpg", None), user_arguments={"keepCopyright": "false"})))
    _, kept = only_result(invoke(module, batch_event(("c.jpg", None), user_arguments={"keepCopyright": "true"})))
    assert "exif" in plain.removed
    assert "exif" not in kept.removed


def test_a_bad_user_argument_fails_every_task_naming_it(handler, s3):
    s3.put_object(Bucket=BUCKET, Key="a.png", Body=ib.png())
    response = invoke(handler, batch_event(("a.png", None), ("a.png", None), user_arguments={"keepCopyright": "maybe"}))
    for result in response["results"]:
        assert result["resultCode"] == "PermanentFailure"
        assert row_from_json(result["resultString"]).reason == "userArguments.keepCopyright must be true or false"


def test_the_log_names_the_key_and_verdict_never_exif_values(load, s3):
    module, log = load()
    s3.put_object(Bucket=BUCKET, Key=SAMPLE_KEY, Body=ib.jpeg())
    invoke(module, load_event("s3_batch_lambda_invoke"))
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    (line,) = [line for line in lines if line.get("message") == "audit"]
    assert (line["key"], line["result_code"], line["format"]) == (SAMPLE_KEY, "Succeeded", "jpeg")
    assert line["job_id"] == "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"
    assert ib.SECRET.decode() not in log.getvalue()


# --- the bounded read on its own --------------------------------------------------------------------------


class FakeS3:
    """get_object answering a declared length and a body, as botocore's response dict has them."""

    def __init__(self, declared: int, body: bytes) -> None:
        self.declared, self.body = declared, body

    def get_object(self, **arguments: object) -> dict:
        return {"ContentLength": self.declared, "Body": io.BytesIO(self.body)}


def test_a_body_cut_short_is_retried_later():
    from audit.object_read import RetryLater, read_object

    with pytest.raises(RetryLater, match=r"^the original's body ended after 3 of 100 bytes$"):
        read_object(FakeS3(100, b"abc"), bucket=BUCKET, key="k", version_id=None, max_bytes=1000)


def test_an_object_declared_over_the_cap_is_refused_with_its_size_unread():
    from audit.object_read import ObjectTooLarge, read_object

    class Body(io.BytesIO):
        reads = 0

        def read(self, *args: object) -> bytes:
            Body.reads += 1
            return super().read(*args)

    client = FakeS3(5000, b"")
    client.get_object = lambda **_: {"ContentLength": 5000, "Body": Body(b"x" * 10)}
    with pytest.raises(ObjectTooLarge, match=r"^the original is larger than 1000 bytes$") as refused:
        read_object(client, bucket=BUCKET, key="k", version_id=None, max_bytes=1000)
    assert refused.value.size == 5000
    assert Body.reads == 0, "nothing was read"
