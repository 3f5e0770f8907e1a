"""``craton-inventory`` pieces that need no server: marking templates unsafe, and usage errors."""

from __future__ import annotations

import io
import json

import pytest

from cratonclient import inventory_script


def test_an_inventory_without_templates_is_passed_through_unparsed() -> None:
    body = b'{"all":{"children":["r"]},"r":{"hosts":["h"],"vars":{"a":"{x}"}},"_meta":{"hostvars":{"h":{"b":1}}}}'
    assert inventory_script.untrusted(body) is body


def test_template_strings_are_marked_unsafe_wherever_they_are() -> None:
    inventory = {
        "all": {"children": ["r"], "hosts": [], "vars": {}},
        "r": {"hosts": ["h{{x}}"], "vars": {"motd": "{{ lookup('pipe', 'id') }}", "plain": "text"}},
        "_meta": {
            "hostvars": {
                "h{{x}}": {"deep": {"list": ["ok", "{% if 1 %}x{% endif %}"]}, "note": "{# c #}", "n": 3, "none": None}
            }
        },
    }
    marked = json.loads(inventory_script.untrusted(json.dumps(inventory).encode()))
    assert marked["r"]["vars"] == {"motd": {"__ansible_unsafe": "{{ lookup('pipe', 'id') }}"}, "plain": "text"}
    assert marked["r"]["hosts"] == ["h{{x}}"]  # names are never templated: left alone
    hostvars = marked["_meta"]["hostvars"]["h{{x}}"]
    assert hostvars == {
        "deep": {"list": ["ok", {"__ansible_unsafe": "{% if 1 %}x{% endif %}"}]},
        "note": {"__ansible_unsafe": "{# c #}"},
        "n": 3,
        "none": None,
    }


def run(argv: list[str], environ: dict[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    out = io.BytesIO()
    try:
        code = inventory_script.main(argv, environ=environ, stdout=out)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_missing_settings_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["--list"], {}, capsys)
    assert code == 1 and "CRATON_URL" in err
    code, err = run(["--list"], {"CRATON_URL": "http://127.0.0.1:9", "OS_USERNAME": "u"}, capsys)
    assert code == 1 and "OS_PROJECT_ID" in err and "OS_PASSWORD" in err and "OS_USERNAME" not in err


def test_malformed_environment_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["--list"], {"CRATON_INVENTORY_REGION_ID": "east"}, capsys)
    assert code == 2 and "CRATON_INVENTORY_REGION_ID" in err
    code, err = run(["--list"], {"CRATON_INVENTORY_CACHE_TTL": "soon"}, capsys)
    assert code == 2 and "cache" in err


def test_an_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    environ = {
        "CRATON_URL": "http://127.0.0.1:9",
        "OS_PROJECT_ID": "p",
        "OS_USERNAME": "u",
        "OS_PASSWORD": "secret-key-value",
        "CRATON_INVENTORY_TIMEOUT": "5",
    }
    code, err = run(["--list"], environ, capsys)
    assert code == 1
    assert err.startswith("craton-inventory: error: cannot reach Craton at http://127.0.0.1:9/v1/ansible-inventory")
    assert "Traceback" not in err and "secret-key-value" not in err
