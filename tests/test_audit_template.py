"""templates/audit.json: the audit function reads the audited bucket only, and the Batch Operations job's role
invokes that function, reads the manifest and writes the report, nothing more.

Freshness, cfn-lint, the Prefix parameter, wildcards and checkov reasons are checked for every template,
this one included, in test_templates.py. Assertions read the committed JSON.
"""

from __future__ import annotations

import re

import pytest

from anon_s3ol import batch_audit
from audit.object_read import READ_TIMEOUTS
from serving.settings import load_settings
from stacks import audit, common
from template_modes import deployed
from template_reading import as_list, load, statement

REQUIRED = ("ArtifactBucket", "ArtifactKey", "AuditedBucket")


@pytest.fixture(scope="module")
def template() -> dict:
    return deployed(load("audit"), InventoryLocation="")


@pytest.fixture(scope="module")
def with_inventory() -> dict:
    return deployed(load("audit"), InventoryLocation="inventory-bucket/photos/daily/")


def role_policy(template: dict, role: str) -> dict:
    (policy,) = template["Resources"][role]["Properties"]["Policies"]
    return policy["PolicyDocument"]


def sub_text(value) -> str:
    """The text of an Fn::Sub, whichever form it takes."""
    sub = value["Fn::Sub"]
    return sub if isinstance(sub, str) else sub[0]


def test_the_stack_holds_the_function_its_log_group_and_two_roles(template):
    types = sorted(r["Type"] for r in template["Resources"].values())
    assert types == ["AWS::IAM::Role", "AWS::IAM::Role", "AWS::Lambda::Function", "AWS::Logs::LogGroup"]


def test_the_function_runs_the_audit_handler_from_the_transform_zip(template):
    props = template["Resources"]["AuditFunction"]["Properties"]
    assert props["Handler"] == "audit.handler.lambda_handler"
    assert props["Runtime"] == common.PYTHON_RUNTIME
    assert props["Architectures"] == ["arm64"]
    # The same zip and the same parameters as the serving stacks.
    assert props["Code"] == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "ArtifactKey"}}
    assert props["FunctionName"] == {"Fn::Sub": "${Prefix}-audit"}
    # The read's deadline fits inside the function's timeout, with room to audit and answer.
    assert props["Timeout"] >= READ_TIMEOUTS.total_seconds + 10


def test_the_function_environment_is_what_the_handler_reads(template):
    variables = template["Resources"]["AuditFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["KEEP_COPYRIGHT"] == {"Ref": "KeepCopyright"}
    assert variables["MAX_INPUT_BYTES"] == {"Ref": "MaxInputBytes"}
    parameters = template["Parameters"]
    # The defaults are values the handler's cold start accepts, and the transform's own defaults.
    settings = load_settings(
        {"KEEP_COPYRIGHT": parameters["KeepCopyright"]["Default"], "MAX_INPUT_BYTES": str(parameters["MaxInputBytes"]["Default"])}
    )
    assert settings == load_settings({})


def test_the_log_group_is_the_one_lambda_writes_to(template):
    props = template["Resources"]["AuditLogGroup"]["Properties"]
    assert props["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${Prefix}-audit"}
    assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Resources"]["AuditFunction"]["DependsOn"] == ["AuditLogGroup"]


def test_the_function_role_reads_the_audited_prefix_and_writes_only_its_logs(template):
    role = template["Resources"]["AuditRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["lambda.amazonaws.com"]}
    document = role_policy(template, "AuditRole")
    actions = sorted(a for s in document["Statement"] for a in s["Action"])
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]
    (objects,) = statement(document, "ReadAuditedObjects")["Resource"]
    assert sub_text(objects) == "arn:${AWS::Partition}:s3:::${AuditedBucket}/${AuditedPrefix}*"
    (bucket,) = statement(document, "TellMissingFromForbidden")["Resource"]
    assert sub_text(bucket) == "arn:${AWS::Partition}:s3:::${AuditedBucket}"
    assert statement(document, "WriteOwnLogs")["Resource"] == [{"Fn::GetAtt": ["AuditLogGroup", "Arn"]}]


def test_the_job_role_trusts_batch_operations_for_this_accounts_jobs_only(template):
    role = template["Resources"]["BatchOperationsRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["batchoperations.s3.amazonaws.com"]}
    assert trust["Action"] == ["sts:AssumeRole"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_the_job_role_invokes_this_function_reads_manifests_and_writes_reports(template):
    document = role_policy(template, "BatchOperationsRole")
    assert statement(document, "InvokeAuditFunction")["Action"] == ["lambda:InvokeFunction"]
    assert statement(document, "InvokeAuditFunction")["Resource"] == [{"Fn::GetAtt": ["AuditFunction", "Arn"]}]
    read = statement(document, "ReadManifest")
    assert read["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    manifests = f"arn:${{AWS::Partition}}:s3:::${{ArtifactBucket}}/{audit.MANIFEST_PREFIX}*"
    assert {sub_text(r) for r in read["Resource"]} == {manifests}, "without an inventory, the manifests only"
    write = statement(document, "WriteCompletionReport")
    assert write["Action"] == ["s3:PutObject"]
    (report,) = write["Resource"]
    assert sub_text(report) == f"arn:${{AWS::Partition}}:s3:::${{ArtifactBucket}}/{audit.REPORT_PREFIX}/*"
    (bucket,) = statement(document, "LocateArtifactBucket")["Resource"]
    assert sub_text(bucket) == "arn:${AWS::Partition}:s3:::${ArtifactBucket}"
    # Nothing of the job role touches the audited bucket: the function reads it, with its own role.
    assert "AuditedBucket" not in str(document)


def test_an_inventory_location_adds_its_reports_to_what_the_job_may_read(with_inventory):
    read = statement(role_policy(with_inventory, "BatchOperationsRole"), "ReadManifest")
    assert sorted(sub_text(r) for r in read["Resource"]) == [
        f"arn:${{AWS::Partition}}:s3:::${{ArtifactBucket}}/{audit.MANIFEST_PREFIX}*",
        "arn:${AWS::Partition}:s3:::${InventoryLocation}*",
    ]


def test_no_statement_of_either_role_writes_or_deletes_in_the_audited_bucket(template):
    for role in ("AuditRole", "BatchOperationsRole"):
        for stmt in role_policy(template, role)["Statement"]:
            for action in as_list(stmt["Action"]):
                if re.match(r"s3:(Put|Delete|Restore|Replicate)", action):
                    assert all("ArtifactBucket" in sub_text(r) for r in stmt["Resource"]), f"{role}: {action}"


def test_outputs_are_what_the_command_reads(template):
    outputs = template["Outputs"]
    assert set(outputs) == set(batch_audit.STACK_OUTPUTS)
    assert sub_text(outputs["AuditedLocation"]["Value"]) == "s3://${AuditedBucket}/${AuditedPrefix}"
    assert outputs["ManifestPrefix"]["Value"] == audit.MANIFEST_PREFIX
    assert outputs["ReportPrefix"]["Value"] == audit.REPORT_PREFIX
    assert outputs["AuditFunctionArn"]["Value"] == {"Fn::GetAtt": ["AuditFunction", "Arn"]}
    assert outputs["BatchOperationsRoleArn"]["Value"] == {"Fn::GetAtt": ["BatchOperationsRole", "Arn"]}


def test_the_longest_prefix_keeps_the_function_name_inside_lambdas_limit():
    assert len("a" * common.PREFIX_MAX_LENGTH + common.AUDIT_FUNCTION_SUFFIX) <= 64


def test_required_parameters_have_no_default():
    parameters = load("audit")["Parameters"]
    for name in REQUIRED:
        assert "Default" not in parameters[name], name
