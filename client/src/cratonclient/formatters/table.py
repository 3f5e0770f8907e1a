"""Human-readable tables, fitted to the terminal so wide inventories stay legible."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TextIO

import prettytable

from cratonclient.formatters import base
from cratonclient.formatters.base import cell_text, column_label, variable_text

# Below this a wrapped column holds too few characters to read; wider tables then overflow.
_MIN_COLUMN = 6


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
        headings = [wrap(head, width) for head, width in zip(header, widths, strict=True)]
        table = prettytable.PrettyTable(header)
        table.align = "l"
        if headings != list(header):
            # prettytable shows only the first line of a heading: wrapped headings become a
            # first row, above the same divider a heading has.
            table.header = False
            table.add_row(headings, divider=True)
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
    No column gets narrower than its longest id, address or heading word: when even that does
    not fit, the table grows wider than ``width`` rather than split one.
    """
    natural = [max([len(head)] + [_longest_line(row[i]) for row in rows]) for i, head in enumerate(header)]
    if width is None:
        return natural
    # Each column costs two spaces of padding and one border; plus the closing border.
    budget = width - 3 * len(header) - 1
    if sum(natural) <= budget:
        return natural
    floor = []
    for i, head in enumerate(header):
        cells = [row[i] for row in rows]
        text = max([_longest_line(cell) for cell in cells] + [len(word) for word in head.split()])
        floor.append(max(min(text, _MIN_COLUMN), _longest_atom(cells, heading=head)))

    def widths(level: int) -> list[int]:
        return [max(low, min(high, level)) for low, high in zip(floor, natural, strict=True)]

    # The highest common level whose widths still fit (binary search; widths grow with it).
    low, high = 0, max(natural)
    while low < high:
        middle = (low + high + 1) // 2
        if sum(widths(middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    return widths(low)


#: Words a cell must never be split inside: numbers and ids, UUIDs, IPv4 and IPv6 addresses
#: (with an optional prefix length).
_ATOM = re.compile(
    r"""^(
        \d+
      | [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}
      | \d{1,3}(\.\d{1,3}){3}(/\d{1,2})?
      | [0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]*(/\d{1,3})?
    )$""",
    re.VERBOSE,
)
#: Where a long word that is not an atom is best split: after one of these characters.
_BREAK_AFTER = frozenset("-_/,:;=+.T")


def _is_atom(word: str) -> bool:
    return bool(_ATOM.match(word.strip("[](){}\"',;")))


def _longest_atom(texts: Sequence[str], heading: str = "") -> int:
    words = [word for text in texts for word in text.split()]
    lengths = [len(word) for word in words if _is_atom(word)]
    lengths += [len(word) for word in heading.split()]  # headings wrap between words only
    return max(lengths, default=0)


def wrap(text: str, width: int) -> str:
    """Wrap every line of ``text`` to ``width`` characters at spaces.

    A word longer than the width is split (after a ``-``, ``:``, ``T``... when one is near the
    end) unless it is an id or an address, which always stays whole on its own line.
    """
    if _longest_line(text) <= width:
        return text
    return "\n".join(line for source in text.splitlines() for line in _wrap_line(source, width))


def _wrap_line(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        pieces = [word] if len(word) <= width or _is_atom(word) else _split_word(word, width)
        for piece in pieces:
            if current and len(current) + 1 + len(piece) <= width:
                current += " " + piece
                continue
            if current:
                lines.append(current)
            current = piece
    lines.append(current)
    return lines


def _split_word(word: str, width: int) -> list[str]:
    pieces = []
    while len(word) > width:
        cut = next((i for i in range(width, width // 2, -1) if word[i - 1] in _BREAK_AFTER), width)
        pieces.append(word[:cut])
        word = word[cut:]
    return [*pieces, word]


def _longest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)
