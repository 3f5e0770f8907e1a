"""``craton.webhooks``: the library against a real server that delivers to a real receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cratonclient import exceptions
from cratonclient.v1.client import Client
from cratonclient.v1.webhooks import Delivery, Webhook
from tests.api.test_webhooks import SECRET, Receiver, drain, effective, publish
from tests.api.test_webhooks import receiver as receiver  # noqa: F401 - the fixture
from tests.client.conftest import Tenant
from tests.conftest import LiveServer, running_server, throwaway_database


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """SQLite, with loopback targets allowed (the receiver listens on 127.0.0.1)."""
    with (
        throwaway_database("sqlite", tmp_path_factory.mktemp("db")) as url,
        running_server("sqlite", url, webhooks_allow_private_targets=True, events_enabled=False) as live,
    ):
        yield live


def test_create_shows_the_secret_once_and_the_rest_round_trips(craton: Client, receiver: Receiver) -> None:
    hook = craton.webhooks.create(
        url=receiver.url, secret=SECRET, events=["change"], filters={"key_prefixes": ["ntp_"]}
    )
    assert isinstance(hook, Webhook)
    assert hook.secret == SECRET and hook.secret_hint == "..." + SECRET[-4:]
    fetched = craton.webhooks.get(hook.id)
    assert "secret" not in fetched.to_dict()
    assert (fetched.url, fetched.events, fetched.filters) == (receiver.url, ["change"], {"key_prefixes": ["ntp_"]})
    updated = craton.webhooks.update(hook.id, enabled=False, events=["change", "effective-change"])
    assert updated.enabled is False and updated.events == ["change", "effective-change"]
    assert craton.webhooks.delete(hook.id) is True
    with pytest.raises(exceptions.NotFound):
        craton.webhooks.get(hook.id)


def test_list_follows_the_next_links(craton: Client, receiver: Receiver) -> None:
    made = [craton.webhooks.create(url=f"{receiver.url}?n={n}", secret=SECRET).id for n in range(12)]
    assert [hook.id for hook in craton.webhooks.list(limit=10)] == made
    page = craton.webhooks.list(autopaginate=False, limit=10)
    assert [hook.id for hook in page] == made[:10] and page.more and page.next_marker == made[9]
    rest = craton.webhooks.list(autopaginate=False, marker=page.next_marker, limit=10)
    assert [hook.id for hook in rest] == made[10:] and not rest.more


def test_deliveries_and_redelivery_with_the_same_event_id(
    live_server: LiveServer, tenant: Tenant, receiver: Receiver
) -> None:
    craton = tenant.craton
    hook = craton.webhooks.create(url=receiver.url, secret=SECRET, events=["effective-change"])
    receiver.plan = ["500", "500", "500"]  # every attempt of the first delivery fails
    publish(live_server, tenant.project_id, [effective(1, ntp_server="a")])
    drain(live_server)
    failed = list(craton.webhooks.deliveries(hook.id, status="failed"))
    assert len(failed) == 1 and isinstance(failed[0], Delivery)
    assert (failed[0].attempts, failed[0].response_code, failed[0].last_error) == (3, 500, "HTTP 500")
    queued = hook.redeliver(failed[0].id)
    assert queued.event_id == failed[0].event_id
    with pytest.raises(exceptions.Conflict):
        failed[0].redeliver()  # already queued again: not failed any more
    drain(live_server)
    assert receiver.received[-1]["id"] == failed[0].event_id and receiver.received[-1]["action"] == "ok"
    assert [d.status for d in hook.deliveries()] == ["succeeded"]
    with pytest.raises(exceptions.NotFound):
        craton.webhooks.redeliver(hook.id, 999999999)


def test_deliveries_page_newest_first_and_keep_the_status_filter(
    live_server: LiveServer, tenant: Tenant, receiver: Receiver
) -> None:
    craton = tenant.craton
    hook = craton.webhooks.create(url=receiver.url, secret=SECRET, events=["effective-change"])
    publish(live_server, tenant.project_id, [effective(n, a=n) for n in range(1, 13)])
    ids = [d.id for d in craton.webhooks.deliveries(hook.id, status="pending", limit=10)]
    assert len(ids) == 12 and ids == sorted(ids, reverse=True)
    assert list(craton.webhooks.deliveries(hook.id, status="succeeded")) == []


def test_members_and_other_projects_are_refused(
    live_server: LiveServer, tenant: Tenant, new_tenant: Any, receiver: Receiver
) -> None:
    hook = tenant.craton.webhooks.create(url=receiver.url, secret=SECRET)
    other = new_tenant().craton
    with pytest.raises(exceptions.NotFound):
        other.webhooks.get(hook.id)
    member = new_tenant(is_admin=False).craton
    with pytest.raises(exceptions.Forbidden):
        list(member.webhooks.list())
    with pytest.raises(exceptions.BadRequest, match="too short"):
        tenant.craton.webhooks.create(url=receiver.url, secret="short-secret")


def test_resource_types_are_stored_as_events_spell_them(craton: Client, receiver: Receiver) -> None:
    hook = craton.webhooks.create(url=receiver.url, secret=SECRET, filters={"resource_types": ["network-device"]})
    assert hook.filters == {"resource_types": ["network_device"]}
    updated = craton.webhooks.update(hook.id, filters={"resource_types": ["network_interface", "network-interface"]})
    assert updated.filters == {"resource_types": ["network_interface"]}
    with pytest.raises(exceptions.BadRequest, match="accepted: project, user"):
        craton.webhooks.update(hook.id, filters={"resource_types": ["hosts"]})
