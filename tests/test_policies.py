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


def test_artifact_bucket_policy_refuses_plain_http_and_grants_nothing():
    # A partition other than "aws" shows that both ARNs take it.
    document = json.loads(policies.artifact_bucket_policy("arn:aws-cn:s3:::b").to_json())
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:*"],
                "Resource": ["arn:aws-cn:s3:::b", "arn:aws-cn:s3:::b/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


# deploy.sh --bucket writes these into the user's own bucket policy, with every name resolved (no template
# expressions): written out here by hand. A partition other than "aws" shows that every ARN takes it.
BUCKET_DELEGATION = {
    "Sid": "DelegateReadsToSupportingAccessPoint",
    "Effect": "Allow",
    "Principal": {"AWS": ["arn:aws-cn:iam::111122223333:root"]},
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": ["arn:aws-cn:s3:::my-bucket", "arn:aws-cn:s3:::my-bucket/*"],
    "Condition": {
        "ArnEquals": {"s3:DataAccessPointArn": "arn:aws-cn:s3:cn-north-1:111122223333:accesspoint/photos-ap"}
    },
}
CLOUDFRONT_DELEGATION = {
    "Sid": "DelegateCloudFrontReadsToSupportingAccessPoint",
    "Effect": "Allow",
    "Principal": {"Service": ["cloudfront.amazonaws.com"]},
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": ["arn:aws-cn:s3:::my-bucket", "arn:aws-cn:s3:::my-bucket/*"],
    "Condition": {
        "ArnEquals": {"s3:DataAccessPointArn": "arn:aws-cn:s3:cn-north-1:111122223333:accesspoint/photos-ap"},
        "ForAnyValue:StringEquals": {"aws:CalledVia": ["s3-object-lambda.amazonaws.com"]},
        "StringEquals": {"aws:SourceAccount": "111122223333"},
    },
}


@pytest.mark.parametrize(
    ("origin_mode", "expected"),
    [("olap", [BUCKET_DELEGATION]), ("olap-oac", [BUCKET_DELEGATION, CLOUDFRONT_DELEGATION]), ("", [])],
)
def test_existing_bucket_statements_are_written_out_in_full_for_each_origin_mode(origin_mode, expected):
    statements = policies.existing_bucket_statements(
        origin_mode, partition="aws-cn", account="111122223333", region="cn-north-1", prefix="photos", bucket="my-bucket"
    )
    assert [policies.plain(statement) for statement in statements] == expected
