"""The event outbox and pump: every committed change reaches the subscribers once, in order, on every backend."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from craton.domain.events import pump, runner, subscribers
from craton.settings import Settings
from craton.storage import leases
from craton.storage.engine import create_engine
from craton.storage.tables import changes, event_outbox
from tests.api.helpers import run_craton_events_once
from tests.conftest import BACKENDS, LiveServer, running_server, throwaway_database


@pytest.fixture(scope="module", params=BACKENDS)
def paused(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose pump does not run: the tests run it by hand, as after a crash before it ran."""
    backend = request.param
    with (
        throwaway_database(backend, tmp_path_factory.mktemp("db")) as url,
        running_server(backend, url, events_enabled=False) as live,
    ):
        yield live


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict]]:
    """What a subscriber hears: ``(project_id, kind, payload)`` in call order."""
    events: list[tuple[str, str, dict]] = []

    def subscriber(conn, project_id, batch):
        events.extend((project_id, kind, payload) for kind, payload in batch)

    monkeypatch.setattr(subscribers, "SUBSCRIBERS", [subscriber])
    return events


def pending(server: LiveServer) -> dict[int, str]:
    with server.engine.connect() as conn:
        rows = conn.execute(sa.select(event_outbox.c.change_id, event_outbox.c.project_id)).all()
    return {int(row.change_id): row.project_id for row in rows}


def recorded_after(server: LiveServer, change_id: int) -> dict[int, str]:
    with server.engine.connect() as conn:
        rows = conn.execute(sa.select(changes.c.id, changes.c.project_id).where(changes.c.id > change_id)).all()
    return {int(row.id): row.project_id for row in rows}


def drain(server: LiveServer) -> None:
    while pump.process_pending(server.engine):
        pass


def make_tree(client, suffix: str, hosts: int = 3) -> dict:
    cloud = client.post("/v1/clouds", json={"name": f"o-{suffix}", "variables": {"a": 1}}).json()
    region = client.post("/v1/regions", json={"name": "r", "cloud_id": cloud["id"]}).json()
    cell = client.post("/v1/cells", json={"name": "c", "cloud_id": cloud["id"], "region_id": region["id"]}).json()
    for n in range(hosts):
        client.post(
            "/v1/hosts",
            json={
                "name": f"h{n}",
                "cloud_id": cloud["id"],
                "region_id": region["id"],
                "cell_id": cell["id"],
                "ip_address": f"10.8.0.{n + 1}",
                "device_type": "server",
            },
        ).raise_for_status()
    return {"cloud": cloud, "region": region, "cell": cell}


def test_every_committed_change_waits_in_the_outbox_until_the_pump_delivers_it(paused, heard):
    drain(paused)
    heard.clear()
    api = paused.client()
    start = api.get("/v1/changes", params={"limit": 1000}).json()["next_since"]
    tree = make_tree(api, f"{time.monotonic_ns()}")
    api.put(f"/v1/regions/{tree['region']['id']}/variables", json={"ntp": "x"}).raise_for_status()
    api.delete(f"/v1/clouds/{tree['cloud']['id']}").raise_for_status()  # a cascade records many changes at once
    recorded = recorded_after(paused, start)
    assert len(recorded) >= 8
    assert pending(paused) == recorded, "one outbox row per committed change, none delivered yet"
    assert heard == []

    drain(paused)
    feed = api.get("/v1/changes", params={"since": start, "limit": 1000}).json()["changes"]
    told = [(kind, payload["id"]) for _, kind, payload in heard if kind == "change"]
    assert told == [("change", c["id"]) for c in feed]
    # Each change is followed by its effective changes: the hosts' creates (they inherit the cloud's
    # variable) and deletes; the region write has none, its hosts being gone when the pump ran.
    current, effects = None, []
    for _, kind, payload in heard:
        if kind == "change":
            current = payload["id"]
        else:
            assert payload["change_id"] == current
            effects.append(current)
    hosts = {c["id"]: c["action"] for c in feed if c["resource_type"] == "host"}
    assert sorted(effects) == sorted(hosts) and sorted(hosts.values()) == ["create"] * 3 + ["delete"] * 3
    first = heard[0][2]
    assert {key: first[key] for key in ("action", "resource_type", "resource_name")} == {
        key: feed[0][key] for key in ("action", "resource_type", "resource_name")
    }
    assert {project for project, _, _ in heard} == {feed[0]["project_id"]}
    assert pending(paused) == {}
    assert pump.process_pending(paused.engine) == 0, "nothing is delivered twice"


def test_a_failed_request_leaves_nothing_pending(paused, heard):
    drain(paused)
    api = paused.client()
    assert api.post("/v1/cells", json={"name": "orphan", "cloud_id": 999999, "region_id": 999999}).status_code >= 400
    assert pending(paused) == {}


def test_subscribers_hear_each_project_apart(paused, heard):
    drain(paused)
    heard.clear()
    theirs = paused.create_project("events-theirs")
    other = paused.user_client(theirs, "pumped", is_admin=True)
    other.post("/v1/clouds", json={"name": "their-cloud"}).raise_for_status()
    paused.client().post("/v1/clouds", json={"name": f"our-cloud-{time.monotonic_ns()}"}).raise_for_status()
    drain(paused)
    assert "their-cloud" in {payload["resource_name"] for project, _, payload in heard if project == theirs}
    assert all(payload["project_id"] == project for project, _, payload in heard)


def test_a_subscriber_that_fails_leaves_the_batch_pending(paused, monkeypatch):
    drain(paused)

    def broken(conn, project_id, batch):
        raise RuntimeError("receiver down")

    monkeypatch.setattr(subscribers, "SUBSCRIBERS", [broken])
    paused.client().post("/v1/clouds", json={"name": f"retry-{time.monotonic_ns()}"}).raise_for_status()
    before = pending(paused)
    with pytest.raises(RuntimeError):
        pump.process_pending(paused.engine)
    assert pending(paused) == before != {}
    monkeypatch.setattr(subscribers, "SUBSCRIBERS", [])
    drain(paused)
    assert pending(paused) == {}


#: A pump of another process that takes the lease and keeps it until it is killed.
HOLDER = """
import sys, time
from craton.domain.events import pump
from craton.storage import leases
from craton.storage.engine import create_engine
engine = create_engine(sys.argv[1])
if engine.dialect.name == "sqlite":
    with leases.file_lease(engine, pump.LEASE).hold() as held:
        print(held, flush=True)
        time.sleep(600)
else:
    with engine.begin() as conn:
        print(pump.take_lease(conn, pump.LEASE), flush=True)
        time.sleep(600)
"""


def test_one_pump_at_a_time_holds_the_lease_and_a_killed_holder_frees_it(paused):
    """Another process holding the lease makes the pump skip; killed, it keeps nothing (crash safety)."""
    drain(paused)
    paused.client().post("/v1/clouds", json={"name": f"leased-{time.monotonic_ns()}"}).raise_for_status()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, paused.database_url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        assert pump.process_pending(paused.engine) == 0, "the other process holds the lease: this pump skips"
        assert pending(paused) != {}
    finally:
        holder.kill()  # SIGKILL: no clean-up of its own
        holder.wait(timeout=30)
    deadline = time.monotonic() + 10  # a server notices its client's closed socket at once; allow for load
    while not (done := pump.process_pending(paused.engine)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert done >= 1, "a killed holder does not stop the pump"
    assert pending(paused) == {}


@pytest.mark.parametrize("engines", ["one engine, two threads", "two engines (two workers)"])
def test_two_concurrent_pumps_compute_a_round_once(paused, heard, monkeypatch, engines):
    """While one pump computes a round, a second one started meanwhile skips it without computing
    (on SQLite it used to compute the same round and throw it away when writing)."""
    drain(paused)
    heard.clear()
    client = paused.client()
    tree = make_tree(client, f"twice-{time.monotonic_ns()}", hosts=2)
    drain(paused)
    heard.clear()
    for n in range(3):
        client.put(f"/v1/cells/{tree['cell']['id']}/variables", json={"n": n}).raise_for_status()
    other = paused.engine if engines.startswith("one") else create_engine(paused.database_url)
    original = pump._take
    computed: list[str] = []
    second: list[int] = []

    def take(conn, batch, budget):
        computed.append(threading.current_thread().name)
        if len(computed) == 1:  # the second pump starts while the first computes
            rival = threading.Thread(target=lambda: second.append(pump.process_pending(other)), name="second")
            rival.start()
            rival.join(timeout=60)
        return original(conn, batch, budget)

    monkeypatch.setattr(pump, "_take", take)
    try:
        assert pump.process_pending(paused.engine) == 3
    finally:
        if other is not paused.engine:
            other.dispose()
    assert second == [0], "the second pump skipped the round"
    assert computed == [threading.current_thread().name], "only the first pump computed it"
    changes_heard = [payload["id"] for _, kind, payload in heard if kind == "change"]
    assert len(changes_heard) == len(set(changes_heard)) == 3
    assert pending(paused) == {}


def test_craton_events_once_drains_the_outbox(paused):
    paused.client().post("/v1/clouds", json={"name": f"cmd-{time.monotonic_ns()}"}).raise_for_status()
    assert pending(paused) != {}
    run_craton_events_once(paused.database_url)
    assert pending(paused) == {}


def test_the_servers_background_pump_catches_up_within_seconds(server, heard):
    api = server.client()
    created = api.post("/v1/clouds", json={"name": f"bg-{time.monotonic_ns()}"}).json()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(p["resource_name"] == created["name"] for _, _, p in heard):
        time.sleep(0.1)
    assert any(p["resource_name"] == created["name"] for _, _, p in heard)


def test_rounds_are_smaller_on_sqlite_and_run_back_to_back_until_the_outbox_is_empty(paused, heard):
    """On SQLite a round holds the one write lock: it takes 100 changes, not 500, then the next one
    starts at once (the job reports a full batch), so the requests' writers get in between."""
    drain(paused)
    settings = Settings(database_url=paused.database_url)
    (job,) = [job for job in runner.jobs(settings) if job.name == "event-pump"]
    expected = pump.SQLITE_BATCH if paused.backend == "sqlite" else pump.DEFAULT_BATCH
    assert job.full_batch == expected
    client = paused.client()
    cloud = client.post("/v1/clouds", json={"name": f"rounds-{time.monotonic_ns()}"}).json()
    for n in range(pump.SQLITE_BATCH + 20):  # one round and a bit on SQLite, one round elsewhere
        client.put(f"/v1/clouds/{cloud['id']}/variables", json={"n": n}).raise_for_status()
    waiting = len(pending(paused))
    assert waiting == pump.SQLITE_BATCH + 21
    taken = [job.run(paused.engine)]
    while taken[-1] >= job.full_batch:  # what the loop does: a full batch runs again at once
        taken.append(job.run(paused.engine))
    assert pending(paused) == {}
    if paused.backend == "sqlite":
        assert taken == [pump.SQLITE_BATCH, waiting - pump.SQLITE_BATCH]
    else:
        assert taken == [waiting]
    assert len([kind for _, kind, _ in heard if kind == "change"]) == waiting


def test_on_sqlite_a_round_another_pump_delivered_meanwhile_is_dropped(paused, heard, monkeypatch):
    """SQLite computes a round outside the write lock; if another worker's pump without the lease
    wrote the same changes in the meantime, this round writes nothing (no change heard twice, no
    effect doubled)."""
    if paused.backend != "sqlite":
        pytest.skip("elsewhere the lease row, locked for the whole round, keeps a second pump out")
    drain(paused)
    client = paused.client()
    tree = make_tree(client, f"race-{time.monotonic_ns()}", hosts=2)
    drain(paused)
    heard.clear()
    for n in range(3):
        client.put(f"/v1/cells/{tree['cell']['id']}/variables", json={"n": n}).raise_for_status()
    original = pump._take
    raced: list[int] = []

    def take_then_let_another_pump_deliver(conn, batch, budget):
        taken = original(conn, batch, budget)
        if not raced:  # the other worker's pump runs while this one holds its computed round
            monkeypatch.setattr(pump, "_take", original)
            raced.append(pump.process_pending(paused.engine))
        return taken

    with paused.engine.connect() as conn:
        effects_before = conn.execute(sa.text("SELECT count(*) FROM effective_changes")).scalar()
    # Pumps that cannot use the lease file (storage/leases.py: say its directory is read-only):
    # with it, the second pump would skip the round instead (the test below).
    monkeypatch.setattr(leases, "file_lease", lambda engine, name: None)
    monkeypatch.setattr(pump, "_take", take_then_let_another_pump_deliver)
    assert pump.process_pending(paused.engine) == 0, "the round the other pump wrote is dropped"
    assert raced == [3]
    assert pending(paused) == {}
    changes_heard = [payload["id"] for _, kind, payload in heard if kind == "change"]
    assert len(changes_heard) == len(set(changes_heard)) == 3
    with paused.engine.connect() as conn:
        effects_after = conn.execute(sa.text("SELECT count(*) FROM effective_changes")).scalar()
    assert effects_after - effects_before == 3 * 2  # one per host per write, written once
