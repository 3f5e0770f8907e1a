"""JSON for scripts: the server's objects as they came, whatever ``--fields`` says.

Lists print every field of every item, as the original client did, so a script that worked
against it keeps finding the keys it reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cratonclient.formatters import base


class Formatter(base.Formatter):
    """Indented, key-sorted JSON; one document per command."""

    def format_object(self, data: Mapping[str, Any]) -> str:
        return base.json_text(data)

    def format_list(self, items: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
        return base.json_text(list(items))

    def format_variables(self, variables: Mapping[str, Any]) -> str:
        return base.json_text(variables)

    def format_values(self, name: str, values: Sequence[str]) -> str:
        return base.json_text(list(values))
