"""deploy.sh end to end with a bucket the user already has (--bucket), the CORS and buffering options, and an
account S3 Object Lambda refuses: the real script and the real AWS CLI against moto's server
(tests/deploy_harness.py, fixtures in tests/conftest.py).

The user's bucket is made here the way a user would have it: objects, and a policy of their own. Every test
that deploys checks that its objects (bytes, ETags, versions, dates) and the statements of its policy are
still there, unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import moto_cloud
from deploy_harness import (
    PREFLIGHT_TIMEOUT_SECONDS,
    TARGET_REGION,
    Cloud,
    Run,
    run_deploy,
    stand_in,
)
from tools.deploy import existing_bucket

pytestmark = pytest.mark.deploy

OTHER_REGION = "us-west-2"
PHOTOS = {"2024/beach.jpg": b"\xff\xd8\xff\xe0 not really a jpeg", "scans/letter.png": b"\x89PNG\r\n\x1a\n..."}
ALL_BLOCKED = {flag: True for flag in existing_bucket.PUBLIC_ACCESS_FLAGS}


def users_statement(account: str, bucket: str) -> dict[str, Any]:
    return {
        "Sid": "FamilyReadsOriginals",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


def make_bucket(
    cloud: Cloud,
    name: str,
    *,
    region: str = TARGET_REGION,
    ownership: str = "BucketOwnerEnforced",
    blocked: bool = True,
    policy: bool = True,
) -> None:
    """A user's bucket: two photos, Block Public Access on, ACLs off, and a policy of their own."""
    s3 = cloud.client("s3", region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **location)
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
    if blocked:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=ALL_BLOCKED)
    for key, body in PHOTOS.items():
        s3.put_object(Bucket=name, Key=key, Body=body)
    if policy:
        document = {"Version": "2012-10-17", "Statement": [users_statement(cloud.account, name)]}
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(document))


def objects(cloud: Cloud, bucket: str, region: str = TARGET_REGION) -> dict[tuple[str, str], tuple[bytes, str, Any]]:
    """Every version of every object: (key, version) -> (bytes, ETag, LastModified)."""
    s3 = cloud.client("s3", region)
    found = {}
    for version in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
        found[(version["Key"], version["VersionId"])] = (body, version["ETag"], version["LastModified"])
    return found


def policy_statements(cloud: Cloud, bucket: str, region: str = TARGET_REGION) -> list[dict[str, Any]] | None:
    try:
        policy = cloud.client("s3", region).get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError:
        return None
    return json.loads(policy)["Statement"]


def required(cloud: Cloud, origin_mode: str, prefix: str, bucket: str) -> list[dict[str, Any]]:
    return existing_bucket.required_statements(
        origin_mode, partition="aws", account=cloud.account, region=TARGET_REGION, prefix=prefix, bucket=bucket
    )


def deploy(workspace: Path, env: dict[str, str], *args: str, timeout: int | None = None) -> Run:
    if timeout is None:
        return run_deploy(workspace, [TARGET_REGION, *args], env)
    return run_deploy(workspace, [TARGET_REGION, *args], env, timeout=timeout)


# --- S3 Object Lambda through OAC, on a bucket with a policy of its own ------------------------------------

OWN = "e2e-family-photos"
OWN_PREFIX = "e2e-own"
OWN_ARGS = ("--mode", "olap-oac", "--prefix", OWN_PREFIX, "--bucket", OWN)


@pytest.fixture(scope="module")
def own_bucket(cloud: Cloud) -> dict[str, Any]:
    make_bucket(cloud, OWN)
    return {"objects": objects(cloud, OWN), "statements": policy_statements(cloud, OWN)}


@pytest.fixture(scope="module")
def stopped(cloud: Cloud, workspace: Path, env: dict[str, str], own_bucket: Any) -> tuple[Run, Any, Any]:
    before = cloud.state()
    run = deploy(workspace, env, *OWN_ARGS, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    return run, before, cloud.state()


def test_a_bucket_with_its_own_policy_stops_with_the_statements_to_add(
    stopped: Any, cloud: Cloud, own_bucket: Any
) -> None:
    run, before, after = stopped
    assert run.returncode == 1, run
    first, rest = run.stderr.split("\n", 1)
    assert first == (
        f"deploy.sh: bucket {OWN} already has a policy, which deploy.sh does not replace; this mode needs 2 more "
        "statement(s) in it (DelegateReadsToSupportingAccessPoint, DelegateCloudFrontReadsToSupportingAccessPoint): "
        "add the ones below to its Statement list, or run "
        f"'./deploy.sh {TARGET_REGION} --mode olap-oac --prefix {OWN_PREFIX} --bucket {OWN} --add-bucket-policy' "
        "to have deploy.sh add them (keeping every statement it has); nothing was deployed"
    )
    assert json.loads(rest) == {"Statement": required(cloud, "olap-oac", OWN_PREFIX, OWN)}
    assert "[1/" not in run.stdout
    assert after == before
    assert policy_statements(cloud, OWN) == own_bucket["statements"]
    assert objects(cloud, OWN) == own_bucket["objects"]


@pytest.fixture(scope="module")
def added(cloud: Cloud, workspace: Path, env: dict[str, str], stopped: Any) -> tuple[Run, list[str], list[str]]:
    buckets_before = cloud.buckets()
    run = deploy(workspace, env, *OWN_ARGS, "--add-bucket-policy")
    return run, buckets_before, cloud.buckets()


def test_with_add_bucket_policy_the_stacks_serve_the_bucket_and_create_none(added: Any, cloud: Cloud) -> None:
    run, buckets_before, buckets_after = added
    assert run.returncode == 0, run
    # Only the artifact bucket is new: no image bucket.
    assert sorted(set(buckets_after) - set(buckets_before)) == [
        f"{OWN_PREFIX}-artifacts-{cloud.account}-{TARGET_REGION}"
    ]
    storage = cloud.stack(f"{OWN_PREFIX}-storage", TARGET_REGION)
    assert storage["status"] == "CREATE_COMPLETE"
    assert storage["parameters"]["ExistingBucketName"] == OWN
    assert storage["outputs"]["BucketName"] == OWN
    (access_point,) = [
        r for r in moto_cloud.STAND_INS.of_type("AWS::S3::AccessPoint", TARGET_REGION)
        if r.physical_id == f"{OWN_PREFIX}-ap"
    ]
    assert access_point.properties["Bucket"] == OWN
    assert f"\nBucket:         {OWN}\n" in run.stdout


def test_the_statements_are_added_and_the_users_own_kept(added: Any, cloud: Cloud, own_bucket: Any) -> None:
    run = added[0]
    assert policy_statements(cloud, OWN) == [*own_bucket["statements"], *required(cloud, "olap-oac", OWN_PREFIX, OWN)]
    assert (
        "Added DelegateReadsToSupportingAccessPoint, DelegateCloudFrontReadsToSupportingAccessPoint to the policy of "
        f"bucket {OWN} (every statement it had is kept)\n"
    ) in run.stdout
    assert objects(cloud, OWN) == own_bucket["objects"]


@pytest.fixture(scope="module")
def rerun(cloud: Cloud, workspace: Path, env: dict[str, str], added: Any) -> tuple[Run, Any]:
    before = policy_statements(cloud, OWN)
    return deploy(workspace, env, *OWN_ARGS), before


def test_a_second_run_needs_no_flag_and_changes_no_statement(rerun: Any, cloud: Cloud, own_bucket: Any) -> None:
    run, statements_before = rerun
    assert run.returncode == 0, run
    assert f"Bucket {OWN}: its policy holds the statements this mode needs\n" in run.stdout
    assert policy_statements(cloud, OWN) == statements_before
    assert objects(cloud, OWN) == own_bucket["objects"]


def test_a_stack_keeps_the_bucket_it_was_deployed_with(
    rerun: Any, cloud: Cloud, workspace: Path, env: dict[str, str]
) -> None:
    before = cloud.state()
    run = deploy(workspace, env, "--mode", "olap-oac", "--prefix", OWN_PREFIX, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == 1, run
    assert run.stderr == (
        f"deploy.sh: stack {OWN_PREFIX}-storage in {TARGET_REGION} serves bucket {OWN} (--bucket {OWN}), and this "
        f"run has no --bucket; a stack keeps its bucket: run deploy.sh with --bucket {OWN}, or deploy with another "
        "--prefix\n"
    )
    assert cloud.state() == before


@pytest.fixture(scope="module")
def bare(cloud: Cloud, workspace: Path, env: dict[str, str]) -> tuple[Run, dict[str, Any]]:
    make_bucket(cloud, "e2e-bare-photos", policy=False)
    held = objects(cloud, "e2e-bare-photos")
    return deploy(workspace, env, "--mode", "olap-oac", "--prefix", "e2e-bare", "--bucket", "e2e-bare-photos"), held


def test_a_bucket_without_a_policy_gets_one_holding_the_statements(bare: Any, cloud: Cloud) -> None:
    run, held = bare
    assert run.returncode == 0, run
    assert "Bucket e2e-bare-photos: 2 statement(s) to add to its policy in step 4\n" in run.stdout
    assert policy_statements(cloud, "e2e-bare-photos") == required(cloud, "olap-oac", "e2e-bare", "e2e-bare-photos")
    assert objects(cloud, "e2e-bare-photos") == held


# --- the function-URL mode on a bucket with a policy, CORS origins, buffered ---------------------------------

URL_BUCKET = "e2e-url-photos"
URL_PREFIX = "e2e-url-own"
ORIGINS = "https://photos.example,https://www.photos.example"


@pytest.fixture(scope="module")
def function_url(cloud: Cloud, workspace: Path, env: dict[str, str]) -> tuple[Run, dict[str, Any], list[str]]:
    make_bucket(cloud, URL_BUCKET)
    bucket = {"objects": objects(cloud, URL_BUCKET), "statements": policy_statements(cloud, URL_BUCKET)}
    buckets_before = cloud.buckets()
    run = deploy(
        workspace, env, "--mode", "function-url", "--prefix", URL_PREFIX, "--bucket", URL_BUCKET,
        "--allowed-origins", ORIGINS, "--buffered",
    )
    return run, bucket, buckets_before


def test_function_url_mode_serves_the_bucket_as_it_is(function_url: Any, cloud: Cloud) -> None:
    run, bucket, buckets_before = function_url
    assert run.returncode == 0, run
    assert f"Bucket {URL_BUCKET}: served as it is (this mode needs nothing in its policy)\n" in run.stdout
    assert sorted(set(cloud.buckets()) - set(buckets_before)) == [
        f"{URL_PREFIX}-artifacts-{cloud.account}-{TARGET_REGION}"
    ]
    assert policy_statements(cloud, URL_BUCKET) == bucket["statements"]
    assert objects(cloud, URL_BUCKET) == bucket["objects"]
    stack = cloud.stack(f"{URL_PREFIX}-fnurl", TARGET_REGION)
    assert stack["parameters"]["ExistingBucketName"] == URL_BUCKET
    function = cloud.client("lambda", TARGET_REGION).get_function_configuration(
        FunctionName=f"{URL_PREFIX}-exif-transform"
    )
    assert function["Environment"]["Variables"]["BUCKET_NAME"] == URL_BUCKET


def test_buffered_chooses_the_buffered_handler(function_url: Any, cloud: Cloud) -> None:
    stack = cloud.stack(f"{URL_PREFIX}-fnurl", TARGET_REGION)
    assert stack["parameters"]["StreamingResponses"] == "false"
    function = cloud.client("lambda", TARGET_REGION).get_function_configuration(
        FunctionName=f"{URL_PREFIX}-exif-transform"
    )
    assert function["Handler"] == "function_url.handler.lambda_handler"
    assert not function.get("Layers")


def test_allowed_origins_reach_the_distributions_response_headers_policy(function_url: Any, cloud: Cloud) -> None:
    stack = cloud.stack(f"{URL_PREFIX}-fnurl", TARGET_REGION)
    assert stack["parameters"]["AllowedOrigins"] == ORIGINS
    distribution = stand_in("AWS::CloudFront::Distribution", TARGET_REGION, stack["outputs"]["DistributionId"])
    policy_id = distribution.properties["DistributionConfig"]["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    policy = stand_in("AWS::CloudFront::ResponseHeadersPolicy", TARGET_REGION, policy_id)
    cors = policy.properties["ResponseHeadersPolicyConfig"]["CorsConfig"]
    assert cors["AccessControlAllowOrigins"] == {"Items": ["https://photos.example", "https://www.photos.example"]}
    assert cors["AccessControlAllowMethods"] == {"Items": ["GET", "HEAD"]}


# --- preflight: a bucket that cannot be served, one line each, nothing changed --------------------------------


@pytest.mark.parametrize(
    ("bucket", "setup", "message"),
    [
        pytest.param("e2e-nobody-has-this", None, "bucket e2e-nobody-has-this does not exist: --bucket names a "
                     "bucket you already have", id="missing"),
        pytest.param("e2e-far-photos", {"region": OTHER_REGION}, f"bucket e2e-far-photos is in {OTHER_REGION}, not "
                     f"{TARGET_REGION}: the function and the access points must be in the bucket's region, so deploy "
                     f"to {OTHER_REGION} (./deploy.sh {OTHER_REGION} ... --bucket e2e-far-photos)", id="other-region"),
        pytest.param("e2e-acl-photos", {"ownership": "ObjectWriter"}, "bucket e2e-acl-photos has Object Ownership "
                     "ObjectWriter: with ACLs enabled", id="acls-enabled"),
        pytest.param("e2e-open-photos", {"blocked": False}, "bucket e2e-open-photos does not block all public access "
                     "(BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets off)",
                     id="public-access"),
    ],
)
def test_a_bucket_that_cannot_be_served_is_refused_in_one_line(
    bucket: str, setup: dict[str, Any] | None, message: str, cloud: Cloud, workspace: Path, env: dict[str, str]
) -> None:
    if setup is not None:
        make_bucket(cloud, bucket, **setup)
    region = (setup or {}).get("region", TARGET_REGION)
    held = objects(cloud, bucket, region) if setup is not None else None
    before = cloud.state()
    run = deploy(workspace, env, "--prefix", "e2e-checked", "--bucket", bucket, timeout=PREFLIGHT_TIMEOUT_SECONDS)
    assert run.returncode == 1, run
    assert run.stderr.startswith(f"deploy.sh: {message}"), run
    assert run.stderr.count("\n") == 1, run
    assert "[1/" not in run.stdout
    assert cloud.state() == before
    if setup is not None:
        assert objects(cloud, bucket, region) == held


# --- an account S3 Object Lambda refuses ------------------------------------------------------------------


def refused_run(workspace: Path, env: dict[str, str], *args: str) -> Run:
    moto_cloud.STAND_INS.refuse_object_lambda = True
    try:
        return deploy(workspace, env, *args)
    finally:
        moto_cloud.STAND_INS.refuse_object_lambda = False


REFUSAL_LINE = (
    "deploy.sh: S3 Object Lambda refused this account (since 2025-11-07 it accepts only AWS accounts that used it "
    "before; or these credentials lack s3:CreateAccessPointForObjectLambda): deploy the function-URL mode instead, "
    "which needs no S3 Object Lambda: ./deploy.sh {region} --mode function-url --prefix {prefix}{bucket}\n"
)


@pytest.fixture(scope="module")
def refused_new(cloud: Cloud, workspace: Path, env: dict[str, str]) -> tuple[Run, list[str], list[str]]:
    buckets_before = cloud.buckets()
    run = refused_run(workspace, env, "--mode", "olap-oac", "--prefix", "e2e-refused")
    return run, buckets_before, cloud.buckets()


def test_refusal_is_one_line_naming_the_function_url_mode(refused_new: Any) -> None:
    run = refused_new[0]
    assert run.returncode == 1, run
    assert REFUSAL_LINE.format(region=TARGET_REGION, prefix="e2e-refused", bucket="") in run.stderr
    assert run.stderr.rstrip().endswith(
        f"deploy.sh: stack e2e-refused-storage in {TARGET_REGION} did not deploy (see above)"
    )
    assert "[5/6]" not in run.stdout


def test_refusal_leaves_neither_the_stack_nor_the_empty_bucket_it_created(refused_new: Any, cloud: Cloud) -> None:
    run, buckets_before, buckets_after = refused_new
    assert cloud.stack("e2e-refused-storage", TARGET_REGION) is None
    # The artifact bucket stays (deploy.sh's own, reused by the next run); the image bucket is gone.
    assert sorted(set(buckets_after) - set(buckets_before)) == [
        f"e2e-refused-artifacts-{cloud.account}-{TARGET_REGION}"
    ]
    deleted = re.findall(r"^deploy\.sh: deleted the empty bucket (\S+) this run created$", run.stderr, re.MULTILINE)
    assert len(deleted) == 1 and deleted[0] not in buckets_after, run
    assert f"deploy.sh: deleted the failed stack e2e-refused-storage in {TARGET_REGION}\n" in run.stderr


@pytest.fixture(scope="module")
def refused_existing(cloud: Cloud, workspace: Path, env: dict[str, str]) -> tuple[Run, dict[str, Any]]:
    bucket = "e2e-refused-photos"
    make_bucket(cloud, bucket)
    held = {"objects": objects(cloud, bucket), "statements": policy_statements(cloud, bucket)}
    run = refused_run(
        workspace, env, "--mode", "olap-oac", "--prefix", "e2e-refused-own", "--bucket", bucket, "--add-bucket-policy"
    )
    return run, held


def test_refusal_never_touches_an_existing_bucket(refused_existing: Any, cloud: Cloud) -> None:
    run, held = refused_existing
    assert run.returncode == 1, run
    assert REFUSAL_LINE.format(
        region=TARGET_REGION, prefix="e2e-refused-own", bucket=" --bucket e2e-refused-photos"
    ) in run.stderr
    assert cloud.stack("e2e-refused-own-storage", TARGET_REGION) is None
    assert "e2e-refused-photos" in cloud.buckets()
    assert "deleted the empty bucket" not in run.stderr
    # The statements are added only once the storage stack stands: the policy is as the user left it.
    assert policy_statements(cloud, "e2e-refused-photos") == held["statements"]
    assert objects(cloud, "e2e-refused-photos") == held["objects"]
