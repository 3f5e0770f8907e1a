"""Output formats of the ``craton`` CLI, chosen with ``--format``.

``default`` (alias ``table``) is for people; ``json``, ``yaml`` and ``csv`` are for scripts and
always parse back. The registry names each formatter's module, imported only when that format
is used, so ``craton --format json`` never pays for importing PrettyTable or PyYAML.
"""

from __future__ import annotations

import importlib

from cratonclient.formatters.base import Formatter, UnsupportedOutput

#: ``--format`` name -> module in this package holding its ``Formatter`` class.
FORMATTERS: dict[str, str] = {
    "default": "table",
    "table": "table",
    "json": "json_format",
    "yaml": "yaml_format",
    "csv": "csv_format",
}


def get_formatter(name: str) -> Formatter:
    """Build the formatter registered as ``name``; ``KeyError`` if there is none."""
    module = importlib.import_module(f"{__name__}.{FORMATTERS[name]}")
    formatter: Formatter = module.Formatter()
    return formatter


__all__ = ["FORMATTERS", "Formatter", "UnsupportedOutput", "get_formatter"]
