"""lambda-edge stack (always us-east-1): the origin-request function that signs CloudFront's requests to the
Object Lambda access point, a version of it for CloudFront to run, and that version's ARN in SSM."""

import hashlib

from troposphere import Output, Parameter, Template
from troposphere.awslambda import Code, Function, Version
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup
from troposphere.ssm import Parameter as SsmParameter

from stacks import policies
from stacks.common import (
    EDGE_FUNCTION_SUFFIX,
    EDGE_REGION,
    EDGE_ROLE_SUFFIX,
    INLINE_CODE_LIMIT_BYTES,
    LAMBDA_MEMORY_MIN_MB,
    PYTHON_RUNTIME,
    add_prefix_parameter,
    checkov_skips,
    edge_version_parameter_name,
    log_group_name,
    new_template,
    prefixed,
)

# Signing takes milliseconds; a short timeout bounds what a stuck call costs (origin-request limit: 30 s).
EDGE_TIMEOUT_SECONDS = 5
# The smallest size Lambda offers is enough for botocore's signer.
EDGE_MEMORY_MB = LAMBDA_MEMORY_MIN_MB
# A month of the home region's logs (test invocations), as the transform keeps by default.
EDGE_LOG_RETENTION_DAYS = 30

# Lambda@Edge rejects these features, so each checkov check that asks for one is skipped with the reason.
# Source: CloudFront Developer Guide, lambda-at-edge-function-restrictions.html.
EDGE_CHECKOV_SKIPS = (
    ("CKV_AWS_116", "Lambda@Edge does not support dead-letter queues."),
    ("CKV_AWS_117", "Lambda@Edge does not support VPC configuration."),
    ("CKV_AWS_115", "Lambda@Edge replicas scale with CloudFront; reserved concurrency does not apply to them."),
)


class InlineCodeTooLarge(ValueError):
    """The signer no longer fits CloudFormation's inline-code limit."""


def version_logical_id(source: str) -> str:
    """A logical ID that changes with the code, so every changed signer is published as a new version."""
    return "EdgeSignerVersion" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def check_inline_size(signer_source: str) -> None:
    size = len(signer_source.encode("utf-8"))
    if size > INLINE_CODE_LIMIT_BYTES:
        raise InlineCodeTooLarge(
            f"the edge signer is {size} bytes; CloudFormation's inline code limit is {INLINE_CODE_LIMIT_BYTES} bytes"
        )


def add_target_region_parameter(template: Template) -> Parameter:
    return template.add_parameter(
        Parameter(
            "TargetRegion",
            Type="String",
            AllowedPattern=r"^[a-z]{2}(-[a-z]+)+-\d$",
            ConstraintDescription="an AWS region name such as eu-west-1",
            Description="Region of the storage stack (the Object Lambda access point the function signs for).",
        )
    )


def add_edge_signer_role(template: Template, target_region: Parameter) -> Role:
    return template.add_resource(
        Role(
            "EdgeSignerRole",
            RoleName=prefixed(EDGE_ROLE_SUFFIX),
            AssumeRolePolicyDocument=policies.edge_lambda_trust(),
            Policies=[
                Policy(PolicyName="edge-signer", PolicyDocument=policies.edge_signer_policy(target_region.ref()))
            ],
        )
    )


def add_edge_signer_log_group(template: Template) -> LogGroup:
    return template.add_resource(
        LogGroup(
            "EdgeSignerLogGroup",
            # The home-region log group (test invocations); edge regions create their own on first use.
            LogGroupName=log_group_name(EDGE_FUNCTION_SUFFIX),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            RetentionInDays=EDGE_LOG_RETENTION_DAYS,
            Metadata=checkov_skips(
                ("CKV_AWS_158", "Logs hold the method, path and region of a request; default encryption applies."),
            ),
        )
    )


def add_edge_signer_function(
    template: Template, edge_signer_role: Role, edge_signer_log_group: LogGroup, signer_source: str
) -> Function:
    return template.add_resource(
        Function(
            "EdgeSignerFunction",
            DependsOn=[edge_signer_log_group],
            FunctionName=prefixed(EDGE_FUNCTION_SUFFIX),
            Description="Signs CloudFront origin requests to the S3 Object Lambda access point (SigV4).",
            Runtime=PYTHON_RUNTIME,
            # Lambda@Edge runs x86_64 only, without environment variables, layers or VPC.
            Architectures=["x86_64"],
            Handler="index.lambda_handler",
            MemorySize=EDGE_MEMORY_MB,
            Timeout=EDGE_TIMEOUT_SECONDS,
            Role=edge_signer_role.get_att("Arn"),
            Code=Code(ZipFile=signer_source),
            Metadata=checkov_skips(*EDGE_CHECKOV_SKIPS),
        )
    )


def add_edge_signer_version(template: Template, edge_signer_function: Function, signer_source: str) -> Version:
    """A version of the signer for CloudFront to run, with its ARN as an output."""
    edge_signer_version = template.add_resource(
        Version(
            version_logical_id(signer_source),
            # When the signer changes, the old version is still associated with the distribution until the
            # cdn stack is updated, and CloudFront's replicas outlive that; deleting it in this stack's
            # cleanup would fail. Deleting the function (with the stack) removes every version.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            FunctionName=edge_signer_function.ref(),
            Description="Published for CloudFront's origin-request association.",
        )
    )
    template.add_output(
        Output("EdgeFunctionVersionArn", Value=edge_signer_version.ref(), Description="Version ARN for the cdn stack.")
    )
    return edge_signer_version


def add_edge_signer_version_arn_parameter(template: Template, edge_signer_version: Version) -> SsmParameter:
    return template.add_resource(
        SsmParameter(
            "EdgeSignerVersionArnParameter",
            Name=edge_version_parameter_name(),
            Type="String",
            Value=edge_signer_version.ref(),
            Description="Version ARN of the edge signer, read by deploy.sh for the cdn stack in another region.",
        )
    )


def build_lambda_edge(signer_source: str) -> Template:
    check_inline_size(signer_source)
    template = new_template(
        "Lambda@Edge origin-request function that SigV4-signs CloudFront's requests to the S3 Object Lambda "
        "access point. Always deployed in " + EDGE_REGION + "."
    )
    add_prefix_parameter(template)
    target_region = add_target_region_parameter(template)
    edge_signer_role = add_edge_signer_role(template, target_region)
    edge_signer_log_group = add_edge_signer_log_group(template)
    edge_signer_function = add_edge_signer_function(template, edge_signer_role, edge_signer_log_group, signer_source)
    edge_signer_version = add_edge_signer_version(template, edge_signer_function, signer_source)
    add_edge_signer_version_arn_parameter(template, edge_signer_version)
    return template
