"""deploy.sh's command line: parsing, the help text and the checks on the names it was given (no AWS call)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import botocore.session

from stacks.common import (
    DEFAULT_PREFIX,
    EDGE_REGION,
    FUNCTION_URL_UNAVAILABLE_REGIONS,
    PREFIX_PATTERN,
    REGION_NAME_PATTERN,
)
from tools.deploy.modes import DEFAULT_MODE, MODES, names
from tools.deploy.report import DeployError, UsageError

USAGE = f"usage: ./deploy.sh <region> [--mode {'|'.join(MODES)}] [--prefix NAME] [--profile NAME]"
VALUE_OPTIONS = ("--mode", "--prefix", "--profile")


@dataclass(frozen=True)
class Settings:
    region: str
    mode: str = DEFAULT_MODE
    prefix: str = DEFAULT_PREFIX
    profile: str = ""  # empty: AWS_PROFILE, else the usual credential chain


class HelpRequested(Exception):
    """-h or --help: print the help and stop, successfully."""


def help_text() -> str:
    unavailable = FUNCTION_URL_UNAVAILABLE_REGIONS
    return f"""{USAGE}

Deploys the image metadata stripper into the AWS account of your credentials, in one of three modes.

--mode olap (the default): S3 Object Lambda, three stacks
  <prefix>-storage      in <region>     the private bucket, the transform Lambda, the S3 Object Lambda access point
  <prefix>-lambda-edge  in {EDGE_REGION}    the Lambda@Edge signer (CloudFront runs edge functions only from {EDGE_REGION})
  <prefix>-cdn          in <region>     the CloudFront distribution
  Since 2025-11-07 S3 Object Lambda accepts only AWS accounts that used it before.

--mode olap-oac: S3 Object Lambda signed for by CloudFront (Origin Access Control), two stacks
  <prefix>-storage      in <region>     as above (OriginMode=olap-oac)
  <prefix>-cdn-oac      in <region>     the CloudFront distribution and the Object Lambda access point's policy
  The same accounts as --mode olap. One prefix runs one of the two: delete the other mode's distribution
  stack (<prefix>-cdn or <prefix>-cdn-oac) before switching; deploy.sh says how.

--mode function-url: a Lambda function URL behind CloudFront, for any AWS account, one stack
  <prefix>-fnurl        in <region>     the private bucket, the transform Lambda and its function URL,
                                        the CloudFront distribution (Origin Access Control)
  Not available where Lambda has no function URLs (at the time of writing):
    {' '.join(unavailable[:6])}
    {' '.join(unavailable[6:])}

Every mode packages the transform into an artifact bucket <prefix>-artifacts-<account>-<region> first.
Run it again after any change: unchanged stacks are left alone. It never deletes anything.

  <region>        where the bucket, the transform and the distribution's stack live, e.g. eu-west-1
  --mode MODE     {DEFAULT_MODE} (default), {names([m for m in MODES if m != DEFAULT_MODE])}
  --prefix NAME   names the stacks and resources (default {DEFAULT_PREFIX}; 3-20 of a-z, 0-9 and -,
                  starting with a letter, not ending with -)
  --profile NAME  the AWS CLI profile to use (default: AWS_PROFILE, else the CLI's usual credentials)
  -h, --help      this help

AWS_PROFILE, the standard AWS_* credential variables and AWS_ENDPOINT_URL are honoured.
Exit codes: 0 deployed, 1 a check or a step failed, 2 usage error.
"""


def parse(argv: list[str]) -> Settings:
    """deploy.sh's arguments, in order: the first problem is the one reported. Raises HelpRequested, or
    UsageError for a command line deploy.sh cannot read."""
    options: dict[str, str] = {}
    positional: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, has_value, value = arg.partition("=")
        if arg in ("-h", "--help"):
            raise HelpRequested()
        if arg in VALUE_OPTIONS:
            if not args or not args[0]:
                raise UsageError(f"{arg} needs a value", USAGE)
            options[arg] = args.pop(0)
        elif has_value and name in VALUE_OPTIONS:
            # --prefix= falls through to the prefix check; an empty profile would silently mean the default.
            if name == "--profile" and not value:
                raise UsageError("--profile needs a value", USAGE)
            options[name] = value
        elif arg == "--":
            positional.extend(args)
            args = []
        elif arg.startswith("-"):
            raise UsageError(f"unknown option '{arg}'", USAGE)
        else:
            positional.append(arg)
    if not positional:
        raise UsageError("missing <region>", USAGE)
    if len(positional) > 1:
        raise UsageError(f"unexpected argument '{positional[1]}'", USAGE)
    mode = options.get("--mode", DEFAULT_MODE)
    if mode not in MODES:
        raise UsageError(f"unknown mode '{mode}': use {names(list(MODES))}", USAGE)
    return Settings(
        region=positional[0],
        mode=mode,
        prefix=options.get("--prefix", DEFAULT_PREFIX),
        profile=options.get("--profile", ""),
    )


def check_names(settings: Settings) -> None:
    """Refuse names the templates or AWS would refuse later, before any AWS call."""
    region, prefix = settings.region, settings.prefix
    if not re.fullmatch(REGION_NAME_PATTERN, region, re.ASCII):
        raise DeployError(f"'{region}' is not an AWS region name (expected something like eu-west-1)")
    if not re.fullmatch(PREFIX_PATTERN, prefix, re.ASCII):
        raise DeployError(
            f"prefix '{prefix}' is not valid: use 3-20 lowercase letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen"
        )
    if MODES[settings.mode].needs_function_urls and region in FUNCTION_URL_UNAVAILABLE_REGIONS:
        raise DeployError(
            f"Lambda function URLs are not available in {region} (at the time of writing), "
            f"so --mode {settings.mode} cannot be deployed there: choose another region"
        )
    # The pattern admits names no region has (xx-moon-1); asking AWS there would fail as a connection
    # error and look like a credentials problem. botocore's endpoint data lists every region, offline.
    if region not in known_regions():
        raise DeployError(
            f"'{region}' is not an AWS region (not in the region list of the installed botocore; if the region "
            "is new, upgrade boto3 in requirements.txt and run 'make')"
        )
    if "\n" in settings.profile:
        raise DeployError("--profile must be one line")


def known_regions() -> set[str]:
    session = botocore.session.get_session()
    return {
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("cloudformation", partition)
    }
