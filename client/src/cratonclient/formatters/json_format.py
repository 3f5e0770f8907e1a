"""JSON for scripts: the server's objects as they came, whatever ``--fields`` says.

Lists print every field of every item, as the original client did, so a script that worked
against it keeps finding the keys it reads. A stream (``--follow``) is JSON Lines: one
compact object per line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
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

    def format_stream(self, batches: Iterable[Sequence[Mapping[str, Any]]], fields: Sequence[str]) -> Iterator[str]:
        for batch in batches:
            if batch:
                yield "\n".join(json.dumps(item, sort_keys=True, ensure_ascii=False) for item in batch)
