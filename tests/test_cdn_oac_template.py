"""templates/cdn-oac.json and the storage stack with OriginMode=olap-oac: CloudFront reaching the Object Lambda
access point through Origin Access Control, without Lambda@Edge.

The properties every template shares (freshness, lint, no wildcard IAM, Prefix) are checked in test_templates.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks import common
from template_modes import deployed

ROOT = Path(__file__).resolve().parents[1]

DISTRIBUTION_ARN = {
    "Fn::Sub": ["arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Id}", {"Id": {"Ref": "Distribution"}}]
}
CALLED_VIA_OBJECT_LAMBDA = {"ForAnyValue:StringEquals": {"aws:CalledVia": ["s3-object-lambda.amazonaws.com"]}}
THIS_ACCOUNT = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
CLOUDFRONT = {"Service": ["cloudfront.amazonaws.com"]}


def load(name: str) -> dict:
    return json.loads((ROOT / "templates" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def template() -> dict:
    return load("cdn-oac")


@pytest.fixture(scope="module", params=["olap", "olap-oac"])
def storage_in_mode(request) -> tuple[str, dict]:
    return request.param, deployed(load("storage"), OriginMode=request.param)


def of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def the(template: dict, resource_type: str) -> dict:
    (resource,) = of_type(template, resource_type).values()
    return resource["Properties"]


def statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"]}


# --- the distribution ----------------------------------------------------------------------------


def test_origin_access_control_is_s3_type_always_signing_with_sigv4(template):
    control = the(template, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert control["OriginAccessControlOriginType"] == "s3"
    assert control["SigningBehavior"] == "always"
    assert control["SigningProtocol"] == "sigv4"


def test_origin_is_the_alias_from_the_storage_export_as_an_s3_origin_with_empty_identity(template):
    config = the(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {
        "Fn::Sub": [
            "${Alias}.s3.${AWS::Region}.${AWS::URLSuffix}",
            {"Alias": {"Fn::ImportValue": {"Fn::Sub": "${Prefix}-storage-ObjectLambdaAlias"}}},
        ]
    }
    # A custom origin with OAC is refused ("The origin type and OAC origin type differ").
    assert "CustomOriginConfig" not in origin
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    assert origin["S3OriginConfig"]["OriginReadTimeout"] == common.ORIGIN_READ_TIMEOUT_SECONDS
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ObjectLambdaAccessControl", "Id"]}
    assert "OriginCustomHeaders" not in origin
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == origin["Id"]


def test_the_export_it_imports_is_the_one_the_storage_stack_publishes(template):
    storage = load("storage")
    exported = storage["Outputs"]["ObjectLambdaAlias"]["Export"]["Name"]["Fn::Sub"]
    suffix = common.STACK_SUFFIXES["storage"]
    assert exported.replace("${AWS::StackName}", "${Prefix}" + suffix) == "${Prefix}-storage-ObjectLambdaAlias"
    assert common.STACK_SUFFIXES["cdn-oac"] == "-cdn-oac"


def test_no_lambda_at_edge_and_one_viewer_request_function(template):
    behaviour = the(template, "AWS::CloudFront::Distribution")["DistributionConfig"]["DefaultCacheBehavior"]
    assert "LambdaFunctionAssociations" not in behaviour
    assert behaviour["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["ShowExifQueryFunction", "FunctionMetadata.FunctionARN"]}}
    ]
    text = json.dumps(template)
    assert "edge-signer" not in text and "EdgeFunctionVersionArn" not in text and "AWS::SSM" not in text
    # us-east-1 appears only where CloudFront demands it: the optional certificate's parameter and rules.
    assert "us-east-1" not in json.dumps({"Resources": template["Resources"], "Outputs": template["Outputs"]})
    assert text.count("Fn::ImportValue") == 1
    function = the(template, "AWS::CloudFront::Function")
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    functions = ROOT / "cloudfront_functions"
    assert function["FunctionCode"] == (functions / "show_exif_query.js").read_text() + "\n" + (
        functions / "query_only.js"
    ).read_text()


def test_cache_policies_and_settings_are_shared_with_the_cdn_stack(template):
    cdn = load("cdn")
    for logical_id in ("ImageCachePolicy", "ImageOriginRequestPolicy", "SecurityHeadersPolicy", "ShowExifQueryFunction"):
        assert template["Resources"][logical_id] == cdn["Resources"][logical_id]
    key = the(template, "AWS::CloudFront::CachePolicy")["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "whitelist", "QueryStrings": ["showExif"]}
    ours = the(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    theirs = cdn["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    for setting in ("HttpVersion", "IPV6Enabled", "PriceClass", "ViewerCertificate", "Aliases"):
        assert ours[setting] == theirs[setting]
    for setting in ("ViewerProtocolPolicy", "AllowedMethods", "CachedMethods", "Compress", "CachePolicyId",
                    "OriginRequestPolicyId", "ResponseHeadersPolicyId"):
        assert ours["DefaultCacheBehavior"][setting] == theirs["DefaultCacheBehavior"][setting]


def test_outputs_have_the_cdn_stacks_names(template):
    cdn = load("cdn")
    assert set(template["Outputs"]) == set(cdn["Outputs"]) == {"DistributionId", "DistributionDomainName"}
    assert template["Outputs"]["DistributionDomainName"]["Value"] == {"Fn::GetAtt": ["Distribution", "DomainName"]}


# --- the permissions this stack writes -------------------------------------------------------------


def test_object_lambda_access_point_policy_admits_only_this_distribution(template):
    policy = the(template, "AWS::S3ObjectLambda::AccessPointPolicy")
    assert policy["ObjectLambdaAccessPoint"] == {"Fn::Sub": "${Prefix}-olap"}
    (stmt,) = policy["PolicyDocument"]["Statement"]
    assert stmt["Effect"] == "Allow"
    assert stmt["Principal"] == CLOUDFRONT
    # GetObject covers GET and HEAD; no ListBucket on the Object Lambda access point.
    assert stmt["Action"] == ["s3-object-lambda:GetObject"]
    (resource,) = stmt["Resource"]
    assert resource["Fn::Sub"][0].endswith(":s3-object-lambda:${Region}:${AWS::AccountId}:accesspoint/${Prefix}-olap")
    assert stmt["Condition"] == {"StringEquals": {"aws:SourceArn": DISTRIBUTION_ARN}}


def test_cloudfront_may_invoke_the_transform_only_for_this_distribution(template):
    (permission,) = (p["Properties"] for p in of_type(template, "AWS::Lambda::Permission").values())
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["Principal"] == "cloudfront.amazonaws.com"
    assert permission["SourceArn"] == DISTRIBUTION_ARN
    function = permission["FunctionName"]["Fn::Sub"]
    assert function[0].endswith(":lambda:${Region}:${AWS::AccountId}:function:${Prefix}-exif-transform")
    assert "FunctionUrlAuthType" not in permission and "InvokedViaFunctionUrl" not in permission


# --- the storage stack in each OriginMode -------------------------------------------------------


def test_origin_mode_parameter(storage_in_mode):
    _, storage = storage_in_mode
    parameter = storage["Parameters"]["OriginMode"]
    assert parameter["AllowedValues"] == ["olap", "olap-oac"]
    assert parameter["Default"] == "olap"


def test_storage_writes_the_object_lambda_policy_only_in_the_olap_mode(storage_in_mode):
    mode, storage = storage_in_mode
    policies = of_type(storage, "AWS::S3ObjectLambda::AccessPointPolicy")
    if mode == "olap":
        (policy,) = policies.values()
        (stmt,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert "aws:PrincipalArn" in stmt["Condition"]["ArnEquals"]
    else:
        assert policies == {}, "the cdn-oac stack owns the Object Lambda access point's policy in this mode"
    # The access point and its exports exist in both modes.
    assert of_type(storage, "AWS::S3ObjectLambda::AccessPoint")
    assert {"ObjectLambdaDomainName", "ObjectLambdaAlias"} <= set(storage["Outputs"])


def test_supporting_access_point_admits_cloudfront_only_in_the_oac_mode(storage_in_mode):
    mode, storage = storage_in_mode
    found = statements(the(storage, "AWS::S3::AccessPoint")["Policy"])
    if mode == "olap":
        assert set(found) == {"EdgeRoleReadsViaObjectLambda", "EdgeRoleTellsMissingFromForbiddenViaObjectLambda"}
        assert all(s["Principal"] != CLOUDFRONT for s in found.values())
        return
    assert set(found) == {"CloudFrontReadsViaObjectLambda", "CloudFrontTellsMissingFromForbiddenViaObjectLambda"}
    read, list_ = found["CloudFrontReadsViaObjectLambda"], found["CloudFrontTellsMissingFromForbiddenViaObjectLambda"]
    assert read["Action"] == ["s3:GetObject"]
    assert read["Resource"][0]["Fn::Sub"][0].endswith(":accesspoint/${Prefix}-ap/object/*")
    assert list_["Action"] == ["s3:ListBucket"]
    assert list_["Resource"][0]["Fn::Sub"][0].endswith(":accesspoint/${Prefix}-ap")
    for stmt in (read, list_):
        assert stmt["Principal"] == CLOUDFRONT
        assert stmt["Condition"] == {**CALLED_VIA_OBJECT_LAMBDA, **THIS_ACCOUNT}


def test_bucket_delegates_to_the_access_point_and_admits_cloudfront_only_through_it(storage_in_mode):
    mode, storage = storage_in_mode
    found = statements(the(storage, "AWS::S3::BucketPolicy")["PolicyDocument"])
    assert {"DenyInsecureTransport", "DelegateReadsToSupportingAccessPoint"} <= set(found)
    through_access_point = {"ArnEquals": {"s3:DataAccessPointArn": {"Fn::GetAtt": ["SupportingAccessPoint", "Arn"]}}}
    assert found["DelegateReadsToSupportingAccessPoint"]["Condition"] == through_access_point
    if mode == "olap":
        assert len(found) == 2
        return
    cloudfront = found["DelegateCloudFrontReadsToSupportingAccessPoint"]
    assert cloudfront["Principal"] == CLOUDFRONT
    assert cloudfront["Action"] == ["s3:GetObject", "s3:ListBucket"]
    assert cloudfront["Condition"] == {**through_access_point, **CALLED_VIA_OBJECT_LAMBDA, **THIS_ACCOUNT}
    assert len(found) == 3


def test_object_lambda_access_point_lets_ranges_through_in_both_modes(storage_in_mode):
    _, storage = storage_in_mode
    config = the(storage, "AWS::S3ObjectLambda::AccessPoint")["ObjectLambdaConfiguration"]
    assert config["AllowedFeatures"] == ["GetObject-Range"]
    (transformation,) = config["TransformationConfigurations"]
    assert sorted(transformation["Actions"]) == ["GetObject", "HeadObject"]
