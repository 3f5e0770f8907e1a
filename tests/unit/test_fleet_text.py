"""The fleet document's JSON and YAML writers: what they write must read back as the document.

The YAML writer writes networks and devices itself (PyYAML only for containers and the
values YAML 1.1 would read differently from JSON), so every kind of awkward string and
number is put through it here and read back with PyYAML.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from craton.domain import fleet_text
from craton.domain.fleet import Items, RawJSON, materialize

AWKWARD = [
    *("yes", "no", "on", "off", "~", "null", "NULL", "True", "=", "<<", "-", "", "012", "0x1F", "1_000", ".inf"),
    *("1:20", "2001-12-14", "1e5", "0.5", "-1", "+1", "a: b", "#x", " lead", "trail ", "multi\nline", "tab\there"),
    *("@at", "`tick", "!bang", "&amp", "*star", "%pct", "{x}", "[x]", "'q'", '"dq"', "a\\b", "é", "\U0001f600"),
    *("a\u2028b", "\x85x", "x\x7fy", "\ufeff", "host-1", "10.0.0.1", "a" * 300, "long\n" * 100),
]


def _device(n: int, text: str) -> dict[str, Any]:
    variables = {"k": text, "f": 1e5, "g": 1.5, "n": None, "l": [text, {"x": 1e-7}], "i": n}
    return {
        "kind": "host",
        "name": text,
        "device_type": text,
        "ip_address": "10.0.0.1",
        "active": n % 2 == 0,
        "note": text,
        "labels": [text, "b"],
        "variables": RawJSON(orjson.dumps(variables).decode()),
        "masks": [text],
        "interfaces": [
            {
                "name": text,
                "interface_type": "e",
                "ip_address": "10.0.0.2",
                "vlan_id": n,
                "variables": RawJSON('{"a": 1}'),
            }
        ],
    }


def _document(devices: list[dict[str, Any]]) -> dict[str, Any]:
    def batches() -> Any:
        return iter([devices[:7], devices[7:]])

    cell = {"name": "x", "variables": {"k": "yes"}, "devices": Items(batches, flat=True)}
    region = {"name": "r", "networks": Items(lambda: iter([[{"name": "n", "cidr": "1:2"}]]), flat=True)}
    region["cells"] = Items.of([cell])
    return {
        "format": "craton-fleet",
        "version": 1,
        "project": {},
        "clouds": Items.of([{"name": "c", "regions": Items.of([region])}]),
    }


def test_awkward_values_read_back_the_same_in_yaml_and_json() -> None:
    devices = [_device(n, text) for n, text in enumerate(AWKWARD)]
    expected = materialize(_document(devices))
    assert expected["clouds"][0]["regions"][0]["cells"][0]["devices"][0]["variables"]["f"] == 1e5
    text = b"".join(fleet_text.chunks(_document(devices), "yaml"))
    assert yaml.safe_load(text) == expected
    assert orjson.loads(b"".join(fleet_text.chunks(_document(devices), "json"))) == expected


def test_plain_strings_stay_plain() -> None:
    text = b"".join(fleet_text.chunks(_document([_device(1, "web-01")]), "yaml")).decode()
    assert "      - kind: host\n        name: web-01\n" in text
    assert '        labels: ["web-01","b"]\n' in text
