"""S3 Batch Operations entry point (LambdaInvoke, invocation schema 2.0): each task's object audited.

The event names the objects (`tasks[]`: `s3Bucket`, `s3Key` URL-encoded, `s3VersionId`);
the function reads each with its own role, within the transform's limits, and answers
one result per task whose result string is the object's audit row as compact JSON. S3
writes those strings into the job's completion report, where `anon-s3ol audit --batch`
reads them. `job.userArguments.keepCopyright` ("true"/"false") audits as a deployment
with that KeepCopyright would strip; unset, the function's own setting applies.
(S3 User Guide, batch-ops-invoke-lambda.html.)
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3BatchOperationEvent, event_source
from aws_lambda_powertools.utilities.data_classes.s3_batch_operation_event import S3BatchOperationResponseRecord

from serving.audit_row import refused_row, row_json
from serving.settings import Settings, SettingsError, load_settings

from .object_read import read_object, s3_client
from .task import PERMANENT_FAILURE, TaskResult, audit_task

# Read once per container: a bad or missing value stops the cold start naming it.
SETTINGS = load_settings(os.environ)
S3 = s3_client()
logger = Logger()
KEEP_COPYRIGHT_ARGUMENT = "keepCopyright"
# What Batch Operations records for a task this response leaves out (none should be).
TREAT_MISSING_KEYS_AS = PERMANENT_FAILURE


def job_settings(settings: Settings, user_arguments: dict) -> Settings:
    """The function's settings with the job's keepCopyright applied (SettingsError for a bad value)."""
    value = user_arguments.get(KEEP_COPYRIGHT_ARGUMENT)
    if value is None:
        return settings
    try:
        keep_copyright = load_settings({"KEEP_COPYRIGHT": str(value)}).keep_copyright
    except SettingsError:
        msg = f"userArguments.{KEEP_COPYRIGHT_ARGUMENT} must be true or false"
        raise SettingsError(msg) from None
    return settings._replace(keep_copyright=keep_copyright)


@logger.inject_lambda_context
@event_source(data_class=S3BatchOperationEvent)
def lambda_handler(event: S3BatchOperationEvent, context: object) -> dict:  # noqa: ARG001
    logger.append_keys(job_id=event.job.get_id, invocation_id=event.invocation_id)
    try:
        settings = job_settings(SETTINGS, event.job.user_arguments)
    except SettingsError as error:
        settings, refusal = SETTINGS, str(error)
    else:
        refusal = None
    results = []
    for task in event.tasks:
        if refusal is not None:
            result = TaskResult(PERMANENT_FAILURE, refused_row(refusal, 0))
        else:
            result = audit_task(
                lambda task=task: read_object(
                    S3,
                    bucket=task.s3_bucket,
                    key=task.s3_key,
                    version_id=task.s3_version_id,
                    max_bytes=settings.max_input_bytes,
                ),
                keep_copyright=settings.keep_copyright,
            )
        # The key and the verdict only: never EXIF values or the object's bytes.
        logger.info(
            "audit",
            extra={
                "key": task.s3_key,
                "result_code": result.result_code,
                "format": result.row.format,
                "served": result.row.served,
                "reason": result.row.reason,
                "bytes": result.row.bytes_in,
            },
        )
        record = S3BatchOperationResponseRecord(task.task_id, result.result_code, row_json(result.row))
        results.append(record.asdict())
    # Powertools' S3BatchOperationResponse.asdict() insists on exactly one result; Batch Operations sends one
    # task per invocation today, but the documented shape is a list, so every task gets its result here.
    return {
        "invocationSchemaVersion": event.invocation_schema_version,
        "treatMissingKeysAs": TREAT_MISSING_KEYS_AS,
        "invocationId": event.invocation_id,
        "results": results,
    }
