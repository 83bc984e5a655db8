"""lambda-edge stack (always us-east-1): the origin-request function that signs CloudFront's requests to the
Object Lambda access point, a version of it for CloudFront to run, and that version's ARN in SSM."""

import hashlib

from troposphere import GetAtt, Output, Parameter, Ref, Sub, Template
from troposphere.awslambda import Code, Function, Version
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup
from troposphere.ssm import Parameter as SsmParameter

from stacks import policies
from stacks.common import (
    EDGE_FUNCTION_SUFFIX,
    EDGE_ROLE_SUFFIX,
    EDGE_VERSION_PARAMETER_SUFFIX,
    INLINE_CODE_LIMIT_BYTES,
    PYTHON_RUNTIME,
    add_prefix_parameter,
    checkov_skips,
    new_template,
    prefixed,
)

# Signing takes milliseconds; a short timeout bounds what a stuck call costs (origin-request limit: 30 s).
EDGE_TIMEOUT_SECONDS = 5
# Lambda@Edge viewer/origin functions: 128 MB is the smallest size and enough for botocore's signer.
EDGE_MEMORY_MB = 128

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


def build_lambda_edge(signer_source: str) -> Template:
    size = len(signer_source.encode("utf-8"))
    if size > INLINE_CODE_LIMIT_BYTES:
        raise InlineCodeTooLarge(
            f"the edge signer is {size} bytes; CloudFormation's inline code limit is {INLINE_CODE_LIMIT_BYTES} bytes"
        )
    template = new_template(
        "Lambda@Edge origin-request function that SigV4-signs CloudFront's requests to the S3 Object Lambda "
        "access point. Always deployed in us-east-1."
    )
    add_prefix_parameter(template)
    template.add_parameter(
        Parameter(
            "TargetRegion",
            Type="String",
            AllowedPattern=r"^[a-z]{2}(-[a-z]+)+-\d$",
            ConstraintDescription="an AWS region name such as eu-west-1",
            Description="Region of the storage stack (the Object Lambda access point the function signs for).",
        )
    )

    role = template.add_resource(
        Role(
            "EdgeSignerRole",
            RoleName=prefixed(EDGE_ROLE_SUFFIX),
            AssumeRolePolicyDocument=policies.edge_lambda_trust(),
            Policies=[
                Policy(PolicyName="edge-signer", PolicyDocument=policies.edge_signer_policy(Ref("TargetRegion")))
            ],
        )
    )
    function_name = prefixed(EDGE_FUNCTION_SUFFIX)
    log_group = template.add_resource(
        LogGroup(
            "EdgeSignerLogGroup",
            # The home-region log group (test invocations); edge regions create their own on first use.
            LogGroupName=Sub("/aws/lambda/${Prefix}" + EDGE_FUNCTION_SUFFIX),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            RetentionInDays=30,
            Metadata=checkov_skips(
                ("CKV_AWS_158", "Logs hold the method, path and region of a request; default encryption applies."),
            ),
        )
    )
    function = template.add_resource(
        Function(
            "EdgeSignerFunction",
            DependsOn=[log_group],
            FunctionName=function_name,
            Description="Signs CloudFront origin requests to the S3 Object Lambda access point (SigV4).",
            Runtime=PYTHON_RUNTIME,
            # Lambda@Edge runs x86_64 only, without environment variables, layers or VPC.
            Architectures=["x86_64"],
            Handler="index.lambda_handler",
            MemorySize=EDGE_MEMORY_MB,
            Timeout=EDGE_TIMEOUT_SECONDS,
            Role=GetAtt(role, "Arn"),
            Code=Code(ZipFile=signer_source),
            Metadata=checkov_skips(*EDGE_CHECKOV_SKIPS),
        )
    )
    version = template.add_resource(
        Version(
            version_logical_id(signer_source),
            # When the signer changes, the old version is still associated with the distribution until the
            # cdn stack is updated, and CloudFront's replicas outlive that; deleting it in this stack's
            # cleanup would fail. Deleting the function (with the stack) removes every version.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            FunctionName=Ref(function),
            Description="Published for CloudFront's origin-request association.",
        )
    )
    template.add_resource(
        SsmParameter(
            "EdgeSignerVersionArnParameter",
            Name=Sub("/${Prefix}" + EDGE_VERSION_PARAMETER_SUFFIX),
            Type="String",
            Value=Ref(version),
            Description="Version ARN of the edge signer, read by deploy.sh for the cdn stack in another region.",
        )
    )
    template.add_output(
        Output("EdgeFunctionVersionArn", Value=Ref(version), Description="Version ARN for the cdn stack.")
    )
    return template
