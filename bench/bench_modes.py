"""Benchmark: one cache miss for a 12 MP JPEG in each origin mode, and what a million of them cost.

Each mode's entry point runs here as it runs in Lambda, with its I/O on real HTTP over
127.0.0.1 (stand-ins for S3 and S3 Object Lambda; moto's S3 server for the bucket):

- olap       handler.lambda_handler: fetch from the presigned URL, strip, WriteGetObjectResponse
- buffered   url_handler.lambda_handler: GetObject, strip, base64 JSON (serialised as the runtime does)
- streaming  url_server over HTTP: GetObject, strip, the body streamed to a client reading it all

plus the Lambda@Edge signer the olap mode runs on every miss (bench_edge_signer's warm sign).
The olap-oac mode runs the same transform as olap without the signer: its estimate is olap's
lines without the Lambda@Edge request and duration charges, plus the viewer-request
CloudFront Function that every mode now runs.
Times are medians of warm runs on this machine. Lambda gives a function CPU in proportion
to its memory (one vCPU at 1,769 MB), so the estimate scales the local time by
1769 / memory for the CPU-bound work; the cost per million misses then uses us-east-1
list prices. Prints numbers and assumptions; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import io
import json
import logging
import math
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Callable, NamedTuple
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = REPO_ROOT / "lambdas" / "exif_transform"
for _path in (FUNCTION_DIR, REPO_ROOT / "tests", REPO_ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

MB = 1_000_000
GIB = 1024**3  # AWS bills data in GB of 2^30 bytes
MILLION = 1_000_000
TYPICAL_SIZE = (4000, 3000)  # 12 MP
TYPICAL_QUALITY = 80
RUNS = 9
SIGN_ITERATIONS = 2000

# ---------------------------------------------------------------- AWS facts and prices
# "At 1,769 MB, a function has the equivalent of one vCPU": docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
LAMBDA_MB_PER_VCPU = 1769
TRANSFORM_MEMORY_MB = 512  # the templates' TransformMemorySize default
EDGE_MEMORY_MB = 128  # the edge signer's memory (x86_64: Lambda@Edge has no arm64)
# Duration is billed in 1 ms steps: aws.amazon.com/lambda/pricing/ ("rounded up to the nearest 1 ms").
BILLING_STEP_MS = 1

# us-east-1 list prices as of 2026-11-25. The pricing pages render their tables client-side,
# so these were read from copies of them that quote the numbers (found with the search tool).
# aws.amazon.com/lambda/pricing/ (Arm, first tier)
LAMBDA_ARM_USD_PER_GB_SECOND = 0.0000133334
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
# aws.amazon.com/lambda/pricing/ (Lambda@Edge)
EDGE_USD_PER_GB_SECOND = 0.00005001
EDGE_USD_PER_MILLION_REQUESTS = 0.60
# aws.amazon.com/s3/pricing/ (S3 Standard GET requests; S3 Object Lambda bills the GET made
# through the Object Lambda access point at the same rate, plus the data it returns)
S3_GET_USD_PER_THOUSAND = 0.0004
OBJECT_LAMBDA_USD_PER_GB_RETURNED = 0.005
# aws.amazon.com/cloudfront/pricing/ (CloudFront Functions invocations; on every viewer request)
CLOUDFRONT_FUNCTION_USD_PER_MILLION = 0.10
# Function URLs cost nothing beyond the function's requests and duration: aws.amazon.com/lambda/pricing/.
FUNCTION_URL_USD_PER_MILLION = 0.0
# Streamed responses: the first 6 MB of each are free, then a per-GB charge (aws.amazon.com/lambda/pricing/);
# above 6 MB Lambda streams at most 2 MB/s (docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html).
STREAMING_FREE_BYTES_PER_RESPONSE = 6 * 1024 * 1024
STREAMING_CAPPED_BYTES_PER_SECOND = 2 * MB

ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDBENCHEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "bench-secret-example",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
BUCKET = "bench-images"
KEY = "photos/2024/bench 12mp.jpg"


class Measured(NamedTuple):
    mode: str
    seconds: float  # median of warm runs
    bytes_out: int


# ---------------------------------------------------------------- the image
def typical_jpeg() -> bytes:
    from bench_transform import _metadata_params, _photo_like  # noqa: PLC0415

    buffer = io.BytesIO()
    _photo_like(TYPICAL_SIZE).save(buffer, "JPEG", quality=TYPICAL_QUALITY, comment="bench", **_metadata_params())
    return buffer.getvalue()


def _median_seconds(call: Callable[[], int], runs: int) -> tuple[float, int]:
    out = call()  # warm-up: first-call imports and connections stay out of the numbers
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        out = call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), out


def _load(module_name: str, environ: dict):  # noqa: ANN202 - a module
    with mock.patch.dict(os.environ, environ):
        module = importlib.import_module(module_name)
        if hasattr(module, "make_clients"):
            module.make_clients()  # the first request's S3 client, from this environment
    module.logger.registered_handler.setStream(io.StringIO())  # the log line is built, not shown
    return module


# ---------------------------------------------------------------- the three modes
def measure_olap(data: bytes, runs: int) -> Measured:
    import olap_fixtures as fx  # noqa: PLC0415

    origin = fx.OriginServer().start()
    with fx.resolve_localhost_subdomains(), fx.trusting(origin.ca_file):
        aws = fx.AwsServer(origin).start()
        try:
            origin.put(KEY, fx.Resource(body=data))
            handler = fx.load_handler(aws, POWERTOOLS_SERVICE_NAME="bench-olap")[0]

            def once() -> int:
                aws.seen.clear()
                handler.lambda_handler(fx.get_event(origin, KEY), fx.LambdaContext())
                return len(aws.writes()[-1].body)

            seconds, out = _median_seconds(once, runs)
        finally:
            aws.stop()
            origin.stop()
    return Measured("olap", seconds, out)


@contextlib.contextmanager
def moto_bucket(data: bytes):
    import boto3  # noqa: PLC0415
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with mock.patch.dict(os.environ, ENV):
        s3 = boto3.session.Session().client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": ENV["AWS_REGION"]})
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=data)
    try:
        yield {**ENV, "AWS_ENDPOINT_URL": endpoint, "BUCKET_NAME": BUCKET}
    finally:
        server.stop()


def measure_buffered(environ: dict, runs: int) -> Measured:
    import olap_fixtures as fx  # noqa: PLC0415
    from url_fixtures import canonical_path, url_event  # noqa: PLC0415

    handler = _load("function_url.handler", {**environ, "POWERTOOLS_SERVICE_NAME": "bench-url"})
    event = url_event(canonical_path(KEY))

    def once() -> int:
        result = handler.lambda_handler(event, fx.LambdaContext())
        payload = json.dumps(result, ensure_ascii=False)  # what the runtime sends back
        if result["statusCode"] != 200:  # noqa: PLR2004
            raise SystemExit(f"bench/bench_modes.py: the buffered mode answered {result['statusCode']}: {result['body']}")
        return len(payload)

    seconds, payload_bytes = _median_seconds(once, runs)
    return Measured("buffered", seconds, payload_bytes)


def measure_streaming(environ: dict, runs: int) -> Measured:
    from function_url import server as url_server  # noqa: PLC0415
    from url_fixtures import canonical_path  # noqa: PLC0415

    with mock.patch.dict(os.environ, {**environ, "POWERTOOLS_SERVICE_NAME": "bench-stream"}):
        server = url_server.build_server(os.environ, port=0)
    server.logger.registered_handler.setStream(io.StringIO())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1])  # kept alive, as the adapter does

    def once() -> int:
        connection.request("GET", canonical_path(KEY))
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:  # noqa: PLR2004
            raise SystemExit(f"bench/bench_modes.py: the streaming mode answered {response.status}")
        return len(body)

    try:
        seconds, out = _median_seconds(once, runs)
    finally:
        connection.close()
        server.shutdown()
        server.server_close()
    return Measured("streaming", seconds, out)


def measure_signer() -> float:
    from bench_edge_signer import sign_seconds  # noqa: PLC0415

    median, _ = sign_seconds(SIGN_ITERATIONS)
    return median


# ---------------------------------------------------------------- costs
def lambda_ms(local_seconds: float, memory_mb: int) -> float:
    """Estimated billed duration: the local time scaled to the function's CPU share, rounded up."""
    scaled = local_seconds * 1000 * LAMBDA_MB_PER_VCPU / memory_mb
    return math.ceil(scaled / BILLING_STEP_MS) * BILLING_STEP_MS


def duration_usd(ms: float, memory_mb: int, usd_per_gb_second: float) -> float:
    return ms / 1000 * memory_mb / 1024 * usd_per_gb_second


class CostLine(NamedTuple):
    item: str
    usd_per_million: float


def olap_costs(transform: Measured, signer_seconds: float) -> list[CostLine]:
    edge_ms = lambda_ms(signer_seconds, EDGE_MEMORY_MB)
    transform_ms = lambda_ms(transform.seconds, TRANSFORM_MEMORY_MB)
    return [
        CostLine("Lambda@Edge requests", EDGE_USD_PER_MILLION_REQUESTS),
        CostLine(f"Lambda@Edge duration ({edge_ms:.0f} ms x 128 MB)", MILLION * duration_usd(edge_ms, EDGE_MEMORY_MB, EDGE_USD_PER_GB_SECOND)),
        CostLine("S3 GET through the Object Lambda access point", S3_GET_USD_PER_THOUSAND * 1000),
        CostLine(
            f"S3 Object Lambda data returned ({transform.bytes_out / MB:.2f} MB)",
            MILLION * transform.bytes_out / GIB * OBJECT_LAMBDA_USD_PER_GB_RETURNED,
        ),
        CostLine("Lambda requests", LAMBDA_USD_PER_MILLION_REQUESTS),
        CostLine(
            f"Lambda duration ({transform_ms:.0f} ms x 512 MB arm64)",
            MILLION * duration_usd(transform_ms, TRANSFORM_MEMORY_MB, LAMBDA_ARM_USD_PER_GB_SECOND),
        ),
        CostLine("S3 GET from the presigned URL", S3_GET_USD_PER_THOUSAND * 1000),
    ]


def olap_oac_costs(transform: Measured) -> list[CostLine]:
    """olap without the edge signer: CloudFront signs with Origin Access Control at no charge."""
    return [line for line in olap_costs(transform, 0.0) if not line.item.startswith("Lambda@Edge")]


def with_viewer_request_function(lines: list[CostLine]) -> list[CostLine]:
    return [CostLine("CloudFront Function (viewer request; runs on hits too)", CLOUDFRONT_FUNCTION_USD_PER_MILLION), *lines]


def function_url_costs(transform: Measured, image_bytes: int) -> list[CostLine]:
    transform_ms = lambda_ms(transform.seconds, TRANSFORM_MEMORY_MB)
    lines = [
        CostLine("CloudFront Function (viewer request; runs on hits too)", CLOUDFRONT_FUNCTION_USD_PER_MILLION),
        CostLine("function URL", FUNCTION_URL_USD_PER_MILLION),
        CostLine("Lambda requests", LAMBDA_USD_PER_MILLION_REQUESTS),
        CostLine(
            f"Lambda duration ({transform_ms:.0f} ms x 512 MB arm64)",
            MILLION * duration_usd(transform_ms, TRANSFORM_MEMORY_MB, LAMBDA_ARM_USD_PER_GB_SECOND),
        ),
        CostLine("S3 GET by the function's role", S3_GET_USD_PER_THOUSAND * 1000),
    ]
    if transform.mode == "streaming" and image_bytes > STREAMING_FREE_BYTES_PER_RESPONSE:
        lines.append(CostLine("streamed bytes past 6 MB: NOT INCLUDED (see the Lambda pricing page)", 0.0))
    return lines


# ---------------------------------------------------------------- report
def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * width for width in widths], *rows]:
        print("  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))))


def buffered_max_image_bytes() -> int:
    """The largest stripped JPEG a buffered response can carry, headers as the handler sends them."""
    from function_url.render import HttpResponse, buffered_payload_size  # noqa: PLC0415
    from function_url.payload_limits import LAMBDA_BUFFERED_RESPONSE_LIMIT_BYTES  # noqa: PLC0415

    headers = (
        ("Content-Type", "image/jpeg"),
        ("Cache-Control", "public, max-age=31536000, immutable"),
        ("Last-Modified", "Tue, 02 Jan 2024 03:04:05 GMT"),
    )
    low, high = 0, LAMBDA_BUFFERED_RESPONSE_LIMIT_BYTES
    while low < high:
        middle = (low + high + 1) // 2
        size = buffered_payload_size(HttpResponse(200, headers, b"\0" * middle))
        low, high = (middle, high) if size <= LAMBDA_BUFFERED_RESPONSE_LIMIT_BYTES else (low, middle - 1)
    return low


def report(image: bytes, measured: list[Measured], signer_seconds: float) -> None:
    by_mode = {m.mode: m for m in measured}
    print(f"image: {TYPICAL_SIZE[0] * TYPICAL_SIZE[1] / 1e6:.0f} MP photo-like JPEG, quality {TYPICAL_QUALITY}, "
          f"{len(image) / MB:.2f} MB with EXIF, GPS, thumbnail and XMP; stripped {by_mode['olap'].bytes_out / MB:.2f} MB")
    print()
    rows = []
    for mode in ("olap", "buffered", "streaming"):
        m = by_mode[mode]
        rows.append([mode, f"{m.seconds * 1000:.1f}", f"{lambda_ms(m.seconds, TRANSFORM_MEMORY_MB):.0f}",
                     f"{m.seconds / by_mode['olap'].seconds:.2f}x"])
    rows.append(["edge signer (olap only)", f"{signer_seconds * 1000:.3f}", f"{lambda_ms(signer_seconds, EDGE_MEMORY_MB):.0f}", ""])
    _print_table(["handler time per cache miss", "local ms (median)", "est. Lambda ms", "vs olap"], rows)
    print(f"buffered payload: {by_mode['buffered'].bytes_out} bytes of JSON (base64 body) for a "
          f"{by_mode['olap'].bytes_out}-byte image")
    print()
    olap = with_viewer_request_function(olap_costs(by_mode["olap"], signer_seconds))
    olap_oac = with_viewer_request_function(olap_oac_costs(by_mode["olap"]))
    buffered = function_url_costs(by_mode["buffered"], by_mode["olap"].bytes_out)
    streaming = function_url_costs(by_mode["streaming"], by_mode["olap"].bytes_out)
    for title, lines in (("olap (S3 Object Lambda + Lambda@Edge)", olap),
                         ("olap-oac (S3 Object Lambda + Origin Access Control, estimated from olap)", olap_oac),
                         ("function URL, buffered", buffered),
                         ("function URL, streaming", streaming)):
        print(f"cost per million cache misses, {title}")
        _print_table(["  item", "USD"], [[f"  {line.item}", f"{line.usd_per_million:.2f}"] for line in lines])
        print(f"  {'total':<{max(len(line.item) for line in lines)}}  {sum(line.usd_per_million for line in lines):.2f}")
        print()
    olap_total = sum(line.usd_per_million for line in olap)
    print("ratios: " + ", ".join(
        f"{name} / olap {sum(line.usd_per_million for line in lines) / olap_total:.2f}x"
        for name, lines in (("olap-oac", olap_oac), ("buffered", buffered), ("streaming", streaming))))
    print()
    print("largest stripped image per response:")
    print(f"  buffered   {buffered_max_image_bytes() / MB:.2f} MB (6 MiB of JSON with a base64 body)")
    print("  streaming  200 MiB (Lambda's streaming limit), at most 2 MB/s past the first 6 MB, within the function's timeout")
    print("  olap       the MAX_INPUT_BYTES cap (100 MiB by default), within S3 Object Lambda's 60 s")
    print()
    print("assumptions:")
    print(f"  - us-east-1 list prices as of 2026-11-25 (constants in {Path(__file__).name}, each with its pricing page);")
    print("    no free tier, no savings plans; CloudFront requests and egress cost the same in every mode and are left out,")
    print("    as is data transfer from the function or S3 to CloudFront (free from AWS origins)")
    print(f"  - transform: 512 MB arm64; edge signer: 128 MB x86_64; Lambda time = local time x {LAMBDA_MB_PER_VCPU} / memory MB,")
    print("    rounded up to 1 ms; this machine's core stands in for one vCPU, and S3's own latency in the region is not in it;")
    print("    the stand-in servers (moto, the presigned-URL origin) run in this process, so their work is in the local times too")
    print("  - olap: one Object Lambda GET, one Lambda invocation, one S3 GET from the presigned URL, one Lambda@Edge call per miss")
    print("  - olap-oac: the same without the Lambda@Edge call (not measured separately: the transform is olap's)")
    print("  - every mode runs one viewer-request CloudFront Function per request (hits too), counted here per miss")
    print("  - function URL: one Lambda invocation and one S3 GET per miss; the CloudFront Function runs on every request (hits too)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="warm runs per mode (median)")
    args = parser.parse_args(argv)
    print(f"bench/bench_modes.py: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} warm runs per mode",
          flush=True)
    image = typical_jpeg()
    measured = [measure_olap(image, args.runs)]
    with moto_bucket(image) as environ:
        measured.append(measure_buffered(environ, args.runs))
        measured.append(measure_streaming(environ, args.runs))
    report(image, measured, measure_signer())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
