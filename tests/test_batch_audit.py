"""`anon-s3ol audit s3://BUCKET --batch` (anon_s3ol/batch_audit.py) against moto's server and a Batch Operations
stand-in (tests/batch_operations_standin.py) on 127.0.0.1.

templates/audit.json itself is deployed into moto's CloudFormation, so the command reads the real stack's
outputs. The stand-in checks the CreateJob request botocore sends, walks DescribeJob through its statuses,
runs the job with the real audit handler reading moto's S3, and writes the completion report as AWS
documents it; the command then reads that report and prints the summary.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

import batch_operations_standin as standin
import image_builders as ib
import olap_fixtures as fx
from url_fixtures import moto_endpoint

from anon_s3ol import batch_audit, cli
from anon_s3ol.batch_audit import CommandError, ReportLine, aws_failure, manifest_line, report_finding, report_lines, run_batch_audit
from stacks import common

ROOT = Path(__file__).resolve().parents[1]
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
IMAGES = "holiday-images"
ARTIFACTS = "anon-s3ol-artifacts-123456789012-eu-west-1"
GHOST = "no-such-bucket-anywhere"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDBATCHEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "batch-secret-example",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}
PDF = b"%PDF-1.7\n" + bytes(64)
OBJECTS = {
    "photos/beach.jpg": ib.jpeg(),
    "photos/2024/a, b+c d.png": ib.png(icc=False, exif=False, text=False),
    "photos/2024/été.webp": ib.webp(),
    "photos/notes.pdf": PDF,
    "photos/empty-folder/": b"",
    "elsewhere/not-audited.jpg": ib.jpeg(),
}
AUDITED = sorted(k for k in OBJECTS if k.startswith("photos/") and not k.endswith("/"))


def deploy_audit_stack(cfn, stack_prefix: str, audited_bucket: str) -> dict:
    cfn.create_stack(
        StackName=stack_prefix + common.AUDIT_STACK_SUFFIX,
        TemplateBody=(ROOT / "templates" / "audit.json").read_text(),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[
            {"ParameterKey": "Prefix", "ParameterValue": stack_prefix},
            {"ParameterKey": "ArtifactBucket", "ParameterValue": ARTIFACTS},
            {"ParameterKey": "ArtifactKey", "ParameterValue": "exif-transform/abc.zip"},
            {"ParameterKey": "AuditedBucket", "ParameterValue": audited_bucket},
        ],
    )
    (stack,) = cfn.describe_stacks(StackName=stack_prefix + common.AUDIT_STACK_SUFFIX)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_endpoint() as url:
        yield url


def client(service: str, url: str):  # noqa: ANN201
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="module")
def outputs(moto_url) -> dict:
    """The buckets, the images, the zip, and the audit stack deployed from templates/audit.json."""
    s3 = client("s3", moto_url)
    for bucket in (IMAGES, ARTIFACTS):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("audit/handler.py", "")
    s3.put_object(Bucket=ARTIFACTS, Key="exif-transform/abc.zip", Body=zipped.getvalue())
    for key, data in OBJECTS.items():
        s3.put_object(Bucket=IMAGES, Key=key, Body=data)
    cfn = client("cloudformation", moto_url)
    deploy_audit_stack(cfn, "ghost", GHOST)
    return deploy_audit_stack(cfn, "anon-s3ol", IMAGES)


@pytest.fixture(scope="module")
def handler(moto_url):
    """The real audit handler, cold-started against moto's S3."""
    env = {**CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": moto_url, "POWERTOOLS_SERVICE_NAME": "audit"}
    return fx.load_cold("audit/handler.py", env, fx.SETTING_NAMES)[0]


class Job:
    """The stand-in serving on 127.0.0.1, and `run(...)` calling the command with the environment pointed at it."""

    def __init__(self, stand_in: standin.BatchOperationsStandIn, moto_url: str) -> None:
        self.stand_in = stand_in
        self.moto_url = moto_url
        self.s3 = stand_in.s3

    def run(self, bucket: str = IMAGES, prefix: str = "photos/", **options: object) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = run_batch_audit(
            bucket, prefix, region=REGION, profile=None, out=out, err=err, sleep=lambda _: None, **options
        )
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def job(moto_url, outputs, handler, monkeypatch) -> Iterator[Job]:
    s3 = client("s3", moto_url)
    expected = standin.Expected(
        account=ACCOUNT,
        function_arn=outputs["AuditFunctionArn"],
        role_arn=outputs["BatchOperationsRoleArn"],
        artifact_bucket=ARTIFACTS,
        report_prefix=outputs["ReportPrefix"],
    )
    stand_in = standin.BatchOperationsStandIn(expected, s3, lambda event: handler.lambda_handler(event, fx.LambdaContext()))
    with standin.serve(stand_in) as control_url, fx.resolve_localhost_subdomains():
        for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": moto_url, "AWS_ENDPOINT_URL_S3_CONTROL": control_url}.items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        yield Job(stand_in, moto_url)


# --- end to end ----------------------------------------------------------------------------------------


def test_a_prefix_is_audited_by_a_batch_job_and_summarised_from_its_report(job, outputs):
    code, out, err = job.run()

    assert job.stand_in.problems == []
    (request,) = job.stand_in.requests
    invoke = request["Operation"]["LambdaInvoke"]
    assert (invoke["FunctionArn"], invoke["InvocationSchemaVersion"]) == (outputs["AuditFunctionArn"], "2.0")
    assert "UserArguments" not in invoke, "the stack's KeepCopyright applies unless asked otherwise"
    assert request["RoleArn"] == outputs["BatchOperationsRoleArn"]
    assert request["Report"]["Prefix"] == "audit/reports"
    assert request["ConfirmationRequired"] == "false"

    # The manifest: every key under the prefix, URL-encoded, nothing else.
    arn = request["Manifest"]["Location"]["ObjectArn"]
    assert arn.startswith(f"arn:aws:s3:::{ARTIFACTS}/audit/manifests/")
    manifest = job.s3.get_object(Bucket=ARTIFACTS, Key=arn.split("/", 1)[1])["Body"].read().decode()
    rows = list(csv.reader(io.StringIO(manifest)))
    assert sorted(key for _, key in rows) == sorted(
        ["photos/beach.jpg", "photos/2024/a%2C%20b%2Bc%20d.png", "photos/2024/%C3%A9t%C3%A9.webp", "photos/notes.pdf"]
    )
    assert {bucket for bucket, _ in rows} == {IMAGES}

    assert code == 0
    lines = out.splitlines()
    # The local audit's summary (anon_s3ol/audit_report.py), from the report's rows.
    assert lines[:3] == [
        "4 files: 3 served, 1 refused",
        "formats: jpeg 1, png 1, unknown 1, webp 1",
        "GPS found in 2, an owner's name or a serial number in 2",  # the JPEG and the WebP carry both
    ]
    assert lines[3].startswith("metadata found: ") and "gps 2" in lines[3]
    assert lines[5].startswith(f"bytes: {sum(len(OBJECTS[k]) for k in AUDITED)} in, ")
    assert lines[6:8] == ["refused:", "  photos/notes.pdf: unsupported image format: PDF"]
    (job_id,) = job.stand_in.jobs
    assert f"report: s3://{ARTIFACTS}/audit/reports/job-{job_id}/" in out

    # Progress: one line per change, from New to Complete.
    statuses = [line.split(": ", 1)[1].split(",")[0] for line in err.splitlines() if line.startswith("job ")]
    assert statuses == ["New", "Preparing", "Active", "Complete"]
    assert "manifest: 4 objects under s3://holiday-images/photos/" in err
    assert f"job {job_id}: Complete, 4 of 4 tasks done (0 failed)" in err


def test_the_command_line_runs_the_batch_audit(job, monkeypatch, capsys):
    monkeypatch.setattr(batch_audit.time, "sleep", lambda _: None)
    code = cli.main(["audit", "s3://holiday-images/photos/2024/", "--batch", "--region", REGION])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.splitlines()[0] == "2 files: 2 served, 0 refused"
    assert job.stand_in.problems == []


def test_a_prefix_without_its_slash_is_a_folder_as_in_the_local_audit(job, monkeypatch, capsys):
    """s3://BUCKET/photos/2024 names the folder photos/2024/, never photos/2024-drafts/ beside it."""
    monkeypatch.setattr(batch_audit.time, "sleep", lambda _: None)
    job.s3.put_object(Bucket=IMAGES, Key="photos/2024-drafts/x.jpg", Body=ib.jpeg())
    try:
        code = cli.main(["audit", "s3://holiday-images/photos/2024", "--batch", "--region", REGION])
    finally:
        job.s3.delete_object(Bucket=IMAGES, Key="photos/2024-drafts/x.jpg")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.splitlines()[0] == "2 files: 2 served, 0 refused"
    assert "manifest: 2 objects under s3://holiday-images/photos/2024/" in captured.err


def test_a_task_the_function_failed_is_counted_and_named(job, monkeypatch):
    real = job.stand_in.run_task

    def failing(event: dict) -> dict:
        if event["tasks"][0]["s3Key"].endswith("beach.jpg"):
            raise RuntimeError("Task timed out after 60.00 seconds")
        return real(event)

    job.stand_in.run_task = failing
    code, out, _ = job.run()
    assert code == 1, "a task that could not be audited fails the command"
    assert out.splitlines()[0] == "4 files: 2 served, 2 refused"
    assert "  photos/beach.jpg: the task failed: Lambda returned function error: Task timed out after 60.00 seconds" in out


def test_an_s3_inventory_report_is_used_as_the_manifest(job):
    inventory = "inventory/holiday-images/daily/2026-12-07T01-00Z/"
    data_key = "inventory/holiday-images/daily/data/part-0.csv"
    lines = "".join(manifest_line(IMAGES, key) for key in ("photos/beach.jpg", "photos/notes.pdf"))
    job.s3.put_object(Bucket=ARTIFACTS, Key=data_key, Body=lines.encode())
    document = {"sourceBucket": IMAGES, "fileFormat": "CSV", "fileSchema": "Bucket, Key", "files": [{"key": data_key}]}
    job.s3.put_object(Bucket=ARTIFACTS, Key=inventory + "manifest.json", Body=json.dumps(document).encode())

    code, out, _ = job.run(prefix="", inventory=f"s3://{ARTIFACTS}/{inventory}manifest.json")

    assert job.stand_in.problems == []
    (request,) = job.stand_in.requests
    assert request["Manifest"]["Spec"] == {"Format": "S3InventoryReport_CSV_20161130"}
    assert request["Manifest"]["Location"]["ObjectArn"] == f"arn:aws:s3:::{ARTIFACTS}/{inventory}manifest.json"
    assert (code, out.splitlines()[0]) == (0, "2 files: 1 served, 1 refused")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"sourceBucket": "someone-else", "fileFormat": "CSV", "files": []}, "lists s3://someone-else, not s3://holiday-images"),
        ({"sourceBucket": IMAGES, "fileFormat": "Parquet", "files": []}, "Batch Operations reads CSV inventories only"),
        (["not", "an", "object"], "not an S3 Inventory manifest.json"),
    ],
)
def test_an_inventory_that_does_not_fit_is_refused(job, document, message):
    key = "inventory/bad/manifest.json"
    job.s3.put_object(Bucket=ARTIFACTS, Key=key, Body=json.dumps(document).encode())
    with pytest.raises(CommandError, match=message):
        job.run(prefix="", inventory=f"s3://{ARTIFACTS}/{key}")
    assert job.stand_in.requests == []


def test_keep_copyright_goes_to_the_job_as_a_user_argument(job):
    job.run(prefix="photos/beach", keep_copyright=True)
    (request,) = job.stand_in.requests
    assert request["Operation"]["LambdaInvoke"]["UserArguments"] == {"keepCopyright": "true"}


def test_a_retried_create_job_makes_one_job(job, outputs):
    s3control = boto3.client("s3control", region_name=REGION)
    code, _, _ = job.run(prefix="photos/beach")
    (request,) = job.stand_in.requests
    again = s3control.create_job(
        AccountId=ACCOUNT,
        ConfirmationRequired=False,
        Operation={"LambdaInvoke": request["Operation"]["LambdaInvoke"]},
        Report={**request["Report"], "Enabled": True},
        ClientRequestToken=request["ClientRequestToken"],
        Manifest={"Spec": request["Manifest"]["Spec"], "Location": request["Manifest"]["Location"]},
        Priority=int(request["Priority"]),
        RoleArn=request["RoleArn"],
    )
    assert list(job.stand_in.jobs) == [again["JobId"]]


# --- failures: one line each ---------------------------------------------------------------------------


def test_a_job_still_running_when_the_wait_ends_is_named_with_the_command_to_follow_it(job):
    with pytest.raises(CommandError, match=r"is still New after 0 s; it goes on: aws s3control describe-job --account-id 123456789012 --job-id "):
        job.run(wait_seconds=0)


def test_a_failed_job_is_one_line_with_its_reason(job):
    job.stand_in.fail_with = "Reading the manifest is forbidden: AccessDenied"
    with pytest.raises(CommandError, match=r"^job [0-9a-f-]+ ended Failed: Reading the manifest is forbidden: AccessDenied$"):
        job.run(prefix="photos/beach")


def test_no_stack_names_the_template_to_deploy(job):
    with pytest.raises(CommandError, match=r"^stack nope-audit not found in eu-west-1: deploy templates/audit.json first"):
        job.run(stack_prefix="nope")


def test_the_command_line_finds_the_audit_stack_by_its_prefix(job, capsys):
    """--prefix ghost reads the stack ghost-audit, which audits the (missing) bucket GHOST; anon-s3ol-audit would
    refuse that bucket as out of its scope."""
    assert cli.main(["audit", f"s3://{GHOST}/", "--batch", "--region", REGION, "--prefix", "ghost"]) == 1
    assert capsys.readouterr().err == f"anon-s3ol audit: s3://{GHOST}: no such bucket\n"


def test_a_bucket_the_stack_may_not_read_is_refused_before_anything_is_written(job):
    with pytest.raises(CommandError, match=r"audits s3://holiday-images/ only: redeploy it with AuditedBucket=other AuditedPrefix=x/"):
        job.run(bucket="other", prefix="x/")
    assert job.stand_in.requests == []


def test_a_missing_bucket_is_one_line(job):
    with pytest.raises(CommandError, match=rf"^s3://{GHOST}: no such bucket$"):
        job.run(bucket=GHOST, prefix="", stack_prefix="ghost")


def test_an_empty_prefix_is_refused(job):
    with pytest.raises(CommandError, match=r"^s3://holiday-images/nothing-here/: no objects to audit$"):
        job.run(prefix="nothing-here/")


def test_no_credentials_is_said_so(job, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(CommandError, match=r"^no AWS credentials found"):
        job.run()


def test_no_network_is_not_reported_as_missing_credentials(job, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{fx.closed_port()}")
    with pytest.raises(CommandError, match=r"^cannot reach AWS while checking the credentials"):
        job.run()


def test_no_region_is_said_so(job):
    with pytest.raises(CommandError, match=r"^no region"):
        run_batch_audit(IMAGES, "", region=None, profile=None, out=io.StringIO())


def test_an_unknown_profile_is_said_so(job):
    with pytest.raises(CommandError, match=r"^no AWS profile named 'nobody'$"):
        run_batch_audit(IMAGES, "", region=REGION, profile="nobody", out=io.StringIO())


# --- pieces --------------------------------------------------------------------------------------------


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (client_error("AccessDenied", 403), "access denied while listing s3://b/"),
        (client_error("NoSuchBucket", 404), "no such bucket while listing s3://b/"),
        (client_error("ExpiredToken", 400), "AWS refused the credentials (ExpiredToken) while listing s3://b/"),
        (client_error("SlowDown", 503), "AWS answered SlowDown while listing s3://b/"),
        (NoCredentialsError(), "no AWS credentials found: configure a profile (aws configure) or pass --profile"),
        (EndpointConnectionError(endpoint_url="https://x"), "cannot reach AWS while listing s3://b/: check the network and the region"),
    ],
)
def test_aws_failures_are_one_line(error, message):
    assert str(aws_failure(error, "listing s3://b/")) == message


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("a.jpg", "b,a.jpg\n"),
        ("dir/a b.jpg", "b,dir/a%20b.jpg\n"),
        ("x,y+z.jpg", "b,x%2Cy%2Bz.jpg\n"),
        ("line\nbreak\".jpg", "b,line%0Abreak%22.jpg\n"),
        ("été.jpg", "b,%C3%A9t%C3%A9.jpg\n"),
    ],
)
def test_manifest_lines_url_encode_the_key(key, line):
    assert manifest_line("b", key) == line


def test_the_key_in_a_manifest_line_is_what_the_handler_decodes():
    from aws_lambda_powertools.utilities.data_classes.s3_batch_operation_event import S3BatchOperationTask

    for key in ("x,y+z d.jpg", "été/a%20b.jpg", "a+b"):
        encoded = manifest_line("b", key).rstrip("\n").split(",", 1)[1]
        assert S3BatchOperationTask({"s3Key": encoded}).s3_key == key


def test_report_lines_in_either_column_order_give_key_status_and_message():
    text = (
        'b,photos/a%20b.jpg,,succeeded,200,,"{""x"":1}"\n'
        'b,photos/c.jpg,,failed,PermanentFailure,200,"Lambda returned function error: {""errorMessage"":""t""}"\n'
    )
    assert list(report_lines(iter(text.splitlines(keepends=True)))) == [
        ReportLine("photos/a b.jpg", "succeeded", '{"x":1}'),
        ReportLine("photos/c.jpg", "failed", 'Lambda returned function error: {"errorMessage":"t"}'),
    ]


def test_a_report_line_that_is_not_batch_operations_csv_is_refused():
    with pytest.raises(CommandError, match="not Batch Operations' CSV"):
        list(report_lines(iter(["b,k,,succeeded\n"])))


def test_a_message_that_is_not_a_row_becomes_a_refused_finding():
    found = report_finding(ReportLine("k", "failed", "x" * 500))
    assert (found.key, found.served, found.bytes_in) == ("k", False, 0)
    assert found.reason.startswith("the task failed: xxx")


def test_the_command_and_the_template_agree_on_names():
    assert batch_audit.AUDIT_STACK_SUFFIX == common.AUDIT_STACK_SUFFIX
    template = json.loads((ROOT / "templates" / "audit.json").read_text())
    assert set(batch_audit.STACK_OUTPUTS) == set(template["Outputs"])


# --- the command line ----------------------------------------------------------------------------------


def test_audit_help_documents_batch(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["audit", "--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for option in ("--batch", "--region", "--profile", "--prefix NAME", "--inventory", "--wait MINUTES"):
        assert option in help_text
    assert "templates/audit.json" in help_text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["audit", "s3://b/p/", "--batch", "--json"], "anon-s3ol audit: --batch prints a summary; each object's row is in the job's completion report (its path is printed)"),  # noqa: E501
        (["audit", "/home/me/Pictures", "--batch"], "anon-s3ol audit: /home/me/Pictures: --batch's source must be an s3://BUCKET[/PREFIX] address"),  # noqa: E501
    ],
)
def test_batch_usage_errors_are_one_line(argv, message, capsys):
    assert cli.main(argv) == 1
    assert capsys.readouterr().err == message + "\n"
