"""Reading and writing variables; one table serves every owner kind."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from craton.storage import batches, bulk
from craton.storage.inserts import row_values, rows_write
from craton.storage.owners import OwnerRef
from craton.storage.prepared import Prepared, Write
from craton.storage.tables import merge_strategies, variable_masks, variables
from craton.storage.types import utcnow

_CHUNK = 2000


@functools.lru_cache(maxsize=256)
def _by_owner_kinds(
    kinds: tuple[tuple[str, bool], ...], columns: tuple[str, ...], table: sa.Table = variables, array: bool = False
) -> sa.Select[Any]:
    """``owner_kind = k AND owner_id IN (...)`` per kind: an index range scan on every backend.

    (A row-value ``(kind, id) IN (...)`` list is not turned into index lookups by PostgreSQL.)
    A kind with a single owner, the common case of a single-object read, compares with
    ``=``: an expanding ``IN`` is rendered anew on every execution. ``array``: the lists
    go as arrays (PostgreSQL, ``batches.in_values``).
    """
    selected = [_COLUMNS[name] for name in columns] if table is variables else [table.c[name] for name in columns]
    return sa.select(*selected).where(
        sa.or_(
            *(
                sa.and_(
                    table.c.owner_kind == kind,
                    table.c.owner_id == sa.bindparam(f"ids_{kind}")
                    if single
                    else batches.in_values(table.c.owner_id, f"ids_{kind}", array),
                )
                for kind, single in kinds
            )
        )
    )


_COLUMNS = {
    "owner_kind": variables.c.owner_kind,
    "owner_id": variables.c.owner_id,
    "key": variables.c.key,
    "value": variables.c.value,
    "raw": sa.type_coerce(variables.c.value, sa.Text).label("raw"),
    "set_at": sa.func.coalesce(variables.c.updated_at, variables.c.created_at).label("set_at"),
    "updated_by": variables.c.updated_by,
}


def _chunks(owners: Iterable[OwnerRef]) -> Iterator[tuple[tuple[tuple[str, bool], ...], dict[str, Any]]]:
    """The owners by kind, a chunk of ids at a time: the statement's shape and its parameters."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, owner_id in sorted(set(owners)):
        by_kind[kind].append(owner_id)
    for start in range(0, max((len(ids) for ids in by_kind.values()), default=0), _CHUNK):
        chunk = {kind: ids[start : start + _CHUNK] for kind, ids in by_kind.items()}
        chunk = {kind: ids for kind, ids in chunk.items() if ids}
        shape = tuple((kind, len(chunk[kind]) == 1) for kind in sorted(chunk))
        yield shape, {f"ids_{kind}": ids[0] if len(ids) == 1 else ids for kind, ids in chunk.items()}


def _select_owned(
    conn: sa.Connection,
    owners: Iterable[OwnerRef],
    columns: tuple[str, ...],
    per_owner: sa.ColumnElement[Any] | None = None,
) -> Iterator[Any]:
    """Rows of ``columns`` for the given owners, a chunk of ids at a time.

    With ``per_owner``, an aggregate, the rows are grouped by owner instead.
    """
    for shape, params in _chunks(owners):
        stmt = _by_owner_kinds(shape, columns)
        if per_owner is not None:
            stmt = stmt.add_columns(per_owner).group_by(variables.c.owner_kind, variables.c.owner_id)
        yield from conn.execute(stmt, params).all()


def load(conn: sa.Connection, owners: Iterable[OwnerRef]) -> dict[OwnerRef, dict[str, Any]]:
    """All variables of the given owners: one query for a page-sized set."""
    result: dict[OwnerRef, dict[str, Any]] = defaultdict(dict)
    for kind, owner_id, key, value in _select_owned(conn, owners, ("owner_kind", "owner_id", "key", "value")):
        result[(kind, owner_id)][key] = value
    return result


def _object_aggregate(dialect: str) -> sa.ColumnElement[str] | None:
    """The owner's variables as one JSON object, built by the database, where that is safe.

    MariaDB's JSON_OBJECTAGG and GROUP_CONCAT cut their result at
    ``group_concat_max_len``, so there the object is put together in Python.
    """
    if dialect == "sqlite":
        return sa.func.json_group_object(variables.c.key, sa.func.json(variables.c.value))
    if dialect == "postgresql":
        value = sa.cast(sa.type_coerce(variables.c.value, sa.Text), postgresql.JSON)
        return sa.cast(sa.func.json_object_agg(variables.c.key, value), sa.Text)
    return None


def load_objects(conn: sa.Connection, owners: Iterable[OwnerRef]) -> dict[OwnerRef, str]:
    """Each owner's variables as the text of one JSON object (owners without any are left out).

    For bulk readers such as the inventory: one row per owner instead of one per
    variable leaves the per-variable work to the database, and the text decodes in C.
    """
    aggregate = _object_aggregate(conn.dialect.name)
    if aggregate is None:
        members: dict[OwnerRef, list[str]] = defaultdict(list)
        for kind, owner_id, key, raw in _select_owned(conn, owners, ("owner_kind", "owner_id", "key", "raw")):
            members[(kind, owner_id)].append(f"{orjson.dumps(key).decode()}:{raw}")
        return {owner: "{" + ",".join(parts) + "}" for owner, parts in members.items()}
    rows = _select_owned(conn, owners, ("owner_kind", "owner_id"), per_owner=aggregate)
    return {(kind, owner_id): text for kind, owner_id, text in rows}


def objects_in_key_order(conn: sa.Connection, kind: str, owner_ids: Sequence[str]) -> dict[str, str]:
    """Each owner's variables as the text of one JSON object whose keys are in code point order.

    For the fleet export, which writes the text as it is (JSON) and must list keys
    sorted: the object is put together by the database where that is safe (see
    :func:`_object_aggregate`), a fixed-size batch of owners per statement.
    """
    found: dict[str, str] = {}
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        members: dict[str, list[tuple[str, str]]] = defaultdict(list)
        rows = batches.select_in(conn, "variables-raw", _raw_of_kind, variables.c.owner_id, owner_ids, {"kind": kind})
        for owner_id, key, raw in rows:
            members[owner_id].append((key, raw))
        for owner_id, pairs in members.items():
            found[owner_id] = "{" + ",".join(f"{orjson.dumps(key).decode()}:{raw}" for key, raw in sorted(pairs)) + "}"
        return found
    build = _sqlite_objects_of_kind if dialect == "sqlite" else _postgresql_objects_of_kind
    rows = batches.select_in(
        conn, f"variables-objects-{dialect}", build, variables.c.owner_id, owner_ids, {"kind": kind}
    )
    return {owner_id: text for owner_id, text in rows}


def _raw_of_kind(owned: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(variables.c.owner_id, variables.c.key, _COLUMNS["raw"]).where(
        variables.c.owner_kind == sa.bindparam("kind"), owned
    )


def _sqlite_objects_of_kind(owned: sa.ColumnElement[bool]) -> sa.Select[Any]:
    # Grouped by the primary key's prefix, the rows reach the aggregate in the index's
    # order, keys sorted (BINARY: code point order); the stored text is valid JSON already.
    member = sa.func.json_quote(variables.c.key).op("||")(":").op("||")(_COLUMNS["raw"])
    return (
        sa.select(
            variables.c.owner_id,
            sa.literal_column("'{'").op("||")(sa.func.group_concat(member, ",")).op("||")(sa.literal_column("'}'")),
        )
        .where(variables.c.owner_kind == sa.bindparam("kind"), owned)
        .group_by(variables.c.owner_kind, variables.c.owner_id)
    )


def _postgresql_objects_of_kind(owned: sa.ColumnElement[bool]) -> sa.Select[Any]:
    aggregate: sa.ColumnElement[str] = sa.literal_column(
        "'{' || string_agg(CAST(to_json(variables.key) AS TEXT) || ':' || variables.value, ','"
        " ORDER BY variables.key COLLATE \"C\") || '}'"
    )
    return (
        sa.select(variables.c.owner_id, aggregate)
        .where(variables.c.owner_kind == sa.bindparam("kind"), owned)
        .group_by(variables.c.owner_id)
    )


def masks_in_batches(conn: sa.Connection, kind: str, owner_ids: Sequence[str]) -> dict[str, list[str]]:
    """The masked keys of each owner of ``kind``, sorted (owners without masks are left out)."""
    found: dict[str, list[str]] = defaultdict(list)
    build = lambda owned: sa.select(variable_masks.c.owner_id, variable_masks.c.key).where(  # noqa: E731
        variable_masks.c.owner_kind == sa.bindparam("kind"), owned
    )
    rows = batches.select_in(conn, "masks-of-kind", build, variable_masks.c.owner_id, owner_ids, {"kind": kind})
    for owner_id, key in rows:
        found[owner_id].append(key)
    return {owner_id: sorted(keys) for owner_id, keys in found.items()}


def load_detailed(conn: sa.Connection, owners: Iterable[OwnerRef]) -> dict[OwnerRef, dict[str, dict[str, Any]]]:
    """Like :func:`load`, with when and by whom each value was last set."""
    result: dict[OwnerRef, dict[str, dict[str, Any]]] = defaultdict(dict)
    columns = ("owner_kind", "owner_id", "key", "value", "set_at", "updated_by")
    for row in _select_owned(conn, owners, columns):
        result[(row.owner_kind, row.owner_id)][row.key] = {
            "value": row.value,
            "set_at": row.set_at,
            "set_by": row.updated_by,
        }
    return result


def load_selected(conn: sa.Connection, kind: str, owner_ids: sa.Select[Any]) -> dict[OwnerRef, dict[str, Any]]:
    """All variables of the owners of ``kind`` whose ids (as text) the subquery yields, in one query.

    For a whole subtree (a cascade delete): the database joins, instead of a
    list of ids sent in chunks.
    """
    stmt = sa.select(variables.c.owner_id, variables.c.key, variables.c.value).where(
        variables.c.owner_kind == kind, variables.c.owner_id.in_(owner_ids)
    )
    result: dict[OwnerRef, dict[str, Any]] = defaultdict(dict)
    for owner_id, key, value in conn.execute(stmt):
        result[(kind, owner_id)][key] = value
    return result


def load_own(conn: sa.Connection, owner: OwnerRef) -> dict[str, Any]:
    return dict(load(conn, [owner]).get(owner, {}))


def rows_with_keys(
    conn: sa.Connection, keys: Iterable[str], owner_kinds: Iterable[str], project_filter: sa.ColumnElement[bool]
) -> list[tuple[str, str, str, Any]]:
    """(key, owner kind, owner id, value) of every variable named in ``keys`` on the given kinds: one query."""
    stmt = sa.select(variables.c.key, variables.c.owner_kind, variables.c.owner_id, variables.c.value).where(
        variables.c.key.in_(sorted(set(keys))), variables.c.owner_kind.in_(sorted(owner_kinds)), project_filter
    )
    return [tuple(row) for row in conn.execute(stmt).all()]


def upsert(
    conn: sa.Connection,
    owner: OwnerRef,
    project_id: str,
    values: Mapping[str, Any],
    username: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Create or overwrite each key atomically; keys not given are kept."""
    if values:
        upsert_write(conn.dialect.name, owner, project_id, values, username, at).run(conn)


def upsert_write(
    dialect: str,
    owner: OwnerRef,
    project_id: str,
    values: Mapping[str, Any],
    username: str | None = None,
    at: dt.datetime | None = None,
) -> Write:
    """:func:`upsert` as a Write not yet sent (a write's history record can carry it: storage/prepared.py).

    Each key is its own ``INSERT ... ON CONFLICT DO UPDATE`` row, atomic per key as before.
    On PostgreSQL the keys go in one multi-row statement (compiled once per key count):
    measured cheaper than psycopg's executemany of the one-row statement, which was itself
    cheaper than ``upsert_many``'s unnest of arrays (0.7 against 1.0 ms per two-key write).
    """
    kind, owner_id = owner
    shared = {
        "owner_kind": kind,
        "owner_id": owner_id,
        "project_id": project_id,
        "created_at": at or utcnow(),
        "updated_by": username,
    }
    rows = [{"key": key, "value": value} for key, value in values.items()]
    return rows_write(dialect, _upsert_prepared(dialect), _pg_upsert_rows, "variable_", shared, rows)


@functools.lru_cache(maxsize=64)
def _pg_upsert_rows(count: int) -> Prepared:
    """PostgreSQL: :func:`_upsert_statement` of ``count`` rows, compiled once per count."""
    shared = ("owner_kind", "owner_id", "project_id", "created_at", "updated_by")
    by_key = postgresql.insert(variables).values(row_values(variables, "variable_", shared, ("key", "value"), count))
    return Prepared(
        by_key.on_conflict_do_update(
            index_elements=[variables.c.owner_kind, variables.c.owner_id, variables.c.key],
            set_={
                "value": by_key.excluded.value,
                "updated_at": by_key.excluded.created_at,
                "updated_by": by_key.excluded.updated_by,
            },
        )
    )


def upsert_many(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Create or overwrite many variables of many owners: one batch (rows as :func:`upsert` builds them)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        bulk.insert_many(conn, variables, rows, on_conflict=_PG_UPSERT)
    else:
        _upsert_prepared(conn.dialect.name).run_many(conn, rows)


_PG_UPSERT = (
    "ON CONFLICT (owner_kind, owner_id, key) DO UPDATE SET value = EXCLUDED.value, "
    "updated_at = EXCLUDED.created_at, updated_by = EXCLUDED.updated_by"
)


_UPSERT_COLUMNS = ("owner_kind", "owner_id", "key", "value", "project_id", "created_at", "updated_by")


@functools.lru_cache(maxsize=4)
def _upsert_prepared(dialect: str) -> Prepared:
    """:func:`_upsert_statement` compiled once, for the single-object write (storage/prepared.py)."""
    return Prepared(_upsert_statement(dialect), column_keys=_UPSERT_COLUMNS)


@functools.lru_cache(maxsize=4)
def _upsert_statement(dialect: str) -> sa.Insert:
    """One row's "insert or overwrite", built once per dialect and run with every row's parameters.

    A constant statement is compiled once and then found in SQLAlchemy's cache; a
    multi-row ``VALUES`` built per request was compiled anew every time (profiled: a
    third of a variables write). The drivers send the rows in one batch. The conflict
    branch copies ``created_at`` of the would-be row into ``updated_at`` so that it
    carries no extra parameter.
    """
    if dialect in ("mysql", "mariadb"):
        by_key = mysql.insert(variables)
        return by_key.on_duplicate_key_update(
            value=by_key.inserted.value,
            updated_at=by_key.inserted.created_at,
            updated_by=by_key.inserted.updated_by,
        )
    on_conflict = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(variables)
    return on_conflict.on_conflict_do_update(
        index_elements=[variables.c.owner_kind, variables.c.owner_id, variables.c.key],
        set_={
            "value": on_conflict.excluded.value,
            "updated_at": on_conflict.excluded.created_at,
            "updated_by": on_conflict.excluded.updated_by,
        },
    )


def delete_keys(conn: sa.Connection, owner: OwnerRef, keys: Iterable[str]) -> None:
    keys = list(keys)
    if keys:
        kind, owner_id = owner
        conn.execute(
            sa.delete(variables).where(
                variables.c.owner_kind == kind, variables.c.owner_id == owner_id, variables.c.key.in_(keys)
            )
        )


# ---------------------------------------------------------------- masks and merge strategies

_VARIABLE, _MASK, _STRATEGY = 0, 1, 2


@functools.lru_cache(maxsize=256)
def _resolution_inputs(
    kinds: tuple[tuple[str, bool], ...], projects: int, keyed: bool = False, array: bool = False
) -> sa.CompoundSelect[Any]:
    """Variables and masks of the owners, strategies of the projects (none, one, several): one round trip.

    Rows are ``(source, owner_kind, owner_id, key, value)``; a strategy row carries
    the strategy in ``owner_kind`` and the project in ``owner_id``. ``keyed``: only the
    rows of the keys bound as ``keys`` (the database filters, so the other keys' rows
    are neither sent nor decoded). ``array``: lists go as arrays (PostgreSQL, ``batches.in_values``).
    """
    owned = _by_owner_kinds(kinds, ("owner_kind", "owner_id", "key", "value"), array=array)
    masked = _by_owner_kinds(kinds, ("owner_kind", "owner_id", "key"), variable_masks, array)
    project = (
        merge_strategies.c.project_id == sa.bindparam("projects")
        if projects == 1
        else batches.in_values(merge_strategies.c.project_id, "projects", array)
    )
    if keyed:
        owned = owned.where(batches.in_values(variables.c.key, "keys", array))
        masked = masked.where(batches.in_values(variable_masks.c.key, "keys", array))
        project = sa.and_(project, batches.in_values(merge_strategies.c.key, "keys", array))
    parts = [
        owned.add_columns(sa.literal(_VARIABLE).label("source")),
        masked.add_columns(sa.null().label("value"), sa.literal(_MASK).label("source")),
    ]
    if not projects:
        return sa.union_all(*parts)
    return sa.union_all(
        *parts,
        sa.select(
            merge_strategies.c.strategy,
            merge_strategies.c.project_id,
            merge_strategies.c.key,
            sa.null(),
            sa.literal(_STRATEGY),
        ).where(project, merge_strategies.c.strategy != "replace"),
    )


def load_for_resolution(
    conn: sa.Connection,
    owners: Iterable[OwnerRef],
    project_ids: Iterable[str],
    keys: Collection[str] | None = None,
) -> tuple[dict[OwnerRef, dict[str, Any]], dict[OwnerRef, set[str]], dict[str, dict[str, str]]]:
    """Everything resolution needs: each owner's variables and masks, each project's non-``replace`` strategies.

    One query for a page-sized set of owners (more only past a few thousand owners).
    With ``keys``, only those keys' variables, masks and strategies are read (each key
    resolves on its own, so their resolved values are those of a full read).
    """
    owned: dict[OwnerRef, dict[str, Any]] = defaultdict(dict)
    masks: dict[OwnerRef, set[str]] = defaultdict(set)
    strategies: dict[str, dict[str, str]] = defaultdict(dict)
    projects = sorted(set(project_ids))
    wanted = sorted(set(keys)) if keys is not None else None
    if wanted is not None and not wanted:
        return owned, masks, strategies
    first = True
    array = batches.arrays(conn)
    for shape, params in _chunks(owners):
        # strategies come with the first chunk
        stmt = _resolution_inputs(shape, min(len(projects), 2) if first else 0, wanted is not None, array)
        if first and projects:
            params["projects"] = projects[0] if len(projects) == 1 else projects
        if wanted is not None:
            params["keys"] = wanted
        for kind, owner_id, key, value, source in conn.execute(stmt, params).all():
            if source == _VARIABLE:
                owned[(kind, owner_id)][key] = value
            elif source == _MASK:
                masks[(kind, owner_id)].add(key)
            else:
                strategies[owner_id][key] = kind
        first = False
    return owned, masks, strategies


def load_masks(conn: sa.Connection, owners: Iterable[OwnerRef]) -> dict[OwnerRef, set[str]]:
    """The masked keys of each of the given owners (owners without masks are left out)."""
    masks: dict[OwnerRef, set[str]] = defaultdict(set)
    for shape, params in _chunks(owners):
        stmt = _by_owner_kinds(shape, ("owner_kind", "owner_id", "key"), variable_masks)
        for kind, owner_id, key in conn.execute(stmt, params).all():
            masks[(kind, owner_id)].add(key)
    return masks


# One owner's masks and a masks write (PUT .../variables/masks): compiled once (storage/prepared.py).
_MASKS_OF_ONE = Prepared(
    sa.select(variable_masks.c.key).where(
        variable_masks.c.owner_kind == sa.bindparam("kind"), variable_masks.c.owner_id == sa.bindparam("owner_id")
    )
)
_MASK_INSERT = Prepared(
    sa.insert(variable_masks),
    column_keys=("owner_kind", "owner_id", "key", "project_id", "created_at", "updated_by"),
)


def masks_of(conn: sa.Connection, owner: OwnerRef) -> list[str]:
    """One owner's masked keys, sorted."""
    return sorted(key for (key,) in _MASKS_OF_ONE.all(conn, {"kind": owner[0], "owner_id": owner[1]}))


@functools.lru_cache(maxsize=16)
def _own_with_masks(kind: str) -> Prepared:
    """:func:`_resolution_inputs` of one owner without strategies, compiled once per kind (storage/prepared.py)."""
    return Prepared(_resolution_inputs(((kind, True),), 0))


def own_with_masks(conn: sa.Connection, owner: OwnerRef) -> tuple[dict[str, Any], list[str]]:
    """One owner's own variables and the keys it masks, in one query (a write answers with both)."""
    kind, owner_id = owner
    owned: dict[str, Any] = {}
    masks: list[str] = []
    for _kind, _owner_id, key, value, source in _own_with_masks(kind).all(conn, {f"ids_{kind}": owner_id}):
        if source == _VARIABLE:
            owned[key] = value
        else:
            masks.append(key)
    return owned, sorted(masks)


def masks_with_keys(
    conn: sa.Connection, keys: Iterable[str], owner_kinds: Iterable[str], project_filter: sa.ColumnElement[bool]
) -> dict[OwnerRef, set[str]]:
    """Masks of any of ``keys`` on owners of the given kinds: one query."""
    stmt = sa.select(variable_masks.c.owner_kind, variable_masks.c.owner_id, variable_masks.c.key).where(
        variable_masks.c.key.in_(sorted(set(keys))),
        variable_masks.c.owner_kind.in_(sorted(owner_kinds)),
        project_filter,
    )
    masks: dict[OwnerRef, set[str]] = defaultdict(set)
    for kind, owner_id, key in conn.execute(stmt).all():
        masks[(kind, owner_id)].add(key)
    return masks


def strategies_with_keys(
    conn: sa.Connection, keys: Iterable[str], project_filter: sa.ColumnElement[bool]
) -> dict[str, dict[str, str]]:
    """Non-``replace`` strategies of any of ``keys``, per project: one query."""
    stmt = sa.select(merge_strategies.c.project_id, merge_strategies.c.key, merge_strategies.c.strategy).where(
        merge_strategies.c.key.in_(sorted(set(keys))), merge_strategies.c.strategy != "replace", project_filter
    )
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for project_id, key, strategy in conn.execute(stmt).all():
        result[project_id][key] = strategy
    return result


def masks_of_kinds(
    conn: sa.Connection, owner_kinds: Iterable[str], project_filter: sa.ColumnElement[bool]
) -> dict[OwnerRef, set[str]]:
    """Every mask on owners of the given kinds: one query."""
    stmt = sa.select(variable_masks.c.owner_kind, variable_masks.c.owner_id, variable_masks.c.key).where(
        variable_masks.c.owner_kind.in_(sorted(owner_kinds)), project_filter
    )
    masks: dict[OwnerRef, set[str]] = defaultdict(set)
    for kind, owner_id, key in conn.execute(stmt).all():
        masks[(kind, owner_id)].add(key)
    return masks


def any_masks(conn: sa.Connection, project_filter: sa.ColumnElement[bool]) -> bool:
    return conn.execute(sa.select(variable_masks.c.key).where(project_filter).limit(1)).first() is not None


def add_masks(
    conn: sa.Connection,
    owner: OwnerRef,
    project_id: str,
    keys: Iterable[str],
    username: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Mask the keys not masked yet (the caller has read the current ones, under the owner's lock)."""
    rows = [
        {
            "owner_kind": owner[0],
            "owner_id": owner[1],
            "key": key,
            "project_id": project_id,
            "created_at": at or utcnow(),
            "updated_by": username,
        }
        for key in sorted(set(keys))
    ]
    _MASK_INSERT.run_many(conn, rows)


def delete_masks(conn: sa.Connection, owner: OwnerRef, keys: Iterable[str]) -> None:
    keys = sorted(set(keys))
    if keys:
        conn.execute(
            sa.delete(variable_masks).where(
                variable_masks.c.owner_kind == owner[0],
                variable_masks.c.owner_id == owner[1],
                variable_masks.c.key.in_(keys),
            )
        )


def load_strategies(conn: sa.Connection, project_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each project's declared strategies, ``replace`` entries included."""
    stmt = sa.select(merge_strategies.c.project_id, merge_strategies.c.key, merge_strategies.c.strategy).where(
        merge_strategies.c.project_id.in_(sorted(set(project_ids)))
    )
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for project_id, key, strategy in conn.execute(stmt).all():
        result[project_id][key] = strategy
    return result


def replace_strategies(
    conn: sa.Connection,
    project_id: str,
    strategies: Mapping[str, str],
    username: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Make ``strategies`` the project's whole declaration."""
    conn.execute(sa.delete(merge_strategies).where(merge_strategies.c.project_id == project_id))
    rows = [
        {
            "project_id": project_id,
            "key": key,
            "strategy": strategy,
            "created_at": at or utcnow(),
            "updated_by": username,
        }
        for key, strategy in sorted(strategies.items())
    ]
    if rows:
        conn.execute(sa.insert(merge_strategies), rows)


def delete_owned_by(conn: sa.Connection, kind: str, owner_ids: sa.Select[Any] | list[str]) -> None:
    """Remove every variable of the owners of ``kind`` whose ids the subquery (as text) yields."""
    for table in (variables, variable_masks):
        conn.execute(sa.delete(table).where(table.c.owner_kind == kind, table.c.owner_id.in_(owner_ids)))


def delete_project(conn: sa.Connection, project_id: str) -> None:
    for table in (variables, variable_masks, merge_strategies):
        conn.execute(sa.delete(table).where(table.c.project_id == project_id))
