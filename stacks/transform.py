"""The transform Lambda as both origin modes deploy it: its parameters, log group, role and function."""

from typing import Callable, NamedTuple

from awacs.aws import PolicyDocument
from troposphere import GetAtt, Output, Parameter, Template
from troposphere.awslambda import Code, Function
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup

from stacks import policies
from stacks.common import (
    LAMBDA_TIMEOUT_MIN_SECONDS,
    OBJECT_LAMBDA_TIMEOUT_SECONDS,
    PYTHON_RUNTIME,
    TRANSFORM_FUNCTION_SUFFIX,
    checkov_skips,
    log_group_name,
    transform_function_name,
)
from stacks.parameters import (
    add_artifact_parameters,
    add_keep_copyright_parameter,
    add_log_retention_parameter,
    add_max_input_bytes_parameter,
    add_memory_parameter,
)

# What ?showExif=true answers: the private default (technical fields only) and the opt-in that answers every
# field, GPS and names included (deploy.sh warns about a stack that has it).
EXIF_QUERY_PARAMETER = "ExifQuery"
EXIF_QUERY_PRIVATE = "safe"
EXIF_QUERY_REVEALING = "full"

TRANSFORM_CHECKOV_SKIPS = (
    ("CKV_AWS_116", "The transform is invoked synchronously; a dead-letter queue would never receive anything."),
    ("CKV_AWS_117", "The function reads from S3 over its public endpoint; a VPC adds NAT cost and nothing else."),
    ("CKV_AWS_115", "Concurrency follows CloudFront cache misses; a reserved limit would turn bursts into errors."),
    ("CKV_AWS_173", "The environment holds behaviour switches, no secrets."),
)


class TransformParameters(NamedTuple):
    """The parameters both modes give the transform, each field named for its parameter."""

    artifact_bucket: Parameter
    artifact_key: Parameter
    transform_memory_size: Parameter
    transform_timeout: Parameter
    exif_query: Parameter
    keep_copyright: Parameter
    max_input_bytes: Parameter
    log_retention_days: Parameter


def add_transform_parameters(template: Template) -> TransformParameters:
    artifact_bucket, artifact_key = add_artifact_parameters(template)
    transform_memory_size = add_memory_parameter(
        template, "TransformMemorySize", "Transform memory in MB (CPU scales with it)."
    )
    transform_timeout = template.add_parameter(
        Parameter(
            "TransformTimeout",
            Type="Number",
            Default=OBJECT_LAMBDA_TIMEOUT_SECONDS,
            MinValue=LAMBDA_TIMEOUT_MIN_SECONDS,
            MaxValue=OBJECT_LAMBDA_TIMEOUT_SECONDS,
            Description="Transform timeout in seconds; S3 Object Lambda and CloudFront's origin wait allow 60 at most.",
        )
    )
    exif_query = template.add_parameter(
        Parameter(
            EXIF_QUERY_PARAMETER,
            Type="String",
            Default=EXIF_QUERY_PRIVATE,
            # no-gps is kept so that stacks deployed with it keep updating; it now means safe.
            AllowedValues=[EXIF_QUERY_PRIVATE, EXIF_QUERY_REVEALING, "off", "no-gps"],
            Description="What ?showExif=true answers. safe: technical fields only (camera, lens, exposure, date "
            "without offset, size, orientation), nothing that places or identifies. full: every field, GPS, "
            "serial numbers and names included (an explicit opt-in). off: the query is ignored. no-gps: same as safe.",
        )
    )
    keep_copyright = add_keep_copyright_parameter(template)
    max_input_bytes = add_max_input_bytes_parameter(template)
    log_retention_days = add_log_retention_parameter(template)
    return TransformParameters(
        artifact_bucket,
        artifact_key,
        transform_memory_size,
        transform_timeout,
        exif_query,
        keep_copyright,
        max_input_bytes,
        log_retention_days,
    )


def transform_settings(parameters: TransformParameters) -> dict:
    """The environment both modes give the transform; the handler reads it once per container."""
    return {
        "EXIF_QUERY": parameters.exif_query.ref(),
        "KEEP_COPYRIGHT": parameters.keep_copyright.ref(),
        "MAX_INPUT_BYTES": parameters.max_input_bytes.ref(),
        "POWERTOOLS_SERVICE_NAME": "exif-transform",
    }


def add_transform_log_group(template: Template, parameters: TransformParameters) -> LogGroup:
    return template.add_resource(
        LogGroup(
            "TransformLogGroup",
            LogGroupName=log_group_name(TRANSFORM_FUNCTION_SUFFIX),
            RetentionInDays=parameters.log_retention_days.ref(),
            # Logs go with the stack; a retained group would also block the name on the next deploy.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Metadata=checkov_skips(
                ("CKV_AWS_158", "Logs hold no image data or EXIF values; the service's default encryption applies."),
            ),
        )
    )


def add_transform_role(template: Template, role_policy: PolicyDocument) -> Role:
    return template.add_resource(
        Role(
            "TransformRole",
            AssumeRolePolicyDocument=policies.lambda_trust(),
            Policies=[Policy(PolicyName="transform", PolicyDocument=role_policy)],
        )
    )


def add_transform_function(
    template: Template,
    parameters: TransformParameters,
    role_policy: Callable[[GetAtt], PolicyDocument],
    **properties: object,
) -> Function:
    """Log group, role and function, with the function's name as an output. `role_policy` builds the role's
    policy from the log group's ARN and `properties` add what the mode needs (Handler, Environment, Layers)."""
    transform_log_group = add_transform_log_group(template, parameters)
    transform_role = add_transform_role(template, role_policy(transform_log_group.get_att("Arn")))
    transform_function = template.add_resource(
        Function(
            "TransformFunction",
            DependsOn=[transform_log_group],
            FunctionName=transform_function_name(),
            Description="Strips image metadata losslessly, or answers the EXIF as JSON.",
            Runtime=PYTHON_RUNTIME,
            Architectures=["arm64"],
            MemorySize=parameters.transform_memory_size.ref(),
            Timeout=parameters.transform_timeout.ref(),
            Role=transform_role.get_att("Arn"),
            Code=Code(S3Bucket=parameters.artifact_bucket.ref(), S3Key=parameters.artifact_key.ref()),
            Metadata=checkov_skips(*TRANSFORM_CHECKOV_SKIPS),
            **properties,
        )
    )
    template.add_output(
        Output("TransformFunctionName", Value=transform_function.ref(), Description="The transform Lambda.")
    )
    return transform_function
