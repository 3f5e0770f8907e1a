"""The web UI in a real Chromium: what an operator does, end to end, on the real craton-api.

Set CRATON_UI_SCREENSHOTS=docs/ui to refresh the screenshots in docs/ui.md from this run.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import Craton, expect
from tests.conftest import LiveServer

SCREENSHOTS = os.environ.get("CRATON_UI_SCREENSHOTS")
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def world(ui_server: LiveServer) -> Iterator[dict[str, Any]]:
    transport = httpx.HTTPTransport()
    craton = Craton(ui_server, transport)
    a = craton.tenant()
    inv = a.inventory
    cloud = inv.cloud(name="eu-cloud", variables={"dns": "10.9.9.9"})
    region = inv.region(cloud, name="eu-west", variables={"ntp": "10.0.0.1"})
    cell = inv.cell(region, name="rack-1")
    switch = inv.network_device(region, name="tor-1", cell=cell, ip_address="10.0.1.1")
    web = inv.host(region, name="web-1", cell=cell, parent=switch, variables={"role": "web"}, labels=["web"])
    for n in range(2, 6):
        inv.host(region, name=f"web-{n}", cell=cell, variables={"role": "web"}, labels=["web"])
    inv.host(region, name="db-1", cell=cell, variables={"role": "db"}, ip_address="10.0.2.1")
    b = craton.tenant()
    yield {
        "craton": craton,
        "a": a,
        "b": b,
        "cloud": cloud,
        "region": region,
        "cell": cell,
        "web": web,
        "member_a": a.member(),
        "member_b": b.member(),
    }
    transport.close()


def credentials(client: httpx.Client) -> tuple[str, str, str]:
    return client.headers["X-Auth-Project"], client.headers["X-Auth-User"], client.headers["X-Auth-Token"]


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Any, url: str, client: httpx.Client) -> None:
    project_id, username, api_key = credentials(client)
    page.goto(url + "/ui/login")
    page.get_by_label("Project ID").fill(project_id)
    page.get_by_label("Username").fill(username)
    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/ui/")


def shoot(page: Any, name: str) -> None:
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Critical and serious axe-core findings on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in ("critical", "serious")]


def test_an_operator_finds_a_host_sees_where_ntp_comes_from_and_changes_it(
    page: Any, ui_server: LiveServer, world: dict[str, Any]
) -> None:
    url = ui_server.url
    sign_in(page, url, world["member_a"])
    shoot(page, "overview")
    # Down the tree by clicking, as a person would.
    page.get_by_role("link", name="eu-cloud").first.click()
    page.get_by_role("link", name="eu-west").first.click()
    page.get_by_role("link", name="rack-1").first.click()
    assert page.get_by_role("heading", name="rack-1").is_visible()
    # Find the host by a variable.
    page.goto(url + "/ui/hosts")
    page.get_by_label("Variables query").fill('role:"db"')
    page.get_by_role("button", name="Filter").click()
    results = page.locator("#results tbody")
    assert results.locator("tr").count() == 1
    assert results.get_by_role("link", name="db-1").is_visible()
    page.get_by_label("Variables query").fill("[*]x")
    page.get_by_role("button", name="Filter").click()
    assert "invalid JSON Path" in page.locator("#vars-error").inner_text()
    # The host's resolved variables name the level that sets ntp.
    page.goto(url + f"/ui/hosts/{world['web']['id']}")
    ntp = page.locator('tr[data-key="ntp"]')
    assert ntp.locator("code.value").inner_text() == '"10.0.0.1"'
    assert ntp.locator(".source").inner_text().strip() == "region eu-west"
    shoot(page, "host")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shoot(page, "host-phone")
    page.set_viewport_size(LAPTOP)
    before_change = dt.datetime.now(dt.timezone.utc).isoformat()
    time.sleep(0.01)
    # Follow the source to the region and change its value, with a reason.
    ntp.locator(".source a").click()
    page.get_by_role("link", name="Edit variables").click()
    editor = page.get_by_label("Variables (JSON)")
    editor.fill('{"ntp": "10.0.0.2"}')
    page.get_by_label("Reason for this change").fill("new NTP pool")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("status").inner_text() == "Saved."
    # The host now resolves the new value; its point-in-time diff shows the change.
    page.goto(url + f"/ui/hosts/{world['web']['id']}")
    assert page.locator('tr[data-key="ntp"] code.value').inner_text() == '"10.0.0.2"'
    page.goto(url + f"/ui/hosts/{world['web']['id']}/history")
    page.get_by_label("Changes from").fill(before_change)
    page.get_by_role("button", name="Compare").click()
    diff = page.locator("#diff-result").inner_text()
    assert "ntp" in diff and '"10.0.0.1"' in diff and '"10.0.0.2"' in diff
    shoot(page, "history-diff")
    # The region's history has the change with who, why and the diff.
    page.goto(url + f"/ui/regions/{world['region']['id']}/history")
    first = page.locator("#timeline > li").first
    assert "Reason: new NTP pool" in first.inner_text()
    assert '"10.0.0.1"' in first.inner_text() and '"10.0.0.2"' in first.inner_text()
    shoot(page, "region-history")


def test_an_edit_conflict_keeps_both_versions_until_the_user_decides(
    page: Any, ui_server: LiveServer, world: dict[str, Any]
) -> None:
    url = ui_server.url
    cell_id = world["cell"]["id"]
    sign_in(page, url, world["member_a"])
    page.goto(url + f"/ui/cells/{cell_id}/variables")
    page.get_by_label("Variables (JSON)").fill('{"motd": "mine"}')
    expect(world["a"].client.put(f"/v1/cells/{cell_id}/variables", json={"motd": "theirs"}), 200)
    page.get_by_role("button", name="Save").click()
    assert "Someone changed this object" in page.locator("#edit-error").inner_text()
    assert '"theirs"' in page.locator("#theirs").inner_text()
    assert '"mine"' in page.get_by_label("Variables (JSON)").input_value()
    shoot(page, "conflict")
    assert expect(world["a"].client.get(f"/v1/cells/{cell_id}/variables"), 200)["variables"] == {"motd": "theirs"}
    page.get_by_role("button", name="Save mine over theirs").click()
    assert page.get_by_role("status").inner_text() == "Saved."
    assert expect(world["a"].client.get(f"/v1/cells/{cell_id}/variables"), 200)["variables"] == {"motd": "mine"}


def test_another_projects_member_gets_not_found_and_signing_out_ends_access(
    page: Any, ui_server: LiveServer, world: dict[str, Any]
) -> None:
    url = ui_server.url
    sign_in(page, url, world["member_b"])
    page.goto(url + f"/ui/hosts/{world['web']['id']}")
    assert page.get_by_role("heading", name="Not found").is_visible()
    page.goto(url + "/ui/search?q=web")
    assert "Nothing found." in page.content()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(url + "/ui/login")
    page.goto(url + "/ui/")
    assert page.url.startswith(url + "/ui/login")


def test_signing_in_works_with_the_keyboard_alone(page: Any, ui_server: LiveServer, world: dict[str, Any]) -> None:
    project_id, username, api_key = credentials(world["member_a"])
    page.goto(ui_server.url + "/ui/login")
    page.keyboard.press("Tab")  # the skip link comes first
    for value in (project_id, username, api_key):
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    page.keyboard.press("Enter")
    page.wait_for_url(ui_server.url + "/ui/")
    assert page.get_by_role("heading", name="Overview").is_visible()


def test_no_critical_or_serious_accessibility_findings(page: Any, ui_server: LiveServer, world: dict[str, Any]) -> None:
    url = ui_server.url
    page.goto(url + "/ui/login")
    found = {"/ui/login": axe_violations(page)}
    sign_in(page, url, world["member_a"])
    web, region = world["web"]["id"], world["region"]["id"]
    for path in (
        "/ui/",
        "/ui/hosts",
        "/ui/hosts?vars=[bad",
        f"/ui/hosts/{web}",
        f"/ui/hosts/{web}/history",
        f"/ui/regions/{region}",
        f"/ui/regions/{region}/variables",
        "/ui/network-devices",
        "/ui/search?q=web",
        "/ui/inventory",
    ):
        page.goto(url + path)
        found[path] = axe_violations(page)
    summary = {path: [v["id"] for v in violations] for path, violations in found.items() if violations}
    assert summary == {}
