"""audit stack (any region with the bucket): the bucket audit run by S3 Batch Operations.

The audit function (the transform's zip, handler audit.handler.lambda_handler) reads each object the job
names and answers its audit row; the job's role lets S3 Batch Operations invoke that function, read the
manifest and write the completion report into the artifact bucket. `anon-s3ol audit s3://BUCKET --batch`
reads this stack's outputs, writes the manifest and creates the job. Nothing here is written to the audited
bucket, and no resource outlives the stack.
"""

from typing import NamedTuple

from troposphere import Equals, Not, Output, Parameter, Sub, Template
from troposphere.awslambda import Code, Environment, Function
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup

from stacks import policies
from stacks.common import (
    AUDIT_FUNCTION_SUFFIX,
    BUCKET_NAME_MAX_LENGTH,
    BUCKET_NAME_MIN_LENGTH,
    PYTHON_RUNTIME,
    TemplateCondition,
    add_condition,
    add_prefix_parameter,
    checkov_skips,
    log_group_name,
    new_template,
    prefixed,
)
from stacks.parameters import (
    add_artifact_parameters,
    add_keep_copyright_parameter,
    add_log_retention_parameter,
    add_max_input_bytes_parameter,
    add_memory_parameter,
)

# Where the command writes manifests and where the job writes its reports, inside the artifact bucket.
MANIFEST_PREFIX = "audit/manifests/"
REPORT_PREFIX = "audit/reports"
AUDIT_HANDLER = "audit.handler.lambda_handler"
# Each task reads one object within 40 s (audit/object_read.py's READ_TIMEOUTS) and audits it.
AUDIT_TIMEOUT_SECONDS = 60

AUDIT_CHECKOV_SKIPS = (
    ("CKV_AWS_116", "Batch Operations invokes synchronously and records every failed task in its completion report."),
    ("CKV_AWS_117", "The function reads from S3 over its public endpoint; a VPC adds NAT cost and nothing else."),
    (
        "CKV_AWS_115",
        "A reserved limit takes concurrency from the account's pool (failing to deploy on a low quota); "
        "Batch Operations retries throttled invocations.",
    ),
    ("CKV_AWS_173", "The environment holds behaviour switches, no secrets."),
)


class AuditParameters(NamedTuple):
    """The audit stack's parameters, each field named for its parameter."""

    artifact_bucket: Parameter
    artifact_key: Parameter
    audited_bucket: Parameter
    audited_prefix: Parameter
    inventory_location: Parameter
    audit_memory_size: Parameter
    keep_copyright: Parameter
    max_input_bytes: Parameter
    log_retention_days: Parameter


def add_audit_parameters(template: Template) -> AuditParameters:
    artifact_bucket, artifact_key = add_artifact_parameters(template)
    audited_bucket = template.add_parameter(
        Parameter(
            "AuditedBucket",
            Type="String",
            MinLength=BUCKET_NAME_MIN_LENGTH,
            MaxLength=BUCKET_NAME_MAX_LENGTH,
            Description="The bucket whose images the audit function may read (read only).",
        )
    )
    audited_prefix = template.add_parameter(
        Parameter(
            "AuditedPrefix",
            Type="String",
            Default="",
            Description="Only keys starting with this may be read; empty means the whole bucket.",
        )
    )
    inventory_location = template.add_parameter(
        Parameter(
            "InventoryLocation",
            Type="String",
            Default="",
            Description="bucket/prefix of an S3 Inventory report the jobs may use as their manifest "
            "(--inventory); empty when the command writes the manifest itself.",
        )
    )
    audit_memory_size = add_memory_parameter(
        template, "AuditMemorySize", "Audit function memory in MB (CPU scales with it)."
    )
    keep_copyright = add_keep_copyright_parameter(template)
    max_input_bytes = add_max_input_bytes_parameter(template)
    log_retention_days = add_log_retention_parameter(template)
    return AuditParameters(
        artifact_bucket,
        artifact_key,
        audited_bucket,
        audited_prefix,
        inventory_location,
        audit_memory_size,
        keep_copyright,
        max_input_bytes,
        log_retention_days,
    )


def s3_arn(path: str, **values: object) -> Sub:
    """`arn:<partition>:s3:::<path>`, `path` in Fn::Sub syntax."""
    return Sub("arn:${AWS::Partition}:s3:::" + path, **values)


def add_audit_log_group(template: Template, parameters: AuditParameters) -> LogGroup:
    return template.add_resource(
        LogGroup(
            "AuditLogGroup",
            LogGroupName=log_group_name(AUDIT_FUNCTION_SUFFIX),
            RetentionInDays=parameters.log_retention_days.ref(),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Metadata=checkov_skips(
                ("CKV_AWS_158", "Logs hold keys and verdicts, no image data or EXIF values; default encryption applies."),
            ),
        )
    )


def add_audit_function(template: Template, parameters: AuditParameters, log_group: LogGroup) -> Function:
    role = template.add_resource(
        Role(
            "AuditRole",
            AssumeRolePolicyDocument=policies.lambda_trust(),
            Policies=[
                Policy(
                    PolicyName="audit",
                    PolicyDocument=policies.audit_function_policy(
                        log_group.get_att("Arn"),
                        s3_arn("${AuditedBucket}"),
                        s3_arn("${AuditedBucket}/${AuditedPrefix}*"),
                    ),
                )
            ],
        )
    )
    function = template.add_resource(
        Function(
            "AuditFunction",
            DependsOn=[log_group],
            FunctionName=prefixed(AUDIT_FUNCTION_SUFFIX),
            Description="Audits one object per S3 Batch Operations task: its format, the metadata a strip "
            "would remove, or why it would be refused.",
            Runtime=PYTHON_RUNTIME,
            Architectures=["arm64"],
            Handler=AUDIT_HANDLER,
            MemorySize=parameters.audit_memory_size.ref(),
            Timeout=AUDIT_TIMEOUT_SECONDS,
            Role=role.get_att("Arn"),
            Code=Code(S3Bucket=parameters.artifact_bucket.ref(), S3Key=parameters.artifact_key.ref()),
            Environment=Environment(
                Variables={
                    "KEEP_COPYRIGHT": parameters.keep_copyright.ref(),
                    "MAX_INPUT_BYTES": parameters.max_input_bytes.ref(),
                    "POWERTOOLS_SERVICE_NAME": "exif-audit",
                }
            ),
            Metadata=checkov_skips(*AUDIT_CHECKOV_SKIPS),
        )
    )
    template.add_output(Output("AuditFunctionArn", Value=function.get_att("Arn"), Description="The audit Lambda."))
    return function


def add_batch_operations_role(
    template: Template, function: Function, has_inventory: TemplateCondition
) -> Role:
    manifest_objects = s3_arn("${ArtifactBucket}/" + MANIFEST_PREFIX + "*")
    role = template.add_resource(
        Role(
            "BatchOperationsRole",
            AssumeRolePolicyDocument=policies.batch_operations_trust(),
            Policies=[
                Policy(
                    PolicyName="audit-job",
                    PolicyDocument=policies.batch_job_policy(
                        function.get_att("Arn"),
                        s3_arn("${ArtifactBucket}"),
                        manifest_objects,
                        s3_arn("${ArtifactBucket}/" + REPORT_PREFIX + "/*"),
                        # Without an inventory the statement names the manifests twice rather than anything more.
                        has_inventory.choose(s3_arn("${InventoryLocation}*"), manifest_objects),
                    ),
                )
            ],
        )
    )
    template.add_output(
        Output("BatchOperationsRoleArn", Value=role.get_att("Arn"), Description="The role the audit jobs run as.")
    )
    return role


def add_audit_outputs(template: Template, parameters: AuditParameters) -> None:
    """What the command needs besides the function and the role: where things go, and what may be read."""
    for title, value, description in (
        ("ArtifactBucket", parameters.artifact_bucket.ref(), "Holds the audit's manifests and reports."),
        ("ManifestPrefix", MANIFEST_PREFIX, "Where the command writes job manifests in the artifact bucket."),
        ("ReportPrefix", REPORT_PREFIX, "Where the jobs write their completion reports in the artifact bucket."),
        # One output for both: an output's value may not be empty, and AuditedPrefix often is.
        (
            "AuditedLocation",
            Sub("s3://${AuditedBucket}/${AuditedPrefix}"),
            "What the audit function may read: s3://AuditedBucket/AuditedPrefix.",
        ),
    ):
        template.add_output(Output(title, Value=value, Description=description))


def build_audit() -> Template:
    template = new_template(
        "Bucket audit with S3 Batch Operations: a function that audits each object the job names (read only) "
        "and the role the job runs as. Used by `anon-s3ol audit s3://BUCKET --batch`."
    )
    add_prefix_parameter(template)
    parameters = add_audit_parameters(template)
    has_inventory = add_condition(template, "HasInventory", Not(Equals(parameters.inventory_location.ref(), "")))
    log_group = add_audit_log_group(template, parameters)
    function = add_audit_function(template, parameters, log_group)
    add_batch_operations_role(template, function, has_inventory)
    add_audit_outputs(template, parameters)
    return template
