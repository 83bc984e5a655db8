"""Command-line tools run from the repository root: package_transform.py (a script) and deploy (deploy.sh's
Python side, run as `python -m tools.deploy`)."""
