#!/usr/bin/env bash
# Puts the whole system into an AWS account and prints the URL to try. Both modes start with
#   1. generate the templates, 2. package the transform, 3. upload it to an artifact bucket.
# --mode olap (the default, S3 Object Lambda):
#   4. <prefix>-storage in <region>, 5. <prefix>-lambda-edge in us-east-1,
#   6. <prefix>-cdn in <region> with the edge version read from SSM in us-east-1, 7. print the outputs.
# --mode function-url (a Lambda function URL behind CloudFront, for any account):
#   4. <prefix>-fnurl in <region>, 5. print the outputs.
# Safe to run again: unchanged stacks are left alone. It never deletes anything.
#
# Exit codes: 0 deployed; 1 a check or a step failed (the reason is on stderr); 2 usage error.
set -euo pipefail

readonly PROG="deploy.sh"
readonly USAGE="usage: ./deploy.sh <region> [--mode olap|function-url] [--prefix NAME] [--profile NAME]"

# Lambda@Edge functions (and so their stack and the SSM parameter naming their version) live in us-east-1.
# Source: CloudFront Developer Guide, lambda-at-edge-function-restrictions.html.
readonly EDGE_REGION="us-east-1"
# The pattern the templates' Prefix parameter enforces (stacks/common.py PREFIX_PATTERN).
readonly PREFIX_PATTERN='^[a-z][a-z0-9-]{1,18}[a-z0-9]$'
readonly DEFAULT_PREFIX="anon-s3ol"
# Region names: two letters, one or more words, a digit (us-east-1, ap-southeast-2, us-gov-west-1); the same
# pattern as the lambda-edge template's TargetRegion parameter.
readonly REGION_PATTERN='^[a-z]{2}(-[a-z]+)+-[0-9]$'
# What tools/package_transform.py prints: the zip named by the SHA-256 of its bytes.
readonly ZIP_NAME_PATTERN='exif-transform-([0-9a-f]{64})\.zip$'
# A published Lambda version in us-east-1, as the cdn template's EdgeFunctionVersionArn accepts.
readonly EDGE_VERSION_PATTERN='^arn:aws[a-z-]*:lambda:us-east-1:[0-9]{12}:function:[A-Za-z0-9_-]+:[0-9]+$'
readonly DEFAULT_MODE="olap"
readonly OLAP_STEPS=7
readonly FUNCTION_URL_STEPS=5
# Regions without Lambda function URLs, at the time of writing. Source: AWS Lambda Developer Guide,
# "Creating and managing Lambda function URLs" (lambda/latest/dg/urls-configuration.html).
readonly FUNCTION_URL_UNAVAILABLE_REGIONS=(
  ap-south-2 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ap-east-2
  ca-west-1 eu-south-2 eu-central-2 il-central-1 me-central-1
)

REGION=""
MODE="$DEFAULT_MODE"
TOTAL_STEPS=""
PREFIX="$DEFAULT_PREFIX"
PROFILE=""
ROOT=""
PYTHON=""
WORK_DIR=""
ACCOUNT=""
PARTITION=""
ZIP_PATH=""
ARTIFACT_KEY=""
ARTIFACT_BUCKET=""

# --- messages ---------------------------------------------------------------------------------------

say() { printf '%s\n' "$*"; }
err() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { err "$*"; exit 1; }
usage_error() { err "$1 ($USAGE)"; exit 2; }
step() { printf '\n[%s/%s] %s\n' "$1" "$TOTAL_STEPS" "$2"; }

print_help() {
  cat <<EOF
$USAGE

Deploys the image metadata stripper into the AWS account of your credentials, in one of two modes.

--mode olap (the default): S3 Object Lambda, three stacks
  <prefix>-storage      in <region>     the private bucket, the transform Lambda, the S3 Object Lambda access point
  <prefix>-lambda-edge  in $EDGE_REGION    the Lambda@Edge signer (CloudFront runs edge functions only from $EDGE_REGION)
  <prefix>-cdn          in <region>     the CloudFront distribution
  Since 2025-11-07 S3 Object Lambda accepts only AWS accounts that used it before.

--mode function-url: a Lambda function URL behind CloudFront, for any AWS account, one stack
  <prefix>-fnurl        in <region>     the private bucket, the transform Lambda and its function URL,
                                        the CloudFront distribution (Origin Access Control)
  Not available where Lambda has no function URLs (at the time of writing):
    ${FUNCTION_URL_UNAVAILABLE_REGIONS[*]:0:6}
    ${FUNCTION_URL_UNAVAILABLE_REGIONS[*]:6}

Either way it packages the transform into an artifact bucket <prefix>-artifacts-<account>-<region> first.
Run it again after any change: unchanged stacks are left alone. It never deletes anything.

  <region>        where the bucket, the transform and the distribution's stack live, e.g. eu-west-1
  --mode MODE     olap (default) or function-url
  --prefix NAME   names the stacks and resources (default $DEFAULT_PREFIX; 3-20 of a-z, 0-9 and -,
                  starting with a letter, not ending with -)
  --profile NAME  the AWS CLI profile to use (default: AWS_PROFILE, else the CLI's usual credentials)
  -h, --help      this help

AWS_PROFILE, the standard AWS_* credential variables and AWS_ENDPOINT_URL are honoured.
Exit codes: 0 deployed, 1 a check or a step failed, 2 usage error.
EOF
}

# --- tools ------------------------------------------------------------------------------------------

has_cmd() { command -v "$1" >/dev/null 2>&1; }

# Every aws call goes through here so that --profile applies to all of them. An explicit --profile also
# wins over AWS_ACCESS_KEY_ID in the environment, as it does for the CLI itself.
awscli() {
  if [[ -n "$PROFILE" ]]; then
    aws --profile "$PROFILE" "$@"
  else
    aws "$@"
  fi
}

# The first line of an aws error, without the CLI's blank leading line.
first_error_line() {
  local line
  while IFS= read -r line; do
    if [[ -n "$line" ]]; then
      printf '%s' "$line"
      return 0
    fi
  done <"$1"
  printf 'no error message'
}

credentials_source() {
  if [[ -n "$PROFILE" ]]; then
    printf 'profile %s' "$PROFILE"
  elif [[ -n "${AWS_ACCESS_KEY_ID:-}" ]]; then
    printf 'AWS_ACCESS_KEY_ID from the environment'
  elif [[ -n "${AWS_PROFILE:-}" ]]; then
    printf 'profile %s (AWS_PROFILE)' "$AWS_PROFILE"
  else
    printf 'profile default'
  fi
}

profile_flag() {
  if [[ -n "$PROFILE" ]]; then
    printf ' --profile %q' "$PROFILE"
  fi
}

# --- preflight (creates nothing) --------------------------------------------------------------------

parse_args() {
  local positional=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -h | --help)
        print_help
        exit 0
        ;;
      --mode | --prefix | --profile)
        [[ $# -ge 2 && -n "$2" ]] || usage_error "$1 needs a value"
        case "$1" in
          --mode) MODE="$2" ;;
          --prefix) PREFIX="$2" ;;
          *) PROFILE="$2" ;;
        esac
        shift 2
        ;;
      --mode=*)
        MODE="${1#--mode=}"
        shift
        ;;
      --prefix=*)
        PREFIX="${1#--prefix=}"
        shift
        ;;
      --profile=*)
        PROFILE="${1#--profile=}"
        [[ -n "$PROFILE" ]] || usage_error "--profile needs a value"
        shift
        ;;
      --)
        shift
        while [[ $# -gt 0 ]]; do
          positional+=("$1")
          shift
        done
        ;;
      -*) usage_error "unknown option '$1'" ;;
      *)
        positional+=("$1")
        shift
        ;;
    esac
  done
  [[ ${#positional[@]} -ge 1 ]] || usage_error "missing <region>"
  [[ ${#positional[@]} -le 1 ]] || usage_error "unexpected argument '${positional[1]}'"
  REGION="${positional[0]}"
  case "$MODE" in
    olap) TOTAL_STEPS="$OLAP_STEPS" ;;
    function-url) TOTAL_STEPS="$FUNCTION_URL_STEPS" ;;
    *) usage_error "unknown mode '$MODE': use olap or function-url" ;;
  esac
}

has_function_urls() {
  local region
  for region in "${FUNCTION_URL_UNAVAILABLE_REGIONS[@]}"; do
    [[ "$1" != "$region" ]] || return 1
  done
}

check_names() {
  [[ "$REGION" =~ $REGION_PATTERN ]] ||
    die "'$REGION' is not an AWS region name (expected something like eu-west-1)"
  [[ "$PREFIX" =~ $PREFIX_PATTERN ]] ||
    die "prefix '$PREFIX' is not valid: use 3-20 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen"
  if [[ "$MODE" == function-url ]] && ! has_function_urls "$REGION"; then
    die "Lambda function URLs are not available in $REGION (at the time of writing), so --mode function-url cannot be deployed there: choose another region"
  fi
}

find_tools() {
  if ! has_cmd aws; then
    # `make` installs the AWS CLI into the project's virtual environment.
    if [[ -x "$ROOT/.venv/bin/aws" ]]; then
      PATH="$ROOT/.venv/bin:$PATH"
    else
      die "the AWS CLI (aws) is not installed: run 'make' (it installs it into .venv) or see https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
    fi
  fi
  # The project's virtual environment has what generate.py and the packaging need.
  if [[ -x "$ROOT/.venv/bin/python" ]]; then
    PYTHON="$ROOT/.venv/bin/python"
  elif has_cmd python3; then
    PYTHON="python3"
  else
    die "python3 is not installed: install Python 3.11 or newer (https://www.python.org/downloads/), then run 'make'"
  fi
  "$PYTHON" -c 'import awacs, botocore, cfnlint, troposphere' 2>/dev/null ||
    die "$PYTHON lacks the project's requirements (troposphere, awacs, cfn-lint, boto3): run 'make' first, which creates .venv with them"
  # AWS CLI v2 would page long output; this script is not interactive.
  export AWS_PAGER=""
}

# The pattern admits names no region has (xx-moon-1); asking AWS there would fail as a connection error
# and look like a credentials problem. botocore's endpoint data lists every region, offline.
check_region_exists() {
  "$PYTHON" - "$REGION" <<'PY' ||
import sys
import botocore.session

session = botocore.session.get_session()
known = {
    region
    for partition in session.get_available_partitions()
    for region in session.get_available_regions("cloudformation", partition)
}
sys.exit(0 if sys.argv[1] in known else 1)
PY
    die "'$REGION' is not an AWS region (not in the region list of the installed botocore; if the region is new, upgrade boto3 in requirements.txt and run 'make')"
}

check_credentials() {
  local identity caller_arn
  if ! identity="$(awscli sts get-caller-identity --region "$REGION" --query '[Account, Arn]' \
    --output text 2>"$WORK_DIR/sts.err")"; then
    die "no usable AWS credentials ($(credentials_source)): $(first_error_line "$WORK_DIR/sts.err")"
  fi
  read -r ACCOUNT caller_arn <<<"$identity"
  [[ "$ACCOUNT" =~ ^[0-9]{12}$ ]] || die "sts get-caller-identity returned no account ID ($(credentials_source))"
  PARTITION="${caller_arn#arn:}"
  PARTITION="${PARTITION%%:*}"
  say "Account $ACCOUNT ($(credentials_source)), region $REGION, prefix $PREFIX"
}

# Prints the stack's status, or nothing when the stack does not exist.
stack_status() {
  awscli cloudformation describe-stacks --stack-name "$1" --region "$2" \
    --query 'Stacks[0].StackStatus' --output text 2>/dev/null || true
}

# CloudFormation cannot update a stack whose creation failed, nor one that is busy.
check_stack_usable() {
  local stack="$1" region="$2" status delete_command
  status="$(stack_status "$stack" "$region")"
  delete_command="aws cloudformation delete-stack --stack-name $stack --region $region$(profile_flag)"
  case "$status" in
    ROLLBACK_COMPLETE | ROLLBACK_FAILED)
      print_failed_events "$stack" "$region"
      die "stack $stack in $region is $status (its creation failed) and cannot be updated: delete it with '$delete_command', then run deploy.sh again"
      ;;
    DELETE_FAILED)
      die "stack $stack in $region is DELETE_FAILED and cannot be updated: finish deleting it with '$delete_command' (a Lambda@Edge function can only be deleted hours after CloudFront stops using it), then run deploy.sh again"
      ;;
    UPDATE_ROLLBACK_FAILED)
      die "stack $stack in $region is UPDATE_ROLLBACK_FAILED: recover it with 'aws cloudformation continue-update-rollback --stack-name $stack --region $region$(profile_flag)', then run deploy.sh again"
      ;;
    *_IN_PROGRESS)
      [[ "$status" == REVIEW_IN_PROGRESS ]] ||
        die "stack $stack in $region is busy ($status): wait for it to finish, then run deploy.sh again"
      ;;
  esac
}

# Both modes name the transform function and its log group <prefix>-exif-transform, so a stack of the
# other mode with the same prefix would make this mode's stack fail half-way. A stack whose creation
# failed (ROLLBACK_COMPLETE) holds nothing that clashes: rolling back deleted them.
check_other_mode_absent() {
  local stack="$1" mode="$2" status
  status="$(stack_status "$stack" "$REGION")"
  if [[ -n "$status" && "$status" != ROLLBACK_COMPLETE ]]; then
    die "stack $stack in $REGION ($status) is the --mode $mode deployment of prefix $PREFIX; both modes name the function $PREFIX-exif-transform, so deploy --mode $MODE with another --prefix"
  fi
}

# The command that deploys the function-URL mode with this run's region, prefix and profile.
function_url_command() {
  printf './deploy.sh %s --mode function-url' "$REGION"
  if [[ "$PREFIX" != "$DEFAULT_PREFIX" ]]; then
    printf ' --prefix %s' "$PREFIX"
  fi
  profile_flag
}

# --- steps ------------------------------------------------------------------------------------------

generate_templates() {
  step 1 "Generating the templates (python generate.py)"
  "$PYTHON" generate.py || die "generate.py failed (see above); nothing was deployed"
}

# Sets ZIP_PATH and ARTIFACT_KEY.
package_transform() {
  step 2 "Packaging the transform (tools/package_transform.py)"
  local output
  output="$("$PYTHON" tools/package_transform.py --out build)" ||
    die "packaging the transform failed (see above); nothing was deployed"
  ZIP_PATH="${output##*$'\n'}"
  [[ "$ZIP_PATH" =~ $ZIP_NAME_PATTERN && -f "$ZIP_PATH" ]] ||
    die "tools/package_transform.py printed '$ZIP_PATH', not the path of an exif-transform-<sha256>.zip"
  ARTIFACT_KEY="exif-transform/${BASH_REMATCH[1]}.zip"
  say "Built $ZIP_PATH"
}

ensure_artifact_bucket() {
  local bucket="$1"
  step 3 "Artifact bucket s3://$bucket in $REGION"
  if awscli s3api head-bucket --bucket "$bucket" --expected-bucket-owner "$ACCOUNT" \
    --region "$REGION" >/dev/null 2>"$WORK_DIR/bucket.err"; then
    say "Bucket exists"
  elif [[ "$(<"$WORK_DIR/bucket.err")" == *"(404)"* ]]; then
    say "Creating the bucket"
    # us-east-1 is S3's default location and rejects an explicit LocationConstraint.
    if [[ "$REGION" == "us-east-1" ]]; then
      awscli s3api create-bucket --bucket "$bucket" --region "$REGION" \
        --object-ownership BucketOwnerEnforced >/dev/null
    else
      awscli s3api create-bucket --bucket "$bucket" --region "$REGION" \
        --object-ownership BucketOwnerEnforced \
        --create-bucket-configuration "LocationConstraint=$REGION" >/dev/null
    fi
  else
    die "cannot use the artifact bucket $bucket: $(first_error_line "$WORK_DIR/bucket.err")"
  fi
  # Applied on every run so that a bucket left half-configured by an interrupted run is completed.
  awscli s3api put-public-access-block --bucket "$bucket" --region "$REGION" \
    --public-access-block-configuration \
    BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
  awscli s3api put-bucket-encryption --bucket "$bucket" --region "$REGION" \
    --server-side-encryption-configuration \
    '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
  # A deny must cover every action to refuse plain HTTP whatever the request; it grants nothing.
  awscli s3api put-bucket-policy --bucket "$bucket" --region "$REGION" --policy "$(
    printf '{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:%s:s3:::%s","arn:%s:s3:::%s/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}' \
      "$PARTITION" "$bucket" "$PARTITION" "$bucket"
  )"
  say "Public access blocked, default encryption on, TLS-only policy set"
}

upload_artifact() {
  local bucket="$1" key="$2" file="$3"
  if awscli s3api head-object --bucket "$bucket" --key "$key" --region "$REGION" \
    >/dev/null 2>"$WORK_DIR/object.err"; then
    say "s3://$bucket/$key is already uploaded"
  elif [[ "$(<"$WORK_DIR/object.err")" == *"(404)"* ]]; then
    awscli s3api put-object --bucket "$bucket" --key "$key" --body "$file" --region "$REGION" >/dev/null
    say "Uploaded s3://$bucket/$key"
  else
    die "cannot check s3://$bucket/$key: $(first_error_line "$WORK_DIR/object.err")"
  fi
}

# Prints the failed events of the stack's latest operation, newest first.
print_failed_events() {
  local stack="$1" region="$2" events status logical type reason printed=0 olap_refused=0
  if ! events="$(awscli cloudformation describe-stack-events --stack-name "$stack" --region "$region" \
    --query 'StackEvents[].[ResourceStatus, LogicalResourceId, ResourceType, ResourceStatusReason]' \
    --output text 2>/dev/null)"; then
    err "could not read the events of stack $stack in $region"
    return 0
  fi
  err "failed events of stack $stack in $region (newest first):"
  while IFS=$'\t' read -r status logical type reason; do
    if [[ "$status" == *_FAILED ]]; then
      printf '  %s  %s (%s): %s\n' "$status" "$logical" "$type" "$reason" >&2
      printed=1
      if [[ "$type" == AWS::S3ObjectLambda::AccessPoint && "$reason" != *cancelled* ]]; then
        olap_refused=1
      fi
    fi
    # Older operations' events are history: stop at the start of the latest one.
    if [[ "$type" == AWS::CloudFormation::Stack && "$logical" == "$stack" ]] &&
      [[ "$status" == CREATE_IN_PROGRESS || "$status" == UPDATE_IN_PROGRESS || "$status" == REVIEW_IN_PROGRESS ]]; then
      break
    fi
  done <<<"$events"
  if [[ $printed -eq 0 ]]; then
    err "  (no failed resource events; status $(stack_status "$stack" "$region"))"
  fi
  if [[ $olap_refused -eq 1 ]]; then
    err "note: since 2025-11-07 S3 Object Lambda accepts only AWS accounts that used it before (see the README)"
    err "an account new to S3 Object Lambda can deploy the function-URL mode instead (one stack, no S3 Object Lambda):"
    printf '  %s\n' "$(function_url_command)" >&2
  fi
}

# deploy_stack <stack> <region> <template> <Key=Value>...
deploy_stack() {
  local stack="$1" region="$2" template="$3"
  shift 3
  if ! awscli cloudformation deploy --stack-name "$stack" --region "$region" \
    --template-file "$template" --capabilities CAPABILITY_NAMED_IAM \
    --no-fail-on-empty-changeset --parameter-overrides "$@"; then
    print_failed_events "$stack" "$region"
    die "stack $stack in $region did not deploy (see above)"
  fi
}

# stack_output <stack> <region> <OutputKey>
stack_output() {
  local value
  value="$(awscli cloudformation describe-stacks --stack-name "$1" --region "$2" \
    --query "Stacks[0].Outputs[?OutputKey=='$3'].OutputValue | [0]" --output text)" ||
    die "cannot read the outputs of stack $1 in $2"
  [[ -n "$value" && "$value" != "None" ]] || die "stack $1 in $2 has no output $3"
  printf '%s' "$value"
}

read_edge_version_arn() {
  local name="$1" value
  value="$(awscli ssm get-parameter --name "$name" --region "$EDGE_REGION" \
    --query Parameter.Value --output text)" || die "cannot read SSM parameter $name in $EDGE_REGION"
  [[ "$value" =~ $EDGE_VERSION_PATTERN ]] ||
    die "SSM parameter $name in $EDGE_REGION holds '$value', not a Lambda version ARN in $EDGE_REGION"
  printf '%s' "$value"
}

# print_outputs <stack with BucketName> <stack with the distribution's outputs>
print_outputs() {
  local storage_stack="$1" cdn_stack="$2" bucket domain distribution
  step "$TOTAL_STEPS" "Outputs"
  bucket="$(stack_output "$storage_stack" "$REGION" BucketName)"
  domain="$(stack_output "$cdn_stack" "$REGION" DistributionDomainName)"
  distribution="$(stack_output "$cdn_stack" "$REGION" DistributionId)"
  cat <<EOF
Bucket:         $bucket
CloudFront URL: https://$domain/
Distribution:   $distribution (a new distribution takes a few minutes to reach every edge location)

Upload an image, then fetch it without its metadata, and its EXIF as JSON:
  aws s3 cp photo.jpg s3://$bucket/photo.jpg --region $REGION$(profile_flag)
  curl -o photo-clean.jpg 'https://$domain/photo.jpg'
  curl 'https://$domain/photo.jpg?showExif=true'
EOF
}

cleanup() {
  if [[ -n "$WORK_DIR" ]]; then
    rm -rf "$WORK_DIR"
  fi
}

# Steps 1-3, the same in both modes. Sets ARTIFACT_BUCKET (and ZIP_PATH, ARTIFACT_KEY).
prepare_artifact() {
  generate_templates
  package_transform
  ARTIFACT_BUCKET="$PREFIX-artifacts-$ACCOUNT-$REGION"
  ensure_artifact_bucket "$ARTIFACT_BUCKET"
  upload_artifact "$ARTIFACT_BUCKET" "$ARTIFACT_KEY" "$ZIP_PATH"
}

deploy_olap() {
  local storage_stack="$PREFIX-storage" edge_stack="$PREFIX-lambda-edge" cdn_stack="$PREFIX-cdn"
  local version_parameter="/$PREFIX/Edge-Origin-Request-Fn-Version-Arn"
  check_stack_usable "$storage_stack" "$REGION"
  check_stack_usable "$edge_stack" "$EDGE_REGION"
  check_stack_usable "$cdn_stack" "$REGION"
  check_other_mode_absent "$PREFIX-fnurl" function-url

  prepare_artifact

  step 4 "Stack $storage_stack in $REGION"
  deploy_stack "$storage_stack" "$REGION" templates/storage.json \
    "Prefix=$PREFIX" "ArtifactBucket=$ARTIFACT_BUCKET" "ArtifactKey=$ARTIFACT_KEY"

  step 5 "Stack $edge_stack in $EDGE_REGION"
  deploy_stack "$edge_stack" "$EDGE_REGION" templates/lambda-edge.json \
    "Prefix=$PREFIX" "TargetRegion=$REGION"

  step 6 "Stack $cdn_stack in $REGION (edge version from SSM $version_parameter in $EDGE_REGION)"
  local edge_version_arn
  edge_version_arn="$(read_edge_version_arn "$version_parameter")" || exit 1
  say "Edge function version: $edge_version_arn"
  deploy_stack "$cdn_stack" "$REGION" templates/cdn.json \
    "Prefix=$PREFIX" "EdgeFunctionVersionArn=$edge_version_arn"

  print_outputs "$storage_stack" "$cdn_stack"
}

deploy_function_url() {
  local stack="$PREFIX-fnurl"
  check_stack_usable "$stack" "$REGION"
  check_other_mode_absent "$PREFIX-storage" olap

  prepare_artifact

  step 4 "Stack $stack in $REGION"
  deploy_stack "$stack" "$REGION" templates/function-url.json \
    "Prefix=$PREFIX" "ArtifactBucket=$ARTIFACT_BUCKET" "ArtifactKey=$ARTIFACT_KEY"

  print_outputs "$stack" "$stack"
}

main() {
  parse_args "$@"
  check_names
  case "${BASH_SOURCE[0]}" in
    */*) ROOT="$(cd "${BASH_SOURCE[0]%/*}" && pwd)" ;;
    *) ROOT="$(pwd)" ;;
  esac
  cd "$ROOT"
  find_tools
  check_region_exists
  WORK_DIR="$(mktemp -d)"
  trap cleanup EXIT

  check_credentials
  case "$MODE" in
    olap) deploy_olap ;;
    function-url) deploy_function_url ;;
  esac
}

main "$@"
