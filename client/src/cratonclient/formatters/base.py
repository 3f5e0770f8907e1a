"""The contract every output format implements, and the value rendering they share.

A command never prints: it returns a result and ``cratonclient.shell.main`` hands it to one
formatter. Keeping the formats behind one small interface is what lets ``--format`` switch every
command at once, and lets a new format be added without touching any command.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any


class UnsupportedOutput(Exception):
    """A format cannot represent this kind of result (e.g. a nested document as CSV)."""


class Formatter(ABC):
    """Turns command results into the text written to stdout."""

    #: Machine formats keep stdout parseable: informational messages go to stderr instead.
    machine_readable: bool = True

    @abstractmethod
    def format_object(self, data: Mapping[str, Any]) -> str:
        """One resource, e.g. the answer of ``*-show`` or ``*-create``."""

    @abstractmethod
    def format_list(self, items: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
        """Several resources; ``fields`` are the columns a tabular format should show."""

    @abstractmethod
    def format_variables(self, variables: Mapping[str, Any]) -> str:
        """A variables mapping (name to any JSON value)."""

    def format_values(self, name: str, values: Sequence[str]) -> str:
        """A plain list of strings (labels); a one-column list unless a format knows better."""
        return self.format_list([{name: value} for value in values], [name])

    def format_document(self, data: Any) -> str:
        """A free-form JSON document (the Ansible inventory); JSON unless a format knows better."""
        return json_text(data)

    def format_stream(self, batches: Iterable[Sequence[Mapping[str, Any]]], fields: Sequence[str]) -> Iterator[str]:
        """Rows that keep arriving (``changes --follow``): text for each batch as it comes.

        By default each non-empty batch is formatted as a list of its own; formats whose
        lists cannot simply follow one another (JSON, YAML, CSV) stream item by item.
        """
        for batch in batches:
            if batch:
                yield self.format_list(batch, fields)


def json_text(data: Any) -> str:
    """The JSON every format falls back to: stable key order, readable indentation."""
    return json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False)


def compact_json(value: Any) -> str:
    """One-line JSON for containers shown inside a table cell or a CSV field."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def cell_text(value: Any) -> str:
    """Render one value for a human or a spreadsheet: blank for null, JSON for containers.

    Strings stay as they are, so a table or CSV cell never gains quotes a reader must strip.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return compact_json(value)
    return str(value)


# Words the CLI turns into booleans or null when given as ``key=value`` (see shell.cliutils).
_TYPED_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0", "null", "none"})


def variable_text(value: Any) -> str:
    """Like :func:`cell_text`, but a variable's type stays visible: ``7`` and ``"7"`` differ.

    A string is shown bare unless it would read back as another type, so what the table shows
    can be typed back as ``key=value`` and mean the same thing.
    """
    if not isinstance(value, str):
        return compact_json(value)
    if not value or value.lower() in _TYPED_WORDS or value.startswith('"') or _looks_like_json(value):
        return json.dumps(value, ensure_ascii=False)
    return value


def _looks_like_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def column_label(field: str) -> str:
    """The original CLI's headings: ``ip_address`` becomes ``Ip Address``."""
    return field.replace("_", " ").title()
