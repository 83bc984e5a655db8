"""Reading the committed templates (templates/*.json, what users deploy) and finding what the tests check in them:
resources of a type, IAM policy documents, statements by Sid."""

from __future__ import annotations

import json
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def load(name: str) -> dict:
    return json.loads((TEMPLATES / f"{name}.json").read_text(encoding="utf-8"))


def resources_of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def only(template: dict, resource_type: str) -> dict:
    found = resources_of_type(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def policy_documents(node, path="") -> list[tuple[str, dict]]:
    """Every IAM policy document anywhere in a template, with where it was found."""
    found = []
    if isinstance(node, dict):
        if "Statement" in node and "Version" in node:
            found.append((path, node))
        for key, value in node.items():
            found.extend(policy_documents(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(policy_documents(value, f"{path}/{index}"))
    return found


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def statement(document: dict, sid: str) -> dict:
    matches = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(matches) == 1, f"no single statement {sid}"
    return matches[0]
