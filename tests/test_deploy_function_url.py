"""deploy.sh --mode function-url end to end: the real script and the real AWS CLI against moto's server.

The emulator, the repository copy and the environment are tests/conftest.py's fixtures (module-scoped, so
this module has its own server and workspace; the packaging step's pip cache is copied into each). The
emulator's state outlives a server, so every check here is about this module's prefixes, or compares a
region's state before and after a run.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import moto_cloud
from deploy_harness import (
    EDGE_REGION,
    PREFLIGHT_TIMEOUT_SECONDS,
    REPO,
    TARGET_REGION,
    USAGE,
    Cloud,
    Run,
    banners,
    clean_env,
    lambda_code_sha256,
    marker_stack,
    printed_url,
    profile_env,
    region_state,
    run_deploy,
    stand_in,
)

pytestmark = pytest.mark.deploy

PREFIX = "e2e-url"
MODE = ("--mode", "function-url")
STEPS = 5
# Stacks of both modes, by template name.
STACK_SUFFIXES = ("storage", "lambda-edge", "cdn", "fnurl")
# The function-URL entry point, part of the same zip as the main mode's handler.
URL_HANDLER_SOURCE = Path("lambdas") / "exif_transform" / "function_url" / "handler.py"
# Lambda Developer Guide, urls-configuration.html ("at the time of writing"), as deploy.sh lists them.
REGIONS_WITHOUT_FUNCTION_URLS = (
    "ap-south-2",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-east-2",
    "ca-west-1",
    "eu-south-2",
    "eu-central-2",
    "il-central-1",
    "me-central-1",
)


# --- what a run left behind ----------------------------------------------------------------------------


@dataclass
class Deployment:
    run: Run
    prefix: str
    # stack suffix -> the regions where <prefix>-<suffix> exists
    found_in: dict[str, list[str]]
    stack: dict[str, Any] | None  # <prefix>-fnurl in the target region
    artifact_bucket: str
    artifacts: dict[str, bytes]
    transform_code_sha256: str | None
    distribution: moto_cloud.StandInRecord | None
    function_url: moto_cloud.StandInRecord | None


def observe(cloud: Cloud, run: Run, prefix: str, region: str = TARGET_REGION) -> Deployment:
    regions = sorted({region, EDGE_REGION})
    found_in = {
        suffix: [r for r in regions if cloud.stack(f"{prefix}-{suffix}", r) is not None] for suffix in STACK_SUFFIXES
    }
    stack = cloud.stack(f"{prefix}-fnurl", region)
    artifact_bucket = f"{prefix}-artifacts-{cloud.account}-{region}"
    artifacts = cloud.objects(artifact_bucket) if artifact_bucket in cloud.buckets() else {}
    lambda_client = cloud.client("lambda", region)
    try:
        function = lambda_client.get_function_configuration(FunctionName=f"{prefix}-exif-transform")
    except lambda_client.exceptions.ResourceNotFoundException:
        function = {}
    outputs = stack["outputs"] if stack else {}
    return Deployment(
        run=run,
        prefix=prefix,
        found_in=found_in,
        stack=stack,
        artifact_bucket=artifact_bucket,
        artifacts=artifacts,
        transform_code_sha256=function.get("CodeSha256"),
        distribution=stand_in("AWS::CloudFront::Distribution", region, outputs.get("DistributionId", "")),
        # Ref of the function URL is its function's ARN.
        function_url=stand_in("AWS::Lambda::Url", region, function.get("FunctionArn", "")),
    )


def deploy_and_observe(cloud: Cloud, workspace: Path, env: dict[str, str], prefix: str, *extra: str) -> Deployment:
    run = run_deploy(workspace, [TARGET_REGION, *MODE, "--prefix", prefix, *extra], env)
    return observe(cloud, run, prefix)


# --- first deployment, a rerun, a changed transform ----------------------------------------------------


@pytest.fixture(scope="module")
def first(cloud: Cloud, workspace: Path, env: dict[str, str]) -> tuple[Deployment, dict[str, Any], dict[str, Any]]:
    """The first deployment, with us-east-1's state before and after it."""
    edge_before = region_state(cloud, EDGE_REGION)
    deployment = deploy_and_observe(cloud, workspace, env, PREFIX)
    assert deployment.run.returncode == 0, deployment.run
    return deployment, edge_before, region_state(cloud, EDGE_REGION)


@pytest.fixture(scope="module")
def rerun(cloud: Cloud, workspace: Path, env: dict[str, str], first: Any) -> tuple[Deployment, Deployment]:
    before = observe(cloud, first[0].run, PREFIX)
    return before, deploy_and_observe(cloud, workspace, env, PREFIX)


@pytest.fixture(scope="module")
def transform_changed(
    cloud: Cloud, workspace: Path, env: dict[str, str], rerun: Any
) -> tuple[Deployment, Deployment]:
    before = observe(cloud, rerun[1].run, PREFIX)
    with (workspace / URL_HANDLER_SOURCE).open("a") as source:
        source.write("# changed\n")
    return before, deploy_and_observe(cloud, workspace, env, PREFIX)


def test_deploys_one_stack_in_the_region_and_nothing_in_us_east_1(first: Any) -> None:
    deployment, edge_before, edge_after = first
    assert deployment.found_in == {"storage": [], "lambda-edge": [], "cdn": [], "fnurl": [TARGET_REGION]}
    assert deployment.stack is not None
    assert deployment.stack["status"] == "CREATE_COMPLETE"
    assert edge_after == edge_before


def test_stack_receives_the_zip_under_its_hash(first: Any, cloud: Cloud, workspace: Path) -> None:
    deployment = first[0]
    (key,) = deployment.artifacts
    match = re.fullmatch(r"exif-transform/([0-9a-f]{64})\.zip", key)
    assert match, key
    data = deployment.artifacts[key]
    assert hashlib.sha256(data).hexdigest() == match.group(1)
    assert (workspace / "build" / f"exif-transform-{match.group(1)}.zip").read_bytes() == data
    assert deployment.artifact_bucket == f"{PREFIX}-artifacts-{cloud.account}-{TARGET_REGION}"
    parameters = deployment.stack["parameters"]
    assert parameters["Prefix"] == PREFIX
    assert parameters["ArtifactBucket"] == deployment.artifact_bucket
    assert parameters["ArtifactKey"] == key
    # Streaming by default, through the adapter's published layer; the stack created its own bucket.
    assert parameters["StreamingResponses"] == "true"
    assert parameters["ExistingBucketName"] == ""
    assert deployment.transform_code_sha256 == lambda_code_sha256(data)


def test_printed_url_is_the_distributions_domain(first: Any) -> None:
    deployment = first[0]
    outputs = deployment.stack["outputs"]
    assert deployment.distribution is not None
    domain = outputs["DistributionDomainName"]
    assert domain == deployment.distribution.attributes["DomainName"]
    assert printed_url(deployment.run) == f"https://{domain}/"
    stdout = deployment.run.stdout
    bucket = outputs["BucketName"]
    assert f"\nBucket:         {bucket}\n" in stdout
    assert f"\nDistribution:   {outputs['DistributionId']} (" in stdout
    assert f"  aws s3 cp photo.jpg s3://{bucket}/photo.jpg --region {TARGET_REGION}\n" in stdout
    assert f"  curl -o photo-clean.jpg 'https://{domain}/photo.jpg'\n" in stdout
    assert f"  curl 'https://{domain}/photo.jpg?showExif=true'\n" in stdout


def test_distribution_reaches_the_function_url_with_origin_access_control(first: Any, cloud: Cloud) -> None:
    deployment = first[0]
    assert deployment.distribution is not None and deployment.function_url is not None
    url = deployment.function_url.attributes["FunctionUrl"]
    assert deployment.stack["outputs"]["FunctionUrl"] == url
    (origin,) = deployment.distribution.properties["DistributionConfig"]["Origins"]
    assert origin["DomainName"] == urlsplit(url).hostname
    access_control = stand_in("AWS::CloudFront::OriginAccessControl", TARGET_REGION, origin["OriginAccessControlId"])
    assert access_control is not None
    assert access_control.properties["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "lambda"
    # Both invoke permissions reached the function's policy, for this distribution only.
    policy = cloud.client("lambda", TARGET_REGION).get_policy(FunctionName=f"{PREFIX}-exif-transform")["Policy"]
    statements = json.loads(policy)["Statement"]
    distribution_arn = f"arn:aws:cloudfront::{cloud.account}:distribution/{deployment.distribution.physical_id}"
    assert sorted(s["Action"] for s in statements) == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]
    for statement in statements:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == distribution_arn


def test_each_step_is_announced_out_of_five(first: Any) -> None:
    deployment = first[0]
    steps = banners(deployment.run)
    assert [(n, total) for n, total, _ in steps] == [(n, STEPS) for n in range(1, STEPS + 1)]
    titles = [title for _, _, title in steps]
    assert titles[2] == f"Artifact bucket s3://{deployment.artifact_bucket} in {TARGET_REGION}"
    assert titles[3] == f"Stack {PREFIX}-fnurl in {TARGET_REGION}"
    assert titles[4] == "Outputs"


def test_second_run_changes_nothing(rerun: tuple[Deployment, Deployment]) -> None:
    before, after = rerun
    assert after.run.returncode == 0, after.run
    assert after.stack == before.stack
    assert f"No changes to deploy. Stack {PREFIX}-fnurl is up to date" in after.run.stdout
    assert after.artifacts == before.artifacts
    assert "is already uploaded" in after.run.stdout
    assert after.transform_code_sha256 == before.transform_code_sha256
    assert printed_url(after.run) == printed_url(before.run)


def test_changed_transform_uploads_a_new_zip_and_updates_the_function(
    transform_changed: tuple[Deployment, Deployment], first: Any, cloud: Cloud
) -> None:
    before, after = transform_changed
    assert after.run.returncode == 0, after.run
    (new_key,) = set(after.artifacts) - set(before.artifacts)
    assert set(before.artifacts) <= set(after.artifacts)  # nothing deleted
    assert after.stack["status"] == "UPDATE_COMPLETE"
    assert after.stack["parameters"]["ArtifactKey"] == new_key
    assert after.transform_code_sha256 == lambda_code_sha256(after.artifacts[new_key])
    assert after.transform_code_sha256 != before.transform_code_sha256
    # The distribution and the function URL are updated in place: same URL for viewers.
    assert after.stack["outputs"] == before.stack["outputs"]
    assert printed_url(after.run) == printed_url(before.run)
    assert after.found_in == before.found_in
    assert region_state(cloud, EDGE_REGION) == first[1]


# --- choosing the mode ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            [TARGET_REGION, "--mode", "lambda"],
            rf"unknown mode 'lambda': use olap, olap-oac or function-url {USAGE}",
            id="unknown",
        ),
        pytest.param([TARGET_REGION, "--mode=Function-URL"], r"unknown mode 'Function-URL'", id="case-matters"),
        pytest.param([TARGET_REGION, "--mode"], rf"--mode needs a value {USAGE}", id="without-value"),
    ],
)
def test_unknown_mode_is_a_usage_error(
    args: list[str], message: str, cloud: Cloud, workspace: Path, env: dict[str, str]
) -> None:
    before = cloud.state()
    run = run_deploy(workspace, args, env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == 2, run
    assert re.fullmatch(rf"deploy\.sh: {message}[^\n]*\n", run.stderr), run
    assert run.stdout == ""
    assert cloud.state() == before


@pytest.mark.parametrize("region", REGIONS_WITHOUT_FUNCTION_URLS)
def test_region_without_function_urls_is_refused(
    region: str, cloud: Cloud, workspace: Path, env: dict[str, str]
) -> None:
    before = cloud.state()
    run = run_deploy(workspace, [region, *MODE], env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == 1, run
    assert run.stderr == (
        f"deploy.sh: Lambda function URLs are not available in {region} (at the time of writing), "
        "so --mode function-url cannot be deployed there: choose another region\n"
    )
    assert run.stdout == ""
    assert cloud.state() == before


def test_region_without_function_urls_is_still_checked_further_in_olap_mode(
    cloud: Cloud, workspace: Path, tmp_path: Path
) -> None:
    # No credentials: the run stops at the next check, which shows the region itself passed.
    run = run_deploy(
        workspace, ["eu-central-2"], clean_env(tmp_path, cloud, credentials=False), timeout=PREFLIGHT_TIMEOUT_SECONDS
    )
    assert run.returncode == 1, run
    assert run.stderr.startswith("deploy.sh: no usable AWS credentials"), run


def test_help_documents_every_mode(workspace: Path, env: dict[str, str]) -> None:
    run = run_deploy(workspace, ["-h"], env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == 0, run
    assert run.stdout.startswith(
        "usage: ./deploy.sh <region> [--mode olap|olap-oac|function-url] [--prefix NAME] [--profile NAME] "
        "[--bucket NAME [--add-bucket-policy]] [--allowed-origins LIST] [--buffered]\n"
    )
    assert "\n--mode olap (the default): S3 Object Lambda, three stacks\n" in run.stdout
    assert (
        "\n--mode function-url: a Lambda function URL behind CloudFront, for any AWS account, one stack\n" in run.stdout
    )
    assert "\n  <prefix>-fnurl        in <region>" in run.stdout
    unavailable = run.stdout.split("Not available where Lambda has no function URLs (at the time of writing):\n")[1]
    assert unavailable.split("\n\n")[0].split() == list(REGIONS_WITHOUT_FUNCTION_URLS)
    assert "\n  --mode MODE     olap (default), olap-oac or function-url\n" in run.stdout


@pytest.mark.parametrize(
    ("prefix", "existing", "args", "message"),
    [
        pytest.param(
            "e2e-has-olap",
            "storage",
            list(MODE),
            "stack e2e-has-olap-storage in {region} (CREATE_COMPLETE) is the --mode olap or --mode olap-oac "
            "deployment of prefix "
            "e2e-has-olap; both modes name the function e2e-has-olap-exif-transform, so deploy --mode function-url "
            "with another --prefix",
            id="olap-stack-blocks-function-url",
        ),
        pytest.param(
            "e2e-has-fnurl",
            "fnurl",
            [],
            "stack e2e-has-fnurl-fnurl in {region} (CREATE_COMPLETE) is the --mode function-url deployment of "
            "prefix e2e-has-fnurl; both modes name the function e2e-has-fnurl-exif-transform, so deploy --mode olap "
            "with another --prefix",
            id="function-url-stack-blocks-olap",
        ),
    ],
)
def test_other_modes_stack_with_the_same_prefix_stops_the_run_before_anything_changes(
    prefix: str, existing: str, args: list[str], message: str, cloud: Cloud, workspace: Path, env: dict[str, str]
) -> None:
    marker_stack(cloud, f"{prefix}-{existing}")
    before = cloud.state()
    run = run_deploy(workspace, [TARGET_REGION, "--prefix", prefix, *args], env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == 1, run
    assert run.stderr == f"deploy.sh: {message.format(region=TARGET_REGION)}\n", run
    assert "[1/" not in run.stdout
    assert cloud.state() == before


# --- an account S3 Object Lambda refuses -----------------------------------------------------------------


@pytest.fixture(scope="module")
def refused_then_suggested(
    cloud: Cloud, workspace: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Run, list[str], Deployment]:
    """The main mode refused at the Object Lambda access point (credentials from a named profile), then the
    command it suggests, run as printed."""
    prefix = "e2e-new-account"
    env = profile_env(tmp_path_factory.mktemp("profile-home"), cloud)
    moto_cloud.STAND_INS.refuse_object_lambda = True
    try:
        refused = run_deploy(workspace, [TARGET_REGION, "--prefix", prefix, "--profile", "e2e"], env)
    finally:
        moto_cloud.STAND_INS.refuse_object_lambda = False
    match = re.search(r"which needs no S3 Object Lambda: (\./deploy\.sh .*)$", refused.stderr, re.MULTILINE)
    assert match, refused
    command = shlex.split(match.group(1))
    suggested = run_deploy(workspace, command[1:], env)
    return refused, command, observe(cloud, suggested, prefix)


def test_refused_olap_suggests_the_function_url_command(refused_then_suggested: Any) -> None:
    refused, command, _ = refused_then_suggested
    assert refused.returncode == 1, refused
    assert command == [
        "./deploy.sh",
        TARGET_REGION,
        *("--mode", "function-url"),
        *("--prefix", "e2e-new-account"),
        *("--profile", "e2e"),
    ]
    assert (
        "deploy.sh: S3 Object Lambda refused this account (since 2025-11-07 it accepts only AWS accounts that used "
        "it before; or these credentials lack s3:CreateAccessPointForObjectLambda): deploy the function-URL mode "
        f"instead, which needs no S3 Object Lambda: {shlex.join(command)}\n"
    ) in refused.stderr
    assert refused.stderr.rstrip().endswith(
        f"deploy.sh: stack e2e-new-account-storage in {TARGET_REGION} did not deploy (see above)"
    )


def test_suggested_command_deploys_where_the_refused_storage_stack_was_deleted(refused_then_suggested: Any) -> None:
    _, _, deployment = refused_then_suggested
    assert deployment.run.returncode == 0, deployment.run
    assert deployment.found_in == {"storage": [], "lambda-edge": [], "cdn": [], "fnurl": [TARGET_REGION]}
    assert deployment.stack["status"] == "CREATE_COMPLETE"
    assert printed_url(deployment.run) == f"https://{deployment.distribution.attributes['DomainName']}/"


def test_function_url_template_uses_only_types_the_emulator_can_create() -> None:
    template = json.loads((REPO / "templates" / "function-url.json").read_text())
    moto_cloud.register_stand_ins()
    assert moto_cloud.unsupported_types([template]) == set()
