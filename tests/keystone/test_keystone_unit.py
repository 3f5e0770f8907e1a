"""Keystone mode without a Keystone: settings, role mapping, token reading, CLI options.

The end-to-end behaviour against a real Keystone is in test_keystone_live.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("keystonemiddleware")

import httpx

from craton.domain.errors import NotAuthenticated
from craton.domain.principal import Role
from craton.http.auth import authenticator_for, local_keys
from craton.http.keystone import KeystoneAuthenticator, RoleMap, identity_from_token_info
from craton.settings import Settings, SettingsError, load_settings
from cratonclient import auth as client_auth
from cratonclient.shell.auth import build_session
from cratonclient.shell.main import CratonShell
from tests.conftest import free_port, running_server, throwaway_database

PROJECT = "0b5f2c8e9d1a4e6f8a7b3c2d1e0f9a8b"
AUTHTOKEN = {
    "auth_type": "password",
    "auth_url": "http://127.0.0.1:9/v3",
    "username": "craton",
    "password": "secret",
    "project_name": "service",
    "user_domain_name": "Default",
    "project_domain_name": "Default",
}


def keystone_settings(**authtoken: str) -> Settings:
    return Settings(auth_strategy="keystone", extra={"keystone_authtoken": {**AUTHTOKEN, **authtoken}})


def token_info(roles: tuple[str, ...] = ("member",), **token: Any) -> dict[str, Any]:
    body = {
        "user": {"id": "u1", "name": "alice"},
        "project": {"id": PROJECT, "name": "alpha"},
        "roles": [{"id": f"r-{name}", "name": name} for name in roles],
        **token,
    }
    return {"token": body}


# --- choosing the strategy -----------------------------------------------------------------------


def test_local_keys_stay_the_default() -> None:
    assert Settings().auth_strategy == "craton"
    assert authenticator_for(Settings()) is local_keys


@pytest.mark.parametrize(
    "line",
    [
        "[api]\nauth_strategy = keystone",
        "[api]\npaste_pipeline = keystone-auth",
        "[api]\nauth_strategy = keystone-auth",
    ],
)
def test_the_ini_file_selects_keystone_mode(tmp_path: Path, line: str) -> None:
    ini = tmp_path / "craton.conf"
    ini.write_text(line + "\n[keystone_authtoken]\nauth_type = password\nauth_url = http://k/v3\n")
    settings = load_settings(config_file=ini, environ={})
    assert settings.auth_strategy == "keystone"
    assert isinstance(authenticator_for(settings), KeystoneAuthenticator)


def test_keystone_mode_explains_missing_configuration() -> None:
    with pytest.raises(SettingsError, match=r"\[keystone_authtoken\] section"):
        authenticator_for(Settings(auth_strategy="keystone"))
    with pytest.raises(SettingsError, match="auth_type is required"):
        authenticator_for(Settings(auth_strategy="keystone", extra={"keystone_authtoken": {"auth_url": "x"}}))
    with pytest.raises(SettingsError, match="auth_type"):
        authenticator_for(keystone_settings(auth_type="no-such-plugin"))
    with pytest.raises(SettingsError, match="admin_project_is_root"):
        authenticator_for(
            Settings(
                auth_strategy="keystone",
                extra={"keystone_authtoken": AUTHTOKEN, "keystone": {"admin_project_is_root": "maybe"}},
            )
        )


def test_unknown_authtoken_options_are_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="craton.keystone"):
        authenticator_for(keystone_settings(auth_urll="http://typo/v3", log_level="debug"))
    messages = [r.getMessage() for r in caplog.records if r.name == "craton.keystone"]
    assert any("auth_urll is not a keystonemiddleware option" in m for m in messages)
    assert not any("log_level" in m for m in messages)  # lent by [DEFAULT], not a typo


def service_user_plugin(authenticator: Any) -> Any:
    # keystonemiddleware's private attribute: the plugin its service user authenticates with.
    return authenticator._protocol._auth


def test_the_service_user_comes_from_the_plugin_options(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        plugin = service_user_plugin(authenticator_for(keystone_settings(tenant_name="legacy")))
    assert plugin.auth_url == "http://127.0.0.1:9/v3"
    # keystoneauth's generic password plugin keeps its options in private attributes.
    assert plugin._project_name == "legacy"  # deprecated option names still work
    assert (plugin._username, plugin._user_domain_name) == ("craton", "Default")
    assert not [r for r in caplog.records if "not known" in r.getMessage()]


def test_auth_section_holds_the_plugin_options() -> None:
    settings = Settings(
        auth_strategy="keystone",
        extra={
            "keystone_authtoken": {"auth_section": "service_user", "www_authenticate_uri": "http://k/v3"},
            "service_user": {**AUTHTOKEN, "auth_url": "http://elsewhere/v3"},
        },
    )
    plugin = service_user_plugin(authenticator_for(settings))
    assert plugin.auth_url == "http://elsewhere/v3" and plugin._password == "secret"


# --- role mapping --------------------------------------------------------------------------------


def test_default_role_mapping() -> None:
    roles = RoleMap()
    assert roles.role_for(["member", "reader"], is_admin_project=False) is Role.MEMBER
    assert roles.role_for(["reader"], is_admin_project=True) is Role.MEMBER
    assert roles.role_for(["Admin", "member"], is_admin_project=False) is Role.ADMIN
    assert roles.role_for(["admin"], is_admin_project=True) is Role.ROOT


def test_configured_role_mapping() -> None:
    roles = RoleMap.from_options(
        {"admin_roles": "manager, fleet-admin", "root_roles": "craton-root", "admin_project_is_root": "false"}
    )
    assert roles.role_for(["manager"], is_admin_project=False) is Role.ADMIN
    assert roles.role_for(["admin"], is_admin_project=True) is Role.MEMBER  # no longer an admin role
    assert roles.role_for(["fleet-admin"], is_admin_project=True) is Role.ADMIN  # admin project ignored
    assert roles.role_for(["member", "CRATON-ROOT"], is_admin_project=False) is Role.ROOT
    assert RoleMap.from_options({"admin_roles": ""}).admin_roles == frozenset()


# --- reading a confirmed token -------------------------------------------------------------------


def test_the_token_names_project_user_and_roles() -> None:
    identity = identity_from_token_info(token_info(("admin", "member")))
    assert identity.project_id == "0b5f2c8e-9d1a-4e6f-8a7b-3c2d1e0f9a8b"
    assert (identity.project_name, identity.username) == ("alpha", "alice")
    assert identity.roles == ("admin", "member")


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (None, False),
        (True, True),
        (False, False),
        ("True", True),
        ("False", False),
        ("yes", False),
    ],
)
def test_is_admin_project_is_a_boolean_and_missing_means_false(flag: Any, expected: bool) -> None:
    extra = {} if flag is None else {"is_admin_project": flag}
    assert identity_from_token_info(token_info(**extra)).is_admin_project is expected


@pytest.mark.parametrize(
    "info",
    [
        {},
        {"token": {"user": {"name": "a"}, "roles": []}},  # unscoped
        {"token": {"user": {"name": "a"}, "domain": {"id": "default"}, "roles": []}},  # domain-scoped
        {"token": {"user": {"name": "a"}, "system": {"all": True}, "roles": []}},  # system-scoped
        {"token": {"user": {"name": "a"}, "project": {"id": "not-a-uuid", "name": "x"}, "roles": []}},
    ],
)
def test_tokens_without_a_usable_project_are_refused(info: dict[str, Any]) -> None:
    with pytest.raises(NotAuthenticated, match="could not be authenticated"):
        identity_from_token_info(info)


# --- the service when Keystone is away -----------------------------------------------------------


@pytest.fixture
def keystone_mode_app(tmp_path: Path) -> Iterator[httpx.Client]:
    """craton-api in Keystone mode, with Keystone's address pointing at a closed port."""
    extra = {
        "keystone_authtoken": {
            **AUTHTOKEN,
            "auth_url": f"http://127.0.0.1:{free_port()}/v3",
            "www_authenticate_uri": "http://keystone.test/v3",
            "http_connect_timeout": "2",
        }
    }
    with (
        throwaway_database("sqlite", tmp_path) as url,
        running_server("sqlite", url, auth_strategy="keystone", extra=extra) as live,
    ):
        yield live.client(headers={})


def test_no_token_is_a_401_without_asking_keystone(keystone_mode_app: httpx.Client) -> None:
    response = keystone_mode_app.get("/v1/clouds")
    assert response.status_code == 401
    assert response.json() == {
        "message": "The request could not be authenticated.",
        "status": 401,
        "detail": "Missing header: X-Auth-Token (a Keystone token).",
    }
    assert response.headers["www-authenticate"] == 'Keystone uri="http://keystone.test/v3"'


def test_an_unreachable_keystone_is_a_503_not_a_401(keystone_mode_app: httpx.Client) -> None:
    response = keystone_mode_app.get("/v1/clouds", headers={"X-Auth-Token": "gAAAAAB-some-token"})
    assert response.status_code == 503
    assert response.json() == {"message": "The identity service is unavailable.", "status": 503}
    assert keystone_mode_app.get("/healthz").status_code == 200  # health needs no token


# --- the CLI's choice of authentication ----------------------------------------------------------


def options(environ: dict[str, str], *argv: str) -> Any:
    args, _ = CratonShell(environ=environ).parser.parse_known_args([*argv, "cloud-list"])
    return args


OPENRC = {
    "OS_AUTH_URL": "http://keystone.test:5000/v3",
    "OS_USERNAME": "bob",
    "OS_PASSWORD": "pw",
    "OS_PROJECT_NAME": "alpha",
    "OS_USER_DOMAIN_NAME": "Default",
    "OS_PROJECT_DOMAIN_NAME": "Default",
}


def test_the_openstack_variables_select_keystone() -> None:
    session = build_session(options({**OPENRC, "CRATON_TIMEOUT": "7"}))
    assert isinstance(session.auth, client_auth.KeystoneAuth)
    plugin = session.auth.keystone_session.auth
    assert plugin.auth_url == "http://keystone.test:5000/v3"
    assert (plugin.project_name, plugin.project_domain_name) == ("alpha", "Default")
    method = plugin.auth_methods[0]
    assert (method.username, method.password, method.user_domain_name) == ("bob", "pw", "Default")
    assert session.timeout == 7 and session.auth.keystone_session.timeout == 7


def test_keystone_domains_default_to_the_default_domain() -> None:
    environ = {k: v for k, v in OPENRC.items() if "DOMAIN" not in k}
    plugin = build_session(options(environ)).auth.keystone_session.auth  # type: ignore[attr-defined]
    assert plugin.project_domain_id == "default" and plugin.auth_methods[0].user_domain_id == "default"
    by_id = {**environ, "OS_PROJECT_NAME": "", "OS_PROJECT_ID": PROJECT}
    plugin = build_session(options(by_id)).auth.keystone_session.auth  # type: ignore[attr-defined]
    assert (plugin.project_id, plugin.project_name, plugin.project_domain_id) == (PROJECT, None, None)


def test_command_line_options_select_keystone_too() -> None:
    args = options(
        {},
        "--os-auth-url",
        "http://k/v3",
        "--os-username",
        "u",
        "--os-password",
        "p",
        "--os-project-name",
        "alpha",
        "--os-user-domain-id",
        "d1",
        "--os-project-domain-name",
        "D",
    )
    plugin = build_session(args).auth.keystone_session.auth  # type: ignore[attr-defined]
    assert (plugin.auth_url, plugin.project_domain_name, plugin.auth_methods[0].user_domain_id) == (
        "http://k/v3",
        "D",
        "d1",
    )


def test_without_an_auth_url_the_cli_uses_craton_keys() -> None:
    environ = {"OS_USERNAME": "root", "OS_PASSWORD": "key", "OS_PROJECT_ID": PROJECT, "OS_PROJECT_NAME": "x"}
    session = build_session(options(environ))
    assert isinstance(session.auth, client_auth.CratonAuth)
    assert session.auth.get_headers()["X-Auth-Project"] == PROJECT


def test_missing_keystone_credentials_are_named() -> None:
    from cratonclient import exceptions

    with pytest.raises(exceptions.UnableToAuthenticate, match="OS_PASSWORD.*OS_PROJECT_NAME"):
        build_session(options({"OS_AUTH_URL": "http://k/v3", "OS_USERNAME": "u"}))
