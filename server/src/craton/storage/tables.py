"""The schema, as SQLAlchemy Core tables.

Alembic migrations (``migrations/versions``) create and change it; this module
is what the code queries against. Hosts and network devices share one
``devices`` table, told apart by ``kind``, because they share ids, names,
parents and labels.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from craton.storage.types import JSONText, UTCDateTime, name_type, text_type, utcnow

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MYSQL_TABLE_ARGS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
# Tables whose ids appear in the history: SQLite must never hand out an id again once its row
# is deleted (AUTOINCREMENT), or a new object would inherit the history of a deleted one.
# PostgreSQL sequences and InnoDB's persistent AUTO_INCREMENT counter never reuse ids.
ID_TABLE_ARGS: dict[str, Any] = {**MYSQL_TABLE_ARGS, "sqlite_autoincrement": True}


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
        sa.Column("updated_at", UTCDateTime(), nullable=True, onupdate=utcnow),
    ]


def _project_fk() -> sa.Column:
    return sa.Column(
        "project_id", sa.String(36), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True
    )


def _parent_fk(name: str, table: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=nullable, index=True)


projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", name_type(), nullable=True, index=True),
    *_timestamps(),
    **MYSQL_TABLE_ARGS,
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _project_fk(),
    sa.Column("username", name_type(), nullable=False),
    sa.Column("api_key_hash", sa.String(128), nullable=False),
    # During a key rotation the previous key keeps working until it expires.
    sa.Column("previous_api_key_hash", sa.String(128), nullable=True),
    sa.Column("previous_key_expires_at", UTCDateTime(), nullable=True),
    sa.Column("is_root", sa.Boolean, nullable=False, default=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    *_timestamps(),
    sa.UniqueConstraint("project_id", "username"),
    **ID_TABLE_ARGS,
)

clouds = sa.Table(
    "clouds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _project_fk(),
    sa.Column("name", name_type(), nullable=False),
    sa.Column("note", text_type(), nullable=True),
    *_timestamps(),
    sa.UniqueConstraint("project_id", "name"),
    **ID_TABLE_ARGS,
)

regions = sa.Table(
    "regions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _project_fk(),
    _parent_fk("cloud_id", "clouds"),
    sa.Column("name", name_type(), nullable=False),
    sa.Column("note", text_type(), nullable=True),
    *_timestamps(),
    sa.UniqueConstraint("cloud_id", "name"),
    **ID_TABLE_ARGS,
)

cells = sa.Table(
    "cells",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _project_fk(),
    _parent_fk("cloud_id", "clouds"),
    _parent_fk("region_id", "regions"),
    sa.Column("name", name_type(), nullable=False),
    sa.Column("note", text_type(), nullable=True),
    *_timestamps(),
    sa.UniqueConstraint("region_id", "name"),
    **ID_TABLE_ARGS,
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(20), nullable=False),
    _project_fk(),
    _parent_fk("cloud_id", "clouds"),
    _parent_fk("region_id", "regions"),
    _parent_fk("cell_id", "cells", nullable=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="RESTRICT"), nullable=True, index=True),
    sa.Column("name", name_type(), nullable=False),
    sa.Column("device_type", name_type(), nullable=False),
    sa.Column("ip_address", sa.String(64), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("note", text_type(), nullable=True),
    sa.Column("model_name", name_type(), nullable=True),
    sa.Column("os_version", name_type(), nullable=True),
    sa.Column("vlans", text_type(), nullable=True),
    *_timestamps(),
    sa.UniqueConstraint("region_id", "name"),
    sa.Index("ix_devices_kind_created_at_id", "kind", "created_at", "id"),
    sa.Index("ix_devices_project_id_created_at_id", "project_id", "created_at", "id"),
    **ID_TABLE_ARGS,
)

labels = sa.Table(
    "labels",
    metadata,
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("label", name_type(), primary_key=True),
    sa.Index("ix_labels_label_device_id", "label", "device_id"),
    **MYSQL_TABLE_ARGS,
)

networks = sa.Table(
    "networks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _project_fk(),
    _parent_fk("cloud_id", "clouds"),
    _parent_fk("region_id", "regions"),
    _parent_fk("cell_id", "cells", nullable=True),
    sa.Column("name", name_type(), nullable=False),
    sa.Column("cidr", name_type(), nullable=True),
    sa.Column("gateway", name_type(), nullable=True),
    sa.Column("netmask", name_type(), nullable=True),
    sa.Column("ip_block_type", name_type(), nullable=True),
    sa.Column("nss", name_type(), nullable=True),
    *_timestamps(),
    sa.UniqueConstraint("project_id", "region_id", "name"),
    **ID_TABLE_ARGS,
)

network_interfaces = sa.Table(
    "network_interfaces",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _project_fk(),
    _parent_fk("device_id", "devices"),
    sa.Column("network_id", sa.Integer, sa.ForeignKey("networks.id", ondelete="RESTRICT"), nullable=True, index=True),
    sa.Column("name", name_type(), nullable=False),
    sa.Column("interface_type", name_type(), nullable=False),
    sa.Column("ip_address", sa.String(64), nullable=False),
    sa.Column("vlan_id", sa.Integer, nullable=True),
    sa.Column("vlan", name_type(), nullable=True),
    sa.Column("port", sa.Integer, nullable=True),
    sa.Column("duplex", name_type(), nullable=True),
    sa.Column("speed", sa.BigInteger, nullable=True),
    sa.Column("link", name_type(), nullable=True),
    sa.Column("cdp", name_type(), nullable=True),
    sa.Column("security", name_type(), nullable=True),
    *_timestamps(),
    sa.UniqueConstraint("device_id", "name"),
    **ID_TABLE_ARGS,
)

# Variables of every owner kind live in one table so that resolution along a
# chain of owners is one query. ``owner_id`` is the owner's id as text
# (projects have UUIDs, everything else integers).
variables = sa.Table(
    "variables",
    metadata,
    sa.Column("owner_kind", sa.String(20), primary_key=True),
    sa.Column("owner_id", sa.String(36), primary_key=True),
    sa.Column("key", name_type(), primary_key=True),
    sa.Column("value", JSONText(), nullable=True),
    sa.Column("project_id", sa.String(36), nullable=False, index=True),
    *_timestamps(),
    sa.Column("updated_by", name_type(), nullable=True),
    sa.Index("ix_variables_key_owner_kind", "key", "owner_kind"),
    # SQLite: rows kept in primary-key order, an owner's variables one range scan (migration 0018).
    sqlite_with_rowid=False,
    **MYSQL_TABLE_ARGS,
)

# Masks: a key that an owner does not inherit from the owners above it. A row
# here, not a value in ``variables``, because any JSON value is legal data.
variable_masks = sa.Table(
    "variable_masks",
    metadata,
    sa.Column("owner_kind", sa.String(20), primary_key=True),
    sa.Column("owner_id", sa.String(36), primary_key=True),
    sa.Column("key", name_type(), primary_key=True),
    sa.Column("project_id", sa.String(36), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    sa.Column("updated_by", name_type(), nullable=True),
    **MYSQL_TABLE_ARGS,
)

# How each top-level variable key merges along a chain, per project; keys not
# listed use ``replace`` (the nearest level wins), Craton v1's rule.
merge_strategies = sa.Table(
    "merge_strategies",
    metadata,
    sa.Column("project_id", sa.String(36), sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", name_type(), primary_key=True),
    sa.Column("strategy", sa.String(10), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
    sa.Column("updated_by", name_type(), nullable=True),
    **MYSQL_TABLE_ARGS,
)

# Every change to the inventory, written in the same transaction as the change.
# No foreign keys: the record of a deletion outlives what was deleted.
changes = sa.Table(
    "changes",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.String(36), nullable=False),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("user_id", sa.Integer, nullable=True),
    sa.Column("username", name_type(), nullable=True),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("resource_type", sa.String(30), nullable=False),
    sa.Column("resource_id", sa.String(36), nullable=False),
    sa.Column("resource_name", name_type(), nullable=True),
    sa.Column("reason", text_type(), nullable=True),
    sa.Column("old", JSONText(), nullable=True),
    sa.Column("new", JSONText(), nullable=True),
    # A delete that a cascade caused: the id of the top-level delete's record.
    sa.Column("cascade_of", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
    sa.Index("ix_changes_resource", "resource_type", "resource_id", "id"),
    sa.Index("ix_changes_project_id_id", "project_id", "id"),
    sa.Index("ix_changes_occurred_at", "occurred_at"),
    **ID_TABLE_ARGS,
)

# Every change record also gets a row here, in the same transaction, until the event pump
# (domain/events/pump.py) has derived its effects and handed it to subscribers. Taking all
# pending rows, not "ids above a mark", is what keeps a slow transaction's change from being
# skipped: auto-increment ids can commit out of order.
event_outbox = sa.Table(
    "event_outbox",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.String(36), nullable=False),
    sa.Column("change_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # The outbox watch's MIN(created_at) (domain/events/backlog.py); migration 0017.
    sa.Index("ix_event_outbox_created_at", "created_at"),
    **ID_TABLE_ARGS,
)

# One row per background job that must run in one process at a time (the event pump): the job's
# transaction locks its row, so a second process skips the round instead of doing it twice.
event_leases = sa.Table(
    "event_leases",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    **MYSQL_TABLE_ARGS,
)

# Named locks a check-then-write takes where the database has no better one (MariaDB): the
# transaction updates the lock's row, holding it until commit (storage/locks.py).
named_locks = sa.Table(
    "named_locks",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("taken", sa.BigInteger, nullable=False, server_default="0"),
    **MYSQL_TABLE_ARGS,
)

# The effective-change feed (issue 15 §2): one row per device whose resolved variables a
# change altered. The event pump writes them under its lease, numbering them itself (max + 1),
# so ids are gap-free in commit order and a ``since`` cursor never skips one.
effective_changes = sa.Table(
    "effective_changes",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False),
    sa.Column("project_id", sa.String(36), nullable=False),
    sa.Column("change_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Column("device_type", sa.String(30), nullable=False),
    sa.Column("device_id", sa.Integer, nullable=False),
    sa.Column("device_name", name_type(), nullable=True),
    # Where the device was placed when the change was made (the feed's cell/region filters).
    sa.Column("cell_id", sa.Integer, nullable=True),
    sa.Column("region_id", sa.Integer, nullable=True),
    sa.Column("added", JSONText(), nullable=False),
    sa.Column("removed", JSONText(), nullable=False),
    sa.Column("changed", JSONText(), nullable=False),
    sa.Index("ix_effective_changes_project_id_id", "project_id", "id"),
    sa.Index("ix_effective_changes_device_id_id", "device_id", "id"),
    sa.Index("ix_effective_changes_occurred_at", "occurred_at"),
    **MYSQL_TABLE_ARGS,
)

# The keys each effective change names (added, removed or changed): the feed's ``key`` filter.
effective_change_keys = sa.Table(
    "effective_change_keys",
    metadata,
    sa.Column("key", name_type(), primary_key=True),
    sa.Column("effective_change_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Index("ix_effective_change_keys_effective_change_id", "effective_change_id"),
    **MYSQL_TABLE_ARGS,
)

# Web UI sign-ins: the cookie holds a random token, the table only its SHA-256, so a
# database dump cannot be replayed; every worker process sees the same sessions.
ui_sessions = sa.Table(
    "ui_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    # A Craton user (roles read live from ``users``), or none for a Keystone user, whose
    # name and role come from the validated token and are kept here.
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True),
    sa.Column("project_id", sa.String(36), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("username", name_type(), nullable=True),
    sa.Column("role", sa.Integer, nullable=True),
    **MYSQL_TABLE_ARGS,
)

# Rate-limit token buckets, one per API key, shared by every API process (http/ratelimit.py).
# ``bucket`` is a hash of the key's project and user; ``stamp`` is wall-clock seconds.
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("bucket", sa.String(64), primary_key=True),
    sa.Column("tokens", sa.Double(), nullable=False),
    sa.Column("stamp", sa.Double(), nullable=False),
    **MYSQL_TABLE_ARGS,
)

# Webhooks: the secret is kept as given (not hashed) because every delivery is signed
# with it (HMAC-SHA256); the API never shows it again after creation (docs/webhooks.md).
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _project_fk(),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("secret", sa.String(255), nullable=False),
    sa.Column("events", JSONText(), nullable=False),
    sa.Column("filters", JSONText(), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("disabled_reason", text_type(), nullable=True),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    *_timestamps(),
    **ID_TABLE_ARGS,
)

# One row per event and webhook, written in the transaction that produced the event;
# ``status`` pending -> delivering (claimed until ``claimed_until``) -> succeeded | failed.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("webhook_id", sa.Integer, sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("event_kind", sa.String(32), nullable=False),
    sa.Column("payload", JSONText(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("claimed_until", UTCDateTime(), nullable=True),
    sa.Column("last_error", text_type(), nullable=True),
    sa.Column("response_code", sa.Integer, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("delivered_at", UTCDateTime(), nullable=True),
    sa.Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
    sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    **ID_TABLE_ARGS,
)

for _table in (clouds, regions, cells, networks, network_interfaces, users):
    sa.Index(f"ix_{_table.name}_created_at_id", _table.c.created_at, _table.c.id)
sa.Index("ix_projects_created_at_id", projects.c.created_at, projects.c.id)
