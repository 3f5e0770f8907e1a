"""The console scripts as an operator runs them: real processes, real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import free_port, wait_until_ready

BIN = Path(sys.executable).parent


def run(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, timeout=120, **kwargs)


def credentials(output: str) -> dict[str, str]:
    pairs = (line.split(": ", 1) for line in output.splitlines() if ": " in line)
    return {key: value for key, value in pairs}


def test_bootstrap_is_idempotent_and_accepts_a_chosen_identity(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    assert run("craton-dbsync", "--database-url", url, "upgrade").returncode == 0
    assert run("craton-dbsync", "--database-url", url, "version").stdout.strip() != "none"
    first = credentials(run("craton-dbsync", "--database-url", url, "bootstrap").stdout)
    assert first["Username"] == "bootstrap" and len(first["APIKey"]) == 32
    again = credentials(run("craton-dbsync", "--database-url", url, "bootstrap").stdout)
    assert again["ProjectId"] == first["ProjectId"] and "unchanged" in again["APIKey"]
    chosen = ["--project-id", "6f1c2a52-6c9e-4f43-a5a8-9d2b1e1fc001", "--username", "ops", "--api-key", "k" * 32]
    rc = tmp_path / "rc"
    made = run("craton-dbsync", "--database-url", url, "bootstrap", *chosen, "--role", "admin", "--write-rc", str(rc))
    assert credentials(made.stdout)["ProjectId"] == "6f1c2a52-6c9e-4f43-a5a8-9d2b1e1fc001"
    assert oct(rc.stat().st_mode & 0o777) == "0o600"
    assert "export OS_PASSWORD=kkkk" in rc.read_text()
    bad = run("craton-dbsync", "--database-url", url, "bootstrap", "--project-id", "not-a-uuid")
    assert bad.returncode == 2 and "not a UUID" in bad.stderr


def test_api_serves_with_two_workers_of_two_threads_and_stops_gracefully_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    run("craton-dbsync", "--database-url", url, "upgrade")
    creds = credentials(run("craton-dbsync", "--database-url", url, "bootstrap").stdout)
    headers = {"X-Auth-Project": creds["ProjectId"], "X-Auth-User": creds["Username"], "X-Auth-Token": creds["APIKey"]}
    port = free_port()
    env = {**os.environ, "CRATON_LOG_LEVEL": "info"}
    process = subprocess.Popen(
        [str(BIN / "craton-api"), "--database-url", url, "--port", str(port), "--workers", "2", "--threads", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, process)
        created = httpx.post(f"{base}/v1/clouds", json={"name": "c1"}, headers=headers)
        assert created.status_code == 201
        request_id = created.headers["x-openstack-request-id"]
        assert request_id.startswith("req-")
        assert [c["name"] for c in httpx.get(f"{base}/v1/clouds", headers=headers).json()["clouds"]] == ["c1"]
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert request_id in output and "POST /v1/clouds 201" in output
    assert creds["APIKey"] not in output


def test_prune_history_keeps_the_retention_window(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    run("craton-dbsync", "--database-url", url, "upgrade")
    assert "unlimited" in run("craton-dbsync", "--database-url", url, "prune-history").stdout
    import datetime as dt

    import sqlalchemy as sa

    from craton.storage.tables import changes, effective_change_keys, effective_changes
    from craton.storage.types import utcnow

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for age in (100, 10, 1):
            conn.execute(
                sa.insert(changes).values(
                    project_id="p",
                    occurred_at=utcnow() - dt.timedelta(days=age),
                    action="create",
                    resource_type="cloud",
                    resource_id="1",
                )
            )
        # Effective changes go by the same window, except the newest, which the next ids continue after.
        for effect_id, age in ((1, 100), (2, 90), (3, 40)):
            conn.execute(
                sa.insert(effective_changes).values(
                    id=effect_id,
                    project_id="p",
                    change_id=1,
                    occurred_at=utcnow() - dt.timedelta(days=age),
                    device_type="host",
                    device_id=1,
                    added={"k": 1},
                    removed={},
                    changed={},
                )
            )
            conn.execute(sa.insert(effective_change_keys).values(key="k", effective_change_id=effect_id))
    pruned = run("craton-dbsync", "--database-url", url, "prune-history", "--days", "30")
    assert "Removed 1 change records and 2 effective changes" in pruned.stdout
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(changes)).scalar_one() == 2
        assert conn.execute(sa.select(effective_changes.c.id)).scalars().all() == [3]
        assert conn.execute(sa.select(effective_change_keys.c.effective_change_id)).scalars().all() == [3]
    engine.dispose()
