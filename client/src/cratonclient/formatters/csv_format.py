"""CSV for spreadsheets and ``cut``: a header row of field names, then one row per item.

Column names are the raw field names (``ip_address``), not the table's headings, so a script
can address them. A single object is a one-row CSV in the same shape as a list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from cratonclient.formatters import base


class Formatter(base.Formatter):
    """RFC 4180 CSV; nested values are embedded as JSON, null is an empty field."""

    def format_list(self, items: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
        return _write(fields, ([base.cell_text(item.get(f)) for f in fields] for item in items))

    def format_object(self, data: Mapping[str, Any]) -> str:
        fields = sorted(data)
        return _write(fields, [[base.cell_text(data[f]) for f in fields]])

    def format_variables(self, variables: Mapping[str, Any]) -> str:
        rows = ([name, base.variable_text(variables[name])] for name in sorted(variables))
        return _write(["name", "value"], rows)

    def format_stream(self, batches: Iterable[Sequence[Mapping[str, Any]]], fields: Sequence[str]) -> Iterator[str]:
        header = True
        for batch in batches:
            if batch:
                text = self.format_list(batch, fields)
                yield text if header else text.split("\n", 1)[1]
                header = False

    def format_document(self, data: Any) -> str:
        raise base.UnsupportedOutput("this result is a nested document; use --format json or yaml")


def _write(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().rstrip("\n")
