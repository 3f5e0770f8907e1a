"""YAML, for operators who feed the output to configuration tools; same shapes as JSON.

A stream (``--follow``) is a sequence of documents, one per item, each opened by ``---``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import yaml

from cratonclient.formatters import base


class Formatter(base.Formatter):
    """Block-style YAML with sorted keys; every document parses back with ``yaml.safe_load``."""

    def format_object(self, data: Mapping[str, Any]) -> str:
        return _dump(dict(data))

    def format_list(self, items: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
        return _dump([dict(item) for item in items])

    def format_variables(self, variables: Mapping[str, Any]) -> str:
        return _dump(dict(variables))

    def format_values(self, name: str, values: Sequence[str]) -> str:
        return _dump(list(values))

    def format_document(self, data: Any) -> str:
        return _dump(data)

    def format_stream(self, batches: Iterable[Sequence[Mapping[str, Any]]], fields: Sequence[str]) -> Iterator[str]:
        for batch in batches:
            if batch:
                yield "\n".join(f"---\n{_dump(dict(item))}" for item in batch)


def _dump(data: Any) -> str:
    # safe_dump refuses arbitrary Python objects, so only plain JSON-like data can get here.
    text: str = yaml.safe_dump(data, default_flow_style=False, sort_keys=True, allow_unicode=True)
    return text.rstrip("\n")
