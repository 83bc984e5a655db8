"""The one failure the command line reports: a single line on stderr, exit status 1."""

from __future__ import annotations


class CommandError(Exception):
    """What went wrong, in one line that names the file, folder or bucket it is about."""
