"""The Ansible dynamic inventory, computed set-based and in bounded memory.

Hosts (and, on request, network devices) are read once; cloud, region, cell,
device-type and label groups come from a handful of queries; variables are
resolved in batches, so the number of queries grows with fleet size only by
one or two per batch of thousands of hosts, and only one batch of device
variables is held in memory at a time.

Variable keys that Ansible does not accept as variable names (spaces, dashes,
a leading digit, ``true``...) are served as stored, and listed per host and
group under ``_meta.invalid_variable_names`` so that the plugin can skip them
with a warning rather than hand Ansible a name it will refuse.
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

from craton.domain import merging, resolution
from craton.domain.devices import ANY_DEVICE, HOST, label_filter
from craton.domain.principal import Principal
from craton.domain.tenancy import visible
from craton.domain.variables import matcher
from craton.domain.vars_query import Condition
from craton.storage import variables as variable_store
from craton.storage.devices import parent_links
from craton.storage.rows import as_rows
from craton.storage.tables import cells, clouds, devices, labels, merge_strategies, projects, regions, variable_masks
from craton.storage.tables import variables as variables_table

BATCH = 2000
_INVALID = re.compile(r"[^A-Za-z0-9_]")


def group_name(text: str) -> str:
    """A valid Ansible group name: other characters become '_', no leading digit."""
    name = _INVALID.sub("_", text)
    return f"_{name}" if not name or name[0].isdigit() else name


GROUPINGS = ("cloud", "region", "cell", "label", "device_type")
DEFAULT_GROUPING = ("region", "cell", "label")
# Names Jinja gives a meaning of its own (ansible-core's validate_variable_name refuses them).
_JINJA_NAMES = frozenset({"true", "false", "none", "True", "False", "None", "not"})


def valid_variable_name(key: str) -> bool:
    """Whether Ansible accepts ``key`` as a variable name (ansible-core 2.19's rule).

    ASCII letters, digits and ``_``, not starting with a digit, and not a Jinja
    literal. Python keywords (``class``) are accepted, as Ansible does.
    """
    return key.isascii() and key.isidentifier() and key not in _JINJA_NAMES


@dataclass
class Filters:
    cloud_id: int | None = None
    region_id: int | None = None
    cell_id: int | None = None
    labels: list[str] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    network_devices: bool = False
    group_by: tuple[str, ...] = DEFAULT_GROUPING


def fingerprint(conn: sa.Connection, principal: Principal) -> str:
    """Changes whenever anything the inventory shows changes (counts and newest timestamps)."""
    parts = []
    for table in (projects, clouds, regions, cells, devices, variables_table, variable_masks, merge_strategies):
        updated = table.c.updated_at if "updated_at" in table.c else table.c.created_at
        stamp = sa.func.max(sa.func.coalesce(updated, table.c.created_at))
        scope = principal.scope(table.c.id if table is projects else table.c.project_id)
        count, newest = conn.execute(sa.select(sa.func.count(), stamp).where(scope)).one()
        parts.append(f"{table.name}:{count}:{newest}")
    label_count = conn.execute(
        sa.select(sa.func.count()).select_from(labels.join(devices)).where(principal.scope(devices.c.project_id))
    ).scalar_one()
    parts.append(f"labels:{label_count}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _hosts(conn: sa.Connection, principal: Principal, filters: Filters) -> list[Mapping[str, Any]]:
    kind = ANY_DEVICE if filters.network_devices else HOST
    stmt = visible(kind, principal)
    for column in ("cloud_id", "region_id", "cell_id"):
        value = getattr(filters, column)
        if value is not None:
            stmt = stmt.where(devices.c[column] == value)
    if filters.labels:
        stmt = stmt.where(label_filter(filters.labels))
    rows = as_rows(conn.execute(stmt.order_by(devices.c.id)).all())
    if filters.conditions:
        keep = matcher(conn, principal, kind, filters.conditions, resolved=True)
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


def _region_groups(conn: sa.Connection, region_ids: list[int], taken: set[str]) -> dict[int, str]:
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
    groups = {}
    for row in rows:
        base = group_name(row.name) if counts[group_name(row.name)] == 1 else group_name(f"{row.cloud}_{row.name}")
        groups[row.id] = _unique(base, taken, str(row.id))
    return groups


def _named_groups(conn: sa.Connection, table: sa.Table, ids: list[int], taken: set[str]) -> dict[int, str]:
    rows = conn.execute(sa.select(table.c.id, table.c.name).where(table.c.id.in_(ids)).order_by(table.c.id))
    return {row.id: _unique(group_name(row.name), taken, str(row.id)) for row in rows}


def _invalid_keys(variables: Mapping[str, Any]) -> list[str]:
    return sorted(key for key in variables if not valid_variable_name(key))


def render(
    conn: sa.Connection, principal: Principal, filters: Filters, report: dict[str, Any] | None = None
) -> Iterator[bytes]:
    """The inventory JSON as a sequence of byte fragments.

    ``report`` (if given) receives ``invalid_variable_names`` once the answer is complete.
    """
    grouping = set(filters.group_by)
    hosts = _hosts(conn, principal, filters)
    names = _hostnames(hosts)
    cloud_ids = sorted({h["cloud_id"] for h in hosts})
    region_ids = sorted({h["region_id"] for h in hosts})
    cell_ids = sorted({h["cell_id"] for h in hosts if h["cell_id"] is not None})
    taken: set[str] = set()
    cloud_group = _named_groups(conn, clouds, cloud_ids, taken) if "cloud" in grouping else {}
    # Cell groups are named after their region's group even when regions are not grouped.
    region_group = _region_groups(conn, region_ids, taken if "region" in grouping else set())
    cell_group: dict[int, str] = {}
    cell_region: dict[int, int] = {}
    cell_cloud: dict[int, int] = {}
    if "cell" in grouping:
        cell_rows = conn.execute(
            sa.select(cells.c.id, cells.c.name, cells.c.region_id, cells.c.cloud_id)
            .where(cells.c.id.in_(cell_ids))
            .order_by(cells.c.id)
        )
        for row in cell_rows:
            cell_group[row.id] = _unique(group_name(f"{region_group[row.region_id]}_{row.name}"), taken, str(row.id))
            cell_region[row.id], cell_cloud[row.id] = row.region_id, row.cloud_id
    if "region" not in grouping:
        region_group = {}
    owned = variable_store.load(
        conn,
        [("cloud", str(i)) for i in cloud_group]
        + [("region", str(i)) for i in region_group]
        + [("cell", str(i)) for i in cell_group],
    )
    strategies = _strategies(conn, hosts)
    with_masks, masked_below = _masked_below(conn, principal, hosts)
    groups: dict[str, dict[str, Any]] = {}
    group_vars: dict[str, Mapping[str, Any]] = {}
    for kind, named in (("cloud", cloud_group), ("region", region_group), ("cell", cell_group)):
        for row_id, gname in named.items():
            group_vars[gname] = _group_vars(owned, (kind, str(row_id)), masked_below)
            groups[gname] = {"hosts": [], "vars": group_vars[gname]}
            if kind != "cell":
                groups[gname]["children"] = []

    def link(parent: str, child: str) -> None:
        children = groups[parent]["children"]
        if child not in children:
            children.append(child)

    region_cloud = {h["region_id"]: h["cloud_id"] for h in hosts}
    for region_id, gname in region_group.items():
        if region_cloud[region_id] in cloud_group:
            link(cloud_group[region_cloud[region_id]], gname)
    for cell_id, gname in cell_group.items():
        if cell_region[cell_id] in region_group:
            link(region_group[cell_region[cell_id]], gname)
        elif cell_cloud[cell_id] in cloud_group:
            link(cloud_group[cell_cloud[cell_id]], gname)
    ungrouped = []
    for host in hosts:
        name = names[host["id"]]
        if host["cell_id"] in cell_group:
            groups[cell_group[host["cell_id"]]]["hosts"].append(name)
        elif host["region_id"] in region_group:
            groups[region_group[host["region_id"]]]["hosts"].append(name)
        elif host["cloud_id"] in cloud_group:
            groups[cloud_group[host["cloud_id"]]]["hosts"].append(name)
        else:
            ungrouped.append(name)
    extra_groups: list[str] = []
    if "device_type" in grouping:
        type_group: dict[str, str] = {}
        for host in sorted(hosts, key=lambda h: h["device_type"]):
            if host["device_type"] not in type_group:
                type_group[host["device_type"]] = _unique(group_name(host["device_type"]), taken, "type")
                groups[type_group[host["device_type"]]] = {"hosts": [], "vars": {}}
            groups[type_group[host["device_type"]]]["hosts"].append(names[host["id"]])
        extra_groups.extend(type_group.values())
    if "label" in grouping:
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
        extra_groups.extend(label_group.values())
    # The outermost container groups are the children of ``all``, with label and type groups.
    outermost = cloud_group or region_group or cell_group
    top = sorted([*outermost.values(), *extra_groups])
    if extra_groups and ungrouped:  # a host in a label or type group is not left over
        members = {h for g in extra_groups for h in groups[g]["hosts"]}
        ungrouped = [name for name in ungrouped if name not in members]
    yield b'{"all":' + orjson.dumps({"children": top, "hosts": sorted(ungrouped), "vars": {}})
    for gname in sorted(groups):
        group = groups[gname]
        group["hosts"] = sorted(group["hosts"])
        if "children" in group:
            group["children"] = sorted(group["children"])
        yield b"," + orjson.dumps(gname) + b":" + orjson.dumps(group, option=orjson.OPT_SORT_KEYS)
    yield b',"_meta":{"hostvars":{'
    first = True
    invalid_hosts: dict[str, list[str]] = {}
    for fragment in _hostvars(conn, hosts, names, invalid_hosts, strategies, with_masks):
        yield fragment if first else b"," + fragment
        first = False
    yield b"}"
    invalid_groups = {gname: bad for gname, values in group_vars.items() if (bad := _invalid_keys(values))}
    invalid: dict[str, Any] = {}
    if invalid_hosts or invalid_groups:
        invalid = {"hosts": invalid_hosts, "groups": invalid_groups}
        yield b',"invalid_variable_names":' + orjson.dumps(invalid, option=orjson.OPT_SORT_KEYS)
    if report is not None:
        report["invalid_variable_names"] = invalid
    yield b"}}"


def _strategies(conn: sa.Connection, hosts: list[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The non-``replace`` strategies of the hosts' projects (none: the plain nearest-wins path)."""
    declared = variable_store.load_strategies(conn, {h["project_id"] for h in hosts})
    return {project: merging.merging_only(keys) for project, keys in declared.items() if merging.merging_only(keys)}


def _masked_below(
    conn: sa.Connection, principal: Principal, hosts: list[Mapping[str, Any]]
) -> tuple[bool, dict[tuple[str, str], set[str]]]:
    """Whether any masks exist, and per cloud, region and cell the keys masked on a level below it.

    Ansible hands a group's variables to every host in the group (and its child
    groups), so a key that a host does not inherit must not come back to it
    through a cloud's, region's or cell's group variables; the hosts that do
    inherit it have it in their own variables.
    """
    scope = principal.scope(variable_masks.c.project_id)
    masks = variable_store.masks_of_kinds(conn, ("device", "cell", "region"), scope)
    if not masks:
        return variable_store.any_masks(conn, scope), {}
    parents = parent_links(conn, principal.scope(devices.c.project_id)) if any(o[0] == "device" for o in masks) else {}
    below: dict[tuple[str, str], set[str]] = defaultdict(set)
    for host in hosts:
        cloud, region = ("cloud", str(host["cloud_id"])), ("region", str(host["region_id"]))
        cell = ("cell", str(host["cell_id"])) if host["cell_id"] is not None else None
        device_keys: set[str] = set()
        device, seen = host["id"], set()
        while device is not None and device not in seen:
            seen.add(device)
            device_keys |= masks.get(("device", str(device)), set())
            device = parents.get(device)
        cell_keys = masks.get(cell, set()) if cell else set()
        for group, keys in (
            (cell, device_keys),
            (region, device_keys | cell_keys),
            (cloud, device_keys | cell_keys | masks.get(region, set())),
        ):
            if group is not None and keys:
                below[group] |= keys
    return True, below


def _group_vars(
    owned: Mapping[tuple[str, str], dict[str, Any]],
    owner: tuple[str, str],
    masked_below: Mapping[tuple[str, str], set[str]],
) -> dict[str, Any]:
    own = owned.get(owner, {})
    hidden = masked_below.get(owner)
    return {key: value for key, value in own.items() if key not in hidden} if hidden else own


def _hostvars(
    conn: sa.Connection,
    hosts: list[Mapping[str, Any]],
    names: Mapping[int, str],
    invalid: dict[str, list[str]],
    strategies: Mapping[str, Mapping[str, str]],
    with_masks: bool,
) -> Iterator[bytes]:
    """Resolved variables per host, a batch at a time; container variables are read once.

    The database hands over each owner's variables as one JSON object, so the
    Python work per host is one decode, one merge and one encode, mostly in C.
    Projects that declare no strategies and have no masks take the plain
    nearest-wins path of :func:`merging.resolve`. Keys Ansible would refuse are
    found once per owner, not once per host, and collected into ``invalid`` by
    host name.
    """
    containers: dict[tuple[str, str], dict[str, Any]] = {}
    container_invalid: dict[tuple[str, str], list[str]] = {}
    memos: dict[str, merging.Memo] = {}  # per project: what the shared tails of the chains resolve to
    container_masks: dict[tuple[str, str], set[str]] = {}
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
            container_invalid[owner] = _invalid_keys(containers[owner])
        owned = {**containers, **decoded}
        bad_keys = {**container_invalid, **{owner: _invalid_keys(values) for owner, values in decoded.items()}}
        masks: dict[tuple[str, str], set[str]] = {}
        if with_masks:
            fresh = variable_store.load_masks(conn, [o for o in wanted if o[0] == "device"] + sorted(missing))
            for owner in missing:
                container_masks[owner] = fresh.pop(owner, set())
            masks = {**container_masks, **fresh}
        for host in batch:
            chain = chains[host["id"]]
            project = host["project_id"]
            memo = memos.setdefault(project, {}) if project in strategies or masks else None
            merged = merging.resolve(chain, owned, masks, strategies.get(project), memo)
            merged.setdefault("ansible_host", host["ip_address"])
            bad = {key for owner in chain for key in bad_keys.get(owner, ())}
            if bad:
                invalid[names[host["id"]]] = sorted(bad)
            yield orjson.dumps(names[host["id"]]) + b":" + orjson.dumps(merged, option=orjson.OPT_SORT_KEYS)
