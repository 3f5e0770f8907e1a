"""A real Keystone and a real craton-api in Keystone mode, both on loopback.

Keystone comes from PyPI into its own virtualenv (``.venv-keystone`` at the top of the
repository, or ``CRATON_KEYSTONE_VENV``): it pins many oslo libraries that must not meet
Craton's. The install is done once and reused while its stamp matches. Each test session
then bootstraps a fresh Keystone on SQLite with ``keystone-manage`` (db_sync, fernet_setup,
credential_setup, bootstrap) and serves its WSGI app with gunicorn on 127.0.0.1.

``CRATON_TEST_KEYSTONE``: ``auto`` (default) skips these tests with the reason when Keystone
cannot be installed, except under CI=true where that fails the run; ``skip`` always skips;
``require`` always fails instead of skipping.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import grp
import os
import pwd
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI, free_port

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VENV = Path(os.environ.get("CRATON_KEYSTONE_VENV") or ROOT / ".venv-keystone")
# What goes into the Keystone virtualenv; a change here reinstalls it.
KEYSTONE_REQUIREMENTS = ("keystone>=26", "gunicorn>=21")
STAMP = VENV / ".craton-keystone-installed"
MODE = os.environ.get("CRATON_TEST_KEYSTONE", "auto").strip().lower()
# Throwaway credentials of a Keystone that only listens on loopback for one test session.
PASSWORD = "user-secret-1"
ADMIN_PASSWORD = "admin-secret-1"
SERVICE_PASSWORD = "craton-service-secret-1"
TOKEN_CACHE_SECONDS = 3


def _unavailable(reason: str) -> None:
    if MODE == "require" or (MODE != "skip" and IN_CI):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(argv: list[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


def ensure_keystone_venv() -> Path:
    """The Keystone virtualenv, installed on first use; one installer at a time (xdist)."""
    if MODE == "skip":
        pytest.skip("CRATON_TEST_KEYSTONE=skip")
    wanted = "\n".join(KEYSTONE_REQUIREMENTS) + "\n"
    VENV.mkdir(parents=True, exist_ok=True)
    with open(VENV / ".craton-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.is_file() and STAMP.read_text() == wanted and (VENV / "bin" / "keystone-manage").exists():
            return VENV
        python = VENV / "bin" / "python"
        started = time.monotonic()
        steps = []
        if not python.exists():
            steps.append([sys.executable, "-m", "venv", str(VENV)])
        steps.append(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *KEYSTONE_REQUIREMENTS]
        )
        for argv in steps:
            try:
                result = _run(argv, timeout=1200)
            except subprocess.TimeoutExpired:
                _unavailable(f"installing Keystone timed out: {' '.join(argv)}")
            if result.returncode != 0:
                output = "\n".join(
                    line
                    for line in (result.stdout + result.stderr).splitlines()
                    if not line.startswith("WARNING: Location")
                )
                _unavailable(
                    f"Keystone could not be installed into {VENV} "
                    f"({' '.join(argv[2:])} exited {result.returncode}):\n{_tail(output)}"
                )
        STAMP.write_text(wanted)
        print(f"installed Keystone into {VENV} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return VENV


KEYSTONE_CONF = """\
[DEFAULT]
use_stderr = true
debug = false

[database]
connection = sqlite:///{dir}/keystone.sqlite

[token]
provider = fernet
expiration = 3600

[fernet_tokens]
key_repository = {dir}/fernet-keys

[fernet_receipts]
# Keystone's default: receipts (multi-factor logins) share the token keys.
key_repository = {dir}/fernet-keys

[credential]
key_repository = {dir}/credential-keys

[identity]
# bcrypt's cheapest cost: these passwords are throwaway, and every login hashes one.
password_hash_rounds = 4

[resource]
# Tokens of project "admin" carry is_admin_project = true: Craton's root (docs/keystone.md).
admin_project_name = admin
admin_project_domain_name = Default
"""


@dataclass
class Keystone:
    """A running Keystone and an admin session on it."""

    url: str  # ends in /v3
    directory: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    admin: Any = None
    _role_ids: dict[str, str] = field(default_factory=dict)

    # --- REST helpers, as the cloud admin (``openstack ...`` without the CLI) -----------------

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.admin.request(self.url + path, method, raise_exc=False, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}

    def role_id(self, name: str) -> str:
        if name not in self._role_ids:
            roles = self.call("GET", "/roles", params={"name": name})["roles"]
            self._role_ids[name] = roles[0]["id"]
        return self._role_ids[name]

    def create_project(self, name: str) -> str:
        return self.call("POST", "/projects", json={"project": {"name": name, "domain_id": "default"}})["project"]["id"]

    def create_user(self, name: str, password: str = PASSWORD) -> str:
        body = {"user": {"name": name, "password": password, "domain_id": "default"}}
        return self.call("POST", "/users", json=body)["user"]["id"]

    def grant(self, role: str, user_id: str, project_id: str) -> None:
        self.call("PUT", f"/projects/{project_id}/users/{user_id}/roles/{self.role_id(role)}")

    def add_user(self, name: str, project_id: str, *roles: str, password: str = PASSWORD) -> str:
        user_id = self.create_user(name, password)
        for role in roles:
            self.grant(role, user_id, project_id)
        return user_id

    def revoke(self, token: str) -> None:
        self.call("DELETE", "/auth/tokens", headers={"X-Subject-Token": token})

    def user_session(self, username: str, project_name: str, password: str = PASSWORD) -> Any:
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        plugin = v3.Password(
            auth_url=self.url,
            username=username,
            password=password,
            project_name=project_name,
            user_domain_name="Default",
            project_domain_name="Default",
        )
        return session.Session(auth=plugin, timeout=30)

    def token(self, username: str, project_name: str) -> str:
        return str(self.user_session(username, project_name).get_token())

    def short_lived_token(self, username: str, project_name: str, seconds: int) -> tuple[str, dt.datetime]:
        """A token that expires in ``seconds``: Keystone caps a token at the expiry of the
        application credential it was issued for."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        owner = self.user_session(username, project_name)
        user_id = owner.get_user_id()
        expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=seconds)
        body = {
            "application_credential": {
                "name": f"short-{uuid.uuid4().hex[:8]}",
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S"),
            }
        }
        response = owner.post(f"{self.url}/users/{user_id}/application_credentials", json=body)
        credential = response.json()["application_credential"]
        plugin = v3.ApplicationCredential(
            auth_url=self.url,
            application_credential_id=credential["id"],
            application_credential_secret=credential["secret"],
        )
        return str(session.Session(auth=plugin, timeout=30).get_token()), expires

    def log_tail(self) -> str:
        return _tail(self.log_path.read_text(errors="replace"), 40) if self.log_path.exists() else ""


def _keystone_manage(venv: Path, conf: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(venv / "bin" / "keystone-manage"), "--config-file", str(conf), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen[str], what: str, timeout: float = 300) -> None:
    output, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"keystone-manage {what} exited {process.returncode}:\n{_tail(output)}")


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=15)


@contextlib.contextmanager
def running_keystone(venv: Path, directory: Path) -> Iterator[Keystone]:
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "keystone.conf"
    conf.write_text(KEYSTONE_CONF.format(dir=directory))
    port = free_port()
    url = f"http://127.0.0.1:{port}/v3"
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    started = time.monotonic()
    # The key repositories do not need the database: set them up while the schema is built.
    db_sync = _keystone_manage(venv, conf, "db_sync")
    fernet = _keystone_manage(venv, conf, "fernet_setup", "--keystone-user", user, "--keystone-group", group)
    credential = _keystone_manage(venv, conf, "credential_setup", "--keystone-user", user, "--keystone-group", group)
    _finish(db_sync, "db_sync")
    _finish(fernet, "fernet_setup")
    _finish(credential, "credential_setup")
    bootstrap = _keystone_manage(
        venv,
        conf,
        "bootstrap",
        "--bootstrap-password",
        ADMIN_PASSWORD,
        "--bootstrap-admin-url",
        url,
        "--bootstrap-internal-url",
        url,
        "--bootstrap-public-url",
        url,
        "--bootstrap-region-id",
        "RegionOne",
    )
    _finish(bootstrap, "bootstrap")
    bootstrapped = time.monotonic()
    log_path = directory / "keystone.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_KEYSTONE_CONFIG_FILES"] = str(conf)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(venv / "bin" / "gunicorn"),
                "--pythonpath",
                str(HERE),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "8",
                "--timeout",
                "120",
                "--graceful-timeout",
                "5",
                "wsgi_keystone:application",
            ],
            cwd=directory,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    keystone = Keystone(url=url, directory=directory, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Keystone exited {process.returncode}:\n{keystone.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Keystone did not answer on {url}:\n{keystone.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        print(
            f"Keystone: bootstrapped in {bootstrapped - started:.1f} s, "
            f"serving after {time.monotonic() - bootstrapped:.1f} s more",
            file=sys.stderr,
        )
        keystone.admin = keystone.user_session("admin", "admin", password=ADMIN_PASSWORD)
        yield keystone
    finally:
        _stop(process)


CRATON_CONF = """\
[DEFAULT]
log_level = info

[api]
# The original's pipeline name, accepted as an alias of "keystone".
paste_pipeline = keystone-auth
access_log = false

[database]
connection = {database_url}

[keystone_authtoken]
www_authenticate_uri = {keystone_url}
auth_url = {keystone_url}
auth_type = password
username = craton
password = {service_password}
project_name = service
user_domain_name = Default
project_domain_name = Default
interface = public
service_type = fleet_management
# Short, so that a revoked token is refused soon after its last use (default 300 s).
token_cache_time = {cache_seconds}
http_connect_timeout = 5

[keystone]
admin_roles = admin
root_roles = craton-root
"""


@dataclass
class CratonServer:
    url: str
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self) -> str:
        return _tail(self.log_path.read_text(errors="replace"), 40)


def _bin(name: str) -> str:
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else shutil.which(name) or name


@contextlib.contextmanager
def running_craton(keystone: Keystone, directory: Path) -> Iterator[CratonServer]:
    """``craton-api --config-file craton.conf`` in Keystone mode, as an operator runs it."""
    directory.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{directory / 'craton.sqlite'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "CRATON_"))}
    result = _run([_bin("craton-dbsync"), "--database-url", database_url, "upgrade"], timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    conf = directory / "craton.conf"
    conf.write_text(
        CRATON_CONF.format(
            database_url=database_url,
            keystone_url=keystone.url,
            service_password=SERVICE_PASSWORD,
            cache_seconds=TOKEN_CACHE_SECONDS,
        )
    )
    port = free_port()
    log_path = directory / "craton-api.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [_bin("craton-api"), "--config-file", str(conf), "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = CratonServer(f"http://127.0.0.1:{port}", database_url, process, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"craton-api exited {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"craton-api did not start:\n{server.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)


@dataclass
class Cloud:
    """Keystone with Craton registered in it, two projects and their users, and Craton."""

    keystone: Keystone
    craton: CratonServer
    projects: dict[str, str]  # Keystone project name -> id


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    venv = ensure_keystone_venv()
    base = tmp_path_factory.mktemp("keystone")
    with running_keystone(venv, base / "keystone") as keystone:
        # The service user Craton validates tokens with (docs/keystone.md, step 1).
        keystone.add_user("craton", keystone.create_project("service"), "service", password=SERVICE_PASSWORD)
        projects = {"alpha": keystone.create_project("alpha"), "beta": keystone.create_project("beta")}
        keystone.add_user("alice", projects["alpha"], "admin")  # admin of alpha
        keystone.add_user("bob", projects["alpha"], "member")  # member of alpha
        keystone.add_user("carol", projects["beta"], "admin")  # admin of beta
        keystone.add_user("dave", projects["beta"], "member")  # member of beta
        keystone.call("POST", "/roles", json={"role": {"name": "craton-root"}})
        with running_craton(keystone, base / "craton") as craton:
            # Craton in the catalog: service type fleet_management, endpoint .../v1 (step 2).
            service_id = keystone.call(
                "POST",
                "/services",
                json={
                    "service": {"type": "fleet_management", "name": "craton", "description": "Craton fleet inventory"}
                },
            )["service"]["id"]
            keystone.call(
                "POST",
                "/endpoints",
                json={
                    "endpoint": {
                        "service_id": service_id,
                        "interface": "public",
                        "region_id": "RegionOne",
                        "url": f"{craton.url}/v1",
                    }
                },
            )
            yield Cloud(keystone=keystone, craton=craton, projects=projects)
