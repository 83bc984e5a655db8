#!/bin/sh
# The function's handler when StreamingResponses=true (Handler: function_url/run.sh). Lambda
# Web Adapter's wrapper (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) runs it to start the web
# app: the standard-library HTTP server over the transform, on AWS_LWA_PORT.
set -eu

# LAMBDA_TASK_ROOT is where Lambda unpacks the zip; outside Lambda, the folder above this
# script's (the zip's root holds the serving, metadata and function_url packages).
task_root="${LAMBDA_TASK_ROOT:-$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)}"
cd "$task_root"

# The function's packages and its bundled requirements sit at the zip root; keep the
# runtime's own path (boto3 comes with the runtime) after it.
PYTHONPATH="${task_root}${PYTHONPATH:+:${PYTHONPATH}}"
export PYTHONPATH
exec python3 -m function_url.server
