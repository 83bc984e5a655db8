"""What the anon-s3ol command's tests share: a corpus of every format, the console script, moto's S3.

The corpus is built here from the tests' own builders (image_builders, isobmff_builders): each
file carries the metadata its format can hold (GPS, an owner's name and serials, XMP, ...).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path
from unittest import mock

import boto3
import image_builders as b
import isobmff_builders as ib

REPO_ROOT = Path(__file__).resolve().parent.parent
# make installs the console script beside the venv's python.
CONSOLE_SCRIPT = Path(sys.executable).parent / "anon-s3ol"

# One file per format, each with metadata to remove.
CORPUS = {
    "everything.jpg": b.jpeg_with_everything,
    "plain.jpg": lambda: b.jpeg(exif=False, comment=False, xmp=False, icc=False),
    "photo.png": b.png,
    "photo.webp": b.webp,
    "photo.gif": b.gif,
    "photo.tif": b.tiff,
    "photo.heic": lambda: ib.encode_heic(b.pattern(size=(64, 48)), exif=b.exif_block()),
    "photo.avif": lambda: ib.encode_avif(b.pattern(size=(64, 48)), exif=b.exif_block()),
    "photo.jxl": lambda: ib.encode_jxl(b.pattern(size=(64, 48))),
}
NOT_AN_IMAGE = b"%PDF-1.7 not a photo"
NOT_AN_IMAGE_REASON = "unsupported image format: PDF"

# A C2PA manifest store: a JUMBF superbox (jumb) whose description box (jumd: type UUID,
# toggles, label) is labelled "c2pa", carried in JPEG APP11 as the C2PA specification says
# (common identifier "JP", box instance number, packet sequence number, then the box).
C2PA_TYPE_UUID = bytes.fromhex("6332706100110010800000aa00389b71")
APP11 = 0xEB


def jumbf_box(box_type: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + box_type + payload


def jpeg_with_c2pa() -> bytes:
    description = jumbf_box(b"jumd", C2PA_TYPE_UUID + b"\x03" + b"c2pa\x00")
    manifest_store = jumbf_box(b"jumb", description + jumbf_box(b"json", b'{"claim": "' + b.SECRET + b'"}'))
    segment = b.jpeg_segment(APP11, b"JP" + struct.pack(">HI", 1, 1) + manifest_store)
    return b.insert_after_soi(b.jpeg(exif=False), segment)


def write_corpus(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, make in CORPUS.items():
        written[name] = make()
        (folder / name).write_bytes(written[name])
    return written


def run_script(
    *args: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = (), timeout: float = 120
) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it, with `env` added and `unset` removed."""
    environment = {name: value for name, value in os.environ.items() if name not in unset}
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        capture_output=True,
        timeout=timeout,
        env={**environment, **(env or {})},
        check=False,
    )


# ---------------------------------------------------------------- moto's S3 on 127.0.0.1
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
# Nothing else may supply credentials: no files, no instance or container role.
NO_CREDENTIALS = {
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_DEFAULT_REGION": "eu-west-1",
}
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def aws_environment(endpoint: str) -> dict[str, str]:
    return {**NO_CREDENTIALS, **FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}


def s3_admin(endpoint: str):  # noqa: ANN201 - a boto3 S3 client
    with mock.patch.dict(os.environ, aws_environment(endpoint)):
        return boto3.session.Session().client("s3")
