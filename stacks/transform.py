"""The transform Lambda as both origin modes deploy it: its parameters, log group, role and function."""

from typing import Callable

from awacs.aws import PolicyDocument
from troposphere import GetAtt, Output, Parameter, Ref, Sub, Template
from troposphere.awslambda import Code, Function
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup

from stacks import policies
from stacks.common import (
    OBJECT_LAMBDA_TIMEOUT_SECONDS,
    PYTHON_RUNTIME,
    TRANSFORM_FUNCTION_SUFFIX,
    checkov_skips,
    transform_function_name,
)

# CloudWatch Logs accepts only these retention periods.
# Source: CloudWatch Logs API Reference, PutRetentionPolicy, retentionInDays.
LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]

DEFAULT_MAX_INPUT_BYTES = 100 * 1024 * 1024

TRANSFORM_CHECKOV_SKIPS = (
    ("CKV_AWS_116", "The transform is invoked synchronously; a dead-letter queue would never receive anything."),
    ("CKV_AWS_117", "The function reads from S3 over its public endpoint; a VPC adds NAT cost and nothing else."),
    ("CKV_AWS_115", "Concurrency follows CloudFront cache misses; a reserved limit would turn bursts into errors."),
    ("CKV_AWS_173", "The environment holds behaviour switches, no secrets."),
)


def add_transform_parameters(template: Template) -> None:
    template.add_parameter(
        Parameter(
            "ArtifactBucket",
            Type="String",
            MinLength=3,
            MaxLength=63,
            Description="Bucket holding the transform's zip (deploy.sh creates and fills it).",
        )
    )
    template.add_parameter(
        Parameter(
            "ArtifactKey",
            Type="String",
            MinLength=1,
            Description="Key of the transform's zip, named by its content hash so a new build updates the function.",
        )
    )
    template.add_parameter(
        Parameter(
            "TransformMemorySize",
            Type="Number",
            Default=512,
            MinValue=128,
            MaxValue=10240,
            Description="Transform memory in MB (CPU scales with it).",
        )
    )
    template.add_parameter(
        Parameter(
            "TransformTimeout",
            Type="Number",
            Default=OBJECT_LAMBDA_TIMEOUT_SECONDS,
            MinValue=1,
            MaxValue=OBJECT_LAMBDA_TIMEOUT_SECONDS,
            Description="Transform timeout in seconds; S3 Object Lambda and CloudFront's origin wait allow 60 at most.",
        )
    )
    template.add_parameter(
        Parameter(
            "ExifQuery",
            Type="String",
            Default="full",
            AllowedValues=["full", "no-gps", "off"],
            Description="?showExif=true answers all EXIF (full), EXIF without the GPS group (no-gps), "
            "or is ignored (off).",
        )
    )
    template.add_parameter(
        Parameter(
            "KeepCopyright",
            Type="String",
            Default="false",
            AllowedValues=["false", "true"],
            Description="Keep the EXIF Copyright and Artist tags in stripped images.",
        )
    )
    template.add_parameter(
        Parameter(
            "MaxInputBytes",
            Type="Number",
            Default=DEFAULT_MAX_INPUT_BYTES,
            MinValue=1,
            Description="Originals larger than this are refused with 413.",
        )
    )
    template.add_parameter(
        Parameter(
            "LogRetentionDays",
            Type="Number",
            Default=30,
            AllowedValues=LOG_RETENTION_DAYS,
            Description="How long the transform's logs are kept.",
        )
    )


def transform_settings() -> dict:
    """The environment both modes give the transform; the handler reads it once per container."""
    return {
        "EXIF_QUERY": Ref("ExifQuery"),
        "KEEP_COPYRIGHT": Ref("KeepCopyright"),
        "MAX_INPUT_BYTES": Ref("MaxInputBytes"),
        "POWERTOOLS_SERVICE_NAME": "exif-transform",
    }


def add_transform_function(
    template: Template, role_policy: Callable[[GetAtt], PolicyDocument], **properties: object
) -> Function:
    """Log group, role and function; `role_policy` builds the role's policy from the log group's ARN and
    `properties` add what the mode needs (Handler, Environment, Layers)."""
    log_group = template.add_resource(
        LogGroup(
            "TransformLogGroup",
            LogGroupName=Sub("/aws/lambda/${Prefix}" + TRANSFORM_FUNCTION_SUFFIX),
            RetentionInDays=Ref("LogRetentionDays"),
            # Logs go with the stack; a retained group would also block the name on the next deploy.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Metadata=checkov_skips(
                ("CKV_AWS_158", "Logs hold no image data or EXIF values; the service's default encryption applies."),
            ),
        )
    )
    role = template.add_resource(
        Role(
            "TransformRole",
            AssumeRolePolicyDocument=policies.lambda_trust(),
            Policies=[Policy(PolicyName="transform", PolicyDocument=role_policy(GetAtt(log_group, "Arn")))],
        )
    )
    function = template.add_resource(
        Function(
            "TransformFunction",
            DependsOn=[log_group],
            FunctionName=transform_function_name(),
            Description="Strips image metadata losslessly, or answers the EXIF as JSON.",
            Runtime=PYTHON_RUNTIME,
            Architectures=["arm64"],
            MemorySize=Ref("TransformMemorySize"),
            Timeout=Ref("TransformTimeout"),
            Role=GetAtt(role, "Arn"),
            Code=Code(S3Bucket=Ref("ArtifactBucket"), S3Key=Ref("ArtifactKey")),
            Metadata=checkov_skips(*TRANSFORM_CHECKOV_SKIPS),
            **properties,
        )
    )
    template.add_output(Output("TransformFunctionName", Value=Ref(function), Description="The transform Lambda."))
    return function
