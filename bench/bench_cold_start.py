"""Cold start: the cost of importing each Lambda entry module, against `import boto3`.

Each measurement is a fresh interpreter (python -X importtime is not used: it slows the
imports it measures); the median of RUNS is printed, with the ratio to `import boto3`
(issue 16's goal: at most 1.5x). Both handlers import boto3 and make their S3 client on
the first request; the last rows show what that request adds. Nothing is read from AWS.
"""

from __future__ import annotations

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


def measure(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, check=True, cwd=FUNCTION_DIR)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    medians = {}
    for name, statement in CASES.items():
        measure(statement)  # warm the file cache
        medians[name] = statistics.median(measure(statement) for _ in range(RUNS))
    base = medians["import boto3"]
    print(f"cold start: import time, median of {RUNS} fresh interpreters")
    for name, value in medians.items():
        print(f"  {name:38} {value * 1000:7.1f} ms  {value / base:4.2f}x import boto3")


if __name__ == "__main__":
    main()
