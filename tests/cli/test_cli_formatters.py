"""The output formats on their own: every one parses back, tables fit the width they are given."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml

from cratonclient.formatters import FORMATTERS, UnsupportedOutput, get_formatter, table
from cratonclient.formatters.base import cell_text, column_label, variable_text

HOSTS = [
    {"id": 1, "name": "web-1", "active": True, "note": None, "labels": ["a", "b"], "variables": {"x": 1}},
    {"id": 2, "name": "db, primary", "active": False, "note": 'says "hi"', "labels": [], "variables": {}},
]
VARIABLES = {"string": "text", "number": 7, "numeric-string": "7", "flag": False, "none": None, "nested": {"a": [1]}}


def test_registry_offers_the_documented_formats() -> None:
    assert {"default", "table", "json", "yaml", "csv"} <= set(FORMATTERS)
    assert get_formatter("default").machine_readable is False
    assert all(get_formatter(name).machine_readable for name in ("json", "yaml", "csv"))


def test_json_round_trips_lists_objects_and_variables() -> None:
    formatter = get_formatter("json")
    # --fields never narrows JSON: scripts written for the original read every key.
    assert json.loads(formatter.format_list(HOSTS, ["id"])) == HOSTS
    assert json.loads(formatter.format_object(HOSTS[0])) == HOSTS[0]
    assert json.loads(formatter.format_variables(VARIABLES)) == VARIABLES
    assert json.loads(formatter.format_values("label", ["a", "b"])) == ["a", "b"]
    assert json.loads(formatter.format_list([], ["id"])) == []


def test_yaml_round_trips_every_shape() -> None:
    formatter = get_formatter("yaml")
    assert yaml.safe_load(formatter.format_list(HOSTS, ["id"])) == HOSTS
    assert yaml.safe_load(formatter.format_object(HOSTS[1])) == HOSTS[1]
    assert yaml.safe_load(formatter.format_variables(VARIABLES)) == VARIABLES
    assert yaml.safe_load(formatter.format_document({"all": {"hosts": ["10.0.0.1"]}})) == {
        "all": {"hosts": ["10.0.0.1"]}
    }


def test_csv_uses_raw_field_names_and_quotes_what_needs_it() -> None:
    text = get_formatter("csv").format_list(HOSTS, ["id", "name", "active", "note", "labels"])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {"id": "1", "name": "web-1", "active": "true", "note": "", "labels": '["a", "b"]'}
    assert rows[1]["name"] == "db, primary"
    assert rows[1]["note"] == 'says "hi"'


def test_csv_object_is_a_one_row_table_and_variables_keep_their_type() -> None:
    formatter = get_formatter("csv")
    [row] = list(csv.DictReader(io.StringIO(formatter.format_object({"id": 3, "name": "x"}))))
    assert row == {"id": "3", "name": "x"}
    rows = {r["name"]: r["value"] for r in csv.DictReader(io.StringIO(formatter.format_variables(VARIABLES)))}
    assert rows["number"] == "7"
    assert rows["numeric-string"] == '"7"'
    assert json.loads(rows["nested"]) == {"a": [1]}


def test_csv_refuses_nested_documents() -> None:
    with pytest.raises(UnsupportedOutput):
        get_formatter("csv").format_document({"all": {}})


def test_table_headings_and_cells() -> None:
    text = table.Formatter(width=None).format_list(HOSTS, ["id", "name", "active", "labels"])
    header = text.splitlines()[1]
    assert [part.strip() for part in header.strip("|").split("|")] == ["Id", "Name", "Active", "Labels"]
    assert "| web-1 " in text and '["a", "b"]' in text and "false" in text


def test_table_object_rows_are_sorted_by_key() -> None:
    text = table.Formatter(width=None).format_object({"name": "n", "id": 1, "cloud_id": 2})
    keys = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")]
    assert keys == ["Property", "cloud_id", "id", "name"]


@pytest.mark.parametrize("width", [40, 60, 100])
def test_table_fits_the_terminal_width(width: int) -> None:
    items = [{"id": i, "name": f"host-{i}", "note": "a long note " * 12} for i in range(3)]
    text = table.Formatter(width=width).format_list(items, ["id", "name", "note"])
    assert max(len(line) for line in text.splitlines()) <= width
    # Short columns are never wrapped; the long one is, and nothing is lost.
    assert "| host-0 " in text
    assert text.count("note") == 3 * 12


def test_table_without_width_never_wraps() -> None:
    items = [{"id": 1, "note": "x" * 300}]
    text = table.Formatter(width=None).format_list(items, ["id", "note"])
    assert len(text.splitlines()) == 5


def test_fit_columns_keeps_narrow_columns_whole() -> None:
    widths = table.fit_columns(["Id", "Note"], [["12345", "y" * 200]], 50)
    assert widths[0] == 5
    assert sum(widths) + 3 * 2 + 1 <= 50


def test_terminal_width_prefers_columns_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "77")
    assert table.terminal_width(io.StringIO()) == 77
    monkeypatch.delenv("COLUMNS")
    assert table.terminal_width(io.StringIO()) is None  # a pipe has no width


def test_value_rendering() -> None:
    assert cell_text(None) == ""
    assert cell_text(True) == "true"
    assert cell_text({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
    assert column_label("ip_address") == "Ip Address"
    # Variables show strings bare unless they would read back as another type.
    assert variable_text("east") == "east"
    assert variable_text("7") == '"7"'
    assert variable_text("true") == '"true"'
    assert variable_text("") == '""'
    assert variable_text(7) == "7"
    assert variable_text(None) == "null"
