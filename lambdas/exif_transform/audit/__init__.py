"""The bucket audit's adapter: S3 Batch Operations (LambdaInvoke, invocation schema 2.0) -> one audit row per object.

    handler      the Lambda entry point (Handler audit.handler.lambda_handler)
    object_read  the bounded read of one object (version) with the function's own role
    task         one task to its result code and audit row (serving/audit_row.py)
"""
