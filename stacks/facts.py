"""The facts and names deploy.sh's help needs, with nothing but the standard library, so that
`./deploy.sh --help` works before `make` (stacks/common.py re-exports them for everything else)."""

# Lambda@Edge functions, their versions and their SSM hand-off live in us-east-1 only.
# Source: CloudFront Developer Guide, lambda-at-edge-function-restrictions.html.
EDGE_REGION = "us-east-1"

# The Prefix every name derives from, unless --prefix says otherwise.
DEFAULT_PREFIX = "anon-s3ol"

# Each stack's name is <Prefix><suffix>; generate.py writes its template as templates/<role>.json.
STACK_SUFFIXES = {
    "storage": "-storage",
    "lambda-edge": "-lambda-edge",
    "cdn": "-cdn",
    "cdn-oac": "-cdn-oac",
    "function-url": "-fnurl",
}

# Regions without Lambda function URLs, at the time of writing, so without the function-URL mode.
# Source: AWS Lambda Developer Guide, "Creating and managing Lambda function URLs" (urls-configuration.html).
FUNCTION_URL_UNAVAILABLE_REGIONS = (
    "ap-south-2",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-east-2",
    "ca-west-1",
    "eu-south-2",
    "eu-central-2",
    "il-central-1",
    "me-central-1",
)
