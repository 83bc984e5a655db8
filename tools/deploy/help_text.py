"""deploy.sh's usage line and help, with nothing but the standard library: `./deploy.sh --help` prints it
before any tool is checked, so it works before `make` and without the AWS CLI
(`python3 -m tools.deploy.help_text` from the repository root)."""

from __future__ import annotations

from stacks.facts import DEFAULT_PREFIX, EDGE_REGION, FUNCTION_URL_UNAVAILABLE_REGIONS
from tools.deploy.modes import DEFAULT_MODE, FALLBACK_MODE, MODES, names

USAGE = (
    f"usage: ./deploy.sh <region> [--mode {'|'.join(MODES)}] [--prefix NAME] [--profile NAME] "
    "[--bucket NAME [--add-bucket-policy]] [--allowed-origins LIST] [--buffered]"
)


def help_text() -> str:
    unavailable = FUNCTION_URL_UNAVAILABLE_REGIONS
    return f"""{USAGE}

Deploys the image metadata stripper into the AWS account of your credentials, in one of three modes.

--mode olap (the default): S3 Object Lambda, three stacks
  <prefix>-storage      in <region>     the private bucket, the transform Lambda, the S3 Object Lambda access point
  <prefix>-lambda-edge  in {EDGE_REGION}    the Lambda@Edge signer (CloudFront runs edge functions only from {EDGE_REGION})
  <prefix>-cdn          in <region>     the CloudFront distribution
  Since 2025-11-07 S3 Object Lambda accepts only AWS accounts that used it before.

--mode olap-oac: S3 Object Lambda signed for by CloudFront (Origin Access Control), two stacks
  <prefix>-storage      in <region>     as above (OriginMode=olap-oac)
  <prefix>-cdn-oac      in <region>     the CloudFront distribution and the Object Lambda access point's policy
  The same accounts as --mode olap. One prefix runs one of the two: delete the other mode's distribution
  stack (<prefix>-cdn or <prefix>-cdn-oac) before switching; deploy.sh says how.

--mode function-url: a Lambda function URL behind CloudFront, for any AWS account, one stack
  <prefix>-fnurl        in <region>     the private bucket, the transform Lambda and its function URL,
                                        the CloudFront distribution (Origin Access Control)
  Not available where Lambda has no function URLs (at the time of writing):
    {' '.join(unavailable[:6])}
    {' '.join(unavailable[6:])}

Every mode packages the transform into an artifact bucket <prefix>-artifacts-<account>-<region> first.
Run it again after any change: unchanged stacks are left alone. It deletes nothing, except when S3 Object
Lambda refuses the account: then the storage stack that failed and the empty bucket this run created.

  <region>        where the bucket, the transform and the distribution's stack live, e.g. eu-west-1
  --mode MODE     {DEFAULT_MODE} (default), {names([m for m in MODES if m != DEFAULT_MODE])}
  --prefix NAME   names the stacks and resources (default {DEFAULT_PREFIX}; 3-20 of a-z, 0-9 and -,
                  starting with a letter, not ending with -)
  --profile NAME  the AWS CLI profile to use (default: AWS_PROFILE, else the CLI's usual credentials)
  --bucket NAME   serve a bucket you already have (same account and region; Object Ownership
                  BucketOwnerEnforced; all public access blocked): the stacks create no bucket and never
                  change its objects. The S3 Object Lambda modes need statements in its bucket policy:
                  deploy.sh writes them when the bucket has no policy; when it has one, deploy.sh prints
                  them and stops. A stack keeps the bucket it was deployed with.
  --add-bucket-policy
                  with --bucket: add those statements to the bucket's policy, keeping every statement
                  it has
  --allowed-origins LIST
                  web pages whose scripts may read the answers (CORS, e.g. the ?showExif=true JSON):
                  origins such as https://example.com separated by commas, * for any, or none;
                  not given: the stack keeps its setting (a new stack: none)
  --buffered      --mode {FALLBACK_MODE} only: buffered responses (about 4.7 MB of stripped image at most)
                  instead of streaming them through Lambda Web Adapter (the default, up to 200 MB)
  -h, --help      this help

AWS_PROFILE, the standard AWS_* credential variables and AWS_ENDPOINT_URL are honoured.
Exit codes: 0 deployed, 1 a check or a step failed, 2 usage error.
"""


if __name__ == "__main__":
    print(help_text(), end="")
