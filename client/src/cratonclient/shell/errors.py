"""Errors the shell raises itself; the library's own errors live in cratonclient.exceptions."""

from __future__ import annotations

from cratonclient.exceptions import CommandError


class UsageError(CommandError):
    """The command line itself is wrong; reported like an argparse error, exit status 2.

    It subclasses the library's ``CommandError`` so callers that catch the original CLI's
    error class still catch it.
    """
