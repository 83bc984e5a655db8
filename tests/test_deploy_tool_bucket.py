"""deploy.sh --bucket's Python side without AWS (tools/deploy/existing_bucket.py), the refusal clean-up
(tools/deploy/refusal.py) and the network failures: botocore's Stubber answers each call as S3 and
CloudFormation would, error codes included."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from tools.deploy import cli, command_line, existing_bucket, refusal
from tools.deploy.report import DeployError

REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUCKET = "family.photos"
STACK = "photos-storage"
ALL_BLOCKED = {flag: True for flag in existing_bucket.PUBLIC_ACCESS_FLAGS}


def stubbed(service: str) -> Any:
    client = botocore.session.get_session().create_client(
        service, region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )
    client.stubber = Stubber(client)
    client.stubber.activate()
    return client


@pytest.fixture
def s3() -> Any:
    client = stubbed("s3")
    yield client
    client.stubber.assert_no_pending_responses()


@pytest.fixture
def s3control() -> Any:
    return stubbed("s3control")


def owner(**extra: str) -> dict[str, str]:
    return {"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT, **extra}


def answers(
    s3: Any,
    location: str | None = REGION,
    ownership: str | None = "BucketOwnerEnforced",
    blocked: dict[str, bool] | None = ALL_BLOCKED,
    algorithm: str | None = "AES256",
) -> None:
    """S3's answers to the checks, in the order check_bucket asks; a None configuration is S3's 'none' error."""
    s3.stubber.add_response("head_bucket", {}, owner())
    s3.stubber.add_response("get_bucket_location", {"LocationConstraint": location} if location else {}, owner())
    if ownership is None:
        s3.stubber.add_client_error("get_bucket_ownership_controls", existing_bucket.NO_OWNERSHIP_CONTROLS, http_status_code=404)
        return
    s3.stubber.add_response(
        "get_bucket_ownership_controls", {"OwnershipControls": {"Rules": [{"ObjectOwnership": ownership}]}}, owner()
    )
    if ownership != "BucketOwnerEnforced":
        return
    if blocked is None:
        s3.stubber.add_client_error("get_public_access_block", existing_bucket.NO_PUBLIC_ACCESS_BLOCK, http_status_code=404)
    else:
        s3.stubber.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": blocked}, owner())
    if blocked is None or not all(blocked.values()):
        return
    rules = [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}]
    s3.stubber.add_response("get_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": rules}}, owner())


def check(s3: Any, s3control: Any) -> None:
    existing_bucket.check_bucket(s3, s3control, BUCKET, ACCOUNT, REGION)


def test_a_private_bucket_in_the_region_passes(s3: Any, s3control: Any) -> None:
    answers(s3)
    check(s3, s3control)


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("404", 404, f"bucket {BUCKET} does not exist: --bucket names a bucket you already have"),
        ("403", 403, f"bucket {BUCKET} is not a bucket of account {ACCOUNT} these credentials can read (403"),
    ],
)
def test_a_missing_or_foreign_bucket_is_refused(code: str, status: int, message: str, s3: Any, s3control: Any) -> None:
    s3.stubber.add_client_error("head_bucket", code, http_status_code=status)
    with pytest.raises(DeployError, match=re.escape(message)):
        check(s3, s3control)


@pytest.mark.parametrize(("location", "region"), [(None, "us-east-1"), ("EU", "eu-west-1"), ("us-west-2", "us-west-2")])
def test_a_bucket_in_another_region_names_its_region(location: str | None, region: str, s3: Any, s3control: Any) -> None:
    s3.stubber.add_response("head_bucket", {}, owner())
    s3.stubber.add_response("get_bucket_location", {"LocationConstraint": location} if location else {}, owner())
    if region == REGION:  # the legacy EU is this test's region: the next check runs
        s3.stubber.add_client_error("get_bucket_ownership_controls", existing_bucket.NO_OWNERSHIP_CONTROLS)
        with pytest.raises(DeployError, match="Object Ownership none"):
            check(s3, s3control)
        return
    with pytest.raises(DeployError, match=re.escape(f"bucket {BUCKET} is in {region}, not {REGION}: ")) as raised:
        check(s3, s3control)
    assert f"(./deploy.sh {region} ... --bucket {BUCKET})" in str(raised.value)


@pytest.mark.parametrize(("ownership", "shown"), [(None, "none (ACLs enabled)"), ("ObjectWriter", "ObjectWriter"),
                                                  ("BucketOwnerPreferred", "BucketOwnerPreferred")])
def test_acls_enabled_are_refused_with_the_fix(ownership: str | None, shown: str, s3: Any, s3control: Any) -> None:
    answers(s3, ownership=ownership)
    with pytest.raises(DeployError) as raised:
        check(s3, s3control)
    text = str(raised.value)
    assert text.startswith(f"bucket {BUCKET} has Object Ownership {shown}: ")
    assert f"'aws s3api put-bucket-ownership-controls --bucket {BUCKET} --ownership-controls " in text
    assert "\n" not in text


def test_public_access_not_blocked_is_refused(s3: Any, s3control: Any) -> None:
    answers(s3, blocked={**ALL_BLOCKED, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3control.stubber.add_client_error("get_public_access_block", existing_bucket.NO_PUBLIC_ACCESS_BLOCK, http_status_code=404)
    with pytest.raises(DeployError, match=re.escape(
        f"bucket {BUCKET} does not block all public access (BlockPublicPolicy, RestrictPublicBuckets off)"
    )):
        check(s3, s3control)


def test_public_access_blocked_for_the_account_is_enough(s3: Any, s3control: Any) -> None:
    answers(s3, blocked=None)
    s3control.stubber.add_response(
        "get_public_access_block", {"PublicAccessBlockConfiguration": ALL_BLOCKED}, {"AccountId": ACCOUNT}
    )
    s3.stubber.add_response(
        "get_bucket_encryption",
        {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}},
        owner(),
    )
    check(s3, s3control)


@pytest.mark.parametrize("algorithm", ["aws:kms", "aws:kms:dsse"])
def test_kms_default_encryption_is_refused(algorithm: str, s3: Any, s3control: Any) -> None:
    answers(s3, algorithm=algorithm)
    with pytest.raises(DeployError, match=f"bucket {re.escape(BUCKET)} encrypts new objects with SSE-KMS by default"):
        check(s3, s3control)


# --- the bucket policy ---------------------------------------------------------------------------------------


def required(origin_mode: str = "olap-oac") -> list[dict[str, Any]]:
    return existing_bucket.required_statements(
        origin_mode, partition="aws", account=ACCOUNT, region=REGION, prefix="photos", bucket=BUCKET
    )


USERS_STATEMENT = {
    "Sid": "TeamReads",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}


def test_required_statements_name_this_deployments_access_point_and_account() -> None:
    delegate, cloudfront = required()
    assert delegate["Sid"] == "DelegateReadsToSupportingAccessPoint"
    assert delegate["Principal"] == {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}
    assert delegate["Resource"] == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
    access_point = f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/photos-ap"
    assert delegate["Condition"] == {"ArnEquals": {"s3:DataAccessPointArn": access_point}}
    assert cloudfront["Principal"] == {"Service": ["cloudfront.amazonaws.com"]}
    assert cloudfront["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert [s["Sid"] for s in required("olap")] == ["DelegateReadsToSupportingAccessPoint"]
    assert required("") == []


def test_missing_statements_are_added_and_every_other_statement_kept() -> None:
    policy = {"Version": "2012-10-17", "Id": "family", "Statement": [USERS_STATEMENT]}
    missing = existing_bucket.missing_statements(policy, required(), BUCKET)
    assert missing == required()
    merged = existing_bucket.merged_policy(policy, missing)
    assert merged == {"Version": "2012-10-17", "Id": "family", "Statement": [USERS_STATEMENT, *required()]}
    # Once added, nothing is missing (a second run changes nothing), even with single values and another order.
    reordered = [dict(s, Action=list(reversed(s["Action"]))) for s in reversed(required())]
    assert existing_bucket.missing_statements({"Statement": [USERS_STATEMENT, *reordered]}, required(), BUCKET) == []


def test_a_statement_written_with_single_values_is_the_same_statement() -> None:
    """IAM reads "Action": "s3:GetObject" as ["s3:GetObject"]: a policy holding the statements in that form (as
    a person or another tool may write them) needs nothing more, and is not refused as a changed statement."""

    def single_values(node):
        if isinstance(node, dict):
            return {key: single_values(value) for key, value in node.items()}
        if isinstance(node, list) and len(node) == 1:
            return single_values(node[0])
        return node

    written = [single_values(statement) for statement in required()]
    assert isinstance(written[0]["Principal"]["AWS"], str)
    assert existing_bucket.missing_statements({"Statement": [USERS_STATEMENT, *written]}, required(), BUCKET) == []


def test_a_policy_with_one_statement_object_is_read_as_a_list() -> None:
    policy = {"Version": "2012-10-17", "Statement": USERS_STATEMENT}
    assert existing_bucket.merged_policy(policy, required("olap"))["Statement"] == [USERS_STATEMENT, *required("olap")]


def test_a_statement_with_the_same_sid_and_other_content_is_never_changed() -> None:
    changed = dict(required("olap")[0], Action=["s3:*"])
    with pytest.raises(DeployError, match="has a statement DelegateReadsToSupportingAccessPoint other than the one"):
        existing_bucket.missing_statements({"Statement": [changed]}, required("olap"), BUCKET)


def test_no_policy_gets_a_new_one_with_the_statements() -> None:
    assert existing_bucket.merged_policy(None, required()) == {"Version": "2012-10-17", "Statement": required()}


def test_refusal_is_one_line_with_the_command_to_add_them() -> None:
    settings = command_line.parse([REGION, "--prefix", "photos", "--bucket", BUCKET])
    line = existing_bucket.refusal(BUCKET, required("olap"), command_line.command(settings))
    assert "\n" not in line
    assert line.startswith(f"bucket {BUCKET} already has a policy, which deploy.sh does not replace; ")
    assert f"'./deploy.sh {REGION} --prefix photos --bucket {BUCKET} --add-bucket-policy'" in line
    document = json.loads(existing_bucket.statements_document(required("olap")))
    assert document == {"Statement": required("olap")}


def test_add_statements_writes_the_merged_policy(s3: Any) -> None:
    policy = {"Version": "2012-10-17", "Statement": [USERS_STATEMENT]}
    s3.stubber.add_response("get_bucket_policy", {"Policy": json.dumps(policy)}, owner())
    merged = json.dumps({"Version": "2012-10-17", "Statement": [USERS_STATEMENT, *required()]}, sort_keys=True)
    s3.stubber.add_response("put_bucket_policy", {}, owner(Policy=merged))
    assert existing_bucket.add_statements(s3, BUCKET, ACCOUNT, required()) == [
        "DelegateReadsToSupportingAccessPoint", "DelegateCloudFrontReadsToSupportingAccessPoint"
    ]


def test_add_statements_writes_nothing_when_they_are_there(s3: Any) -> None:
    policy = {"Version": "2012-10-17", "Statement": [USERS_STATEMENT, *required()]}
    s3.stubber.add_response("get_bucket_policy", {"Policy": json.dumps(policy)}, owner())
    assert existing_bucket.add_statements(s3, BUCKET, ACCOUNT, required()) == []


# --- after S3 Object Lambda refused the account --------------------------------------------------------------


REFUSED = (
    'Resource handler returned message: "Access Denied (Service: S3Control, Status Code: 403, Request ID: X)" '
    "(RequestToken: Y, HandlerErrorCode: AccessDenied)"
)


def stack_answer(status: str) -> dict[str, Any]:
    import datetime

    return {"Stacks": [{"StackName": STACK, "CreationTime": datetime.datetime(2026, 1, 1), "StackStatus": status}]}


def events(reason: str) -> dict[str, Any]:
    import datetime

    def event(status: str, logical: str, kind: str, why: str = "") -> dict[str, Any]:
        return {"StackId": "s", "EventId": logical + status, "StackName": STACK, "LogicalResourceId": logical,
                "ResourceType": kind, "ResourceStatus": status, "ResourceStatusReason": why,
                "Timestamp": datetime.datetime(2026, 1, 1)}

    return {"StackEvents": [
        event("ROLLBACK_COMPLETE", STACK, "AWS::CloudFormation::Stack"),
        event("CREATE_FAILED", "ObjectLambdaAccessPoint", "AWS::S3ObjectLambda::AccessPoint", reason),
        event("CREATE_IN_PROGRESS", STACK, "AWS::CloudFormation::Stack", "User Initiated"),
    ]}


@pytest.fixture
def cloudformation() -> Any:
    client = stubbed("cloudformation")
    yield client
    client.stubber.assert_no_pending_responses()


def refused_stack(cloudformation: Any, bucket: str | None, looked_up: bool = True) -> None:
    cloudformation.stubber.add_response("describe_stacks", stack_answer("ROLLBACK_COMPLETE"), {"StackName": STACK})
    cloudformation.stubber.add_response("describe_stack_events", events(REFUSED), {"StackName": STACK})
    if looked_up and bucket is None:
        cloudformation.stubber.add_client_error(
            "describe_stack_resource", "ValidationError", "Resource ImageBucket does not exist for stack"
        )
    elif looked_up:
        import datetime

        detail = {"LogicalResourceId": "ImageBucket", "PhysicalResourceId": bucket, "ResourceType": "AWS::S3::Bucket",
                  "LastUpdatedTimestamp": datetime.datetime(2026, 1, 1), "ResourceStatus": "DELETE_SKIPPED"}
        cloudformation.stubber.add_response(
            "describe_stack_resource", {"StackResourceDetail": detail},
            {"StackName": STACK, "LogicalResourceId": "ImageBucket"},
        )
    cloudformation.stubber.add_response("delete_stack", {}, {"StackName": STACK})
    cloudformation.stubber.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist"
    )


def test_refusal_deletes_the_stack_and_the_empty_bucket_it_kept(cloudformation: Any, s3: Any) -> None:
    refused_stack(cloudformation, "photos-storage-imagebucket-1a2b3c")
    s3.stubber.add_response("list_object_versions", {}, {"Bucket": "photos-storage-imagebucket-1a2b3c",
                                                         "MaxKeys": 1, "ExpectedBucketOwner": ACCOUNT})
    s3.stubber.add_response("delete_bucket", {}, {"Bucket": "photos-storage-imagebucket-1a2b3c",
                                                  "ExpectedBucketOwner": ACCOUNT})
    assert refusal.clean_up(cloudformation, s3, STACK, REGION, ACCOUNT, "") == [
        f"deleted the failed stack {STACK} in {REGION}",
        "deleted the empty bucket photos-storage-imagebucket-1a2b3c this run created",
    ]


def test_refusal_without_a_kept_bucket_deletes_the_stack_only(cloudformation: Any, s3: Any) -> None:
    refused_stack(cloudformation, None)
    assert refusal.clean_up(cloudformation, s3, STACK, REGION, ACCOUNT, "") == [
        f"deleted the failed stack {STACK} in {REGION}"
    ]


@pytest.mark.parametrize("held", [{"Versions": [{"Key": "a.jpg"}]}, {"DeleteMarkers": [{"Key": "gone.jpg"}]}])
def test_refusal_keeps_a_bucket_holding_anything(held: dict[str, Any], cloudformation: Any, s3: Any) -> None:
    refused_stack(cloudformation, "kept-bucket")
    s3.stubber.add_response("list_object_versions", held, {"Bucket": "kept-bucket", "MaxKeys": 1,
                                                           "ExpectedBucketOwner": ACCOUNT})
    assert refusal.clean_up(cloudformation, s3, STACK, REGION, ACCOUNT, "")[-1] == (
        "kept bucket kept-bucket, which this run created: it holds objects"
    )


def test_refusal_never_touches_the_bucket_given_with_bucket(cloudformation: Any, s3: Any) -> None:
    refused_stack(cloudformation, None, looked_up=False)
    assert refusal.clean_up(cloudformation, s3, STACK, REGION, ACCOUNT, BUCKET) == [
        f"deleted the failed stack {STACK} in {REGION}"
    ]


@pytest.mark.parametrize(
    ("status", "reason"),
    [("ROLLBACK_COMPLETE", "Resource handler returned message: \"Invalid request\" (HandlerErrorCode: InvalidRequest)"),
     ("UPDATE_ROLLBACK_COMPLETE", REFUSED)],
)
def test_any_other_failure_deletes_nothing(status: str, reason: str, cloudformation: Any, s3: Any) -> None:
    cloudformation.stubber.add_response("describe_stacks", stack_answer(status), {"StackName": STACK})
    if status == "ROLLBACK_COMPLETE":
        cloudformation.stubber.add_response("describe_stack_events", events(reason), {"StackName": STACK})
    assert refusal.clean_up(cloudformation, s3, STACK, REGION, ACCOUNT, "") == []


# --- a network failure is not a credentials problem --------------------------------------------------------


def test_unreachable_sts_is_reported_as_a_network_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://sts.eu-west-1.amazonaws.com/")

    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", unreachable)
    plan = tmp_path / "plan"
    assert cli.main(["preflight", "--out", str(plan), "--", REGION]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        'deploy.sh: cannot reach AWS: Could not connect to the endpoint URL: "https://sts.eu-west-1.amazonaws.com/" '
        "(check the network connection, a proxy, or AWS_ENDPOINT_URL; the credentials were not the problem)\n"
    )
    assert "credentials (" not in captured.err
    assert not plan.exists()


def test_a_closed_port_is_a_network_failure_end_to_end(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The real client against a local port nothing listens on: botocore's own connection error."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert cli.main(["preflight", "--out", str(tmp_path / "plan"), "--", REGION]) == 1
    err = capsys.readouterr().err
    assert err.startswith('deploy.sh: cannot reach AWS: Could not connect to the endpoint URL: "http://127.0.0.1:9/"')
    assert err.count("\n") == 1
