"""Variables of one object: ``obj.variables.get()``, ``.update(**kv)``, ``.delete(*keys)``.

Every object with variables gets its own :class:`VariableManager`, bound to
``<object url>/variables``. Values are any JSON; ``update`` merges keys on the server and
``delete`` removes the named keys (unknown keys are ignored by the server).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from cratonclient.crud import CRUDClient, encode_query, unsupported
from cratonclient.session import json_body


@dataclass
class Variable:
    """One variable: its key and its JSON value."""

    name: str
    value: Any


class Variables(MutableMapping[str, Variable]):
    """The variables returned by the server, keyed by name, as :class:`Variable` objects.

    Use ``to_dict()`` for a plain ``{name: value}`` dictionary. Changing this mapping changes
    nothing on the server; use the manager's ``update`` and ``delete`` for that.
    """

    def __init__(self, manager: VariableManager, info: Mapping[str, Any], loaded: bool = False):
        self.manager = manager
        self._loaded = loaded
        self._variables = {
            name: Variable(name, value) for name, value in (info.get("variables") or {}).items()
        }

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

    def get(self, resolved: bool | None = None) -> Variables:  # type: ignore[override]
        """The object's variables.

        ``resolved=None`` keeps the server's default (hosts and network devices resolve their
        ancestors' variables, others return their own); True or False asks explicitly.
        """
        response = self.session.get(self.build_url(), params=encode_query({"resolved": resolved}))
        return Variables(self, json_body(response), loaded=True)

    def update(  # type: ignore[override]
        self, variables: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Variables:
        """Set the given keys (others are kept) and return the object's own variables.

        Keys may be passed as a mapping, as keywords, or both; any string is a valid key.
        """
        body = {**(variables or {}), **kwargs}
        response = self.session.put(self.build_url(), json=body)
        return Variables(self, json_body(response), loaded=True)

    def delete(self, *keys: str) -> bool:  # type: ignore[override]
        """Remove the named keys; keys the object does not have are ignored."""
        response = self.session.delete(self.build_url(), json=list(keys))
        return 200 <= response.status_code < 300


__all__ = ["Variable", "VariableManager", "Variables"]
