"""``make run`` honours the documented settings (issue #13) and writes the URL it serves on.

The Makefile runs from a temporary directory (``make -f <repo>/Makefile``), with the test's own
virtualenv, so the repository's database and cratonrc are never touched. ``CRATON_API_PORT``
and ``CRATON_DATABASE_URL`` come from the environment only, as an operator would set them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, free_port, throwaway_database

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def rc_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            values[name] = value.strip("'")
    return values


@contextmanager
def make_run(cwd: Path, env: dict[str, str], *make_args: str) -> Iterator[subprocess.Popen[str]]:
    # -o: never reinstall into the test's virtualenv, whatever the timestamps say
    command = ["make", "-s", "-f", str(ROOT / "Makefile"), f"VENV={VENV}", "-o", f"{VENV}/.installed", "run"]
    process = subprocess.Popen(
        [*command, *make_args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # make and craton-api in one group we can stop together
    )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> str:
    """Stop make and the server it started; return everything they printed."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
    return out or ""


def wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"make run exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"nothing answered at {url}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_make_run_serves_on_the_environments_port_and_database(tmp_path: Path, backend: str) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    with throwaway_database(backend, tmp_path) as database_url:
        port = free_port()
        env = {"CRATON_API_PORT": str(port), "CRATON_DATABASE_URL": database_url}
        with make_run(workdir, env) as process:
            url = f"http://127.0.0.1:{port}"
            wait_for(url, process)
            rc = rc_values(workdir / "cratonrc")
            assert rc["CRATON_URL"] == url
            headers = {
                "X-Auth-Project": rc["OS_PROJECT_ID"],
                "X-Auth-User": rc["OS_USERNAME"],
                "X-Auth-Token": rc["OS_PASSWORD"],
            }
            # the credentials bootstrap wrote are in the database the server uses
            projects = httpx.get(f"{url}/v1/projects", headers=headers, timeout=10)
            assert projects.status_code == 200, projects.text
            assert [p["id"] for p in projects.json()["projects"]] == [rc["OS_PROJECT_ID"]]
            out = stop(process)
        assert "Creating the first project and root user" in out
        assert f"Starting craton-api on 127.0.0.1:{port}" in out
        # the default SQLite file was not created: the environment's database was used
        assert not (workdir / "craton.sqlite").exists()


def test_a_second_run_on_another_port_rewrites_the_url_in_cratonrc(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'craton.sqlite'}"
    first, second = free_port(), free_port()
    with make_run(tmp_path, {"CRATON_DATABASE_URL": database_url, "CRATON_API_PORT": str(first)}) as process:
        wait_for(f"http://127.0.0.1:{first}", process)
    credentials = rc_values(tmp_path / "cratonrc")
    assert credentials["CRATON_URL"] == f"http://127.0.0.1:{first}"
    # make variables win over the environment, as documented
    with make_run(
        tmp_path, {"CRATON_DATABASE_URL": database_url, "CRATON_API_PORT": str(first)}, f"PORT={second}"
    ) as process:
        wait_for(f"http://127.0.0.1:{second}", process)
        out = stop(process)
    again = rc_values(tmp_path / "cratonrc")
    assert again == {**credentials, "CRATON_URL": f"http://127.0.0.1:{second}"}
    assert "Using the credentials in ./cratonrc." in out
    assert f"cratonrc: CRATON_URL set to http://127.0.0.1:{second}" in out
    assert oct((tmp_path / "cratonrc").stat().st_mode & 0o777) == "0o600"
