"""What the stacks share: AWS facts with their sources, names derived from Prefix, the Prefix parameter, and
the few helpers every template is built with."""

from typing import NamedTuple

from troposphere import AWSHelperFn, If, Parameter, Sub, Template
from troposphere import Region as THIS_REGION

# Re-exported: the facts deploy.sh's help needs, kept where nothing imports troposphere (stacks/facts.py).
from stacks.facts import DEFAULT_PREFIX, EDGE_REGION, FUNCTION_URL_UNAVAILABLE_REGIONS, STACK_SUFFIXES  # noqa: F401

# --- AWS facts -----------------------------------------------------------------------------------

# CloudFormation accepts at most 4096 bytes of inline Python source (Code.ZipFile).
# Source: CloudFormation User Guide, AWS::Lambda::Function Code, property ZipFile.
INLINE_CODE_LIMIT_BYTES = 4096

# S3 Object Lambda must stream its whole response within 60 seconds, so a longer timeout buys nothing.
# Source: S3 User Guide, olap-best-practices.html.
OBJECT_LAMBDA_TIMEOUT_SECONDS = 60

# CloudFront waits up to 60 s for an origin without a quota increase (default 30 s).
# Source: CloudFront Developer Guide, cloudfront-limits.html.
ORIGIN_READ_TIMEOUT_SECONDS = 60

# A Lambda function has 128 MB to 10,240 MB of memory and runs at least 1 second.
# Source: Lambda Developer Guide, gettingstarted-limits.html (function configuration quotas).
LAMBDA_MEMORY_MIN_MB = 128
LAMBDA_MEMORY_MAX_MB = 10240
LAMBDA_TIMEOUT_MIN_SECONDS = 1

# CloudWatch Logs accepts only these retention periods.
# Source: CloudWatch Logs API Reference, PutRetentionPolicy, retentionInDays.
LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]

# S3 bucket names are 3 to 63 characters long.
# Source: S3 User Guide, bucketnamingrules.html.
BUCKET_NAME_MIN_LENGTH = 3
BUCKET_NAME_MAX_LENGTH = 63
# A general purpose bucket's name: lowercase letters, digits, dots and hyphens, starting and ending with a letter
# or digit (same source). ExistingBucketName admits it or nothing.
BUCKET_NAME_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
EXISTING_BUCKET_NAME_PATTERN = r"^$|" + BUCKET_NAME_PATTERN

# An origin-request Lambda@Edge function may run at most 30 s.
# Source: CloudFront Developer Guide, cloudfront-limits.html (Lambda@Edge quotas).
EDGE_ORIGIN_REQUEST_TIMEOUT_LIMIT_SECONDS = 30

# Runtimes. python3.13 is the newest runtime listed for both Lambda and Lambda@Edge.
# Source: Lambda Developer Guide, lambda-runtimes.html; lambda-at-edge-function-restrictions.html.
PYTHON_RUNTIME = "python3.13"

# Service principals and the S3 Object Lambda service name used in aws:CalledVia.
# Source: S3 User Guide, olap-policies.html; CloudFront Developer Guide, lambda-edge-permissions.html.
LAMBDA_SERVICE = "lambda.amazonaws.com"
EDGE_LAMBDA_SERVICE = "edgelambda.amazonaws.com"
OBJECT_LAMBDA_SERVICE = "s3-object-lambda.amazonaws.com"

# Since 2023-03 an Object Lambda access point's alias can be a CloudFront S3 origin signed by Origin Access
# Control: origin domain `<alias>.s3.<region>.amazonaws.com`, an S3OriginConfig with an empty
# OriginAccessIdentity, OAC type `s3`. Source: CloudFront Developer Guide, DownloadDistS3AndCustomOrigins.html
# ("Use an Amazon S3 Object Lambda access point"); aws-cdk issue 26405 for the S3 origin type.
OBJECT_LAMBDA_ORIGIN_ACCESS_CONTROL_TYPE = "s3"

# CloudFront Functions accept at most 10 KB of code.
# Source: CloudFront Developer Guide, cloudfront-limits.html (CloudFront Functions quotas).
CLOUDFRONT_FUNCTION_CODE_LIMIT_BYTES = 10 * 1024
CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"

# S3 Batch Operations assumes the job's role as this service principal.
# Source: S3 User Guide, batch-ops-iam-role-policies.html.
BATCH_OPERATIONS_SERVICE = "batchoperations.s3.amazonaws.com"

# CloudFront takes a viewer certificate from ACM in us-east-1 only.
# Source: CloudFront Developer Guide, cnames-and-https-requirements.html.
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"

# CloudFront's viewer TLS floor with a custom certificate. Without one it is fixed at TLSv1.
# Source: CloudFront Developer Guide, secure-connections-supported-viewer-protocols-ciphers.html.
VIEWER_MINIMUM_TLS = "TLSv1.2_2021"

# The account that publishes the Lambda Web Adapter layers in every commercial region.
# Source: the adapter's README (github.com/aws/aws-lambda-web-adapter, formerly awslabs/), "Zip Packages":
# `arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerArm64:<version>`.
LAMBDA_WEB_ADAPTER_ACCOUNT = "753240598075"
# The adapter's release pinned by default (its layer version number, the same in every region): layer 30 is
# adapter 1.1.0, the current 1.x release (1.0 arrived in 2026-03 with layer 27). 1.0 removed only
# AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS, which the function-URL mode never set. Same source.
DEFAULT_WEB_ADAPTER_LAYER_VERSION = 30

# CloudFront's managed-policy-free settings: one day in the cache by default, a year at most.
DEFAULT_TTL_SECONDS = 24 * 60 * 60
MAX_TTL_SECONDS = 365 * 24 * 60 * 60

# Name limits the Prefix must keep every derived name inside.
# Source: S3 API Reference, API_control_CreateAccessPointForObjectLambda.html (3-45 characters) and
# API_control_CreateAccessPoint.html (3-50); Lambda API Reference, CreateFunction (64); S3 bucket naming
# rules (63), which the artifact bucket `<prefix>-artifacts-<12-digit account>-<region>` must respect.
PREFIX_PATTERN = r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$"
PREFIX_MIN_LENGTH = 3
PREFIX_MAX_LENGTH = 20

# --- Names derived from Prefix --------------------------------------------------------------------
# Suffixes are kept here so that every stack, deploy.sh and the tests derive the same names.
OBJECT_LAMBDA_ACCESS_POINT_SUFFIX = "-olap"
SUPPORTING_ACCESS_POINT_SUFFIX = "-ap"
TRANSFORM_FUNCTION_SUFFIX = "-exif-transform"
EDGE_FUNCTION_SUFFIX = "-edge-signer"
EDGE_ROLE_SUFFIX = "-edge-signer"
EDGE_VERSION_PARAMETER_SUFFIX = "/Edge-Origin-Request-Fn-Version-Arn"
AUDIT_FUNCTION_SUFFIX = "-audit"

# The bucket audit's stack (templates/audit.json) is no serving mode: deploy.sh leaves it alone, and
# `anon-s3ol audit --batch` reads its outputs from `<Prefix>-audit`.
AUDIT_STACK_SUFFIX = "-audit"
# The storage stack's exports: the Object Lambda access point's HTTPS domain (the cdn stack's custom origin)
# and its alias (the cdn-oac stack's S3 origin, `<alias>.s3.<region>.amazonaws.com`).
OBJECT_LAMBDA_DOMAIN_EXPORT = "ObjectLambdaDomainName"
OBJECT_LAMBDA_ALIAS_EXPORT = "ObjectLambdaAlias"

# How CloudFront reaches the Object Lambda access point: `olap` through the Lambda@Edge signer (cdn stack),
# `olap-oac` through Origin Access Control (cdn-oac stack). The storage stack's OriginMode parameter.
ORIGIN_MODES = ("olap", "olap-oac")


def prefixed(suffix: str) -> Sub:
    """`<Prefix><suffix>` as a CloudFormation expression."""
    return Sub("${Prefix}" + suffix)


def object_lambda_access_point_name() -> Sub:
    return prefixed(OBJECT_LAMBDA_ACCESS_POINT_SUFFIX)


def supporting_access_point_name() -> Sub:
    return prefixed(SUPPORTING_ACCESS_POINT_SUFFIX)


def transform_function_name() -> Sub:
    return prefixed(TRANSFORM_FUNCTION_SUFFIX)


def log_group_name(function_suffix: str) -> Sub:
    """The log group Lambda writes to for the function `<Prefix><function_suffix>`."""
    return Sub("/aws/lambda/${Prefix}" + function_suffix)


def edge_version_parameter_name() -> Sub:
    """The SSM parameter that hands the edge signer's version ARN from us-east-1 to the cdn stack."""
    return Sub("/${Prefix}" + EDGE_VERSION_PARAMETER_SUFFIX)


def own_export(name: str) -> Sub:
    """The name under which a stack exports an output: `${AWS::StackName}-<name>`."""
    return Sub("${AWS::StackName}-" + name)


def storage_export(name: str) -> Sub:
    """An export of the storage stack, whose name follows from Prefix."""
    return Sub("${Prefix}" + STACK_SUFFIXES["storage"] + "-" + name)


def edge_role_arn() -> Sub:
    """The edge signer's role, named so the storage stack can pin it before it exists."""
    return Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Prefix}" + EDGE_ROLE_SUFFIX)


def account_root_arn() -> Sub:
    return Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")


def object_lambda_access_point_arn(region: object = None) -> Sub:
    """ARN of the Object Lambda access point in `region` (a Ref or string; default: this stack's)."""
    return Sub(
        "arn:${AWS::Partition}:s3-object-lambda:${Region}:${AWS::AccountId}:accesspoint/${Prefix}"
        + OBJECT_LAMBDA_ACCESS_POINT_SUFFIX,
        Region=region if region is not None else THIS_REGION,
    )


def supporting_access_point_arn(region: object = None, path: str = "") -> Sub:
    return Sub(
        "arn:${AWS::Partition}:s3:${Region}:${AWS::AccountId}:accesspoint/${Prefix}"
        + SUPPORTING_ACCESS_POINT_SUFFIX
        + path,
        Region=region if region is not None else THIS_REGION,
    )


def supporting_access_point_objects_arn(region: object = None) -> Sub:
    return supporting_access_point_arn(region, "/object/*")


def transform_function_arn(region: object = None) -> Sub:
    return Sub(
        "arn:${AWS::Partition}:lambda:${Region}:${AWS::AccountId}:function:${Prefix}" + TRANSFORM_FUNCTION_SUFFIX,
        Region=region if region is not None else THIS_REGION,
    )


def add_prefix_parameter(template: Template) -> Parameter:
    return template.add_parameter(
        Parameter(
            "Prefix",
            Type="String",
            Default=DEFAULT_PREFIX,
            AllowedPattern=PREFIX_PATTERN,
            MinLength=PREFIX_MIN_LENGTH,
            MaxLength=PREFIX_MAX_LENGTH,
            Description="Names the stacks and every resource another stack or deploy.sh must find: "
            "3-20 lowercase letters, digits and hyphens, starting with a letter.",
            ConstraintDescription="3-20 lowercase letters, digits and hyphens, starting with a letter "
            "and not ending with a hyphen",
        )
    )


class TemplateCondition(NamedTuple):
    """A condition of a template. Condition functions are built from this object, never from its name."""

    title: str

    def choose(self, when_true: object, when_false: object) -> If:
        """`Fn::If` on this condition."""
        return If(self.title, when_true, when_false)


def add_condition(template: Template, title: str, expression: AWSHelperFn) -> TemplateCondition:
    return TemplateCondition(template.add_condition(title, expression))


def new_template(description: str) -> Template:
    template = Template(Description=description)
    template.set_version("2010-09-09")
    return template


def checkov_skips(*skips: tuple[str, str]) -> dict:
    """Resource Metadata that records, in the template itself, each checkov check that does not apply and why."""
    return {"checkov": {"skip": [{"id": check_id, "comment": reason} for check_id, reason in skips]}}


# --- deploy.sh: region facts and the names a deployment uses -------------------------------------------
# deploy.sh reads these through tools/deploy; nothing else restates them.

# Region names: two letters, one or more words, one digit (us-east-1, ap-southeast-2, us-gov-west-1).
# The lambda-edge template's TargetRegion parameter enforces the same pattern.
REGION_NAME_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d$"

# A published Lambda version in the edge region, as the cdn template's EdgeFunctionVersionArn accepts.
EDGE_VERSION_ARN_PATTERN = r"^arn:aws[a-z-]*:lambda:us-east-1:\d{12}:function:[A-Za-z0-9_-]+:\d+$"

# deploy.sh's bucket for the transform's zip, one per prefix, account and region (S3 names are global).
ARTIFACT_BUCKET_FORMAT = "{prefix}-artifacts-{account}-{region}"
