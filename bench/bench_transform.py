"""Benchmark: metadata strip against a Pillow decode-and-re-encode, and the handler's cold import.

Images are generated once into a temporary directory: JPEGs of 1, 12, 24 and 48 megapixels,
a 12-megapixel Ultra HDR JPEG (primary and gain map) and a 12-megapixel PNG, WebP, HEIC (a tiled grid), AVIF and JPEG XL (test-only plugins), each with EXIF (GPS, serial, thumbnail), XMP and a comment,
plus a HEIC and an AVIF with an ISO 21496-1 gain map (tmap item, quarter-size gain map image) and a JPEG XL with a gain-map box.
For each image and each method a fresh Python process loads the image, then measures:

- time: the median of several runs (time.perf_counter), and throughput in MB of input per s;
- peak memory: the kernel's peak resident set (VmHWM, reset through /proc/self/clear_refs
  just before the call) minus the resident set before it. tracemalloc would miss the
  baseline's main cost: Pillow allocates decoded pixels in C, outside Python's allocator.
  A fresh process per measurement keeps memory freed by earlier runs from hiding growth.

Then the import time of olap/handler.py (module load, settings, boto3 client: a cold start)
next to `import boto3` alone, each the median of fresh interpreters. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, NamedTuple

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = REPO_ROOT / "lambdas" / "exif_transform"
MB = 1_000_000

JPEG_SIZES = {  # megapixels -> (width, height)
    1: (1224, 816),
    12: (4000, 3000),
    24: (6000, 4000),
    48: (8000, 6000),
}
LARGE_SIZE = (4000, 3000)
IMPORT_RUNS = 7
BENCH_ENV = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "exif-transform-bench",
}


class Case(NamedTuple):
    label: str
    path: Path
    repeats: int


# ---------------------------------------------------------------- image generation
def _photo_like(size: tuple[int, int]):  # noqa: ANN202 - a PIL image
    """Gradients with sensor-like noise: compresses like a photo (~0.5 byte/pixel as JPEG q90)."""
    from PIL import Image  # noqa: PLC0415

    across = Image.linear_gradient("L").resize(size)
    down = Image.linear_gradient("L").rotate(90).resize(size)
    bases = (across, down, Image.blend(across, down, 0.5))
    return Image.merge("RGB", [Image.blend(base, Image.effect_noise(size, 64), 0.4) for base in bases])


def _metadata_params() -> dict:
    import piexif  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415

    thumbnail = io.BytesIO()
    Image.new("RGB", (160, 120), "gray").save(thumbnail, "JPEG")
    exif = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Make: b"BenchCam", piexif.ImageIFD.Artist: b"Someone"},
            "Exif": {piexif.ExifIFD.BodySerialNumber: b"SN-000123", piexif.ExifIFD.MakerNote: b"\0" * 4096},
            "GPS": {
                piexif.GPSIFD.GPSLatitudeRef: b"N",
                piexif.GPSIFD.GPSLatitude: ((48, 1), (51, 1), (2988, 100)),
                piexif.GPSIFD.GPSLongitudeRef: b"E",
                piexif.GPSIFD.GPSLongitude: ((2, 1), (17, 1), (4020, 100)),
            },
            "1st": {},
            "thumbnail": thumbnail.getvalue(),
        }
    )
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>' + b" " * 2048
    return {"exif": exif, "xmp": xmp}


def _ultra_hdr(size: tuple[int, int], params: dict) -> bytes:
    """An Ultra HDR JPEG as a phone writes it: the primary (EXIF, hdrgm XMP, MPF index) and a
    grey gain map at a quarter of its width and height, through the tests' gain-map builders."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    import gain_map_builders as g  # noqa: PLC0415

    gain_map_out = io.BytesIO()
    _photo_like((size[0] // 4, size[1] // 4)).convert("L").save(gain_map_out, "JPEG", quality=85)
    gain_map = g.with_segments(
        gain_map_out.getvalue(),
        g.b.jpeg_segment(g.APP1, g.XMP_ID + g.ultra_hdr_gain_map_xmp()),
        g.b.jpeg_segment(g.APP2, g.ISO_ID + g.ISO_PARAMETERS),
    )
    primary_out = io.BytesIO()
    _photo_like(size).save(primary_out, "JPEG", quality=90, exif=params["exif"])
    primary = g.with_segments(
        primary_out.getvalue(),
        g.b.jpeg_segment(g.APP1, g.XMP_ID + g.ultra_hdr_primary_xmp(len(gain_map))),
        g.b.jpeg_segment(g.APP2, g.ISO_ID + g.ISO_VERSION_ONLY),
    )
    return g.with_mpf(primary, [(g.TYPE_UNDEFINED, gain_map)])


def generate_images(directory: Path) -> list[Case]:
    params = _metadata_params()
    cases = []
    for megapixels, size in JPEG_SIZES.items():
        path = directory / f"photo-{megapixels}mp.jpg"
        _photo_like(size).save(path, "JPEG", quality=90, comment="bench comment", **params)
        cases.append(Case(f"JPEG {megapixels} MP", path, 7 if megapixels <= 12 else 3))
    large_mp = LARGE_SIZE[0] * LARGE_SIZE[1] // 1_000_000
    ultra_hdr = directory / "ultra-hdr.jpg"
    ultra_hdr.write_bytes(_ultra_hdr(LARGE_SIZE, params))
    cases.append(Case(f"Ultra HDR JPEG {large_mp} MP", ultra_hdr, 7))
    png = directory / "large.png"
    _photo_like(LARGE_SIZE).save(png, "PNG", **params)
    cases.append(Case(f"PNG {large_mp} MP", png, 3))
    webp = directory / "large.webp"
    _photo_like(LARGE_SIZE).save(webp, "WEBP", quality=85, **params)
    cases.append(Case(f"WebP {large_mp} MP", webp, 3))
    # HEIC as a phone writes it (a grid of 512-pixel tiles), AVIF and a JPEG XL container,
    # through the test-only plugins, with the fastest encoder settings (x265 at its default
    # preset takes a minute on this noise).
    import pillow_heif  # noqa: PLC0415
    import pillow_jxl  # noqa: F401, PLC0415

    pillow_heif.register_heif_opener()
    for label, suffix, image_format, options in (
        ("HEIC", ".heic", "HEIF", {"quality": 60, "tile_size": 512, "enc_params": {"preset": "ultrafast"}}),
        ("AVIF", ".avif", "AVIF", {"quality": 70, "speed": 10}),
        ("JPEG XL", ".jxl", "JXL", {"quality": 90, "effort": 1, "use_container": True}),
    ):
        path = directory / f"large{suffix}"
        _photo_like(LARGE_SIZE).save(path, image_format, **options, **params)
        cases.append(Case(f"{label} {large_mp} MP", path, 3))
    jxl_gain_map = directory / "gain-map.jxl"
    jxl_gain_map.write_bytes(_jxl_with_gain_map((directory / "large.jxl").read_bytes(), LARGE_SIZE))
    cases.append(Case(f"JPEG XL with gain map {large_mp} MP", jxl_gain_map, 3))
    cases += _gain_map_images(directory, params)
    return cases


def _gain_map_images(directory: Path, params: dict) -> list[Case]:
    """HEIC and AVIF with an ISO 21496-1 gain map (a quarter-size image, a tmap item and an
    altr group), re-wrapped from two real encodes by the tests' HEIF builder."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    import heif_shapes  # noqa: PLC0415

    cases = []
    gain_size = (LARGE_SIZE[0] // 4, LARGE_SIZE[1] // 4)
    large_mp = LARGE_SIZE[0] * LARGE_SIZE[1] // 1_000_000
    for label, suffix, image_format, options, brands in (
        ("HEIC", ".heic", "HEIF", {"quality": 60, "enc_params": {"preset": "ultrafast"}}, (b"heic", b"mif1", b"heic", b"tmap")),
        ("AVIF", ".avif", "AVIF", {"quality": 70, "speed": 10}, (b"avif", b"mif1", b"avif", b"tmap")),
    ):
        encoded = []
        for size in (LARGE_SIZE, gain_size):
            buffer = io.BytesIO()
            _photo_like(size).save(buffer, image_format, **options)
            encoded.append(buffer.getvalue())
        path = directory / f"gain-map{suffix}"
        path.write_bytes(heif_shapes.tone_mapped(*encoded, exif=params["exif"], xmp=params["xmp"], brands=brands))
        cases.append(Case(f"{label} {large_mp} MP + gain map", path, 3))
    return cases


def _jxl_with_gain_map(container: bytes, size: tuple[int, int]) -> bytes:
    """The JPEG XL container with a 'jhgm' box appended, as libjxl lays it out: version 0,
    the tests' ISO 21496-1 record, no colour encoding, no alternate ICC profile, and a grey
    gain-map codestream at a quarter of the width and height."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    import gain_map_builders as g  # noqa: PLC0415

    codestream = io.BytesIO()
    _photo_like((size[0] // 4, size[1] // 4)).convert("L").save(codestream, "JXL", quality=85, effort=1)
    record = g.ISO_PARAMETERS
    payload = b"\x00" + len(record).to_bytes(2, "big") + record + b"\x00" + bytes(4) + codestream.getvalue()
    return container + (8 + len(payload)).to_bytes(4, "big") + b"jhgm" + payload


# ---------------------------------------------------------------- one measurement (child process)
def _kib_field(name: str) -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{name}:\s+(\d+) kB", status, re.MULTILINE).group(1)) * 1024


def _operation(method: str) -> Callable[[bytes], bytes]:
    if method == "strip":
        sys.path.insert(0, str(FUNCTION_DIR))
        import metadata  # noqa: PLC0415

        return metadata.strip

    import pillow_heif  # noqa: PLC0415
    import pillow_jxl  # noqa: F401, PLC0415
    from PIL import Image  # noqa: PLC0415

    pillow_heif.register_heif_opener()

    def reencode(data: bytes) -> bytes:
        with Image.open(io.BytesIO(data)) as image:
            out = io.BytesIO()
            extra = {"quality": "keep"} if image.format == "JPEG" else {}
            image.save(out, image.format, **extra)
            return out.getvalue()

    return reencode


def _small_image_like(path: Path) -> bytes:
    from PIL import Image  # noqa: PLC0415

    out = io.BytesIO()
    if path.suffix in (".heic", ".jxl"):
        import pillow_heif  # noqa: PLC0415
        import pillow_jxl  # noqa: F401, PLC0415

        pillow_heif.register_heif_opener()
    formats = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".heic": "HEIF", ".avif": "AVIF", ".jxl": "JXL"}
    Image.new("RGB", (16, 16), "gray").save(out, formats[path.suffix])
    return out.getvalue()


def measure(method: str, path: Path, repeats: int) -> dict:
    operation = _operation(method)
    operation(_small_image_like(path))  # first-call imports and plugin setup stay out of the peak
    data = path.read_bytes()
    before = _kib_field("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    result = operation(data)
    peak = _kib_field("VmHWM") - before
    out_bytes = len(result)
    del result
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        operation(data)
        times.append(time.perf_counter() - started)
    return {"seconds": statistics.median(times), "peak_bytes": peak, "out_bytes": out_bytes}


def _measure_in_child(method: str, case: Case) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--measure", method, str(case.path), str(case.repeats)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "failed"}
    return json.loads(completed.stdout)


# ---------------------------------------------------------------- import time
def _import_seconds(statement: str) -> float:
    code = (
        f"import sys, time; sys.path.insert(0, {str(FUNCTION_DIR)!r}); "
        f"started = time.perf_counter(); {statement}; print(time.perf_counter() - started)"
    )
    runs = []
    for _ in range(IMPORT_RUNS):
        completed = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **BENCH_ENV},
        )
        runs.append(float(completed.stdout))
    return statistics.median(runs)


# ---------------------------------------------------------------- report
def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(cells, widths)))


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(_row(header, widths))
    print(_row(["-" * width for width in widths], widths))
    for row in rows:
        print(_row(row, widths))


def report(cases: list[Case]) -> None:
    header = [
        "image", "input MB", "strip ms", "strip MB/s", "strip peak MB", "peak/input",
        "re-encode ms", "re-encode MB/s", "re-encode peak MB", "speed-up",
    ]  # fmt: skip
    rows = []
    for case in cases:
        size = case.path.stat().st_size
        strip = _measure_in_child("strip", case)
        baseline = _measure_in_child("reencode", case)
        if "error" in strip or "error" in baseline:
            rows.append([case.label, f"{size / MB:.1f}", strip.get("error", "") or baseline.get("error", "")])
            rows[-1] += [""] * (len(header) - len(rows[-1]))
            continue
        rows.append(
            [
                case.label,
                f"{size / MB:.1f}",
                f"{strip['seconds'] * 1000:.1f}",
                f"{size / MB / strip['seconds']:.0f}",
                f"{strip['peak_bytes'] / MB:.1f}",
                f"{strip['peak_bytes'] / size:.2f}x",
                f"{baseline['seconds'] * 1000:.0f}",
                f"{size / MB / baseline['seconds']:.1f}",
                f"{baseline['peak_bytes'] / MB:.1f}",
                f"{baseline['seconds'] / strip['seconds']:.0f}x",
            ]
        )
    _print_table(header, rows)
    print()
    print(
        "peak = growth of the process's peak resident set during one call (VmHWM), "
        "speed-up = re-encode time / strip time"
    )
    print()
    boto3_alone = _import_seconds("import boto3")
    handler_import = _import_seconds("import olap.handler")
    _print_table(
        ["cold import (median of 7 fresh interpreters)", "ms"],
        [
            ["import boto3", f"{boto3_alone * 1000:.0f}"],
            ["import olap.handler (Powertools, Pillow, settings, boto3 client)", f"{handler_import * 1000:.0f}"],
            ["handler / boto3", f"{handler_import / boto3_alone:.2f}x"],
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", nargs=3, metavar=("METHOD", "IMAGE", "REPEATS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        method, image, repeats = args.measure
        print(json.dumps(measure(method, Path(image), int(repeats))))
        return 0
    print(f"bench/bench_transform.py: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-transform-") as directory:
        cases = generate_images(Path(directory))
        report(cases)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
