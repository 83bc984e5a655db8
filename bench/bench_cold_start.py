"""Cold start: the cost of importing each Lambda entry module, against `import boto3`.

Each measurement is a fresh interpreter (python -X importtime is not used: it slows the
imports it measures); the median of RUNS is printed, with the ratio to `import boto3`
(issue 16's goal: at most 1.5x). Both handlers import boto3 and make their S3 client on
the first request; the last rows show what that request adds. Nothing is read from AWS.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_DIR = ROOT / "lambdas" / "exif_transform"
RUNS = 9
ENV = {
    **os.environ,
    "PYTHONPATH": str(FUNCTION_DIR),
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "BUCKET_NAME": "images",
    "POWERTOOLS_SERVICE_NAME": "cold-start-bench",
}
CASES = {
    "import boto3": "import boto3",
    "olap.handler": "import olap.handler",
    "function_url.handler (--buffered)": "import function_url.handler",
    "function_url.server (streaming)": "import function_url.server",
    # What the first request adds on top (boto3 and the S3 client), for scale.
    "olap.handler + its S3 client": "import olap.handler; olap.handler.make_clients()",
    "function_url.handler + its S3 client": "import function_url.handler; function_url.handler.make_clients()",
}


def measure(statement: str, function_dir: Path) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {**ENV, "PYTHONPATH": str(function_dir)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=function_dir)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--function-dir", type=Path, default=FUNCTION_DIR, help="another copy of lambdas/exif_transform, to compare")
    function_dir = parser.parse_args().function_dir
    medians = {}
    for name, statement in CASES.items():
        try:
            measure(statement, function_dir)  # warm the file cache
        except subprocess.CalledProcessError:
            continue  # not in that copy (an older one has no make_clients)
        medians[name] = statistics.median(measure(statement, function_dir) for _ in range(RUNS))
    base = medians["import boto3"]
    print(f"cold start: import time, median of {RUNS} fresh interpreters")
    for name, value in medians.items():
        print(f"  {name:38} {value * 1000:7.1f} ms  {value / base:4.2f}x import boto3")


if __name__ == "__main__":
    main()
