"""Provenance, point-in-time reads, history, the change feed and change reasons, live.

Every test runs against the real craton-api (``live_server``) in a project of its own, so the
feed and the histories hold only what the test did.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from cratonclient import exceptions as exc
from cratonclient.session import Session
from cratonclient.v1.client import Client
from cratonclient.v1.history import Change, ChangePage
from cratonclient.v1.variables import BlamedVariables, Source, Variables, VariablesDiff, parse_blame


class Site:
    """cloud > region (ntp) > cell > two hosts, one of which overrides ntp."""

    def __init__(self, craton: Client, unique: Callable[[str], str]) -> None:
        self.craton = craton
        self.cloud = craton.clouds.create(name=unique("cloud"))
        self.region = craton.regions.create(name="east", cloud_id=self.cloud.id, variables={"ntp": "region-ntp"})
        self.cell = craton.cells.create(name="east-a", region_id=self.region.id, cloud_id=self.cloud.id)
        self.hosts = [
            craton.hosts.create(
                name=f"web-{n}",
                cloud_id=self.cloud.id,
                region_id=self.region.id,
                cell_id=self.cell.id,
                ip_address=f"10.8.0.{n}",
                device_type="server",
            )
            for n in (1, 2)
        ]


@pytest.fixture
def site(craton: Client, unique: Callable[[str], str]) -> Site:
    return Site(craton, unique)


def moment() -> dt.datetime:
    """A time strictly between the writes before and after it."""
    time.sleep(0.005)
    now = dt.datetime.now(dt.UTC)
    time.sleep(0.005)
    return now


# --- blame --------------------------------------------------------------------------------------


def test_blame_names_the_winning_level_and_what_it_overrides(site: Site, tenant: Any) -> None:
    host = site.hosts[0]
    site.cell.variables.update(ntp="cell-ntp")

    blamed = host.variables.get(blame=True)

    assert isinstance(blamed, BlamedVariables)
    assert blamed.values == host.variables.get().to_dict() == {"ntp": "cell-ntp"}
    ntp = blamed["ntp"]
    assert ntp.key == "ntp" and ntp.value == "cell-ntp"
    assert ntp.source == Source("cell", site.cell.id, "east-a")
    assert str(ntp.source) == f"cell {site.cell.id} (east-a)"
    assert ntp.set_by == tenant.username and ntp.set_at
    assert [(o.source.type, o.source.id, o.value) for o in ntp.overrides] == [("region", site.region.id, "region-ntp")]
    assert blamed.to_dict()["blame"]["ntp"]["source"] == {"type": "cell", "id": site.cell.id, "name": "east-a"}
    # A plain get is unchanged, and own variables can be blamed too.
    assert isinstance(host.variables.get(), Variables)
    assert host.variables.get(resolved=False, blame=True).blame == {}

    listed = {
        h.id: parse_blame(h.blame) for h in site.craton.hosts.list(cell_id=site.cell.id, details=True, blame=True)
    }
    assert listed[host.id]["ntp"].source.type == "cell"


# --- point in time ------------------------------------------------------------------------------


def test_as_of_and_diff_replay_what_the_api_returned(site: Site) -> None:
    host, region = site.hosts[0], site.region
    before = moment()
    region.variables.update(ntp="new-ntp", zone="east")
    after = moment()
    site.cell.variables.update(zone="east-a")

    then = host.variables.get(as_of=before)
    assert then.to_dict() == {"ntp": "region-ntp"}
    assert then.as_of and then.as_of.startswith(before.strftime("%Y-%m-%dT%H:%M"))
    assert host.variables.get(as_of=after.isoformat()).to_dict() == {"ntp": "new-ntp", "zone": "east"}
    assert host.variables.get().as_of is None

    diff = host.variables.diff(before, after)
    assert isinstance(diff, VariablesDiff) and diff
    assert diff.added == {"zone": "east"} and diff.removed == {}
    assert diff.changed["ntp"] == ("region-ntp", "new-ntp")
    assert diff.changed["ntp"].before == "region-ntp" and diff.until is not None
    to_now = host.variables.diff(after)
    assert to_now.until is None and to_now.to_dict()["to"] == "now"
    assert to_now.changed["zone"].after == "east-a"
    assert not host.variables.diff(moment())
    assert region.variables.diff(before, resolved=False).added == {"zone": "east"}

    blamed_then = host.variables.get(blame=True, as_of=before)
    assert blamed_then.values == {"ntp": "region-ntp"} and blamed_then["ntp"].source.id == region.id
    with pytest.raises(exc.BadRequest, match="ISO 8601"):
        host.variables.get(as_of="yesterday")
    with pytest.raises(exc.NotFound):
        host.variables.get(as_of="2001-01-01T00:00:00Z")


def test_naive_datetimes_are_local_time(site: Site) -> None:
    local_now = dt.datetime.now()  # naive, as most scripts write it
    assert site.hosts[0].variables.get(as_of=local_now).to_dict() == {"ntp": "region-ntp"}


def test_as_of_at_a_blame_set_at_shows_that_value(site: Site) -> None:
    site.region.variables.update(k=1)
    set_at = site.region.variables.get(blame=True)["k"].set_at
    assert site.region.variables.get(as_of=set_at).to_dict().get("k") == 1


# --- history ------------------------------------------------------------------------------------


def test_history_pages_lazily_and_outlives_the_object(site: Site) -> None:
    clouds = site.craton.clouds
    cloud = site.cloud
    for n in range(11):
        clouds.update(cloud.id, note=f"note {n}")
    cloud.variables.update(a=1)

    records = list(clouds.history(cloud.id, limit=10))
    assert all(isinstance(r, Change) for r in records)
    assert [r.action for r in records] == ["create"] + ["update"] * 11 + ["variables"]
    assert records[1].old == {"note": None} and records[1].new == {"note": "note 0"}
    assert records[-1].resource_type == "cloud" and records[-1].resource_id == str(cloud.id)
    assert [r.id for r in records] == sorted(r.id for r in records)

    first = list(clouds.history(cloud.id, autopaginate=False, limit=10))
    assert [r.id for r in first] == [r.id for r in records[:10]]
    rest = list(clouds.history(cloud.id, autopaginate=False, marker=first[-1].id, limit=10))
    assert [r.id for r in rest] == [r.id for r in records[10:]]
    newest = next(iter(cloud.history(sort_dir="desc", autopaginate=False, limit=10)))
    assert newest.id == records[-1].id
    assert records[1].time_before < records[1].time == dt.datetime.fromisoformat(records[1].occurred_at)

    clouds.delete(cloud.id)
    after = list(clouds.history(cloud.id))
    assert after[-1].action == "delete" and len(after) == len(records) + 1
    with pytest.raises(exc.NotFound):
        list(clouds.history(2_000_000_000))


def test_every_recorded_resource_has_a_history(site: Site, tenant: Any, unique: Callable[[str], str]) -> None:
    craton = site.craton
    switch = craton.network_devices.create(
        name="sw",
        cloud_id=site.cloud.id,
        region_id=site.region.id,
        ip_address="10.8.1.1",
        device_type="switch",
    )
    network = craton.networks.create(
        name="net",
        cloud_id=site.cloud.id,
        region_id=site.region.id,
        cidr="10.8.0.0/24",
        gateway="10.8.0.254",
        netmask="255.255.255.0",
    )
    interface = craton.network_interfaces.create(
        name="eth0",
        device_id=site.hosts[0].id,
        interface_type="ethernet",
        ip_address="10.8.0.1",
        network_id=network.id,
    )
    user = craton.users.create(username=unique("robot"), project_id=tenant.project_id)
    objects = {
        "projects": tenant.project_id,
        "users": user.id,
        "clouds": site.cloud.id,
        "regions": site.region.id,
        "cells": site.cell.id,
        "hosts": site.hosts[0].id,
        "network_devices": switch.id,
        "networks": network.id,
        "network_interfaces": interface.id,
    }
    for manager, item_id in objects.items():
        first = next(getattr(craton, manager).history(item_id))
        assert first.action == "create", manager
        assert first.resource_id == str(item_id), manager
    assert not hasattr(craton.devices, "history") and not hasattr(craton.inventory, "history")


# --- the change feed ----------------------------------------------------------------------------


def test_change_feed_pages_filters_and_fetches_one(site: Site, tenant: Any, live_server: Any) -> None:
    feed = site.craton.changes
    everything = list(feed.list())
    # Root made the project and its admin; the admin made the rest (a region created with
    # variables has two records: its creation and its variables).
    assert [(c.resource_type, c.action) for c in everything[:6]] == [
        ("project", "create"),
        ("user", "create"),
        ("cloud", "create"),
        ("region", "create"),
        ("region", "variables"),
        ("cell", "create"),
    ]
    assert [c.username for c in everything[:3]] == [live_server.username, live_server.username, tenant.username]
    assert {c.project_id for c in everything} == {tenant.project_id}
    assert [c.id for c in everything] == sorted(c.id for c in everything)

    page = feed.page(since=everything[0].id, limit=2)
    assert isinstance(page, ChangePage) and [c.id for c in page.changes] == [e.id for e in everything[1:3]]
    assert page.next_since == everything[2].id
    assert [c.id for c in feed.list(since=everything[0].id, limit=2)] == [e.id for e in everything[1:]]
    assert len(list(feed.list(limit=2, autopaginate=False))) == 2
    assert list(feed.list(since=everything[-1].id)) == []

    hosts = list(feed.list(resource_type="host"))
    assert [c.resource_name for c in hosts] == ["web-1", "web-2"]
    assert list(feed.list(user=tenant.username)) == everything[2:]
    assert list(feed.list(user="nobody")) == []

    one = feed.get(everything[3].id)
    assert one == everything[3] and one.resource_name == "east"
    with pytest.raises(exc.NotFound):
        feed.get(everything[-1].id + 10_000)


def test_another_project_sees_neither_feed_nor_history(site: Site, new_tenant: Callable[..., Any]) -> None:
    stranger = new_tenant().craton
    mine = list(site.craton.changes.list())
    assert not {c.id for c in stranger.changes.list()} & {c.id for c in mine}
    with pytest.raises(exc.NotFound):
        stranger.changes.get(mine[0].id)
    with pytest.raises(exc.NotFound):
        list(stranger.regions.history(site.region.id))


def test_follow_yields_changes_as_they_are_made(site: Site) -> None:
    feed = site.craton.changes
    start = list(feed.list())[-1].id

    def later() -> None:
        time.sleep(0.4)
        site.region.variables.update(ntp="followed")

    writer = threading.Thread(target=later)
    writer.start()
    began = time.monotonic()
    followed = []
    for change in feed.follow(since=start, interval=0.1, duration=5):
        followed.append(change)
        break  # the caller decides when to stop
    writer.join()
    assert followed[0].new == {"ntp": "followed"} and time.monotonic() - began < 4
    # Bounded: with nothing new, follow returns once its duration is over.
    began = time.monotonic()
    assert list(feed.follow(since=followed[0].id, interval=0.1, duration=0.5)) == []
    assert 0.4 < time.monotonic() - began < 3


# --- change reasons -----------------------------------------------------------------------------


def last_reason(craton: Client) -> str | None:
    return list(craton.changes.list())[-1].reason


def test_reasons_from_the_session_and_from_blocks(site: Site) -> None:
    craton, region = site.craton, site.region
    session = craton.session
    region.variables.update(a=1)
    assert last_reason(craton) is None

    session.change_reason = "OPS-1: default"
    region.variables.update(a=2)
    assert last_reason(craton) == "OPS-1: default"
    with craton.reason("OPS-2: block"):
        craton.regions.update(region.id, note="block")
        assert last_reason(craton) == "OPS-2: block"
        with craton.reason("OPS-3: inner"):
            region.variables.delete("a")
            assert last_reason(craton) == "OPS-3: inner"
        craton.hosts.labels(site.hosts[0].id).update("web")
        assert last_reason(craton) == "OPS-2: block"
        with craton.reason(None):
            craton.cells.update(site.cell.id, note="no reason")
            assert last_reason(craton) is None
    craton.hosts.delete(site.hosts[1].id)
    assert last_reason(craton) == "OPS-1: default"
    session.change_reason = None


def test_a_block_reason_stays_in_its_thread(site: Site) -> None:
    craton = site.craton
    seen: list[str | None] = []

    def other_thread() -> None:
        seen.append(craton.session.current_reason())

    with craton.reason("only here"):
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert craton.session.current_reason() == "only here"
    assert seen == [None]


def test_reasons_must_be_one_line() -> None:
    session = Session(username="u", token="t", project_id="p")
    with pytest.raises(ValueError, match="single line"):
        session.change_reason = "two\nlines"
    with pytest.raises(ValueError, match="single line"), session.reason("a\r\nb"):
        pass
    session.change_reason = "   "
    assert session.change_reason is None  # blank means no reason


def test_non_ascii_reasons_round_trip(site: Site) -> None:
    with site.craton.reason("Wartung für Gerät ✓"):
        site.region.variables.update(b=1)
    assert last_reason(site.craton) == "Wartung für Gerät ✓"


def test_blame_as_of_a_host_a_region_delete_removed(site: Site) -> None:
    """Blame of an object deleted by a cascade, at a moment before the delete."""
    host = site.hosts[1]
    host.variables.update(ntp="host-ntp")
    site.cell.variables.update(rack=4)
    before = moment()
    site.craton.regions.delete(site.region.id)
    then = host.variables.get(blame=True, as_of=before)
    assert then.values == {"ntp": "host-ntp", "rack": 4}
    assert then["ntp"].source == Source("host", host.id, "web-2")
    assert [(o.source.type, o.value) for o in then["ntp"].overrides] == [("region", "region-ntp")]
    assert then["rack"].source == Source("cell", site.cell.id, "east-a")
    with pytest.raises(exc.NotFound):
        host.variables.get(blame=True, as_of=moment())
