"""Webhooks end to end: a real receiver on loopback checks signatures and fails on demand.

Events enter through the agreed subscriber interface (``SUBSCRIBERS``, what the event
pump calls in its transaction); deliveries go out through the real delivery loop over HTTP.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from craton.domain import webhook_delivery
from craton.domain import webhooks as webhook_domain
from craton.domain.bootstrap import bootstrap
from craton.domain.errors import InvalidInput
from craton.domain.events.subscribers import SUBSCRIBERS
from craton.domain.webhook_delivery import Policy, Refused, claim, deliver_due, prune, target
from craton.storage.engine import create_engine
from tests.api.helpers import Craton, expect, expect_error, expect_invalid, expect_not_found, run_craton_events_once
from tests.conftest import (
    BACKENDS,
    LiveServer,
    QueryCounter,
    free_port,
    running_server,
    throwaway_database,
    wait_until_ready,
)

SECRET = "s3cret-s3cret-s3cret"
#: The receivers listen on 127.0.0.1: processes that deliver must allow private targets.
PRIVATE_TARGETS = {"CRATON_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true"}
FAST = Policy(
    max_attempts=3,
    backoff_seconds=0.01,
    backoff_max_seconds=0.05,
    timeout_seconds=0.5,
    disable_after=2,
    allow_private_targets=True,
)


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server per backend that accepts loopback targets; the tests feed the subscriber themselves."""
    with (
        throwaway_database(request.param, tmp_path_factory.mktemp("db")) as url,
        running_server(request.param, url, webhooks_allow_private_targets=True, events_enabled=False) as live,
    ):
        yield live


@dataclass
class Receiver:
    """An HTTP server on loopback that records verified deliveries; ``plan`` scripts its answers."""

    secret: str = SECRET
    plan: list[str] = field(default_factory=list)  # "ok", "500", "slow", "hang", "trickle"; empty: ok
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    #: "hang" answers only once this is set.
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> str:
        return self.plan.pop(0) if self.plan else "ok"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            stamp = self.headers["X-Craton-Timestamp"]
            expected = (
                "sha256=" + hmac.new(state.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
            )
            valid = hmac.compare_digest(expected, self.headers["X-Craton-Signature"])
            action = state.answer()
            state.received.append(
                {"body": json.loads(body), "valid": valid, "id": self.headers["X-Craton-Event-Id"], "action": action}
            )
            if action == "slow":
                time.sleep(1.5)
            if action == "hang":
                state.release.wait(30)
            if action == "trickle":  # a 2xx whose body drips in forever
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    while not state.release.wait(0.1):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            code = 200 if action in ("ok", "hang") and valid else 500 if action not in ("ok", "hang") else 401
            try:
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the dispatcher gave up waiting ("slow"), as it should

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()


def publish(server: LiveServer, project_id: str, events: list[tuple[str, Any]]) -> None:
    """What the event pump does: call every subscriber in one transaction."""
    with server.engine.begin() as conn:
        for subscriber in SUBSCRIBERS:
            subscriber(conn, project_id, events)


def drain(server: LiveServer, policy: Policy = FAST, passes: int = 50) -> None:
    """Run the delivery loop until nothing is due or retrying."""
    for _ in range(passes):
        if not deliver_due(server.engine, policy):
            time.sleep(0.06)  # let a backoff pass
            if not deliver_due(server.engine, policy):
                return


def effective(device_id: int, **changed: Any) -> tuple[str, dict[str, Any]]:
    return (
        "effective-change",
        {
            "id": 1,
            "device_type": "host",
            "device_id": device_id,
            "device_name": "h",
            "added": {},
            "removed": {},
            "changed": {k: {"old": None, "new": v} for k, v in changed.items()},
        },
    )


def make_hook(client: httpx.Client, url: str, **extra: Any) -> dict[str, Any]:
    return expect(client.post("/v1/webhooks", json={"url": url, "secret": SECRET, **extra}), 201)


def test_secret_is_shown_once_and_never_again(craton: Craton, receiver: Receiver) -> None:
    tenant = craton.tenant()
    created = make_hook(tenant.client, receiver.url)
    assert created["secret"] == SECRET
    assert created["events"] == ["change", "effective-change"] and created["enabled"] is True
    shown = expect(tenant.client.get(f"/v1/webhooks/{created['id']}"), 200)
    listed = expect(tenant.client.get("/v1/webhooks"), 200)["webhooks"]
    updated = expect(tenant.client.put(f"/v1/webhooks/{created['id']}", json={"events": ["change"]}), 200)
    for item in (shown, *listed, updated):
        assert "secret" not in item and SECRET not in json.dumps(item)
        assert item["secret_hint"] == "..." + SECRET[-4:]
    assert updated["events"] == ["change"]
    response = tenant.client.delete(f"/v1/webhooks/{created['id']}")
    assert response.status_code == 204
    expect_not_found(tenant.client.get(f"/v1/webhooks/{created['id']}"), "Webhook")


def test_validation_errors_name_the_problem(craton: Craton) -> None:
    tenant = craton.tenant()
    post = tenant.client.post
    expect_invalid(post("/v1/webhooks", json={"url": "http://127.0.0.1/"}), "'secret' is a required property")
    expect_error(
        post("/v1/webhooks", json={"url": "ftp://example.net/", "secret": SECRET}), 400, contains=["http or https"]
    )
    expect_error(
        post("/v1/webhooks", json={"url": "http://u:p@127.0.0.1/", "secret": SECRET}), 400, contains=["credentials"]
    )
    expect_invalid(post("/v1/webhooks", json={"url": "http://127.0.0.1/", "secret": "short"}))
    expect_invalid(post("/v1/webhooks", json={"url": "http://127.0.0.1/", "secret": SECRET, "events": ["nope"]}))
    expect_invalid(
        post("/v1/webhooks", json={"url": "http://127.0.0.1/", "secret": SECRET, "filters": {"colour": ["red"]}})
    )


def test_ids_no_column_can_hold_are_not_found(craton: Craton) -> None:
    """An id past the column's range was a 500 on SQLite (Python int overflow) and PostgreSQL."""
    client = craton.tenant().client
    huge = "348808807706201686016"
    for path in (f"/v1/webhooks/{huge}", "/v1/webhooks/2147483648", f"/v1/webhooks/{huge}/deliveries"):
        expect_error(client.get(path), 404, contains=["Webhook"])
    expect_error(client.delete(f"/v1/webhooks/{huge}"), 404, contains=["Webhook"])
    created = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/", "secret": SECRET})
    assert created.status_code == 201, created.text
    webhook = created.json()["id"]
    answer = client.post(f"/v1/webhooks/{webhook}/redeliver", json={"delivery_id": 2**63 - 1})
    expect_error(answer, 404, contains=["Delivery"])


def test_an_idle_claim_only_reads(server: LiveServer) -> None:
    """Every worker polls for due deliveries; with none due it must not take the write lock."""
    with QueryCounter(server.engine) as counted:
        assert claim(server.engine) == []
    statements = " ".join(counted.statements).upper()
    assert counted.count <= 2, counted.statements  # SQLite: BEGIN and the SELECT
    assert "UPDATE" not in statements and "BEGIN IMMEDIATE" not in statements and "FOR UPDATE" not in statements


def test_a_claim_with_deliveries_due_reads_its_candidates_once(craton: Craton, server: LiveServer) -> None:
    """The due rows were found twice (a read, then the same query locked); now one read, one UPDATE, one read back."""
    tenant = craton.tenant()
    hook = make_hook(tenant.client, "http://127.0.0.1:9/", events=["effective-change"])
    publish(server, tenant.project_id, [effective(1, a=1), effective(2, a=2)])
    try:
        with QueryCounter(server.engine) as counted:
            claimed = claim(server.engine)
        mine = [row for row in claimed if row["webhook_id"] == hook["id"]]
        assert len(mine) == 2 and {row["status"] for row in mine} == {"delivering"}
        statements = [s.upper() for s in counted.statements if s.split()[0].upper() not in ("BEGIN", "COMMIT")]
        assert len(statements) == 3, counted.statements
        candidates = [s for s in statements if "ORDER BY WEBHOOK_DELIVERIES.NEXT_ATTEMPT_AT" in s]
        assert len(candidates) == 1 and "FOR UPDATE" not in candidates[0], counted.statements
        assert statements[1].startswith("UPDATE WEBHOOK_DELIVERIES"), counted.statements
        assert ("SKIP LOCKED" in statements[1]) == (server.backend != "sqlite"), counted.statements
        assert all(row["webhook_id"] != hook["id"] for row in claim(server.engine, limit=1000))  # leased once
    finally:
        assert tenant.client.delete(f"/v1/webhooks/{hook['id']}").status_code == 204


def test_a_claim_leaves_rows_another_process_is_leasing(craton: Craton, server: LiveServer) -> None:
    """``SKIP LOCKED`` on the lease: a row locked elsewhere is neither waited for nor leased twice."""
    if server.backend == "sqlite":
        pytest.skip("SQLite has one writer: no row locks to skip")
    tenant = craton.tenant()
    hook = make_hook(tenant.client, "http://127.0.0.1:9/", events=["effective-change"])
    publish(server, tenant.project_id, [effective(1, a=1), effective(2, a=2)])
    table = sa.table("webhook_deliveries", sa.column("id"), sa.column("webhook_id"))
    try:
        with server.engine.connect() as other, other.begin():
            first, second = other.execute(
                sa.select(table.c.id).where(table.c.webhook_id == hook["id"]).order_by(table.c.id)
            ).scalars()
            other.execute(sa.select(table.c.id).where(table.c.id == first).with_for_update())
            started = time.monotonic()
            claimed = claim(server.engine, limit=1000)
            assert time.monotonic() - started < 5
        assert [row["id"] for row in claimed if row["webhook_id"] == hook["id"]] == [second]
        assert [row["id"] for row in claim(server.engine, limit=1000) if row["webhook_id"] == hook["id"]] == [first]
    finally:
        assert tenant.client.delete(f"/v1/webhooks/{hook['id']}").status_code == 204


def test_private_targets_refused_unless_allowed() -> None:
    for url in ("http://127.0.0.1/", "http://10.1.2.3/", "http://169.254.169.254/latest", "http://[::1]:80/"):
        with pytest.raises(InvalidInput, match="allow_private_targets"):
            webhook_domain.check_url(url, allow_private=False)
        webhook_domain.check_url(url, allow_private=True)
    webhook_domain.check_url("https://93.184.216.34/hook", allow_private=False)


def test_tenancy_admins_only_and_own_project_only(craton: Craton, receiver: Receiver, server: LiveServer) -> None:
    mine, theirs = craton.tenant(), craton.tenant()
    hook = make_hook(mine.client, receiver.url)
    expect_error(mine.member().get("/v1/webhooks"), 403)
    expect_error(mine.member().post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET}), 403)
    assert expect(theirs.client.get("/v1/webhooks"), 200)["webhooks"] == []
    for response in (
        theirs.client.get(f"/v1/webhooks/{hook['id']}"),
        theirs.client.put(f"/v1/webhooks/{hook['id']}", json={"enabled": False}),
        theirs.client.delete(f"/v1/webhooks/{hook['id']}"),
        theirs.client.get(f"/v1/webhooks/{hook['id']}/deliveries"),
        theirs.client.post(f"/v1/webhooks/{hook['id']}/redeliver", json={"delivery_id": 1}),
    ):
        expect_not_found(response)
    expect_error(
        theirs.client.post("/v1/webhooks", json={"url": receiver.url, "secret": SECRET, "project_id": mine.project_id}),
        403,
    )
    # Root may manage any project's webhooks.
    assert hook["id"] in [h["id"] for h in expect(craton.root.get("/v1/webhooks"), 200)["webhooks"]]
    # Events of one project never reach another project's webhook.
    publish(server, theirs.project_id, [effective(1, ntp="x")])
    drain(server)
    assert receiver.received == []


def test_real_change_delivered_signed_with_stable_id_across_retries(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    tenant = craton.tenant()
    hook = make_hook(tenant.client, receiver.url, events=["change"])
    host = tenant.inventory.host(variables={"ntp": "a"})
    change = [c for c in expect(tenant.client.get("/v1/changes"), 200)["changes"] if c["resource_type"] == "host"][-1]
    receiver.plan = ["500", "500", "ok"]
    publish(server, tenant.project_id, [("change", change)])
    drain(server)
    assert [r["action"] for r in receiver.received] == ["500", "500", "ok"]
    assert all(r["valid"] for r in receiver.received)
    assert len({r["id"] for r in receiver.received}) == 1
    assert receiver.received[0]["body"]["id"] == receiver.received[0]["id"]
    assert receiver.received[-1]["body"]["kind"] == "change"
    assert receiver.received[-1]["body"]["data"]["resource_id"] == str(host["id"])
    log = expect(tenant.client.get(f"/v1/webhooks/{hook['id']}/deliveries"), 200)["deliveries"]
    assert [(d["status"], d["attempts"], d["response_code"], d["last_error"]) for d in log] == [
        ("succeeded", 3, 200, None)
    ]


def test_failing_webhook_is_disabled_with_reason_and_redelivery_works(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    tenant = craton.tenant()
    hook = make_hook(tenant.client, receiver.url)
    receiver.plan = ["500"] * FAST.max_attempts * FAST.disable_after
    publish(server, tenant.project_id, [effective(1, a=1), effective(2, a=2)])
    drain(server)
    assert len(receiver.received) == FAST.max_attempts * FAST.disable_after
    shown = expect(tenant.client.get(f"/v1/webhooks/{hook['id']}"), 200)
    assert shown["enabled"] is False
    assert "2 deliveries failed in a row" in shown["disabled_reason"] and "HTTP 500" in shown["disabled_reason"]
    log = expect(tenant.client.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"status": "failed"}), 200)
    failed = log["deliveries"]
    assert [(d["attempts"], d["response_code"], d["last_error"]) for d in failed] == [(3, 500, "HTTP 500")] * 2
    # A disabled webhook gets no new deliveries; re-enabling clears the reason.
    publish(server, tenant.project_id, [effective(3, a=3)])
    enabled = expect(tenant.client.put(f"/v1/webhooks/{hook['id']}", json={"enabled": True}), 200)
    assert enabled["disabled_reason"] is None
    redone = tenant.client.post(f"/v1/webhooks/{hook['id']}/redeliver", json={"delivery_id": failed[0]["id"]})
    assert redone.status_code == 202, redone.text
    drain(server)
    assert receiver.received[-1]["id"] == failed[0]["event_id"] and receiver.received[-1]["action"] == "ok"
    again = tenant.client.post(f"/v1/webhooks/{hook['id']}/redeliver", json={"delivery_id": failed[0]["id"]})
    expect_error(again, 409, contains=["succeeded"])
    expect_not_found(tenant.client.post(f"/v1/webhooks/{hook['id']}/redeliver", json={"delivery_id": 999999999}))


def test_timeouts_and_refused_connections_are_retried_and_logged(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    tenant = craton.tenant()
    slow = make_hook(tenant.client, receiver.url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    refused = make_hook(tenant.client, f"http://127.0.0.1:{closed_port}/")
    receiver.plan = ["slow", "ok"]
    publish(server, tenant.project_id, [effective(1, a=1)])
    drain(server)
    ok = expect(tenant.client.get(f"/v1/webhooks/{slow['id']}/deliveries"), 200)["deliveries"]
    assert [(d["status"], d["attempts"]) for d in ok] == [("succeeded", 2)]
    bad = expect(tenant.client.get(f"/v1/webhooks/{refused['id']}/deliveries"), 200)["deliveries"]
    assert bad[0]["status"] == "failed" and bad[0]["attempts"] == 3 and bad[0]["response_code"] is None
    assert "ConnectError" in bad[0]["last_error"]


def test_filters_select_events(craton: Craton, receiver: Receiver, server: LiveServer) -> None:
    tenant = craton.tenant()
    region = tenant.inventory.region()
    cell = tenant.inventory.cell(region)
    in_cell = tenant.inventory.host(cell=cell)
    elsewhere = tenant.inventory.host(region=region)
    expect(tenant.client.put(f"/v1/hosts/{in_cell['id']}/labels", json={"labels": ["gpu"]}), 200)
    make_hook(tenant.client, receiver.url, filters={"key_prefixes": ["ntp_"], "cell_ids": [cell["id"]]})
    make_hook(
        tenant.client, receiver.url, events=["change"], filters={"resource_types": ["cell"], "actions": ["update"]}
    )
    make_hook(tenant.client, receiver.url, events=["effective-change"], filters={"labels": ["gpu"], "keys": ["dns"]})
    publish(
        server,
        tenant.project_id,
        [
            effective(in_cell["id"], ntp_server="x"),  # hook 1
            effective(in_cell["id"], dns="y"),  # hook 3
            effective(elsewhere["id"], ntp_server="x"),  # none: outside the cell
            effective(in_cell["id"], other="z"),  # none
            ("change", {"resource_type": "cell", "action": "update", "resource_id": str(cell["id"])}),  # hook 2
            ("change", {"resource_type": "cell", "action": "create", "resource_id": str(cell["id"])}),  # none
        ],
    )
    drain(server)
    got = sorted(
        (r["body"]["webhook_id"], json.dumps(r["body"]["data"].get("changed") or r["body"]["data"].get("action")))
        for r in receiver.received
    )
    hooks = sorted(h["id"] for h in expect(tenant.client.get("/v1/webhooks"), 200)["webhooks"])
    assert got == sorted(
        [
            (hooks[0], json.dumps({"ntp_server": {"old": None, "new": "x"}})),
            (hooks[1], json.dumps("update")),
            (hooks[2], json.dumps({"dns": {"old": None, "new": "y"}})),
        ]
    )


def test_a_delivery_is_claimed_by_one_process_only(craton: Craton, receiver: Receiver, server: LiveServer) -> None:
    tenant = craton.tenant()
    make_hook(tenant.client, receiver.url, events=["effective-change"])
    publish(server, tenant.project_id, [effective(1, a=1)])
    first, second = claim(server.engine), claim(server.engine)
    assert len(first) == 1 and second == []
    # A claim is a lease: when its holder died, the delivery is sent again with the same event id.
    with server.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE webhook_deliveries SET claimed_until = :t WHERE id = :i"),
            {"t": first[0]["created_at"].replace(year=2000), "i": first[0]["id"]},
        )
    drain(server)
    assert [r["id"] for r in receiver.received] == [first[0]["event_id"]]


def test_craton_events_pumps_and_delivers_a_real_change(craton: Craton, receiver: Receiver, server: LiveServer) -> None:
    """One real write: outbox -> pump -> webhook subscriber -> delivery job, all run by ``craton-events --once``."""
    tenant = craton.tenant()
    hook = make_hook(tenant.client, receiver.url, events=["change"], filters={"resource_types": ["host"]})
    host = tenant.inventory.host(variables={"ntp": "a"})
    expect(tenant.client.put(f"/v1/hosts/{host['id']}/variables", json={"ntp": "b"}), 200)
    run_craton_events_once(server.database_url, env=PRIVATE_TARGETS)
    recorded = {
        c["id"]
        for c in expect(tenant.client.get("/v1/changes"), 200)["changes"]
        if c["resource_type"] == "host" and c["resource_id"] == str(host["id"])
    }
    assert len(recorded) >= 2  # the create and the variables write
    mine = [r for r in receiver.received if r["body"]["data"]["resource_id"] == str(host["id"])]
    assert all(r["valid"] for r in mine)
    assert sorted(r["body"]["data"]["id"] for r in mine) == sorted(recorded)
    log = expect(tenant.client.get(f"/v1/webhooks/{hook['id']}/deliveries"), 200)["deliveries"]
    assert log and all(d["status"] == "succeeded" for d in log)


def _log(tenant_client: httpx.Client, hook_id: int) -> list[dict[str, Any]]:
    return expect(tenant_client.get(f"/v1/webhooks/{hook_id}/deliveries", params={"limit": 1000}), 200)["deliveries"]


def test_sigkill_of_craton_events_mid_batch_loses_nothing(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    """The dispatcher process dies while a delivery is in flight: every event still arrives, same ids."""
    tenant = craton.tenant()
    hook = make_hook(tenant.client, receiver.url, events=["effective-change"])
    publish(server, tenant.project_id, [effective(n, a=n) for n in range(1, 11)])
    receiver.plan = ["ok", "ok", "ok"] + ["hang"] * 7  # from the 4th on, requests hang until the process is gone
    process = subprocess.Popen(
        [sys.executable, "-m", "craton.cmd.events", "--database-url", server.database_url],
        env={**os.environ, **PRIVATE_TARGETS},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(receiver.received) < 4:
            assert time.monotonic() < deadline and process.poll() is None, "craton-events did not deliver"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    receiver.release.set()
    log = _log(tenant.client, hook["id"])
    assert len(log) == 10 and {d["status"] for d in log} <= {"succeeded", "delivering"}  # claimed, none lost
    answered = {r["id"] for r in receiver.received if r["action"] == "ok"}
    in_flight = {r["id"] for r in receiver.received if r["action"] == "hang"}
    assert {d["event_id"] for d in log if d["status"] == "succeeded"} <= answered and in_flight
    # The lease of the dead process runs out (here: moved into the past), and the next run re-sends.
    with server.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE webhook_deliveries SET claimed_until = :t WHERE webhook_id = :h AND status = 'delivering'"),
            {"t": dt.datetime(2000, 1, 1), "h": hook["id"]},
        )
    run_craton_events_once(server.database_url, env=PRIVATE_TARGETS)
    log = _log(tenant.client, hook["id"])
    assert [d["status"] for d in log] == ["succeeded"] * 10
    got = [r["id"] for r in receiver.received]
    assert set(got) == {d["event_id"] for d in log}  # every event arrived, under its one id
    assert all(got.count(event_id) == 2 for event_id in in_flight)  # in flight at the kill: sent again, same id


def test_delivery_rechecks_the_address_and_refuses_a_name_now_private(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    """Saved while private targets were allowed (standing in for a name that resolved publicly then)."""
    tenant = craton.tenant()
    url = receiver.url.replace("127.0.0.1", "localhost")
    hook = make_hook(tenant.client, url, events=["effective-change"])
    publish(server, tenant.project_id, [effective(1, a=1)])
    strict = Policy(max_attempts=1, timeout_seconds=1, allow_private_targets=False)
    drain(server, strict)
    assert receiver.received == []
    (delivery,) = _log(tenant.client, hook["id"])
    assert delivery["status"] == "failed" and delivery["response_code"] is None
    assert delivery["last_error"].startswith("refused: host localhost resolves to the non-public address")
    assert "allow_private_targets" in delivery["last_error"]
    expect(tenant.client.post(f"/v1/webhooks/{hook['id']}/redeliver", json={"delivery_id": delivery["id"]}), 202)
    drain(server)  # allowed: delivered by name
    assert [r["id"] for r in receiver.received] == [delivery["event_id"]]


def test_target_connects_to_the_address_it_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [["93.184.216.34", "2606:2800:220:1::1"], ["10.0.0.7"]]

    def resolver(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "hooks.example.net"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answers.pop(0)]

    monkeypatch.setattr(webhook_delivery.socket, "getaddrinfo", resolver)
    url, headers, extensions = target("https://hooks.example.net:8443/in?x=1", allow_private=False)
    assert url == "https://93.184.216.34:8443/in?x=1"
    assert headers == {"Host": "hooks.example.net:8443"} and extensions == {"sni_hostname": "hooks.example.net"}
    with pytest.raises(Refused, match="non-public address 10.0.0.7"):  # the name moved to a private address
        target("https://hooks.example.net/in", allow_private=False)
    assert target("http://10.0.0.7/in", allow_private=True) == ("http://10.0.0.7/in", {}, {})
    assert target("http://93.184.216.34/in", allow_private=False) == ("http://93.184.216.34/in", {}, {})
    with pytest.raises(Refused, match="169.254.169.254"):
        target("http://169.254.169.254/latest/meta-data", allow_private=False)


def test_a_resolver_that_hangs_costs_one_failed_attempt_not_the_loop(
    craton: Craton, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seam test: ``socket.getaddrinfo`` replaced by one that never answers (until released)."""
    release = threading.Event()

    def hanging(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "released")

    monkeypatch.setattr(webhook_delivery.socket, "getaddrinfo", hanging)
    try:
        started = time.monotonic()
        with pytest.raises(webhook_delivery.ResolveTimeout, match="DNS lookup of host hooks.example.net timed out"):
            target("https://hooks.example.net/in", allow_private=False, timeout=0.2)
        assert time.monotonic() - started < 2
        with pytest.raises(InvalidInput, match="did not resolve within 0.2 s"):
            webhook_domain.check_url("https://hooks.example.net/in", allow_private=False, resolve_timeout=0.2)
        # More deliveries than lookup slots, all to names that never resolve: each is one failed
        # attempt with the reason, and the round ends within a few timeouts.
        tenant = craton.tenant()
        hooks = [make_hook(tenant.client, f"https://slow-{n}.example.net/hook") for n in range(6)]
        publish(server, tenant.project_id, [effective(1, a=1)])
        strict = Policy(max_attempts=1, timeout_seconds=0.3, allow_private_targets=False)
        started = time.monotonic()
        drain(server, strict)
        assert time.monotonic() - started < 10
        for n, hook in enumerate(hooks):
            (delivery,) = _log(tenant.client, hook["id"])
            assert delivery["status"] == "failed" and delivery["attempts"] == 1
            assert delivery["last_error"] == f"DNS lookup of host slow-{n}.example.net timed out after 0.3 s"
    finally:
        release.set()


#: A name no file knows: only DNS can answer it.
SILENT_NAME = "hooks.craton-silent-dns.example"


@pytest.fixture
def silent_dns(tmp_path: Any) -> Iterator[str]:
    """A resolv.conf whose only nameserver is a loopback UDP socket that reads queries and never answers."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to give craton-events a resolv.conf of its own")
    nameserver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = f"127.{os.getpid() % 250 + 1}.{int(time.time()) % 250 + 1}.53"
    nameserver.bind((address, 53))
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(f"nameserver {address}\noptions timeout:30 attempts:1\n")
    try:
        yield str(resolv)
    finally:
        nameserver.close()


def test_craton_events_with_a_silent_dns_server_records_a_timeout(
    craton: Craton, server: LiveServer, silent_dns: str
) -> None:
    """No mocks: ``craton-events --once`` runs in a mount namespace whose resolver never answers."""
    tenant = craton.tenant()
    hook = make_hook(tenant.client, f"https://{SILENT_NAME}/hook", events=["effective-change"])
    publish(server, tenant.project_id, [effective(1, a=1)])
    script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    started = time.monotonic()
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, silent_dns, sys.executable]
        + ["-m", "craton.cmd.events", "--once", "--database-url", server.database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "CRATON_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "false",
            "CRATON_WEBHOOKS_TIMEOUT_SECONDS": "1",
            "CRATON_WEBHOOKS_MAX_ATTEMPTS": "1",
        },
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert elapsed < 20, f"the resolver's own 30 s timeout was waited for ({elapsed:.1f} s)"
    (delivery,) = _log(tenant.client, hook["id"])
    assert delivery["status"] == "failed" and delivery["attempts"] == 1 and delivery["response_code"] is None
    assert delivery["last_error"] == f"DNS lookup of host {SILENT_NAME} timed out after 1 s"


def test_the_url_checked_before_the_transaction_answers_in_the_same_order(craton: Craton, server: LiveServer) -> None:
    """The URL's verdict is reached first but raised where it was: 401, 403 and 404 still come before it."""
    tenant = craton.tenant()
    bad = {"url": "ftp://hooks.example.net/", "secret": SECRET}
    expect_error(httpx.post(f"{server.url}/v1/webhooks", json=bad), 401)
    expect_error(tenant.member().post("/v1/webhooks", json=bad), 403)
    expect_error(tenant.client.put("/v1/webhooks/2147483647", json={"url": bad["url"]}), 404)
    expect_error(tenant.client.post("/v1/webhooks", json=bad), 400, contains=["is not an http or https URL"])
    hook = make_hook(tenant.client, "http://127.0.0.1:9/")
    expect_error(tenant.client.put(f"/v1/webhooks/{hook['id']}", json=bad), 400, contains=["is not an http"])
    moved = expect(tenant.client.put(f"/v1/webhooks/{hook['id']}", json={"url": "http://127.0.0.1:10/"}), 200)
    assert moved["url"] == "http://127.0.0.1:10/"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_webhook_save_waiting_on_dns_holds_no_transaction(
    backend: str, silent_dns: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No mocks: ``craton-api`` in a mount namespace whose resolver never answers. While a webhook
    save waits out its DNS lookup, another write completes at once (SQLite: the save held the
    write lock) and the database sees no open transaction of the save (PostgreSQL, MariaDB)."""
    lookup = 6  # [webhooks] timeout_seconds: what the save waits
    with throwaway_database(backend, tmp_path_factory.mktemp("db")) as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            creds = bootstrap(conn)
        headers = {"X-Auth-Project": creds.project_id, "X-Auth-User": creds.username, "X-Auth-Token": creds.api_key}
        port = free_port()
        script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
        process = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, silent_dns, sys.executable]
            + ["-m", "craton.cmd.api", "--database-url", url, "--port", str(port), "--threads", "4"],
            env={
                **os.environ,
                "CRATON_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "false",
                "CRATON_WEBHOOKS_TIMEOUT_SECONDS": str(lookup),
                "CRATON_EVENTS_ENABLED": "false",
                "CRATON_WEBHOOKS_DISPATCH": "false",
            },
        )
        base = f"http://127.0.0.1:{port}"
        saved: list[httpx.Response] = []
        try:
            wait_until_ready(base, process)
            body = {"url": f"https://{SILENT_NAME}/hook", "secret": SECRET}
            save = threading.Thread(
                target=lambda: saved.append(httpx.post(f"{base}/v1/webhooks", json=body, headers=headers, timeout=30))
            )
            started = time.monotonic()
            save.start()
            time.sleep(1.5)  # the save is now waiting on the silent DNS server
            assert not saved, "the save did not wait on DNS"
            open_transactions = {
                "postgresql": "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()",
                "mariadb": "SELECT count(*) FROM information_schema.innodb_trx "
                "WHERE trx_mysql_thread_id <> CONNECTION_ID()",
            }
            if backend in open_transactions:
                with engine.connect() as conn:
                    assert conn.exec_driver_sql(open_transactions[backend]).scalar() == 0
            write = httpx.post(f"{base}/v1/clouds", json={"name": "meanwhile"}, headers=headers, timeout=30)
            assert write.status_code == 201, write.text
            assert not saved, "the other write waited for the save to end"
            save.join(30)
            assert time.monotonic() - started >= lookup - 0.5
            (answer,) = saved
            assert answer.status_code == 400, answer.text
            assert f"url host {SILENT_NAME} did not resolve within {lookup} s; try again" in answer.text
        finally:
            process.terminate()
            process.wait(30)
            engine.dispose()


def test_finished_deliveries_are_pruned_after_the_retention(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    tenant = craton.tenant()
    hook = make_hook(tenant.client, receiver.url)
    publish(server, tenant.project_id, [effective(n, a=n) for n in range(1, 7)])
    expect(tenant.client.put(f"/v1/webhooks/{hook['id']}", json={"enabled": False}), 200)  # nothing is sent
    ids = sorted(d["id"] for d in _log(tenant.client, hook["id"]))
    long_ago, lately = dt.datetime(2000, 1, 1), dt.datetime.now(dt.UTC).replace(tzinfo=None)
    states = [
        ("succeeded", long_ago, long_ago),  # pruned
        ("failed", None, long_ago),  # pruned: its last attempt is old
        ("succeeded", lately, long_ago),  # kept: delivered lately
        ("failed", None, lately),  # kept
        ("pending", None, long_ago),  # kept: never pruned before it is finished
        ("delivering", None, long_ago),  # kept
    ]
    with server.engine.begin() as conn:
        for delivery_id, (status, delivered_at, last) in zip(ids, states, strict=True):
            conn.execute(
                sa.text(
                    "UPDATE webhook_deliveries SET status = :s, delivered_at = :d, next_attempt_at = :n WHERE id = :i"
                ),
                {"s": status, "d": delivered_at, "n": last, "i": delivery_id},
            )
    assert prune(server.engine, Policy(delivery_retention_days=0)) == 0  # 0 keeps everything
    assert prune(server.engine, Policy(delivery_retention_days=30), limit=1) == 1  # in batches
    prune(server.engine, Policy(delivery_retention_days=30))
    assert sorted(d["id"] for d in _log(tenant.client, hook["id"])) == ids[2:]


def test_the_api_runs_pump_and_delivery_in_one_loop(
    receiver: Receiver, tmp_path_factory: pytest.TempPathFactory, server: LiveServer
) -> None:
    """As ``make run`` starts it: a real write reaches the receiver with no other process, one thread."""
    with (
        throwaway_database(server.backend, tmp_path_factory.mktemp("db")) as url,
        running_server(
            server.backend,
            url,
            webhooks_allow_private_targets=True,
            webhooks_dispatch=True,
            webhooks_poll_seconds=0.2,
            events_interval=0.2,
        ) as live,
    ):
        admin = live.client()
        hook = make_hook(admin, receiver.url, events=["change"], filters={"resource_types": ["cloud"]})
        cloud = expect(admin.post("/v1/clouds", json={"name": "one-loop"}), 201)
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r["body"]["data"]["resource_id"] for r in receiver.received] == [str(cloud["id"])]
        assert receiver.received[0]["body"]["webhook_id"] == hook["id"] and receiver.received[0]["valid"]
        names = [thread.name for thread in threading.enumerate()]
        assert "craton-events" in names and "craton-webhooks" not in names  # no second loop of its own


def test_key_prefix_filter_on_real_changes_through_the_pump(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    """Real variable writes, pumped and delivered by ``craton-events``: only the ``ntp_`` one arrives."""
    tenant = craton.tenant()
    make_hook(tenant.client, receiver.url, events=["change"], filters={"key_prefixes": ["ntp_"]})
    host = tenant.inventory.host()
    for variables in ({"dns": "10.0.0.53"}, {"ntp_server": "10.0.0.123"}, {"syslog": "10.0.0.5"}):
        expect(tenant.client.put(f"/v1/hosts/{host['id']}/variables", json=variables), 200)
    run_craton_events_once(server.database_url, env=PRIVATE_TARGETS)
    mine = [r["body"]["data"] for r in receiver.received]
    assert len(mine) == 1 and mine[0]["resource_id"] == str(host["id"])
    assert mine[0]["new"]["ntp_server"] == "10.0.0.123" and "ntp_server" not in (mine[0]["old"] or {})


def test_cell_filter_matches_change_events_of_network_devices(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    """A ``change`` record of a network device (resource type ``network_device``) has the device's cell."""
    tenant = craton.tenant()
    region = tenant.inventory.region()
    cell = tenant.inventory.cell(region)
    switch = tenant.inventory.network_device(cell=cell)
    outside = tenant.inventory.network_device(region=region)
    make_hook(
        tenant.client, receiver.url, events=["change"], filters={"cell_ids": [cell["id"]], "actions": ["variables"]}
    )
    for device in (switch, outside):
        expect(tenant.client.put(f"/v1/network-devices/{device['id']}/variables", json={"snmp": "public"}), 200)
    run_craton_events_once(server.database_url, env=PRIVATE_TARGETS)
    mine = [r["body"]["data"] for r in receiver.received]
    assert [(m["resource_type"], m["resource_id"]) for m in mine] == [("network_device", str(switch["id"]))]


#: The error's list of what ``filters.resource_types`` accepts.
ACCEPTED_TYPES = (
    "accepted: project, user, cloud, region, cell, host, network_device, network, network_interface, device"
)


def test_resource_types_are_stored_as_events_spell_them_and_unknown_ones_refused(craton: Craton) -> None:
    tenant = craton.tenant()
    hook = make_hook(
        tenant.client, "http://127.0.0.1/", filters={"resource_types": ["network-device", "host", "network_device"]}
    )
    assert hook["filters"] == {"resource_types": ["network_device", "host"]}
    assert expect(tenant.client.get(f"/v1/webhooks/{hook['id']}"), 200)["filters"] == hook["filters"]
    updated = tenant.client.put(
        f"/v1/webhooks/{hook['id']}", json={"filters": {"resource_types": ["network-interface", "device"]}}
    )
    assert expect(updated, 200)["filters"] == {"resource_types": ["network_interface", "device"]}
    for wrong in ("network-devices", "Host", "switch", ""):
        body = {"url": "http://127.0.0.1/", "secret": SECRET, "filters": {"resource_types": ["host", wrong]}}
        expect_error(tenant.client.post("/v1/webhooks", json=body), 400, contains=[repr(wrong), ACCEPTED_TYPES])
        put = tenant.client.put(f"/v1/webhooks/{hook['id']}", json={"filters": {"resource_types": [wrong]}})
        expect_error(put, 400, contains=[repr(wrong), ACCEPTED_TYPES])
    assert expect(tenant.client.get(f"/v1/webhooks/{hook['id']}"), 200)["filters"] == {
        "resource_types": ["network_interface", "device"]
    }


def test_a_filter_spelled_network_device_receives_network_device_events(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    """The CLI's help used to suggest ``network-device``: such a webhook now gets the device's events."""
    tenant = craton.tenant()
    region = tenant.inventory.region()
    switch = tenant.inventory.network_device(region=region)
    host = tenant.inventory.host(region=region)
    by_name = make_hook(tenant.client, receiver.url, filters={"resource_types": ["network-device"]})
    devices = make_hook(tenant.client, receiver.url, events=["change"], filters={"resource_types": ["device"]})
    expect(tenant.client.put(f"/v1/network-devices/{switch['id']}/variables", json={"snmp": "public"}), 200)
    expect(tenant.client.put(f"/v1/hosts/{host['id']}/variables", json={"ntp": "10.0.0.1"}), 200)
    run_craton_events_once(server.database_url, env=PRIVATE_TARGETS)
    assert receiver.received and all(r["valid"] for r in receiver.received)

    def seen(hook: dict[str, Any]) -> set[tuple[str, str, str, str]]:
        return {
            (
                r["body"]["kind"],
                r["body"]["data"].get("resource_type") or r["body"]["data"]["device_type"],
                str(r["body"]["data"].get("resource_id") or r["body"]["data"]["device_id"]),
                r["body"]["data"].get("action", ""),
            )
            for r in receiver.received
            if r["body"]["webhook_id"] == hook["id"]
        }

    switch_id, host_id = str(switch["id"]), str(host["id"])
    assert {kind_type[1] for kind_type in seen(by_name)} == {"network_device"}
    assert {
        ("change", "network_device", switch_id, "variables"),
        ("effective-change", "network_device", switch_id, ""),
    } <= seen(by_name)
    assert {kind_type[1] for kind_type in seen(devices)} == {"network_device", "host"}
    assert {("change", "network_device", switch_id, "variables"), ("change", "host", host_id, "variables")} <= seen(
        devices
    )


@pytest.fixture
def tls_receiver(tmp_path: Any) -> Iterator[tuple[str, str]]:
    """An HTTPS server on 127.0.0.1 whose certificate names ``hooks.test`` only: (port, CA file)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=hooks.test"]
        + ["-addext", "subjectAltName=DNS:hooks.test", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield str(httpd.server_address[1]), str(cert)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_pinned_connection_verifies_tls_for_the_name(tls_receiver: tuple[str, str]) -> None:
    """The pinned request reaches the checked address and still checks the certificate against the name."""
    port, ca = tls_receiver
    address = ipaddress.ip_address("127.0.0.1")
    with httpx.Client(verify=ssl.create_default_context(cafile=ca), trust_env=False) as client:
        url, headers, extensions = webhook_delivery.pin(f"https://hooks.test:{port}/in", address)
        assert url == f"https://127.0.0.1:{port}/in"
        response = client.post(url, content=b"{}", headers=headers, extensions=extensions)
        assert response.status_code == 204
        # Another name at the same address: the certificate does not match, nothing is sent.
        url, headers, extensions = webhook_delivery.pin(f"https://evil.test:{port}/in", address)
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            client.post(url, content=b"{}", headers=headers, extensions=extensions)


def test_a_trickling_answer_is_not_read_past_the_timeout(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    tenant = craton.tenant()
    hook = make_hook(tenant.client, receiver.url, events=["effective-change"])
    receiver.plan = ["trickle"]
    publish(server, tenant.project_id, [effective(1, a=1)])
    started = time.monotonic()
    drain(server)
    assert time.monotonic() - started < 5 * FAST.timeout_seconds + 2
    assert [(d["status"], d["response_code"]) for d in _log(tenant.client, hook["id"])] == [("succeeded", 200)]


def test_a_region_variable_change_is_one_change_and_an_effective_change_per_host(
    craton: Craton, receiver: Receiver, server: LiveServer
) -> None:
    """The issue's end-to-end case: real writes, the real pump and delivery (``craton-events --once``)."""
    tenant = craton.tenant()
    region = tenant.inventory.region(variables={"ntp_server": "a"})
    cell = tenant.inventory.cell(region)
    hosts = {tenant.inventory.host(cell=cell)["id"] for _ in range(3)}
    run_craton_events_once(server.database_url, env=PRIVATE_TARGETS)  # the fleet's own changes are out of the way
    everything = make_hook(tenant.client, receiver.url)
    ntp_only = make_hook(tenant.client, receiver.url, filters={"key_prefixes": ["ntp_"]})
    path = f"/v1/regions/{region['id']}/variables"
    expect(tenant.client.put(path, json={"dns": "x"}), 200)
    expect(tenant.client.put(path, json={"ntp_server": "b"}), 200)
    run_craton_events_once(server.database_url, env=PRIVATE_TARGETS)

    assert receiver.received and all(r["valid"] for r in receiver.received)
    got: dict[int, list[tuple[str, Any]]] = {everything["id"]: [], ntp_only["id"]: []}
    for delivery in receiver.received:
        body = delivery["body"]
        data = body["data"]
        if body["kind"] == "change":
            got[body["webhook_id"]].append(("change", data["new"]))
        else:
            assert data["device_type"] == "host" and data["cell_id"] == cell["id"]
            got[body["webhook_id"]].append((data["device_id"], (data["added"], data["changed"])))
    dns = [(host, ({"dns": "x"}, {})) for host in sorted(hosts)]
    ntp = [(host, ({}, {"ntp_server": {"old": "a", "new": "b"}})) for host in sorted(hosts)]
    assert sorted(got[everything["id"]], key=repr) == sorted(
        [("change", {"dns": "x"}), *dns, ("change", {"ntp_server": "b"}), *ntp], key=repr
    )
    assert sorted(got[ntp_only["id"]], key=repr) == sorted([("change", {"ntp_server": "b"}), *ntp], key=repr)
