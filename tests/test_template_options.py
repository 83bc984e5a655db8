"""Template options a deployment chooses: an existing bucket (ExistingBucketName, storage and function-url) and
the opt-in CORS header (AllowedOrigins, every distribution). Read from the committed JSON, as deployed with the
given parameter values (tests/template_modes.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stacks import policies
from template_modes import deployed

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION_TEMPLATES = ["cdn", "cdn-oac", "function-url"]
BUCKET_TEMPLATES = ["storage", "function-url"]
ACCOUNT = "123456789012"
REGION = "eu-west-1"


def load(name: str) -> dict:
    return json.loads((ROOT / "templates" / f"{name}.json").read_text(encoding="utf-8"))


def of_type(template: dict, resource_type: str) -> list[dict]:
    return [r for r in template["Resources"].values() if r["Type"] == resource_type]


# --- an existing bucket --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUCKET_TEMPLATES)
def test_existing_bucket_name_is_empty_by_default_and_takes_only_bucket_names(name: str) -> None:
    parameter = load(name)["Parameters"]["ExistingBucketName"]
    assert parameter["Default"] == ""
    pattern = parameter["AllowedPattern"]
    for valid in ["", "photos", "my.photos-2024", "a" * 63]:
        assert re.fullmatch(pattern, valid), valid
    for invalid in ["Photos", "-photos", "photos-", "ph", "a" * 64, "photos/", "my photos", "arn:aws:s3:::photos"]:
        assert not (re.fullmatch(pattern, invalid) and len(invalid) <= parameter["MaxLength"]), invalid


@pytest.mark.parametrize("name", BUCKET_TEMPLATES)
def test_with_an_existing_bucket_the_stack_creates_no_bucket_and_writes_no_bucket_policy(name: str) -> None:
    template = deployed(load(name), ExistingBucketName="photos", OriginMode="olap")
    assert of_type(template, "AWS::S3::Bucket") == []
    assert of_type(template, "AWS::S3::BucketPolicy") == []
    assert template["Outputs"]["BucketName"]["Value"] == {"Ref": "ExistingBucketName"}
    text = json.dumps(template["Resources"])
    assert '"ImageBucket"' not in text, "a resource still refers to the bucket the stack did not create"


@pytest.mark.parametrize("name", BUCKET_TEMPLATES)
def test_without_an_existing_bucket_the_stack_creates_a_retained_bucket(name: str) -> None:
    template = deployed(load(name), ExistingBucketName="", OriginMode="olap")
    (bucket,) = of_type(template, "AWS::S3::Bucket")
    assert bucket["DeletionPolicy"] == "Retain"
    (policy,) = of_type(template, "AWS::S3::BucketPolicy")
    assert policy["Properties"]["Bucket"] == {"Ref": "ImageBucket"}
    assert template["Outputs"]["BucketName"]["Value"] == {"Ref": "ImageBucket"}


def test_supporting_access_point_is_on_the_existing_bucket() -> None:
    template = deployed(load("storage"), ExistingBucketName="photos", OriginMode="olap")
    (access_point,) = of_type(template, "AWS::S3::AccessPoint")
    assert access_point["Properties"]["Bucket"] == {"Ref": "ExistingBucketName"}


def test_function_url_transform_reads_the_existing_bucket() -> None:
    template = deployed(load("function-url"), ExistingBucketName="photos")
    arn = {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Name}", {"Name": {"Ref": "ExistingBucketName"}}]}
    (function,) = of_type(template, "AWS::Lambda::Function")
    for variables in function["Properties"]["Environment"]["Variables"]["Fn::If"][1:]:
        assert variables["BUCKET_NAME"] == {"Ref": "ExistingBucketName"}
    (policy,) = template["Resources"]["TransformRole"]["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["ReadOriginals"]["Resource"] == [{"Fn::Sub": ["${Bucket}/*", {"Bucket": arn}]}]
    assert statements["TellMissingFromForbidden"]["Resource"] == [arn]


def substitute(node: object, values: dict[str, object]) -> object:
    """The template's expressions for the bucket, the access point and the account, replaced by plain values."""
    if isinstance(node, dict):
        key = json.dumps(node, sort_keys=True)
        if key in values:
            return values[key]
        return {k: substitute(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(item, values) for item in node]
    return node


@pytest.mark.parametrize("origin_mode", ["olap", "olap-oac"])
def test_statements_for_an_existing_bucket_are_the_ones_the_stack_writes_for_its_own(origin_mode: str) -> None:
    """deploy.sh --bucket adds policies.existing_bucket_statements to the user's bucket policy; they must grant
    what the storage stack's own bucket policy grants, the TLS-only denial aside."""
    template = deployed(load("storage"), ExistingBucketName="", OriginMode=origin_mode)
    (policy,) = of_type(template, "AWS::S3::BucketPolicy")
    bucket_arn = "arn:aws:s3:::photos"
    values = {
        json.dumps({"Fn::GetAtt": ["ImageBucket", "Arn"]}): bucket_arn,
        json.dumps({"Fn::Sub": ["${Bucket}/*", {"Bucket": {"Fn::GetAtt": ["ImageBucket", "Arn"]}}]}, sort_keys=True): (
            bucket_arn + "/*"
        ),
        json.dumps({"Fn::GetAtt": ["SupportingAccessPoint", "Arn"]}): (
            f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/photos-ap"
        ),
        json.dumps({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}): f"arn:aws:iam::{ACCOUNT}:root",
        json.dumps({"Ref": "AWS::AccountId"}): ACCOUNT,
    }
    written = [
        substitute(s, values) for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Sid"] != "DenyInsecureTransport"
    ]
    statements = policies.existing_bucket_statements(
        origin_mode, partition="aws", account=ACCOUNT, region=REGION, prefix="photos", bucket="photos"
    )
    assert [policies.plain(s) for s in statements] == written
    assert [s["Sid"] for s in written] == (
        ["DelegateReadsToSupportingAccessPoint"]
        + (["DelegateCloudFrontReadsToSupportingAccessPoint"] if origin_mode == "olap-oac" else [])
    )


def test_function_url_mode_needs_no_bucket_policy_statement() -> None:
    assert policies.existing_bucket_statements(
        "", partition="aws", account=ACCOUNT, region=REGION, prefix="photos", bucket="photos"
    ) == []


# --- CORS ------------------------------------------------------------------------------------------------


def headers_policy(template: dict) -> dict:
    (policy,) = of_type(template, "AWS::CloudFront::ResponseHeadersPolicy")
    return policy["Properties"]["ResponseHeadersPolicyConfig"]


@pytest.mark.parametrize("name", DISTRIBUTION_TEMPLATES)
def test_no_cors_header_by_default(name: str) -> None:
    template = load(name)
    assert template["Parameters"]["AllowedOrigins"]["Default"] == ""
    config = headers_policy(deployed(template, AllowedOrigins=""))
    assert config["CorsConfig"] == {"Ref": "AWS::NoValue"}


@pytest.mark.parametrize("name", DISTRIBUTION_TEMPLATES)
def test_allowed_origins_become_the_policys_cors_configuration(name: str) -> None:
    template = load(name)
    assert template["Conditions"]["HasAllowedOrigins"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AllowedOrigins"}, ""]}]}
    config = headers_policy(deployed(template, AllowedOrigins="https://example.com"))
    assert config["CorsConfig"] == {
        "AccessControlAllowCredentials": False,
        "AccessControlAllowHeaders": {"Items": ["Range"]},
        "AccessControlAllowMethods": {"Items": ["GET", "HEAD"]},
        "AccessControlAllowOrigins": {"Items": {"Fn::Split": [",", {"Ref": "AllowedOrigins"}]}},
        "AccessControlMaxAgeSec": 86400,
        "OriginOverride": True,
    }
    # The security headers stay in the same policy: a cache behaviour has one response headers policy.
    assert config["SecurityHeadersConfig"]["FrameOptions"]["FrameOption"] == "DENY"
    (distribution,) = of_type(template, "AWS::CloudFront::Distribution")
    behaviour = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeadersPolicy"}
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("", True),
        ("*", True),
        ("https://example.com", True),
        ("https://example.com,http://localhost:8080", True),
        ("https://a.example.org,https://b.example.org,https://c.example.org", True),
        ("https://example.com/", False),
        ("https://example.com/page", False),
        ("example.com", False),
        ("https://example.com, https://a.org", False),
        ("*,https://example.com", False),
        ("https://Example.com", False),
        ("ftp://example.com", False),
    ],
)
def test_allowed_origins_pattern(value: str, valid: bool) -> None:
    for name in DISTRIBUTION_TEMPLATES:
        pattern = load(name)["Parameters"]["AllowedOrigins"]["AllowedPattern"]
        assert bool(re.fullmatch(pattern, value)) is valid, (name, value)
