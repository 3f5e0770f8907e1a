"""Constant hot statements, compiled once per dialect and run on the driver's cursor.

The statements of a single-object write (authentication, the owner's lock and version,
its variables, the upsert, the history record and its outbox row, labels) never change
shape; only their parameters do. ``Connection.execute`` still spends, on every call,
about as much CPU as the database does on the statement: cache-key generation and
lookup, an execution context, parameter processing and a result object
(docs/performance.md, "Fast writes", third round). A :class:`Prepared` statement does
that work once per dialect: it compiles the statement to SQL text, the order of its
parameters and the bind and result processors of their types, then runs it on the
DBAPI cursor of the caller's connection, inside the caller's transaction.

What stays as with ``Connection.execute``:

* **Types**: every parameter goes through its type's bind processor and every result
  column through its result processor, as SQLAlchemy would (``UTCDateTime``, ``JSONText``,
  booleans and datetimes on SQLite ...), from the same compiled statement.
* **Errors**: a driver error goes through ``Connection._handle_dbapi_exception``, the path
  of every SQLAlchemy execution: it is wrapped in ``sa.exc.DBAPIError`` (``IntegrityError``,
  ``OperationalError`` ...), a dropped connection is invalidated, and the parameters stay
  out of the message (``hide_parameters``). ``storage/engine.py``'s retries see the same
  exceptions.
* **Events and logging**: ``before_cursor_execute`` and ``after_cursor_execute`` listeners
  see each statement (the query-count tests count them), ``echo`` logs them.
* **Transactions**: the statement runs on the connection the caller's transaction
  holds; a connection without one begins it first, as SQLAlchemy's autobegin does.

Use it for constant statements on hot paths only (built once, at import or in an
``lru_cache``): ``Prepared(statement)``, then ``.first()``, ``.all()``, ``.mappings()``, ``.scalar()``,
``.run()``, ``.run_many()`` or ``.insert()``. Not supported, and refused when the statement is
prepared: expanding (``IN``) and literal-execute parameters, and Python-side column
defaults the caller does not supply (``column_keys`` names the columns an ``INSERT``
or ``UPDATE`` without ``.values()`` sets).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any]
_MISSING = object()


@dataclass
class _Plan:
    """One statement compiled for one dialect."""

    sql: str
    #: Per parameter sent, in the driver's order: (caller's key, driver's key, bind processor, default).
    binds: tuple[tuple[str, str, Processor | None, Any], ...]
    positional: bool
    #: Result column names and types; processors are taken on the first answer (they may depend on its types).
    keys: tuple[str, ...]
    types: tuple[sa.types.TypeEngine[Any], ...]
    #: (column index, result processor) of the columns that have one.
    processors: tuple[tuple[int, Processor], ...] | None = field(default=None)


class Prepared:
    """A constant statement compiled once per dialect and executed below ``Connection.execute``."""

    __slots__ = ("statement", "column_keys", "_plans", "_last", "_returning_id", "__weakref__")

    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._plans: weakref.WeakKeyDictionary[sa.Dialect, _Plan] = weakref.WeakKeyDictionary()
        # The dialect used last and its plan (a service has one engine): found without a lookup.
        self._last: tuple[sa.Dialect | None, _Plan | None] = (None, None)
        self._returning_id: Prepared | None = None

    def plan(self, dialect: sa.Dialect) -> _Plan:
        """The statement compiled for ``dialect`` (once; later calls find it)."""
        last_dialect, last_plan = self._last
        if last_dialect is dialect and last_plan is not None:
            return last_plan
        found = self._plans.get(dialect)
        if found is None:
            found = self._plans[dialect] = self._compile(dialect)
        self._last = (dialect, found)
        return found

    def _compile(self, dialect: sa.Dialect) -> _Plan:
        compiled: Any = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a prepared statement cannot have expanding or literal-execute parameters")
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise ValueError("a prepared statement must be given every column with a Python-side default")
        processors = compiled._bind_processors
        escaped = compiled.escaped_bind_names or {}
        by_name: dict[str, tuple[str, Any]] = {}
        for bindparam, name in compiled.bind_names.items():
            default = _MISSING if bindparam.required else bindparam.effective_value
            by_name[name] = (bindparam.key, default)
        order = compiled.positiontup if compiled.positional else list(by_name)
        binds = tuple(
            (by_name[name][0], escaped.get(name, name), processors.get(name), by_name[name][1]) for name in order
        )
        columns = compiled._result_columns or []
        return _Plan(
            sql=compiled.string,
            binds=binds,
            positional=bool(compiled.positional),
            keys=tuple(column.keyname for column in columns),
            types=tuple(column.type for column in columns),
        )

    # ------------------------------------------------------------------ running

    def _parameters(self, plan: _Plan, params: Mapping[str, Any]) -> Any:
        values = []
        for key, _driver_key, processor, default in plan.binds:
            value = params.get(key, default)
            if value is _MISSING:
                raise sa.exc.ArgumentError(f"a value is required for the bind parameter {key!r}")
            values.append(value if processor is None else processor(value))
        if plan.positional:
            return tuple(values)
        return {bind[1]: value for bind, value in zip(plan.binds, values, strict=True)}

    def _execute(
        self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]], many: bool, sent: Any = None
    ) -> tuple[Any, _Plan]:
        """The DBAPI cursor after running the statement with ``rows[0]`` (``many``: with each of ``rows``).

        ``sent``: the parameters already as the driver takes them (:meth:`all_sent`).
        """
        if not conn.in_transaction():
            conn.begin()
        plan = self.plan(conn.dialect)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if sent is None:
                sent = [self._parameters(plan, row) for row in rows] if many else self._parameters(plan, rows[0])
            send(conn, cursor, plan.sql, sent, many)
        except sa.exc.SQLAlchemyError:
            raise
        except BaseException as error:  # a bind processor's error, wrapped as SQLAlchemy would
            conn._handle_dbapi_exception(error, plan.sql, sent, cursor, None)
        return cursor, plan

    def _processed(self, conn: sa.Connection, plan: _Plan, cursor: Any, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """The rows with each column through its type's result processor (only the columns that have one)."""
        processors = plan.processors
        if processors is None:
            description = cursor.description or ()
            if not plan.keys:  # a text statement: the driver names the columns, none has a type
                plan.keys = tuple(column[0] for column in description)
                plan.types = tuple(sa.types.NULLTYPE for _ in description)
            processors = plan.processors = tuple(
                (index, processor)
                for index, (type_, column) in enumerate(zip(plan.types, description, strict=True))
                if (processor := _result_processor(type_, conn.dialect, column[1])) is not None
            )
        if not processors:
            return [tuple(row) for row in rows]
        return processed_rows(rows, processors)

    def all(self, conn: sa.Connection, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        """Every row of the answer, as sequences in the statement's column order."""
        cursor, plan = self._execute(conn, (params,), many=False)
        try:
            return self._processed(conn, plan, cursor, cursor.fetchall())
        finally:
            cursor.close()

    def all_sent(self, conn: sa.Connection, sent: Sequence[Any]) -> list[Sequence[Any]]:
        """:meth:`all` with the parameters as the driver takes them, in ``plan(dialect).binds`` order.

        For a caller that builds them faster than :meth:`all` (storage/batches.py: 1,000 ids
        at once); it applies the bind processors itself, where there are any.
        """
        cursor, plan = self._execute(conn, (), many=False, sent=sent)
        try:
            return self._processed(conn, plan, cursor, cursor.fetchall())
        finally:
            cursor.close()

    def mappings(self, conn: sa.Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every row of the answer by column name."""
        rows = self.all(conn, params)
        keys = self.plan(conn.dialect).keys
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def first(self, conn: sa.Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row of the answer by column name, or None; the rest is discarded."""
        cursor, plan = self._execute(conn, (params,), many=False)
        try:
            row = cursor.fetchone()
            if row is None:
                return None
            values = self._processed(conn, plan, cursor, [row])[0]
            return dict(zip(plan.keys, values, strict=True))
        finally:
            cursor.close()

    def scalar(self, conn: sa.Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row (None without a row)."""
        rows = self.all(conn, params)
        return rows[0][0] if rows else None

    def run(self, conn: sa.Connection, params: Mapping[str, Any]) -> int:
        """A statement without an answer; the number of rows it changed (as the driver counts)."""
        cursor, _ = self._execute(conn, (params,), many=False)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def insert(self, conn: sa.Connection, params: Mapping[str, Any]) -> int:
        """One ``INSERT`` of a table with an integer key; the row's generated key, on every dialect.

        Where the driver reports ``lastrowid`` (SQLite, PyMySQL) it is read from the cursor;
        psycopg reports none, so on PostgreSQL the same ``INSERT`` is sent with ``RETURNING``
        the key (compiled once too). ``RETURNING`` is not used where ``lastrowid`` works:
        MariaDB < 10.5 and MySQL have no ``INSERT ... RETURNING``, and on SQLite it measured
        dearer than ``lastrowid`` (docs/performance.md, "Fourth round").
        """
        if not getattr(conn.dialect, "postfetch_lastrowid", False):  # SQLAlchemy: the driver reports it
            return int(self._with_returned_id().scalar(conn, params))
        cursor, _ = self._execute(conn, (params,), many=False)
        try:
            return int(cursor.lastrowid)
        finally:
            cursor.close()

    def _with_returned_id(self) -> Prepared:
        if self._returning_id is None:
            statement: Any = self.statement
            self._returning_id = Prepared(statement.returning(*statement.table.primary_key), self.column_keys)
        return self._returning_id

    def run_many(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """The statement once per mapping of ``rows``, in one ``executemany`` (the drivers batch)."""
        if rows:
            self._execute(conn, rows, many=True)[0].close()


@dataclass(frozen=True)
class Write:
    """A constant data-modifying statement with its parameters: run now, or carried by a later statement.

    A statement that must run anyway (the history record of a write) can carry the writes
    before it on PostgreSQL, as data-modifying CTEs (``WITH w0 AS (UPDATE ...), w1 AS (INSERT
    ...) INSERT INTO changes ...``): one round trip instead of one each (:func:`carrying`). A
    statement run once per row (``rows``, the driver's executemany) cannot be carried.
    """

    prepared: Prepared
    params: Mapping[str, Any] = field(default_factory=dict)
    rows: Sequence[Mapping[str, Any]] | None = None

    def run(self, conn: sa.Connection) -> None:
        """Send it on its own."""
        if self.rows is not None:
            self.prepared.run_many(conn, self.rows)
        else:
            self.prepared.run(conn, self.params)


def carries(dialect: sa.Dialect) -> bool:
    """Whether a statement of ``dialect`` can carry writes as data-modifying CTEs: PostgreSQL only.

    SQLite and MariaDB/MySQL allow no ``INSERT``/``UPDATE`` inside ``WITH``.
    """
    return dialect.name == "postgresql"


def can_carry(dialect: sa.Dialect, writes: Sequence[Write]) -> bool:
    """Whether one statement of ``dialect`` can carry ``writes``: none of them is an executemany."""
    return carries(dialect) and all(write.rows is None for write in writes)


def run_all(conn: sa.Connection, writes: Sequence[Write]) -> None:
    """Send ``writes`` one by one, in order."""
    for write in writes:
        write.run(conn)


@functools.lru_cache(maxsize=256)
def carrying(dialect: sa.Dialect, main: Prepared, carried: tuple[Prepared, ...]) -> Prepared:
    """``main`` with ``carried`` as data-modifying CTEs before it: one statement (see :class:`Write`).

    PostgreSQL runs every sub-statement of a ``WITH`` exactly once, with one snapshot, all or
    nothing with the statement. The carried statements must not share a parameter name with
    each other or with ``main`` (their parameters are sent in one mapping), and must name their
    values (``.values(...)``, not ``column_keys``): both are refused here.
    """
    seen: set[str] = set()
    for part in (main, *carried):
        if part is not main and part.column_keys is not None:
            raise ValueError("a carried statement must set its values itself, not through column_keys")
        names = {bind[0] for bind in part.plan(dialect).binds}
        if names & seen:
            raise ValueError(f"carried statements share the parameters {sorted(names & seen)}")
        seen |= names
    statement: Any = main.statement
    ctes = [part.statement.cte(f"carried_{index}") for index, part in enumerate(carried)]  # type: ignore[attr-defined]
    return Prepared(statement.add_cte(*ctes), column_keys=main.column_keys)


def _result_processor(type_: sa.types.TypeEngine[Any], dialect: sa.Dialect, coltype: Any) -> Processor | None:
    """The type's result processor for ``dialect`` (SQLAlchemy's per-dialect cache of it)."""
    processor: Processor | None = type_._cached_result_processor(dialect, coltype)
    return processor


def send(conn: sa.Connection, cursor: Any, sql: str, parameters: Any, many: bool = False) -> None:
    """Run ``sql`` on ``cursor`` of ``conn`` with the events, logging and error handling of SQLAlchemy's own path."""
    try:
        dispatch = conn.dispatch if conn._has_events or conn.engine._has_events else None
        if dispatch is not None and dispatch.before_cursor_execute:
            for listener in dispatch.before_cursor_execute:
                sql, parameters = listener(conn, cursor, sql, parameters, None, many)
        if conn._echo:
            conn._log_info(sql)
            conn._log_info("[prepared] [SQL parameters hidden]")
        if many:
            cursor.executemany(sql, parameters)
        elif isinstance(parameters, tuple) and not parameters:  # BEGIN; no driver escapes to undo
            cursor.execute(sql)
        else:  # a dict, even empty: pyformat drivers turn the compiler's "%%" back into "%"
            cursor.execute(sql, parameters)
        if dispatch is not None and dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(conn, cursor, sql, parameters, None, many)
    except BaseException as error:
        conn._handle_dbapi_exception(error, sql, parameters, cursor, None)


def processed_rows(rows: Sequence[Sequence[Any]], processors: Sequence[tuple[int, Processor]]) -> list[list[Any]]:
    """``rows`` with each ``(column index, processor)`` applied to its column: a type's conversion."""
    processed = []
    for row in rows:
        values = list(row)
        for index, processor in processors:
            values[index] = processor(values[index])
        processed.append(values)
    return processed
