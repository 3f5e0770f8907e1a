"""Human-readable tables, fitted to the terminal so wide inventories stay legible."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TextIO

import prettytable

from cratonclient.formatters import base
from cratonclient.formatters.base import cell_text, column_label, variable_text

# Below this a wrapped column holds too few characters to read; wider tables then overflow.
_MIN_COLUMN = 8


class Formatter(base.Formatter):
    """Tables for people: lists as rows, single objects and variables as name/value pairs."""

    machine_readable = False

    def __init__(self, width: int | None | Literal["auto"] = "auto") -> None:
        """``width`` caps the table (``None``: no cap); "auto" fits the terminal, if any."""
        self.width = terminal_width(sys.stdout) if width == "auto" else width

    def format_list(self, items: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
        rows = [[cell_text(item.get(field)) for field in fields] for item in items]
        return self._render([column_label(field) for field in fields], rows)

    def format_object(self, data: Mapping[str, Any]) -> str:
        rows = [[key, cell_text(data[key])] for key in sorted(data)]
        return self._render(["Property", "Value"], rows)

    def format_variables(self, variables: Mapping[str, Any]) -> str:
        rows = [[key, variable_text(variables[key])] for key in sorted(variables)]
        return self._render(["Variable", "Value"], rows)

    def _render(self, header: list[str], rows: list[list[str]]) -> str:
        widths = fit_columns(header, rows, self.width)
        table = prettytable.PrettyTable(header)
        table.align = "l"
        for row in rows:
            table.add_row([wrap(text, width) for text, width in zip(row, widths, strict=True)])
        return table.get_string()


def terminal_width(stream: TextIO) -> int | None:
    """The width to fit: ``$COLUMNS`` if set, the terminal's if ``stream`` is one, else none."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        pass
    return None


def fit_columns(header: Sequence[str], rows: Sequence[Sequence[str]], width: int | None) -> list[int]:
    """Choose column widths whose table fits in ``width`` characters.

    Narrow columns keep their natural width; the space left is shared out evenly among the
    wide ones (water-filling), so ids and names stay intact and long notes or variables wrap.
    """
    natural = [max([len(head)] + [_longest_line(row[i]) for row in rows]) for i, head in enumerate(header)]
    if width is None:
        return natural
    # Each column costs two spaces of padding and one border; plus the closing border.
    budget = width - 3 * len(header) - 1
    if sum(natural) <= budget:
        return natural
    fitted = list(natural)
    pending = sorted(range(len(header)), key=lambda i: natural[i])
    while pending:
        share = max(budget // len(pending), _MIN_COLUMN)
        if natural[pending[0]] > share:
            for i in pending:
                fitted[i] = share
            break
        index = pending.pop(0)
        budget -= natural[index]
    return fitted


def wrap(text: str, width: int) -> str:
    """Wrap every line of ``text`` to ``width`` characters, breaking long words if needed."""
    if _longest_line(text) <= width:
        return text
    return "\n".join(
        "\n".join(textwrap.wrap(line, width, break_long_words=True, break_on_hyphens=False)) or ""
        for line in text.splitlines()
    )


def _longest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)
