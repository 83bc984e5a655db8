"""One Batch Operations task: read the object, audit it, and say how the task ended.

    Succeeded         the object was audited: served, or refused (not an image we serve, too large)
    TemporaryFailure  S3 throttled or failed, or the read timed out: Batch Operations may retry
    PermanentFailure  the object is gone, or the function may not read it

Every result carries an audit row (serving/audit_row.py) as its result string, so the
completion report says for each object what was found or why it could not be audited.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from serving.audit_row import AuditRow, audit_image, refused_row

from .object_read import ObjectMissing, ObjectTooLarge, ReadRefused, RetryLater

SUCCEEDED = "Succeeded"
TEMPORARY_FAILURE = "TemporaryFailure"
PERMANENT_FAILURE = "PermanentFailure"


class TaskResult(NamedTuple):
    result_code: str
    row: AuditRow


def audit_task(read: Callable[[], bytes], *, keep_copyright: bool) -> TaskResult:
    """The result of auditing the object `read()` returns; never raises for a failed read."""
    try:
        data = read()
    except ObjectTooLarge as error:
        return TaskResult(SUCCEEDED, refused_row(str(error), error.size or 0))
    except RetryLater as error:
        return TaskResult(TEMPORARY_FAILURE, refused_row(str(error), 0))
    except (ObjectMissing, ReadRefused) as error:
        return TaskResult(PERMANENT_FAILURE, refused_row(str(error), 0))
    return TaskResult(SUCCEEDED, audit_image(data, keep_copyright=keep_copyright))
