"""deploy.sh --bucket: a bucket the user already has. The checks that it can be served (it exists, in the
region, owned by the account, ACLs off, public access blocked, no KMS default encryption the transform could not
decrypt), and its bucket policy: the statements the mode needs, which deploy.sh adds to the policy without ever
dropping or changing a statement already there. Nothing here reads, writes or deletes an object."""

from __future__ import annotations

import json
import shlex
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stacks.policies import existing_bucket_statements, plain
from tools.deploy.artifacts import DEFAULT_LOCATION, NOT_FOUND_CODES
from tools.deploy.report import DeployError, describe, error_code

# S3 reports buckets of the first EU region with the legacy location "EU".
# Source: S3 API Reference, API_GetBucketLocation.html (LocationConstraint valid values).
LEGACY_LOCATIONS = {"EU": "eu-west-1"}
OBJECT_OWNERSHIP_REQUIRED = "BucketOwnerEnforced"
PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
# Default encryption the transform's role could not read: it holds no kms:Decrypt.
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})
# Error codes S3 answers when a bucket has no such configuration (so its default applies).
NO_OWNERSHIP_CONTROLS = "OwnershipControlsNotFoundError"
NO_PUBLIC_ACCESS_BLOCK = "NoSuchPublicAccessBlockConfiguration"
NO_ENCRYPTION = "ServerSideEncryptionConfigurationNotFoundError"
NO_POLICY = "NoSuchBucketPolicy"
POLICY_VERSION = "2012-10-17"


def _call(what: str, bucket: str, call: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return call(Bucket=bucket, **kwargs)
    except ClientError as error:
        raise DeployError(f"cannot read the {what} of bucket {bucket}: {describe(error)}") from error


def _read(what: str, bucket: str, call: Any, missing_code: str, **kwargs: Any) -> dict[str, Any] | None:
    """The configuration, or None when the bucket has none."""
    try:
        return call(Bucket=bucket, **kwargs)
    except ClientError as error:
        if error_code(error) == missing_code:
            return None
        raise DeployError(f"cannot read the {what} of bucket {bucket}: {describe(error)}") from error


def check_exists(s3: Any, bucket: str, account: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as error:
        if error_code(error) in NOT_FOUND_CODES:
            raise DeployError(f"bucket {bucket} does not exist: --bucket names a bucket you already have") from error
        raise DeployError(
            f"bucket {bucket} is not a bucket of account {account} these credentials can read "
            f"({describe(error)}): --bucket serves a bucket of the deploying account"
        ) from error


def bucket_region(s3: Any, bucket: str, account: str) -> str:
    location = _call("location", bucket, s3.get_bucket_location, ExpectedBucketOwner=account).get(
        "LocationConstraint"
    )
    return LEGACY_LOCATIONS.get(location or "", location or DEFAULT_LOCATION)


def check_object_ownership(s3: Any, bucket: str, account: str) -> None:
    controls = _read(
        "Object Ownership", bucket, s3.get_bucket_ownership_controls, NO_OWNERSHIP_CONTROLS, ExpectedBucketOwner=account
    )
    rules = (controls or {}).get("OwnershipControls", {}).get("Rules", [])
    setting = rules[0].get("ObjectOwnership") if rules else "none (ACLs enabled)"
    if setting != OBJECT_OWNERSHIP_REQUIRED:
        raise DeployError(
            f"bucket {bucket} has Object Ownership {setting}: with ACLs enabled an object another account "
            f"uploaded stays that account's and cannot be served; set {OBJECT_OWNERSHIP_REQUIRED} with 'aws s3api "
            f"put-bucket-ownership-controls --bucket {bucket} --ownership-controls "
            f"Rules=[{{ObjectOwnership={OBJECT_OWNERSHIP_REQUIRED}}}]', then run deploy.sh again"
        )


def account_public_access_block(s3control: Any, account: str) -> dict[str, bool]:
    """The account's own Block Public Access settings; all off when they cannot be read."""
    try:
        answer = s3control.get_public_access_block(AccountId=account)
    except (ClientError, BotoCoreError):
        return {}
    return answer.get("PublicAccessBlockConfiguration", {})


def check_public_access_blocked(s3: Any, s3control: Any, bucket: str, account: str) -> None:
    """All four Block Public Access settings on, for the bucket or the account: otherwise the originals, metadata
    included, might be readable without going through the stripping transform at all."""
    answer = _read(
        "Block Public Access settings", bucket, s3.get_public_access_block, NO_PUBLIC_ACCESS_BLOCK,
        ExpectedBucketOwner=account,
    )
    settings = (answer or {}).get("PublicAccessBlockConfiguration", {})
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if not settings.get(flag)]
    if off:
        account_settings = account_public_access_block(s3control, account)
        off = [flag for flag in off if not account_settings.get(flag)]
    if off:
        flags = ",".join(f"{flag}=true" for flag in PUBLIC_ACCESS_FLAGS)
        raise DeployError(
            f"bucket {bucket} does not block all public access ({', '.join(off)} off): its originals, metadata "
            f"included, could be read directly; turn it on with 'aws s3api put-public-access-block --bucket {bucket} "
            f"--public-access-block-configuration {flags}', then run deploy.sh again"
        )


def check_default_encryption(s3: Any, bucket: str, account: str) -> None:
    answer = _read(
        "default encryption", bucket, s3.get_bucket_encryption, NO_ENCRYPTION, ExpectedBucketOwner=account
    )
    rules = (answer or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    algorithms = {r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules}
    if algorithms & KMS_ALGORITHMS:
        raise DeployError(
            f"bucket {bucket} encrypts new objects with SSE-KMS by default: the transform's role has no "
            "kms:Decrypt, so it could not read them; serve a bucket with SSE-S3 (AES256) default encryption"
        )


def check_bucket(s3: Any, s3control: Any, bucket: str, account: str, region: str) -> None:
    """Every check, in order; the first failure is a DeployError of one line. Reads only."""
    check_exists(s3, bucket, account)
    located = bucket_region(s3, bucket, account)
    if located != region:
        raise DeployError(
            f"bucket {bucket} is in {located}, not {region}: the function and the access points must be in the "
            f"bucket's region, so deploy to {located} (./deploy.sh {located} ... --bucket {bucket})"
        )
    check_object_ownership(s3, bucket, account)
    check_public_access_blocked(s3, s3control, bucket, account)
    check_default_encryption(s3, bucket, account)


# --- the bucket policy: pure functions ----------------------------------------------------------------------


def required_statements(
    origin_mode: str, *, partition: str, account: str, region: str, prefix: str, bucket: str
) -> list[dict[str, Any]]:
    statements = existing_bucket_statements(
        origin_mode, partition=partition, account=account, region=region, prefix=prefix, bucket=bucket
    )
    return [plain(statement) for statement in statements]


def _normal(node: Any) -> Any:
    """A policy element compared the way IAM reads it: a single value is a list of one, lists are unordered."""
    if not isinstance(node, dict):
        return node
    return {key: _normal_value(value) for key, value in node.items()}


def _normal_value(value: Any) -> Any:
    if isinstance(value, dict):
        return _normal(value)
    items = value if isinstance(value, list) else [value]
    return sorted((_normal(item) for item in items), key=lambda item: json.dumps(item, sort_keys=True))


def _same(left: dict[str, Any], right: dict[str, Any]) -> bool:
    return _normal(left) == _normal(right)


def statements_of(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not policy:
        return []
    statements = policy.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def missing_statements(
    policy: dict[str, Any] | None, required: list[dict[str, Any]], bucket: str
) -> list[dict[str, Any]]:
    """The required statements the policy does not hold yet. A statement of the policy with the same Sid but
    other content is an error: deploy.sh never changes a statement it finds."""
    present = statements_of(policy)
    missing = []
    for statement in required:
        same_sid = [s for s in present if s.get("Sid") == statement["Sid"]]
        if any(_same(s, statement) for s in same_sid):
            continue
        if same_sid:
            raise DeployError(
                f"the bucket policy of {bucket} has a statement {statement['Sid']} other than the one this mode "
                f"needs, and deploy.sh changes no statement it finds: make it {json.dumps(statement, sort_keys=True)}"
                ", then run deploy.sh again"
            )
        missing.append(statement)
    return missing


def merged_policy(policy: dict[str, Any] | None, missing: list[dict[str, Any]]) -> dict[str, Any]:
    """The policy with the missing statements appended; every key and statement it had is kept as it was."""
    if not policy:
        return {"Version": POLICY_VERSION, "Statement": list(missing)}
    return {**policy, "Statement": [*statements_of(policy), *missing]}


def statements_document(statements: list[dict[str, Any]]) -> str:
    """What deploy.sh prints for the user to add: the statements, as the policy's Statement list holds them."""
    return json.dumps({"Statement": statements}, indent=2, sort_keys=True)


# --- the bucket policy: reading and writing ------------------------------------------------------------------


def current_policy(s3: Any, bucket: str, account: str) -> dict[str, Any] | None:
    answer = _read("policy", bucket, s3.get_bucket_policy, NO_POLICY, ExpectedBucketOwner=account)
    if answer is None:
        return None
    try:
        policy = json.loads(answer["Policy"])
    except (KeyError, ValueError) as error:
        raise DeployError(f"the bucket policy of {bucket} is not a JSON document") from error
    if not isinstance(policy, dict):
        raise DeployError(f"the bucket policy of {bucket} is not a JSON object")
    return policy


def refusal(bucket: str, missing: list[dict[str, Any]], command: list[str]) -> str:
    """One line: why deploy.sh stops and the two ways on; the statements follow it (statements_document)."""
    again = " ".join(shlex.quote(part) for part in [*command, "--add-bucket-policy"])
    sids = ", ".join(statement["Sid"] for statement in missing)
    return (
        f"bucket {bucket} already has a policy, which deploy.sh does not replace; this mode needs "
        f"{len(missing)} more statement(s) in it ({sids}): add the ones below to its Statement list, or run "
        f"'{again}' to have deploy.sh add them (keeping every statement it has); nothing was deployed"
    )


def add_statements(s3: Any, bucket: str, account: str, required: list[dict[str, Any]]) -> list[str]:
    """Adds the missing statements to the bucket's policy (creating one if it has none); the Sids added."""
    policy = current_policy(s3, bucket, account)
    missing = missing_statements(policy, required, bucket)
    if not missing:
        return []
    document = json.dumps(merged_policy(policy, missing), sort_keys=True)
    try:
        s3.put_bucket_policy(Bucket=bucket, Policy=document, ExpectedBucketOwner=account)
    except ClientError as error:
        raise DeployError(f"cannot add statements to the bucket policy of {bucket}: {describe(error)}") from error
    return [statement["Sid"] for statement in missing]
