"""The parameters of every function that runs the transform's zip: the serving stacks' transform (storage,
function-url) and the audit function (audit). Each is declared here once, so that a parameter of the same name
has the same type, limits, default and description in every template that takes it."""

from troposphere import Parameter, Template

from stacks.common import (
    BUCKET_NAME_MAX_LENGTH,
    BUCKET_NAME_MIN_LENGTH,
    LAMBDA_MEMORY_MAX_MB,
    LAMBDA_MEMORY_MIN_MB,
    LOG_RETENTION_DAYS,
)

DEFAULT_MEMORY_MB = 512
DEFAULT_MAX_INPUT_BYTES = 100 * 1024 * 1024
DEFAULT_LOG_RETENTION_DAYS = 30


def add_artifact_parameters(template: Template) -> tuple[Parameter, Parameter]:
    """ArtifactBucket and ArtifactKey: where the transform's zip is."""
    artifact_bucket = template.add_parameter(
        Parameter(
            "ArtifactBucket",
            Type="String",
            MinLength=BUCKET_NAME_MIN_LENGTH,
            MaxLength=BUCKET_NAME_MAX_LENGTH,
            Description="deploy.sh's artifact bucket (it creates and fills it): holds the transform's zip, and the "
            "audit's manifests and completion reports.",
        )
    )
    artifact_key = template.add_parameter(
        Parameter(
            "ArtifactKey",
            Type="String",
            MinLength=1,
            Description="Key of the transform's zip (exif-transform/<sha256>.zip), named by its content hash so a "
            "new build updates the function.",
        )
    )
    return artifact_bucket, artifact_key


def add_memory_parameter(template: Template, title: str, description: str) -> Parameter:
    """The function's memory: TransformMemorySize or AuditMemorySize, two parameters with the same limits."""
    return template.add_parameter(
        Parameter(
            title,
            Type="Number",
            Default=DEFAULT_MEMORY_MB,
            MinValue=LAMBDA_MEMORY_MIN_MB,
            MaxValue=LAMBDA_MEMORY_MAX_MB,
            Description=description,
        )
    )


def add_keep_copyright_parameter(template: Template) -> Parameter:
    return template.add_parameter(
        Parameter(
            "KeepCopyright",
            Type="String",
            Default="false",
            AllowedValues=["false", "true"],
            Description="Keep the EXIF Copyright and Artist tags when stripping.",
        )
    )


def add_max_input_bytes_parameter(template: Template) -> Parameter:
    return template.add_parameter(
        Parameter(
            "MaxInputBytes",
            Type="Number",
            Default=DEFAULT_MAX_INPUT_BYTES,
            MinValue=1,
            Description="Originals larger than this are refused: served with 413, audited as refused.",
        )
    )


def add_log_retention_parameter(template: Template) -> Parameter:
    return template.add_parameter(
        Parameter(
            "LogRetentionDays",
            Type="Number",
            Default=DEFAULT_LOG_RETENTION_DAYS,
            AllowedValues=LOG_RETENTION_DAYS,
            Description="How long the function's logs are kept.",
        )
    )
