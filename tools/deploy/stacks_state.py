"""What CloudFormation says about a deployment's stacks: status, whether they can be updated, the failed
events of the latest operation, outputs."""

from __future__ import annotations

import re
import shlex
import sys
from typing import Any, Callable

from botocore.exceptions import ClientError

from stacks.common import DEFAULT_PREFIX, OBJECT_LAMBDA_ACCESS_POINT_SUFFIX, TRANSFORM_FUNCTION_SUFFIX
from tools.deploy.modes import FALLBACK_MODE, Mode, clashing_stacks, names, stack_name, switch_blockers
from tools.deploy.report import DeployError, describe, err, error_code, error_message

# The resource S3 Object Lambda refuses for an account new to it; a cancelled creation is a knock-on effect.
OBJECT_LAMBDA_ACCESS_POINT_TYPE = "AWS::S3ObjectLambda::AccessPoint"
# How a refusal reads in that resource's CREATE_FAILED event: CloudFormation's resource handler reports S3
# Control's 403 as `... (Service: S3Control, Status Code: 403, ...)" (RequestToken: ..., HandlerErrorCode:
# AccessDenied)`. AWS publishes no wording of its own for an account that is not allow-listed (S3 User Guide,
# amazons3-ol-change.html, says only that the service is closed to new customers), so the match is on the
# denial on this resource alone; any other failure of it (a name taken, a bad configuration) is not a refusal.
OBJECT_LAMBDA_REFUSAL_PATTERN = re.compile(r"HandlerErrorCode: AccessDenied|Status Code: 403\b|\bAccessDenied\b")
# The stack's own event that starts an operation: older events are history.
OPERATION_STARTS = frozenset({"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "REVIEW_IN_PROGRESS"})


def is_missing_stack(error: ClientError) -> bool:
    """CloudFormation's one answer for a stack that does not exist; any other error is not an answer."""
    return error_code(error) == "ValidationError" and "does not exist" in error_message(error)


def stack_status(cloudformation: Any, stack: str, region: str) -> str | None:
    """The stack's status, or None when it does not exist. Any other failure (a denial, throttling) is an
    error: reading it as "no stack" would let deploy.sh go on against a stack it has not seen."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if is_missing_stack(error):
            return None
        raise DeployError(f"cannot read the status of stack {stack} in {region}: {describe(error)}") from error
    return stacks[0]["StackStatus"] if stacks else None


def described_stack(cloudformation: Any, stack: str, region: str, what: str) -> dict[str, Any]:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        raise DeployError(f"cannot read the {what} of stack {stack} in {region}: {describe(error)}") from error
    return stacks[0]


def stack_outputs(cloudformation: Any, stack: str, region: str) -> dict[str, str]:
    outputs = described_stack(cloudformation, stack, region, "outputs").get("Outputs", [])
    return {output["OutputKey"]: output["OutputValue"] for output in outputs}


def stack_parameters(cloudformation: Any, stack: str, region: str) -> dict[str, str]:
    """The stack's current parameter values (those deploy.sh does not set keep theirs from run to run)."""
    parameters = described_stack(cloudformation, stack, region, "parameters").get("Parameters", [])
    return {parameter["ParameterKey"]: str(parameter.get("ParameterValue", "")) for parameter in parameters}


def profile_flag(profile: str) -> str:
    return f" --profile {shlex.quote(profile)}" if profile else ""


def unusable_reason(stack: str, region: str, status: str | None, profile: str) -> str | None:
    """Why CloudFormation cannot update the stack in this status, with what to do; None when it can."""
    if status is None:
        return None
    delete_command = f"aws cloudformation delete-stack --stack-name {stack} --region {region}{profile_flag(profile)}"
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        return (
            f"stack {stack} in {region} is {status} (its creation failed) and cannot be updated: "
            f"delete it with '{delete_command}', then run deploy.sh again"
        )
    if status == "DELETE_FAILED":
        return (
            f"stack {stack} in {region} is DELETE_FAILED and cannot be updated: finish deleting it with "
            f"'{delete_command}' (a Lambda@Edge function can only be deleted hours after CloudFront stops "
            "using it), then run deploy.sh again"
        )
    if status == "UPDATE_ROLLBACK_FAILED":
        return (
            f"stack {stack} in {region} is UPDATE_ROLLBACK_FAILED: recover it with 'aws cloudformation "
            f"continue-update-rollback --stack-name {stack} --region {region}{profile_flag(profile)}', "
            "then run deploy.sh again"
        )
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        return f"stack {stack} in {region} is busy ({status}): wait for it to finish, then run deploy.sh again"
    return None


def holds_nothing(status: str | None) -> bool:
    """No stack, or one whose creation failed (ROLLBACK_COMPLETE): rolling back deleted all it created."""
    return status is None or status == "ROLLBACK_COMPLETE"


def clash_reason(
    stack: str, region: str, status: str | None, others: tuple[Mode, ...], mode: Mode, prefix: str
) -> str | None:
    """Why a stack of another mode with the same prefix stops this mode; None when it does not."""
    if holds_nothing(status):
        return None
    deployment = names([f"--mode {other.name}" for other in others])
    return (
        f"stack {stack} in {region} ({status}) is the {deployment} deployment of prefix {prefix}; "
        f"both modes name the function {prefix}{TRANSFORM_FUNCTION_SUFFIX}, so deploy --mode {mode.name} "
        "with another --prefix"
    )


def switch_reason(
    stack: str, region: str, status: str | None, other: Mode, mode: Mode, prefix: str, profile: str
) -> str | None:
    """Why the other mode's distribution stack stops a switch to this mode, with the commands that make way;
    None when it does not."""
    if holds_nothing(status):
        return None
    where = f"--stack-name {stack} --region {region}{profile_flag(profile)}"
    return (
        f"stack {stack} in {region} ({status}) is the --mode {other.name} distribution of prefix {prefix}; "
        f"the Object Lambda access point {prefix}{OBJECT_LAMBDA_ACCESS_POINT_SUFFIX} has one policy, owned by "
        f"stack {stack_name(prefix, other.access_point_policy_stack)} in --mode {other.name} and by stack "
        f"{stack_name(prefix, mode.access_point_policy_stack)} in --mode {mode.name}, so "
        f"the two distributions cannot share it: to switch this prefix to --mode {mode.name}, first run "
        f"'aws cloudformation delete-stack {where}' and 'aws cloudformation wait stack-delete-complete {where}', "
        "then run deploy.sh again (or deploy with another --prefix)"
    )


def check_stacks(
    client_for: Callable[[str], Any], mode: Mode, region: str, prefix: str, profile: str
) -> None:
    """Every stack of the mode can be updated, no other mode's transform stack has this prefix, and no other
    mode's distribution holds the Object Lambda access point this mode would take over.
    client_for(region) gives a CloudFormation client there."""
    for spec in mode.stacks:
        stack, stack_region = stack_name(prefix, spec.role), spec.region(region)
        cloudformation = client_for(stack_region)
        status = stack_status(cloudformation, stack, stack_region)
        reason = unusable_reason(stack, stack_region, status, profile)
        if reason:
            if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
                print_failed_events(cloudformation, stack, stack_region, fallback_command(region, prefix, profile))
            raise DeployError(reason)
    for role, others in clashing_stacks(mode):
        stack = stack_name(prefix, role)
        status = stack_status(client_for(region), stack, region)
        reason = clash_reason(stack, region, status, others, mode, prefix)
        if reason:
            raise DeployError(reason)
    for role, other in switch_blockers(mode):
        stack = stack_name(prefix, role)
        status = stack_status(client_for(region), stack, region)
        reason = switch_reason(stack, region, status, other, mode, prefix, profile)
        if reason:
            raise DeployError(reason)


def fallback_command(region: str, prefix: str, profile: str, bucket: str = "") -> str:
    """The command that deploys the fallback mode with this run's region, prefix, profile and bucket."""
    command = ["./deploy.sh", region, "--mode", FALLBACK_MODE]
    if prefix != DEFAULT_PREFIX:
        command += ["--prefix", prefix]
    if profile:
        command += ["--profile", profile]
    if bucket:
        command += ["--bucket", bucket]
    return " ".join(shlex.quote(part) for part in command)


def latest_operation_events(cloudformation: Any, stack: str) -> list[dict[str, Any]]:
    """The stack's events, newest first, back to the start of its latest operation."""
    events = []
    for page in cloudformation.get_paginator("describe_stack_events").paginate(StackName=stack):
        for event in page["StackEvents"]:
            events.append(event)
            if (
                event.get("ResourceType") == "AWS::CloudFormation::Stack"
                and event.get("LogicalResourceId") == stack
                and event.get("ResourceStatus") in OPERATION_STARTS
            ):
                return events
    return events


def failed_event_lines(events: list[dict[str, Any]]) -> list[str]:
    return [
        f"  {e['ResourceStatus']}  {e.get('LogicalResourceId')} ({e.get('ResourceType')}): "
        f"{e.get('ResourceStatusReason') or 'no reason given'}"
        for e in events
        if e.get("ResourceStatus", "").endswith("_FAILED")
    ]


def object_lambda_refused(events: list[dict[str, Any]]) -> bool:
    """True when the Object Lambda access point's creation was denied (see OBJECT_LAMBDA_REFUSAL_PATTERN)."""
    return any(
        e.get("ResourceStatus") == "CREATE_FAILED"
        and e.get("ResourceType") == OBJECT_LAMBDA_ACCESS_POINT_TYPE
        and OBJECT_LAMBDA_REFUSAL_PATTERN.search(e.get("ResourceStatusReason") or "")
        for e in events
    )


def refusal_line(fallback: str) -> str:
    """One line: what happened and the mode that needs no S3 Object Lambda, with this run's command."""
    return (
        "S3 Object Lambda refused this account (since 2025-11-07 it accepts only AWS accounts that used it before; "
        "or these credentials lack s3:CreateAccessPointForObjectLambda): deploy the function-URL mode instead, "
        f"which needs no S3 Object Lambda: {fallback}"
    )


def print_failed_events(cloudformation: Any, stack: str, region: str, fallback: str) -> None:
    """The failed events of the stack's latest operation, newest first, on stderr; when S3 Object Lambda
    refused the account, the note and the command of the mode that needs no S3 Object Lambda."""
    try:
        events = latest_operation_events(cloudformation, stack)
    except ClientError as error:
        err(f"could not read the events of stack {stack} in {region}: {describe(error)}")
        return
    err(f"failed events of stack {stack} in {region} (newest first):")
    lines = failed_event_lines(events)
    for line in lines:
        print(line, file=sys.stderr)
    if not lines:
        try:
            status = stack_status(cloudformation, stack, region) or "none: the stack does not exist"
        except DeployError:
            status = "unknown"
        err(f"  (no failed resource events; status {status})")
    if object_lambda_refused(events):
        err(refusal_line(fallback))
