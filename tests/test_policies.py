"""stacks/policies.py through the templates it ends up in, built in this process.

test_templates.py checks the committed templates (and, through generate.py --check in a
subprocess, that they are fresh); this builds every stack here, so that a change to any policy
that is not in the committed templates fails fast, and so that mutation testing (make mutate),
which sees only what runs in the test process, can tell which tests exercise the policies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import generate
from stacks import policies

TEMPLATES = Path(generate.__file__).resolve().parent / "templates"


@pytest.mark.parametrize("stack", generate.stacks(), ids=lambda stack: stack.name)
def test_each_stack_built_here_is_its_committed_template(stack):
    assert generate.render(stack.build()) == (TEMPLATES / f"{stack.name}.json").read_text(encoding="utf-8")


def test_artifact_bucket_policy_is_written_out_in_full():
    document = json.loads(policies.artifact_bucket_policy("arn:aws:s3:::b").to_json())
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:*"],
                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
