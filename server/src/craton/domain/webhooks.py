"""Webhooks: who is told about a project's events, and which events they want.

A webhook belongs to one project and is managed by that project's admins (root: any
project). Its secret signs every delivery, so it is stored as given rather than hashed,
and never shown again after creation: reads answer only its last four characters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from craton.domain import crud, kinds
from craton.domain import webhook_delivery as delivery
from craton.domain.errors import Conflict, InvalidInput, NotFound
from craton.domain.principal import Principal, Role
from craton.domain.projects import KIND as PROJECT
from craton.storage import batches, bulk
from craton.storage.rows import Row, as_row, as_rows
from craton.storage.tables import devices, labels, webhook_deliveries, webhooks
from craton.storage.types import utcnow

EVENT_KINDS = ("change", "effective-change")
FILTER_KEYS = ("resource_types", "actions", "keys", "key_prefixes", "cell_ids", "region_ids", "labels")
MIN_SECRET = 16
#: What ``filters.resource_types`` accepts, as change records spell them ("network_device"), and
#: "device" for hosts and network devices both. A hyphen is read as an underscore ("network-device",
#: the URL's spelling), and the canonical name is stored.
RESOURCE_TYPES = (*(info.resource_type for info in kinds.KINDS), kinds.ANY_DEVICE.resource_type)


def _project_of(conn: sa.Connection, principal: Principal, project_id: Any) -> str:
    principal.require(Role.ADMIN)
    if project_id is None or project_id == principal.project_id:
        return principal.project_id
    principal.require(Role.ROOT)
    return str(crud.get(conn, principal, PROJECT, project_id)["id"])


def check_url(url: str, allow_private: bool, resolve_timeout: float = delivery.Policy.timeout_seconds) -> None:
    """http(s) only; loopback, private and link-local targets only when the operator allows them.

    Delivery checks the address again, since a name may resolve elsewhere later
    (``webhook_delivery.target``). The DNS lookup gets ``resolve_timeout`` seconds.
    """
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise InvalidInput("Invalid webhook", f"url {url!r} has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("Invalid webhook", f"url {url!r} is not an http or https URL with a host")
    if parts.username or parts.password:
        raise InvalidInput("Invalid webhook", "url must not carry credentials; use the secret to authenticate")
    if allow_private:
        return
    try:
        addresses = delivery.resolve(parts.hostname, port or 0, resolve_timeout)
    except delivery.ResolveTimeout:
        raise InvalidInput(
            "Invalid webhook", f"url host {parts.hostname} did not resolve within {resolve_timeout:g} s; try again"
        ) from None
    except delivery.Refused:
        raise InvalidInput("Invalid webhook", f"url host {parts.hostname} does not resolve") from None
    for address in addresses:
        if delivery.non_public(address):
            raise InvalidInput(
                "Invalid webhook",
                f"url host {parts.hostname} resolves to the non-public address {address}; "
                "private, loopback and link-local targets need [webhooks] allow_private_targets",
            )


@dataclass(frozen=True)
class CheckedUrl:
    """:func:`check_url`'s verdict on ``url``, reached before the request's transaction opens.

    The DNS lookup may take ``[webhooks] timeout_seconds``: inside the transaction it held the
    transaction open (and SQLite's write lock). :func:`create` and :func:`update` raise the
    verdict's error where they checked the URL before, after their permission checks, so the
    answers and their order are unchanged.
    """

    url: str
    error: InvalidInput | None = None


def check_url_first(url: str, allow_private: bool, resolve_timeout: float) -> CheckedUrl:
    """:func:`check_url` outside any transaction, its error kept for the domain call to raise."""
    try:
        check_url(url, allow_private, resolve_timeout)
    except InvalidInput as error:
        return CheckedUrl(url, error)
    return CheckedUrl(url)


def _checked(url: str, checked: CheckedUrl | None, allow_private: bool, resolve_timeout: float) -> str:
    if checked is None or checked.url != url:
        check_url(url, allow_private, resolve_timeout)  # a caller that did not check first
    elif checked.error is not None:
        raise checked.error
    return url


def _check_filters(filters: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise InvalidInput("Invalid webhook", f"unknown filter {unknown[0]!r}; known: {', '.join(FILTER_KEYS)}")
    for name in ("cell_ids", "region_ids"):
        if any(not isinstance(v, int) or isinstance(v, bool) for v in filters.get(name, [])):
            raise InvalidInput("Invalid webhook", f"filters.{name} must be a list of integer ids")
    for name in ("resource_types", "actions", "keys", "key_prefixes", "labels"):
        if any(not isinstance(v, str) for v in filters.get(name, [])):
            raise InvalidInput("Invalid webhook", f"filters.{name} must be a list of strings")
    checked = {name: list(values) for name, values in filters.items() if values}
    if "resource_types" in checked:
        checked["resource_types"] = resource_types(checked["resource_types"])
    return checked


def resource_types(given: Sequence[str]) -> list[str]:
    """``given`` in the spelling of the events (``network-device`` -> ``network_device``), without repeats.

    An unknown type would never match an event, so it is refused rather than stored.
    """
    return kinds.spelled_resource_types(given, RESOURCE_TYPES, "Invalid webhook", "filters.resource_types")


def shown(row: Row) -> dict[str, Any]:
    """A webhook as the API shows it: the secret reduced to a hint."""
    item = {key: value for key, value in row.items() if key != "secret"}
    item["secret_hint"] = "..." + str(row["secret"])[-4:]
    return item


def create(
    conn: sa.Connection,
    principal: Principal,
    body: dict[str, Any],
    allow_private: bool,
    resolve_timeout: float = delivery.Policy.timeout_seconds,
    checked: CheckedUrl | None = None,
) -> tuple[Row, str]:
    """A new webhook; ``checked`` is :func:`check_url_first`'s verdict on its URL (else checked here)."""
    project_id = _project_of(conn, principal, body.get("project_id"))
    _checked(body["url"], checked, allow_private, resolve_timeout)
    secret = body["secret"]
    if len(secret) < MIN_SECRET:
        raise InvalidInput("Invalid webhook", f"secret must be at least {MIN_SECRET} characters")
    values = {
        "project_id": project_id,
        "url": body["url"],
        "secret": secret,
        "events": list(dict.fromkeys(body.get("events") or EVENT_KINDS)),
        "filters": _check_filters(body.get("filters") or {}),
        "enabled": body.get("enabled", True),
        "consecutive_failures": 0,
        "created_at": principal.acted_at,
    }
    result = conn.execute(sa.insert(webhooks).values(**values))
    return get(conn, principal, crud.inserted_id(result)), secret


def get(conn: sa.Connection, principal: Principal, webhook_id: Any) -> Row:
    principal.require(Role.ADMIN)
    wanted = kinds.integer_id(webhook_id, "Webhook")
    row = conn.execute(
        sa.select(webhooks).where(webhooks.c.id == wanted, principal.scope(webhooks.c.project_id))
    ).first()
    if row is None:
        raise NotFound.of("Webhook", webhook_id)
    return as_row(row)


def list_all(conn: sa.Connection, principal: Principal, limit: int, marker: int | None) -> list[Row]:
    """The caller's webhooks by id, after ``marker`` (up to ``limit + 1``: the last says more follow)."""
    principal.require(Role.ADMIN)
    stmt = sa.select(webhooks).where(principal.scope(webhooks.c.project_id))
    if marker is not None:
        stmt = stmt.where(webhooks.c.id > marker)
    return as_rows(conn.execute(stmt.order_by(webhooks.c.id).limit(limit + 1)).all())


def update(
    conn: sa.Connection,
    principal: Principal,
    webhook_id: Any,
    body: dict[str, Any],
    allow_private: bool,
    resolve_timeout: float = delivery.Policy.timeout_seconds,
    checked: CheckedUrl | None = None,
) -> Row:
    """Change a webhook; ``checked`` is :func:`check_url_first`'s verdict on a new URL (else checked here)."""
    row = get(conn, principal, webhook_id)
    values: dict[str, Any] = {"updated_at": principal.acted_at}
    if "url" in body:
        values["url"] = _checked(body["url"], checked, allow_private, resolve_timeout)
    if "secret" in body:
        if len(body["secret"]) < MIN_SECRET:
            raise InvalidInput("Invalid webhook", f"secret must be at least {MIN_SECRET} characters")
        values["secret"] = body["secret"]
    if "events" in body:
        values["events"] = list(dict.fromkeys(body["events"]))
    if "filters" in body:
        values["filters"] = _check_filters(body["filters"])
    if "enabled" in body:
        values["enabled"] = body["enabled"]
        if body["enabled"]:  # re-enabling starts the failure count afresh
            values.update(disabled_reason=None, consecutive_failures=0)
    conn.execute(sa.update(webhooks).where(webhooks.c.id == row["id"]).values(**values))
    return get(conn, principal, row["id"])


def delete(conn: sa.Connection, principal: Principal, webhook_id: Any) -> None:
    row = get(conn, principal, webhook_id)
    conn.execute(sa.delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == row["id"]))
    conn.execute(sa.delete(webhooks).where(webhooks.c.id == row["id"]))


def deliveries(
    conn: sa.Connection, principal: Principal, webhook_id: Any, limit: int, marker: int | None, status: str | None
) -> list[Row]:
    """The delivery log of one webhook, newest first (up to ``limit + 1`` rows: the last says more follow)."""
    row = get(conn, principal, webhook_id)
    stmt = sa.select(webhook_deliveries).where(webhook_deliveries.c.webhook_id == row["id"])
    if marker is not None:
        stmt = stmt.where(webhook_deliveries.c.id < marker)
    if status is not None:
        stmt = stmt.where(webhook_deliveries.c.status == status)
    return as_rows(conn.execute(stmt.order_by(webhook_deliveries.c.id.desc()).limit(limit + 1)).all())


def redeliver(conn: sa.Connection, principal: Principal, webhook_id: Any, delivery_id: Any) -> Row:
    """Queue a failed delivery again, same event id, with a fresh set of attempts."""
    row = get(conn, principal, webhook_id)
    wanted = kinds.integer_id(delivery_id, "Delivery", limit=2**63)
    updated = conn.execute(
        sa.update(webhook_deliveries)
        .where(
            webhook_deliveries.c.id == wanted,
            webhook_deliveries.c.webhook_id == row["id"],
            webhook_deliveries.c.status == "failed",
        )
        .values(status="pending", attempts=0, next_attempt_at=utcnow(), claimed_until=None)
    ).rowcount
    found = conn.execute(
        sa.select(webhook_deliveries).where(
            webhook_deliveries.c.id == wanted, webhook_deliveries.c.webhook_id == row["id"]
        )
    ).first()
    if found is None:
        raise NotFound.of("Delivery", delivery_id)
    if not updated:
        raise Conflict("Only a failed delivery can be redelivered", f"delivery {wanted} is {found.status}")
    return as_row(found)


# --- matching events to webhooks (called by the event pump, in its transaction) ---


def _event_keys(kind: str, payload: dict[str, Any]) -> set[str]:
    if kind == "effective-change":
        return {*(payload.get("added") or {}), *(payload.get("removed") or {}), *(payload.get("changed") or {})}
    old, new = payload.get("old"), payload.get("new")
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    return {key for key in {*old, *new} if old.get(key) != new.get(key)}


#: The resource types of devices as change records name them ("host", "network_device").
_DEVICE_TYPES = frozenset(kinds.resource_types_of("device"))


def _device_id(kind: str, payload: dict[str, Any]) -> int | None:
    if kind == "effective-change":
        return int(payload["device_id"])
    if payload.get("resource_type") in _DEVICE_TYPES and str(payload.get("resource_id", "")).isdigit():
        return int(payload["resource_id"])
    return None


# Constant statements, built once (the pump runs them every round); lists go as arrays on PostgreSQL.
_ENABLED_HOOKS = sa.select(webhooks).where(webhooks.c.project_id == sa.bindparam("project_id"), webhooks.c.enabled)
_PLACES = batches.by_dialect(
    lambda array: sa.select(devices.c.id, devices.c.cell_id, devices.c.region_id).where(
        batches.in_values(devices.c.id, "ids", array)
    )
)
_LABELS = batches.by_dialect(
    lambda array: sa.select(labels.c.device_id, labels.c.label).where(
        batches.in_values(labels.c.device_id, "ids", array)
    )
)


def _scopes(
    conn: sa.Connection, device_ids: Iterable[int], with_labels: bool
) -> dict[int, tuple[int | None, int, set[str]]]:
    """Cell, region and (``with_labels``: only a labels filter needs them) labels of every device named by a batch.

    One query, two with the labels.
    """
    ids = sorted(set(device_ids))
    if not ids:
        return {}
    array = batches.arrays(conn)
    found: dict[int, tuple[int | None, int, set[str]]] = {
        row.id: (row.cell_id, row.region_id, set()) for row in conn.execute(_PLACES[array], {"ids": ids})
    }
    if with_labels:
        for row in conn.execute(_LABELS[array], {"ids": ids}):
            found[row.device_id][2].add(row.label)
    return found


def matches(hook: Row, kind: str, payload: dict[str, Any], scope: tuple[int | None, int, set[str]] | None) -> bool:
    """Whether one event passes a webhook's event kinds and filters (all given filters must pass)."""
    if kind not in hook["events"]:
        return False
    filters: dict[str, list[Any]] = hook["filters"]
    resource_type = payload.get("device_type") if kind == "effective-change" else payload.get("resource_type")
    if "resource_types" in filters and resource_type not in filters["resource_types"]:
        if not ("device" in filters["resource_types"] and resource_type in _DEVICE_TYPES):
            return False
    if "actions" in filters and payload.get("action") not in filters["actions"]:
        return False
    if "keys" in filters or "key_prefixes" in filters:
        keys = _event_keys(kind, payload)
        exact = set(filters.get("keys", []))
        prefixes = tuple(filters.get("key_prefixes", []))
        if not any(key in exact or (prefixes and key.startswith(prefixes)) for key in keys):
            return False
    if any(name in filters for name in ("cell_ids", "region_ids", "labels")):
        if scope is None:
            return False
        cell_id, region_id, device_labels = scope
        if "cell_ids" in filters and cell_id not in filters["cell_ids"]:
            return False
        if "region_ids" in filters and region_id not in filters["region_ids"]:
            return False
        if "labels" in filters and not device_labels & set(filters["labels"]):
            return False
    return True


def enqueue_deliveries(conn: sa.Connection, project_id: str, events: Sequence[tuple[str, Any]]) -> None:
    """The event pump's subscriber: one pending delivery per matching (event, enabled webhook)."""
    hooks = as_rows(conn.execute(_ENABLED_HOOKS, {"project_id": project_id}).all())
    if not hooks or not events:
        return
    scoped = any(name in hook["filters"] for hook in hooks for name in ("cell_ids", "region_ids", "labels"))
    with_labels = any("labels" in hook["filters"] for hook in hooks)
    named = (d for kind, p in events if (d := _device_id(kind, p)) is not None)
    scopes = _scopes(conn, named, with_labels) if scoped else {}
    now = utcnow()
    rows = []
    for kind, payload in events:
        device_id = _device_id(kind, payload)
        scope = scopes.get(device_id) if device_id is not None else None
        for hook in hooks:
            if matches(hook, kind, payload, scope):
                rows.append(
                    {
                        "webhook_id": hook["id"],
                        "event_id": str(uuid.uuid4()),
                        "event_kind": kind,
                        "payload": payload,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    bulk.insert_many(conn, webhook_deliveries, rows)  # one statement of arrays on PostgreSQL
