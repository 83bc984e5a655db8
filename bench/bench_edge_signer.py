"""Benchmark of the Lambda@Edge signer: its cold-start import cost and the time to sign one request.

Import times come from fresh interpreters (median of several), so nothing is cached between runs; the handler's is
set next to `import botocore.auth` alone, the floor any botocore-based signer pays. Prints numbers, asserts nothing.
"""

import argparse
import contextlib
import copy
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
HANDLER_PATH = REPO_ROOT / "lambdas" / "edge_signer" / "handler.py"

# Runs in a fresh interpreter and prints the seconds the import statement took.
_TIMED_IMPORT = """
import time
start = time.perf_counter()
{statement}
print(time.perf_counter() - start)
"""
_IMPORT_HANDLER = (
    "import importlib.util\n"
    "spec = importlib.util.spec_from_file_location('index', {path!r})\n"
    "spec.loader.exec_module(importlib.util.module_from_spec(spec))"
)

# Placeholder credentials shaped like the runtime's reserved variables; nothing is sent anywhere.
_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "ASIABENCHMARKEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "bench/secret/key/EXAMPLE",
    "AWS_SESSION_TOKEN": "bench-session-token-EXAMPLE",
}
_EVENT = {
    "Records": [
        {
            "cf": {
                "config": {
                    "eventType": "origin-request",
                    "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
                },
                "request": {
                    "clientIp": "203.0.113.178",
                    "method": "GET",
                    "uri": "/albums/2024/summer%20trip/photo(1).jpg",
                    "querystring": "showExif=true&b=2",
                    "headers": {
                        "host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}],
                        "user-agent": [{"key": "User-Agent", "value": "Amazon CloudFront"}],
                        "via": [{"key": "Via", "value": "2.0 2afae0d44e2540f4.cloudfront.net (CloudFront)"}],
                    },
                    "origin": {
                        "custom": {
                            "domainName": "anon-s3ol-olap-123456789012.s3-object-lambda.eu-west-3.amazonaws.com",
                            "port": 443,
                            "protocol": "https",
                        }
                    },
                },
            }
        }
    ]
}


def import_seconds(statement, runs):
    """Median seconds `statement` takes in a fresh interpreter, over `runs` interpreters."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **_ENVIRONMENT)
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _TIMED_IMPORT.format(statement=statement)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        samples.append(float(out.strip().splitlines()[-1]))
    return statistics.median(samples)


def sign_seconds(iterations):
    """Median and 90th percentile seconds of one warm handler call (canonicalise, load credentials, sign)."""
    os.environ.update(_ENVIRONMENT)
    import importlib.util

    spec = importlib.util.spec_from_file_location("index", HANDLER_PATH)
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    events = [copy.deepcopy(_EVENT) for _ in range(iterations)]
    samples = []
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        handler.lambda_handler(copy.deepcopy(_EVENT), None)  # warm-up: first-call lazy imports
        for event in events:
            start = time.perf_counter()
            handler.lambda_handler(event, None)
            samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="fresh interpreters per import measurement")
    parser.add_argument("--iterations", type=int, default=5000, help="handler calls for the signing time")
    args = parser.parse_args(argv)

    botocore_auth = import_seconds("import botocore.auth", args.runs)
    handler = import_seconds(_IMPORT_HANDLER.format(path=str(HANDLER_PATH)), args.runs)
    median, p90 = sign_seconds(args.iterations)

    where = HANDLER_PATH.relative_to(REPO_ROOT)
    print(f"{where}: Python {sys.version.split()[0]}, {args.runs} fresh interpreters per import")
    print(f"  import botocore.auth alone      {botocore_auth * 1000:8.1f} ms (median)")
    print(f"  import edge signer handler      {handler * 1000:8.1f} ms (median)")
    print(f"  ratio handler / botocore.auth   {handler / botocore_auth:8.2f}x")
    print(f"  sign one request (warm)         {median * 1e6:8.1f} us median, {p90 * 1e6:.1f} us p90 "
          f"over {args.iterations} calls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
