"""How the CLI authenticates: the one place that turns options into a session.

Two ways, chosen without any command noticing, because commands only ever see the client:

* Keystone, when ``--os-auth-url`` / ``OS_AUTH_URL`` is set: the usual OpenStack variables
  (``OS_USERNAME``, ``OS_PASSWORD``, ``OS_PROJECT_NAME`` or ``OS_PROJECT_ID``,
  ``OS_USER_DOMAIN_NAME``, ``OS_PROJECT_DOMAIN_NAME``) get a token from Keystone, which is
  sent to Craton. Needs ``pip install 'python-cratonclient[keystone]'``.
* Craton's own API keys otherwise: ``OS_USERNAME``, ``OS_PASSWORD`` (the API key) and
  ``OS_PROJECT_ID`` go to Craton as they are.
"""

from __future__ import annotations

import argparse

from cratonclient import auth, exceptions
from cratonclient.session import Session

#: Keystone's default domain, used when neither a domain name nor an id is given (as in
#: devstack's openrc and openstackclient's ``--os-default-domain``).
DEFAULT_DOMAIN_ID = "default"


def build_session(options: argparse.Namespace) -> Session:
    """A session for the credentials in ``options``; a clear error names what is missing."""
    verify: bool | str = options.os_cacert or not options.insecure
    if getattr(options, "os_auth_url", None):
        return _keystone_session(options, verify)
    missing = _missing(
        ("--os-username / OS_USERNAME", options.os_username),
        ("--os-password / OS_PASSWORD", options.os_password),
        ("--os-project-id / OS_PROJECT_ID", options.os_project_id),
    )
    if missing:
        raise exceptions.UnableToAuthenticate(f"missing credentials: set {', '.join(missing)}")
    plugin = auth.CratonAuth(username=options.os_username, project_id=options.os_project_id, token=options.os_password)
    return Session(auth=plugin, verify=verify, timeout=options.timeout)


def _keystone_session(options: argparse.Namespace, verify: bool | str) -> Session:
    project_name = options.os_project_name or None
    project_id = None if project_name else options.os_project_id or None
    missing = _missing(
        ("--os-username / OS_USERNAME", options.os_username),
        ("--os-password / OS_PASSWORD", options.os_password),
        ("--os-project-name / OS_PROJECT_NAME (or --os-project-id / OS_PROJECT_ID)", project_name or project_id),
    )
    if missing:
        raise exceptions.UnableToAuthenticate(f"missing Keystone credentials: set {', '.join(missing)}")
    user_domain_name = options.os_user_domain_name or None
    user_domain_id = options.os_user_domain_id or (None if user_domain_name else DEFAULT_DOMAIN_ID)
    # A project id names the project on its own; a project name needs its domain.
    project_domain_name = options.os_project_domain_name or None
    project_domain_id = options.os_project_domain_id or None
    if project_name and not (project_domain_name or project_domain_id):
        project_domain_id = DEFAULT_DOMAIN_ID
    try:
        return auth.keystone_auth(
            auth_url=options.os_auth_url,
            username=options.os_username,
            password=options.os_password,
            verify=verify,
            project_name=project_name,
            project_id=project_id,
            project_domain_name=project_domain_name,
            project_domain_id=project_domain_id,
            user_domain_name=user_domain_name,
            user_domain_id=user_domain_id,
            timeout=options.timeout,
        )
    except ImportError as error:
        raise exceptions.CommandError(str(error)) from None


def _missing(*pairs: tuple[str, object]) -> list[str]:
    return [flag for flag, value in pairs if not value]
