"""How the CLI authenticates: the one place that turns options into a session.

Today only Craton's own API keys exist. Keystone (``OS_AUTH_URL`` and friends) will be chosen
here too, without any command noticing, because commands only ever see the client.
"""

from __future__ import annotations

import argparse

from cratonclient import auth, exceptions
from cratonclient.session import Session


def build_session(options: argparse.Namespace) -> Session:
    """A session for the credentials in ``options``; a clear error names what is missing."""
    missing = [
        flag
        for flag, value in (
            ("--os-username / OS_USERNAME", options.os_username),
            ("--os-password / OS_PASSWORD", options.os_password),
            ("--os-project-id / OS_PROJECT_ID", options.os_project_id),
        )
        if not value
    ]
    if missing:
        raise exceptions.UnableToAuthenticate(f"missing credentials: set {', '.join(missing)}")
    plugin = auth.CratonAuth(
        username=options.os_username, project_id=options.os_project_id, token=options.os_password
    )
    verify: bool | str = options.os_cacert or not options.insecure
    reason = getattr(options, "reason", None) or None
    return Session(auth=plugin, verify=verify, timeout=options.timeout, change_reason=reason)
