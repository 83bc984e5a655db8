#!/usr/bin/env python3
"""Build the project's CloudFormation templates, write them as JSON and lint them with cfn-lint.

templates/storage.json, lambda-edge.json and cdn.json deploy the S3 Object Lambda mode (the default);
storage.json (OriginMode=olap-oac) and cdn-oac.json the same through Origin Access Control, without Lambda@Edge;
templates/function-url.json deploys the function-URL mode as one stack;
templates/audit.json is the bucket audit run by S3 Batch Operations (`anon-s3ol audit --batch`).

Exit codes: 0 templates written (or fresh, with --check) and no cfn-lint finding;
1 a cfn-lint finding, a stale template (--check) or a template that cannot be built;
2 a bad command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, NamedTuple

from troposphere import Template

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from stacks.audit import build_audit  # noqa: E402
from stacks.cdn import build_cdn  # noqa: E402
from stacks.cdn_oac import build_cdn_oac  # noqa: E402
from stacks.common import EDGE_REGION  # noqa: E402
from stacks.distribution import ViewerRequestCodeTooLarge  # noqa: E402
from stacks.function_url import build_function_url  # noqa: E402
from stacks.lambda_edge import InlineCodeTooLarge, build_lambda_edge  # noqa: E402
from stacks.storage import build_storage  # noqa: E402

EDGE_SIGNER_SOURCE = ROOT / "lambdas" / "edge_signer" / "handler.py"
CLOUDFRONT_FUNCTIONS = ROOT / "cloudfront_functions"
# Every viewer-request function starts with the shared query normalisation, then its mode's handler.
SHOW_EXIF_QUERY_SOURCE = CLOUDFRONT_FUNCTIONS / "show_exif_query.js"
FUNCTION_URL_VIEWER_REQUEST = CLOUDFRONT_FUNCTIONS / "encode_uri.js"
OBJECT_LAMBDA_VIEWER_REQUEST = CLOUDFRONT_FUNCTIONS / "query_only.js"

# storage and cdn deploy to the user's region: lint them against a spread of regions so that a resource
# type or property missing somewhere is reported. lambda-edge only ever deploys to us-east-1.
TARGET_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"]


class Stack(NamedTuple):
    name: str
    build: Callable[[], Template]
    lint_regions: list[str]
    # The file a build error is about (inline code over a size limit).
    source: Path | None = None


def viewer_request_code(handler: Path) -> str:
    """The CloudFront Function's code: the shared query normalisation, a newline, the mode's handler."""
    return "\n".join(path.read_text(encoding="utf-8") for path in (SHOW_EXIF_QUERY_SOURCE, handler))


def stacks() -> list[Stack]:
    return [
        Stack("storage", build_storage, TARGET_REGIONS),
        Stack(
            "lambda-edge",
            lambda: build_lambda_edge(EDGE_SIGNER_SOURCE.read_text(encoding="utf-8")),
            [EDGE_REGION],
            EDGE_SIGNER_SOURCE,
        ),
        Stack(
            "cdn",
            lambda: build_cdn(viewer_request_code(OBJECT_LAMBDA_VIEWER_REQUEST)),
            TARGET_REGIONS,
            OBJECT_LAMBDA_VIEWER_REQUEST,
        ),
        Stack(
            "cdn-oac",
            lambda: build_cdn_oac(viewer_request_code(OBJECT_LAMBDA_VIEWER_REQUEST)),
            TARGET_REGIONS,
            OBJECT_LAMBDA_VIEWER_REQUEST,
        ),
        Stack(
            "function-url",
            lambda: build_function_url(viewer_request_code(FUNCTION_URL_VIEWER_REQUEST)),
            TARGET_REGIONS,
            FUNCTION_URL_VIEWER_REQUEST,
        ),
        Stack("audit", build_audit, TARGET_REGIONS),
    ]


def shown(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def render(template: Template) -> str:
    """Indented JSON with sorted keys and a trailing newline: the same template always gives the same bytes."""
    return template.to_json(indent=2, sort_keys=True) + "\n"


def lint(text: str, regions: list[str]) -> list[str]:
    """Every cfn-lint finding (errors, warnings and informational), sorted, as `rule message (line:col)`."""
    from cfnlint.api import ManualArgs, lint as cfn_lint

    matches = cfn_lint(text, config=ManualArgs(include_checks=["I"], regions=regions))
    return sorted(f"{m.rule.id} {m.message} (line {m.linenumber}, column {m.columnnumber})" for m in matches)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="generate.py",
        description="Build templates/storage.json, lambda-edge.json and cdn.json (the S3 Object Lambda mode), "
        "cdn-oac.json (the same through Origin Access Control), templates/function-url.json (the "
        "function-URL mode) and templates/audit.json (the bucket audit), then lint each with cfn-lint (any finding fails).",
        epilog="Exit codes: 0 success; 1 lint finding, stale template or build error; 2 bad command line.",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "templates", help="output directory (default: templates)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="build in memory and fail if a file on disk differs (nothing is written)",
    )
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    failed = False
    if not args.check:
        args.out.mkdir(parents=True, exist_ok=True)
    for stack in stacks():
        path = args.out / f"{stack.name}.json"
        try:
            template = stack.build()
        except (InlineCodeTooLarge, ViewerRequestCodeTooLarge) as error:
            print(f"{stack.source.relative_to(ROOT)}: {error}", file=sys.stderr)
            return 1
        text = render(template)
        on_disk = path.read_text(encoding="utf-8") if path.exists() else None
        if args.check and on_disk != text:
            print(f"{shown(path)}: stale, run `python generate.py` to rebuild it", file=sys.stderr)
            failed = True
            continue
        if not args.check and on_disk != text:
            path.write_text(text, encoding="utf-8")
        resources = len(template.resources)
        if args.no_lint:
            print(f"{shown(path)}: {resources} resources, not linted")
            continue
        findings = lint(text, stack.lint_regions)
        print(f"{shown(path)}: {resources} resources, {len(findings)} cfn-lint findings")
        for finding in findings:
            print(f"  {finding}")
        failed = failed or bool(findings)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
