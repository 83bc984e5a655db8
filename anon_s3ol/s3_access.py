"""S3 for the command line: where an s3:// argument points, the client, and each failure as one line.

The client takes boto3's standard configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL,
the shared files, an instance role), as the aws CLI does. A failure that stops the whole
command (no credentials, credentials refused, no such bucket, access denied, the network)
becomes a CommandError whose one line says which of these it is: a network failure is
never reported as missing credentials.
"""

from __future__ import annotations

from typing import NamedTuple

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ProxyConnectionError,
    ReadTimeoutError,
    SSLError,
)

from .errors import CommandError

SCHEME = "s3://"
SOCKET_SECONDS = 20.0
NETWORK_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
    ProxyConnectionError,
    SSLError,
)
CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
)
DENIED_CODES = frozenset({"AccessDenied", "AllAccessDisabled", "Forbidden", "403"})
MISSING_BUCKET_CODES = frozenset({"NoSuchBucket"})


class S3Location(NamedTuple):
    bucket: str
    prefix: str  # "" or a folder: ends with "/"

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}"


def is_s3(text: str) -> bool:
    return text.startswith(SCHEME)


def parse_location(text: str) -> S3Location:
    """s3://BUCKET[/PREFIX] as a bucket and a folder prefix ("photos" means "photos/")."""
    bucket, _, prefix = text[len(SCHEME) :].partition("/")
    if not bucket:
        msg = f"{text}: no bucket named; expected s3://BUCKET[/PREFIX]"
        raise CommandError(msg)
    prefix = prefix.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return S3Location(bucket, prefix)


def s3_client(*, connections: int = 10):  # noqa: ANN201 - a botocore S3 client
    """A client from boto3's standard configuration; a bad profile is a CommandError."""
    try:
        return boto3.session.Session().client(
            "s3",
            config=Config(
                connect_timeout=SOCKET_SECONDS,
                read_timeout=SOCKET_SECONDS,
                retries={"mode": "standard", "max_attempts": 3},
                max_pool_connections=connections,
            ),
        )
    except ProfileNotFound as error:
        raise CommandError(f"the AWS profile {error.kwargs.get('profile')!r} is not configured") from None
    except BotoCoreError as error:
        raise CommandError(f"cannot set up the S3 client: {error}") from None


def client_error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "") or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def failure_line(error: Exception, *, action: str, where: str) -> str | None:
    """The one line for a failure that stops the command, or None for one that concerns one object only.

    `action` says what was being done ("listing", "reading"), `where` the bucket or object.
    """
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return (
            f"{where}: no AWS credentials found for {action} it (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run 'aws configure')"
        )
    if isinstance(error, NETWORK_ERRORS):
        return f"{where}: cannot reach S3 for {action} it: network failure ({type(error).__name__}: {error})"
    if isinstance(error, ClientError):
        code = client_error_code(error)
        if code in CREDENTIAL_CODES:
            return f"{where}: S3 refused the AWS credentials ({code}); check AWS_PROFILE or run 'aws configure'"
        if code in MISSING_BUCKET_CODES:
            return f"{where}: the bucket does not exist ({code})"
    return None


def listing_failure(error: Exception, location: S3Location) -> CommandError:
    """A failure to list a bucket: always fatal, as one line."""
    line = failure_line(error, action="listing", where=str(location))
    if line is None and isinstance(error, ClientError):
        code = client_error_code(error)
        if code in DENIED_CODES:
            line = f"{location}: access denied listing it ({code}); the command needs s3:ListBucket on the bucket"
        else:
            line = f"{location}: listing failed: S3 answered {code}"
    return CommandError(line or f"{location}: listing failed: {type(error).__name__}: {error}")
