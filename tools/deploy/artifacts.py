"""The artifact bucket that holds the transform's zip: private, encrypted, TLS only; the zip uploaded once
per content hash. Nothing here deletes anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from stacks.policies import artifact_bucket_policy
from tools.deploy.report import DeployError, describe, error_code

# us-east-1 is S3's default location and rejects an explicit LocationConstraint.
# Source: S3 API Reference, API_CreateBucket.html (CreateBucketConfiguration).
DEFAULT_LOCATION = "us-east-1"
# HeadBucket and HeadObject have no body, so S3's error code is the HTTP status.
NOT_FOUND_CODES = frozenset({"404", "NoSuchBucket", "NoSuchKey", "NotFound"})
BLOCK_ALL_PUBLIC_ACCESS = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
SSE_S3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


def bucket_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def policy_json(partition: str, bucket: str) -> str:
    return artifact_bucket_policy(bucket_arn(partition, bucket)).to_json(indent=None, sort_keys=True)


def bucket_exists(s3: Any, bucket: str, account: str) -> bool:
    """True when the bucket exists and belongs to the account; a 403 (another account's bucket, or no
    permission) is an error, never read as "missing"."""
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as error:
        if error_code(error) in NOT_FOUND_CODES:
            return False
        raise DeployError(f"cannot use the artifact bucket {bucket}: {describe(error)}") from error
    return True


def create_bucket(s3: Any, bucket: str, region: str) -> None:
    location = {} if region == DEFAULT_LOCATION else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=bucket, ObjectOwnership="BucketOwnerEnforced", **location)
    except ClientError as error:
        # Created by a concurrent run of deploy.sh in the meantime: ours, carry on.
        if error_code(error) != "BucketAlreadyOwnedByYou":
            raise DeployError(f"cannot create the artifact bucket {bucket}: {describe(error)}") from error


def configure_bucket(s3: Any, bucket: str, partition: str) -> None:
    """Applied on every run, so that a bucket left half-configured by an interrupted run is completed."""
    try:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL_PUBLIC_ACCESS)
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=SSE_S3)
        s3.put_bucket_policy(Bucket=bucket, Policy=policy_json(partition, bucket))
    except ClientError as error:
        raise DeployError(f"cannot configure the artifact bucket {bucket}: {describe(error)}") from error


def ensure_bucket(s3: Any, bucket: str, account: str, region: str, partition: str) -> None:
    if bucket_exists(s3, bucket, account):
        print("Bucket exists")
    else:
        print("Creating the bucket")
        create_bucket(s3, bucket, region)
    configure_bucket(s3, bucket, partition)
    print("Public access blocked, default encryption on, TLS-only policy set")


def upload(s3: Any, bucket: str, key: str, path: Path, account: str) -> None:
    """Uploads the zip unless its key (named by its content hash) is already there."""
    try:
        s3.head_object(Bucket=bucket, Key=key, ExpectedBucketOwner=account)
        print(f"s3://{bucket}/{key} is already uploaded")
        return
    except ClientError as error:
        if error_code(error) not in NOT_FOUND_CODES:
            raise DeployError(f"cannot check s3://{bucket}/{key}: {describe(error)}") from error
    try:
        with path.open("rb") as body:
            s3.put_object(Bucket=bucket, Key=key, Body=body, ExpectedBucketOwner=account)
    except OSError as error:
        raise DeployError(f"cannot read {path}: {error.strerror}") from error
    except ClientError as error:
        raise DeployError(f"cannot upload s3://{bucket}/{key}: {describe(error)}") from error
    print(f"Uploaded s3://{bucket}/{key}")
