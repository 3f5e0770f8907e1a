"""Tried as a new user would: generate a fleet, start ``craton-api``, install the collection as
the README says, write a three-line ``craton.yml``, and ask Ansible."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.inventory.helpers import REPO, Ansible, Credentials, executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A generated fleet (benchmarks/generate.py) served by a real ``craton-api`` process."""
    workdir = tmp_path_factory.mktemp("newuser")
    database = f"sqlite:///{workdir / 'fleet.sqlite'}"
    facts_file = workdir / "fleet.json"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "generate.py"),
            "--database-url",
            database,
            "--hosts",
            "400",
            "--network-devices",
            "20",
            "--clouds",
            "1",
            "--regions",
            "2",
            "--cells",
            "6",
            "--quiet",
            "--credentials-out",
            str(facts_file),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    facts = json.loads(facts_file.read_text())
    port = free_port()
    log = (workdir / "craton-api.log").open("wb")
    server = subprocess.Popen(
        [
            executable("craton-api"),
            "--database-url",
            database,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/v1/ansible-inventory", timeout=2)
                break
            except httpx.TransportError as error:
                if time.monotonic() > deadline or server.poll() is not None:
                    log = (workdir / "craton-api.log").read_text()
                    raise RuntimeError(f"craton-api did not start: {log}") from error
                time.sleep(0.1)
        yield {**facts, "url": url, "workdir": workdir}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
        log.close()


def test_three_line_source_file(generated: dict[str, Any], tmp_path: Path) -> None:
    credentials = Credentials(generated["url"], generated["project_id"], generated["username"], generated["api_key"])
    ansible = Ansible(workdir=tmp_path, credentials=credentials)
    region = generated["vars_probe"]["region_id"]
    source = tmp_path / "craton.yml"
    source.write_text(f"plugin: openstack.craton.craton\nurl: {generated['url']}\nregion_id: {region}\n")

    hosts = ansible.run("ansible", "-i", str(source), "all", "-m", "ping", "--list-hosts").stdout
    assert f"hosts ({generated['vars_probe']['hosts']}):" in hosts, hosts

    graph = ansible.run("ansible-inventory", "-i", str(source), "--graph").stdout
    assert "  |--@region_0:" in graph.splitlines(), graph[:2000]
    assert "  |  |--@region_0_cell_0:" in graph.splitlines()
    assert "@rack_" in graph and "@role_" in graph  # label groups from the generator's labels

    # Host variables: the generated values on every level, resolved, plus ansible_host.
    first = generated["id_ranges"]["hosts"][0]
    name = f"host-{first}"
    hostvars = ansible.host(str(source), name)
    with httpx.Client(base_url=generated["url"], headers=credentials.headers, timeout=60) as api:
        resolved = api.get(f"/v1/hosts/{first}/variables").json()["variables"]
        ip = api.get(f"/v1/hosts/{first}").json()["ip_address"]
    assert hostvars == {**resolved, "ansible_host": ip}


def test_installed_collection_and_script(generated: dict[str, Any], tmp_path: Path) -> None:
    """The README's install route: build the collection, install it, use it; and the script."""
    credentials = Credentials(generated["url"], generated["project_id"], generated["username"], generated["api_key"])
    installed = tmp_path / "collections"
    ansible = Ansible(workdir=tmp_path, credentials=credentials, extra_env={"ANSIBLE_COLLECTIONS_PATH": str(installed)})
    ansible.run(
        "ansible-galaxy",
        "collection",
        "build",
        str(REPO / "ansible_collections" / "openstack" / "craton"),
        "--output-path",
        str(tmp_path),
    )
    [archive] = tmp_path.glob("openstack-craton-*.tar.gz")
    ansible.run("ansible-galaxy", "collection", "install", str(archive), "-p", str(installed))
    assert (installed / "ansible_collections" / "openstack" / "craton" / "plugins" / "inventory" / "craton.py").exists()

    source = ansible.source()  # credentials and URL from the environment only
    from_plugin = ansible.listing(source)
    from_script = ansible.listing(ansible.script())
    assert len(from_plugin["_meta"]["hostvars"]) == generated["counts"]["hosts"]
    assert from_plugin == from_script
    doc = ansible.run("ansible-doc", "-t", "inventory", "openstack.craton.craton").stdout
    assert "CRATON_URL" in doc and "OS_PASSWORD" in doc
