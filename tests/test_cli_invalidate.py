"""anon-s3ol invalidate against moto's CloudFormation and CloudFront on 127.0.0.1."""

from __future__ import annotations

import json

import cli_fixtures as cf
from url_fixtures import moto_endpoint
import pytest

from anon_s3ol import cli
from anon_s3ol.invalidate import DISTRIBUTION_STACK_SUFFIXES, invalidation_path
from stacks.common import STACK_SUFFIXES
from tools.deploy.modes import MODES

REGION = "eu-west-1"


def test_the_stacks_looked_at_are_every_modes_distribution_stack():
    assert set(DISTRIBUTION_STACK_SUFFIXES) == {STACK_SUFFIXES[mode.distribution_stack] for mode in MODES.values()}


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("photos/cat.jpg", "/photos/cat.jpg*"),
        ("/photos/cat.jpg", "/photos/cat.jpg*"),
        ("albums/été 2024/a b+c.jpg", "/albums/%C3%A9t%C3%A9%202024/a%20b%2Bc.jpg*"),
        ("photos/*", "/photos/*"),
    ],
)
def test_each_key_is_one_wildcard_path_covering_its_query_variants(key, path):
    assert invalidation_path(key) == path


def _distribution(cloudfront, reference: str) -> str:  # noqa: ANN001
    config = {
        "CallerReference": reference,
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "example.com", "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "https-only", "MinTTL": 0, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def _stack_with_output(cloudformation, name: str, distribution: str) -> None:  # noqa: ANN001
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"DistributionId": {"Value": distribution}},
    }
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.fixture
def aws(monkeypatch):
    with moto_endpoint() as endpoint:
        for name in cf.CREDENTIAL_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in cf.aws_environment(endpoint).items():
            monkeypatch.setenv(name, value)
        import boto3

        session = boto3.session.Session(region_name=REGION)
        yield session.client("cloudformation"), session.client("cloudfront")


def test_invalidate_finds_the_distribution_in_the_stack_outputs(aws, capsys):
    cloudformation, cloudfront = aws
    distribution = _distribution(cloudfront, "photos")
    _stack_with_output(cloudformation, "photos-fnurl", distribution)
    _stack_with_output(cloudformation, "other-cdn", _distribution(cloudfront, "other"))

    status = cli.main(["invalidate", "a b.jpg", "albums/*", "--region", REGION, "--prefix", "photos"])

    out = capsys.readouterr().out
    assert status == 0
    invalidations = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]["Items"]
    assert len(invalidations) == 1
    batch = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidations[0]["Id"])["Invalidation"]["InvalidationBatch"]
    assert sorted(batch["Paths"]["Items"]) == ["/a%20b.jpg*", "/albums/*"]
    assert out.startswith(f"photos-fnurl: distribution {distribution}: invalidation {invalidations[0]['Id']} (")
    assert out.endswith(") for /a%20b.jpg* /albums/*\n")


def test_no_deployment_of_the_prefix_is_one_line(aws, capsys):
    status = cli.main(["invalidate", "a.jpg", "--region", REGION, "--prefix", "nothing"])
    assert status == 1
    assert capsys.readouterr().err == (
        f"anon-s3ol invalidate: no distribution of prefix nothing in {REGION}: none of the stacks nothing-cdn, "
        "nothing-cdn-oac, nothing-fnurl has a DistributionId output (check --region and --prefix)\n"
    )
