"""Processes the streaming benchmark measures (bench_streaming.py starts them; not a test).

    streaming_worker.py url-bare PORT   a bare proxy: GetObject's body copied to the viewer as
                                        chunked output, nothing stripped (for scale)
    streaming_worker.py olap            the S3 Object Lambda handler, one event per stdin line
                                        ("strip KEY ROUTE" or "bare KEY ROUTE"); prints one JSON
                                        line per event when its WriteGetObjectResponse is done

Both read the bucket through boto3's standard configuration (AWS_ENDPOINT_URL...).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambdas" / "exif_transform"))
CHUNK = 1024 * 1024


def _resolve_localhost_subdomains() -> None:
    """WriteGetObjectResponse goes to <route>.localhost: resolve it to 127.0.0.1."""
    original = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return original(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def url_bare(port: int) -> None:
    import boto3

    s3 = boto3.session.Session().client("s3")
    bucket = os.environ["BUCKET_NAME"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = s3.get_object(Bucket=bucket, Key=self.path.lstrip("/"))["Body"]
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while chunk := body.read(CHUNK):
                self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


def olap() -> None:
    _resolve_localhost_subdomains()
    from olap import handler
    from serving.streamed import Streamed  # noqa: F401 - loaded before the first event

    handler.make_clients()
    # The presigned URL is https, as S3 Object Lambda's is; the certificate is the bench's own.
    endpoint = os.environ["BENCH_PRESIGNED_ENDPOINT"]
    os.environ["SSL_CERT_FILE"] = os.environ["BENCH_CA_FILE"]
    print("ready", flush=True)
    for line in sys.stdin:
        mode, key, route = line.split()
        url = f"{endpoint}/{os.environ['BUCKET_NAME']}/{key}"
        event = {
            "xAmzRequestId": "bench",
            "getObjectContext": {"inputS3Url": url, "outputRoute": route, "outputToken": "token"},
            "configuration": {
                "accessPointArn": "arn:aws:s3-object-lambda:us-east-1:111122223333:accesspoint/bench",
                "supportingAccessPointArn": "arn:aws:s3:us-east-1:111122223333:accesspoint/bench-ap",
                "payload": "",
            },
            "userRequest": {"url": f"https://bench.s3-object-lambda.us-east-1.amazonaws.com/{key}", "headers": {}},
            "userIdentity": {"type": "AssumedRole"},
            "protocolVersion": "1.00",
        }
        if mode == "bare":
            source = handler.open_presigned(url, headers={}, timeouts=handler.STREAM_TIMEOUTS)
            body = handler._BodyReader(iter(lambda: source.read(CHUNK), b""))  # noqa: SLF001
            handler.s3_client().write_get_object_response(RequestRoute=route, RequestToken="token", StatusCode=200, Body=body)
        else:
            handler.lambda_handler(event, _Context())
        print(json.dumps({"done": key}), flush=True)


class _Context:
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:bench"
    aws_request_id = "bench"


if __name__ == "__main__":
    if sys.argv[1] == "url-bare":
        url_bare(int(sys.argv[2]))
    else:
        olap()
