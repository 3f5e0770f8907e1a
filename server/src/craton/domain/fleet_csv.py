"""Flat host lists as CSV, read into a fleet document (``POST /v1/import`` with ``text/csv``).

One row per device, under a header row that names the columns (docs/import-export.md, "CSV"):
``cloud``, ``region``, ``cell`` place it; ``name``, ``kind`` (``host`` unless given),
``device_type``, ``ip_address``, ``active``, ``note``, ``model_name``, ``os_version`` are its
fields; ``parent`` names its parent device in the same region; ``labels`` lists labels
separated by ``;``; every ``variables.<key>[.<key>...]`` column sets one variable, nested
along the dots (``variables.ntp.server``). A variable's cell is read as JSON when it is JSON
(``42``, ``true``, ``[1, 2]``, ``"quoted"``) and as text otherwise; an empty cell sets nothing.

The rows become a document with the containers they name, so the rest of the import (checks,
modes, counts) is the same as for JSON; each problem's place in the document is turned
back into ``row N, column C`` (row 1 is the header).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import orjson

from craton.domain.fleet import FORMAT, FORMAT_VERSION
from craton.domain.fleet_import import Problem, pointer

CONTAINERS = ("cloud", "region", "cell")
FIELDS = ("name", "kind", "device_type", "ip_address", "active", "note", "model_name", "os_version", "parent", "labels")
COLUMNS = (*CONTAINERS, *FIELDS)
REQUIRED = ("cloud", "region", "name", "device_type", "ip_address")
VARIABLES = "variables."
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


@dataclass
class _Place:
    """Where an object of the document came from: its row and the column of each of its fields."""

    row: int
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class Sheet:
    """A CSV file read into a document; ``locate`` names the row and column of a place in it."""

    document: dict[str, Any]
    problems: list[Problem]
    places: dict[str, _Place]

    def locate(self, where: str) -> str:
        parts = where.strip("/").split("/") if where != "/" else []
        for end in range(len(parts), 0, -1):
            place = self.places.get(pointer(*parts[:end]))
            if place is None:
                continue
            rest = parts[end:]
            if not rest:
                return f"row {place.row}"
            column = place.columns.get(rest[0], rest[0])
            if rest[0] == "variables" and len(rest) > 1:
                prefix = VARIABLES + rest[1].replace("~1", "/").replace("~0", "~")
                column = next((name for name in place.columns.values() if name.startswith(prefix)), prefix)
            return f"row {place.row}, column {column}"
        return "row 1" if where == "/" else where


def _cell_value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def read(text: str) -> Sheet:
    """The document a CSV host list stands for, with the problems of the file itself."""
    problems: list[Problem] = []
    document: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION, "clouds": []}
    places: dict[str, _Place] = {}
    sheet = Sheet(document, problems, places)
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(rows, None)
    except csv.Error as exc:
        problems.append(Problem("row 1", f"is not valid CSV: {exc}"))
        return sheet
    if not header:
        problems.append(Problem("row 1", "the header row is missing: name the columns first"))
        return sheet
    header = [name.strip() for name in header]
    good = _check_header(header, problems)
    if not good:
        return sheet
    clouds: dict[str, Any] = {}
    number = 1
    try:
        for cells in rows:
            number += 1
            if not cells or all(not cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                problems.append(Problem(f"row {number}", f"has {len(cells)} cells; the header has {len(header)}"))
                continue
            _row(dict(zip(header, cells, strict=True)), number, document, clouds, places, problems)
    except csv.Error as exc:
        problems.append(Problem(f"row {number + 1}", f"is not valid CSV: {exc}"))
    return sheet


def _check_header(header: list[str], problems: list[Problem]) -> bool:
    ok = True
    seen: set[str] = set()
    for name in header:
        where = f"row 1, column {name or '(empty)'}"
        if name in seen:
            problems.append(Problem(where, "the column is named twice"))
            ok = False
        seen.add(name)
        if name.startswith(VARIABLES):
            path = name[len(VARIABLES) :].split(".")
            if not all(path):
                problems.append(
                    Problem(where, "a variables column names its key after 'variables.', e.g. variables.ntp")
                )
                ok = False
        elif name not in COLUMNS:
            problems.append(Problem(where, f"unknown column; the columns are {', '.join(COLUMNS)} and variables.<key>"))
            ok = False
    for name in REQUIRED:
        if name not in seen:
            problems.append(Problem("row 1", f"the column {name} is missing"))
            ok = False
    return ok


def _container(
    parent: dict[str, Any],
    listed: str,
    name: str,
    column: str,
    number: int,
    base: str,
    places: dict[str, _Place],
    index: dict[str, Any],
) -> tuple[dict[str, Any], str]:
    """The cloud, region or cell named ``name`` under ``parent``, made on its first mention."""
    found = index.get(name)
    if found is None:
        items = parent.setdefault(listed, [])
        where = f"{base}/{listed}/{len(items)}" if base != "/" else f"/{listed}/{len(items)}"
        found = {"item": {"name": name}, "where": where, "children": {}}
        items.append(found["item"])
        places[where] = _Place(number, {"name": column})
        index[name] = found
    return found["item"], found["where"]


def _row(
    values: dict[str, str],
    number: int,
    document: dict[str, Any],
    clouds: dict[str, Any],
    places: dict[str, _Place],
    problems: list[Problem],
) -> None:
    names = {column: values.get(column, "").strip() for column in CONTAINERS}
    for column in ("cloud", "region"):
        if not names[column]:
            problems.append(Problem(f"row {number}, column {column}", "must not be empty: every device is in a region"))
            return
    cloud, cloud_at = _container(document, "clouds", names["cloud"], "cloud", number, "/", places, clouds)
    region_index = clouds[names["cloud"]]["children"]
    region, region_at = _container(cloud, "regions", names["region"], "region", number, cloud_at, places, region_index)
    holder, holder_at = region, region_at
    if names["cell"]:
        cell_index = region_index[names["region"]]["children"]
        holder, holder_at = _container(region, "cells", names["cell"], "cell", number, region_at, places, cell_index)
    listed = holder.setdefault("devices", [])
    where = f"{holder_at}/devices/{len(listed)}"
    place = _Place(number)
    device: dict[str, Any] = {"kind": values.get("kind", "").strip() or "host"}
    for column in FIELDS:
        if column not in values or column == "kind":
            continue
        text = values[column]
        if column in ("name", "device_type", "ip_address"):
            device[column] = text.strip()
        elif column == "active":
            flag = text.strip().lower()
            if flag in _TRUE or flag in _FALSE:
                device["active"] = flag in _TRUE
            elif flag:
                problems.append(Problem(f"row {number}, column active", f"{text!r} is not true or false"))
        elif column == "labels":
            found = sorted({label.strip() for label in text.split(";") if label.strip()})
            if found:
                device["labels"] = found
        elif text.strip():
            device[column] = text.strip() if column != "note" else text
        place.columns[column] = column
    for column, text in values.items():
        if column.startswith(VARIABLES) and text.strip():
            _set_variable(device, column, _cell_value(text.strip()), number, problems, place)
    listed.append(device)
    places[where] = place


def _set_variable(
    device: dict[str, Any], column: str, value: Any, number: int, problems: list[Problem], place: _Place
) -> None:
    path = column[len(VARIABLES) :].split(".")
    target = device.setdefault("variables", {})
    for key in path[:-1]:
        inner = target.setdefault(key, {})
        if not isinstance(inner, dict):
            problems.append(Problem(f"row {number}, column {column}", f"variable {key!r} is set by another column too"))
            return
        target = inner
    if path[-1] in target:
        problems.append(
            Problem(f"row {number}, column {column}", f"variable {path[-1]!r} is set by another column too")
        )
        return
    target[path[-1]] = value
    place.columns.setdefault(f"variables/{path[0]}", column)
