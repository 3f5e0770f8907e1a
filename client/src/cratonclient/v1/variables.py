"""Variables of one object: ``obj.variables.get()``, ``.update(**kv)``, ``.delete(*keys)``.

Every object with variables gets its own :class:`VariableManager`, bound to
``<object url>/variables``. Values are any JSON; ``update`` merges keys on the server and
``delete`` removes the named keys (unknown keys are ignored by the server).

The server also says where each value comes from and what it was earlier:
``get(blame=True)`` returns :class:`BlamedVariables` (each key's source level, who set it and
when, and the values it overrides), ``get(as_of=when)`` the variables as they were then, and
``diff(since, until)`` a :class:`VariablesDiff` of what changed in between.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, overload

from cratonclient import impact
from cratonclient.crud import CRUDClient, encode_query, unsupported
from cratonclient.impact import Impact
from cratonclient.session import json_body
from cratonclient.v1.history import time_param

When = dt.datetime | str


@dataclass
class Variable:
    """One variable: its key and its JSON value."""

    name: str
    value: Any


class Variables(MutableMapping[str, Variable]):
    """The variables returned by the server, keyed by name, as :class:`Variable` objects.

    Use ``to_dict()`` for a plain ``{name: value}`` dictionary. Changing this mapping changes
    nothing on the server; use the manager's ``update`` and ``delete`` for that. ``as_of`` is
    the moment the server read them at (``get(as_of=...)``), None for the current values.
    """

    def __init__(self, manager: VariableManager, info: Mapping[str, Any], loaded: bool = False):
        self.manager = manager
        self._loaded = loaded
        self.as_of: str | None = info.get("as_of")
        #: The keys this object masks: it does not inherit them from the levels above.
        self.masks: list[str] = list(info.get("masks") or [])
        self._variables = {name: Variable(name, value) for name, value in (info.get("variables") or {}).items()}

    def __getitem__(self, name: str) -> Variable:
        return self._variables[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._variables[name] = value if isinstance(value, Variable) else Variable(name, value)

    def __delitem__(self, name: str) -> None:
        del self._variables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._variables)

    def __len__(self) -> int:
        return len(self._variables)

    def __repr__(self) -> str:
        return "<Variables " + ", ".join(f"{k}={v!r}" for k, v in self._variables.items()) + ">"

    def to_dict(self) -> dict[str, Any]:
        """The variables as a plain ``{name: value}`` dictionary."""
        return {name: variable.value for name, variable in self._variables.items()}


class VariableManager(CRUDClient):
    """Reads and changes the variables of the object whose URL it was built with."""

    key = ""
    base_path = "/variables"

    create = unsupported()
    list = unsupported()

    @overload  # type: ignore[override]
    def get(
        self, resolved: bool | None = None, *, blame: Literal[False] = False, as_of: When | None = None
    ) -> Variables: ...

    @overload
    def get(
        self, resolved: bool | None = None, *, blame: Literal[True], as_of: When | None = None
    ) -> BlamedVariables: ...

    def get(
        self, resolved: bool | None = None, *, blame: bool = False, as_of: When | None = None
    ) -> Variables | BlamedVariables:
        """The object's variables.

        ``resolved=None`` keeps the server's default (hosts and network devices resolve their
        ancestors' variables, others return their own); True or False asks explicitly.
        ``blame=True`` returns :class:`BlamedVariables`: the values plus where each comes from.
        ``as_of`` (a datetime, or an ISO 8601 string) returns the variables as they were at
        that moment, replayed from the change history (``NotFound`` before the object existed);
        with ``blame=True`` too, where each of those values came from then (this works for an
        object deleted since, e.g. by a cascade).
        """
        query = {
            "resolved": resolved,
            "blame": True if blame else None,
            "as_of": None if as_of is None else time_param(as_of),
        }
        body = json_body(self.session.get(self.build_url(), params=encode_query(query)))
        if blame:
            return BlamedVariables.from_body(body)
        return Variables(self, body, loaded=True)

    def diff(self, since: When, until: When | None = None, resolved: bool | None = None) -> VariablesDiff:
        """What changed in the variables between ``since`` and ``until`` (default: now).

        Times are datetimes or ISO 8601 strings; ``resolved`` is as for ``get``.
        """
        query = {
            "resolved": resolved,
            "diff_from": time_param(since),
            "diff_to": None if until is None else time_param(until),
        }
        body = json_body(self.session.get(self.build_url(), params=encode_query(query)))
        return VariablesDiff.from_body(body)

    @overload  # type: ignore[override]
    def update(
        self, variables: Mapping[str, Any] | None = None, /, *, preview: Literal[True], **kwargs: Any
    ) -> Impact: ...

    @overload
    def update(
        self, variables: Mapping[str, Any] | None = None, /, *, preview: Literal[False] = ..., **kwargs: Any
    ) -> Variables: ...

    def update(
        self, variables: Mapping[str, Any] | None = None, /, *, preview: bool = False, **kwargs: Any
    ) -> Variables | Impact:
        """Set the given keys (others are kept) and return the object's own variables.

        Keys may be passed as a mapping, as keywords, or both; any string is a valid key.
        With ``preview=True`` nothing is written: the result is the :class:`Impact` on devices.
        """
        body = {**(variables or {}), **kwargs}
        if preview:
            return impact.request(self.session, "PUT", self.build_url(), body)
        response = self.session.put(self.build_url(), json=body)
        return Variables(self, json_body(response), loaded=True)

    @overload  # type: ignore[override]
    def delete(self, *keys: str, preview: Literal[True]) -> Impact: ...

    @overload
    def delete(self, *keys: str, preview: Literal[False] = ...) -> bool: ...

    def delete(self, *keys: str, preview: bool = False) -> bool | Impact:
        """Remove the named keys; keys the object does not have are ignored (``preview``: see update)."""
        if preview:
            return impact.request(self.session, "DELETE", self.build_url(), list(keys))
        response = self.session.delete(self.build_url(), json=list(keys))
        return 200 <= response.status_code < 300

    def masks(self) -> builtins.list[str]:
        """The keys the object masks: it does not inherit them from the levels above."""
        return list(json_body(self.session.get(self.build_url() + "/masks")).get("masks") or [])

    @overload
    def mask(self, *keys: str, preview: Literal[True]) -> Impact: ...

    @overload
    def mask(self, *keys: str, preview: Literal[False] = ...) -> builtins.list[str]: ...

    def mask(self, *keys: str, preview: bool = False) -> builtins.list[str] | Impact:
        """Stop inheriting ``keys`` here (and below, unless a nearer level sets them); returns all masks.

        With ``preview=True`` nothing is written: the result is the :class:`Impact` on devices.
        """
        if preview:
            return impact.request(self.session, "PUT", self.build_url() + "/masks", list(keys))
        response = self.session.put(self.build_url() + "/masks", json=list(keys))
        return list(json_body(response).get("masks") or [])

    @overload
    def unmask(self, *keys: str, preview: Literal[True]) -> Impact: ...

    @overload
    def unmask(self, *keys: str, preview: Literal[False] = ...) -> bool: ...

    def unmask(self, *keys: str, preview: bool = False) -> bool | Impact:
        """Inherit ``keys`` again; keys that are not masked are ignored (``preview``: see ``mask``)."""
        if preview:
            return impact.request(self.session, "DELETE", self.build_url() + "/masks", list(keys))
        response = self.session.delete(self.build_url() + "/masks", json=list(keys))
        return 200 <= response.status_code < 300


@dataclass(frozen=True)
class Source:
    """The object a value is set on: ``type`` (``host``, ``cell``, ``region``, ``cloud``,
    ``project``...), its ``id`` and its ``name``."""

    type: str
    id: Any
    name: str | None = None

    @classmethod
    def from_dict(cls, info: Mapping[str, Any]) -> Source:
        return cls(str(info.get("type")), info.get("id"), info.get("name"))

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "name": self.name}

    def __str__(self) -> str:
        label = f"{self.type} {self.id}"
        return f"{label} ({self.name})" if self.name else label


@dataclass(frozen=True)
class Override:
    """A value of the same key on a farther level, hidden by the one that wins."""

    source: Source
    value: Any


@dataclass(frozen=True)
class Contribution:
    """One level's share of a merged value: its own ``value`` and the ``part`` of the result
    that comes from it (for ``union``, the elements no farther level had)."""

    source: Source
    value: Any
    part: Any
    set_at: str | None = None
    set_by: str | None = None

    @classmethod
    def from_dict(cls, info: Mapping[str, Any]) -> Contribution:
        return cls(
            Source.from_dict(info.get("source") or {}),
            info.get("value"),
            info.get("part"),
            info.get("set_at"),
            info.get("set_by"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.to_dict(),
            "value": self.value,
            "part": self.part,
            "set_at": self.set_at,
            "set_by": self.set_by,
        }


@dataclass(frozen=True)
class Blame:
    """Where one variable's value comes from: the level that sets it, who set it and when
    (``set_by`` and ``set_at`` may be None for values set before history was kept), and the
    values it overrides, nearest first.

    A key the project merges (``strategy`` ``deep``, ``append`` or ``union``) also lists its
    ``contributions``, nearest first; ``masked_at`` is the level whose mask stopped the key
    from being inherited from farther up, if any."""

    key: str
    value: Any
    source: Source
    set_at: str | None = None
    set_by: str | None = None
    overrides: tuple[Override, ...] = ()
    strategy: str | None = None
    contributions: tuple[Contribution, ...] = ()
    masked_at: Source | None = None

    @classmethod
    def from_dict(cls, key: str, info: Mapping[str, Any]) -> Blame:
        overrides = tuple(
            Override(Source.from_dict(item.get("source") or {}), item.get("value"))
            for item in info.get("overrides") or ()
        )
        masked_at = info.get("masked_at")
        return cls(
            key=key,
            value=info.get("value"),
            source=Source.from_dict(info.get("source") or {}),
            set_at=info.get("set_at"),
            set_by=info.get("set_by"),
            overrides=overrides,
            strategy=info.get("strategy"),
            contributions=tuple(Contribution.from_dict(item) for item in info.get("contributions") or ()),
            masked_at=Source.from_dict(masked_at) if masked_at else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The server's shape: ``value``, ``source``, ``set_at``, ``set_by``, ``overrides``, and
        ``strategy``, ``contributions`` and ``masked_at`` when the server sent them."""
        result: dict[str, Any] = {
            "value": self.value,
            "source": self.source.to_dict(),
            "set_at": self.set_at,
            "set_by": self.set_by,
            "overrides": [{"source": o.source.to_dict(), "value": o.value} for o in self.overrides],
        }
        if self.strategy is not None:
            result["strategy"] = self.strategy
            result["contributions"] = [c.to_dict() for c in self.contributions]
        if self.masked_at is not None:
            result["masked_at"] = self.masked_at.to_dict()
        return result


def parse_blame(blame: Mapping[str, Any] | None) -> dict[str, Blame]:
    """The server's ``blame`` mapping (of ``get(blame=True)``, or of each item of
    ``list(details=True, blame=True)``) as :class:`Blame` objects keyed by variable."""
    return {key: Blame.from_dict(key, info) for key, info in (blame or {}).items()}


@dataclass(frozen=True)
class BlamedVariables:
    """``get(blame=True)``: ``values`` is the plain ``{key: value}`` dict ``get()`` gives, and
    ``blame`` maps each key to its :class:`Blame`."""

    values: dict[str, Any]
    blame: dict[str, Blame]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> BlamedVariables:
        return cls(dict(body.get("variables") or {}), parse_blame(body.get("blame")))

    def __getitem__(self, key: str) -> Blame:
        return self.blame[key]

    def to_dict(self) -> dict[str, Any]:
        """The server's answer: ``{"variables": {...}, "blame": {...}}``."""
        return {"variables": dict(self.values), "blame": {key: blame.to_dict() for key, blame in self.blame.items()}}


class ValueChange(NamedTuple):
    """A key whose value differs: ``before`` and ``after``."""

    before: Any
    after: Any


@dataclass(frozen=True)
class VariablesDiff:
    """``diff()``: keys ``added`` and ``removed`` (with their values) and ``changed`` (with
    both values) between ``since`` and ``until`` (``None``: now), as the server normalised
    the times. False when nothing changed."""

    since: str
    until: str | None
    added: dict[str, Any]
    removed: dict[str, Any]
    changed: dict[str, ValueChange]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> VariablesDiff:
        until = body.get("to")
        return cls(
            since=str(body.get("from")),
            until=None if until in (None, "now") else str(until),
            added=dict(body.get("added") or {}),
            removed=dict(body.get("removed") or {}),
            changed={
                key: ValueChange(pair.get("from"), pair.get("to")) for key, pair in (body.get("changed") or {}).items()
            },
        )

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        """The server's answer: ``from``, ``to`` (``"now"`` when open), ``added``,
        ``removed`` and ``changed`` (``{key: {"from": ..., "to": ...}}``)."""
        return {
            "from": self.since,
            "to": self.until or "now",
            "added": dict(self.added),
            "removed": dict(self.removed),
            "changed": {k: {"from": v.before, "to": v.after} for k, v in self.changed.items()},
        }


__all__ = [
    "Blame",
    "BlamedVariables",
    "Contribution",
    "Override",
    "Source",
    "ValueChange",
    "Variable",
    "VariableManager",
    "Variables",
    "VariablesDiff",
    "parse_blame",
]
