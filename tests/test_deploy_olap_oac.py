"""deploy.sh --mode olap-oac end to end: the real script and the real AWS CLI against moto's server.

The emulator, the repository copy and the environment are tests/conftest.py's fixtures (module-scoped: this
module has its own server and workspace). The main flow deploys one prefix, reruns it, changes the transform,
opts into ExifQuery=full, is refused a switch back to --mode olap, then switches for real both ways after
deleting the other mode's distribution stack, as the refusal says.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import moto_cloud
from deploy_harness import (
    EDGE_REGION,
    PREFLIGHT_TIMEOUT_SECONDS,
    REPO,
    TARGET_REGION,
    TRANSFORM_SOURCE,
    Cloud,
    Run,
    banners,
    lambda_code_sha256,
    printed_url,
    region_state,
    run_aws,
    run_deploy,
    stand_in,
)

pytestmark = pytest.mark.deploy

PREFIX = "e2e-oac"
MODE = ("--mode", "olap-oac")
STEPS = 6
# Every stack a prefix can have, by suffix.
STACK_SUFFIXES = ("storage", "lambda-edge", "cdn", "cdn-oac", "fnurl")
VERSION_PARAMETER = f"/{PREFIX}/Edge-Origin-Request-Fn-Version-Arn"
OBJECT_LAMBDA_ACCESS_POINT = f"{PREFIX}-olap"


@dataclass
class Deployment:
    run: Run
    # stack suffix -> the regions where <prefix>-<suffix> exists
    found_in: dict[str, list[str]]
    storage: dict[str, Any] | None
    cdn_oac: dict[str, Any] | None
    artifacts: dict[str, bytes]
    transform_code_sha256: str | None
    distribution: moto_cloud.StandInRecord | None
    # The policies of the Object Lambda access point, whichever stack wrote them.
    access_point_policies: list[dict[str, Any]]


def observe(cloud: Cloud, run: Run, prefix: str = PREFIX) -> Deployment:
    regions = sorted({TARGET_REGION, EDGE_REGION})
    found_in = {
        suffix: [r for r in regions if cloud.stack(f"{prefix}-{suffix}", r) is not None] for suffix in STACK_SUFFIXES
    }
    cdn_oac = cloud.stack(f"{prefix}-cdn-oac", TARGET_REGION)
    artifact_bucket = f"{prefix}-artifacts-{cloud.account}-{TARGET_REGION}"
    lambda_client = cloud.client("lambda", TARGET_REGION)
    try:
        function = lambda_client.get_function_configuration(FunctionName=f"{prefix}-exif-transform")
    except lambda_client.exceptions.ResourceNotFoundException:
        function = {}
    distribution_id = (cdn_oac or {}).get("outputs", {}).get("DistributionId", "")
    policies = [
        record.properties["PolicyDocument"]
        for record in moto_cloud.STAND_INS.of_type("AWS::S3ObjectLambda::AccessPointPolicy", TARGET_REGION)
        if record.properties["ObjectLambdaAccessPoint"] == f"{prefix}-olap"
    ]
    return Deployment(
        run=run,
        found_in=found_in,
        storage=cloud.stack(f"{prefix}-storage", TARGET_REGION),
        cdn_oac=cdn_oac,
        artifacts=cloud.objects(artifact_bucket) if artifact_bucket in cloud.buckets() else {},
        transform_code_sha256=function.get("CodeSha256"),
        distribution=stand_in("AWS::CloudFront::Distribution", TARGET_REGION, distribution_id),
        access_point_policies=policies,
    )


def deploy_and_observe(cloud: Cloud, workspace: Path, env: dict[str, str], *mode: str) -> Deployment:
    run = run_deploy(workspace, [TARGET_REGION, *mode, "--prefix", PREFIX], env)
    return observe(cloud, run)


def full_state(cloud: Cloud) -> dict[str, Any]:
    """Everything a run could change, in both regions."""
    return {region: region_state(cloud, region) for region in (TARGET_REGION, EDGE_REGION)}


def delete_stack(cloud: Cloud, name: str) -> None:
    """What the refusal tells the user to run: delete-stack, then wait until it is gone."""
    cloudformation = cloud.client("cloudformation", TARGET_REGION)
    cloudformation.delete_stack(StackName=name)
    cloudformation.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1})


# --- first deployment, a rerun, a changed transform ----------------------------------------------------


@pytest.fixture(scope="module")
def first(cloud: Cloud, workspace: Path, env: dict[str, str]) -> tuple[Deployment, dict[str, Any], dict[str, Any]]:
    """The first deployment, with us-east-1's state before and after it."""
    edge_before = region_state(cloud, EDGE_REGION)
    deployment = deploy_and_observe(cloud, workspace, env, *MODE)
    assert deployment.run.returncode == 0, deployment.run
    return deployment, edge_before, region_state(cloud, EDGE_REGION)


@pytest.fixture(scope="module")
def rerun(cloud: Cloud, workspace: Path, env: dict[str, str], first: Any) -> tuple[Deployment, Deployment]:
    before = observe(cloud, first[0].run)
    return before, deploy_and_observe(cloud, workspace, env, *MODE)


@pytest.fixture(scope="module")
def transform_changed(
    cloud: Cloud, workspace: Path, env: dict[str, str], rerun: Any
) -> tuple[Deployment, Deployment]:
    before = observe(cloud, rerun[1].run)
    with (workspace / TRANSFORM_SOURCE).open("a") as source:
        source.write("# changed\n")
    return before, deploy_and_observe(cloud, workspace, env, *MODE)


def test_deploys_storage_and_cdn_oac_in_the_region_and_nothing_in_us_east_1(first: Any, cloud: Cloud) -> None:
    deployment, edge_before, edge_after = first
    assert deployment.found_in == {
        "storage": [TARGET_REGION],
        "lambda-edge": [],
        "cdn": [],
        "cdn-oac": [TARGET_REGION],
        "fnurl": [],
    }
    assert deployment.storage["status"] == deployment.cdn_oac["status"] == "CREATE_COMPLETE"
    # No stack, function, SSM parameter, bucket or stand-in resource in us-east-1, no SSM hand-over anywhere.
    assert edge_after == edge_before
    assert cloud.ssm_value(VERSION_PARAMETER, EDGE_REGION) is None
    assert cloud.ssm_value(VERSION_PARAMETER, TARGET_REGION) is None
    assert "SSM" not in deployment.run.stdout


def test_stacks_receive_the_origin_mode_and_the_zip(first: Any, cloud: Cloud) -> None:
    deployment = first[0]
    (key,) = deployment.artifacts
    storage = deployment.storage["parameters"]
    assert storage["OriginMode"] == "olap-oac"
    assert storage["Prefix"] == PREFIX
    assert storage["ArtifactBucket"] == f"{PREFIX}-artifacts-{cloud.account}-{TARGET_REGION}"
    assert storage["ArtifactKey"] == key
    assert deployment.transform_code_sha256 == lambda_code_sha256(deployment.artifacts[key])
    assert deployment.cdn_oac["parameters"]["Prefix"] == PREFIX


def test_distribution_reaches_the_access_point_alias_with_origin_access_control(first: Any, cloud: Cloud) -> None:
    deployment = first[0]
    assert deployment.distribution is not None
    config = deployment.distribution.properties["DistributionConfig"]
    (origin,) = config["Origins"]
    alias = deployment.storage["outputs"]["ObjectLambdaAlias"]
    assert alias.startswith(f"{OBJECT_LAMBDA_ACCESS_POINT}-") and alias.endswith("--ol-s3")
    assert origin["DomainName"] == f"{alias}.s3.{TARGET_REGION}.amazonaws.com"
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    access_control = stand_in("AWS::CloudFront::OriginAccessControl", TARGET_REGION, origin["OriginAccessControlId"])
    assert access_control is not None
    settings = access_control.properties["OriginAccessControlConfig"]
    assert (settings["OriginAccessControlOriginType"], settings["SigningBehavior"]) == ("s3", "always")
    assert "LambdaFunctionAssociations" not in config["DefaultCacheBehavior"]


def test_the_access_point_has_one_policy_admitting_this_distribution_only(first: Any, cloud: Cloud) -> None:
    deployment = first[0]
    (policy,) = deployment.access_point_policies  # the cdn-oac stack's; the storage stack wrote none
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": ["cloudfront.amazonaws.com"]}
    distribution_arn = f"arn:aws:cloudfront::{cloud.account}:distribution/{deployment.distribution.physical_id}"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceArn": distribution_arn}}
    # And the transform lets CloudFront invoke it, for this distribution only.
    function_policy = cloud.client("lambda", TARGET_REGION).get_policy(FunctionName=f"{PREFIX}-exif-transform")
    (invoke,) = json.loads(function_policy["Policy"])["Statement"]
    assert invoke["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert invoke["Condition"]["ArnLike"]["AWS:SourceArn"] == distribution_arn


def test_each_step_is_announced_out_of_six_and_the_url_printed(first: Any) -> None:
    deployment = first[0]
    steps = banners(deployment.run)
    assert [(n, total) for n, total, _ in steps] == [(n, STEPS) for n in range(1, STEPS + 1)]
    titles = [title for _, _, title in steps]
    assert titles[3] == f"Stack {PREFIX}-storage in {TARGET_REGION}"
    assert titles[4] == f"Stack {PREFIX}-cdn-oac in {TARGET_REGION}"
    assert titles[5] == "Outputs"
    outputs = deployment.cdn_oac["outputs"]
    assert outputs["DistributionDomainName"] == deployment.distribution.attributes["DomainName"]
    assert printed_url(deployment.run) == f"https://{outputs['DistributionDomainName']}/"
    assert f"\nDistribution:   {outputs['DistributionId']} (" in deployment.run.stdout
    bucket = deployment.storage["outputs"]["BucketName"]
    assert f"  aws s3 cp photo.jpg s3://{bucket}/photo.jpg --region {TARGET_REGION}\n" in deployment.run.stdout
    # The default ExifQuery (safe) and no stack of another mode: nothing to warn about.
    assert "warning" not in deployment.run.stderr and "note" not in deployment.run.stderr


def test_second_run_changes_nothing(rerun: tuple[Deployment, Deployment]) -> None:
    before, after = rerun
    assert after.run.returncode == 0, after.run
    for suffix in ("storage", "cdn-oac"):
        assert f"No changes to deploy. Stack {PREFIX}-{suffix} is up to date" in after.run.stdout
    assert (after.storage, after.cdn_oac) == (before.storage, before.cdn_oac)
    assert after.artifacts == before.artifacts
    assert "is already uploaded" in after.run.stdout
    assert printed_url(after.run) == printed_url(before.run)


def test_changed_transform_uploads_a_new_zip_and_updates_the_function(
    transform_changed: tuple[Deployment, Deployment], first: Any, cloud: Cloud
) -> None:
    before, after = transform_changed
    assert after.run.returncode == 0, after.run
    (new_key,) = set(after.artifacts) - set(before.artifacts)
    assert set(before.artifacts) <= set(after.artifacts)  # nothing deleted
    assert after.storage["status"] == "UPDATE_COMPLETE"
    assert after.storage["parameters"]["ArtifactKey"] == new_key
    assert after.storage["parameters"]["OriginMode"] == "olap-oac"
    assert after.transform_code_sha256 == lambda_code_sha256(after.artifacts[new_key])
    assert after.transform_code_sha256 != before.transform_code_sha256
    assert after.cdn_oac == before.cdn_oac
    assert f"No changes to deploy. Stack {PREFIX}-cdn-oac is up to date" in after.run.stdout
    assert region_state(cloud, EDGE_REGION) == first[1]


# --- ExifQuery=full, set outside deploy.sh, is kept and warned about ----------------------------------------


@pytest.fixture(scope="module")
def exif_query_full(cloud: Cloud, workspace: Path, env: dict[str, str], transform_changed: Any) -> tuple[Run, Deployment]:
    """The user opts into the full EXIF view the way the README shows, then runs deploy.sh again."""
    opted_in = run_aws(
        workspace,
        [
            *("cloudformation", "deploy", "--stack-name", f"{PREFIX}-storage", "--region", TARGET_REGION),
            *("--template-file", "templates/storage.json", "--capabilities", "CAPABILITY_NAMED_IAM"),
            *("--parameter-overrides", "ExifQuery=full"),
        ],
        env,
    )
    return opted_in, deploy_and_observe(cloud, workspace, env, *MODE)


def test_exif_query_full_is_kept_and_warned_about_on_stderr(exif_query_full: tuple[Run, Deployment]) -> None:
    opted_in, deployment = exif_query_full
    assert opted_in.returncode == 0, opted_in
    assert deployment.run.returncode == 0, deployment.run
    assert deployment.storage["parameters"]["ExifQuery"] == "full"
    warnings = [line for line in deployment.run.stderr.splitlines() if "ExifQuery=full" in line]
    assert warnings == [
        f"deploy.sh: warning: stack {PREFIX}-storage in {TARGET_REGION} has ExifQuery=full: ?showExif=true gives "
        "anyone with an image's URL its GPS position, serial numbers and owner names; to answer with technical "
        f"fields only, run 'aws cloudformation deploy --stack-name {PREFIX}-storage --region {TARGET_REGION} "
        "--template-file templates/storage.json --capabilities CAPABILITY_NAMED_IAM --parameter-overrides "
        "ExifQuery=safe' (later runs of deploy.sh keep it)"
    ]
    assert "warning" not in deployment.run.stdout


# --- switching modes on this prefix ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def back_to_olap_refused(
    cloud: Cloud, workspace: Path, env: dict[str, str], exif_query_full: Any
) -> tuple[Run, dict[str, Any], dict[str, Any]]:
    before = full_state(cloud)
    run = run_deploy(workspace, [TARGET_REGION, "--prefix", PREFIX], env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    return run, before, full_state(cloud)


def test_olap_is_refused_while_the_olap_oac_distribution_exists(back_to_olap_refused: Any) -> None:
    run, before, after = back_to_olap_refused
    assert run.returncode == 1, run
    stack = f"{PREFIX}-cdn-oac"
    assert run.stderr == (
        f"deploy.sh: stack {stack} in {TARGET_REGION} (CREATE_COMPLETE) is the --mode olap-oac distribution of "
        f"prefix {PREFIX}; the Object Lambda access point {OBJECT_LAMBDA_ACCESS_POINT} has one policy, owned by "
        f"stack {stack} in --mode olap-oac and by stack {PREFIX}-storage in --mode olap, so the two distributions "
        f"cannot share it: to switch this prefix to --mode olap, first run 'aws cloudformation delete-stack "
        f"--stack-name {stack} --region {TARGET_REGION}' and 'aws cloudformation wait stack-delete-complete "
        f"--stack-name {stack} --region {TARGET_REGION}', then run deploy.sh again (or deploy with another "
        "--prefix)\n"
    )
    assert "[1/" not in run.stdout
    assert after == before


@pytest.fixture(scope="module")
def switched_to_olap(cloud: Cloud, workspace: Path, env: dict[str, str], back_to_olap_refused: Any) -> Deployment:
    """The refusal's advice followed: the olap-oac distribution deleted, then deploy.sh in olap mode."""
    delete_stack(cloud, f"{PREFIX}-cdn-oac")
    return deploy_and_observe(cloud, workspace, env)


def test_after_deleting_the_distribution_olap_takes_over_the_access_point(
    switched_to_olap: Deployment, cloud: Cloud
) -> None:
    deployment = switched_to_olap
    assert deployment.run.returncode == 0, deployment.run
    assert deployment.found_in == {
        "storage": [TARGET_REGION],
        "lambda-edge": [EDGE_REGION],
        "cdn": [TARGET_REGION],
        "cdn-oac": [],
        "fnurl": [],
    }
    assert deployment.storage["parameters"]["OriginMode"] == "olap"
    # The storage stack's own policy now, for the edge signer's role; ExifQuery kept, so still warned about.
    (policy,) = deployment.access_point_policies
    (statement,) = policy["Statement"]
    assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"].endswith(f":role/{PREFIX}-edge-signer")
    assert deployment.storage["parameters"]["ExifQuery"] == "full"
    assert "deploy.sh: warning: stack e2e-oac-storage" in deployment.run.stderr


@pytest.fixture(scope="module")
def switched_back_to_olap_oac(
    cloud: Cloud, workspace: Path, env: dict[str, str], switched_to_olap: Deployment
) -> tuple[Run, dict[str, Any], Deployment]:
    """olap-oac refused while the olap distribution exists, then deployed once it is deleted."""
    before = full_state(cloud)
    refused = run_deploy(workspace, [TARGET_REGION, *MODE, "--prefix", PREFIX], env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert full_state(cloud) == before, refused
    delete_stack(cloud, f"{PREFIX}-cdn")
    return refused, before, deploy_and_observe(cloud, workspace, env, *MODE)


def test_olap_oac_is_refused_while_the_olap_distribution_exists(switched_back_to_olap_oac: Any) -> None:
    refused, _, _ = switched_back_to_olap_oac
    assert refused.returncode == 1, refused
    assert refused.stderr.startswith(
        f"deploy.sh: stack {PREFIX}-cdn in {TARGET_REGION} (CREATE_COMPLETE) is the --mode olap distribution of "
        f"prefix {PREFIX}; the Object Lambda access point {OBJECT_LAMBDA_ACCESS_POINT} has one policy, owned by "
        f"stack {PREFIX}-storage in --mode olap and by stack {PREFIX}-cdn-oac in --mode olap-oac"
    )
    assert f"'aws cloudformation delete-stack --stack-name {PREFIX}-cdn --region {TARGET_REGION}'" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert "[1/" not in refused.stdout


def test_after_switching_to_olap_oac_the_unused_edge_signer_is_noted_not_deleted(
    switched_back_to_olap_oac: Any, cloud: Cloud
) -> None:
    _, before, deployment = switched_back_to_olap_oac
    assert deployment.run.returncode == 0, deployment.run
    assert deployment.storage["parameters"]["OriginMode"] == "olap-oac"
    (policy,) = deployment.access_point_policies
    assert policy["Statement"][0]["Principal"] == {"Service": ["cloudfront.amazonaws.com"]}
    stack = f"{PREFIX}-lambda-edge"
    assert deployment.found_in["lambda-edge"] == [EDGE_REGION]
    assert region_state(cloud, EDGE_REGION) == before[EDGE_REGION]  # untouched, nothing deleted
    notes = [line for line in deployment.run.stderr.splitlines() if line.startswith("deploy.sh: note:")]
    assert notes == [
        f"deploy.sh: note: stack {stack} in {EDGE_REGION} (CREATE_COMPLETE) is the --mode olap edge signer, which "
        "--mode olap-oac does not use: once CloudFront has removed the function's replicas (typically a few hours "
        f"after the {PREFIX}-cdn distribution is gone) delete it with 'aws cloudformation delete-stack "
        f"--stack-name {stack} --region {EDGE_REGION}' (deploy.sh does not delete it)"
    ]


# --- the command line --------------------------------------------------------------------------------------


def test_help_documents_olap_oac(workspace: Path, env: dict[str, str]) -> None:
    run = run_deploy(workspace, ["--help"], env, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == 0, run
    assert "\n--mode olap-oac: S3 Object Lambda signed for by CloudFront (Origin Access Control), two stacks\n" in (
        run.stdout
    )
    assert "\n  <prefix>-cdn-oac      in <region>" in run.stdout


def test_cdn_oac_template_uses_only_types_the_emulator_can_create() -> None:
    template = json.loads((REPO / "templates" / "cdn-oac.json").read_text())
    moto_cloud.register_stand_ins()
    assert moto_cloud.unsupported_types([template]) == set()
    assert re.search(r"AWS::S3ObjectLambda::AccessPointPolicy", json.dumps(template))
