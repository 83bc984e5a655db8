"""Each adapter reads the sample events (shaped as AWS documents them) into the plain values it acts on."""

from __future__ import annotations

from function_url.request import UrlRequest, parse_event as parse_url_event
from olap.event import GET_OBJECT, HEAD_OBJECT, parse_event as parse_olap_event
from sample_events import load_event

SUPPORTING_AP_ARN = "arn:aws:s3:eu-west-1:111122223333:accesspoint/anon-s3ol-ap"


def test_an_s3_object_lambda_get_object_event():
    request = parse_olap_event(load_event("olap_get_object"))
    assert (request.operation, request.key, request.version_id) == (GET_OBJECT, "photo.jpg", None)
    assert (request.show_exif, request.range_header) == (False, None)
    assert (request.output_route, request.output_token) == ("io-euw1-042", "output-token-4f1d")
    assert request.supporting_access_point_arn == SUPPORTING_AP_ARN
    assert request.forward_headers == {}, "only Host was signed, and Host is never forwarded"


def test_an_s3_object_lambda_get_object_event_with_a_range():
    request = parse_olap_event(load_event("olap_get_object_range"))
    assert (request.operation, request.range_header) == (GET_OBJECT, "bytes=0-99")


def test_an_s3_object_lambda_head_object_event():
    request = parse_olap_event(load_event("olap_head_object"))
    assert (request.operation, request.key) == (HEAD_OBJECT, "photo.jpg")
    assert (request.output_route, request.output_token) == (None, None)
    assert request.input_url.startswith("https://anon-s3ol-ap-111122223333.s3-accesspoint.eu-west-1.amazonaws.com/photo.jpg?")


def test_a_function_url_get_event():
    assert parse_url_event(load_event("function_url_get")) == UrlRequest(
        method="GET",
        raw_path="/photo.jpg",
        key="photo.jpg",
        show_exif=False,
        range_header=None,
        request_id="c1a2b3d4-0000-4000-8000-000000000001",
    )


def test_a_function_url_head_event():
    request = parse_url_event(load_event("function_url_head"))
    assert (request.method, request.key) == ("HEAD", "photo.jpg")


def test_each_load_is_a_fresh_copy():
    event = load_event("function_url_get")
    event["rawPath"] = "/changed"
    assert load_event("function_url_get")["rawPath"] == "/photo.jpg"


def test_an_s3_batch_operations_lambda_invoke_event():
    # The audit handler reads it through Powertools' data class, as audit/handler.py does.
    from aws_lambda_powertools.utilities.data_classes import S3BatchOperationEvent

    event = S3BatchOperationEvent(load_event("s3_batch_lambda_invoke"))
    assert (event.invocation_schema_version, event.job.get_id) == ("2.0", "f3cc4f60-61f6-4a2b-8a21-d07600c373ce")
    assert event.job.user_arguments == {"keepCopyright": "false"}
    (task,) = event.tasks
    assert (task.s3_bucket, task.s3_key, task.s3_version_id) == (
        "anon-s3ol-images-111122223333",
        "photos/2024/holiday photo.jpg",
        None,
    )
