"""The web UI over plain HTTP, on every database: sessions, CSRF, tenancy, edits, query counts.

The browser tests (test_ui_browser.py) drive the same pages in Chromium; these check what a
browser cannot easily show: cookie flags, what the database holds afterwards, and that another
project's objects are as absent from the UI as they are from the API.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.helpers import Craton, Tenant, expect
from tests.ui.helpers import credentials_of, csrf_token, etag_of, sign_in


@pytest.fixture(scope="module")
def fleet(craton: Craton) -> dict[str, Any]:
    """Project A with a small tree and variables on several levels; project B with a member."""
    a = craton.tenant()
    inv = a.inventory
    cloud = inv.cloud(name="ui-cloud", variables={"dns": "10.9.9.9"})
    region = inv.region(cloud, name="ui-region", variables={"ntp": "10.0.0.1", "tier": "gold"})
    cell = inv.cell(region, name="ui-cell")
    switch = inv.network_device(region, name="ui-switch", cell=cell)
    host = inv.host(region, name="ui-web-1", cell=cell, parent=switch, variables={"tier": "silver"}, labels=["web"])
    network = inv.network(region, name="ui-net", cell=cell)
    interface = inv.interface(host, name="ui-eth0", network=network)
    b = craton.tenant()
    return {
        "a": a,
        "b": b,
        "member_a": a.member(),
        "member_b": b.member(),
        "objects": {
            "clouds": cloud["id"],
            "regions": region["id"],
            "cells": cell["id"],
            "hosts": host["id"],
            "network-devices": switch["id"],
            "networks": network["id"],
            "network-interfaces": interface["id"],
        },
    }


def ui(craton: Craton, client: httpx.Client) -> httpx.Client:
    return sign_in(craton.url, credentials_of(client))


def test_root_and_ui_redirect_to_the_overview(craton: Craton) -> None:
    anonymous = httpx.Client(base_url=craton.url, follow_redirects=False)
    assert anonymous.get("/").headers["location"] == "/ui/"
    response = anonymous.get("/ui/hosts?vars=a:1")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/hosts%3Fvars%3Da%3A1"
    login = anonymous.get("/ui/login")
    assert login.status_code == 200
    for field in ("project_id", "username", "api_key"):
        assert f'<label for="{field}">' in login.text and f'name="{field}"' in login.text


def test_signing_in_sets_a_strict_http_only_expiring_cookie(craton: Craton, fleet: dict[str, Any]) -> None:
    who = credentials_of(fleet["member_a"])
    browser = httpx.Client(base_url=craton.url, follow_redirects=False)
    response = browser.post(
        "/ui/login",
        data={"project_id": who.project_id, "username": who.username, "api_key": who.api_key, "next": "/ui/hosts"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/ui/hosts"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=" in cookie and "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain http on loopback; https adds it
    token = browser.cookies["craton_session"]
    assert who.api_key not in cookie and len(token) >= 40
    assert browser.get("/ui/hosts").status_code == 200


def test_next_never_leaves_the_ui(craton: Craton, fleet: dict[str, Any]) -> None:
    who = credentials_of(fleet["member_a"])
    browser = httpx.Client(base_url=craton.url, follow_redirects=False)
    data = {"project_id": who.project_id, "username": who.username, "api_key": who.api_key}
    for target in ("https://evil.example/", "//evil.example/ui/", "/v1/hosts"):
        response = browser.post("/ui/login", data={**data, "next": target})
        assert response.headers["location"] == "/ui/"


def test_a_bad_key_says_so_and_sets_no_cookie(craton: Craton, fleet: dict[str, Any]) -> None:
    who = credentials_of(fleet["member_a"])
    browser = httpx.Client(base_url=craton.url, follow_redirects=False)
    response = browser.post("/ui/login", data={"project_id": who.project_id, "username": who.username, "api_key": "x"})
    assert response.status_code == 401
    assert "The project ID, username or API key is not right." in response.text
    assert "set-cookie" not in response.headers
    assert who.username in response.text  # the form keeps what was typed, except the key


def test_repeated_failures_are_rate_limited(craton: Craton, fleet: dict[str, Any]) -> None:
    who = credentials_of(fleet["b"].member())
    browser = httpx.Client(base_url=craton.url, follow_redirects=False)
    data = {"project_id": who.project_id, "username": who.username, "api_key": "wrong"}
    statuses = [browser.post("/ui/login", data=data).status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    blocked = browser.post("/ui/login", data={**data, "api_key": who.api_key})
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert "set-cookie" not in blocked.headers


def test_forms_without_the_csrf_token_change_nothing(craton: Craton, fleet: dict[str, Any]) -> None:
    host_id = fleet["objects"]["hosts"]
    browser = ui(craton, fleet["member_a"])
    form = browser.get(f"/ui/hosts/{host_id}/variables").text
    for token in (None, "forged"):
        data = {"variables": '{"tier": "forged"}', "etag": etag_of(form)}
        if token:
            data["csrf_token"] = token
        response = browser.post(f"/ui/hosts/{host_id}/variables", data=data)
        assert response.status_code == 403
    own = expect(fleet["member_a"].get(f"/v1/hosts/{host_id}/variables?resolved-values=false"), 200)["variables"]
    assert own == {"tier": "silver"}


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(craton: Craton, fleet: dict[str, Any]) -> None:
    browser = ui(craton, fleet["member_a"])
    stolen = httpx.Client(base_url=craton.url, follow_redirects=False, cookies=dict(browser.cookies))
    page = browser.get("/ui/")
    assert stolen.get("/ui/").status_code == 200
    assert browser.post("/ui/logout", data={"csrf_token": csrf_token(page.text)}).headers["location"] == "/ui/login"
    assert stolen.get("/ui/").status_code == 303


PAGES = ("", "/history", "/variables")


@pytest.mark.parametrize("collection", ["clouds", "regions", "cells", "hosts", "network-devices", "networks"])
def test_another_projects_objects_are_not_found(craton: Craton, fleet: dict[str, Any], collection: str) -> None:
    """The API's isolation matrix, on the UI's pages: member and admin of B see 404, root and A see them."""
    object_id = fleet["objects"][collection]
    outsiders = [ui(craton, fleet["member_b"]), ui(craton, fleet["b"].client)]
    insiders = [ui(craton, fleet["member_a"]), ui(craton, fleet["a"].client), ui(craton, craton.root)]
    for suffix in PAGES:
        path = f"/ui/{collection}/{object_id}{suffix}"
        for browser in outsiders:
            assert browser.get(path).status_code == 404, path
        for browser in insiders:
            assert browser.get(path).status_code == 200, path
    listing = outsiders[0].get(f"/ui/{collection}").text
    assert f'/ui/{collection}/{object_id}"' not in listing


def test_a_path_id_that_cannot_be_an_id_is_not_found_as_in_the_api(craton: Craton, fleet: dict[str, Any]) -> None:
    """``/ui/hosts/abc`` answers 404 like ``/v1/hosts/abc`` (not 400, nor a 500 on the edit pages)."""
    browser = ui(craton, fleet["a"].client)
    token = csrf_token(browser.get("/ui/").text)
    assert fleet["a"].client.get("/v1/hosts/abc").status_code == 404
    for path in ("/ui/hosts/abc", "/ui/hosts/abc/history", "/ui/hosts/abc/variables", "/ui/hosts/abc/delete"):
        assert browser.get(path).status_code == 404, path
    assert browser.get("/ui/devices/1x").status_code == 404
    for path in ("/ui/hosts/abc/variables", "/ui/hosts/abc/labels", "/ui/hosts/abc/delete"):
        response = browser.post(path, data={"csrf_token": token, "etag": "*", "variables": "{}", "labels": "x"})
        assert response.status_code == 404, path


def test_interfaces_are_isolated_too(craton: Craton, fleet: dict[str, Any]) -> None:
    path = f"/ui/network-interfaces/{fleet['objects']['network-interfaces']}"
    assert ui(craton, fleet["member_b"]).get(path).status_code == 404
    assert ui(craton, fleet["member_a"]).get(path).status_code == 200


def test_an_outsider_cannot_write_to_another_projects_variables(craton: Craton, fleet: dict[str, Any]) -> None:
    region_id = fleet["objects"]["regions"]
    outsider = ui(craton, fleet["member_b"])
    token = csrf_token(outsider.get("/ui/").text)
    response = outsider.post(
        f"/ui/regions/{region_id}/variables", data={"csrf_token": token, "etag": "*", "variables": '{"ntp": "x"}'}
    )
    assert response.status_code == 404
    assert expect(fleet["member_a"].get(f"/v1/regions/{region_id}/variables"), 200)["variables"]["ntp"] == "10.0.0.1"


def variables_table(page: str) -> dict[str, tuple[str, str]]:
    """key -> (value as shown, source as shown) from the resolved variables table."""
    rows = re.findall(
        r'<tr data-key="([^"]+)">.*?<code class="value">(.*?)</code>.*?class="source">(.*?)</td>', page, re.S
    )
    return {key: (value, re.sub(r"<[^>]+>|\s+", " ", source).strip()) for key, value, source in rows}


def test_the_host_page_names_the_level_that_sets_each_value(craton: Craton, fleet: dict[str, Any]) -> None:
    host_id = fleet["objects"]["hosts"]
    page = ui(craton, fleet["member_a"]).get(f"/ui/hosts/{host_id}").text
    shown = variables_table(page)
    assert shown["ntp"] == ("&#34;10.0.0.1&#34;", "region ui-region")
    assert shown["dns"] == ("&#34;10.9.9.9&#34;", "cloud ui-cloud")
    assert shown["tier"] == ("&#34;silver&#34;", "host ui-web-1")
    assert "region ui-region: <code>&#34;gold&#34;</code>" in page  # the value the host overrides
    assert f'href="/ui/regions/{fleet["objects"]["regions"]}"' in page
    own = variables_table(ui(craton, fleet["member_a"]).get(f"/ui/hosts/{host_id}?own=1").text)
    assert set(own) == {"tier"}


def test_editing_variables_records_the_reason_in_the_history(craton: Craton, fleet: dict[str, Any]) -> None:
    tenant: Tenant = fleet["a"]
    region = tenant.inventory.region(name="edit-region", variables={"ntp": "10.0.0.1", "old": True})
    browser = ui(craton, fleet["member_a"])
    form = browser.get(f"/ui/regions/{region['id']}/variables").text
    response = browser.post(
        f"/ui/regions/{region['id']}/variables",
        data={
            "csrf_token": csrf_token(form),
            "etag": etag_of(form),
            "variables": '{"ntp": "10.0.0.2", "new": [1, 2]}',
            "reason": "NTP moved to the new pool",
        },
    )
    assert response.status_code == 303, response.text
    own = expect(tenant.client.get(f"/v1/regions/{region['id']}/variables"), 200)["variables"]
    assert own == {"ntp": "10.0.0.2", "new": [1, 2]}
    history = expect(tenant.client.get(f"/v1/regions/{region['id']}/history"), 200)["history"]
    edits = [entry for entry in history if entry["reason"] == "NTP moved to the new pool"]
    assert [entry["action"] for entry in edits] == ["variables", "variables"]  # the set and the removal
    assert edits[0]["new"] == {"ntp": "10.0.0.2", "new": [1, 2]} and edits[1]["old"] == {"old": True}
    timeline = browser.get(f"/ui/regions/{region['id']}/history").text
    assert "Reason: NTP moved to the new pool" in timeline and "10.0.0.2" in timeline


def test_an_edit_conflict_shows_both_versions_and_saves_nothing(craton: Craton, fleet: dict[str, Any]) -> None:
    tenant: Tenant = fleet["a"]
    cell = tenant.inventory.cell(name="conflict-cell", variables={"motd": "hello"})
    browser = ui(craton, fleet["member_a"])
    form = browser.get(f"/ui/cells/{cell['id']}/variables").text
    expect(tenant.client.put(f"/v1/cells/{cell['id']}/variables", json={"motd": "theirs"}), 200)
    mine = {"csrf_token": csrf_token(form), "etag": etag_of(form), "variables": '{"motd": "mine"}', "reason": "r"}
    response = browser.post(f"/ui/cells/{cell['id']}/variables", data=mine)
    assert response.status_code == 409
    assert "Someone changed this object" in response.text
    assert "&#34;theirs&#34;" in response.text and "&#34;mine&#34;" in response.text
    assert expect(tenant.client.get(f"/v1/cells/{cell['id']}/variables"), 200)["variables"] == {"motd": "theirs"}
    again = browser.post(f"/ui/cells/{cell['id']}/variables", data={**mine, "etag": etag_of(response.text)})
    assert again.status_code == 303
    assert expect(tenant.client.get(f"/v1/cells/{cell['id']}/variables"), 200)["variables"] == {"motd": "mine"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "The body is not valid JSON"),
        ("[1, 2]", "Variables must be a JSON object"),
        ('{"a\\u0000": 1}', "does not match any of the regexes"),
    ],
)
def test_bad_variables_are_refused_with_the_apis_message(
    craton: Craton, fleet: dict[str, Any], text: str, message: str
) -> None:
    tenant: Tenant = fleet["a"]
    cloud = tenant.inventory.cloud(variables={"keep": 1})
    browser = ui(craton, fleet["member_a"])
    form = browser.get(f"/ui/clouds/{cloud['id']}/variables").text
    data = {"csrf_token": csrf_token(form), "etag": etag_of(form), "variables": text}
    response = browser.post(f"/ui/clouds/{cloud['id']}/variables", data=data)
    assert response.status_code == 400 and message in response.text
    assert expect(tenant.client.get(f"/v1/clouds/{cloud['id']}/variables"), 200)["variables"] == {"keep": 1}


def test_lists_filter_and_show_vars_errors_next_to_the_box(craton: Craton, fleet: dict[str, Any]) -> None:
    browser = ui(craton, fleet["member_a"])
    matched = browser.get("/ui/hosts", params={"vars": 'tier:"silver"', "label": "web"}).text
    assert ">ui-web-1</a>" in matched
    missed = browser.get("/ui/hosts", params={"vars": 'tier:"gold"'}).text
    assert ">ui-web-1</a>" not in missed and "Nothing matches." in missed
    bad = browser.get("/ui/hosts", params={"vars": "[*]x"})
    assert bad.status_code == 200
    assert 'id="vars-error"' in bad.text and "invalid JSON Path" in bad.text
    by_name = browser.get("/ui/hosts", params={"name": "WEB-1"}).text
    assert ">ui-web-1</a>" in by_name


@pytest.mark.parametrize("query", ["ui-web", "web", "10.0.0.1", "tier", "tier=silver"])
def test_search_finds_hosts_by_name_label_ip_key_and_value(craton: Craton, fleet: dict[str, Any], query: str) -> None:
    page = ui(craton, fleet["member_a"]).get("/ui/search", params={"q": query}).text
    assert f'/ui/hosts/{fleet["objects"]["hosts"]}"' in page


def test_search_stays_inside_the_project(craton: Craton, fleet: dict[str, Any]) -> None:
    page = ui(craton, fleet["member_b"]).get("/ui/search", params={"q": "ui-web"}).text
    assert "Nothing found." in page


def test_the_inventory_page_shows_and_downloads_the_apis_document(craton: Craton, fleet: dict[str, Any]) -> None:
    browser = ui(craton, fleet["member_a"])
    assert "ui-web-1" in browser.get("/ui/inventory").text
    download = browser.get("/ui/inventory", params={"download": "1"})
    assert download.headers["content-disposition"].startswith("attachment")
    api = expect(fleet["member_a"].get("/v1/ansible-inventory"), 200)
    assert download.json() == api


def test_page_queries_do_not_grow_with_the_fleet(craton: Craton) -> None:
    """A list page, a cell page and the overview cost the same statements for 3 or 40 hosts."""
    counts = []
    for size in (3, 40):
        tenant = craton.tenant()
        cell = tenant.inventory.cell(variables={"k": 1})
        for n in range(size):
            tenant.inventory.host(cell=cell, name=f"h{n:03}", variables={"n": n}, labels=["x"])
        browser = ui(craton, tenant.client)
        per_page = []
        for path in ("/ui/hosts", "/ui/hosts?vars=n:1", f"/ui/cells/{cell['id']}", "/ui/"):
            with craton.server.count_queries() as counter:
                assert browser.get(path).status_code == 200
            per_page.append(counter.count)
        counts.append(per_page)
    assert counts[0] == counts[1], counts
    assert max(counts[1]) <= 12, counts


def test_deleting_shows_what_goes_with_it_and_keeps_the_history(craton: Craton, fleet: dict[str, Any]) -> None:
    tenant: Tenant = fleet["a"]
    region = tenant.inventory.region(name="doomed-region")
    cell = tenant.inventory.cell(region, name="doomed-cell")
    hosts = [tenant.inventory.host(region, cell=cell, name=f"doomed-{n}") for n in range(2)]
    tenant.inventory.network(region, name="doomed-net")
    browser = ui(craton, fleet["member_a"])
    form = browser.get(f"/ui/regions/{region['id']}/delete")
    assert form.status_code == 200
    counts = re.search(r'<p id="delete-counts">(.*?)</p>', form.text, re.S)
    assert counts and counts.group(1).startswith("This also deletes 1 cell, 2 hosts, 1 network,")
    expect(tenant.client.get(f"/v1/regions/{region['id']}"), 200)  # the preview deleted nothing
    stale = {"csrf_token": csrf_token(form.text), "etag": '"stale"', "reason": "decommissioned"}
    assert browser.post(f"/ui/regions/{region['id']}/delete", data=stale).status_code == 409
    expect(tenant.client.get(f"/v1/regions/{region['id']}"), 200)
    confirm = {**stale, "etag": etag_of(form.text)}
    done = browser.post(f"/ui/regions/{region['id']}/delete", data=confirm)
    assert done.status_code == 303 and done.headers["location"].startswith("/ui/regions?deleted=")
    assert tenant.client.get(f"/v1/regions/{region['id']}").status_code == 404
    history = expect(tenant.client.get(f"/v1/hosts/{hosts[0]['id']}/history"), 200)["history"]
    assert history[-1]["action"] == "delete" and history[-1]["reason"] == "decommissioned"


def test_labels_are_edited_as_one_list_with_a_reason(craton: Craton, fleet: dict[str, Any]) -> None:
    tenant: Tenant = fleet["a"]
    host = tenant.inventory.host(name="labelled", labels=["old", "keep"])
    browser = ui(craton, fleet["member_a"])
    page = browser.get(f"/ui/hosts/{host['id']}").text
    data = {"csrf_token": csrf_token(page), "etag": etag_of(page), "labels": "keep, new ,gpu", "reason": "racked"}
    assert browser.post(f"/ui/hosts/{host['id']}/labels", data=data).status_code == 303
    labels = expect(tenant.client.get(f"/v1/hosts/{host['id']}/labels"), 200)["labels"]
    assert sorted(labels) == ["gpu", "keep", "new"]
    history = expect(tenant.client.get(f"/v1/hosts/{host['id']}/history"), 200)["history"]
    assert [e["reason"] for e in history if e["action"] == "labels"][-2:] == ["racked", "racked"]
    assert browser.post(f"/ui/hosts/{host['id']}/labels", data=data).status_code == 412  # the old version


def form_error(page: str) -> str:
    match = re.search(r'id="form-error">(.*?)</p>', page, re.S)
    return match.group(1) if match else ""


def test_objects_are_created_from_forms_checked_like_the_api(craton: Craton, fleet: dict[str, Any]) -> None:
    tenant: Tenant = fleet["a"]
    region = tenant.inventory.region(name="form-region")
    browser = ui(craton, fleet["member_a"])
    token = csrf_token(browser.get("/ui/").text)
    new_cell = browser.get(f"/ui/cells/new?cloud_id={region['cloud_id']}&region_id={region['id']}").text
    assert f'name="region_id" type="number" value="{region["id"]}"' in new_cell
    place = {"cloud_id": str(region["cloud_id"]), "region_id": str(region["id"])}
    made = browser.post("/ui/cells/new", data={"csrf_token": token, "name": "form-cell", **place, "reason": "r"})
    assert made.status_code == 303
    cell_id = int(made.headers["location"].split("/")[3].split("?")[0])
    host = {"csrf_token": token, "name": "form-host", **place, "cell_id": str(cell_id), "ip_address": "10.3.0.1"}
    host |= {"device_type": "server", "active": "on", "labels": "a, b"}
    assert browser.post("/ui/hosts/new", data=host).status_code == 303
    listed = expect(tenant.client.get("/v1/hosts", params={"name": "form-host"}), 200)["hosts"]
    assert len(listed) == 1 and listed[0]["cell_id"] == cell_id and listed[0]["active"] is True
    assert sorted(expect(tenant.client.get(f"/v1/hosts/{listed[0]['id']}/labels"), 200)["labels"]) == ["a", "b"]
    again = browser.post("/ui/hosts/new", data=host)
    assert again.status_code == 409 and form_error(again.text) == "A device with the given name already exists."
    bad = browser.post("/ui/hosts/new", data={**host, "name": "other", "ip_address": "nope"})
    assert bad.status_code == 400 and "is not a valid IPv4 or IPv6 address" in form_error(bad.text)
    assert 'value="other"' in bad.text  # what was typed is kept
    missing = browser.post("/ui/hosts/new", data={"csrf_token": token, "name": "x"})
    assert missing.status_code == 400 and "is a required property" in form_error(missing.text)
    assert len(expect(tenant.client.get("/v1/hosts", params={"name": "other"}), 200)["hosts"]) == 0


def test_editing_fields_and_moving_a_host_is_versioned_and_recorded(craton: Craton, fleet: dict[str, Any]) -> None:
    tenant: Tenant = fleet["a"]
    region = tenant.inventory.region(name="move-region")
    old_cell = tenant.inventory.cell(region, name="old-cell")
    new_cell = tenant.inventory.cell(region, name="new-cell")
    host = tenant.inventory.host(region, cell=old_cell, name="mover")
    browser = ui(craton, fleet["member_a"])
    form = browser.get(f"/ui/hosts/{host['id']}/edit").text
    data = {
        "csrf_token": csrf_token(form),
        "etag": etag_of(form),
        "name": "mover",
        "ip_address": "10.0.0.1",
        "device_type": "server",
        "active": "on",
        "region_id": str(region["id"]),
        "cell_id": str(new_cell["id"]),
        "note": "moved to the new rack",
        "reason": "rack swap",
    }
    assert browser.post(f"/ui/hosts/{host['id']}/edit", data=data).status_code == 303
    moved = expect(tenant.client.get(f"/v1/hosts/{host['id']}"), 200)
    assert moved["cell_id"] == new_cell["id"] and moved["note"] == "moved to the new rack"
    history = expect(tenant.client.get(f"/v1/hosts/{host['id']}/history"), 200)["history"]
    assert history[-1]["reason"] == "rack swap"
    stale = browser.post(f"/ui/hosts/{host['id']}/edit", data={**data, "note": "again"})
    assert stale.status_code == 409 and "Someone changed this object" in form_error(stale.text)
    assert expect(tenant.client.get(f"/v1/hosts/{host['id']}"), 200)["note"] == "moved to the new rack"


def test_merged_keys_show_each_levels_part(craton: Craton) -> None:
    """A key declared ``union`` lists the part each level contributes (issue 16's blame)."""
    tenant = craton.tenant()
    expect(
        tenant.client.put(f"/v1/projects/{tenant.project_id}/merge-strategies", json={"ntp_servers": "union"}),
        200,
    )
    region = tenant.inventory.region(name="merge-region", variables={"ntp_servers": ["a", "b"]})
    host = tenant.inventory.host(region, name="merge-host", variables={"ntp_servers": ["b", "c"]})
    page = ui(craton, tenant.client).get(f"/ui/hosts/{host['id']}").text
    shown = variables_table(page)
    assert shown["ntp_servers"][0] == "[&#34;a&#34;, &#34;b&#34;, &#34;c&#34;]"
    assert "<strong>union</strong> merge of:" in page
    assert "region merge-region: <code>[&#34;a&#34;, &#34;b&#34;]</code>" in page
    assert "host merge-host: <code>[&#34;c&#34;]</code>" in page
