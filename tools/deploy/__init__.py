"""deploy.sh's Python side: its command line, the preflight checks, the artifact bucket, the failed-events
report and the outputs, with boto3. deploy.sh runs `python -m tools.deploy <command>` from the repository
root and keeps the `aws cloudformation deploy` calls; cli.py documents each command."""
