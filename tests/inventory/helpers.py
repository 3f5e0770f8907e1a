"""Helpers for the Ansible inventory tests: running the real ``ansible-inventory``, and the
inventory the API's ordinary endpoints say Ansible should see.

Nothing is mocked: the plugin (ansible_collections/openstack/craton) and the ``craton-inventory``
script run inside real ansible-core processes against ``live_server`` (a real craton-api on
loopback). The expectation is built from ``/v1/hosts``, ``/v1/hosts/<id>/variables``,
``/v1/regions/<id>/variables`` and ``/v1/cells/<id>/variables``, never from
``/v1/ansible-inventory`` itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RUN_TIMEOUT = 300


def executable(name: str) -> str:
    """A console script of the test environment (the venv first, then PATH)."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found:
        return found
    reason = f"{name} is not installed (tests/requirements.txt and the client package provide it)"
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def group_name(text: str) -> str:
    """The documented rule: other characters than [A-Za-z0-9_] become '_', no leading digit."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return f"_{name}" if not name or name[0].isdigit() else name


RESERVED = frozenset({"all", "ungrouped", "_meta"})


def group_names(
    regions: list[dict[str, Any]], cells: list[dict[str, Any]], labels: list[str]
) -> tuple[dict[int, str], dict[int, str], dict[str, str]]:
    """The documented naming of the groups of one inventory (docs/inventory.md):

    regions by name, qualified as ``<cloud>_<region>`` when two regions in the inventory have the
    same name; cells as ``<region group>_<cell>``; labels by name. A name that is already taken
    (or is ``all``, ``ungrouped``, ``_meta``) gets ``_<id>`` (regions, cells) or ``_label``
    appended. Regions and cells in id order, labels in name order.
    """
    taken: set[str] = set()

    def unique(name: str, qualifier: str) -> str:
        if name in taken or name in RESERVED:
            name = group_name(f"{name}_{qualifier}")
        taken.add(name)
        return name

    bases = [group_name(r["name"]) for r in regions]
    region_group = {}
    for region, base in sorted(zip(regions, bases, strict=True), key=lambda pair: pair[0]["id"]):
        if bases.count(base) > 1:
            base = group_name(f"{region['cloud']}_{region['name']}")
        region_group[region["id"]] = unique(base, str(region["id"]))
    cell_group = {
        cell["id"]: unique(group_name(f"{region_group[cell['region_id']]}_{cell['name']}"), str(cell["id"]))
        for cell in sorted(cells, key=lambda c: c["id"])
    }
    label_group = {label: unique(group_name(label), "label") for label in sorted(labels)}
    return region_group, cell_group, label_group


def plain(value: Any) -> Any:
    """``ansible-inventory --list`` output without ansible-core 2.19's ``__ansible_unsafe`` markers."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return plain(value["__ansible_unsafe"])
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@dataclass
class Credentials:
    url: str
    project_id: str
    username: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Project": self.project_id, "X-Auth-User": self.username, "X-Auth-Token": self.api_key}

    def environ(self) -> dict[str, str]:
        return {
            "CRATON_URL": self.url,
            "OS_PROJECT_ID": self.project_id,
            "OS_USERNAME": self.username,
            "OS_PASSWORD": self.api_key,
        }


@dataclass
class Ansible:
    """Runs ansible-core commands in a clean environment, in a scratch directory."""

    workdir: Path
    credentials: Credentials
    extra_env: dict[str, str] = field(default_factory=dict)

    def environ(self, **overrides: str) -> dict[str, str]:
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        config = self.workdir / "ansible.cfg"
        config.touch()
        env = {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "LC_ALL": "C.UTF-8",
            "LANG": "C.UTF-8",
            "ANSIBLE_CONFIG": str(config),
            "ANSIBLE_HOME": str(home / ".ansible"),
            "ANSIBLE_COLLECTIONS_PATH": str(REPO),
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            **self.credentials.environ(),
            **self.extra_env,
        }
        env.update(overrides)
        return {key: value for key, value in env.items() if value is not None}

    def run(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
        command = [executable(args[0]), *args[1:]]
        result = subprocess.run(
            command,
            cwd=self.workdir,
            env=self.environ(**env),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def source(self, name: str = "craton.yml", **options: Any) -> str:
        """Write an inventory source file for the plugin and return its path."""
        lines = ["plugin: openstack.craton.craton"] + [f"{key}: {json.dumps(value)}" for key, value in options.items()]
        path = self.workdir / name
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    def script(self) -> str:
        return executable("craton-inventory")

    def listing(self, source: str, *extra: str, **env: str) -> dict[str, Any]:
        """``ansible-inventory --list --export``: groups with their own vars, hosts with theirs."""
        result = self.run("ansible-inventory", "-i", source, "--list", "--export", *extra, **env)
        return plain(json.loads(result.stdout))

    def host(self, source: str, name: str, **env: str) -> dict[str, Any]:
        result = self.run("ansible-inventory", "-i", source, "--host", name, **env)
        return plain(json.loads(result.stdout))


def normalise(listing: dict[str, Any]) -> dict[str, Any]:
    """Groups as sets, without Ansible's implicit 'ungrouped', so both sides compare equal."""
    groups = {}
    for name, group in listing.items():
        if name in ("_meta", "ungrouped"):
            continue
        groups[name] = {
            "hosts": sorted(group.get("hosts", [])),
            "children": sorted(c for c in group.get("children", []) if c != "ungrouped"),
            "vars": group.get("vars", {}),
        }
    hostvars = listing.get("_meta", {}).get("hostvars", {})
    return {"groups": groups, "hostvars": hostvars}


def expected_inventory(api: httpx.Client, **filters: Any) -> dict[str, Any]:
    """What Ansible should see, computed from the API's ordinary endpoints.

    Groups without hosts are left out (Ansible drops empty groups from ``--export`` output and
    the server lists only regions and cells that have matching hosts).
    """
    params = {"limit": 100, **{k: v for k, v in filters.items() if v is not None}}
    hosts: list[dict[str, Any]] = []
    url: str | None = "/v1/hosts"
    for _ in range(1000):
        response = api.get(url, params=params if url == "/v1/hosts" else None)
        assert response.status_code == 200, response.text
        body = response.json()
        hosts.extend(body["hosts"])
        nxt = [link["href"] for link in body.get("links", []) if link.get("rel") == "next"]
        if not nxt:
            break
        url = nxt[0]
    hosts.sort(key=lambda h: h["id"])

    names: dict[int, str] = {}
    taken: set[str] = set()
    for host in hosts:
        name = host["name"] if host["name"] not in taken else f"{host['name']}-{host['id']}"
        taken.add(name)
        names[host["id"]] = name

    def own(kind: str, ident: int) -> dict[str, Any]:
        response = api.get(f"/v1/{kind}/{ident}/variables")
        assert response.status_code == 200, response.text
        return response.json()["variables"]

    regions = {r["id"]: r for r in _all(api, "/v1/regions", "regions")}
    clouds = {c["id"]: c["name"] for c in _all(api, "/v1/clouds", "clouds")}
    cells = {c["id"]: c for c in _all(api, "/v1/cells", "cells")}
    region_group, cell_group, label_group = group_names(
        [regions[i] | {"cloud": clouds[regions[i]["cloud_id"]]} for i in sorted({h["region_id"] for h in hosts})],
        [cells[i] for i in sorted({h["cell_id"] for h in hosts if h["cell_id"] is not None})],
        sorted({label for h in hosts for label in h.get("labels", [])}),
    )
    groups: dict[str, dict[str, Any]] = {}

    def group(name: str) -> dict[str, Any]:
        return groups.setdefault(name, {"hosts": [], "children": [], "vars": {}})

    hostvars = {}
    for host in hosts:
        region = group(region_group[host["region_id"]])
        region["vars"] = own("regions", host["region_id"])
        if host["cell_id"] is not None:
            name = cell_group[host["cell_id"]]
            group(name)["vars"] = own("cells", host["cell_id"])
            group(name)["hosts"].append(names[host["id"]])
            if name not in region["children"]:
                region["children"].append(name)
        else:
            region["hosts"].append(names[host["id"]])
        for label in host.get("labels", []):
            group(label_group[label])["hosts"].append(names[host["id"]])
        resolved = api.get(f"/v1/hosts/{host['id']}/variables")
        assert resolved.status_code == 200, resolved.text
        variables = dict(resolved.json()["variables"])
        variables.setdefault("ansible_host", host["ip_address"])
        hostvars[names[host["id"]]] = variables

    for value in groups.values():
        value["hosts"].sort()
        value["children"].sort()
    # Regions whose hosts all sit in cells still appear, as parents of their cells.
    top = sorted(name for name in groups if not any(name in g["children"] for g in groups.values()))
    groups["all"] = {"hosts": [], "children": top, "vars": {}}
    return {"groups": groups, "hostvars": hostvars, "hosts": hosts, "names": names}


def _all(api: httpx.Client, path: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    response = api.get(path, params={"limit": 100})
    for _ in range(1000):
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body[key])
        nxt = [link["href"] for link in body.get("links", []) if link.get("rel") == "next"]
        if not nxt:
            return items
        response = api.get(nxt[0])
    return items
