"""What deploy.sh's end-to-end tests share: the emulated cloud as a client sees it, running the real script
in a copy of the repository, and reading back what a run left behind.

The script runs in a copy of the repository (so generating templates and packaging never touch the
working tree, and a test can change the Lambdas' sources), with the project's virtual environment
first on PATH, fake credentials, no AWS configuration of the user's, and AWS_ENDPOINT_URL pointing
at the emulator. tests/moto_cloud.py explains the stand-ins and the patches the emulator needs; the
fixtures that start it (`cloud`, `workspace`, `env`) are in tests/conftest.py.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.awslambda.models import lambda_backends

import moto_cloud

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
EDGE_REGION = "us-east-1"
TARGET_REGION = "eu-west-1"
# Left out of the repository copy: version control, virtual environments, caches and build output.
NOT_COPIED = (".git", ".venv", ".venv-scan", "build", "__pycache__", ".pytest_cache", ".hypothesis")
# The packaging step's pip cache; copied when present so that pip runs at most once per test module.
DEPENDENCY_CACHE = Path("build") / "lambda-deps"
SIGNER_SOURCE = Path("lambdas") / "edge_signer" / "handler.py"
TRANSFORM_SOURCE = Path("lambdas") / "exif_transform" / "olap" / "handler.py"
FAKE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DEPLOY_TIMEOUT_SECONDS = 900
PREFLIGHT_TIMEOUT_SECONDS = 120
USAGE = re.escape(
    "(usage: ./deploy.sh <region> [--mode olap|olap-oac|function-url] [--prefix NAME] [--profile NAME] "
    "[--bucket NAME [--add-bucket-policy]] [--allowed-origins LIST] [--buffered])"
)


# --- the emulated cloud ------------------------------------------------------------------------------


@dataclass
class Cloud:
    url: str

    def client(self, service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id=FAKE_KEY_ID,
            aws_secret_access_key=FAKE_SECRET,
        )

    @property
    def account(self) -> str:
        return self.client("sts", TARGET_REGION).get_caller_identity()["Account"]

    def stack(self, name: str, region: str) -> dict[str, Any] | None:
        client = self.client("cloudformation", region)
        try:
            stack = client.describe_stacks(StackName=name)["Stacks"][0]
        except client.exceptions.ClientError:
            return None
        events = client.describe_stack_events(StackName=name)["StackEvents"]
        return {
            "status": stack["StackStatus"],
            "parameters": {p["ParameterKey"]: str(p["ParameterValue"]) for p in stack.get("Parameters", [])},
            "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
            "events": len(events),
        }

    def stacks_by_region(self, regions: tuple[str, ...]) -> dict[str, dict[str, tuple[str, int]]]:
        """Every stack in each region: name -> (status, number of events)."""
        state = {}
        for region in regions:
            client = self.client("cloudformation", region)
            names = [s["StackName"] for s in client.describe_stacks()["Stacks"]]
            stacks = {name: self.stack(name, region) for name in names}
            state[region] = {name: (stack["status"], stack["events"]) for name, stack in stacks.items() if stack}
        return state

    def buckets(self) -> list[str]:
        return sorted(b["Name"] for b in self.client("s3", TARGET_REGION).list_buckets()["Buckets"])

    def state(self) -> dict[str, Any]:
        """What deploy.sh could create: buckets and stacks (with their event counts)."""
        return {"buckets": self.buckets(), "stacks": self.stacks_by_region((TARGET_REGION, EDGE_REGION))}

    def objects(self, bucket: str) -> dict[str, bytes]:
        s3 = self.client("s3", TARGET_REGION)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}

    def published_source(self, version_arn: str, file_name: str) -> str:
        """A file of the code Lambda holds for a published version (read from the emulator's memory)."""
        region = version_arn.split(":")[3]
        function = lambda_backends[self.account][region].get_function(version_arn)
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
            return archive.read(file_name).decode()

    def ssm_value(self, name: str, region: str) -> str | None:
        client = self.client("ssm", region)
        try:
            return client.get_parameter(Name=name)["Parameter"]["Value"]
        except client.exceptions.ParameterNotFound:
            return None


def region_state(cloud: Cloud, region: str) -> dict[str, Any]:
    """Everything deploy.sh could create in a region: stacks (with event counts), buckets located there,
    Lambda functions, SSM parameters and stand-in resources."""
    buckets = [
        name
        for name in cloud.buckets()
        if (cloud.client("s3", region).get_bucket_location(Bucket=name)["LocationConstraint"] or "us-east-1")
        == region
    ]
    lambda_client = cloud.client("lambda", region)
    ssm = cloud.client("ssm", region)
    return {
        "stacks": cloud.stacks_by_region((region,))[region],
        "buckets": buckets,
        "functions": sorted(f["FunctionName"] for f in lambda_client.list_functions()["Functions"]),
        "parameters": sorted(p["Name"] for p in ssm.describe_parameters()["Parameters"]),
        "stand_ins": moto_cloud.STAND_INS.physical_ids_in(region),
    }


def stand_in(resource_type: str, region: str, physical_id: str) -> moto_cloud.StandInRecord | None:
    matches = [r for r in moto_cloud.STAND_INS.of_type(resource_type, region) if r.physical_id == physical_id]
    return matches[0] if matches else None


def marker_stack(cloud: Cloud, name: str, region: str = TARGET_REGION) -> str:
    """A stack of that name holding one SSM parameter: enough for deploy.sh's checks to see it. Its ID."""
    marker = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": f"/{name}/marker", "Type": "String", "Value": "x"},
    }
    cloudformation = cloud.client("cloudformation", region)
    template = json.dumps({"Resources": {"Marker": marker}})
    return cloudformation.create_stack(StackName=name, TemplateBody=template)["StackId"]


# --- running deploy.sh -------------------------------------------------------------------------------


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:  # what a failed assertion shows
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def clean_env(tmp: Path, cloud: Cloud, path: str | None = None, credentials: bool = True) -> dict[str, str]:
    """The environment of a user with no AWS configuration, pointed at the emulator."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    config = tmp / "aws-config"
    config.touch()
    env.update(
        PATH=path if path is not None else f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        AWS_ENDPOINT_URL=cloud.url,
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(config),
    )
    if credentials:
        env.update(AWS_ACCESS_KEY_ID=FAKE_KEY_ID, AWS_SECRET_ACCESS_KEY=FAKE_SECRET)
    return env


def profile_env(tmp: Path, cloud: Cloud, profile: str = "e2e") -> dict[str, str]:
    """clean_env with credentials only in a named profile."""
    env = clean_env(tmp, cloud, credentials=False)
    Path(env["AWS_CONFIG_FILE"]).write_text(
        f"[profile {profile}]\naws_access_key_id = {FAKE_KEY_ID}\naws_secret_access_key = {FAKE_SECRET}\n"
    )
    return env


def run_deploy(workspace: Path, args: list[str], env: dict[str, str], timeout: int = DEPLOY_TIMEOUT_SECONDS) -> Run:
    completed = subprocess.run(
        [str(workspace / "deploy.sh"), *args],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


def run_aws(workspace: Path, args: list[str], env: dict[str, str]) -> Run:
    """The AWS CLI as a user runs it next to deploy.sh (to change a parameter deploy.sh does not set)."""
    completed = subprocess.run(
        ["aws", *args],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEPLOY_TIMEOUT_SECONDS,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


def copy_workspace(destination: Path) -> Path:
    """A copy of the repository that deploy.sh may change, sharing the project's virtual environment."""
    copy = destination / "repo"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(*NOT_COPIED))
    (copy / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    if (REPO / DEPENDENCY_CACHE).is_dir():
        shutil.copytree(REPO / DEPENDENCY_CACHE, copy / DEPENDENCY_CACHE, symlinks=True)
    return copy


# --- reading a run's output ----------------------------------------------------------------------------


def printed_url(run: Run) -> str:
    match = re.search(r"^CloudFront URL: (\S+)$", run.stdout, re.MULTILINE)
    assert match, run
    return match.group(1)


def banners(run: Run) -> list[tuple[int, int, str]]:
    """Each step's `[n/N] title` line."""
    found = re.findall(r"^\[(\d)/(\d)\] (.*)$", run.stdout, re.MULTILINE)
    return [(int(n), int(total), title) for n, total, title in found]


def lambda_code_sha256(data: bytes) -> str:
    """Lambda's CodeSha256: the base64 of the zip's SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()
