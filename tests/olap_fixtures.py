"""Real HTTP on 127.0.0.1 for the transform handler's end-to-end tests.

- OriginServer plays S3 behind the presigned `inputS3Url`: it serves the original, or
  fails the ways S3 and networks fail (403, 404, 500, stalls, oversize, truncation).
- AwsServer plays the AWS endpoint the handler's boto3 client is pointed at with
  AWS_ENDPOINT_URL_S3: it records each WriteGetObjectResponse botocore sends (to
  `<RequestRoute>.localhost:PORT`) and serves GetObject through the supporting access
  point (`<ap>-<account>.localhost:PORT`) for HEAD events.
- resolve_localhost_subdomains() makes `*.localhost` resolve to 127.0.0.1 in-process.
- The origin answers over HTTPS (the transform fetches https URLs only) with a certificate made here for
  127.0.0.1; trusting(origin.ca_file) makes this process's default TLS context trust it alone.
- Images with every kind of metadata, made with Pillow and piexif.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import os
import random
import re
import socket
import ssl
import tempfile
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator, NamedTuple
from unittest import mock
from urllib.parse import quote, unquote, urlsplit

import piexif
from PIL import Image, PngImagePlugin

from sample_events import load_event

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = REPO_ROOT / "lambdas" / "exif_transform"

ACCOUNT = "111122223333"
REGION = "eu-west-1"
OUTPUT_ROUTE = "io-euw1-042"
OUTPUT_TOKEN = "output-token-4f1d"
SUPPORTING_AP_NAME = "anon-s3ol-ap"
SUPPORTING_AP_ARN = f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/{SUPPORTING_AP_NAME}"
OLAP_ARN = f"arn:aws:s3-object-lambda:{REGION}:{ACCOUNT}:accesspoint/anon-s3ol-olap"
OLAP_HOST = f"anon-s3ol-olap-{ACCOUNT}.s3-object-lambda.{REGION}.amazonaws.com"
# Parts of the presigned URL that must never reach a log line.
PRESIGN_SIGNATURE = "f00dfacecafe0123456789abcdef"
PRESIGN_SECURITY_TOKEN = "FwoGZXIvYXdzE-session-token"
# Planted in every text field of every test image; must never leave the transform.
SECRET = "SECRET-7f3a"
LAST_MODIFIED = "Tue, 02 Jan 2024 03:04:05 GMT"
CACHE_CONTROL = "public, max-age=86400"
ORIGINAL_ETAG = '"0123456789abcdef0123456789abcdef"'
ORIENTATION_TAG = 274
# A TIFF's IFD0 is its image directory too: these tags describe pixels, not people.
TIFF_STRUCTURE_TAGS = frozenset(
    {254, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 282, 283, 284, 296, 317, 320, 322, 323, 324, 325, 338, 339}
)
ICC_PROFILE_TAG = 34675


# ---------------------------------------------------------------- name resolution
@contextlib.contextmanager
def resolve_localhost_subdomains() -> Iterator[None]:
    """Resolve `<anything>.localhost` to 127.0.0.1 (botocore adds host prefixes)."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real_getaddrinfo(host, *args, **kwargs)

    with mock.patch("socket.getaddrinfo", getaddrinfo):
        yield


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- servers
class Resource(NamedTuple):
    """What the origin does for one key."""

    body: bytes = b""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = (
        ("Content-Type", "binary/octet-stream"),
        ("Cache-Control", CACHE_CONTROL),
        ("Last-Modified", LAST_MODIFIED),
        ("ETag", ORIGINAL_ETAG),
    )
    behaviour: str = "serve"  # serve | stall | trickle | chunked_endless | declare_huge | truncate
    delay: float = 0.0


class Seen(NamedTuple):
    method: str
    host: str
    path: str
    headers: Message
    body: bytes
    complete: bool = True  # False: a chunked body that broke off before its last chunk


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def record(self, request: BaseHTTPRequestHandler, body: bytes, *, complete: bool = True) -> None:
        with self.lock:
            self.seen.append(
                Seen(request.command, request.headers.get("Host", ""), request.path, request.headers, body, complete)
            )

    def start(self) -> _Recorder:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def _s3_error_xml(code: str) -> bytes:
    return f"<?xml version='1.0'?><Error><Code>{code}</Code></Error>".encode()


_STATUS_CODES = {403: "AccessDenied", 404: "NoSuchKey", 412: "PreconditionFailed", 500: "InternalError"}


class _OriginHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: OriginServer

    def log_message(self, *args: object) -> None:
        pass

    def _send_error(self, status: int) -> None:
        body = _s3_error_xml(_STATUS_CODES.get(status, "Error"))
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self) -> None:
        self.server.record(self, b"")
        resource = self.server.resources.get(unquote(urlsplit(self.path).path.lstrip("/")))
        if resource is None:
            self._send_error(404)
            return
        if resource.behaviour == "stall":
            time.sleep(resource.delay)
        if resource.status != 200:
            self._send_error(resource.status)
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._send_body(resource)

    def _send_body(self, resource: Resource) -> None:
        ranged = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        if ranged and resource.behaviour == "serve":  # S3 answers a Range on a presigned GET
            first, last = int(ranged[1]), min(int(ranged[2]), len(resource.body) - 1)
            part = resource.body[first : last + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(resource.body)}")
            self.send_header("Content-Length", str(len(part)))
            self.end_headers()
            self.wfile.write(part)
            return
        self.send_response(200)
        for name, value in resource.headers:
            self.send_header(name, value)
        if resource.behaviour == "chunked_endless":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"\0" * 65536
            for _ in range(4096):  # bounded: 256 MiB at most, the client hangs up far sooner
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        declared = 10**12 if resource.behaviour == "declare_huge" else len(resource.body)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        if self.command == "HEAD":
            return
        if resource.behaviour == "declare_huge":
            self.wfile.write(resource.body)  # the start of a body that never ends
            self.wfile.flush()
            self.close_connection = True
            return
        if resource.behaviour == "trickle":
            for byte in itertools.islice(resource.body, 40):
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(resource.delay)
            return
        if resource.behaviour == "truncate":
            self.wfile.write(resource.body[: len(resource.body) // 2])
            self.close_connection = True
            return
        self.wfile.write(resource.body)

    do_GET = _serve
    do_HEAD = _serve


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, valid for a day, and its key: PEM files in `directory`."""
    import datetime  # noqa: PLC0415
    import ipaddress  # noqa: PLC0415

    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "origin.pem", directory / "origin-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@contextlib.contextmanager
def trusting(ca_file: Path) -> Iterator[None]:
    """This process's default TLS context (urllib's, so the presigned fetch's) trusts `ca_file` alone."""
    with mock.patch.dict(os.environ, {"SSL_CERT_FILE": str(ca_file)}):
        yield


class OriginServer(_Recorder):
    """S3 as seen through the presigned URL, over HTTPS."""

    def __init__(self) -> None:
        super().__init__(_OriginHandler)
        self.resources: dict[str, Resource] = {}
        self.ca_file, key_file = self_signed_certificate(Path(tempfile.mkdtemp(prefix="origin-tls-")))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)
        # The handshake happens in each request's thread, so a slow client never holds up the others.
        self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def put(self, key: str, resource: Resource) -> None:
        self.resources[key] = resource

    def presigned_url(self, key: str, *, signed_headers: str = "host", extra_query: str = "") -> str:
        query = (
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential=ASIAEXAMPLE%2F20240102%2F{REGION}%2Fs3%2Faws4_request"
            "&X-Amz-Date=20240102T030405Z&X-Amz-Expires=61"
            f"&X-Amz-SignedHeaders={quote(signed_headers, safe='')}"
            f"&X-Amz-Security-Token={PRESIGN_SECURITY_TOKEN}"
            f"&X-Amz-Signature={PRESIGN_SIGNATURE}{extra_query}"
        )
        return f"https://127.0.0.1:{self.port}/{quote(key)}?{query}"


class _AwsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: AwsServer

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body, complete = self._read_chunked()
            if not complete:  # the sender broke off: nothing to answer, as S3 would not
                self.server.record(self, body, complete=False)
                self.close_connection = True
                return
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.record(self, body)
        self._reply(self.server.write_status)

    def _read_chunked(self) -> tuple[bytes, bool]:
        """A chunked body, and whether it ended with its last chunk."""
        parts = []
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\r\n"):
                return b"".join(parts), False
            size = int(line.split(b";")[0], 16)
            if size == 0:
                self.rfile.readline(1024)
                return b"".join(parts), True
            part = self.rfile.read(size)
            parts.append(part)
            if len(part) != size or self.rfile.read(2) != b"\r\n":
                return b"".join(parts), False

    def do_GET(self) -> None:
        """GetObject through the supporting access point, served from the origin's resources."""
        self.server.record(self, b"")
        key = unquote(urlsplit(self.path).path.lstrip("/"))
        resource = self.server.origin.resources.get(key)
        if self.server.role_read_status != 200:
            self._reply(self.server.role_read_status, _s3_error_xml("AccessDenied"))
        elif resource is None or resource.status != 200:
            self._reply(404, _s3_error_xml("NoSuchKey"))
        elif self.headers.get("If-Match") not in (None, dict(resource.headers).get("ETag")):
            self._reply(412, _s3_error_xml("PreconditionFailed"))
        else:
            ranged = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
            if ranged:
                first, last = int(ranged[1]), min(int(ranged[2]), len(resource.body) - 1)
                self._reply(206, resource.body[first : last + 1], (("ETag", ORIGINAL_ETAG),))
                return
            self._reply(200, resource.body, (("ETag", ORIGINAL_ETAG),))


class AwsServer(_Recorder):
    """The AWS endpoint: WriteGetObjectResponse and access-point GetObject."""

    def __init__(self, origin: OriginServer) -> None:
        super().__init__(_AwsHandler)
        self.origin = origin
        self.write_status = 200
        self.role_read_status = 200

    @property
    def endpoint_url(self) -> str:
        return f"http://localhost:{self.port}"

    def writes(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.method == "POST"]


# ---------------------------------------------------------------- the function under test
class LambdaContext(NamedTuple):
    """The attributes Powertools reads from the Lambda context object."""

    function_name: str = "anon-s3ol-exif-transform"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:anon-s3ol-exif-transform"
    aws_request_id: str = "6f5a3c39-aaaa-bbbb-cccc-0123456789ab"


_loaded = itertools.count()
_cold_copies = itertools.count()


def load_handler(aws: AwsServer, **environment: str):  # noqa: ANN201 - a module
    """A fresh copy of olap/handler.py loaded as on a cold start with `environment`.

    Returns the module and a StringIO that receives its log lines.
    """
    number = next(_loaded)
    env = {
        "AWS_ENDPOINT_URL_S3": aws.endpoint_url,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "POWERTOOLS_SERVICE_NAME": f"exif-transform-test-{number}",
        **environment,
    }
    return load_cold("olap/handler.py", env, SETTING_NAMES)


# The settings a cold start reads; unless a test sets one, it is absent, so defaults apply.
SETTING_NAMES = ("EXIF_QUERY", "KEEP_COPYRIGHT", "MAX_INPUT_BYTES")


def load_cold(path: str, env: dict[str, str], unset: tuple[str, ...]):  # noqa: ANN201
    """Load a fresh copy of one of the function's entry modules, as on a cold start: with `env` set and each name
    in `unset` that `env` does not give removed. Returns the module and a StringIO receiving its log lines.

    The copy is named inside the entry module's package, so its relative imports resolve there."""
    package, _, filename = path.rpartition("/")
    module_name = f"{package}._cold_{Path(filename).stem}_{next(_cold_copies)}"
    spec = importlib.util.spec_from_file_location(module_name, FUNCTION_DIR / path)
    module = importlib.util.module_from_spec(spec)
    with mock.patch.dict(os.environ, env, clear=False):
        for name in unset:
            if name not in env:
                os.environ.pop(name, None)
        spec.loader.exec_module(module)
        if hasattr(module, "make_clients"):
            module.make_clients()  # the environment is set only during this load
    log_stream = io.StringIO()
    module.logger.registered_handler.setStream(log_stream)
    return module, log_stream


def _olap_event(
    name: str,
    origin: OriginServer,
    key: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    signed_headers: str = "host",
    request_id: str = "req-0001",
) -> dict:
    """The sample event `name` for `key`, its presigned URL pointing at `origin`."""
    event = load_event(name)
    context = event.get("getObjectContext") or event["headObjectContext"]
    context["inputS3Url"] = origin.presigned_url(key, signed_headers=signed_headers)
    event["xAmzRequestId"] = request_id
    event["userRequest"]["url"] = f"https://{OLAP_HOST}/{key}" + (f"?{query}" if query else "")
    event["userRequest"]["headers"].update(headers or {})
    return event


def get_event(origin: OriginServer, key: str, **kwargs: object) -> dict:
    return _olap_event("olap_get_object", origin, key, **kwargs)


def head_event(origin: OriginServer, key: str, **kwargs: object) -> dict:
    return _olap_event("olap_head_object", origin, key, **kwargs)


# ---------------------------------------------------------------- images
def noise_image(mode: str = "RGB", size: tuple[int, int] = (64, 48), seed: int = 7) -> Image.Image:
    """Pixels that differ everywhere, so a wrong decode cannot pass a comparison."""
    channels = len(Image.new(mode, (1, 1)).getbands())
    data = random.Random(seed).randbytes(size[0] * size[1] * channels)
    return Image.frombytes(mode, size, data)


def _tiny_jpeg() -> bytes:
    buffer = io.BytesIO()
    noise_image(size=(8, 8), seed=3).save(buffer, "JPEG")
    return buffer.getvalue()


GPS_LATITUDE = ((48, 1), (51, 1), (2988, 100))
GPS_LONGITUDE = ((2, 1), (17, 1), (4020, 100))


def exif_block(*, orientation: int = 1) -> bytes:
    """EXIF with camera, owner, serial, comment, GPS and an IFD1 thumbnail."""
    return piexif.dump(
        {
            "0th": {
                piexif.ImageIFD.Make: b"TestCam",
                piexif.ImageIFD.Model: f"{SECRET}-model".encode(),
                piexif.ImageIFD.ImageDescription: f"{SECRET}-description".encode(),
                piexif.ImageIFD.Artist: f"{SECRET}-artist".encode(),
                piexif.ImageIFD.Copyright: f"{SECRET}-copyright".encode(),
                piexif.ImageIFD.Orientation: orientation,
            },
            "Exif": {
                piexif.ExifIFD.DateTimeOriginal: b"2024:01:02 03:04:05",
                piexif.ExifIFD.BodySerialNumber: f"{SECRET}-serial".encode(),
                piexif.ExifIFD.UserComment: b"ASCII\0\0\0" + f"{SECRET}-usercomment".encode(),
            },
            "GPS": {
                piexif.GPSIFD.GPSLatitudeRef: b"N",
                piexif.GPSIFD.GPSLatitude: GPS_LATITUDE,
                piexif.GPSIFD.GPSLongitudeRef: b"E",
                piexif.GPSIFD.GPSLongitude: GPS_LONGITUDE,
            },
            "1st": {piexif.ImageIFD.Orientation: 1},
            "thumbnail": _tiny_jpeg(),
        }
    )


XMP_PACKET = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="{SECRET}-xmp"/>'
    "</rdf:RDF></x:xmpmeta>"
).encode()


def _encode(image: Image.Image, image_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def _png_text() -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"{SECRET}-png-text")
    info.add_text("Author", f"{SECRET}-png-ztxt", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode())
    return info


IMAGE_MAKERS: dict[str, Callable[[], bytes]] = {
    "jpeg": lambda: _encode(
        noise_image(), "JPEG", quality=90, exif=exif_block(), comment=f"{SECRET}-com", xmp=XMP_PACKET
    ),
    "png": lambda: _encode(noise_image("RGBA"), "PNG", exif=exif_block(), pnginfo=_png_text()),
    "webp": lambda: _encode(noise_image(), "WEBP", lossless=True, exif=exif_block(), xmp=XMP_PACKET),
    "tiff": lambda: _encode(noise_image(), "TIFF", exif=exif_block()),
    "gif": lambda: _encode(noise_image("P"), "GIF", comment=f"{SECRET}-gif-comment".encode()),
}
MIME_BY_FORMAT = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "gif": "image/gif",
}


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGBA").tobytes()


def leftover_metadata(data: bytes) -> list[str]:
    """Every kind of metadata still in `data` (an Orientation-only EXIF is allowed)."""
    found = []
    if SECRET.encode() in data:
        found.append("planted text")
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        allowed = {ORIENTATION_TAG}
        if image.format == "TIFF":
            allowed |= TIFF_STRUCTURE_TAGS | {ICC_PROFILE_TAG}
        extra_tags = set(exif) - allowed
        if extra_tags:
            found.append(f"EXIF tags {sorted(extra_tags)}")
        if exif.get_ifd(piexif.ImageIFD.GPSTag):
            found.append("GPS IFD")
        found += [kind for kind in ("comment", "xmp", "XML:com.adobe.xmp", "photoshop") if image.info.get(kind)]
        found += [f"PNG text {name}" for name in getattr(image, "text", {}) if name != "XML:com.adobe.xmp"]
    return found
