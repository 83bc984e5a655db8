"""After S3 Object Lambda refused the account: leave nothing behind that this run created. The storage stack's
creation failed and rolled back (ROLLBACK_COMPLETE, which preflight never lets a run start from, so this run
created it): delete the stack, then the image bucket its creation made and kept (DeletionPolicy Retain), only
if the bucket holds nothing, not even an old version or a delete marker. A bucket given with --bucket is never
touched (the stack creates none then, and this module checks the name too).

The only module of tools/deploy that deletes anything."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError, WaiterError

from tools.deploy.report import DeployError, describe, error_code
from tools.deploy.stacks_state import is_missing_stack, latest_operation_events, object_lambda_refused, stack_status

# The storage template's bucket (stacks/bucket.py IMAGE_BUCKET).
IMAGE_BUCKET_LOGICAL_ID = "ImageBucket"
FAILED_CREATION = "ROLLBACK_COMPLETE"
# CloudFormation deletes a stack that holds nothing within seconds; wait at most this long.
DELETE_WAIT_DELAY_SECONDS = 5
DELETE_WAIT_MAX_ATTEMPTS = 60


def retained_bucket(cloudformation: Any, stack: str) -> str | None:
    """The bucket the failed creation made and kept, or None (none was made, or --bucket was used)."""
    try:
        answer = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=IMAGE_BUCKET_LOGICAL_ID)
    except ClientError as error:
        if error_code(error) == "ValidationError":  # no such resource in the stack
            return None
        raise DeployError(f"cannot read the bucket of stack {stack}: {describe(error)}") from error
    return answer.get("StackResourceDetail", {}).get("PhysicalResourceId") or None


def is_empty(s3: Any, bucket: str, account: str) -> bool:
    """No object, no old version, no delete marker: a versioned bucket may hold versions of deleted keys."""
    try:
        answer = s3.list_object_versions(Bucket=bucket, MaxKeys=1, ExpectedBucketOwner=account)
    except ClientError as error:
        raise DeployError(f"cannot list bucket {bucket}: {describe(error)}") from error
    return not (answer.get("Versions") or answer.get("DeleteMarkers"))


def delete_stack(cloudformation: Any, stack: str, region: str) -> None:
    try:
        cloudformation.delete_stack(StackName=stack)
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=stack,
            WaiterConfig={"Delay": DELETE_WAIT_DELAY_SECONDS, "MaxAttempts": DELETE_WAIT_MAX_ATTEMPTS},
        )
    except ClientError as error:
        if is_missing_stack(error):
            return
        raise DeployError(f"cannot delete the failed stack {stack} in {region}: {describe(error)}") from error
    except WaiterError as error:
        raise DeployError(f"the failed stack {stack} in {region} was not deleted: {error}") from error


def clean_up(
    cloudformation: Any, s3: Any, stack: str, region: str, account: str, existing_bucket: str
) -> list[str]:
    """When the stack's creation failed because S3 Object Lambda refused the account: deletes the stack and the
    empty bucket it kept; what was done, one line each. Does nothing for any other failure."""
    if stack_status(cloudformation, stack, region) != FAILED_CREATION:
        return []
    if not object_lambda_refused(latest_operation_events(cloudformation, stack)):
        return []
    # With --bucket the stack has no ImageBucket (its condition is false): nothing to look up.
    bucket = None if existing_bucket else retained_bucket(cloudformation, stack)
    delete_stack(cloudformation, stack, region)
    done = [f"deleted the failed stack {stack} in {region}"]
    if bucket is None or bucket == existing_bucket:
        return done
    if not is_empty(s3, bucket, account):
        return [*done, f"kept bucket {bucket}, which this run created: it holds objects"]
    try:
        s3.delete_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as error:
        if error_code(error) in ("NoSuchBucket", "404"):
            return done
        raise DeployError(f"cannot delete the empty bucket {bucket} this run created: {describe(error)}") from error
    return [*done, f"deleted the empty bucket {bucket} this run created"]
