"""Runs the CloudFront Function's JavaScript tests under node, so that `make test` covers them.

The tests themselves live in tests/cloudfront_functions/*.test.mjs (node's built-in runner). Without node
they cannot run, and that is a failure, not a skip.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
JS_TEST_DIR = REPO_ROOT / "tests" / "cloudfront_functions"
# The node suite's size today is 154 tests; far fewer passing means tests went missing, not that all is well.
MIN_PASSED = 150
NODE_TIMEOUT_S = 120


def _summary(tap, name):
    match = re.search(rf"^# {name} (\d+)$", tap, re.MULTILINE)
    return int(match[1]) if match else None


def test_cloudfront_function_node_suite_passes():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the CloudFront Function's tests need Node.js 20 or later (`node --test`)")
    # Files are named explicitly: node 20 searches a directory argument, node 22 treats arguments as globs.
    test_files = sorted(str(p) for p in JS_TEST_DIR.glob("*.test.mjs"))
    assert test_files, f"no *.test.mjs files in {JS_TEST_DIR}"
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", *test_files],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"node --test exited with {result.returncode}:\n{report}"
    counts = {name: _summary(result.stdout, name) for name in ("pass", "fail", "cancelled", "skipped", "todo")}
    assert None not in counts.values(), f"no TAP summary from node --test:\n{report}"
    assert counts["fail"] == 0 and counts["cancelled"] == 0, report
    assert counts["skipped"] == 0 and counts["todo"] == 0, f"skipped or todo tests hide missing coverage:\n{report}"
    assert counts["pass"] >= MIN_PASSED, f"only {counts['pass']} node tests passed, expected at least {MIN_PASSED}"
