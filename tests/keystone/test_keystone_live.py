"""Keystone mode end to end: a real Keystone, a real craton-api, the Python client and the CLI.

Keystone (conftest.py) has two projects, alpha and beta, each with an admin and a member:
alice (admin) and bob (member) in alpha, carol (admin) and dave (member) in beta. The cloud
admin ("admin" in Keystone's admin project) is Craton's root. Craton has never heard of
any of them before the first request.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import subprocess
import time
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from cratonclient import auth
from cratonclient import exceptions as exc
from cratonclient.v1.client import Client
from tests.keystone.conftest import ADMIN_PASSWORD, PASSWORD, TOKEN_CACHE_SECONDS, Cloud, _bin

BAD_CREDENTIALS = {"message": "The request could not be authenticated.", "status": 401}


def craton_uuid(keystone_project_id: str) -> str:
    """Keystone's 32 hex digits as Craton's canonical dashed project id."""
    return str(uuid.UUID(keystone_project_id))


def client(cloud: Cloud, username: str, project: str, password: str = PASSWORD) -> Client:
    session = auth.keystone_auth(
        auth_url=cloud.keystone.url,
        username=username,
        password=password,
        project_name=project,
        project_domain_name="Default",
        user_domain_name="Default",
    )
    return Client(session=session, url=cloud.craton.url)


def raw(cloud: Cloud, token: str | None, path: str = "/v1/clouds") -> httpx.Response:
    headers = {"X-Auth-Token": token} if token is not None else {}
    return httpx.get(cloud.craton.url + path, headers=headers, timeout=30)


def craton_projects(cloud: Cloud) -> dict[str, str | None]:
    engine = sa.create_engine(cloud.craton.database_url)
    try:
        with engine.connect() as conn:
            return {row.id: row.name for row in conn.execute(sa.text("SELECT id, name FROM projects"))}
    finally:
        engine.dispose()


def cli(
    cloud: Cloud, *argv: str, user: str = "bob", project: str = "alpha", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The ``craton`` console script with the usual OpenStack variables."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "CRATON_"))}
    base.update(
        CRATON_URL=cloud.craton.url,
        OS_AUTH_URL=cloud.keystone.url,
        OS_USERNAME=user,
        OS_PASSWORD=PASSWORD,
        OS_PROJECT_NAME=project,
        OS_USER_DOMAIN_NAME="Default",
        OS_PROJECT_DOMAIN_NAME="Default",
    )
    base.update(env or {})
    return subprocess.run(
        [_bin("craton"), *argv],
        env={k: v for k, v in base.items() if v is not None},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def cli_json(cloud: Cloud, *argv: str, **kwargs: Any) -> Any:
    result = cli(cloud, "--format", "json", *argv, **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- tokens are validated -----------------------------------------------------------------------


def test_requests_without_a_valid_keystone_token_are_refused(cloud: Cloud) -> None:
    missing = raw(cloud, None)
    assert missing.status_code == 401
    assert missing.json() == {**BAD_CREDENTIALS, "detail": "Missing header: X-Auth-Token (a Keystone token)."}
    assert missing.headers["www-authenticate"] == f'Keystone uri="{cloud.keystone.url}"'
    garbage = raw(cloud, "gAAAAAB-not-a-token")
    assert garbage.status_code == 401 and garbage.json() == BAD_CREDENTIALS
    assert garbage.headers["www-authenticate"] == f'Keystone uri="{cloud.keystone.url}"'
    # Craton's own headers mean nothing in Keystone mode.
    local = httpx.get(
        cloud.craton.url + "/v1/clouds",
        timeout=30,
        headers={"X-Auth-Project": str(uuid.uuid4()), "X-Auth-User": "root", "X-Auth-Token": "key"},
    )
    assert local.status_code == 401
    # Unknown URLs authenticate first, as in local mode.
    assert raw(cloud, None, "/v1/nowhere").status_code == 401


def test_a_token_is_validated_with_keystone_and_names_the_caller(cloud: Cloud) -> None:
    token = cloud.keystone.token("bob", "alpha")
    response = raw(cloud, token)
    assert response.status_code == 200, response.text
    # A token for another project is another tenant: the token decides, nothing else.
    assert raw(cloud, cloud.keystone.token("dave", "beta")).status_code == 200


# --- first use of a Keystone project ------------------------------------------------------------


def test_a_project_craton_has_never_seen_works_on_first_use_by_a_member(cloud: Cloud) -> None:
    keystone = cloud.keystone
    gamma = keystone.create_project(f"gamma-{uuid.uuid4().hex[:6]}")
    name = keystone.call("GET", f"/projects/{gamma}")["project"]["name"]
    keystone.add_user(f"erin-{gamma[:6]}", gamma, "member")
    assert craton_uuid(gamma) not in craton_projects(cloud)

    erin = client(cloud, f"erin-{gamma[:6]}", name)
    assert list(erin.clouds.list()) == []
    created = erin.clouds.create(name="first-light")
    assert created.project_id == craton_uuid(gamma)
    assert craton_projects(cloud)[craton_uuid(gamma)] == name


def test_concurrent_first_requests_create_the_project_once(cloud: Cloud) -> None:
    keystone = cloud.keystone
    delta = keystone.create_project(f"delta-{uuid.uuid4().hex[:6]}")
    name = keystone.call("GET", f"/projects/{delta}")["project"]["name"]
    keystone.add_user(f"frank-{delta[:6]}", delta, "admin")
    token = keystone.token(f"frank-{delta[:6]}", name)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda _: raw(cloud, token).status_code, range(6)))
    assert statuses == [200] * 6
    assert list(craton_projects(cloud)).count(craton_uuid(delta)) == 1


# --- roles and tenancy through the Python client --------------------------------------------


def test_admins_and_members_of_two_projects_stay_in_their_project(cloud: Cloud) -> None:
    alpha, beta = (craton_uuid(cloud.projects[p]) for p in ("alpha", "beta"))
    alice, bob = client(cloud, "alice", "alpha"), client(cloud, "bob", "alpha")
    carol, dave = client(cloud, "carol", "beta"), client(cloud, "dave", "beta")

    # Every manager works with a Keystone session.
    site = alice.clouds.create(name="alpha-cloud", variables={"ntp": "10.0.0.1"})
    region = alice.regions.create(name="alpha-east", cloud_id=site.id)
    cell = alice.cells.create(name="alpha-east-a", region_id=region.id, cloud_id=site.id)
    host = bob.hosts.create(
        name="alpha-web-1",
        cloud_id=site.id,
        region_id=region.id,
        cell_id=cell.id,
        ip_address="10.1.0.1",
        device_type="server",
    )
    switch = bob.network_devices.create(
        name="alpha-sw-1", cloud_id=site.id, region_id=region.id, ip_address="10.1.0.254", device_type="switch"
    )
    network = bob.networks.create(
        name="alpha-net",
        cloud_id=site.id,
        region_id=region.id,
        cidr="10.1.0.0/24",
        gateway="10.1.0.254",
        netmask="255.255.255.0",
    )
    bob.network_interfaces.create(
        name="eth0", device_id=host.id, interface_type="ethernet", ip_address="10.1.0.1", network_id=network.id
    )
    assert site.project_id == alpha
    assert host.variables.get().to_dict()["ntp"] == "10.0.0.1"  # hosts resolve their cloud's
    assert {d.name for d in bob.devices.list()} >= {"alpha-web-1", "alpha-sw-1"}
    assert "alpha-web-1" in json.dumps(bob.inventory.get())
    # The history names the Keystone users who made each change.
    assert {c.username for c in alice.changes.list()} >= {"alice", "bob"}
    assert [s.name for s in bob.clouds.list()] == ["alpha-cloud"]

    carol.clouds.create(name="beta-cloud")
    # Tenancy: beta sees nothing of alpha, whatever its role, and the other way round.
    for outsider in (carol, dave):
        assert [c.name for c in outsider.clouds.list()] == ["beta-cloud"]
        with pytest.raises(exc.NotFound):
            outsider.clouds.get(site.id)
        with pytest.raises(exc.NotFound):
            outsider.hosts.get(host.id)
        with pytest.raises(exc.NotFound):
            outsider.network_devices.get(switch.id)
        assert list(outsider.networks.list()) == []
    with pytest.raises(exc.NotFound):
        dave.clouds.update(site.id, note="mine now")
    for insider in (alice, bob):
        assert [c.name for c in insider.clouds.list()] == ["alpha-cloud"]

    # Keystone "admin" on a project = Craton project admin: its own project only.
    assert alice.projects.get(alpha).name == "alpha"
    alice.projects.get(alpha).variables.update(owner="team-alpha")
    with pytest.raises(exc.NotFound):
        alice.projects.get(beta)
    with pytest.raises(exc.Forbidden):
        list(alice.projects.list())  # root only
    assert list(alice.users.list()) == []  # Keystone users are not Craton users
    # Keystone "member" = Craton member.
    with pytest.raises(exc.Forbidden):
        bob.projects.get(alpha)
    with pytest.raises(exc.Forbidden):
        list(bob.users.list())


def test_the_cloud_admin_is_root_and_so_is_the_configured_root_role(cloud: Cloud) -> None:
    alpha, beta = (craton_uuid(cloud.projects[p]) for p in ("alpha", "beta"))
    client(cloud, "carol", "beta").clouds.create(name=f"beta-{uuid.uuid4().hex[:6]}")
    # admin in Keystone's admin project: the token says is_admin_project = true.
    root = client(cloud, "admin", "admin", password=ADMIN_PASSWORD)
    assert {alpha, beta} <= {p.id for p in root.projects.list()}
    assert {c.project_id for c in root.clouds.list()} >= {beta}

    # [keystone] root_roles = craton-root: a holder of that role is root in any project.
    keystone = cloud.keystone
    keystone.add_user("grace", cloud.projects["beta"], "member", "craton-root")
    grace = client(cloud, "grace", "beta")
    assert {alpha, beta} <= {p.id for p in grace.projects.list()}


# --- the CLI --------------------------------------------------------------------------------


def test_the_cli_uses_keystone_from_the_openstack_variables(cloud: Cloud) -> None:
    name = f"cli-{uuid.uuid4().hex[:6]}"
    created = cli_json(cloud, "cloud-create", "--name", name, user="alice")
    assert created["project_id"] == craton_uuid(cloud.projects["alpha"])
    assert name in [c["name"] for c in cli_json(cloud, "cloud-list", user="bob")]
    assert name not in [c["name"] for c in cli_json(cloud, "cloud-list", user="dave", project="beta")]
    # A project id instead of a name; the domain ids default to Keystone's default domain.
    by_id = cli_json(
        cloud,
        "cloud-list",
        user="dave",
        env={
            "OS_PROJECT_NAME": None,
            "OS_PROJECT_ID": cloud.projects["beta"],
            "OS_USER_DOMAIN_NAME": None,
            "OS_PROJECT_DOMAIN_NAME": None,
        },
    )  # type: ignore[dict-item]
    assert name not in [c["name"] for c in by_id]
    # Command-line options instead of variables.
    flags = cli(
        cloud,
        "--format",
        "json",
        "--os-auth-url",
        cloud.keystone.url,
        "--os-username",
        "bob",
        "--os-password",
        PASSWORD,
        "--os-project-name",
        "alpha",
        "cloud-list",
        env={
            "OS_AUTH_URL": None,
            "OS_USERNAME": None,
            "OS_PASSWORD": None,  # type: ignore[dict-item]
            "OS_PROJECT_NAME": None,
        },
    )
    assert flags.returncode == 0, flags.stderr
    assert name in [c["name"] for c in json.loads(flags.stdout)]


def test_the_cli_reports_keystone_failures(cloud: Cloud) -> None:
    wrong = cli(cloud, "cloud-list", env={"OS_PASSWORD": "wrong"})
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("ERROR: Keystone refused the credentials"), wrong.stderr
    missing = cli(cloud, "cloud-list", env={"OS_PROJECT_NAME": None})  # type: ignore[dict-item]
    assert missing.returncode == 1
    assert "missing Keystone credentials" in missing.stderr and "OS_PROJECT_NAME" in missing.stderr
    member = cli(cloud, "project-list")
    assert member.returncode == 1 and member.stderr.startswith("ERROR: This action requires"), member.stderr


# --- expiry and revocation -----------------------------------------------------------------------


def test_an_expired_token_is_refused(cloud: Cloud) -> None:
    token, expires = cloud.keystone.short_lived_token("bob", "alpha", seconds=5)
    assert raw(cloud, token).status_code == 200
    time.sleep(max(0.0, (expires - dt.datetime.now(dt.UTC)).total_seconds()) + 1)
    expired = raw(cloud, token)
    assert expired.status_code == 401 and expired.json() == BAD_CREDENTIALS


def test_a_revoked_token_is_refused(cloud: Cloud) -> None:
    keystone = cloud.keystone
    unused = keystone.token("dave", "beta")
    keystone.revoke(unused)
    assert raw(cloud, unused).status_code == 401

    # A token Craton has validated is cached for token_cache_time; after that Keystone's
    # answer (404: revoked) is final.
    used = keystone.token("bob", "alpha")
    assert raw(cloud, used).status_code == 200
    keystone.revoke(used)
    time.sleep(TOKEN_CACHE_SECONDS + 1)
    assert raw(cloud, used).json() == BAD_CREDENTIALS


def test_the_client_gets_a_new_token_when_its_token_is_revoked(cloud: Cloud) -> None:
    bob = client(cloud, "bob", "alpha")
    list(bob.clouds.list())
    keystone_session = bob.session.auth.keystone_session  # type: ignore[attr-defined]
    first = keystone_session.get_token()
    cloud.keystone.revoke(first)
    time.sleep(TOKEN_CACHE_SECONDS + 1)
    list(bob.clouds.list())  # 401 with the revoked token, then a new token and one retry
    assert keystone_session.get_token() != first
