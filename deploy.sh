#!/usr/bin/env bash
# Puts the whole system into an AWS account and prints the URL to try. Every mode starts with
#   1. generate the templates, 2. package the transform, 3. upload it to an artifact bucket,
# then deploys its stacks in order, one step each, and prints the outputs:
#   --mode olap (the default, S3 Object Lambda): 4. <prefix>-storage in <region>, 5. <prefix>-lambda-edge in
#     the edge region, 6. <prefix>-cdn in <region> with the edge version read from SSM, 7. the outputs.
#   --mode olap-oac (S3 Object Lambda, CloudFront signing with Origin Access Control): 4. <prefix>-storage and
#     5. <prefix>-cdn-oac, both in <region>, 6. the outputs.
#   --mode function-url (a Lambda function URL behind CloudFront, for any account): 4. <prefix>-fnurl, 5. the outputs.
# With --bucket NAME every mode serves a bucket the user already has (its policy gains the statements the mode
# needs in step 4, after the storage stack, never losing one); --allowed-origins sets the distribution's CORS
# origins; --buffered makes the function-URL mode buffer its answers instead of streaming them.
# Safe to run again: unchanged stacks are left alone. It deletes nothing, except after S3 Object Lambda refused
# the account: then the storage stack that failed and the empty bucket this run created (tools/deploy/refusal.py).
# `./deploy.sh --help` needs only python3: it is printed before any tool is checked.
#
# The command line, the checks, the artifact bucket, the failed-events report and the outputs are Python
# (tools/deploy, with boto3; its cli.py documents each command); the names and region facts come from
# stacks/common.py through it. The stacks are deployed here, with `aws cloudformation deploy`.
#
# Exit codes: 0 deployed; 1 a check or a step failed (the reason is on stderr); 2 usage error.
set -euo pipefail

readonly PROG="deploy.sh"
# What tools/package_transform.py prints: the zip named by the SHA-256 of its bytes.
readonly ZIP_NAME_PATTERN='exif-transform-([0-9a-f]{64})\.zip$'

ROOT=""
PYTHON=""
WORK_DIR=""
ZIP_PATH=""
ARTIFACT_KEY=""
# The plan `python -m tools.deploy preflight` writes, one NAME=value line each (tools/deploy/cli.py PLAN_NAMES).
MODE=""
REGION=""
PREFIX=""
PROFILE=""
TOTAL_STEPS=""
ACCOUNT=""
PARTITION=""
ARTIFACT_BUCKET=""
EDGE_REGION=""
EDGE_VERSION_PARAMETER=""
ORIGIN_MODE=""
STORAGE_STACK=""
LAMBDA_EDGE_STACK=""
CDN_STACK=""
CDN_OAC_STACK=""
FUNCTION_URL_STACK=""
EXISTING_BUCKET=""
BUCKET_POLICY=""
ALLOWED_ORIGINS_OVERRIDE=""
STREAMING_RESPONSES=""
# The distribution stack's parameters (cdn_parameters).
CDN_PARAMETERS=()
# The mode, region, prefix, profile and bucket, as every `python -m tools.deploy` command after preflight takes them.
CONTEXT=()

# --- messages ---------------------------------------------------------------------------------------

say() { printf '%s\n' "$*"; }
err() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { err "$*"; exit 1; }
step() { printf '\n[%s/%s] %s\n' "$1" "$TOTAL_STEPS" "$2"; }

# --- help (before any tool check) -------------------------------------------------------------------

# True when the arguments ask for the help (-h or --help before any `--`, not as an option's value).
wants_help() {
  while (($#)); do
    case "$1" in
      --) return 1 ;;
      -h | --help) return 0 ;;
      --mode | --prefix | --profile | --bucket | --allowed-origins) shift ;;
    esac
    (($#)) && shift
  done
  return 1
}

# The help needs only python3 (tools/deploy/help_text.py uses the standard library alone): no AWS CLI, no `make`.
print_help() {
  local python=""
  if [[ -x "$ROOT/.venv/bin/python" ]]; then
    python="$ROOT/.venv/bin/python"
  elif has_cmd python3; then
    python="python3"
  fi
  if [[ -n "$python" ]] && "$python" -m tools.deploy.help_text; then
    return 0
  fi
  say "usage: ./deploy.sh <region> [--mode olap|olap-oac|function-url] [--prefix NAME] [--profile NAME] ..."
  say "(the full help needs Python 3.11 or newer: install it from https://www.python.org/downloads/)"
}

# --- tools ------------------------------------------------------------------------------------------

has_cmd() { command -v "$1" >/dev/null 2>&1; }

# need_cmd <command> [what to do when it is missing]
need_cmd() {
  local missing="need '$1' (command not found)"
  has_cmd "$1" || die "${2:-$missing}"
}

# Every tool is checked before anything is read from AWS or changed.
find_tools() {
  # `make` installs the AWS CLI into the project's virtual environment.
  if ! has_cmd aws && [[ -x "$ROOT/.venv/bin/aws" ]]; then
    PATH="$ROOT/.venv/bin:$PATH"
  fi
  need_cmd aws "the AWS CLI (aws) is not installed: run 'make' (it installs it into .venv) or see https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
  # The project's virtual environment has what generate.py, the packaging and tools/deploy need.
  if [[ -x "$ROOT/.venv/bin/python" ]]; then
    PYTHON="$ROOT/.venv/bin/python"
  else
    need_cmd python3 "python3 is not installed: install Python 3.11 or newer (https://www.python.org/downloads/), then run 'make'"
    PYTHON="python3"
  fi
  "$PYTHON" -c 'import awacs, boto3, cfnlint, troposphere' 2>/dev/null ||
    die "$PYTHON lacks the project's requirements (troposphere, awacs, cfn-lint, boto3): run 'make' first, which creates .venv with them"
  need_cmd mktemp
  need_cmd rm
  # AWS CLI v2 would page long output; this script is not interactive.
  export AWS_PAGER=""
}

# Every aws call goes through here so that --profile applies to all of them. An explicit --profile also
# wins over AWS_ACCESS_KEY_ID in the environment, as it does for the CLI itself.
awscli() {
  if [[ -n "$PROFILE" ]]; then
    aws --profile "$PROFILE" "$@"
  else
    aws "$@"
  fi
}

# deploy_tool <command> [option]...: a `python -m tools.deploy` command with this run's context.
deploy_tool() {
  local command="$1"
  shift
  "$PYTHON" -m tools.deploy "$command" "${CONTEXT[@]}" "$@"
}

# --- preflight (creates nothing) --------------------------------------------------------------------

# Reads the plan preflight wrote: only the names deploy.sh declares, one value per line, never evaluated.
read_plan() {
  local line name
  while IFS= read -r line; do
    name="${line%%=*}"
    case "$name" in
      MODE | REGION | PREFIX | PROFILE | TOTAL_STEPS | ACCOUNT | PARTITION | ARTIFACT_BUCKET | EDGE_REGION | \
        EDGE_VERSION_PARAMETER | ORIGIN_MODE | STORAGE_STACK | LAMBDA_EDGE_STACK | CDN_STACK | CDN_OAC_STACK | \
        FUNCTION_URL_STACK | EXISTING_BUCKET | BUCKET_POLICY | ALLOWED_ORIGINS_OVERRIDE | STREAMING_RESPONSES)
        printf -v "$name" '%s' "${line#*=}"
        ;;
      *) die "tools/deploy wrote an unexpected plan line: $name" ;;
    esac
  done <"$1"
  [[ -n "$MODE" && -n "$REGION" && -n "$PREFIX" && -n "$TOTAL_STEPS" && -n "$ACCOUNT" ]] ||
    die "tools/deploy wrote an incomplete plan"
  CONTEXT=(--mode "$MODE" --region "$REGION" --prefix "$PREFIX")
  if [[ -n "$PROFILE" ]]; then
    # One word: a profile name may start with a hyphen.
    CONTEXT+=("--profile=$PROFILE")
  fi
  if [[ -n "$EXISTING_BUCKET" ]]; then
    CONTEXT+=(--bucket "$EXISTING_BUCKET")
  fi
}

# The arguments, names, region, credentials and every stack the mode touches; exits 0 after printing the
# help, 2 on a usage error, 1 when a check fails.
preflight() {
  local plan="$WORK_DIR/plan"
  "$PYTHON" -m tools.deploy preflight --out "$plan" -- "$@" || exit $?
  [[ -f "$plan" ]] || exit 0
  read_plan "$plan"
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

upload_artifact() {
  step 3 "Artifact bucket s3://$ARTIFACT_BUCKET in $REGION"
  deploy_tool artifact --account "$ACCOUNT" --partition "$PARTITION" --key "$ARTIFACT_KEY" --file "$ZIP_PATH" ||
    exit 1
}

# deploy_stack <stack> <region> <template> <Key=Value>...
deploy_stack() {
  local stack="$1" region="$2" template="$3"
  shift 3
  if ! awscli cloudformation deploy --stack-name "$stack" --region "$region" \
    --template-file "$template" --capabilities CAPABILITY_NAMED_IAM \
    --no-fail-on-empty-changeset --parameter-overrides "$@"; then
    # The report is best effort: the stack failed whatever it manages to print.
    deploy_tool failed-events --stack "$stack" --stack-region "$region" || true
    if [[ "$stack" == "$STORAGE_STACK" ]]; then
      # Only after S3 Object Lambda refused the account: the failed stack and the empty bucket it kept.
      deploy_tool refused-cleanup --account "$ACCOUNT" --stack "$stack" || true
    fi
    die "stack $stack in $region did not deploy (see above)"
  fi
}

# The outputs, then on stderr a warning for a stack with ExifQuery=full and a note for a stack left unused.
print_outputs() {
  step "$TOTAL_STEPS" "Outputs"
  deploy_tool outputs || exit 1
}

cleanup() {
  if [[ -n "$WORK_DIR" ]]; then
    rm -rf "$WORK_DIR"
  fi
}

# Steps 1-3, the same in every mode.
prepare_artifact() {
  generate_templates
  package_transform
  upload_artifact
}

# The distribution stacks' CORS origins when --allowed-origins was given (otherwise each keeps its own).
cdn_parameters() {
  CDN_PARAMETERS=("Prefix=$PREFIX")
  if [[ -n "$ALLOWED_ORIGINS_OVERRIDE" ]]; then
    CDN_PARAMETERS+=("$ALLOWED_ORIGINS_OVERRIDE")
  fi
}

# Step 4 of both S3 Object Lambda modes; OriginMode says which stack owns the access point's policy. With
# --bucket, the bucket's policy gains the statements the mode needs once the stack stands (so a refused stack
# leaves the user's policy as it was).
deploy_storage() {
  step 4 "Stack $STORAGE_STACK in $REGION"
  deploy_stack "$STORAGE_STACK" "$REGION" templates/storage.json \
    "Prefix=$PREFIX" "ArtifactBucket=$ARTIFACT_BUCKET" "ArtifactKey=$ARTIFACT_KEY" "OriginMode=$ORIGIN_MODE" \
    "ExistingBucketName=$EXISTING_BUCKET"
  if [[ "$BUCKET_POLICY" == "add" ]]; then
    deploy_tool bucket-policy --account "$ACCOUNT" --partition "$PARTITION" || exit 1
  fi
}

deploy_olap() {
  prepare_artifact
  deploy_storage

  step 5 "Stack $LAMBDA_EDGE_STACK in $EDGE_REGION"
  deploy_stack "$LAMBDA_EDGE_STACK" "$EDGE_REGION" templates/lambda-edge.json \
    "Prefix=$PREFIX" "TargetRegion=$REGION"

  step 6 "Stack $CDN_STACK in $REGION (edge version from SSM $EDGE_VERSION_PARAMETER in $EDGE_REGION)"
  local edge_version_arn
  edge_version_arn="$(deploy_tool edge-version --account "$ACCOUNT" --partition "$PARTITION")" || exit 1
  say "Edge function version: $edge_version_arn"
  cdn_parameters
  deploy_stack "$CDN_STACK" "$REGION" templates/cdn.json \
    "${CDN_PARAMETERS[@]}" "EdgeFunctionVersionArn=$edge_version_arn"

  print_outputs
}

deploy_olap_oac() {
  prepare_artifact
  deploy_storage

  step 5 "Stack $CDN_OAC_STACK in $REGION"
  cdn_parameters
  deploy_stack "$CDN_OAC_STACK" "$REGION" templates/cdn-oac.json "${CDN_PARAMETERS[@]}"

  print_outputs
}

deploy_function_url() {
  prepare_artifact

  step 4 "Stack $FUNCTION_URL_STACK in $REGION"
  cdn_parameters
  deploy_stack "$FUNCTION_URL_STACK" "$REGION" templates/function-url.json \
    "${CDN_PARAMETERS[@]}" "ArtifactBucket=$ARTIFACT_BUCKET" "ArtifactKey=$ARTIFACT_KEY" \
    "ExistingBucketName=$EXISTING_BUCKET" "StreamingResponses=$STREAMING_RESPONSES"

  print_outputs
}

main() {
  case "${BASH_SOURCE[0]}" in
    */*) ROOT="$(cd "${BASH_SOURCE[0]%/*}" && pwd)" ;;
    *) ROOT="$(pwd)" ;;
  esac
  cd "$ROOT"
  if wants_help "$@"; then
    print_help
    exit 0
  fi
  find_tools
  WORK_DIR="$(mktemp -d)"
  trap cleanup EXIT

  preflight "$@"
  case "$MODE" in
    olap) deploy_olap ;;
    olap-oac) deploy_olap_oac ;;
    function-url) deploy_function_url ;;
    *) die "tools/deploy planned mode '$MODE', which deploy.sh has no steps for" ;;
  esac
}

main "$@"
