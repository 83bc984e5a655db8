"""The generated templates: fresh, lint-clean, and holding the properties that matter for security and correctness.

Assertions read the committed JSON (what users deploy), not the troposphere objects.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stacks import common
from stacks.lambda_edge import InlineCodeTooLarge, build_lambda_edge, version_logical_id
from template_modes import deployed
from template_reading import TEMPLATES, as_list, load, only, policy_documents, resources_of_type, statement

ROOT = Path(__file__).resolve().parents[1]
EDGE_SIGNER = ROOT / "lambdas" / "edge_signer" / "handler.py"


@pytest.fixture(scope="module")
def storage() -> dict:
    """The storage stack as the olap mode deploys it (test_cdn_oac_template.py covers OriginMode=olap-oac)."""
    return deployed(load("storage"), OriginMode="olap")


@pytest.fixture(scope="module")
def edge() -> dict:
    return load("lambda-edge")


@pytest.fixture(scope="module")
def cdn() -> dict:
    return load("cdn")


ALL_TEMPLATES = ["storage", "lambda-edge", "cdn", "cdn-oac", "function-url", "audit"]


# --- freshness, lint, determinism, CLI -------------------------------------------------------------


def test_committed_templates_are_fresh_and_lint_clean():
    result = subprocess.run(
        [sys.executable, "generate.py", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ALL_TEMPLATES:
        assert f"templates/{name}.json: " in result.stdout
        assert re.search(rf"templates/{name}\.json: \d+ resources, 0 cfn-lint findings", result.stdout)


def test_check_names_a_stale_file_and_fails(tmp_path):
    for name in ALL_TEMPLATES:
        (tmp_path / f"{name}.json").write_text((TEMPLATES / f"{name}.json").read_text())
    stale = tmp_path / "cdn.json"
    stale.write_text(stale.read_text().replace("redirect-to-https", "allow-all"))
    result = subprocess.run(
        [sys.executable, "generate.py", "--check", "--no-lint", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "cdn.json: stale" in result.stderr
    assert "storage.json: stale" not in result.stderr


def test_generation_is_byte_for_byte_deterministic(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        subprocess.run(
            [sys.executable, "generate.py", "--no-lint", "--out", str(out)], cwd=ROOT, check=True, capture_output=True
        )
    for name in ALL_TEMPLATES:
        data = (first / f"{name}.json").read_bytes()
        assert data == (second / f"{name}.json").read_bytes()
        assert data.endswith(b"}\n")
        assert data == (TEMPLATES / f"{name}.json").read_bytes()


def test_bad_option_gets_a_usage_error():
    result = subprocess.run([sys.executable, "generate.py", "--bogus"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "usage: generate.py" in result.stderr
    assert "Traceback" not in result.stderr


def test_lint_reports_a_broken_template():
    import generate

    broken = json.dumps({"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python2.7"}}}})
    assert generate.lint(broken, ["us-east-1"]), "cfn-lint found nothing in a broken template"


# --- names --------------------------------------------------------------------------------------


def test_longest_prefix_keeps_every_derived_name_inside_aws_limits():
    prefix = "a" * common.PREFIX_MAX_LENGTH
    assert re.fullmatch(common.PREFIX_PATTERN, prefix)
    assert not re.fullmatch(common.PREFIX_PATTERN, prefix + "a")
    assert len(prefix + common.OBJECT_LAMBDA_ACCESS_POINT_SUFFIX) <= 45
    assert len(prefix + common.SUPPORTING_ACCESS_POINT_SUFFIX) <= 50
    assert len(prefix + common.TRANSFORM_FUNCTION_SUFFIX) <= 64
    assert len(prefix + common.EDGE_FUNCTION_SUFFIX) <= 64
    assert len(prefix + common.EDGE_ROLE_SUFFIX) <= 64
    # The artifact bucket deploy.sh creates: `<prefix>-artifacts-<account>-<longest region name>`.
    assert len(f"{prefix}-artifacts-123456789012-ap-southeast-5") <= 63


@pytest.mark.parametrize("bad", ["Anon", "a", "-abc", "abc-", "ab_c", "a" * 21, "ab c"])
def test_prefix_pattern_refuses_bad_names(bad):
    assert not re.fullmatch(common.PREFIX_PATTERN, bad)


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_every_template_takes_the_same_prefix_parameter(name):
    parameter = load(name)["Parameters"]["Prefix"]
    assert parameter["Default"] == "anon-s3ol"
    assert parameter["AllowedPattern"] == common.PREFIX_PATTERN
    assert parameter["MaxLength"] == common.PREFIX_MAX_LENGTH


def test_a_parameter_is_declared_alike_in_every_template_that_takes_it():
    """Same name, same declaration (type, limits, default, description): one parameter, whichever stack it is in."""
    declarations: dict[str, dict[str, dict]] = {}
    for name in ALL_TEMPLATES:
        for title, parameter in load(name)["Parameters"].items():
            declarations.setdefault(title, {})[name] = parameter
    shared = {title: by_template for title, by_template in declarations.items() if len(by_template) > 1}
    # The zip's functions (storage, function-url, audit) and the distributions (cdn, cdn-oac, function-url) share these.
    assert {"Prefix", "ArtifactBucket", "ArtifactKey", "KeepCopyright", "MaxInputBytes", "LogRetentionDays", "PriceClass"} <= set(shared)  # noqa: E501
    for title, by_template in shared.items():
        first, *others = by_template.items()
        for other in others:
            assert other[1] == first[1], f"{title}: {other[0]} declares it unlike {first[0]}"


# --- IAM everywhere ------------------------------------------------------------------------------


# How many IAM policy documents each template holds: the wildcard check below must not pass by
# looking at none (cdn.json has none: its access point policy lives in the storage stack).
POLICY_DOCUMENTS = {"storage": 7, "lambda-edge": 2, "cdn": 0, "cdn-oac": 1, "function-url": 3, "audit": 4}


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_no_statement_has_a_wildcard_action_or_resource(name):
    documents = policy_documents(load(name))
    assert len(documents) == POLICY_DOCUMENTS[name]
    for where, document in documents:
        for stmt in document["Statement"]:
            actions = as_list(stmt.get("Action", []))
            assert "*" not in actions, f"{name}{where}: '*' action"
            if stmt["Effect"] == "Allow":
                assert not any("*" in a for a in actions), f"{name}{where}: wildcard action in an Allow"
            assert "*" not in as_list(stmt.get("Resource", [])), f"{name}{where}: '*' resource"
            assert "NotAction" not in stmt and "NotResource" not in stmt


def test_every_allow_in_a_resource_policy_names_no_role_principal(storage):
    """Storage must deploy before or after lambda-edge, so no resource policy names the edge role directly."""
    for where, document in policy_documents(storage):
        for stmt in document["Statement"]:
            principal = stmt.get("Principal")
            if isinstance(principal, dict) and "AWS" in principal:
                for arn in as_list(principal["AWS"]):
                    assert arn == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}, where


# --- storage -------------------------------------------------------------------------------------


def test_bucket_is_private_encrypted_versioned_and_retained(storage):
    bucket = only(storage, "AWS::S3::Bucket")
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    assert "BucketName" not in props, "bucket names are global: CloudFormation picks one"


def test_bucket_policy_denies_plain_http_and_delegates_reads_to_the_access_point(storage):
    document = only(storage, "AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"]
    deny = statement(document, "DenyInsecureTransport")
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Action"] == ["s3:*"]
    assert {"Fn::GetAtt": ["ImageBucket", "Arn"]} in deny["Resource"]
    delegate = statement(document, "DelegateReadsToSupportingAccessPoint")
    assert delegate["Effect"] == "Allow"
    assert delegate["Action"] == ["s3:GetObject", "s3:ListBucket"]
    assert delegate["Condition"] == {
        "ArnEquals": {"s3:DataAccessPointArn": {"Fn::GetAtt": ["SupportingAccessPoint", "Arn"]}}
    }
    assert len(document["Statement"]) == 2


def test_supporting_access_point_serves_only_object_lambda_calls_from_the_edge_role(storage):
    props = only(storage, "AWS::S3::AccessPoint")["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    read, list_ = props["Policy"]["Statement"]
    assert read["Action"] == ["s3:GetObject"]
    assert read["Resource"][0]["Fn::Sub"][0].endswith("/object/*")
    # ListBucket only so that S3 can answer 404 for a missing key; on the access point, not its objects.
    assert list_["Action"] == ["s3:ListBucket"]
    assert list_["Resource"][0]["Fn::Sub"][0].endswith(":accesspoint/${Prefix}-ap")
    for stmt in (read, list_):
        assert stmt["Condition"]["ForAnyValue:StringEquals"] == {"aws:CalledVia": ["s3-object-lambda.amazonaws.com"]}
        assert stmt["Condition"]["ArnEquals"]["aws:PrincipalArn"] == {
            "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Prefix}-edge-signer"
        }


def test_object_lambda_access_point_transforms_get_and_head_and_allows_ranges(storage):
    props = only(storage, "AWS::S3ObjectLambda::AccessPoint")["Properties"]
    config = props["ObjectLambdaConfiguration"]
    assert config["AllowedFeatures"] == ["GetObject-Range"]
    assert config["SupportingAccessPoint"] == {"Fn::GetAtt": ["SupportingAccessPoint", "Arn"]}
    (transformation,) = config["TransformationConfigurations"]
    assert sorted(transformation["Actions"]) == ["GetObject", "HeadObject"]
    assert transformation["ContentTransformation"]["AwsLambda"]["FunctionArn"] == {
        "Fn::GetAtt": ["TransformFunction", "Arn"]
    }
    assert config["CloudWatchMetricsEnabled"] == {"Fn::If": ["RequestMetricsEnabled", True, False]}


def test_object_lambda_access_point_policy_admits_only_the_edge_role(storage):
    document = only(storage, "AWS::S3ObjectLambda::AccessPointPolicy")["Properties"]["PolicyDocument"]
    (stmt,) = document["Statement"]
    assert stmt["Effect"] == "Allow"
    assert stmt["Action"] == ["s3-object-lambda:GetObject"]
    assert stmt["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Prefix}-edge-signer"}
        }
    }


def test_transform_function_runtime_code_and_environment(storage):
    props = only(storage, "AWS::Lambda::Function")["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "olap.handler.lambda_handler"
    assert props["Code"] == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "ArtifactKey"}}
    assert props["MemorySize"] == {"Ref": "TransformMemorySize"}
    assert props["Timeout"] == {"Ref": "TransformTimeout"}
    variables = props["Environment"]["Variables"]
    assert variables["EXIF_QUERY"] == {"Ref": "ExifQuery"}
    assert variables["KEEP_COPYRIGHT"] == {"Ref": "KeepCopyright"}
    assert variables["MAX_INPUT_BYTES"] == {"Ref": "MaxInputBytes"}
    parameters = storage["Parameters"]
    assert parameters["TransformMemorySize"]["Default"] == 512
    assert parameters["TransformTimeout"]["Default"] == 60
    assert parameters["TransformTimeout"]["MaxValue"] == 60
    # Private by default; full only when asked for; no-gps still accepted for stacks deployed with it.
    assert parameters["ExifQuery"]["Default"] == "safe"
    assert sorted(parameters["ExifQuery"]["AllowedValues"]) == ["full", "no-gps", "off", "safe"]
    assert parameters["OriginMode"]["Default"] == "olap"
    assert parameters["KeepCopyright"]["Default"] == "false"


def test_transform_has_a_log_group_with_retention(storage):
    log_group = storage["Resources"]["TransformLogGroup"]
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert log_group["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${Prefix}-exif-transform"}


def test_transform_role_writes_its_logs_and_answers_object_lambda_only(storage):
    (policy,) = storage["Resources"]["TransformRole"]["Properties"]["Policies"]
    actions = sorted(a for s in policy["PolicyDocument"]["Statement"] for a in s["Action"])
    assert actions == [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3-object-lambda:WriteGetObjectResponse",
        "s3:GetObject",
    ]
    logs = statement(policy["PolicyDocument"], "WriteOwnLogs")
    assert logs["Resource"] == [{"Fn::GetAtt": ["TransformLogGroup", "Arn"]}], "its own log group only"
    head_read = statement(policy["PolicyDocument"], "ReadOriginalsToAnswerHead")
    (resource,) = head_read["Resource"]
    assert resource["Fn::Sub"][0].endswith(":accesspoint/${Prefix}-ap/object/*"), "reads only via the access point"
    answer = statement(policy["PolicyDocument"], "AnswerObjectLambdaRequests")
    (resource,) = answer["Resource"]
    assert "s3-object-lambda:${Region}" in resource["Fn::Sub"][0]
    assert resource["Fn::Sub"][0].endswith(":accesspoint/${Prefix}-olap")


def test_storage_outputs_and_export(storage):
    outputs = storage["Outputs"]
    assert {"BucketName", "ObjectLambdaAccessPointArn", "ObjectLambdaDomainName", "TransformFunctionName"} <= set(outputs)
    domain = outputs["ObjectLambdaDomainName"]
    assert domain["Value"]["Fn::Sub"][0] == "${Name}-${AWS::AccountId}.s3-object-lambda.${AWS::Region}.${AWS::URLSuffix}"
    assert domain["Export"]["Name"] == {"Fn::Sub": "${AWS::StackName}-ObjectLambdaDomainName"}
    alias = outputs["ObjectLambdaAlias"]
    assert alias["Value"] == {"Fn::GetAtt": ["ObjectLambdaAccessPoint", "Alias.Value"]}
    assert alias["Export"]["Name"] == {"Fn::Sub": "${AWS::StackName}-ObjectLambdaAlias"}


# --- lambda-edge ---------------------------------------------------------------------------------


def test_edge_function_respects_lambda_at_edge_restrictions(edge):
    props = only(edge, "AWS::Lambda::Function")["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["x86_64"]
    assert props["MemorySize"] == 128
    assert 1 <= props["Timeout"] <= common.EDGE_ORIGIN_REQUEST_TIMEOUT_LIMIT_SECONDS
    for unsupported in ("Environment", "Layers", "VpcConfig", "DeadLetterConfig", "TracingConfig", "KmsKeyArn",
                        "ImageConfig", "EphemeralStorage", "FileSystemConfigs", "SnapStart"):
        assert unsupported not in props, unsupported
    assert not resources_of_type(edge, "AWS::Lambda::ProvisionedConcurrencyConfig")
    assert props["Handler"] == "index.lambda_handler"
    assert props["Code"]["ZipFile"] == EDGE_SIGNER.read_text(encoding="utf-8")


def test_edge_role_trusts_lambda_and_edgelambda(edge):
    role = only(edge, "AWS::IAM::Role")["Properties"]
    (stmt,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert stmt["Action"] == ["sts:AssumeRole"]
    assert sorted(stmt["Principal"]["Service"]) == ["edgelambda.amazonaws.com", "lambda.amazonaws.com"]
    assert role["RoleName"] == {"Fn::Sub": "${Prefix}-edge-signer"}


def test_edge_role_policy_reads_through_object_lambda_only(edge):
    (policy,) = only(edge, "AWS::IAM::Role")["Properties"]["Policies"]
    document = policy["PolicyDocument"]
    olap = statement(document, "ReadThroughObjectLambda")
    assert olap["Action"] == ["s3-object-lambda:GetObject"]
    assert olap["Resource"][0]["Fn::Sub"][1] == {"Region": {"Ref": "TargetRegion"}}
    for sid, action in (
        ("InvokeTransformViaObjectLambda", "lambda:InvokeFunction"),
        ("ReadOriginalsViaObjectLambda", "s3:GetObject"),
        ("TellMissingFromForbiddenViaObjectLambda", "s3:ListBucket"),
    ):
        stmt = statement(document, sid)
        assert stmt["Action"] == [action]
        assert stmt["Condition"] == {"ForAnyValue:StringEquals": {"aws:CalledVia": ["s3-object-lambda.amazonaws.com"]}}
        assert stmt["Resource"][0]["Fn::Sub"][1] == {"Region": {"Ref": "TargetRegion"}}
    logs = statement(document, "WriteEdgeLogs")
    assert all("/aws/lambda/" in r["Fn::Sub"] for r in logs["Resource"])


def test_version_is_published_and_its_arn_goes_to_ssm_and_outputs(edge):
    versions = resources_of_type(edge, "AWS::Lambda::Version")
    assert list(versions) == [version_logical_id(EDGE_SIGNER.read_text(encoding="utf-8"))]
    (version_id,) = versions
    # An old version stays associated with the distribution after a signer change: never deleted by this stack.
    assert versions[version_id]["DeletionPolicy"] == "Retain"
    assert versions[version_id]["UpdateReplacePolicy"] == "Retain"
    parameter = only(edge, "AWS::SSM::Parameter")["Properties"]
    assert parameter["Name"] == {"Fn::Sub": "/${Prefix}/Edge-Origin-Request-Fn-Version-Arn"}
    assert parameter["Type"] == "String"
    assert parameter["Value"] == {"Ref": version_id}
    assert edge["Outputs"]["EdgeFunctionVersionArn"]["Value"] == {"Ref": version_id}


def test_version_logical_id_follows_the_code():
    source = EDGE_SIGNER.read_text(encoding="utf-8")
    assert version_logical_id(source) == version_logical_id(str(source))
    assert version_logical_id(source) != version_logical_id(source + "\n# changed\n")
    changed = build_lambda_edge(source + "# changed\n").to_dict()["Resources"]
    assert version_logical_id(source) not in changed
    assert version_logical_id(source + "# changed\n") in changed


def test_signer_over_the_inline_limit_is_refused_clearly():
    with pytest.raises(InlineCodeTooLarge, match="4096"):
        build_lambda_edge("x" * (common.INLINE_CODE_LIMIT_BYTES + 1))
    build_lambda_edge("x" * common.INLINE_CODE_LIMIT_BYTES)


# --- cdn -----------------------------------------------------------------------------------------


def test_cache_key_holds_only_show_exif(cdn):
    config = only(cdn, "AWS::CloudFront::CachePolicy")["Properties"]["CachePolicyConfig"]
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "whitelist", "QueryStrings": ["showExif"]}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["EnableAcceptEncodingGzip"] and key["EnableAcceptEncodingBrotli"]
    assert config["DefaultTTL"] == 86400


def test_viewer_request_function_is_the_shared_query_code_and_the_query_only_handler(cdn):
    function = only(cdn, "AWS::CloudFront::Function")["Properties"]
    functions = ROOT / "cloudfront_functions"
    expected = (functions / "show_exif_query.js").read_text() + "\n" + (functions / "query_only.js").read_text()
    assert function["FunctionCode"] == expected
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["AutoPublish"] is True
    # The name the function keeps in the query is the one the cache policy keys on.
    assert "var SHOW_EXIF = 'showExif';" in function["FunctionCode"]


def test_origin_request_policy_forwards_only_show_exif(cdn):
    config = only(cdn, "AWS::CloudFront::OriginRequestPolicy")["Properties"]["OriginRequestPolicyConfig"]
    assert config["QueryStringsConfig"] == {"QueryStringBehavior": "whitelist", "QueryStrings": ["showExif"]}
    assert config["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert config["CookiesConfig"] == {"CookieBehavior": "none"}


def test_response_headers_policy_sets_security_headers(cdn):
    config = only(cdn, "AWS::CloudFront::ResponseHeadersPolicy")["Properties"]["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert headers["StrictTransportSecurity"]["Override"] is True
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"] == {"Override": True, "ReferrerPolicy": "strict-origin-when-cross-origin"}


def test_distribution_origin_behaviour_and_edge_association(cdn):
    config = only(cdn, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::ImportValue": {"Fn::Sub": "${Prefix}-storage-ObjectLambdaDomainName"}}
    # CloudFront adds origin custom headers after the edge signer has run, so an x-amz-* one would reach S3
    # unsigned; the distribution sets none.
    assert "OriginCustomHeaders" not in origin
    custom = origin["CustomOriginConfig"]
    assert custom["OriginProtocolPolicy"] == "https-only"
    assert custom["OriginSSLProtocols"] == ["TLSv1.2"]
    assert custom["OriginReadTimeout"] == 60
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["Compress"] is True
    assert behaviour["LambdaFunctionAssociations"] == [
        {"EventType": "origin-request", "IncludeBody": False, "LambdaFunctionARN": {"Ref": "EdgeFunctionVersionArn"}}
    ]
    # The query is normalised before the cache key is built; the edge signer then signs what is left.
    assert behaviour["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["ShowExifQueryFunction", "FunctionMetadata.FunctionARN"]}}
    ]
    assert behaviour["CachePolicyId"] == {"Ref": "ImageCachePolicy"}
    assert behaviour["OriginRequestPolicyId"] == {"Ref": "ImageOriginRequestPolicy"}
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeadersPolicy"}
    assert config["HttpVersion"] == "http2and3"
    assert config["IPV6Enabled"] is True
    assert config["PriceClass"] == {"Ref": "PriceClass"}


def test_custom_domain_gets_its_certificate_and_modern_tls(cdn):
    config = only(cdn, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]
    condition, custom, default = config["ViewerCertificate"]["Fn::If"]
    assert condition == "HasCustomDomain"
    assert custom == {
        "AcmCertificateArn": {"Ref": "AcmCertificateArn"},
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    assert default == {"CloudFrontDefaultCertificate": True}
    assert config["Aliases"]["Fn::If"][0] == "HasCustomDomain"


@pytest.mark.parametrize(
    "arn, valid",
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:anon-s3ol-edge-signer:3", True),
        ("arn:aws:lambda:us-east-1:123456789012:function:anon-s3ol-edge-signer", False),
        ("arn:aws:lambda:us-east-1:123456789012:function:anon-s3ol-edge-signer:$LATEST", False),
        ("arn:aws:lambda:eu-west-1:123456789012:function:anon-s3ol-edge-signer:3", False),
    ],
)
def test_edge_version_parameter_accepts_only_a_numbered_us_east_1_version(cdn, arn, valid):
    pattern = cdn["Parameters"]["EdgeFunctionVersionArn"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, arn)) is valid


def test_checkov_exceptions_are_documented_in_metadata():
    for name in ALL_TEMPLATES:
        for logical_id, resource in load(name)["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert re.fullmatch(r"CKV_AWS_\d+", skip["id"])
                assert len(skip["comment"]) > 20, f"{name}/{logical_id}: {skip['id']} has no real reason"


def test_cfn_lint_command_line_with_informational_rules_is_clean(tmp_path):
    """`cfn-lint --include-checks I templates/*.json`, exactly as a user types it, lints every template."""
    cfn_lint = str(Path(sys.executable).with_name("cfn-lint"))
    files = sorted(str(p.relative_to(ROOT)) for p in TEMPLATES.glob("*.json"))
    clean = subprocess.run([cfn_lint, "--include-checks", "I", *files], cwd=ROOT, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    # The same command over a copy with one template broken must fail, so the command really lints.
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    shutil.copy(ROOT / ".cfnlintrc", tmp_path)
    broken = tmp_path / "templates" / "storage.json"
    broken.write_text(broken.read_text().replace('"python3.13"', '"python2.7"'))
    dirty = subprocess.run([cfn_lint, "--include-checks", "I", *files], cwd=tmp_path, capture_output=True, text=True)
    assert dirty.returncode != 0
    assert "templates/storage.json" in dirty.stdout
