"""Webhooks: HTTP(S) endpoints told about a project's events, and their delivery logs.

Managing webhooks needs a project admin (root: any project). The ``secret`` that signs
every delivery is in the answer of ``create`` only; later reads show ``secret_hint``.

* ``craton.webhooks.create(url=..., secret=..., events=[...], filters={...})``
* ``list()``, ``get(id)``, ``update(id, enabled=True, ...)``, ``delete(id)``
* ``deliveries(id, status="failed")``: the delivery log, newest first
* ``redeliver(id, delivery_id)``: queue a failed delivery again, with the same event id
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cratonclient import crud
from cratonclient.session import json_body

#: The kinds of events a webhook can ask for.
EVENT_KINDS = ("change", "effective-change")
#: The states of a delivery, for ``deliveries(status=...)``.
DELIVERY_STATES = ("pending", "delivering", "succeeded", "failed")


class Delivery(crud.Resource):
    """One entry of a delivery log: ``id``, ``webhook_id``, ``event_id``, ``event_kind``,
    ``status``, ``attempts``, ``response_code``, ``last_error``, ``next_attempt_at``,
    ``created_at``, ``delivered_at`` and the event's ``payload``.

    A delivery is read through its webhook (``WebhookManager.deliveries``); it has no URL of
    its own, so ``get()`` and ``delete()`` are not available.
    """

    def get(self) -> crud.Resource:
        raise AttributeError("a delivery is read through its webhook: craton.webhooks.deliveries(webhook_id)")

    def delete(self) -> bool:
        raise AttributeError("deliveries are not deleted one by one; deleting the webhook removes its log")

    def redeliver(self) -> Delivery:
        """Queue this (failed) delivery again: see ``WebhookManager.redeliver``."""
        manager: WebhookManager = self.manager  # type: ignore[assignment]
        return manager.redeliver(self.webhook_id, self.id)


class Webhook(crud.Resource):
    """A webhook: ``id``, ``project_id``, ``url``, ``events``, ``filters``, ``enabled``,
    ``disabled_reason``, ``consecutive_failures``, ``secret_hint`` (``secret`` only when
    just created), ``created_at``, ``updated_at``."""

    NAME_ATTR = "url"

    def deliveries(self, **options: Any) -> crud.Listing[Delivery]:
        """This webhook's delivery log: see ``WebhookManager.deliveries``."""
        manager: WebhookManager = self.manager  # type: ignore[assignment]
        return manager.deliveries(self.id, **options)

    def redeliver(self, delivery_id: int) -> Delivery:
        """Queue one of this webhook's failed deliveries again."""
        manager: WebhookManager = self.manager  # type: ignore[assignment]
        return manager.redeliver(self.id, delivery_id)


class WebhookManager(crud.CRUDClient):
    """``/v1/webhooks``: create, list, get, update and delete webhooks; read and retry deliveries."""

    key = "webhook"
    base_path = "/webhooks"
    resource_class = Webhook

    def create(  # type: ignore[override]
        self,
        url: str,
        secret: str,
        events: Sequence[str] | None = None,
        filters: Mapping[str, Sequence[Any]] | None = None,
        enabled: bool | None = None,
        project_id: str | None = None,
    ) -> Webhook:
        """Create a webhook; the answer (only this one) carries ``secret``.

        ``events``: some of ``change`` and ``effective-change`` (default both). ``filters``:
        ``resource_types``, ``actions``, ``keys``, ``key_prefixes``, ``cell_ids``,
        ``region_ids``, ``labels`` (see docs/webhooks.md). ``resource_types`` are named as
        events name them (``host``, ``network_device``, ``device`` for both...); the server
        reads ``network-device`` as ``network_device`` and answers the canonical spelling.
        ``project_id``: root only.
        """
        body: dict[str, Any] = {"url": url, "secret": secret}
        optional = {"events": events, "filters": filters, "enabled": enabled, "project_id": project_id}
        body.update({key: value for key, value in optional.items() if value is not None})
        created = super().create(skip_merge=True, **body)
        assert isinstance(created, Webhook)
        return created

    def deliveries(
        self,
        webhook_id: Any,
        status: str | None = None,
        autopaginate: bool = True,
        marker: int | None = None,
        limit: int | None = None,
    ) -> crud.Listing[Delivery]:
        """Lazily iterate over a webhook's delivery log, newest first.

        ``status`` (one of ``pending``, ``delivering``, ``succeeded``, ``failed``) narrows it;
        paging works as in ``list()`` (``marker`` is the id of the last delivery seen).
        """
        url = self.build_url({"webhook_id": webhook_id}) + "/deliveries"
        query = {"status": status, "marker": marker, "limit": limit}
        return self.iterate(url, "deliveries", autopaginate, query, Delivery)  # type: ignore[return-value]

    def redeliver(self, webhook_id: Any, delivery_id: int) -> Delivery:
        """Queue a ``failed`` delivery again (``POST /v1/webhooks/<id>/redeliver``).

        It keeps its event id (receivers deduplicate on it) and gets a fresh set of attempts;
        the answer is the delivery as it was before. A delivery that is not ``failed`` raises
        ``Conflict``; an unknown one ``NotFound``.
        """
        url = self.build_url({"webhook_id": webhook_id}) + "/redeliver"
        response = self.session.post(url, json={"delivery_id": int(delivery_id)})
        return Delivery(self, json_body(response), loaded=True)


__all__ = ["DELIVERY_STATES", "EVENT_KINDS", "Delivery", "Webhook", "WebhookManager"]
