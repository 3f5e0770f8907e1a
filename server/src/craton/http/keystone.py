"""Keystone mode: tokens validated by keystonemiddleware, mapped to a Craton principal.

keystonemiddleware is WSGI middleware and Craton is ASGI, so Craton does not wrap itself in
it. It builds one ``keystonemiddleware.auth_token.AuthProtocol`` from the
``[keystone_authtoken]`` options and, for each request, calls that WSGI callable with an
environ that carries only the token headers. Behind it sits a tiny WSGI app that is reached
only when the middleware has confirmed the token, and that hands back the environ the
middleware filled in (``keystone.token_info``). Everything about validation stays the
maintained library's: fetching and caching tokens (``token_cache_time``, memcached),
expiry, revocation (Keystone answers 404 for revoked tokens), service tokens, token binding,
the service user's own token. Craton only decides what the confirmed token means for it.

The authenticator runs in the request's worker thread, so the blocking call to Keystone on
a cache miss never blocks the event loop. See docs/keystone.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from starlette.datastructures import Headers

from craton.domain.errors import CratonError, NotAuthenticated
from craton.domain.principal import Principal, Role
from craton.domain.projects import ensure_project_exists, parse_uuid
from craton.settings import Settings, SettingsError

log = logging.getLogger("craton.keystone")

BAD_CREDENTIALS = "The request could not be authenticated."
AUTHTOKEN_SECTION = "keystone_authtoken"
ROLES_SECTION = "keystone"
_RESULT_KEY = "craton.keystone.confirmed"
# keystonemiddleware matches application-credential access rules against the request's method
# and path. The authenticator only sees headers, so it presents a method no rule can allow:
# tokens restricted by access rules are refused instead of being let through unchecked.
_NO_ACCESS_RULE_METHOD = "CRATON-AUTHENTICATE"
# Keys a [DEFAULT] section lends to every section of the INI file; not ours to warn about.
_CRATON_DEFAULT_KEYS = frozenset({"log_level"})


class IdentityUnavailable(CratonError):
    """Keystone could not be asked; the token may well be good, so this is not a 401."""

    status = 503


class KeystoneNotAuthenticated(NotAuthenticated):
    """401 with the ``WWW-Authenticate: Keystone uri=...`` header keystonemiddleware builds."""

    def __init__(self, message: str, www_authenticate: str | None, detail: str | None = None) -> None:
        super().__init__(message, detail)
        self.headers = {"WWW-Authenticate": www_authenticate} if www_authenticate else None


def _names(value: str | None) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in (value or "").split(",") if part.strip())


def _boolean(option: str, value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"[{ROLES_SECTION}] {option}: {value!r} is not a boolean")


@dataclass(frozen=True)
class RoleMap:
    """Which Keystone roles make a caller a Craton project admin or root (``[keystone]``).

    Every caller with a valid project-scoped token is at least a member of that project.
    Role names compare case-insensitively; tokens list implied roles too (``admin`` implies
    ``manager``, ``member`` and ``reader`` in a default Keystone).
    """

    admin_roles: frozenset[str] = frozenset({"admin"})
    root_roles: frozenset[str] = frozenset()
    admin_project_is_root: bool = True

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> RoleMap:
        known = {"admin_roles", "root_roles", "admin_project_is_root"}
        for key in options:
            if key not in known and key not in _CRATON_DEFAULT_KEYS:
                log.warning("[%s] %s is not a known option; ignored", ROLES_SECTION, key)
        admin_roles = options.get("admin_roles")
        return cls(
            admin_roles=_names(admin_roles) if admin_roles is not None else cls.admin_roles,
            root_roles=_names(options.get("root_roles")),
            admin_project_is_root=_boolean("admin_project_is_root", options.get("admin_project_is_root"), default=True),
        )

    def role_for(self, roles: Iterable[str], is_admin_project: bool) -> Role:
        names = {role.lower() for role in roles}
        if names & self.root_roles:
            return Role.ROOT
        if names & self.admin_roles:
            return Role.ROOT if self.admin_project_is_root and is_admin_project else Role.ADMIN
        return Role.MEMBER


@dataclass(frozen=True)
class TokenIdentity:
    """What Craton takes from a confirmed token."""

    project_id: str
    project_name: str | None
    username: str
    roles: tuple[str, ...]
    is_admin_project: bool


def identity_from_token_info(token_info: Mapping[str, Any]) -> TokenIdentity:
    """Read a v3 token body (``keystone.token_info``); only project-scoped tokens qualify."""
    token = token_info.get("token")
    if not isinstance(token, Mapping):
        raise NotAuthenticated(BAD_CREDENTIALS)
    project = token.get("project")
    if not isinstance(project, Mapping) or not project.get("id"):
        log.info("refused a Keystone token that is not scoped to a project")
        raise NotAuthenticated(BAD_CREDENTIALS)
    project_id = parse_uuid(project["id"])
    if project_id is None:
        log.warning("refused a Keystone token: project id %r is not a UUID", project["id"])
        raise NotAuthenticated(BAD_CREDENTIALS)
    user = token.get("user") or {}
    roles = tuple(str(role.get("name")) for role in token.get("roles") or () if role.get("name"))
    # Keystone only includes is_admin_project when its [resource] admin_project_name is set.
    # keystoneauth reads a missing flag as True; Craton reads it as False, so an unconfigured
    # Keystone never turns a project's admin into Craton's root (docs/decisions.md §3, §14).
    flag = token.get("is_admin_project")
    is_admin_project = flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")
    return TokenIdentity(
        project_id=project_id,
        project_name=project.get("name"),
        username=str(user.get("name") or user.get("id") or ""),
        roles=roles,
        is_admin_project=is_admin_project,
    )


def _confirmed(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The WSGI app behind the middleware: reached only with a confirmed token."""
    environ[_RESULT_KEY].append(environ)
    start_response("204 No Content", [])
    return []


@dataclass(frozen=True)
class _MiddlewareConfig:
    """``[keystone_authtoken]`` split the way keystonemiddleware reads it."""

    options: dict[str, str]  # keystonemiddleware's own options (its "paste" conf dict)
    plugin_group: str  # where the auth plugin's options are read: auth_section, or this section
    plugin_options: dict[str, str]  # auth_type, auth_url, username, password, ... of the service user
    www_authenticate_uri: str | None


def _middleware_config(settings: Settings) -> _MiddlewareConfig:
    from keystoneauth1 import loading
    from keystonemiddleware import auth_token

    section = dict(settings.extra.get(AUTHTOKEN_SECTION) or {})
    if not section:
        raise SettingsError(
            "auth_strategy = keystone needs a [keystone_authtoken] section in the --config-file "
            "(auth_type, auth_url, username, password, ...): see docs/keystone.md"
        )
    middleware_names: dict[str, str] = {}
    for _, opts in auth_token.list_opts():
        for opt in opts:
            middleware_names[opt.dest] = opt.dest
            middleware_names.update({d.name: opt.dest for d in opt.deprecated_opts if d.name})
    plugin_group = section.get("auth_section") or AUTHTOKEN_SECTION
    plugin_section = section if plugin_group == AUTHTOKEN_SECTION else dict(settings.extra.get(plugin_group) or {})
    auth_type = plugin_section.get("auth_type") or section.get("auth_type")
    if not auth_type:
        raise SettingsError(
            f"[{plugin_group}] auth_type is required (usually 'password'): Craton's service user "
            "needs its own token to validate callers' tokens; see docs/keystone.md"
        )
    try:
        loader: Any = loading.get_plugin_loader(auth_type)
    except Exception as error:  # keystoneauth raises NoMatchingPlugin
        raise SettingsError(f"[{plugin_group}] auth_type: {error}") from None
    plugin_names: dict[str, str] = {}
    for opt in loading.get_auth_plugin_conf_options(loader):
        plugin_names[opt.dest] = opt.dest
        plugin_names.update({d.name.replace("-", "_"): opt.dest for d in opt.deprecated_opts if d.name})

    options: dict[str, str] = {}
    plugin_options: dict[str, str] = {"auth_type": auth_type}
    for key, value in section.items():
        if key in middleware_names:
            options[middleware_names[key]] = value
        elif plugin_group == AUTHTOKEN_SECTION and key in plugin_names:
            plugin_options[plugin_names[key]] = value
        elif key not in _CRATON_DEFAULT_KEYS:
            log.warning("[%s] %s is not a keystonemiddleware option; ignored", AUTHTOKEN_SECTION, key)
    if plugin_group != AUTHTOKEN_SECTION:
        for key, value in plugin_section.items():
            if key in plugin_names:
                plugin_options[plugin_names[key]] = value
            elif key not in {"auth_type", "auth_section"} | _CRATON_DEFAULT_KEYS:
                log.warning("[%s] %s is not an option of auth_type %s; ignored", plugin_group, key, auth_type)
        options.pop("auth_type", None)
    # Craton makes the decision itself from the middleware's verdict: the middleware answers
    # 401 (bad or missing token) or 503 (Keystone unreachable) and Craton words the response.
    options["delay_auth_decision"] = "false"
    options.setdefault("service_token_roles_required", "true")
    return _MiddlewareConfig(
        options=options,
        plugin_group=plugin_group,
        plugin_options=plugin_options,
        www_authenticate_uri=options.get("www_authenticate_uri"),
    )


class KeystoneAuthenticator:
    """``app.state.authenticator`` for ``auth_strategy = keystone``."""

    def __init__(self, settings: Settings) -> None:
        try:
            import webob  # noqa: F401  (a keystonemiddleware dependency, used per request)
            from keystoneauth1 import loading
            from keystonemiddleware import auth_token
            from oslo_config import cfg
        except ImportError as error:
            raise SettingsError(
                "auth_strategy = keystone needs keystonemiddleware: pip install 'craton[keystone]'"
            ) from error
        self.roles = RoleMap.from_options(settings.extra.get(ROLES_SECTION, {}))
        config = _middleware_config(settings)
        self._www_authenticate = (
            f'Keystone uri="{config.www_authenticate_uri}"' if config.www_authenticate_uri else None
        )
        # Where people get their tokens (the web UI signs in with a password there).
        self.public_auth_url = config.www_authenticate_uri or config.plugin_options.get("auth_url")
        # A private oslo.config object, as an OpenStack service would have, holding the service
        # user's auth plugin options: nothing is read from /etc or the command line, and the
        # process-wide cfg.CONF is left alone. The middleware's own options go in the conf dict.
        private = cfg.ConfigOpts()
        private([], project="craton", default_config_files=[], default_config_dirs=[])
        loading.register_auth_conf_options(private, config.plugin_group)
        plugin_opts = loading.get_auth_plugin_conf_options(config.plugin_options["auth_type"])
        private.register_opts(plugin_opts, group=config.plugin_group)
        for name, value in config.plugin_options.items():
            private.set_override(name, value, group=config.plugin_group)
        conf: dict[str, Any] = {**config.options, "oslo_config_config": private}
        self._protocol = auth_token.AuthProtocol(_confirmed, conf)
        log.info(
            "Keystone mode: admin roles %s, root roles %s, admin project is root: %s",
            sorted(self.roles.admin_roles),
            sorted(self.roles.root_roles),
            self.roles.admin_project_is_root,
        )

    def validate(self, token: str, service_token: str | None = None) -> Mapping[str, Any]:
        """The token body keystonemiddleware confirmed, or the matching Craton error."""
        import webob

        request = webob.Request.blank("/")
        request.environ["REQUEST_METHOD"] = _NO_ACCESS_RULE_METHOD
        request.headers["X-Auth-Token"] = token
        if service_token:
            request.headers["X-Service-Token"] = service_token
        confirmed: list[dict[str, Any]] = []
        request.environ[_RESULT_KEY] = confirmed
        try:
            response = request.get_response(self._protocol)
        except Exception:
            log.exception("keystonemiddleware failed to validate a token")
            raise IdentityUnavailable("The identity service is unavailable.") from None
        if response.status_int == 401:
            raise self._refused(response.headers.get("WWW-Authenticate"))
        if not confirmed:
            # 503 when Keystone cannot be reached; nothing else is expected from the middleware.
            if response.status_int != 503:
                log.error("keystonemiddleware answered %s", response.status)
            raise IdentityUnavailable("The identity service is unavailable.")
        environ = confirmed[0]
        if str(environ.get("HTTP_X_IDENTITY_STATUS", "")).lower() != "confirmed":
            raise self._refused()
        token_info = environ.get("keystone.token_info")
        if not isinstance(token_info, Mapping):
            raise NotAuthenticated(BAD_CREDENTIALS)
        return token_info

    def _refused(self, www_authenticate: str | None = None, missing: str | None = None) -> NotAuthenticated:
        return KeystoneNotAuthenticated(BAD_CREDENTIALS, www_authenticate or self._www_authenticate, missing)

    def __call__(self, conn: sa.Connection, headers: Headers) -> Principal:
        token = headers.get("x-auth-token")
        if not token or not token.strip():
            raise self._refused(missing="Missing header: X-Auth-Token (a Keystone token).")
        return self.with_expiry(conn, token, headers.get("x-service-token"))[0]

    def with_expiry(
        self, conn: sa.Connection, token: str, service_token: str | None = None
    ) -> tuple[Principal, dt.datetime | None]:
        """The caller a token names, and when the token expires (a web UI session ends then too)."""
        token_info = self.validate(token, service_token)
        identity = identity_from_token_info(token_info)
        _ensure_project(conn, identity)
        principal = Principal(
            project_id=identity.project_id,
            username=identity.username,
            role=self.roles.role_for(identity.roles, identity.is_admin_project),
        )
        return principal, _expiry(token_info)

    def password_token(self, username: str, password: str, project_name: str, domain: str) -> str:
        """A project-scoped token for a person signing in to the web UI with a password."""
        from keystoneauth1 import exceptions, session
        from keystoneauth1.identity import v3

        if not self.public_auth_url:
            raise IdentityUnavailable("No Keystone URL is configured ([keystone_authtoken] www_authenticate_uri).")
        auth = v3.Password(
            auth_url=self.public_auth_url,
            username=username,
            password=password,
            project_name=project_name,
            user_domain_name=domain,
            project_domain_name=domain,
        )
        try:
            return str(session.Session(auth=auth, timeout=10).get_token())
        except exceptions.Unauthorized:
            raise self._refused() from None
        except exceptions.ClientException as error:
            log.warning("password sign-in could not reach Keystone: %s", type(error).__name__)
            raise IdentityUnavailable("The identity service is unavailable.") from None


def _expiry(token_info: Mapping[str, Any]) -> dt.datetime | None:
    text = (token_info.get("token") or {}).get("expires_at")
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def _ensure_project(conn: sa.Connection, identity: TokenIdentity) -> None:
    """Create the caller's Craton project on first use, with system rights (docs/decisions.md §14)."""
    if ensure_project_exists(conn, identity.project_id, identity.project_name):
        log.info("created project %s (%s) for Keystone", identity.project_id, identity.project_name)


def keystone_authenticator(settings: Settings) -> KeystoneAuthenticator:
    return KeystoneAuthenticator(settings)
