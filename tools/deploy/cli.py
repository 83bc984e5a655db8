"""`python -m tools.deploy <command>`: the commands deploy.sh runs, from the repository root.

  preflight --out FILE -- <deploy.sh's arguments>
      Reads deploy.sh's command line (or prints the help), checks the names, the region, the credentials
      (printing the account), every stack the mode touches and, with --bucket, the bucket and its policy (when
      the policy lacks statements the mode needs and --add-bucket-policy is not given, prints them and fails);
      creates nothing. Writes the plan to FILE, one NAME=value line per name deploy.sh uses (PLAN_NAMES);
      writes no FILE when it printed the help.
  artifact   <context> --account ID --partition P --key KEY --file ZIP
      Creates or completes the artifact bucket and uploads ZIP as KEY unless already there.
  failed-events <context> --stack NAME --stack-region REGION
      Prints the failed events of the stack's latest operation on stderr (always exits 0 once it has run).
  bucket-policy <context> --account ID --partition P
      With --bucket: adds the statements the mode needs to the bucket's policy, keeping every statement it has.
  refused-cleanup <context> --account ID --stack NAME
      When the stack's creation failed because S3 Object Lambda refused the account: deletes the stack and the
      empty bucket its creation kept (never a bucket holding objects, never the --bucket one); else nothing.
  edge-version <context> --account ID --partition P
      Prints the edge function version ARN that the lambda-edge stack put into SSM, after checking that it is
      a version of this account's <prefix>-edge-signer in us-east-1.
  outputs    <context>
      Prints the deployment's bucket, URL and distribution, and the commands to try it; then, on stderr, a
      warning for each stack with ExifQuery=full and a note for each stack of the previous mode that the
      mode no longer uses.

<context> is --mode MODE --region REGION --prefix PREFIX [--profile NAME] [--bucket NAME], as the plan gave them.
Every message starts with `deploy.sh:`. Exit codes: 0 done (or help printed), 1 a check or a step failed,
2 usage error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from stacks.bucket import EXISTING_BUCKET_PARAMETER
from stacks.common import (
    ARTIFACT_BUCKET_FORMAT,
    EDGE_FUNCTION_SUFFIX,
    EDGE_REGION,
    EDGE_VERSION_ARN_PATTERN,
    EDGE_VERSION_PARAMETER_SUFFIX,
    STACK_SUFFIXES,
)
from tools.deploy import artifacts, command_line, existing_bucket, notes, refusal, stacks_state
from stacks.distribution import ALLOWED_ORIGINS_PARAMETER
from tools.deploy.modes import MODES, Mode, leftover_stacks, stack_name
from tools.deploy.report import DeployError, UsageError, describe, err, one_line


# --- names -----------------------------------------------------------------------------------------------


def artifact_bucket(prefix: str, account: str, region: str) -> str:
    return ARTIFACT_BUCKET_FORMAT.format(prefix=prefix, account=account, region=region)


def edge_version_parameter(prefix: str) -> str:
    return f"/{prefix}{EDGE_VERSION_PARAMETER_SUFFIX}"


def stack_variable(role: str) -> str:
    """deploy.sh's variable for a stack's name: storage -> STORAGE_STACK, lambda-edge -> LAMBDA_EDGE_STACK."""
    return role.upper().replace("-", "_") + "_STACK"


PLAN_NAMES = (
    "MODE",
    "REGION",
    "PREFIX",
    "PROFILE",
    "TOTAL_STEPS",
    "ACCOUNT",
    "PARTITION",
    "ARTIFACT_BUCKET",
    "EDGE_REGION",
    "EDGE_VERSION_PARAMETER",
    "ORIGIN_MODE",
    *(stack_variable(role) for role in STACK_SUFFIXES),
    "EXISTING_BUCKET",
    "BUCKET_POLICY",
    "ALLOWED_ORIGINS_OVERRIDE",
    "STREAMING_RESPONSES",
)
# BUCKET_POLICY's value when step 4 must add statements to the --bucket's policy.
ADD_STATEMENTS = "add"


def plan_lines(
    settings: command_line.Settings, account: str, partition: str, bucket_policy: str = ""
) -> list[str]:
    """The names deploy.sh uses, as NAME=value lines. Every value is one line (the checks guarantee it)."""
    values = {
        "MODE": settings.mode,
        "REGION": settings.region,
        "PREFIX": settings.prefix,
        "PROFILE": settings.profile,
        "TOTAL_STEPS": str(MODES[settings.mode].steps),
        "ACCOUNT": account,
        "PARTITION": partition,
        "ARTIFACT_BUCKET": artifact_bucket(settings.prefix, account, settings.region),
        "EDGE_REGION": EDGE_REGION,
        "EDGE_VERSION_PARAMETER": edge_version_parameter(settings.prefix),
        "ORIGIN_MODE": MODES[settings.mode].origin_mode,
        **{stack_variable(role): stack_name(settings.prefix, role) for role in STACK_SUFFIXES},
        "EXISTING_BUCKET": settings.bucket,
        "BUCKET_POLICY": bucket_policy,
        # Not given: no override, so the stack keeps its value (CloudFormation's previous value).
        "ALLOWED_ORIGINS_OVERRIDE": (
            "" if settings.allowed_origins is None else f"{ALLOWED_ORIGINS_PARAMETER}={settings.allowed_origins}"
        ),
        "STREAMING_RESPONSES": "false" if settings.buffered else "true",
    }
    assert tuple(values) == PLAN_NAMES and not any("\n" in value for value in values.values())
    return [f"{name}={value}" for name, value in values.items()]


# --- AWS -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cloud:
    """Clients for one run: the profile deploy.sh was given (an explicit profile wins over AWS_* keys in the
    environment, as it does for the AWS CLI), AWS_ENDPOINT_URL honoured by boto3 itself."""

    session: boto3.Session

    @classmethod
    def for_profile(cls, profile: str) -> Cloud:
        return cls(boto3.Session(profile_name=profile or None))

    def client(self, service: str, region: str) -> Any:
        return self.session.client(service, region_name=region)


def credentials_source(profile: str) -> str:
    if profile:
        return f"profile {profile}"
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        return "AWS_ACCESS_KEY_ID from the environment"
    if os.environ.get("AWS_PROFILE"):
        return f"profile {os.environ['AWS_PROFILE']} (AWS_PROFILE)"
    return "profile default"


# botocore's errors for a request that never got an answer: no route, no DNS, a refused connection, a timeout.
UNREACHABLE_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)


def unreachable(error: BotoCoreError) -> str:
    return (
        f"cannot reach AWS: {one_line(str(error))} (check the network connection, a proxy, or AWS_ENDPOINT_URL; "
        "the credentials were not the problem)"
    )


def caller_identity(profile: str, region: str) -> tuple[Cloud, str, str]:
    """(clients, account ID, partition) of the credentials, or a one-line error naming where they came from; a
    network failure is reported as one, never as missing credentials."""
    source = credentials_source(profile)
    try:
        cloud = Cloud.for_profile(profile)
        identity = cloud.client("sts", region).get_caller_identity()
    except UNREACHABLE_ERRORS as error:
        raise DeployError(unreachable(error)) from error
    except ClientError as error:
        raise DeployError(f"no usable AWS credentials ({source}): {describe(error)}") from error
    except BotoCoreError as error:  # no credentials, unknown profile, no connection
        raise DeployError(f"no usable AWS credentials ({source}): {one_line(str(error))}") from error
    account, arn = identity.get("Account", ""), identity.get("Arn", "")
    if not re.fullmatch(r"\d{12}", account, re.ASCII):
        raise DeployError(f"sts get-caller-identity returned no account ID ({source})")
    return cloud, account, arn.split(":")[1] if arn.count(":") >= 2 else "aws"


# --- commands ----------------------------------------------------------------------------------------------


def preflight(args: argparse.Namespace) -> int:
    try:
        settings = command_line.parse(args.arguments)
    except command_line.HelpRequested:
        print(command_line.help_text(), end="")
        return 0
    command_line.check_names(settings)
    cloud, account, partition = caller_identity(settings.profile, settings.region)
    source = credentials_source(settings.profile)
    print(f"Account {account} ({source}), region {settings.region}, prefix {settings.prefix}")
    mode = MODES[settings.mode]
    stacks_state.check_stacks(
        lambda region: cloud.client("cloudformation", region), mode, settings.region, settings.prefix, settings.profile
    )
    check_served_bucket(cloud, mode, settings)
    bucket_policy = ""
    if settings.bucket:
        missing = missing_bucket_statements(cloud, mode, settings, account, partition)
        if missing is None:
            return 1
        bucket_policy = ADD_STATEMENTS if missing else ""
    plan = plan_lines(settings, account, partition, bucket_policy)
    Path(args.out).write_text("".join(line + "\n" for line in plan))
    return 0


def check_served_bucket(cloud: Cloud, mode: Mode, settings: command_line.Settings) -> None:
    """A stack keeps the bucket it was deployed with: switching would leave the one it created (retained) or
    serve another behind the same distribution, so deploy.sh refuses and says what to do."""
    stack = stack_name(settings.prefix, mode.bucket_stack)
    cloudformation = cloud.client("cloudformation", settings.region)
    if stacks_state.holds_nothing(stacks_state.stack_status(cloudformation, stack, settings.region)):
        return
    served = stacks_state.stack_parameters(cloudformation, stack, settings.region).get(EXISTING_BUCKET_PARAMETER, "")
    if served == settings.bucket:
        return
    now = f"serves bucket {served} (--bucket {served})" if served else "serves the bucket it created"
    wanted = f"--bucket {settings.bucket}" if settings.bucket else "no --bucket"
    again = f"run deploy.sh with --bucket {served}" if served else "run deploy.sh without --bucket"
    raise DeployError(
        f"stack {stack} in {settings.region} {now}, and this run has {wanted}; a stack keeps its bucket: "
        f"{again}, or deploy with another --prefix"
    )


def missing_bucket_statements(
    cloud: Cloud, mode: Mode, settings: command_line.Settings, account: str, partition: str
) -> list[dict] | None:
    """Checks the --bucket; the statements its policy lacks for the mode, or None after printing why deploy.sh
    stops (the bucket has a policy, statements are missing and --add-bucket-policy was not given)."""
    s3 = cloud.client("s3", settings.region)
    s3control = cloud.client("s3control", settings.region)
    existing_bucket.check_bucket(s3, s3control, settings.bucket, account, settings.region)
    required = existing_bucket.required_statements(
        mode.origin_mode, partition=partition, account=account, region=settings.region,
        prefix=settings.prefix, bucket=settings.bucket,
    )
    if not required:
        print(f"Bucket {settings.bucket}: served as it is (this mode needs nothing in its policy)")
        return []
    policy = existing_bucket.current_policy(s3, settings.bucket, account)
    missing = existing_bucket.missing_statements(policy, required, settings.bucket)
    if missing and policy is not None and not settings.add_bucket_policy:
        err(existing_bucket.refusal(settings.bucket, missing, command_line.command(settings)))
        print(existing_bucket.statements_document(missing), file=sys.stderr)
        return None
    print(f"Bucket {settings.bucket}: " + (
        f"{len(missing)} statement(s) to add to its policy in step 4" if missing
        else "its policy holds the statements this mode needs"
    ))
    return missing


def artifact(args: argparse.Namespace) -> int:
    s3 = Cloud.for_profile(args.profile).client("s3", args.region)
    bucket = artifact_bucket(args.prefix, args.account, args.region)
    artifacts.ensure_bucket(s3, bucket, args.account, args.region, args.partition)
    artifacts.upload(s3, bucket, args.key, Path(args.file), args.account)
    return 0


def bucket_policy(args: argparse.Namespace) -> int:
    mode: Mode = MODES[args.mode]
    if not args.bucket:
        raise UsageError("bucket-policy: --bucket is required", "")
    s3 = Cloud.for_profile(args.profile).client("s3", args.region)
    required = existing_bucket.required_statements(
        mode.origin_mode, partition=args.partition, account=args.account, region=args.region,
        prefix=args.prefix, bucket=args.bucket,
    )
    added = existing_bucket.add_statements(s3, args.bucket, args.account, required)
    if added:
        print(f"Added {', '.join(added)} to the policy of bucket {args.bucket} (every statement it had is kept)")
    else:
        print(f"The policy of bucket {args.bucket} holds the statements this mode needs")
    return 0


def refused_cleanup(args: argparse.Namespace) -> int:
    cloud = Cloud.for_profile(args.profile)
    done = refusal.clean_up(
        cloud.client("cloudformation", args.region), cloud.client("s3", args.region),
        args.stack, args.region, args.account, args.bucket,
    )
    for line in done:
        err(line)
    return 0


def failed_events(args: argparse.Namespace) -> int:
    cloudformation = Cloud.for_profile(args.profile).client("cloudformation", args.stack_region)
    fallback = stacks_state.fallback_command(args.region, args.prefix, args.profile, args.bucket)
    stacks_state.print_failed_events(cloudformation, args.stack, args.stack_region, fallback)
    return 0


# How much of an unexpected SSM value an error quotes.
QUOTED_VALUE_MAX = 200


def edge_function_version_prefix(partition: str, account: str, prefix: str) -> str:
    """The ARN of this account's edge signer in the edge region, up to its version number."""
    return f"arn:{partition}:lambda:{EDGE_REGION}:{account}:function:{prefix}{EDGE_FUNCTION_SUFFIX}:"


def checked_edge_version(value: str, name: str, partition: str, account: str, prefix: str) -> str:
    """The SSM value when it is a numbered version of this account's <prefix>-edge-signer in the edge region,
    the only function the cdn stack may run on every origin request; any other value is an error."""
    expected = edge_function_version_prefix(partition, account, prefix)
    if re.fullmatch(EDGE_VERSION_ARN_PATTERN, value, re.ASCII) and re.fullmatch(
        re.escape(expected) + r"[1-9][0-9]*", value, re.ASCII
    ):
        return value
    shown = one_line(value)
    shown = shown if len(shown) <= QUOTED_VALUE_MAX else shown[:QUOTED_VALUE_MAX] + "..."
    raise DeployError(
        f"SSM parameter {name} in {EDGE_REGION} holds '{shown}', not a version of this account's edge function "
        f"({expected}<n>); the cdn stack was not changed: deploy the lambda-edge stack again (or put its "
        "EdgeFunctionVersionArn output into the parameter), then run deploy.sh again"
    )


def edge_version(args: argparse.Namespace) -> int:
    name = edge_version_parameter(args.prefix)
    ssm = Cloud.for_profile(args.profile).client("ssm", EDGE_REGION)
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as error:
        raise DeployError(f"cannot read SSM parameter {name} in {EDGE_REGION}: {describe(error)}") from error
    print(checked_edge_version(value, name, args.partition, args.account, args.prefix))
    return 0


def output(outputs: dict[str, str], stack: str, region: str, key: str) -> str:
    value = outputs.get(key)
    if not value:
        raise DeployError(f"stack {stack} in {region} has no output {key}")
    return value


def outputs(args: argparse.Namespace) -> int:
    mode: Mode = MODES[args.mode]
    cloudformation = Cloud.for_profile(args.profile).client("cloudformation", args.region)
    bucket_stack = stack_name(args.prefix, mode.bucket_stack)
    cdn_stack = stack_name(args.prefix, mode.distribution_stack)
    bucket_outputs = stacks_state.stack_outputs(cloudformation, bucket_stack, args.region)
    bucket = output(bucket_outputs, bucket_stack, args.region, "BucketName")
    cdn_outputs = stacks_state.stack_outputs(cloudformation, cdn_stack, args.region)
    domain = output(cdn_outputs, cdn_stack, args.region, "DistributionDomainName")
    distribution = output(cdn_outputs, cdn_stack, args.region, "DistributionId")
    print(
        f"""Bucket:         {bucket}
CloudFront URL: https://{domain}/
Distribution:   {distribution} (a new distribution takes a few minutes to reach every edge location)

Upload an image, then fetch it without its metadata, and its EXIF as JSON:
  aws s3 cp photo.jpg s3://{bucket}/photo.jpg --region {args.region}{stacks_state.profile_flag(args.profile)}
  curl -o photo-clean.jpg 'https://{domain}/photo.jpg'
  curl 'https://{domain}/photo.jpg?showExif=true'"""
    )
    print_notes(Cloud.for_profile(args.profile), mode, args.region, args.prefix, args.profile)
    return 0


def print_notes(cloud: Cloud, mode: Mode, region: str, prefix: str, profile: str) -> None:
    """On stderr: a warning for each of the mode's stacks that answers ?showExif=true with every field (its
    current value: deploy.sh does not set ExifQuery), a note for each stack of another mode left unused."""
    for spec in mode.stacks:
        stack, stack_region = stack_name(prefix, spec.role), spec.region(region)
        parameters = stacks_state.stack_parameters(cloud.client("cloudformation", stack_region), stack, stack_region)
        warning = notes.exif_query_warning(stack, stack_region, spec.role, parameters, profile)
        if warning:
            err(warning)
    for spec, other in leftover_stacks(mode):
        stack, stack_region = stack_name(prefix, spec.role), spec.region(region)
        status = stacks_state.stack_status(cloud.client("cloudformation", stack_region), stack, stack_region)
        if status is not None:
            err(notes.unused_edge_stack_note(stack, stack_region, status, other, mode, prefix, profile))


# --- command line ------------------------------------------------------------------------------------------


PREFLIGHT_USAGE = "usage: python -m tools.deploy preflight --out FILE -- [deploy.sh's arguments]"


class Parser(argparse.ArgumentParser):
    """Usage errors as one `deploy.sh:` line, exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", one_line(self.format_usage()))


def parser() -> Parser:
    top = Parser(prog="python -m tools.deploy", description="deploy.sh's Python side", allow_abbrev=False)
    commands = top.add_subparsers(dest="command", required=True, parser_class=Parser)
    first = commands.add_parser("preflight", allow_abbrev=False)
    first.add_argument("--out", required=True, help="the plan file to write")
    first.set_defaults(run=preflight)

    context = Parser(add_help=False, allow_abbrev=False)
    context.add_argument("--mode", required=True, choices=sorted(MODES))
    context.add_argument("--region", required=True)
    context.add_argument("--prefix", required=True)
    context.add_argument("--profile", default="")
    context.add_argument("--bucket", default="")
    step = commands.add_parser("artifact", parents=[context], allow_abbrev=False)
    step.add_argument("--account", required=True)
    step.add_argument("--partition", required=True)
    step.add_argument("--key", required=True)
    step.add_argument("--file", required=True)
    step.set_defaults(run=artifact)
    report = commands.add_parser("failed-events", parents=[context], allow_abbrev=False)
    report.add_argument("--stack", required=True)
    report.add_argument("--stack-region", required=True)
    report.set_defaults(run=failed_events)
    policy = commands.add_parser("bucket-policy", parents=[context], allow_abbrev=False)
    policy.add_argument("--account", required=True)
    policy.add_argument("--partition", required=True)
    policy.set_defaults(run=bucket_policy)
    cleanup = commands.add_parser("refused-cleanup", parents=[context], allow_abbrev=False)
    cleanup.add_argument("--account", required=True)
    cleanup.add_argument("--stack", required=True)
    cleanup.set_defaults(run=refused_cleanup)
    signer = commands.add_parser("edge-version", parents=[context], allow_abbrev=False)
    signer.add_argument("--account", required=True)
    signer.add_argument("--partition", required=True)
    signer.set_defaults(run=edge_version)
    commands.add_parser("outputs", parents=[context], allow_abbrev=False).set_defaults(run=outputs)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # deploy.sh's own arguments follow the first `--` untouched: argparse would read its options as ours.
    split = argv.index("--") if "--" in argv else len(argv)
    ours, theirs = argv[:split], argv[split + 1 :]
    try:
        args = parser().parse_args(ours)
        if args.command == "preflight" and split == len(argv):
            raise UsageError("preflight: deploy.sh's arguments follow --", PREFLIGHT_USAGE)
        args.arguments = theirs
        return args.run(args)
    except UsageError as error:
        err(f"{error} ({error.usage})" if error.usage else str(error))
        return 2
    except DeployError as error:
        err(str(error))
        return 1
    except ClientError as error:
        err(f"AWS refused {error.operation_name}: {describe(error)}")
        return 1
    except UNREACHABLE_ERRORS as error:
        err(unreachable(error))
        return 1
    except (NoCredentialsError, ProfileNotFound) as error:
        err(f"no usable AWS credentials: {one_line(str(error))}")
        return 1
    except BotoCoreError as error:
        err(f"an AWS call failed: {one_line(str(error))}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
