"""A stand-in for S3 Batch Operations' CreateJob and DescribeJob on 127.0.0.1 (moto has no Batch Operations).

It reads the request exactly as botocore serialises it (REST-XML, POST /v20180820/jobs, the account in the
`<account>.` host prefix and the x-amz-account-id header) and checks it against what the audit needs: the
LambdaInvoke operation on the audit function with invocation schema 2.0, a manifest whose ETag matches the
object in S3, the completion report into the artifact bucket, the job role, no confirmation, a client token.
A request that fails a check is answered 400 and the reason kept in `problems`.

DescribeJob walks the job through New, Preparing, Active and Complete. Before it first answers Complete it
runs the job as AWS documents it: one schema-2.0 event per manifest line to `run_task` (the real audit handler,
reading moto's S3), a TemporaryFailure retried once, then the completion report written to the artifact
bucket in the documented layout: `<Prefix>/job-<id>/manifest.json` listing a CSV of succeeded and one of failed
tasks, each line `Bucket,Key,VersionId,TaskStatus,HTTPStatusCode,ErrorCode,ResultMessage` as in AWS's
examples (S3 User Guide, batch-ops-examples-reports.html).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NS = "{http://awss3control.amazonaws.com/doc/2018-08-20/}"
JOBS_PATH = "/v20180820/jobs"
STATUSES = ("New", "Preparing", "Active", "Active", "Complete")
REPORT_SCHEMA = "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"


@dataclass
class Expected:
    """What a correct CreateJob names, from the audit stack's outputs."""

    account: str
    function_arn: str
    role_arn: str
    artifact_bucket: str
    report_prefix: str


@dataclass
class Job:
    request: dict
    manifest_lines: list[tuple[str, str]]  # (bucket, URL-encoded key) as in the manifest
    describes: int = 0
    succeeded: int = 0
    failed: int = 0
    reported: bool = False


def _element(node: ET.Element):  # noqa: ANN202 - a dict, list or str
    """REST-XML as botocore writes it: structures as dicts, `member` lists, `entry` maps, text leaves."""
    children = list(node)
    if not children:
        return node.text or ""
    names = {child.tag.removeprefix(NS) for child in children}
    if names == {"member"}:
        return [_element(child) for child in children]
    if names == {"entry"}:
        return {child.find(f"{NS}key").text: child.find(f"{NS}value").text for child in children}
    return {child.tag.removeprefix(NS): _element(child) for child in children}


def parse_create_job(body: bytes) -> dict:
    root = ET.fromstring(body)  # noqa: S314 - botocore's own output, in a test
    assert root.tag == f"{NS}CreateJobRequest", root.tag
    return _element(root)


def _xml(tag: str, fields: dict) -> bytes:
    def build(parent: ET.Element, value) -> None:  # noqa: ANN001
        if isinstance(value, dict):
            for name, inner in value.items():
                build(ET.SubElement(parent, name), inner)
        elif isinstance(value, list):
            for inner in value:
                build(ET.SubElement(parent, "member"), inner)
        else:
            parent.text = str(value).lower() if isinstance(value, bool) else str(value)

    root = ET.Element(tag, xmlns=NS[1:-1])
    build(root, fields)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root)


@dataclass
class BatchOperationsStandIn:
    expected: Expected
    s3: object  # a boto3 S3 client on moto's server
    run_task: Callable[[dict], dict]
    # When set, the job ends Failed with this reason instead of running (as when the role cannot read the manifest).
    fail_with: str | None = None
    problems: list[str] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    jobs: dict[str, Job] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- CreateJob -----------------------------------------------------------------------------------
    def check(self, request: dict, headers) -> list[str]:  # noqa: ANN001
        e, found = self.expected, []

        def need(condition: bool, what: str) -> None:
            if not condition:
                found.append(what)

        need(headers.get("x-amz-account-id") == e.account, "x-amz-account-id is the account")
        need(headers.get("Host", "").startswith(f"{e.account}."), "the host carries the account prefix")
        need(request.get("ConfirmationRequired") == "false", "ConfirmationRequired is false")
        invoke = request.get("Operation", {}).get("LambdaInvoke", {})
        need(set(request.get("Operation", {})) == {"LambdaInvoke"}, "the operation is LambdaInvoke only")
        need(invoke.get("FunctionArn") == e.function_arn, "LambdaInvoke names the audit function")
        need(invoke.get("InvocationSchemaVersion") == "2.0", "invocation schema 2.0")
        report = request.get("Report", {})
        need(report.get("Bucket") == f"arn:aws:s3:::{e.artifact_bucket}", "the report goes to the artifact bucket")
        need(report.get("Format") == "Report_CSV_20180820", "the report format")
        need(report.get("Enabled") == "true", "the report is enabled")
        need(report.get("Prefix") == e.report_prefix, "the report prefix is the stack's")
        need(report.get("ReportScope") == "AllTasks", "the report covers all tasks")
        need(request.get("RoleArn") == e.role_arn, "the job runs as the stack's role")
        need(0 < len(request.get("ClientRequestToken", "")) <= 64, "a client request token of 1-64 characters")
        need(request.get("Priority", "").isdigit(), "a priority")
        spec = request.get("Manifest", {}).get("Spec", {})
        location = request.get("Manifest", {}).get("Location", {})
        if spec.get("Format") == "S3BatchOperations_CSV_20180820":
            need(spec.get("Fields") == ["Bucket", "Key"], "the CSV manifest's fields are Bucket, Key")
        else:
            need(spec == {"Format": "S3InventoryReport_CSV_20161130"}, "a CSV or inventory manifest")
        arn = location.get("ObjectArn", "")
        need(arn.startswith("arn:aws:s3:::"), "the manifest is named by its object ARN")
        bucket, _, key = arn.removeprefix("arn:aws:s3:::").partition("/")
        try:
            etag = self.s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
        except Exception:  # noqa: BLE001 - any failure means the manifest is not there
            etag = None
        need(etag is not None and location.get("ETag") == etag, "the manifest's ETag is the object's")
        return found

    def manifest_lines(self, request: dict) -> list[tuple[str, str]]:
        arn = request["Manifest"]["Location"]["ObjectArn"].removeprefix("arn:aws:s3:::")
        bucket, _, key = arn.partition("/")
        text = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        if request["Manifest"]["Spec"]["Format"] == "S3InventoryReport_CSV_20161130":
            lines = []
            for part in json.loads(text)["files"]:
                data = self.s3.get_object(Bucket=bucket, Key=part["key"])["Body"].read().decode()
                lines += [(row[0], row[1]) for row in csv.reader(io.StringIO(data))]
            return lines
        return [(row[0], row[1]) for row in csv.reader(io.StringIO(text))]

    def create_job(self, body: bytes, headers) -> tuple[int, bytes]:  # noqa: ANN001
        request = parse_create_job(body)
        with self.lock:
            self.requests.append(request)
            problems = self.check(request, headers)
            if problems:
                self.problems += problems
                return 400, _xml("Error", {"Code": "InvalidRequest", "Message": "; ".join(problems)})
            token = request["ClientRequestToken"]
            if token not in self.tokens:  # the same token makes the same job (idempotent retries)
                job_id = str(uuid.uuid4())
                self.tokens[token] = job_id
                self.jobs[job_id] = Job(request, self.manifest_lines(request))
            return 200, _xml("CreateJobResult", {"JobId": self.tokens[token]})

    # --- running the job -----------------------------------------------------------------------------
    def event(self, job_id: str, n: int, bucket: str, key: str, request: dict) -> dict:
        invoke = request["Operation"]["LambdaInvoke"]
        return {
            "invocationSchemaVersion": invoke["InvocationSchemaVersion"],
            "invocationId": f"invocation-{n}",
            "job": {"id": job_id, "userArguments": invoke.get("UserArguments", {})},
            "tasks": [{"taskId": f"task-{n}", "s3Key": key, "s3VersionId": None, "s3Bucket": bucket}],
        }

    def run(self, job_id: str, job: Job) -> None:
        succeeded, failed = io.StringIO(), io.StringIO()
        for n, (bucket, key) in enumerate(job.manifest_lines):
            for _attempt in range(2):  # a TemporaryFailure is tried once more
                try:
                    (result,) = self.run_task(self.event(job_id, n, bucket, key, job.request))["results"]
                    code, message = result["resultCode"], result["resultString"]
                except Exception as error:  # noqa: BLE001 - Batch Operations records a function error
                    code, message = "PermanentFailure", f"Lambda returned function error: {error}"
                if code != "TemporaryFailure":
                    break
            if code == "Succeeded":
                csv.writer(succeeded).writerow([bucket, key, "", "succeeded", "200", "", message])
                job.succeeded += 1
            else:
                csv.writer(failed).writerow([bucket, key, "", "failed", "200", code, message])
                job.failed += 1
        prefix = f"{job.request['Report']['Prefix']}/job-{job_id}"
        artifact = self.expected.artifact_bucket
        results = []
        for status, text in (("succeeded", succeeded.getvalue()), ("failed", failed.getvalue())):
            if not text:
                continue
            data = text.encode()
            key = f"{prefix}/results/{hashlib.sha1(data).hexdigest()}.csv"  # noqa: S324 - a file name
            self.s3.put_object(Bucket=artifact, Key=key, Body=data)
            results.append({"TaskExecutionStatus": status, "Bucket": artifact, "MD5Checksum": hashlib.md5(data).hexdigest(), "Key": key})  # noqa: S324, E501
        manifest = {"Format": "Report_CSV_20180820", "ReportCreationDate": "2026-12-07T17:00:00.000Z", "Results": results, "ReportSchema": REPORT_SCHEMA}  # noqa: E501
        self.s3.put_object(Bucket=artifact, Key=f"{prefix}/manifest.json", Body=json.dumps(manifest).encode())
        job.reported = True

    def describe_job(self, job_id: str) -> tuple[int, bytes]:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                return 404, _xml("Error", {"Code": "NoSuchJob", "Message": "The specified job does not exist"})
            status = STATUSES[min(job.describes, len(STATUSES) - 1)]
            job.describes += 1
            total = len(job.manifest_lines)
            if status == "Complete" and self.fail_with is not None:
                failure = {"FailureCode": "JobFailed", "FailureReason": self.fail_with}
                fields = {"JobId": job_id, "Status": "Failed", "Priority": job.request["Priority"], "FailureReasons": [failure]}
                return 200, _xml("DescribeJobResult", {"Job": fields})
            if status == "Complete" and not job.reported:
                self.run(job_id, job)
            done = total if status == "Complete" else (total // 2 if status == "Active" else 0)
            progress = {"TotalNumberOfTasks": total, "NumberOfTasksSucceeded": done, "NumberOfTasksFailed": 0}
            if status == "Complete":
                progress = {**progress, "NumberOfTasksSucceeded": job.succeeded, "NumberOfTasksFailed": job.failed}
            fields = {"JobId": job_id, "Status": status, "Priority": job.request["Priority"]}
            if status != "New":
                fields["ProgressSummary"] = progress
            return 200, _xml("DescribeJobResult", {"Job": fields})


@contextmanager
def serve(standin: BatchOperationsStandIn) -> Iterator[str]:
    """The stand-in on a free port of 127.0.0.1; yields the endpoint URL to give as `http://localhost:<port>`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
            pass

        def answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path != JOBS_PATH:
                self.answer(404, _xml("Error", {"Code": "NotFound", "Message": self.path}))
                return
            self.answer(*standin.create_job(body, self.headers))

        def do_GET(self) -> None:  # noqa: N802
            if not self.path.startswith(JOBS_PATH + "/"):
                self.answer(404, _xml("Error", {"Code": "NotFound", "Message": self.path}))
                return
            self.answer(*standin.describe_job(self.path.removeprefix(JOBS_PATH + "/")))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
