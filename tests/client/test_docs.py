"""Every Python block of docs/client.md and docs/client/*.md runs against the live server.

Blocks of one page run in order in one namespace, as a reader would paste them, with the
page's credentials in the environment variables the docs read (fresh project per page).
Fences marked ``python skip`` are shown but not run (Keystone, stand-alone scripts).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted((DOCS / "client").glob("*.md"))
FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(page: Path) -> list[str]:
    return [code for info, code in FENCE.findall(page.read_text(encoding="utf-8")) if "skip" not in info.split()]


def run_page(page: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {"__name__": f"docs.{page.stem}"}
    blocks = python_blocks(page)
    assert blocks, f"{page} has no runnable example"
    for number, code in enumerate(blocks, 1):
        exec(compile(code, f"{page.name} block {number}", "exec"), namespace)
    return namespace


def credentials(url: str, project_id: str, username: str, api_key: str) -> dict[str, str]:
    return {"CRATON_URL": url, "OS_PROJECT_ID": project_id, "OS_USERNAME": username, "OS_PASSWORD": api_key}


def test_every_resource_has_a_guide():
    expected = {
        "projects",
        "users",
        "clouds",
        "regions",
        "cells",
        "hosts",
        "network-devices",
        "networks",
        "network-interfaces",
        "devices",
        "inventory",
        "fleet",
        "history",
        "webhooks",
    }
    assert {page.stem for page in PAGES} == expected
    overview = (DOCS / "client.md").read_text(encoding="utf-8")
    for page in PAGES:
        assert f"(client/{page.name})" in overview


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_guide_runs(page, live_server, tenant, monkeypatch, capsys):
    if page.stem == "projects":  # creating projects needs root
        env = credentials(live_server.url, live_server.project_id, live_server.username, live_server.api_key)
    else:
        env = credentials(tenant.url, tenant.project_id, tenant.username, tenant.api_key)

    namespace = run_page(page, env, monkeypatch)

    printed = capsys.readouterr().out
    assert printed  # every guide shows something
    if "seen" in namespace:  # the manual pagination loop ran to its empty page
        ids = [item.id for item in namespace["seen"]]
        assert len(ids) >= 13 and len(set(ids)) == len(ids)
        assert f"{len(ids)} " in printed
        if page.stem != "projects":
            assert ids == sorted(ids)  # creation order, nothing skipped or repeated


def test_overview_runs(tenant, monkeypatch, capsys):
    env = credentials(tenant.url, tenant.project_id, tenant.username, tenant.api_key)

    namespace = run_page(DOCS / "client.md", env, monkeypatch)

    printed = capsys.readouterr().out
    assert "404" in printed and "req-" in printed
    assert namespace["patient"].timeout == 120
    assert printed.strip().endswith(namespace["patient"].user_agent)


def test_manual_pagination_guides_use_a_loop_that_terminates():
    # The seed's loop starts from None and never runs; ours must start unconditionally.
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        if "## Paginate by hand" in text and "marker = None" in text:
            assert "while True:" in text and "if not page:" in text, page.name
