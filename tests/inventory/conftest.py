"""Fixtures for the Ansible inventory tests: credentials, clients and an Ansible runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.inventory.helpers import Ansible, Credentials


@pytest.fixture
def ansible_factory(tmp_path: Path) -> Callable[[Credentials], Ansible]:
    def make(credentials: Credentials, **env: str) -> Ansible:
        return Ansible(workdir=tmp_path, credentials=credentials, extra_env=env)

    return make


@pytest.fixture(scope="module")
def root_credentials(live_server: Any) -> Credentials:
    return Credentials(live_server.url, live_server.project_id, live_server.username, live_server.api_key)


@pytest.fixture
def ansible(ansible_factory: Callable[..., Ansible], root_credentials: Credentials) -> Ansible:
    return ansible_factory(root_credentials)


@pytest.fixture(scope="module")
def root_api(live_server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, headers=live_server.headers, timeout=60) as client:
        yield client
