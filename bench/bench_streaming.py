"""Benchmark: a cache miss through each mode's streaming pipeline, against the transfer floor.

A throttled S3 stand-in on 127.0.0.1 serves the original at RATE (it also takes the
WriteGetObjectResponse of the S3 Object Lambda mode), and a viewer reads the answer at the
same RATE. Per case it prints the time from request to last byte, that time over the floor
(floor = original size / RATE: the original cannot arrive faster), the time to the first
byte, and the peak memory growth of the process that strips (VmHWM after the request,
reset by /proc/PID/clear_refs, minus VmRSS before it). A bare proxy of the same bytes,
nothing stripped, runs beside each case for scale.

    url     python -m function_url.server (what run.sh starts under Lambda Web Adapter)
    olap    olap.handler.lambda_handler, WriteGetObjectResponse streamed

Images are synthetic and cached under build/bench-streaming (never in git): JPEG (a
Pillow head with EXIF, XMP, ICC and a comment, scan data of random bytes), PNG (a text
chunk, IDAT chunks of random bytes) and HEIC (a grid of real lossless HEVC tiles of
noise), of 12 MP, 48 MP and about 200 MB. JPEG, PNG and HEIC stream natively (TIFF alone is
held whole, within MAX_INPUT_BYTES). --formats, --sizes and --modes (url, olap) select the cases
(e.g. --formats heic --modes url). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import ssl
import struct
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambdas" / "exif_transform"), str(ROOT / "tests")]
CACHE = ROOT / "build" / "bench-streaming"
BUCKET = "images"
MB = 1_000_000
MIB = 1024 * 1024
CHUNK = 256 * 1024
SEED = 16

# name -> (pixels as width x height, approximate size in bytes)
SIZES = {"12 MP": ((4000, 3000), 6 * MB), "48 MP": ((8000, 6000), 24 * MB), "200 MB": ((16000, 10000), 200 * MB)}


# ---------------------------------------------------------------- images
def _random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def jpeg_image(dimensions: tuple[int, int], size: int) -> bytes:
    import image_builders as b

    head_and_all = b.jpeg(6)
    structure = b.jpeg_structure(head_and_all)
    head = bytearray(head_and_all[: structure.scan_start])
    sof = head.find(b"\xff\xc0")
    struct.pack_into(">HH", head, sof + 5, dimensions[1], dimensions[0])
    sos_length = int.from_bytes(head_and_all[structure.scan_start + 2 : structure.scan_start + 4], "big")
    sos = head_and_all[structure.scan_start : structure.scan_start + 2 + sos_length]
    scan = _random_bytes(size, SEED).replace(b"\xff", b"\x7f")  # no markers in the entropy-coded data
    return bytes(head) + sos + scan + b"\xff\xd9"


def _png_chunk(name: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + name + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(name)))


def png_image(dimensions: tuple[int, int], size: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", dimensions[0], dimensions[1], 8, 2, 0, 0, 0)
    data = _random_bytes(size, SEED)
    idats = [_png_chunk(b"IDAT", data[i : i + MIB]) for i in range(0, len(data), MIB)]
    text = _png_chunk(b"tEXt", b"Comment\x00secret place")
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + text + b"".join(idats) + _png_chunk(b"IEND", b"")


def heic_image(dimensions: tuple[int, int], size: int) -> bytes:
    import isobmff_builders as ib
    from PIL import Image

    tile_side = 512
    tile = ib.read_heif(ib.encode_heic(Image.frombytes("RGB", (tile_side, tile_side), _random_bytes(3 * tile_side**2, SEED))))
    coded = tile.items[tile.primary]
    count = max(1, round(size / len(coded.data)))
    columns = min(255, max(1, round((count * dimensions[0] / dimensions[1]) ** 0.5)))
    rows = -(-count // columns)
    specs = [ib.Spec(1, b"grid", ib.grid_descriptor(rows, columns, columns * tile_side, rows * tile_side),
                     [(ib.ispe(columns * tile_side, rows * tile_side), False)], method=1)]
    specs += [ib.Spec(2 + i, b"hvc1", coded.data, coded.properties, hidden=True) for i in range(rows * columns)]
    return ib.heif_file(specs, 1, [(b"dimg", 1, [spec.id for spec in specs[1:]])])


BUILDERS = {"jpeg": jpeg_image, "png": png_image, "heic": heic_image}


def build(kind: str, label: str) -> Path:
    path = CACHE / f"{kind}-{label.replace(' ', '')}.{kind}"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        dimensions, size = SIZES[label]
        path.write_bytes(BUILDERS[kind](dimensions, size))
    return path


# ---------------------------------------------------------------- the S3 stand-in
class Origin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, rate: float) -> None:
        super().__init__(("127.0.0.1", 0), _OriginHandler)
        self.rate = rate
        self.files: dict[str, Path] = {}
        self.writes: dict[str, dict] = {}  # route -> first, end (WriteGetObjectResponse)
        self.done = threading.Condition()


def _paced(rate: float, started: float, sent: int) -> None:
    delay = started + sent / rate - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


class _OriginHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Origin

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        key = self.path.split("?")[0].removeprefix(f"/{BUCKET}/")
        path = self.server.files.get(key)
        if path is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = path.stat().st_size
        first, last = 0, size - 1
        ranged = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        if ranged:
            first, last = int(ranged[1]), min(int(ranged[2]), size - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("ETag", '"bench"')
        self.send_header("Content-Type", "binary/octet-stream")
        self.end_headers()
        started, sent = time.perf_counter(), 0
        with path.open("rb") as file:
            file.seek(first)
            while sent < last - first + 1:
                chunk = file.read(min(CHUNK, last - first + 1 - sent))
                self.wfile.write(chunk)
                sent += len(chunk)
                _paced(self.server.rate, started, sent)

    def do_POST(self) -> None:
        """WriteGetObjectResponse: the body read as a viewer reads it, at the rate."""
        route = self.headers.get("Host", "").split(".")[0]
        record: dict = {"start": time.perf_counter(), "bytes": 0}
        started = record["start"]
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        remaining = int(self.headers.get("Content-Length") or 0)
        while True:
            if chunked:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
            else:
                size = min(CHUNK, remaining)
                if size == 0:
                    break
            data = self.rfile.read(size)
            if chunked:
                self.rfile.read(2)
            remaining -= len(data)
            record.setdefault("first", time.perf_counter())
            record["bytes"] += len(data)
            _paced(self.server.rate, started, record["bytes"])
        record["end"] = time.perf_counter()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with self.server.done:
            self.server.writes[route] = record
            self.server.done.notify_all()


# ---------------------------------------------------------------- processes and memory
def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


class Memory:
    """Peak RSS growth of one process over one request."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def __enter__(self) -> Memory:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        self.before = _status(self.pid, "VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        self.growth = _status(self.pid, "VmHWM") - self.before


def _environment(origin: Origin, config: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "lambdas" / "exif_transform"),
        "AWS_ENDPOINT_URL": f"http://localhost:{origin.server_address[1]}",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "BUCKET_NAME": BUCKET,
        "MAX_INPUT_BYTES": str(300 * MIB),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def _wait_ready(process: subprocess.Popen, port: int | None = None) -> None:
    if port is None:
        assert process.stdout.readline().strip() == "ready"
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def view(port: int, key: str, rate: float) -> tuple[float, float]:
    """GET as a viewer reading at `rate`: (seconds to the last byte, to the first)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    connection.request("GET", "/" + key)
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{key}: HTTP {response.status} {response.read()[:200]!r}")
    first, received = None, 0
    while chunk := response.read1(CHUNK):
        first = first or time.perf_counter()
        received += len(chunk)
        _paced(rate, first, received)
    connection.close()
    return time.perf_counter() - started, (first or time.perf_counter()) - started


# ---------------------------------------------------------------- the cases
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="MB/s of the origin and the viewer (100)")
    parser.add_argument("--sizes", default=",".join(SIZES), help="which of: " + ", ".join(SIZES))
    parser.add_argument("--formats", default="jpeg,png,heic")
    parser.add_argument("--modes", default="url,olap", help="which of: url, olap")
    args = parser.parse_args()
    modes = args.modes.split(",")
    rate = args.rate * MB
    origin = Origin(rate)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    # S3 Object Lambda hands the function an https presigned URL, and the function fetches only https: the
    # same files are served over TLS too, with a certificate made here that the olap worker alone trusts.
    presigned_origin, ca_file = _tls_origin(rate)
    presigned_origin.files = origin.files
    threading.Thread(target=presigned_origin.serve_forever, daemon=True).start()
    CACHE.mkdir(parents=True, exist_ok=True)
    config = CACHE / "aws-config"
    config.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
    env = _environment(origin, config)
    env["BENCH_PRESIGNED_ENDPOINT"] = f"https://127.0.0.1:{presigned_origin.server_address[1]}"
    env["BENCH_CA_FILE"] = str(ca_file)

    print(f"cache-miss pipeline at {args.rate:g} MB/s in and out (floor = original size / rate); "
          "growth = peak RSS growth of the process that strips, fresh processes per case after one warm request")
    print(f"{'mode':5} {'image':12} {'MB':>7} | {'time s':>7} {'x floor':>7} {'TTFB ms':>8} {'growth MiB':>10} | "
          f"{'bare s':>7} {'x floor':>7} {'TTFB ms':>8} {'growth MiB':>10}")
    routes = iter(range(1_000_000))
    try:
        for kind in args.formats.split(","):
            for label in args.sizes.split(","):
                path = build(kind, label)
                origin.files[path.name] = path
                _one_case(origin, env, path, rate, routes, modes)
    finally:
        origin.shutdown()
        presigned_origin.shutdown()


def _tls_origin(rate: float) -> tuple[Origin, Path]:
    sys.path.insert(0, str(ROOT / "tests"))
    from olap_fixtures import self_signed_certificate  # noqa: PLC0415 - a test helper, only for this bench

    (CACHE / "tls").mkdir(parents=True, exist_ok=True)
    ca_file, key_file = self_signed_certificate(CACHE / "tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca_file, key_file)
    origin = Origin(rate)
    origin.socket = context.wrap_socket(origin.socket, server_side=True)
    return origin, ca_file


def _one_case(origin: Origin, env: dict, path: Path, rate: float, routes, modes: list[str]) -> None:  # noqa: ANN001
    key, size = path.name, path.stat().st_size
    floor = size / rate
    url_port, bare_port = _free_port(), _free_port()
    worker = str(ROOT / "bench" / "streaming_worker.py")
    url = subprocess.Popen([sys.executable, "-m", "function_url.server", "--port", str(url_port)], env=env, cwd=ROOT / "lambdas" / "exif_transform")
    bare = subprocess.Popen([sys.executable, worker, "url-bare", str(bare_port)], env=env, stdout=subprocess.PIPE, text=True)
    olap = subprocess.Popen([sys.executable, worker, "olap"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        _wait_ready(url, url_port)
        _wait_ready(bare)
        _wait_ready(olap)
        if "olap" not in modes:
            olap.kill()
        results = {}
        for name, pid, port in (("url", url.pid, url_port), ("url bare", bare.pid, bare_port)) if "url" in modes else ():
            view(port, key, rate)  # warm: the first request makes the S3 client
            with Memory(pid) as memory:
                total, first = view(port, key, rate)
            results[name] = (total, first, memory.growth)
        for mode in ("strip", "bare", "strip", "bare") if "olap" in modes else ():  # the first two warm up
            route = f"r{next(routes)}"
            with Memory(olap.pid) as memory:
                started = time.perf_counter()
                olap.stdin.write(f"{mode} {key} {route}\n")
                olap.stdin.flush()
                olap.stdout.readline()
            write = origin.writes.pop(route)
            results[f"olap {mode}"] = (write["end"] - started, write.get("first", write["end"]) - started, memory.growth)
    finally:
        for process in (url, bare, olap):
            process.kill()
            process.wait()
    kind = path.name.split("-")[0]
    label = [name for name in SIZES if name.replace(" ", "") in path.name][0]
    for mode, strip, plain in (("url", results.get("url"), results.get("url bare")), ("olap", results.get("olap strip"), results.get("olap bare"))):
        if mode not in modes:
            continue
        print(f"{mode:5} {kind + ' ' + label:12} {size / MB:7.1f} | {strip[0]:7.2f} {strip[0] / floor:7.2f} {strip[1] * 1000:8.0f} "
              f"{strip[2] / MIB:10.1f} | {plain[0]:7.2f} {plain[0] / floor:7.2f} {plain[1] * 1000:8.0f} {plain[2] / MIB:10.1f}",
              flush=True)


if __name__ == "__main__":
    main()
