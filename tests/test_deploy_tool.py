"""tools/deploy, deploy.sh's Python side, without AWS: botocore's Stubber answers each call as AWS would
(error codes included), so every branch on an error code is exercised with the real client and its models."""

from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

ROOT = Path(__file__).resolve().parents[1]

from stacks import common
from stacks.policies import artifact_bucket_policy
from tools.deploy import artifacts, cli, command_line, notes, stacks_state
from tools.deploy.modes import MODES, clashing_stacks, leftover_stacks, switch_blockers
from tools.deploy.report import DeployError

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK = "photos-storage"
TEMPLATES = ROOT / "templates"


def client(service: str, region: str = REGION) -> Any:
    return botocore.session.get_session().create_client(
        service, region_name=region, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )


@pytest.fixture
def cloudformation() -> Any:
    cfn = client("cloudformation")
    with Stubber(cfn) as stubber:
        cfn.stubber = stubber
        yield cfn
        stubber.assert_no_pending_responses()


@pytest.fixture
def s3() -> Any:
    s3_client = client("s3")
    with Stubber(s3_client) as stubber:
        s3_client.stubber = stubber
        yield s3_client
        stubber.assert_no_pending_responses()


def stack(status: str, outputs: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": STACK,
                "CreationTime": datetime.datetime(2025, 1, 1),
                "StackStatus": status,
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
            }
        ]
    }


# --- stack status: only "does not exist" means no stack ----------------------------------------------


def test_missing_stack_is_none(cloudformation: Any) -> None:
    cloudformation.stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {STACK} does not exist",
        http_status_code=400,
        expected_params={"StackName": STACK},
    )
    assert stacks_state.stack_status(cloudformation, STACK, REGION) is None


def test_existing_stack_gives_its_status(cloudformation: Any) -> None:
    cloudformation.stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    assert stacks_state.stack_status(cloudformation, STACK, REGION) == "UPDATE_COMPLETE"


@pytest.mark.parametrize(
    ("code", "status", "message", "explained"),
    [
        pytest.param(
            "AccessDenied",
            403,
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:DescribeStacks",
            "(the credentials may not call DescribeStacks)",
            id="access-denied",
        ),
        pytest.param("Throttling", 400, "Rate exceeded", "run deploy.sh again in a minute", id="throttling"),
        # A ValidationError that is not about a missing stack (a malformed name) is no answer either.
        pytest.param("ValidationError", 400, "1 validation error detected: Value 'x'", "", id="other-validation"),
    ],
)
def test_a_refused_status_read_is_an_error_never_no_stack(
    code: str, status: int, message: str, explained: str, cloudformation: Any
) -> None:
    cloudformation.stubber.add_client_error(
        "describe_stacks", service_error_code=code, service_message=message, http_status_code=status
    )
    with pytest.raises(DeployError) as raised:
        stacks_state.stack_status(cloudformation, STACK, REGION)
    text = str(raised.value)
    assert text.startswith(f"cannot read the status of stack {STACK} in {REGION}: {code}: {message}")
    assert explained in text
    assert "\n" not in text


def test_a_denied_read_of_the_other_modes_stack_stops_the_run(cloudformation: Any) -> None:
    # function-url mode: its own stack is missing, reading the olap storage stack is denied.
    cloudformation.stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id photos-fnurl does not exist",
        expected_params={"StackName": "photos-fnurl"},
    )
    cloudformation.stubber.add_client_error(
        "describe_stacks",
        service_error_code="AccessDenied",
        service_message="denied",
        http_status_code=403,
        expected_params={"StackName": "photos-storage"},
    )
    denied = r"^cannot read the status of stack photos-storage in eu-west-1: AccessDenied"
    with pytest.raises(DeployError, match=denied):
        stacks_state.check_stacks(lambda region: cloudformation, MODES["function-url"], REGION, "photos", "")


@pytest.mark.parametrize(
    ("status", "start"),
    [
        ("ROLLBACK_COMPLETE", "stack s in r is ROLLBACK_COMPLETE (its creation failed) and cannot be updated"),
        ("DELETE_FAILED", "stack s in r is DELETE_FAILED and cannot be updated"),
        ("UPDATE_ROLLBACK_FAILED", "stack s in r is UPDATE_ROLLBACK_FAILED: recover it"),
        ("UPDATE_IN_PROGRESS", "stack s in r is busy (UPDATE_IN_PROGRESS)"),
    ],
)
def test_states_cloudformation_cannot_update_are_named(status: str, start: str) -> None:
    assert stacks_state.unusable_reason("s", "r", status, "").startswith(start)


@pytest.mark.parametrize("status", [None, "CREATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"])
def test_updatable_states_pass(status: str | None) -> None:
    assert stacks_state.unusable_reason("s", "r", status, "") is None


# --- the failed-events report -------------------------------------------------------------------------


def event(status: str, logical: str, resource_type: str, reason: str | None = None) -> dict[str, Any]:
    record = {
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/photos-storage/1",
        "EventId": f"{logical}-{status}",
        "StackName": STACK,
        "LogicalResourceId": logical,
        "ResourceType": resource_type,
        "ResourceStatus": status,
        "Timestamp": datetime.datetime(2025, 1, 1),
    }
    if reason is not None:
        record["ResourceStatusReason"] = reason
    return record


# How CloudFormation's resource handler reports S3 Control's 403 for the Object Lambda access point (the form of
# its AccessDenied events; AWS publishes no wording of its own for an account that is not allow-listed).
REFUSAL_REASON = (
    'Resource handler returned message: "Access Denied (Service: S3Control, Status Code: 403, Request ID: '
    'A1B2C3D4E5F6)" (RequestToken: 0f7b1d9e-1111-2222-3333-444455556666, HandlerErrorCode: AccessDenied)'
)


def test_failed_events_of_the_latest_operation_only(cloudformation: Any, capsys: pytest.CaptureFixture) -> None:
    events = [
        event("ROLLBACK_COMPLETE", STACK, "AWS::CloudFormation::Stack"),
        event("CREATE_FAILED", "Olap", "AWS::S3ObjectLambda::AccessPoint", REFUSAL_REASON),
        event("CREATE_FAILED", "Fn", "AWS::Lambda::Function", "Resource creation cancelled"),
        event("CREATE_IN_PROGRESS", STACK, "AWS::CloudFormation::Stack", "User Initiated"),
        event("UPDATE_FAILED", "Old", "AWS::Lambda::Function", "an older operation"),
    ]
    cloudformation.stubber.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": STACK})
    stacks_state.print_failed_events(cloudformation, STACK, REGION, "./deploy.sh eu-west-1 --mode function-url")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"deploy.sh: failed events of stack {STACK} in {REGION} (newest first):\n"
        f"  CREATE_FAILED  Olap (AWS::S3ObjectLambda::AccessPoint): {REFUSAL_REASON}\n"
        "  CREATE_FAILED  Fn (AWS::Lambda::Function): Resource creation cancelled\n"
        "deploy.sh: S3 Object Lambda refused this account (since 2025-11-07 it accepts only AWS accounts that used "
        "it before; or these credentials lack s3:CreateAccessPointForObjectLambda): deploy the function-URL mode "
        "instead, which needs no S3 Object Lambda: ./deploy.sh eu-west-1 --mode function-url\n"
    )


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("CREATE_FAILED", "Resource creation cancelled"),
        ("CREATE_FAILED", "Resource handler returned message: \"anon-s3ol-olap already exists\" (HandlerErrorCode: "
         "AlreadyExists)"),
        ("CREATE_FAILED", "Properties validation failed for resource Olap with message: #/Name: failed validation"),
        ("UPDATE_FAILED", REFUSAL_REASON),
    ],
)
def test_only_a_denied_creation_of_the_access_point_is_a_refusal(
    status: str, reason: str, cloudformation: Any, capsys: pytest.CaptureFixture
) -> None:
    events = [event(status, "Olap", "AWS::S3ObjectLambda::AccessPoint", reason)]
    cloudformation.stubber.add_response("describe_stack_events", {"StackEvents": events})
    stacks_state.print_failed_events(cloudformation, STACK, REGION, "unused")
    assert "refused" not in capsys.readouterr().err
    assert not stacks_state.object_lambda_refused(events)


def test_a_denied_function_is_not_an_object_lambda_refusal() -> None:
    events = [event("CREATE_FAILED", "Fn", "AWS::Lambda::Function", REFUSAL_REASON)]
    assert not stacks_state.object_lambda_refused(events)
    assert stacks_state.object_lambda_refused([event("CREATE_FAILED", "Olap", "AWS::S3ObjectLambda::AccessPoint", REFUSAL_REASON)])


def test_unreadable_events_are_reported_in_one_line(cloudformation: Any, capsys: pytest.CaptureFixture) -> None:
    cloudformation.stubber.add_client_error(
        "describe_stack_events", service_error_code="AccessDenied", service_message="no", http_status_code=403
    )
    stacks_state.print_failed_events(cloudformation, STACK, REGION, "unused")
    assert capsys.readouterr().err == (
        f"deploy.sh: could not read the events of stack {STACK} in {REGION}: AccessDenied: no "
        "(the credentials may not call DescribeStackEvents)\n"
    )


def test_fallback_command_keeps_region_prefix_and_profile() -> None:
    assert stacks_state.fallback_command("eu-west-1", common.DEFAULT_PREFIX, "") == (
        "./deploy.sh eu-west-1 --mode function-url"
    )
    assert stacks_state.fallback_command("eu-west-1", "photos", "my team") == (
        "./deploy.sh eu-west-1 --mode function-url --prefix photos --profile 'my team'"
    )
    assert stacks_state.fallback_command("eu-west-1", "photos", "", "my.photos") == (
        "./deploy.sh eu-west-1 --mode function-url --prefix photos --bucket my.photos"
    )


# --- the artifact bucket ------------------------------------------------------------------------------


def test_artifact_bucket_policy_is_the_templates_statement() -> None:
    """The same statement the templates' buckets carry, but with plain ARNs."""
    storage = json.loads((TEMPLATES / "storage.json").read_text())
    (policy,) = [r for r in storage["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"]
    document = policy["Properties"]["PolicyDocument"]
    # The document differs by OriginMode (Fn::If); both branches start with the same statement.
    branches = document["Fn::If"][1:] if "Fn::If" in document else [document]
    (template_deny,) = {json.dumps(branch["Statement"][0], sort_keys=True) for branch in branches}
    template_deny = json.loads(template_deny)
    # Written out here, not taken from stacks/policies.py, which builds both.
    expected = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert {k: v for k, v in template_deny.items() if k != "Resource"} == expected
    ours = json.loads(artifact_bucket_policy("arn:aws:s3:::b").to_json())["Statement"][0]
    assert {k: v for k, v in ours.items() if k != "Resource"} == expected


def test_missing_bucket_is_created_and_configured(s3: Any, capsys: pytest.CaptureFixture) -> None:
    bucket = "photos-artifacts-123456789012-eu-west-1"
    s3.stubber.add_client_error(
        "head_bucket", service_error_code="404", service_message="Not Found", http_status_code=404
    )
    s3.stubber.add_response(
        "create_bucket",
        {},
        {
            "Bucket": bucket,
            "ObjectOwnership": "BucketOwnerEnforced",
            "CreateBucketConfiguration": {"LocationConstraint": REGION},
        },
    )
    s3.stubber.add_response(
        "put_public_access_block",
        {},
        {
            "Bucket": bucket,
            "PublicAccessBlockConfiguration": dict.fromkeys(
                ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
            ),
        },
    )
    s3.stubber.add_response(
        "put_bucket_encryption",
        {},
        {
            "Bucket": bucket,
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        },
    )
    s3.stubber.add_response("put_bucket_policy", {}, {"Bucket": bucket, "Policy": artifacts.policy_json("aws", bucket)})
    artifacts.ensure_bucket(s3, bucket, ACCOUNT, REGION, "aws")
    assert capsys.readouterr().out == (
        "Creating the bucket\nPublic access blocked, default encryption on, TLS-only policy set\n"
    )


def test_bucket_in_us_east_1_is_created_without_a_location() -> None:
    s3_east = client("s3", "us-east-1")
    with Stubber(s3_east) as stubber:
        stubber.add_response("create_bucket", {}, {"Bucket": "b", "ObjectOwnership": "BucketOwnerEnforced"})
        artifacts.create_bucket(s3_east, "b", "us-east-1")
        stubber.assert_no_pending_responses()


def test_forbidden_bucket_is_an_error_not_missing(s3: Any) -> None:
    # Another account's bucket, or no permission: HeadBucket answers 403, never to be created over.
    s3.stubber.add_client_error(
        "head_bucket", service_error_code="403", service_message="Forbidden", http_status_code=403
    )
    with pytest.raises(DeployError, match=r"^cannot use the artifact bucket b: 403: Forbidden"):
        artifacts.ensure_bucket(s3, "b", ACCOUNT, REGION, "aws")


def test_zip_already_uploaded_is_not_uploaded_again(s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    s3.stubber.add_response("head_object", {}, {"Bucket": "b", "Key": "k.zip", "ExpectedBucketOwner": ACCOUNT})
    artifacts.upload(s3, "b", "k.zip", tmp_path / "unread.zip", ACCOUNT)
    assert capsys.readouterr().out == "s3://b/k.zip is already uploaded\n"


def test_forbidden_object_check_uploads_nothing(s3: Any, tmp_path: Path) -> None:
    s3.stubber.add_client_error(
        "head_object", service_error_code="403", service_message="Forbidden", http_status_code=403
    )
    with pytest.raises(DeployError, match=r"^cannot check s3://b/k\.zip: 403: Forbidden"):
        artifacts.upload(s3, "b", "k.zip", tmp_path / "unread.zip", ACCOUNT)


# --- modes and names ----------------------------------------------------------------------------------


def test_steps_per_mode() -> None:
    assert {name: mode.steps for name, mode in MODES.items()} == {"olap": 7, "olap-oac": 6, "function-url": 5}


def test_each_mode_clashes_with_the_other_modes_transform_stack() -> None:
    def clashes(mode: str) -> list[tuple[str, list[str]]]:
        return [(role, [other.name for other in others]) for role, others in clashing_stacks(MODES[mode])]

    assert clashes("olap") == [("function-url", ["function-url"])]
    assert clashes("olap-oac") == [("function-url", ["function-url"])]
    assert clashes("function-url") == [("storage", ["olap", "olap-oac"])]


def test_each_object_lambda_mode_refuses_to_run_next_to_the_others_distribution() -> None:
    def blockers(mode: str) -> list[tuple[str, str]]:
        return [(role, other.name) for role, other in switch_blockers(MODES[mode])]

    assert blockers("olap") == [("cdn-oac", "olap-oac")]
    assert blockers("olap-oac") == [("cdn", "olap")]
    assert blockers("function-url") == []


def test_only_the_edge_signer_is_left_unused_after_a_switch() -> None:
    def leftovers(mode: str) -> list[tuple[str, str, str]]:
        return [(spec.role, spec.placement, other.name) for spec, other in leftover_stacks(MODES[mode])]

    assert leftovers("olap-oac") == [("lambda-edge", "edge", "olap")]
    assert leftovers("olap") == []
    assert leftovers("function-url") == []


def test_origin_modes_are_the_storage_templates() -> None:
    storage = json.loads((TEMPLATES / "storage.json").read_text())
    origin_modes = [mode.origin_mode for mode in MODES.values() if mode.origin_mode]
    assert origin_modes == list(common.ORIGIN_MODES) == storage["Parameters"]["OriginMode"]["AllowedValues"]
    # The stack that owns the Object Lambda access point's policy in each mode holds that resource.
    for mode in MODES.values():
        if mode.access_point_policy_stack:
            template = json.loads((TEMPLATES / f"{mode.access_point_policy_stack}.json").read_text())
            types = [r["Type"] for r in template["Resources"].values()]
            assert "AWS::S3ObjectLambda::AccessPointPolicy" in types, mode.name


def test_exif_query_values_are_the_templates() -> None:
    for name in ("storage", "function-url"):
        parameter = json.loads((TEMPLATES / f"{name}.json").read_text())["Parameters"][notes.EXIF_QUERY_PARAMETER]
        assert parameter["Default"] == notes.EXIF_QUERY_PRIVATE
        assert notes.EXIF_QUERY_REVEALING in parameter["AllowedValues"]


# --- preflight: which stacks of the prefix stop a mode ------------------------------------------------


def statuses(cloudformation: Any, answers: dict[str, str | None]) -> None:
    """Stub describe_stacks for each stack in order: a status, or None for "does not exist"."""
    for name, status in answers.items():
        if status is None:
            cloudformation.stubber.add_client_error(
                "describe_stacks",
                service_error_code="ValidationError",
                service_message=f"Stack with id {name} does not exist",
                http_status_code=400,
                expected_params={"StackName": name},
            )
        else:
            answer = stack(status)
            answer["Stacks"][0]["StackName"] = name
            cloudformation.stubber.add_response("describe_stacks", answer, {"StackName": name})


def check(cloudformation: Any, mode: str, profile: str = "") -> None:
    stacks_state.check_stacks(lambda region: cloudformation, MODES[mode], REGION, "photos", profile)


@pytest.mark.parametrize(
    ("mode", "answers", "message"),
    [
        pytest.param(
            "olap-oac",
            {"photos-storage": "UPDATE_COMPLETE", "photos-cdn-oac": None, "photos-fnurl": None,
             "photos-cdn": "CREATE_COMPLETE"},
            "stack photos-cdn in eu-west-1 (CREATE_COMPLETE) is the --mode olap distribution of prefix photos; the "
            "Object Lambda access point photos-olap has one policy, owned by stack photos-storage in --mode olap "
            "and by stack photos-cdn-oac in --mode olap-oac, so the two distributions cannot share it: to switch "
            "this prefix to --mode olap-oac, first run 'aws cloudformation delete-stack --stack-name photos-cdn "
            "--region eu-west-1 --profile team' and 'aws cloudformation wait stack-delete-complete --stack-name "
            "photos-cdn --region eu-west-1 --profile team', then run deploy.sh again (or deploy with another --prefix)",
            id="olap-distribution-stops-olap-oac",
        ),
        pytest.param(
            "olap",
            {"photos-storage": "UPDATE_COMPLETE", "photos-lambda-edge": None, "photos-cdn": None,
             "photos-fnurl": None, "photos-cdn-oac": "UPDATE_ROLLBACK_COMPLETE"},
            "stack photos-cdn-oac in eu-west-1 (UPDATE_ROLLBACK_COMPLETE) is the --mode olap-oac distribution of "
            "prefix photos; the Object Lambda access point photos-olap has one policy, owned by stack "
            "photos-cdn-oac in --mode olap-oac and by stack photos-storage in --mode olap, so the two distributions "
            "cannot share it: to switch this prefix to --mode olap, first run 'aws cloudformation delete-stack "
            "--stack-name photos-cdn-oac --region eu-west-1 --profile team' and",
            id="olap-oac-distribution-stops-olap",
        ),
        pytest.param(
            "function-url",
            {"photos-fnurl": None, "photos-storage": "CREATE_COMPLETE"},
            "stack photos-storage in eu-west-1 (CREATE_COMPLETE) is the --mode olap or --mode olap-oac deployment "
            "of prefix photos; both modes name the function photos-exif-transform, so deploy --mode function-url "
            "with another --prefix",
            id="either-object-lambda-mode-stops-function-url",
        ),
        pytest.param(
            "olap-oac",
            {"photos-storage": None, "photos-cdn-oac": None, "photos-fnurl": "CREATE_COMPLETE"},
            "stack photos-fnurl in eu-west-1 (CREATE_COMPLETE) is the --mode function-url deployment of prefix "
            "photos; both modes name the function photos-exif-transform, so deploy --mode olap-oac with another "
            "--prefix",
            id="function-url-stops-olap-oac",
        ),
    ],
)
def test_another_modes_stack_stops_the_run(
    mode: str, answers: dict[str, str | None], message: str, cloudformation: Any
) -> None:
    statuses(cloudformation, answers)
    with pytest.raises(DeployError) as raised:
        check(cloudformation, mode, profile="team")
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("mode", "answers"),
    [
        # A distribution stack whose creation failed holds nothing: rolling back deleted it all.
        ("olap-oac", {"photos-storage": "UPDATE_COMPLETE", "photos-cdn-oac": None, "photos-fnurl": None,
                      "photos-cdn": "ROLLBACK_COMPLETE"}),
        ("olap", {"photos-storage": "UPDATE_COMPLETE", "photos-lambda-edge": None, "photos-cdn": None,
                  "photos-fnurl": None, "photos-cdn-oac": "ROLLBACK_COMPLETE"}),
        # The switch itself: olap's storage stack (and its edge signer) without its distribution.
        ("olap-oac", {"photos-storage": "UPDATE_COMPLETE", "photos-cdn-oac": None, "photos-fnurl": None,
                      "photos-cdn": None}),
        ("olap", {"photos-storage": "UPDATE_COMPLETE", "photos-lambda-edge": "UPDATE_COMPLETE", "photos-cdn": None,
                  "photos-fnurl": None, "photos-cdn-oac": None}),
        # A storage stack whose creation failed does not stop the function-URL mode.
        ("function-url", {"photos-fnurl": None, "photos-storage": "ROLLBACK_COMPLETE"}),
    ],
)
def test_stacks_that_hold_nothing_of_another_mode_pass(
    mode: str, answers: dict[str, str | None], cloudformation: Any
) -> None:
    statuses(cloudformation, answers)
    check(cloudformation, mode)


# --- after a run: notes on stderr ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["safe", "off", "no-gps", None])
def test_no_warning_unless_exif_query_is_full(value: str | None) -> None:
    parameters = {"Prefix": "photos"} if value is None else {"ExifQuery": value}
    assert notes.exif_query_warning("photos-storage", REGION, "storage", parameters, "") is None


def test_exif_query_full_is_one_warning_line_with_the_fix() -> None:
    warning = notes.exif_query_warning("photos-fnurl", REGION, "function-url", {"ExifQuery": "full"}, "a b")
    assert warning == (
        "warning: stack photos-fnurl in eu-west-1 has ExifQuery=full: ?showExif=true gives anyone with an image's "
        "URL its GPS position, serial numbers and owner names; to answer with technical fields only, run "
        "'aws cloudformation deploy --stack-name photos-fnurl --region eu-west-1 --profile 'a b' --template-file "
        "templates/function-url.json --capabilities CAPABILITY_NAMED_IAM --parameter-overrides ExifQuery=safe' "
        "(later runs of deploy.sh keep it)"
    )


def test_unused_edge_signer_note_says_when_to_delete_it() -> None:
    note = notes.unused_edge_stack_note(
        "photos-lambda-edge", "us-east-1", "UPDATE_COMPLETE", MODES["olap"], MODES["olap-oac"], "photos", ""
    )
    assert note == (
        "note: stack photos-lambda-edge in us-east-1 (UPDATE_COMPLETE) is the --mode olap edge signer, which "
        "--mode olap-oac does not use: once CloudFront has removed the function's replicas (typically a few hours "
        "after the photos-cdn distribution is gone) delete it with 'aws cloudformation delete-stack --stack-name "
        "photos-lambda-edge --region us-east-1' (deploy.sh does not delete it)"
    )


# --- the edge version from SSM ------------------------------------------------------------------------

SIGNER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:photos-edge-signer"


@pytest.mark.parametrize("value", [f"{SIGNER}:1", f"{SIGNER}:42"])
def test_a_version_of_this_accounts_signer_is_accepted(value: str) -> None:
    assert cli.checked_edge_version(value, "/photos/x", "aws", ACCOUNT, "photos") == value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("arn:aws:lambda:us-east-1:210987654321:function:photos-edge-signer:3", id="other-account"),
        pytest.param(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:attacker:3", id="other-function"),
        pytest.param(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:other-edge-signer:3", id="other-prefix"),
        pytest.param(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:photos-edge-signer-x:3", id="longer-name"),
        pytest.param(f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:photos-edge-signer:3", id="other-region"),
        pytest.param(f"arn:aws-cn:lambda:us-east-1:{ACCOUNT}:function:photos-edge-signer:3", id="other-partition"),
        pytest.param(SIGNER, id="unqualified"),
        pytest.param(f"{SIGNER}:$LATEST", id="latest"),
        pytest.param(f"{SIGNER}:live", id="alias"),
        pytest.param(f"{SIGNER}:0", id="version-zero"),
        pytest.param(f"{SIGNER}:1\n", id="trailing-newline"),
        pytest.param("x" * 5000, id="long-junk"),
    ],
)
def test_any_other_edge_version_is_refused_in_one_line(value: str) -> None:
    with pytest.raises(DeployError) as raised:
        cli.checked_edge_version(value, "/photos/x", "aws", ACCOUNT, "photos")
    text = str(raised.value)
    assert text.startswith("SSM parameter /photos/x in us-east-1 holds '")
    assert f"not a version of this account's edge function ({SIGNER}:<n>); the cdn stack was not changed" in text
    assert "\n" not in text and len(text) < 600


def test_plan_names_every_stack_of_the_prefix() -> None:
    settings = command_line.Settings(region=REGION, mode="olap", prefix="photos", profile="team")
    assert cli.plan_lines(settings, ACCOUNT, "aws") == [
        "MODE=olap",
        "REGION=eu-west-1",
        "PREFIX=photos",
        "PROFILE=team",
        "TOTAL_STEPS=7",
        f"ACCOUNT={ACCOUNT}",
        "PARTITION=aws",
        f"ARTIFACT_BUCKET=photos-artifacts-{ACCOUNT}-eu-west-1",
        "EDGE_REGION=us-east-1",
        "EDGE_VERSION_PARAMETER=/photos/Edge-Origin-Request-Fn-Version-Arn",
        "ORIGIN_MODE=olap",
        "STORAGE_STACK=photos-storage",
        "LAMBDA_EDGE_STACK=photos-lambda-edge",
        "CDN_STACK=photos-cdn",
        "CDN_OAC_STACK=photos-cdn-oac",
        "FUNCTION_URL_STACK=photos-fnurl",
        "EXISTING_BUCKET=",
        "BUCKET_POLICY=",
        "ALLOWED_ORIGINS_OVERRIDE=",
        "STREAMING_RESPONSES=true",
    ]
    oac = cli.plan_lines(command_line.Settings(region=REGION, mode="olap-oac", prefix="photos"), ACCOUNT, "aws")
    assert ("TOTAL_STEPS=6", "ORIGIN_MODE=olap-oac") == (oac[4], oac[10])
    url = cli.plan_lines(command_line.Settings(region=REGION, mode="function-url", prefix="photos"), ACCOUNT, "aws")
    assert url[10] == "ORIGIN_MODE="


def test_plan_carries_the_bucket_the_origins_and_the_buffered_choice() -> None:
    settings = command_line.Settings(
        region=REGION, mode="function-url", prefix="photos", bucket="my.photos",
        allowed_origins="https://a.example,https://b.example", buffered=True,
    )
    assert cli.plan_lines(settings, ACCOUNT, "aws", cli.ADD_STATEMENTS)[-4:] == [
        "EXISTING_BUCKET=my.photos",
        "BUCKET_POLICY=add",
        "ALLOWED_ORIGINS_OVERRIDE=AllowedOrigins=https://a.example,https://b.example",
        "STREAMING_RESPONSES=false",
    ]
    # --allowed-origins none sets the parameter empty (no CORS header).
    cleared = command_line.parse([REGION, "--allowed-origins", "none"])
    assert cli.plan_lines(cleared, ACCOUNT, "aws")[-2] == "ALLOWED_ORIGINS_OVERRIDE=AllowedOrigins="


def test_deploy_sh_reads_every_plan_name() -> None:
    script = (ROOT / "deploy.sh").read_text()
    (case,) = re.findall(r"case \"\$name\" in\n(.*?)\)\n", script, re.DOTALL)
    assert set(re.findall(r"[A-Z_]+", case)) == set(cli.PLAN_NAMES)


def test_region_and_edge_version_patterns_are_the_templates() -> None:
    lambda_edge = json.loads((TEMPLATES / "lambda-edge.json").read_text())
    cdn = json.loads((TEMPLATES / "cdn.json").read_text())
    assert lambda_edge["Parameters"]["TargetRegion"]["AllowedPattern"] == common.REGION_NAME_PATTERN
    assert cdn["Parameters"]["EdgeFunctionVersionArn"]["AllowedPattern"] == common.EDGE_VERSION_ARN_PATTERN


def test_edge_version_parameter_is_the_one_the_lambda_edge_stack_writes() -> None:
    lambda_edge = json.loads((TEMPLATES / "lambda-edge.json").read_text())
    (parameter,) = [r for r in lambda_edge["Resources"].values() if r["Type"] == "AWS::SSM::Parameter"]
    name = parameter["Properties"]["Name"]["Fn::Sub"].replace("${Prefix}", "photos")
    assert cli.edge_version_parameter("photos") == name == "/photos/Edge-Origin-Request-Fn-Version-Arn"


def test_only_the_refusal_clean_up_deletes_and_only_a_stack_and_a_bucket() -> None:
    deletions = {}
    calls = set()
    for source in (ROOT / "tools" / "deploy").glob("*.py"):
        found = set(re.findall(r"\.([a-z_]+)\(", source.read_text()))
        calls |= found
        deleting = sorted(c for c in found if re.match(r"(delete|remove)_", c))
        if deleting:
            deletions[source.name] = deleting
    assert {"put_object", "create_bucket", "put_bucket_policy"} <= calls, "the pattern no longer finds the calls"
    # Never an object, a bucket policy or anything else.
    assert deletions == {"refusal.py": ["delete_bucket", "delete_stack"]}


# --- the command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["eu-west-1"], command_line.Settings("eu-west-1", "olap", common.DEFAULT_PREFIX, "")),
        (
            ["--mode=function-url", "--prefix", "p1x", "eu-west-1", "--profile", "a b"],
            command_line.Settings("eu-west-1", "function-url", "p1x", "a b"),
        ),
        (["--", "-odd"], command_line.Settings("-odd", "olap", common.DEFAULT_PREFIX, "")),
        (["eu-west-1", "--mode", "olap-oac"], command_line.Settings("eu-west-1", "olap-oac", common.DEFAULT_PREFIX)),
    ],
)
def test_command_line_is_read(argv: list[str], expected: command_line.Settings) -> None:
    assert command_line.parse(argv) == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "missing <region>"),
        (["a", "b"], "unexpected argument 'b'"),
        (["a", "-x"], "unknown option '-x'"),
        (["a", "--prefix"], "--prefix needs a value"),
        (["a", "--profile="], "--profile needs a value"),
        (["a", "--mode", "oac"], "unknown mode 'oac': use olap, olap-oac or function-url"),
    ],
)
def test_unreadable_command_lines_are_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(command_line.UsageError) as raised:
        command_line.parse(argv)
    assert str(raised.value) == message
    assert raised.value.usage == command_line.USAGE


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (command_line.Settings("eu-west-12"), "'eu-west-12' is not an AWS region name"),
        (command_line.Settings("eu-west-1\n"), "'eu-west-1\n' is not an AWS region name"),
        (command_line.Settings("eu-moon-1"), "'eu-moon-1' is not an AWS region (not in the region list"),
        (command_line.Settings("eu-west-1", prefix="a-"), "prefix 'a-' is not valid"),
        (
            command_line.Settings("il-central-1", mode="function-url"),
            "Lambda function URLs are not available in il-central-1",
        ),
    ],
)
def test_names_are_checked(settings: command_line.Settings, message: str) -> None:
    with pytest.raises(DeployError) as raised:
        command_line.check_names(settings)
    assert str(raised.value).startswith(message)


def test_help_lists_the_regions_without_function_urls_from_common() -> None:
    text = command_line.help_text()
    unavailable = text.split("Not available where Lambda has no function URLs (at the time of writing):\n")[1]
    assert tuple(unavailable.split("\n\n")[0].split()) == common.FUNCTION_URL_UNAVAILABLE_REGIONS


# --- main: exit codes and one line, never a traceback ---------------------------------------------------


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    empty = tmp_path / "aws-config"
    empty.touch()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing is sent; if it were, it fails here


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--", "eu-west-1", "--mode"], 2, r"--mode needs a value \(usage: \./deploy\.sh <region> "),
        (["--", "Europe"], 1, r"'Europe' is not an AWS region name"),
        (["--", "eu-west-1"], 1, r"no usable AWS credentials \(profile default\): Unable to locate credentials$"),
        (
            ["--", "eu-west-1", "--profile", "ghost"],
            1,
            r"no usable AWS credentials \(profile ghost\): The config profile \(ghost\) could not be found$",
        ),
    ],
)
def test_preflight_failures_are_one_line(
    argv: list[str], code: int, message: str, no_credentials: None, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    plan = tmp_path / "plan"
    assert cli.main(["preflight", "--out", str(plan), *argv]) == code
    captured = capsys.readouterr()
    assert re.fullmatch(rf"deploy\.sh: {message}[^\n]*\n", captured.err), captured.err
    assert captured.out == ""
    assert not plan.exists()


def test_help_is_printed_and_no_plan_written(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    plan = tmp_path / "plan"
    assert cli.main(["preflight", "--out", str(plan), "--", "eu-west-1", "-h"]) == 0
    assert capsys.readouterr().out == command_line.help_text()
    assert not plan.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["bogus"],
        ["preflight", "--out", "x"],  # deploy.sh's arguments must follow --
        ["outputs", "--mode", "oac", "--region", REGION, "--prefix", "p1x"],
        ["edge-version", "--mode", "olap", "--region", REGION, "--prefix", "p1x"],  # no --account, --partition
    ],
)
def test_internal_usage_errors_exit_2_in_one_line(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("deploy.sh: ") and err.count("\n") == 1, err


def test_help_gives_every_option_a_line_of_its_own() -> None:
    lines = command_line.help_text().splitlines()
    for option in (*command_line.VALUE_OPTIONS, *command_line.FLAG_OPTIONS, "--help"):
        assert any(re.match(rf"  (-h, )?{option}\b", line) for line in lines), option
        assert option in command_line.USAGE or option == "--help", option


def test_help_needs_nothing_but_the_standard_library() -> None:
    """deploy.sh prints it before `make` has installed anything: a Python without site-packages must do."""
    import subprocess
    import sys

    bare = subprocess.run(
        [sys._base_executable, "-S", "-m", "tools.deploy.help_text"],
        cwd=ROOT, capture_output=True, text=True, check=False, env={"PATH": os.environ.get("PATH", "")},
    )
    assert (bare.returncode, bare.stderr) == (0, ""), bare.stderr
    assert bare.stdout == command_line.help_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["a", "--add-bucket-policy"], "--add-bucket-policy goes with --bucket NAME"),
        (["a", "--buffered"], "--buffered is an option of --mode function-url only"),
        (["a", "--mode", "olap-oac", "--buffered"], "--buffered is an option of --mode function-url only"),
        (["a", "--bucket="], "--bucket needs a value"),
        (["a", "--allowed-origins"], "--allowed-origins needs a value"),
    ],
)
def test_option_combinations_that_make_no_sense_are_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(command_line.UsageError) as raised:
        command_line.parse(argv)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (command_line.Settings("eu-west-1", bucket="My_Photos"), "'My_Photos' is not an S3 bucket name"),
        (command_line.Settings("eu-west-1", allowed_origins="https://a.example/"), "--allowed-origins 'https://a.example/' is not valid"),
        (command_line.Settings("eu-west-1", allowed_origins="a.example"), "--allowed-origins 'a.example' is not valid"),
    ],
)
def test_bucket_and_origins_are_checked(settings: command_line.Settings, message: str) -> None:
    with pytest.raises(DeployError) as raised:
        command_line.check_names(settings)
    assert str(raised.value).startswith(message)


def test_the_command_line_is_rebuilt_for_the_messages() -> None:
    argv = ["eu-west-1", "--mode", "function-url", "--prefix", "p1x", "--profile", "a b", "--bucket", "b.c",
            "--allowed-origins", "none", "--buffered"]
    assert command_line.command(command_line.parse(argv)) == ["./deploy.sh", *argv]
