"""`anon-s3ol invalidate`: make CloudFront forget photos that were deleted or replaced.

CloudFront keeps a served photo (and its ?showExif=true answer, a separate cache entry)
for up to a day. The distribution is found from the stacks deploy.sh made: the output
DistributionId of <prefix>-cdn, <prefix>-cdn-oac or <prefix>-fnurl in the region,
whichever exist. Each KEY becomes one invalidation path, /KEY*, which covers the image
and every query variant (CloudFront counts a wildcard path as one path); a KEY that
already ends with * is used as it is, so 'photos/*' clears a folder.
"""

from __future__ import annotations

import time
from typing import TextIO
from urllib.parse import quote

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from .errors import CommandError
from .s3_access import NETWORK_ERRORS, client_error_code

# The stacks that output DistributionId, one per deploy mode (tools/deploy/modes.py's
# distribution_stack, named with stacks.common.STACK_SUFFIXES; a test checks they agree).
DISTRIBUTION_STACK_SUFFIXES = ("-cdn", "-cdn-oac", "-fnurl")
DISTRIBUTION_OUTPUT = "DistributionId"
WILDCARD = "*"


def invalidation_path(key: str) -> str:
    """/KEY*, percent-encoded as the viewer's URL is (unreserved characters and / kept)."""
    key = key.lstrip("/")
    if key.endswith(WILDCARD):
        return "/" + quote(key[: -len(WILDCARD)], safe="/~") + WILDCARD
    return "/" + quote(key, safe="/~") + WILDCARD


def _failure(error: Exception, what: str) -> CommandError:
    if isinstance(error, NETWORK_ERRORS):
        return CommandError(f"{what}: cannot reach AWS: network failure ({type(error).__name__})")
    if isinstance(error, ClientError):
        return CommandError(f"{what}: AWS answered {client_error_code(error)}: {error.response.get('Error', {}).get('Message', '')}")
    if "credentials" in type(error).__name__.lower():
        return CommandError(f"{what}: no AWS credentials found (set AWS_PROFILE or run 'aws configure')")
    return CommandError(f"{what}: {type(error).__name__}: {error}")


def distribution_ids(cloudformation, prefix: str, region: str) -> list[tuple[str, str]]:  # noqa: ANN001
    """(stack, distribution ID) for each of the prefix's distribution stacks that exists."""
    found = []
    for suffix in DISTRIBUTION_STACK_SUFFIXES:
        stack = prefix + suffix
        try:
            described = cloudformation.describe_stacks(StackName=stack)["Stacks"]
        except ClientError as error:
            if client_error_code(error) == "ValidationError" and "does not exist" in str(error):
                continue
            raise _failure(error, f"stack {stack} in {region}") from None
        except BotoCoreError as error:
            raise _failure(error, f"stack {stack} in {region}") from None
        outputs = {output["OutputKey"]: output["OutputValue"] for stack_ in described for output in stack_.get("Outputs", ())}
        if DISTRIBUTION_OUTPUT in outputs:
            found.append((stack, outputs[DISTRIBUTION_OUTPUT]))
    return found


def invalidate(keys: list[str], *, region: str, prefix: str, profile: str | None, out: TextIO) -> int:
    paths = sorted({invalidation_path(key) for key in keys})
    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
        cloudformation = session.client("cloudformation")
        cloudfront = session.client("cloudfront")
    except ProfileNotFound:
        raise CommandError(f"the AWS profile {profile!r} is not configured") from None
    stacks = distribution_ids(cloudformation, prefix, region)
    if not stacks:
        looked = ", ".join(prefix + suffix for suffix in DISTRIBUTION_STACK_SUFFIXES)
        msg = f"no distribution of prefix {prefix} in {region}: none of the stacks {looked} has a {DISTRIBUTION_OUTPUT} output (check --region and --prefix)"
        raise CommandError(msg)
    for stack, distribution in stacks:
        try:
            answer = cloudfront.create_invalidation(
                DistributionId=distribution,
                InvalidationBatch={
                    "Paths": {"Quantity": len(paths), "Items": paths},
                    "CallerReference": f"anon-s3ol-{time.time_ns()}",
                },
            )
        except (ClientError, BotoCoreError) as error:
            raise _failure(error, f"distribution {distribution} (stack {stack})") from None
        invalidation = answer["Invalidation"]
        print(
            f"{stack}: distribution {distribution}: invalidation {invalidation['Id']} ({invalidation['Status']}) for {' '.join(paths)}",
            file=out,
            flush=True,
        )
    return 0
