"""templates/function-url.json: the one-stack mode with a Lambda function URL behind CloudFront's Origin Access Control.

The properties every template shares (freshness, lint, no wildcard IAM, Prefix) are checked in test_templates.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.common import CLOUDFRONT_FUNCTION_CODE_LIMIT_BYTES
from stacks.distribution import ViewerRequestCodeTooLarge
from stacks.function_url import build_function_url

ROOT = Path(__file__).resolve().parents[1]

# The served bucket: the one the stack creates, or ExistingBucketName.
BUCKET_NAME = {"Fn::If": ["CreateImageBucket", {"Ref": "ImageBucket"}, {"Ref": "ExistingBucketName"}]}
BUCKET_ARN = {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Name}", {"Name": BUCKET_NAME}]}
DISTRIBUTION_ARN = {
    "Fn::Sub": ["arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Id}", {"Id": {"Ref": "Distribution"}}]
}


@pytest.fixture(scope="module")
def template() -> dict:
    return json.loads((ROOT / "templates" / "function-url.json").read_text(encoding="utf-8"))


def of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def the(template: dict, resource_type: str) -> dict:
    (resource,) = of_type(template, resource_type).values()
    return resource["Properties"]


def test_bucket_is_the_same_private_bucket_as_the_storage_stack(template):
    storage = json.loads((ROOT / "templates" / "storage.json").read_text(encoding="utf-8"))
    assert template["Resources"]["ImageBucket"] == storage["Resources"]["ImageBucket"]
    (statement,) = the(template, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    assert statement["Sid"] == "DenyInsecureTransport" and statement["Effect"] == "Deny"


def test_an_existing_bucket_is_served_never_created_nor_given_a_policy(template):
    parameter = template["Parameters"]["ExistingBucketName"]
    assert parameter["Default"] == ""
    assert template["Conditions"]["CreateImageBucket"] == {"Fn::Equals": [{"Ref": "ExistingBucketName"}, ""]}
    assert template["Resources"]["ImageBucket"]["Condition"] == "CreateImageBucket"
    assert template["Resources"]["ImageBucketPolicy"]["Condition"] == "CreateImageBucket"
    assert template["Outputs"]["BucketName"]["Value"] == BUCKET_NAME


def test_function_url_requires_iam_auth_and_follows_the_streaming_switch(template):
    url = the(template, "AWS::Lambda::Url")
    assert url["AuthType"] == "AWS_IAM"
    assert url["TargetFunctionArn"] == {"Fn::GetAtt": ["TransformFunction", "Arn"]}
    assert url["InvokeMode"] == {"Fn::If": ["Streaming", "RESPONSE_STREAM", "BUFFERED"]}
    # Streaming by default (issue 16): buffered, a stripped image over about 4.7 MB is a 413.
    assert template["Parameters"]["StreamingResponses"]["Default"] == "true"


def test_transform_reads_only_this_buckets_objects(template):
    role = template["Resources"]["TransformRole"]["Properties"]
    (policy,) = role["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["ReadOriginals"]["Action"] == ["s3:GetObject"]
    assert statements["ReadOriginals"]["Resource"] == [
        {"Fn::Sub": ["${Bucket}/*", {"Bucket": BUCKET_ARN}]}
    ]
    assert statements["TellMissingFromForbidden"]["Action"] == ["s3:ListBucket"]
    assert statements["TellMissingFromForbidden"]["Resource"] == [BUCKET_ARN]
    assert statements["WriteOwnLogs"]["Resource"] == [{"Fn::GetAtt": ["TransformLogGroup", "Arn"]}], "its own log group only"
    actions = sorted(a for s in statements.values() for a in s["Action"])
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "s3:ListBucket"]


def test_function_gets_the_same_settings_in_both_modes_and_the_adapter_when_streaming(template):
    function = the(template, "AWS::Lambda::Function")
    assert function["Handler"] == {"Fn::If": ["Streaming", "function_url/run.sh", "function_url.handler.lambda_handler"]}
    condition, streaming, buffered = function["Environment"]["Variables"]["Fn::If"]
    assert condition == "Streaming"
    for variables in (streaming, buffered):
        assert variables["EXIF_QUERY"] == {"Ref": "ExifQuery"}
        assert variables["KEEP_COPYRIGHT"] == {"Ref": "KeepCopyright"}
        assert variables["MAX_INPUT_BYTES"] == {"Ref": "MaxInputBytes"}
        assert variables["BUCKET_NAME"] == BUCKET_NAME
    assert streaming["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert streaming["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert "AWS_LAMBDA_EXEC_WRAPPER" not in buffered
    condition, layers, no_layers = function["Layers"]["Fn::If"]
    assert condition == "Streaming" and no_layers == {"Ref": "AWS::NoValue"}
    (layer,) = layers
    assert layer["Fn::Sub"].endswith(":753240598075:layer:LambdaAdapterLayerArm64:${WebAdapterLayerVersion}")
    # The adapter's 1.x release (1.0 came with layer 27).
    assert template["Parameters"]["WebAdapterLayerVersion"]["Default"] >= 27
    assert function["Architectures"] == ["arm64"]


def test_cloudfront_may_invoke_the_url_and_the_function_only_for_this_distribution(template):
    permissions = {p["Properties"]["Action"]: p["Properties"] for p in of_type(template, "AWS::Lambda::Permission").values()}
    assert set(permissions) == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    for permission in permissions.values():
        assert permission["Principal"] == "cloudfront.amazonaws.com"
        assert permission["SourceArn"] == DISTRIBUTION_ARN
        assert permission["FunctionName"] == {"Ref": "TransformFunction"}
    assert permissions["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "AWS_IAM"
    assert permissions["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True
    assert "InvokedViaFunctionUrl" not in permissions["lambda:InvokeFunctionUrl"]


def test_origin_is_the_function_url_host_signed_by_origin_access_control(template):
    control = the(template, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert control["OriginAccessControlOriginType"] == "lambda"
    assert control["SigningBehavior"] == "always"
    assert control["SigningProtocol"] == "sigv4"
    config = the(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {
        "Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": ["TransformFunctionUrl", "FunctionUrl"]}]}]
    }
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["FunctionUrlAccessControl", "Id"]}
    custom = origin["CustomOriginConfig"]
    assert custom["OriginProtocolPolicy"] == "https-only"
    assert custom["OriginSSLProtocols"] == ["TLSv1.2"]
    assert "OriginCustomHeaders" not in origin


def test_no_viewer_host_header_reaches_the_function_url(template):
    config = the(template, "AWS::CloudFront::OriginRequestPolicy")["OriginRequestPolicyConfig"]
    assert config["HeadersConfig"] == {"HeaderBehavior": "none"}
    cache = the(template, "AWS::CloudFront::CachePolicy")["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert cache["HeadersConfig"] == {"HeaderBehavior": "none"}


def test_cache_key_and_policies_are_shared_with_the_cdn_stack(template):
    cdn = json.loads((ROOT / "templates" / "cdn.json").read_text(encoding="utf-8"))
    for logical_id in ("ImageCachePolicy", "ImageOriginRequestPolicy", "SecurityHeadersPolicy"):
        assert template["Resources"][logical_id] == cdn["Resources"][logical_id]
    key = the(template, "AWS::CloudFront::CachePolicy")["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "whitelist", "QueryStrings": ["showExif"]}
    ours = the(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    theirs = cdn["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    for setting in ("HttpVersion", "IPV6Enabled", "PriceClass", "ViewerCertificate", "Aliases"):
        assert ours[setting] == theirs[setting]
    # Each has exactly one viewer-request function (CloudFront allows one per cache behaviour).
    for config in (ours, theirs):
        (association,) = config["DefaultCacheBehavior"]["FunctionAssociations"]
        assert association["EventType"] == "viewer-request"


def test_viewer_request_function_is_the_shared_query_code_and_the_encoder_file(template):
    function = the(template, "AWS::CloudFront::Function")
    functions = ROOT / "cloudfront_functions"
    expected = (functions / "show_exif_query.js").read_text(encoding="utf-8") + "\n" + (
        functions / "encode_uri.js"
    ).read_text(encoding="utf-8")
    assert function["FunctionCode"] == expected
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["AutoPublish"] is True
    behaviour = the(template, "AWS::CloudFront::Distribution")["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["EncodeUriFunction", "FunctionMetadata.FunctionARN"]}}
    ]
    assert "LambdaFunctionAssociations" not in behaviour


def test_no_lambda_at_edge_and_no_us_east_1_dependency(template):
    text = json.dumps(template)
    assert "edge-signer" not in text and "ImportValue" not in text
    assert "EdgeFunctionVersionArn" not in template["Parameters"]


def test_oversized_viewer_request_code_is_refused_clearly():
    with pytest.raises(ViewerRequestCodeTooLarge, match="10240"):
        build_function_url("x" * (CLOUDFRONT_FUNCTION_CODE_LIMIT_BYTES + 1))
