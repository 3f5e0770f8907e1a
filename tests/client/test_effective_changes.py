"""``craton.effective_changes``: the per-device feed, live (the server's own pump computes it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from cratonclient import exceptions as exc
from cratonclient.v1.client import Client
from cratonclient.v1.effective_changes import EffectiveChange, EffectiveChangePage


def settled(craton: Client, since: int, count: int, **filters: Any) -> list[EffectiveChange]:
    """The records after ``since`` once ``count`` of them are there (the pump runs every second)."""
    deadline = time.monotonic() + 20
    while True:
        found = list(craton.effective_changes.list(since=since, **filters))
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def last_id(craton: Client) -> int:
    return max((record.id for record in craton.effective_changes.list()), default=0)


def test_list_page_filters_and_follow(craton: Client, unique: Callable[[str], str]) -> None:
    cloud = craton.clouds.create(name=unique("cloud"))
    region = craton.regions.create(name="east", cloud_id=cloud.id, variables={"ntp": "a"})
    cell = craton.cells.create(name="east-a", region_id=region.id, cloud_id=cloud.id)
    hosts = [
        craton.hosts.create(
            name=f"web-{n}",
            cloud_id=cloud.id,
            region_id=region.id,
            cell_id=cell.id,
            ip_address="10.0.0.1",
            device_type="server",
        )
        for n in range(3)
    ]
    settled(craton, 0, 3)
    start = last_id(craton)
    region.variables.update(ntp="b")

    records = settled(craton, start, 3)
    assert sorted(r.device_id for r in records) == sorted(h.id for h in hosts)
    first = records[0]
    assert isinstance(first, EffectiveChange)
    assert first.changed == {"ntp": {"old": "a", "new": "b"}} and first.added == {} and first.removed == {}
    assert first.device_type == "host" and first.time.tzinfo is not None
    assert first.change_id == list(craton.changes.list())[-1].id

    page = craton.effective_changes.page(since=start, limit=2)
    assert isinstance(page, EffectiveChangePage)
    assert [r.id for r in page.effective_changes] == [r.id for r in records[:2]]
    assert page.next_since == records[1].id
    assert [r.id for r in craton.effective_changes.list(since=start, limit=1, autopaginate=False)] == [records[0].id]
    assert [r.device_id for r in craton.effective_changes.list(since=start, device_id=hosts[1].id)] == [hosts[1].id]
    assert len(list(craton.effective_changes.list(since=start, key="ntp", cell_id=cell.id))) == 3
    assert list(craton.effective_changes.list(since=start, key="other")) == []

    followed = craton.effective_changes.follow(since=records[-1].id, interval=0.2, duration=15, key="dns")
    region.variables.update(dns="x")
    got = [next(followed) for _ in range(3)]
    assert sorted(r.device_id for r in got) == sorted(h.id for h in hosts)
    assert all(r.added == {"dns": "x"} for r in got)


def test_bad_filters_are_refused(craton: Client) -> None:
    with pytest.raises(TypeError, match="unknown filter"):
        craton.effective_changes.page(user="x")
    with pytest.raises(exc.BadRequest):
        craton.effective_changes.page(limit=5000)
