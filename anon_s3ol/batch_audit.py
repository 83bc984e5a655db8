"""`anon-s3ol audit s3://BUCKET[/PREFIX] --batch`: the audit at any scale, run by S3 Batch Operations.

The audit stack (templates/audit.json, deployed once with `aws cloudformation deploy`, see the README's
"Audit a whole bucket") holds the audit function and the job's role; this command reads its outputs, then:

1. writes a CSV manifest of the bucket's keys under the prefix into the artifact bucket, streamed, or
   takes an S3 Inventory report's manifest.json (`--inventory`);
2. creates a Batch Operations job (LambdaInvoke, invocation schema 2.0, no confirmation, the completion
   report for all tasks into the artifact bucket, a client request token so a retried call makes one job);
3. prints the job's progress from DescribeJob until it ends, or until the wait runs out;
4. reads the completion report's CSV files, line by line, and prints the same summary as the local audit.

Memory stays bounded whatever the bucket's size: keys and report lines are streamed, only counts are kept.
Every failure is one line (CommandError): no credentials, no network, access denied, a missing bucket or
stack. (S3 User Guide: batch-ops-create-job.html, batch-ops-invoke-lambda.html, batch-ops-job-status.html.)
"""

from __future__ import annotations

import codecs
import csv
import json
import sys
import tempfile
import time
import uuid
from contextlib import closing
from typing import IO, Callable, Iterator, NamedTuple
from urllib.parse import quote, unquote_plus

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from serving.audit_row import RowError, refused_row, row_from_json

from .audit_report import Summary
from .errors import CommandError
from .findings import Finding, finding

# The stack `<stack prefix>-audit` (stacks/common.py AUDIT_STACK_SUFFIX; a test checks they agree).
AUDIT_STACK_SUFFIX = "-audit"
DEFAULT_STACK_PREFIX = "anon-s3ol"
STACK_OUTPUTS = (
    "AuditFunctionArn",
    "BatchOperationsRoleArn",
    "ArtifactBucket",
    "ManifestPrefix",
    "ReportPrefix",
    "AuditedLocation",
)
# Formats and values named by the S3 Control API (API_control_CreateJob.html, JobManifestSpec, JobReport).
MANIFEST_FORMAT = "S3BatchOperations_CSV_20180820"
INVENTORY_FORMAT = "S3InventoryReport_CSV_20161130"
REPORT_FORMAT = "Report_CSV_20180820"
INVOCATION_SCHEMA_VERSION = "2.0"
JOB_PRIORITY = 10
# DescribeJob's statuses after which nothing changes (batch-ops-job-status.html).
FINISHED = frozenset({"Complete", "Failed", "Cancelled"})
DEFAULT_WAIT_SECONDS = 60 * 60
DEFAULT_POLL_SECONDS = 15.0
# The completion report's columns: Bucket, Key, VersionId, TaskStatus, then ErrorCode and HTTPStatusCode
# (AWS's own examples show them in either order), then ResultMessage, always last.
REPORT_KEY_COLUMN = 1
REPORT_STATUS_COLUMN = 3
REPORT_MIN_COLUMNS = 7
# A report line is at most this long: a 1,024-byte key, our row (a few hundred bytes), AWS's columns.
MAX_REPORT_LINE_CHARS = 64 * 1024
# How many refused objects the command names after the summary; the report holds them all.
SHOWN_REFUSALS = 20
# Keys read per ListObjectsV2 page (S3's maximum).
LIST_PAGE_SIZE = 1000


class AuditStack(NamedTuple):
    function_arn: str
    role_arn: str
    artifact_bucket: str
    manifest_prefix: str
    report_prefix: str
    audited_location: str  # s3://AuditedBucket/AuditedPrefix


class Manifest(NamedTuple):
    spec: dict
    location: dict
    objects: int | None  # None when an inventory lists them


# --- errors --------------------------------------------------------------------------------------------


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def aws_failure(error: Exception, doing: str) -> CommandError:
    """One line for a failed AWS call, naming what was being done; never a traceback."""
    if isinstance(error, NoCredentialsError):
        return CommandError("no AWS credentials found: configure a profile (aws configure) or pass --profile")
    if isinstance(error, EndpointConnectionError):
        return CommandError(f"cannot reach AWS while {doing}: check the network and the region")
    if isinstance(error, ClientError):
        code = _code(error)
        if code in ("AccessDenied", "AccessDeniedException", "403", "Forbidden"):
            return CommandError(f"access denied while {doing}")
        if code in ("NoSuchBucket",):
            return CommandError(f"no such bucket while {doing}")
        if code in ("InvalidClientTokenId", "ExpiredToken", "SignatureDoesNotMatch", "UnrecognizedClientException"):
            return CommandError(f"AWS refused the credentials ({code}) while {doing}")
        return CommandError(f"AWS answered {code or 'an error'} while {doing}")
    return CommandError(f"{type(error).__name__} while {doing}")


def _call(doing: str, call: Callable, **arguments: object) -> dict:
    try:
        return call(**arguments)
    except (ClientError, BotoCoreError) as error:
        raise aws_failure(error, doing) from None


# --- the stack -----------------------------------------------------------------------------------------


def read_stack(cloudformation, stack_name: str, region: str) -> AuditStack:  # noqa: ANN001 - a boto3 client
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if _code(error) == "ValidationError" and "does not exist" in str(error):
            msg = (
                f"stack {stack_name} not found in {region}: deploy templates/audit.json first "
                "(README, \"Audit a whole bucket\")"
            )
            raise CommandError(msg) from None
        raise aws_failure(error, f"reading stack {stack_name}") from None
    except BotoCoreError as error:
        raise aws_failure(error, f"reading stack {stack_name}") from None
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stacks[0].get("Outputs", [])}
    missing = [name for name in STACK_OUTPUTS if name not in outputs]
    if missing:
        msg = f"stack {stack_name} has no output {', '.join(missing)}: update it with templates/audit.json"
        raise CommandError(msg)
    return AuditStack(*(outputs[name] for name in STACK_OUTPUTS))


def check_scope(stack: AuditStack, stack_name: str, bucket: str, prefix: str) -> None:
    """The stack's function may read only its AuditedBucket/AuditedPrefix: refuse anything else up front."""
    # The location ends with "/" after the bucket's name at least, so a longer bucket name never matches.
    if not f"s3://{bucket}/{prefix}".startswith(stack.audited_location):
        msg = (
            f"stack {stack_name} audits {stack.audited_location} only: redeploy it with "
            f"AuditedBucket={bucket} AuditedPrefix={prefix} to audit s3://{bucket}/{prefix}"
        )
        raise CommandError(msg)


def check_bucket(s3, bucket: str) -> None:  # noqa: ANN001 - a boto3 client
    """The audited bucket exists and the caller may use it (HeadBucket answers 404 or 403 without a code)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if _code(error) in ("404", "NoSuchBucket") or status == 404:  # noqa: PLR2004
            raise CommandError(f"s3://{bucket}: no such bucket") from None
        if _code(error) in ("403", "AccessDenied") or status == 403:  # noqa: PLR2004
            raise CommandError(f"s3://{bucket}: access denied") from None
        raise aws_failure(error, f"checking s3://{bucket}") from None
    except BotoCoreError as error:
        raise aws_failure(error, f"checking s3://{bucket}") from None


# --- the manifest --------------------------------------------------------------------------------------


def manifest_line(bucket: str, key: str) -> str:
    """One CSV line of a Batch Operations manifest: the bucket and the URL-encoded key (batch-ops-create-job.html:
    keys must be URL-encoded; commas and newlines in a key are then never ambiguous)."""
    return f"{bucket},{quote(key, safe='/')}\n"


def listed_keys(s3, bucket: str, prefix: str) -> Iterator[str]:  # noqa: ANN001 - a boto3 client
    """Every key under the prefix, page by page; folder placeholders (keys ending in "/") left out."""
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": LIST_PAGE_SIZE}
    )
    try:
        for page in pages:
            for entry in page.get("Contents", []):
                if not entry["Key"].endswith("/"):
                    yield entry["Key"]
    except (ClientError, BotoCoreError) as error:
        raise aws_failure(error, f"listing s3://{bucket}/{prefix}") from None


def write_manifest(s3, stack: AuditStack, bucket: str, prefix: str, token: str, partition: str) -> Manifest:  # noqa: ANN001
    """The keys under the prefix as a CSV manifest in the artifact bucket (spooled to disk past 8 MB)."""
    key = f"{stack.manifest_prefix}{token}.csv"
    count = 0
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        for object_key in listed_keys(s3, bucket, prefix):
            spool.write(manifest_line(bucket, object_key).encode("utf-8"))
            count += 1
        if count == 0:
            raise CommandError(f"s3://{bucket}/{prefix}: no objects to audit")
        spool.seek(0)
        put = _call(
            f"writing the manifest to s3://{stack.artifact_bucket}/{key}",
            s3.put_object,
            Bucket=stack.artifact_bucket,
            Key=key,
            Body=spool,
            ContentType="text/csv",
        )
    return Manifest(
        {"Format": MANIFEST_FORMAT, "Fields": ["Bucket", "Key"]},
        {"ObjectArn": f"arn:{partition}:s3:::{stack.artifact_bucket}/{key}", "ETag": put["ETag"].strip('"')},
        count,
    )


def split_s3_url(url: str, what: str) -> tuple[str, str]:
    """(bucket, key or prefix) of an s3:// address."""
    if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
        raise CommandError(f"{url}: {what} must be an s3://BUCKET[/KEY] address")
    bucket, _, key = url[5:].partition("/")
    return bucket, key


def inventory_manifest(s3, url: str, bucket: str, partition: str) -> Manifest:  # noqa: ANN001
    """An S3 Inventory report's manifest.json as the job's manifest, after checking it lists `bucket` in CSV."""
    inventory_bucket, key = split_s3_url(url, "--inventory")
    if not key.endswith("manifest.json"):
        raise CommandError(f"{url}: --inventory names an inventory report's manifest.json")
    response = _call(f"reading {url}", s3.get_object, Bucket=inventory_bucket, Key=key)
    with response["Body"] as body:
        text = body.read(1024 * 1024 + 1)
    try:
        document = json.loads(text) if len(text) <= 1024 * 1024 else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise CommandError(f"{url}: not an S3 Inventory manifest.json")
    if document.get("fileFormat") != "CSV":
        raise CommandError(f"{url}: the inventory is {document.get('fileFormat')}; Batch Operations reads CSV inventories only")
    if document.get("sourceBucket") != bucket:
        raise CommandError(f"{url}: the inventory lists s3://{document.get('sourceBucket')}, not s3://{bucket}")
    return Manifest(
        {"Format": INVENTORY_FORMAT},
        {"ObjectArn": f"arn:{partition}:s3:::{inventory_bucket}/{key}", "ETag": response["ETag"].strip('"')},
        None,
    )


# --- the job -------------------------------------------------------------------------------------------


def job_request(
    stack: AuditStack, manifest: Manifest, *, account: str, partition: str, token: str, description: str,
    keep_copyright: bool | None,
) -> dict:
    """CreateJob's arguments (API_control_CreateJob.html)."""
    operation: dict = {"FunctionArn": stack.function_arn, "InvocationSchemaVersion": INVOCATION_SCHEMA_VERSION}
    if keep_copyright is not None:
        operation["UserArguments"] = {"keepCopyright": "true" if keep_copyright else "false"}
    return {
        "AccountId": account,
        "ConfirmationRequired": False,
        "Operation": {"LambdaInvoke": operation},
        "Report": {
            "Bucket": f"arn:{partition}:s3:::{stack.artifact_bucket}",
            "Format": REPORT_FORMAT,
            "Enabled": True,
            "Prefix": stack.report_prefix,
            "ReportScope": "AllTasks",
        },
        "ClientRequestToken": token,
        "Manifest": {"Spec": manifest.spec, "Location": manifest.location},
        "Priority": JOB_PRIORITY,
        "RoleArn": stack.role_arn,
        "Description": description[:256],
    }


def progress_line(job: dict) -> str:
    progress = job.get("ProgressSummary", {})
    total = progress.get("TotalNumberOfTasks")
    done = progress.get("NumberOfTasksSucceeded", 0)
    failed = progress.get("NumberOfTasksFailed", 0)
    counts = f"{done + failed} of {total} tasks done" if total is not None else "counting tasks"
    return f"job {job.get('JobId')}: {job.get('Status')}, {counts} ({failed} failed)"


def wait_for_job(
    s3control,  # noqa: ANN001 - a boto3 client
    *,
    account: str,
    job_id: str,
    wait_seconds: float,
    poll_seconds: float,
    err: IO[str],
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict:
    """DescribeJob until the job ends; prints a line whenever its progress changes. CommandError past the wait."""
    sleep = sleep or time.sleep
    deadline = clock() + wait_seconds
    shown = None
    while True:
        job = _call(f"describing job {job_id}", s3control.describe_job, AccountId=account, JobId=job_id)["Job"]
        line = progress_line(job)
        if line != shown:
            print(line, file=err)
            shown = line
        if job.get("Status") in FINISHED:
            return job
        if clock() + poll_seconds > deadline:
            msg = (
                f"job {job_id} is still {job.get('Status')} after {wait_seconds:.0f} s; it goes on: "
                f"aws s3control describe-job --account-id {account} --job-id {job_id}"
            )
            raise CommandError(msg)
        sleep(poll_seconds)


# --- the report ----------------------------------------------------------------------------------------


class ReportLine(NamedTuple):
    key: str
    status: str
    message: str


def report_lines(text_lines: Iterator[str]) -> Iterator[ReportLine]:
    """The completion report's CSV lines; a line too long or too short is an error, never a guess."""
    for fields in csv.reader(text_lines):
        if len(fields) < REPORT_MIN_COLUMNS or sum(map(len, fields)) > MAX_REPORT_LINE_CHARS:
            raise CommandError("the completion report has a line that is not Batch Operations' CSV")
        # Keys are URL-encoded in the manifest, and the report names them as the manifest does.
        yield ReportLine(unquote_plus(fields[REPORT_KEY_COLUMN]), fields[REPORT_STATUS_COLUMN], fields[-1])


def _text_lines(body) -> Iterator[str]:  # noqa: ANN001 - a botocore StreamingBody
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for line in body.iter_lines(keepends=True):
        if len(line) > MAX_REPORT_LINE_CHARS:
            raise CommandError("the completion report has a line that is not Batch Operations' CSV")
        yield decoder.decode(line)


def report_finding(line: ReportLine) -> Finding:
    """The audit row a task answered, or, for a task that failed before the function answered, why."""
    try:
        row = row_from_json(line.message)
    except RowError:
        row = refused_row(f"the task failed: {line.message[:200]}", 0)
    return finding(line.key, row)


def read_report(s3, stack: AuditStack, job_id: str) -> Iterator[ReportLine]:  # noqa: ANN001
    """Every line of the job's completion report, file by file (the report's manifest.json lists them)."""
    manifest_key = f"{stack.report_prefix}/job-{job_id}/manifest.json"
    where = f"s3://{stack.artifact_bucket}/{manifest_key}"
    response = _call(f"reading the completion report {where}", s3.get_object, Bucket=stack.artifact_bucket, Key=manifest_key)
    with response["Body"] as body:
        try:
            document = json.loads(body.read(16 * 1024 * 1024))
        except ValueError:
            document = None
    if not isinstance(document, dict) or document.get("Format") != REPORT_FORMAT:
        raise CommandError(f"{where}: not a {REPORT_FORMAT} completion report")
    for result in document.get("Results", []):
        key = result.get("Key", "")
        if result.get("Bucket") != stack.artifact_bucket or not key.startswith(f"{stack.report_prefix}/job-{job_id}/"):
            raise CommandError(f"{where}: lists a file outside the job's report")
        part = _call(f"reading s3://{stack.artifact_bucket}/{key}", s3.get_object, Bucket=stack.artifact_bucket, Key=key)
        # closing(), not `with`: a StreamingBody's context manager hands out the raw stream.
        with closing(part["Body"]) as body:
            yield from report_lines(_text_lines(body))


def summarise_report(lines: Iterator[ReportLine], out: IO[str]) -> Summary:
    """The local audit's summary (audit_report.Summary) over the report's rows, then the first refusals."""
    summary = Summary()
    refusals: list[tuple[str, str]] = []
    for line in lines:
        row = report_finding(line)
        summary.add(row)
        if not row.served and len(refusals) < SHOWN_REFUSALS:
            refusals.append((row.key, row.reason or ""))
    for text in summary.lines():
        print(text, file=out)
    if refusals:
        more = summary.refused - len(refusals)
        print(f"refused{f' (first {len(refusals)}, {more} more in the report)' if more else ''}:", file=out)
        for key, reason in refusals:
            print(f"  {key}: {reason}", file=out)
    return summary


# --- the command ---------------------------------------------------------------------------------------


def _session(region: str | None, profile: str | None) -> boto3.Session:
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise CommandError(f"no AWS profile named {profile!r}") from None
    if not session.region_name:
        raise CommandError("no region: pass --region or set AWS_REGION (the audited bucket's region)")
    return session


def _client(session: boto3.Session, service: str):  # noqa: ANN202
    try:
        return session.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))
    except NoRegionError:
        raise CommandError("no region: pass --region or set AWS_REGION") from None


def run_batch_audit(
    bucket: str,
    prefix: str,
    *,
    region: str | None,
    profile: str | None,
    out: IO[str],
    err: IO[str] = sys.stderr,
    stack_prefix: str = DEFAULT_STACK_PREFIX,
    inventory: str | None = None,
    keep_copyright: bool | None = None,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    sleep: Callable[[float], None] | None = None,
) -> int:
    """Audit s3://bucket/prefix with a Batch Operations job; 0 when every task audited its object (refused
    images included), 1 when a task failed; CommandError for anything that stops the audit."""
    session = _session(region, profile)
    sts, cloudformation, s3, s3control = (_client(session, name) for name in ("sts", "cloudformation", "s3", "s3control"))
    identity = _call("checking the credentials", sts.get_caller_identity)
    account, partition = identity["Account"], identity["Arn"].split(":")[1]
    stack_name = stack_prefix + AUDIT_STACK_SUFFIX
    stack = read_stack(cloudformation, stack_name, session.region_name)
    check_scope(stack, stack_name, bucket, prefix)
    check_bucket(s3, bucket)
    token = uuid.uuid4().hex
    if inventory:
        manifest = inventory_manifest(s3, inventory, bucket, partition)
    else:
        manifest = write_manifest(s3, stack, bucket, prefix, token, partition)
        print(f"manifest: {manifest.objects} objects under s3://{bucket}/{prefix}", file=err)
    request = job_request(
        stack, manifest, account=account, partition=partition, token=token,
        description=f"anon-s3ol audit of s3://{bucket}/{prefix}", keep_copyright=keep_copyright,
    )  # fmt: skip
    job_id = _call("creating the Batch Operations job", s3control.create_job, **request)["JobId"]
    job = wait_for_job(
        s3control, account=account, job_id=job_id, wait_seconds=wait_seconds, poll_seconds=poll_seconds,
        err=err, sleep=sleep,
    )  # fmt: skip
    if job["Status"] != "Complete":
        reasons = "; ".join(r.get("FailureReason", "") for r in job.get("FailureReasons", [])[:3])
        raise CommandError(f"job {job_id} ended {job['Status']}{': ' + reasons if reasons else ''}")
    summarise_report(read_report(s3, stack, job_id), out)
    print(f"report: s3://{stack.artifact_bucket}/{stack.report_prefix}/job-{job_id}/", file=out)
    failed = job.get("ProgressSummary", {}).get("NumberOfTasksFailed", 0)
    # Refused images are what an audit finds; a task that could not audit its object is a failure.
    return 1 if failed else 0
