"""deploy.sh's command line: parsing, the help text and the checks on the names it was given (no AWS call)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import botocore.session

from stacks.common import (
    BUCKET_NAME_PATTERN,
    DEFAULT_PREFIX,
    FUNCTION_URL_UNAVAILABLE_REGIONS,
    PREFIX_PATTERN,
    REGION_NAME_PATTERN,
)
from stacks.distribution import ALLOWED_ORIGINS_PATTERN
from tools.deploy.modes import DEFAULT_MODE, FALLBACK_MODE, MODES, names
from tools.deploy.help_text import USAGE, help_text  # noqa: F401  (help_text: deploy.sh's -h through preflight)
from tools.deploy.report import DeployError, UsageError

VALUE_OPTIONS = ("--mode", "--prefix", "--profile", "--bucket", "--allowed-origins")
FLAG_OPTIONS = ("--add-bucket-policy", "--buffered")
# --allowed-origins none: no CORS header (an empty value would read as a forgotten one).
NO_ORIGINS = "none"


@dataclass(frozen=True)
class Settings:
    region: str
    mode: str = DEFAULT_MODE
    prefix: str = DEFAULT_PREFIX
    profile: str = ""  # empty: AWS_PROFILE, else the usual credential chain
    bucket: str = ""  # empty: the stacks create the bucket
    add_bucket_policy: bool = False  # add the mode's statements to the bucket's existing policy
    # None: keep the stack's AllowedOrigins (a new stack: none); "": none; else the origins, comma-separated.
    allowed_origins: str | None = None
    buffered: bool = False  # function-url: the buffered handler instead of streaming


class HelpRequested(Exception):
    """-h or --help: print the help and stop, successfully."""


def parse(argv: list[str]) -> Settings:
    """deploy.sh's arguments, in order: the first problem is the one reported. Raises HelpRequested, or
    UsageError for a command line deploy.sh cannot read."""
    options: dict[str, str] = {}
    flags: set[str] = set()
    positional: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, has_value, value = arg.partition("=")
        if arg in ("-h", "--help"):
            raise HelpRequested()
        if arg in FLAG_OPTIONS:
            flags.add(arg)
        elif arg in VALUE_OPTIONS:
            if not args or not args[0]:
                raise UsageError(f"{arg} needs a value", USAGE)
            options[arg] = args.pop(0)
        elif has_value and name in VALUE_OPTIONS:
            # --prefix= falls through to the prefix check; an empty profile would silently mean the default.
            if name in ("--profile", "--bucket", "--allowed-origins") and not value:
                raise UsageError(f"{name} needs a value", USAGE)
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
    if "--add-bucket-policy" in flags and "--bucket" not in options:
        raise UsageError("--add-bucket-policy goes with --bucket NAME", USAGE)
    if "--buffered" in flags and mode != FALLBACK_MODE:
        raise UsageError(f"--buffered is an option of --mode {FALLBACK_MODE} only", USAGE)
    origins = options.get("--allowed-origins")
    return Settings(
        region=positional[0],
        mode=mode,
        prefix=options.get("--prefix", DEFAULT_PREFIX),
        profile=options.get("--profile", ""),
        bucket=options.get("--bucket", ""),
        add_bucket_policy="--add-bucket-policy" in flags,
        allowed_origins="" if origins == NO_ORIGINS else origins,
        buffered="--buffered" in flags,
    )


def command(settings: Settings) -> list[str]:
    """deploy.sh's command line for these settings, options at their defaults left out."""
    words = ["./deploy.sh", settings.region]
    if settings.mode != DEFAULT_MODE:
        words += ["--mode", settings.mode]
    if settings.prefix != DEFAULT_PREFIX:
        words += ["--prefix", settings.prefix]
    if settings.profile:
        words += ["--profile", settings.profile]
    if settings.bucket:
        words += ["--bucket", settings.bucket]
    if settings.allowed_origins is not None:
        words += ["--allowed-origins", settings.allowed_origins or NO_ORIGINS]
    if settings.buffered:
        words += ["--buffered"]
    return words


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
    if settings.bucket and not re.fullmatch(BUCKET_NAME_PATTERN, settings.bucket, re.ASCII):
        raise DeployError(
            f"'{settings.bucket}' is not an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit"
        )
    origins = settings.allowed_origins
    if origins and not re.fullmatch(ALLOWED_ORIGINS_PATTERN, origins, re.ASCII):
        raise DeployError(
            f"--allowed-origins '{origins}' is not valid: use * or origins such as https://example.com "
            "(scheme and host, lowercase, optional :port, no path) separated by commas without spaces, or none"
        )


def known_regions() -> set[str]:
    session = botocore.session.get_session()
    return {
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("cloudformation", partition)
    }
