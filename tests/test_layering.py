"""The transform's layers import downwards only, checked over every module's imports (AST).

    metadata  <-  serving  <-  olap, function_url, audit

metadata is the pure core and serving what the adapters share: neither imports an AWS SDK,
Powertools or a network module, nor an adapter. The adapters (the two serving modes and
the bucket audit) never import each other. At most two modules may sit loose beside the packages (entry shims).

The tests follow one rule of their own: no module under tests/ imports a test module (tests/test_*.py) or edits
sys.path; what tests share lives in helper modules whose names do not start with `test_`, fixtures in conftest.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
FUNCTION_DIR = TESTS_DIR.parent / "lambdas" / "exif_transform"
PACKAGES = ("metadata", "serving", "olap", "function_url", "audit")
ADAPTERS = frozenset({"olap", "function_url", "audit"})
MAX_LOOSE_MODULES = 2

AWS_AND_POWERTOOLS = frozenset({"boto3", "botocore", "aws_lambda_powertools", "s3transfer", "urllib3"})
NETWORK_MODULES = frozenset({"socket", "ssl", "http.client", "http.server", "urllib.request", "socketserver", "requests"})
# What each layer may not import, beyond the packages above it.
FORBIDDEN: dict[str, frozenset[str]] = {
    "metadata": AWS_AND_POWERTOOLS | NETWORK_MODULES | {"serving"} | ADAPTERS,
    "serving": AWS_AND_POWERTOOLS | NETWORK_MODULES | ADAPTERS,
    **{adapter: ADAPTERS - {adapter} for adapter in ADAPTERS},
}


def imported_names(source: str, module: str) -> set[str]:
    """Every module `source` imports, as dotted absolute names (relative imports resolved from `module`)."""
    package_parts = module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def _matches(name: str, forbidden: str) -> bool:
    return name == forbidden or name.startswith(forbidden + ".")


def violations(source: str, module: str) -> list[str]:
    """The imports in `source` (module `module`) that break the layering."""
    layer = module.split(".")[0]
    forbidden = FORBIDDEN.get(layer, frozenset())
    return sorted(
        f"{module} imports {name}"
        for name in imported_names(source, module)
        if any(_matches(name, banned) for banned in forbidden)
    )


def _modules() -> list[tuple[str, Path]]:
    found = []
    for package in PACKAGES:
        for path in sorted((FUNCTION_DIR / package).rglob("*.py")):
            parts = path.relative_to(FUNCTION_DIR).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = (*parts[:-1], "__init__")
            found.append((".".join(parts), path))
    return found


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[module for module, _ in _modules()])
def test_every_module_imports_downwards_only(module, path):
    assert violations(path.read_text(), module) == []


def test_the_function_is_its_packages_and_few_loose_modules():
    packages = sorted(path.name for path in FUNCTION_DIR.iterdir() if (path / "__init__.py").is_file())
    assert packages == sorted(PACKAGES)
    loose = sorted(path.name for path in FUNCTION_DIR.glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, loose


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import boto3\n", "metadata.formats.jpeg", "metadata.formats.jpeg imports boto3"),
        ("from botocore.config import Config\n", "serving.pipeline", "serving.pipeline imports botocore.config"),
        ("import urllib.request\n", "serving.original", "serving.original imports urllib.request"),
        ("from http import client\n", "metadata.exif_json", "metadata.exif_json imports http.client"),
        ("from ..olap import event\n", "serving.pipeline", "serving.pipeline imports olap"),
        ("from ...serving import reply\n", "metadata.formats.png", "metadata.formats.png imports serving"),
        ("from function_url.render import render_http\n", "olap.render", "olap.render imports function_url.render"),
        ("import olap.event\n", "function_url.serve", "function_url.serve imports olap.event"),
        ("from aws_lambda_powertools import Logger\n", "serving.request_log", "serving.request_log imports aws_lambda_powertools"),
        ("from function_url.bucket_read import s3_client\n", "audit.handler", "audit.handler imports function_url.bucket_read"),
        ("from ..audit.task import audit_task\n", "serving.audit_row", "serving.audit_row imports audit.task"),
    ],
)
def test_a_wrong_import_is_reported(source, module, expected):
    assert expected in violations(source, module)


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("from metadata import ImageError\n", "serving.error_table"),
        ("from .errors import FetchError\n", "serving.original"),
        ("from serving.reply import Reply\nimport boto3\n", "olap.handler"),
        ("from urllib.parse import unquote\n", "serving.request_query"),
        ("from ..byte_reader import ByteReader\n", "metadata.formats.webp"),
        ("from serving.original import read_bounded\n", "audit.object_read"),
    ],
)
def test_a_downward_import_is_allowed(source, module):
    assert violations(source, module) == []


# ---------------------------------------------------------------- the tests share helper modules, not test modules

TEST_MODULES = frozenset(path.stem for path in TESTS_DIR.glob("test_*.py"))


def shared_code_violations(source: str, module: str, test_modules: frozenset[str] = TEST_MODULES) -> list[str]:
    """What in `source` (tests/<module>.py) imports a test module or touches sys.path: a test module
    imported elsewhere runs its tests twice and ties their fixtures together; a sys.path edit hides
    that pytest.ini already sets the import path."""
    found = {f"{module} imports {name.split('.')[0]}" for name in imported_names(source, module) if name.split(".")[0] in test_modules}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name) and node.value.id == "sys":
            found.add(f"{module} touches sys.path")
        elif isinstance(node, ast.ImportFrom) and node.module == "sys" and any(alias.name == "path" for alias in node.names):
            found.add(f"{module} touches sys.path")
    return sorted(found)


def test_no_test_module_imports_another_or_touches_sys_path():
    paths = sorted(TESTS_DIR.glob("*.py"))
    assert len(paths) > len(TEST_MODULES) > 10  # the glob found the suite: test modules and helpers
    assert [v for path in paths for v in shared_code_violations(path.read_text(encoding="utf-8"), path.stem)] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import test_heif\n", ["test_x imports test_heif"]),
        ("import test_jxl as tj\nimport test_png_damaged as pd\n", ["test_x imports test_jxl", "test_x imports test_png_damaged"]),
        ("from test_templates import as_list, load\n", ["test_x imports test_templates"]),
        ("def f():\n    import test_metadata\n", ["test_x imports test_metadata"]),
        ("import sys\nsys.path.insert(0, 'tests')\n", ["test_x touches sys.path"]),
        ("from sys import path\n", ["test_x touches sys.path"]),
        ("import heif_shapes as hs\nfrom template_reading import load\nimport sys\nsys.getrecursionlimit()\n", []),
        ("from metadata_checks import assert_refused\nimport test_support_library\n", []),
    ],
)
def test_a_test_module_import_or_sys_path_edit_is_reported(source, expected):
    test_modules = frozenset({"test_heif", "test_jxl", "test_png_damaged", "test_templates", "test_metadata"})
    assert shared_code_violations(source, "test_x", test_modules) == expected
