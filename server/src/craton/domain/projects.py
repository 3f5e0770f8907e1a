"""Projects: the tenants. Root creates, lists and deletes them; an admin renames its own (domain/kinds.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from craton.domain import cascade, crud, kinds, merging, tenancy, versions
from craton.domain.errors import Conflict, InvalidInput, PreconditionFailed
from craton.domain.history import recording as history
from craton.domain.kinds import Kind, Row
from craton.domain.principal import Principal
from craton.storage import locks
from craton.storage import variables as variable_store
from craton.storage.engine import savepoint
from craton.storage.tables import projects

_PROJECT_EXISTS = sa.select(projects.c.id).where(projects.c.id == sa.bindparam("project_id"))
DUPLICATE_NAME = "A project with the given name already exists."


def _check_rename(conn: sa.Connection, principal: Principal, values: dict[str, Any], existing: Row | None) -> None:
    """A rename may not take another project's name.

    Creating a project with a name already in use stays allowed, as in the original (its
    functional suite creates two ``project-0``); a rename is new, and refuses the clash.
    """
    name = values.get("name")
    if existing is None or name is None or name == existing["name"]:
        return
    # Until this transaction ends, a concurrent rename to the same name waits here, then sees
    # this one's write (storage/locks.py). No unique index: creates may duplicate names (v1).
    locks.hold(conn, locks.PROJECT_NAMES, name)
    taken = conn.execute(
        sa.select(projects.c.id).where(projects.c.name == name, projects.c.id != existing["id"]).limit(1)
    ).first()
    if taken is not None:
        raise Conflict(DUPLICATE_NAME, f"Another project is already named {name!r}.")


def _create(
    conn: sa.Connection, principal: Principal, kind: Kind, values: dict[str, Any], variables: dict[str, Any] | None
) -> Row:
    """A project's create: its id is made here unless the caller brings one."""
    return create_project(conn, principal, values["name"], variables, values.get("id"))


def _delete(conn: sa.Connection, principal: Principal, _: Kind, row_id: Any, preview: bool) -> dict[str, int]:
    return delete_project(conn, principal, row_id, preview)


KIND = Kind(kinds.PROJECT, check_references=_check_rename, create=_create, delete=_delete)


def parse_uuid(value: Any) -> str | None:
    """The dashed lower-case form of a UUID-like value, or None."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def create_project(
    conn: sa.Connection,
    principal: Principal,
    name: str,
    variables: dict[str, Any] | None = None,
    project_id: str | None = None,
) -> Row:
    values = {"id": project_id or str(uuid.uuid4()), "name": name}
    return crud.create(conn, principal, KIND, values, variables)


def delete_project(conn: sa.Connection, principal: Principal, project_id: Any, preview: bool = False) -> dict[str, int]:
    """Delete a project and everything in it, variables included."""
    row = crud.get(conn, principal, KIND, project_id, lock=not preview, action="delete")
    return cascade.delete(conn, principal, "project", row, "The project is still referenced.", preview)


def ensure_project_exists(conn: sa.Connection, project_id: str, name: str | None) -> bool:
    """Create the project on its first use if missing, with system rights (Keystone). True if created.

    The usual case costs one primary-key lookup. Only a missing project is inserted, inside
    a savepoint (or alone, in autocommit), so that a concurrent first request winning the
    insert cannot abort this request's transaction: the project exists either way.
    """
    if conn.execute(_PROJECT_EXISTS, {"project_id": project_id}).first() is not None:
        return False
    try:
        with savepoint(conn):
            return ensure_project(conn, project_id, name)
    except sa.exc.IntegrityError:
        return False  # a concurrent request created it


def ensure_project(conn: sa.Connection, project_id: str, name: str | None) -> bool:
    """Create the project if missing, with system rights (bootstrap, Keystone). True if created."""
    if conn.execute(sa.select(projects.c.id).where(projects.c.id == project_id)).first() is not None:
        return False
    conn.execute(sa.insert(projects).values(id=project_id, name=name))
    return True


def merge_strategies(conn: sa.Connection, principal: Principal, project_id: Any) -> dict[str, str]:
    """The project's declared strategy per variable key (keys not listed use ``replace``)."""
    row = tenancy.get(conn, principal, KIND, project_id)
    return variable_store.load_strategies(conn, [row["id"]]).get(row["id"], {})


def changed_strategy_keys(conn: sa.Connection, project_id: Any, strategies: Mapping[str, Any]) -> set[str]:
    """The keys whose strategy ``strategies`` would change (a key not declared is ``replace``).

    Only those keys' resolved values can change: what a preview of the declaration resolves.
    """
    current = variable_store.load_strategies(conn, [str(project_id)]).get(str(project_id), {})
    return {
        key
        for key in current.keys() | strategies.keys()
        if current.get(key, merging.REPLACE) != strategies.get(key, merging.REPLACE)
    }


def set_merge_strategies(
    conn: sa.Connection,
    principal: Principal,
    project_id: Any,
    strategies: dict[str, str],
    if_match: str | None = None,
) -> dict[str, str]:
    """Replace the project's whole declaration; recorded in the history so that past reads resolve as they did.

    ``if_match`` is compared with the locked row: stale is a 412 and nothing changes.
    """
    row = tenancy.get(conn, principal, KIND, project_id, lock=True)  # concurrent declarations queue here
    if if_match and not versions.matches(KIND, row, if_match):
        raise PreconditionFailed(versions.STALE)
    unknown = sorted({value for value in strategies.values() if value not in merging.STRATEGIES})
    if unknown:
        raise InvalidInput(
            f"Unknown merge strategy {unknown[0]!r}: use one of {', '.join(merging.STRATEGIES)}.",
        )
    versions.touch(conn, principal, KIND, row["id"])
    before = variable_store.load_strategies(conn, [row["id"]]).get(row["id"], {})
    variable_store.replace_strategies(conn, row["id"], strategies, principal.username, principal.acted_at)
    if before != strategies:
        history.record(conn, principal, "merge_strategies", KIND.resource_type, row, old=before, new=strategies)
    return dict(sorted(strategies.items()))
