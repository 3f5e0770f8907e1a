"""Ways to prove who you are to Craton, each ending in a ready :class:`Session`.

Craton's own scheme sends three headers (project, user, API key) on every request. Keystone
mode sends a Keystone token instead; that needs the optional ``keystoneauth1`` package
(``pip install 'python-cratonclient[keystone]'``), which is only imported when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from cratonclient import exceptions as exc

if TYPE_CHECKING:
    from cratonclient.session import Session

AUTH_PROJECT_HEADER = "X-Auth-Project"
AUTH_USER_HEADER = "X-Auth-User"
AUTH_TOKEN_HEADER = "X-Auth-Token"
#: Same as ``cratonclient.session.DEFAULT_TIMEOUT`` (not imported: that module imports this one).
_DEFAULT_TIMEOUT = 30.0


class AuthPlugin(Protocol):
    """What :class:`~cratonclient.session.Session` needs from any authentication method."""

    def get_headers(self) -> dict[str, str]:
        """Headers to add to the next request; raise ``UnableToAuthenticate`` if impossible."""
        ...

    def invalidate(self) -> bool:
        """Forget cached credentials after a 401; True when fetching new ones may help."""
        ...


class CratonAuth:
    """Craton's built-in authentication: a project id, a username and that user's API key."""

    def __init__(self, username: str | None, project_id: Any, token: str | None) -> None:
        self.username = username
        self.project_id = project_id
        self.token = token

    def get_headers(self, session: object = None, **kwargs: Any) -> dict[str, str]:
        """The three X-Auth headers; an empty token is refused here rather than by the server."""
        if not self.token:
            raise exc.UnableToAuthenticate()
        return {
            AUTH_TOKEN_HEADER: self.token,
            AUTH_USER_HEADER: self.username or "",
            AUTH_PROJECT_HEADER: "" if self.project_id is None else str(self.project_id),
        }

    def invalidate(self) -> bool:
        """An API key cannot be refreshed, so a 401 is final."""
        return False

    def __repr__(self) -> str:
        # Never show the token: reprs end up in logs and tracebacks.
        return f"CratonAuth(username={self.username!r}, project_id={self.project_id!r})"


class KeystoneUnreachable(exc.ConnectionFailed):
    """Keystone, not Craton, could not be reached; ``auth_url`` says where it was looked for."""

    def __init__(self, auth_url: str | None, error: BaseException) -> None:
        super().__init__(
            f"could not connect to Keystone at {auth_url or 'its auth URL'}: {error}",
            original_exception=error,
        )
        self.auth_url = auth_url


class KeystoneAuth:
    """Keystone tokens obtained through a ``keystoneauth1`` session and its auth plugin."""

    def __init__(self, keystone_session: Any) -> None:
        self.keystone_session = keystone_session

    def get_headers(self) -> dict[str, str]:
        """A current Keystone token, fetched (or re-fetched) from Keystone when needed."""
        from keystoneauth1 import exceptions as ksa_exc

        try:
            headers = self.keystone_session.get_auth_headers()
        except ksa_exc.ConnectionError as error:  # refused, timed out, TLS failure
            raise KeystoneUnreachable(self.auth_url, error) from error
        except ksa_exc.Unauthorized as error:
            raise exc.UnableToAuthenticate(
                f"Keystone refused the credentials: {error}", original_exception=error
            ) from error
        except ksa_exc.ClientException as error:
            raise exc.UnableToAuthenticate(
                f"Keystone authentication failed: {error}", original_exception=error
            ) from error
        if not headers:
            raise exc.UnableToAuthenticate()
        return dict(headers)

    @property
    def auth_url(self) -> str | None:
        """Keystone's URL, when the plugin has one (for messages)."""
        return getattr(self.keystone_session.auth, "auth_url", None)

    def invalidate(self) -> bool:
        """Drop the cached token so the next request asks Keystone for a fresh one."""
        return bool(self.keystone_session.invalidate())

    def __repr__(self) -> str:
        return f"KeystoneAuth(auth={self.keystone_session.auth!r})"


def create_session_with(
    auth_plugin: Any, verify: bool | str = True, *, timeout: float | None = _DEFAULT_TIMEOUT
) -> Session:
    """Wrap any supported plugin (ours, or a keystoneauth1 one) in a :class:`Session`.

    ``timeout`` (seconds, None for none) bounds each request to Craton and, for a
    keystoneauth1 plugin, each request to Keystone too.
    """
    from cratonclient.session import Session

    if not isinstance(auth_plugin, (CratonAuth, KeystoneAuth)) and _is_keystone_plugin(auth_plugin):
        from keystoneauth1 import session as ksa_session

        keystone_session = ksa_session.Session(auth=auth_plugin, verify=verify, timeout=timeout)
        return Session(auth=KeystoneAuth(keystone_session), verify=verify, timeout=timeout)
    return Session(auth=auth_plugin, verify=verify, timeout=timeout)


def _is_keystone_plugin(plugin: object) -> bool:
    """True for keystoneauth1 plugins; never imports keystoneauth1 when it is absent."""
    try:
        from keystoneauth1.plugin import BaseAuthPlugin
    except ImportError:
        return False
    return isinstance(plugin, BaseAuthPlugin)


def craton_auth(username: str, token: str, project_id: Any, verify: bool | str = True) -> Session:
    """A session using Craton's own API keys (what ``craton-dbsync bootstrap`` prints).

    ``verify`` is passed to TLS verification: True, False, or a CA bundle path.
    """
    plugin = CratonAuth(username=username, project_id=project_id, token=token)
    return create_session_with(plugin, verify)


def keystone_auth(
    auth_url: str,
    username: str,
    password: str,
    verify: bool | str = True,
    project_name: str | None = None,
    project_id: str | None = None,
    project_domain_name: str | None = None,
    project_domain_id: str | None = None,
    user_domain_name: str | None = None,
    user_domain_id: str | None = None,
    *,
    timeout: float | None = _DEFAULT_TIMEOUT,
    **auth_parameters: Any,
) -> Session:
    """A session using Keystone v3 password authentication (needs the ``keystone`` extra).

    The session asks Keystone for a token before its first request, reuses it, asks for a
    new one shortly before it expires, and once more when Craton answers 401 (a revoked
    token). Extra keyword arguments (``trust_id``, ``domain_name``...) go to keystoneauth1's
    ``Password`` plugin unchanged; ``timeout`` bounds each request to Keystone and to Craton.
    """
    try:
        from keystoneauth1.identity import v3
    except ImportError as error:
        raise ImportError(
            "Keystone authentication needs keystoneauth1: pip install 'python-cratonclient[keystone]'"
        ) from error
    plugin = v3.Password(
        auth_url=auth_url,
        username=username,
        password=password,
        project_name=project_name,
        project_id=project_id,
        project_domain_name=project_domain_name,
        project_domain_id=project_domain_id,
        user_domain_name=user_domain_name,
        user_domain_id=user_domain_id,
        **auth_parameters,
    )
    return create_session_with(plugin, verify, timeout=timeout)


__all__ = [
    "AuthPlugin",
    "CratonAuth",
    "KeystoneAuth",
    "KeystoneUnreachable",
    "craton_auth",
    "create_session_with",
    "keystone_auth",
]
