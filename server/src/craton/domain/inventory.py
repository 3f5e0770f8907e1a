"""The Ansible dynamic inventory, computed set-based and in bounded memory.

Hosts are read once; region and cell groups and labels come from a handful of
queries; host variables are resolved in batches, so the number of queries
grows with fleet size only by one or two per batch of thousands of hosts, and
only one batch of device variables is held in memory at a time.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from craton.domain import resolution
from craton.domain.devices import HOST, label_filter
from craton.domain.principal import Principal
from craton.domain.tenancy import visible
from craton.domain.variables import matcher
from craton.domain.vars_query import Condition
from craton.storage import variables as variable_store
from craton.storage.rows import as_rows
from craton.storage.tables import cells, clouds, devices, labels, projects, regions
from craton.storage.tables import variables as variables_table

BATCH = 2000
_INVALID = re.compile(r"[^A-Za-z0-9_]")


def group_name(text: str) -> str:
    """A valid Ansible group name: other characters become '_', no leading digit."""
    name = _INVALID.sub("_", text)
    return f"_{name}" if not name or name[0].isdigit() else name


@dataclass
class Filters:
    cloud_id: int | None = None
    region_id: int | None = None
    cell_id: int | None = None
    labels: list[str] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)


def fingerprint(conn: sa.Connection, principal: Principal) -> str:
    """Changes whenever anything the inventory shows changes (counts and newest timestamps)."""
    parts = []
    for table in (projects, clouds, regions, cells, devices, variables_table):
        stamp = sa.func.max(sa.func.coalesce(table.c.updated_at, table.c.created_at))
        scope = principal.scope(table.c.id if table is projects else table.c.project_id)
        count, newest = conn.execute(sa.select(sa.func.count(), stamp).where(scope)).one()
        parts.append(f"{table.name}:{count}:{newest}")
    label_count = conn.execute(
        sa.select(sa.func.count()).select_from(labels.join(devices)).where(principal.scope(devices.c.project_id))
    ).scalar_one()
    parts.append(f"labels:{label_count}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _hosts(conn: sa.Connection, principal: Principal, filters: Filters) -> list[Mapping[str, Any]]:
    stmt = visible(HOST, principal)
    for column in ("cloud_id", "region_id", "cell_id"):
        value = getattr(filters, column)
        if value is not None:
            stmt = stmt.where(devices.c[column] == value)
    if filters.labels:
        stmt = stmt.where(label_filter(filters.labels))
    rows = as_rows(conn.execute(stmt.order_by(devices.c.id)).all())
    if filters.conditions:
        keep = matcher(conn, principal, HOST, filters.conditions, resolved=True)
        rows = [row for row in rows if keep(row)]
    return rows


def _hostnames(hosts: list[Mapping[str, Any]]) -> dict[int, str]:
    """One inventory name per host, never two alike (a JSON object would keep only one of them).

    The first host (lowest id) with a name keeps it; a later host of the same name becomes
    ``<name>-<id>``, and if some host is really called that (or another later host already got
    it), ``<name>-<id>-2``, ``-3``, ... Every real name is reserved before any is made up, so a
    made-up name never takes a real host's name.
    """
    taken = {host["name"] for host in hosts}
    seen: set[str] = set()
    names = {}
    for host in hosts:
        name = host["name"]
        if name in seen:
            base = f"{name}-{host['id']}"
            name, suffix = base, 1
            while name in taken:
                suffix += 1
                name = f"{base}-{suffix}"
            taken.add(name)
        seen.add(host["name"])
        names[host["id"]] = name
    return names


RESERVED = frozenset({"all", "ungrouped", "_meta"})


def _unique(name: str, taken: set[str], qualifier: str) -> str:
    """``name``, or ``name_<qualifier>`` when another group (or Ansible itself) already uses it."""
    if name in taken or name in RESERVED:
        name = group_name(f"{name}_{qualifier}")
    taken.add(name)
    return name


def _region_groups(conn: sa.Connection, region_ids: list[int]) -> dict[int, str]:
    """Region names are unique per cloud only: qualify the ones that clash with the cloud name."""
    stmt = (
        sa.select(regions.c.id, regions.c.name, clouds.c.name.label("cloud"))
        .join(clouds, clouds.c.id == regions.c.cloud_id)
        .where(regions.c.id.in_(region_ids))
        .order_by(regions.c.id)
    )
    rows = list(conn.execute(stmt))
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[group_name(row.name)] += 1
    taken: set[str] = set()
    groups = {}
    for row in rows:
        base = group_name(row.name) if counts[group_name(row.name)] == 1 else group_name(f"{row.cloud}_{row.name}")
        groups[row.id] = _unique(base, taken, str(row.id))
    return groups


def render(conn: sa.Connection, principal: Principal, filters: Filters) -> Iterator[bytes]:
    """The inventory JSON as a sequence of byte fragments."""
    hosts = _hosts(conn, principal, filters)
    names = _hostnames(hosts)
    region_ids = sorted({h["region_id"] for h in hosts})
    cell_ids = sorted({h["cell_id"] for h in hosts if h["cell_id"] is not None})
    region_group = _region_groups(conn, region_ids)
    taken = set(region_group.values())
    cell_rows = conn.execute(
        sa.select(cells.c.id, cells.c.name, cells.c.region_id).where(cells.c.id.in_(cell_ids)).order_by(cells.c.id)
    )
    cell_group = {
        row.id: _unique(group_name(f"{region_group[row.region_id]}_{row.name}"), taken, str(row.id))
        for row in cell_rows
    }
    owned = variable_store.load(conn, [("region", str(i)) for i in region_ids] + [("cell", str(i)) for i in cell_ids])
    groups: dict[str, dict[str, Any]] = {}
    for rid, gname in region_group.items():
        groups[gname] = {"children": [], "hosts": [], "vars": owned.get(("region", str(rid)), {})}
    for cid, gname in cell_group.items():
        groups[gname] = {"hosts": [], "vars": owned.get(("cell", str(cid)), {})}
    for host in hosts:
        if host["cell_id"] is not None:
            groups[cell_group[host["cell_id"]]]["hosts"].append(names[host["id"]])
            parent = groups[region_group[host["region_id"]]]["children"]
            if cell_group[host["cell_id"]] not in parent:
                parent.append(cell_group[host["cell_id"]])
        else:
            groups[region_group[host["region_id"]]]["hosts"].append(names[host["id"]])
    label_group: dict[str, str] = {}
    host_ids = [h["id"] for h in hosts]
    for start in range(0, len(host_ids), BATCH * 5):
        chunk = host_ids[start : start + BATCH * 5]
        stmt = sa.select(labels.c.device_id, labels.c.label).where(labels.c.device_id.in_(chunk))
        for device_id, label in conn.execute(stmt.order_by(labels.c.label, labels.c.device_id)).all():
            if label not in label_group:
                label_group[label] = _unique(group_name(label), taken, "label")
                groups[label_group[label]] = {"hosts": [], "vars": {}}
            groups[label_group[label]]["hosts"].append(names[device_id])
    top = sorted([*region_group.values(), *label_group.values()])
    yield b'{"all":' + orjson.dumps({"children": top, "hosts": [], "vars": {}})
    for gname in sorted(groups):
        group = groups[gname]
        group["hosts"] = sorted(group["hosts"])
        if "children" in group:
            group["children"] = sorted(group["children"])
        yield b"," + orjson.dumps(gname) + b":" + orjson.dumps(group, option=orjson.OPT_SORT_KEYS)
    yield b',"_meta":{"hostvars":{'
    first = True
    for fragment in _hostvars(conn, hosts, names):
        yield fragment if first else b"," + fragment
        first = False
    yield b"}}}"


def _hostvars(conn: sa.Connection, hosts: list[Mapping[str, Any]], names: Mapping[int, str]) -> Iterator[bytes]:
    """Resolved variables per host, a batch at a time; container variables are read once.

    The database hands over each owner's variables as one JSON object, so the
    Python work per host is one decode, one merge and one encode, all in C.
    """
    containers: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(hosts), BATCH):
        batch = hosts[start : start + BATCH]
        parents = resolution.parent_map_for(conn, "device", batch)
        chains = {h["id"]: resolution.chain("device", h, parents) for h in batch}
        wanted = {owner for chain in chains.values() for owner in chain}
        missing = {o for o in wanted if o[0] != "device" and o not in containers}
        loaded = variable_store.load_objects(conn, [o for o in wanted if o[0] == "device"] + sorted(missing))
        decoded = {owner: orjson.loads(text) for owner, text in loaded.items()}
        for owner in missing:
            containers[owner] = decoded.pop(owner, {})
        owned = {**containers, **decoded}
        for host in batch:
            merged = resolution.merge(chains[host["id"]], owned)
            merged.setdefault("ansible_host", host["ip_address"])
            yield orjson.dumps(names[host["id"]]) + b":" + orjson.dumps(merged, option=orjson.OPT_SORT_KEYS)
