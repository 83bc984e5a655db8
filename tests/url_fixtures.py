"""Fixtures for the function-URL mode's tests: events, the image bucket in moto, big images.

- url_event(): a function-URL event (payload format 2.0) shaped like the sample in the
  Lambda developer guide (urls-invocation.html), as CloudFront sends it through OAC.
- canonical_path(): the URI the viewer-request CloudFront Function hands on: the key
  percent-encoded once, SigV4's way (every byte outside A-Z a-z 0-9 - . _ ~ and `/`).
- make_bucket() / reader_credentials(): the image bucket, and an IAM user standing in for
  the function's role: s3:GetObject on the bucket's objects, denied under DENIED_PREFIX
  (the way a bucket policy or a KMS key can refuse the role one object).
- noisy_png(): a PNG of random pixels (incompressible) with planted text metadata.
- moto_endpoint(): moto's server on 127.0.0.1 with its state reset, for as long as the block
  runs (every test module that talks to moto over HTTP starts it this way).
The small images and the metadata checks come from olap_fixtures.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import random
import urllib.request
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import quote

from moto.server import ThreadedMotoServer
from PIL import Image, PngImagePlugin

from olap_fixtures import REGION, SECRET
from sample_events import load_event

BUCKET = "anon-s3ol-images-111122223333-eu-west-1"
DENIED_PREFIX = "private/"
URL_ID = "abcdefghijklmnopqrstuvwxyz012345"
URL_HOST = f"{URL_ID}.lambda-url.{REGION}.on.aws"
CACHE_CONTROL = "public, max-age=86400"
# Credentials of the account's administrator in moto (its default account accepts any).
ADMIN_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDADMINEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "admin-secret-example",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def canonical_path(key: str) -> str:
    return "/" + quote(key, safe="/~")


def url_event(
    raw_path: str,
    *,
    query: str = "",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    request_id: str = "c1a2b3d4-0000-4000-8000-000000000001",
) -> dict:
    """The sample function-URL event (GET or HEAD; another method on the GET's shape) for `raw_path`."""
    event = load_event("function_url_head" if method == "HEAD" else "function_url_get")
    event["rawPath"] = raw_path
    event["rawQueryString"] = query
    event["headers"].update(headers or {})
    if query:
        event["queryStringParameters"] = dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair) or None
    event["requestContext"]["http"].update(method=method, path=raw_path)
    event["requestContext"]["requestId"] = request_id
    return event


# ---------------------------------------------------------------- the bucket and the reader
class Credentials(NamedTuple):
    access_key_id: str
    secret_access_key: str

    def environment(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}


def make_bucket(s3) -> None:  # noqa: ANN001 - a boto3 S3 client
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})


def put(s3, key: str, data: bytes, **kwargs: object) -> None:  # noqa: ANN001
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, CacheControl=CACHE_CONTROL, **kwargs)


def reader_credentials(iam) -> Credentials:  # noqa: ANN001 - a boto3 IAM client
    """An IAM user with the function role's permission: read the bucket's objects, nothing else."""
    iam.create_user(UserName="exif-transform")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/{DENIED_PREFIX}*"},
        ],
    }
    iam.put_user_policy(UserName="exif-transform", PolicyName="read-images", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="exif-transform")["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


# ---------------------------------------------------------------- images
def noisy_png(width: int, height: int, *, seed: int = 11) -> bytes:
    """Random RGB pixels (PNG cannot compress them: about 3 bytes a pixel) and a text chunk."""
    pixels = random.Random(seed).randbytes(width * height * 3)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"{SECRET}-big-png")
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(buffer, "PNG", pnginfo=info, compress_level=1)
    return buffer.getvalue()


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@contextlib.contextmanager
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # its access lines, not the tests'
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()
    try:
        yield endpoint
    finally:
        server.stop()
