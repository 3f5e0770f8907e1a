"""Fixtures for the CLI tests: ``craton`` subprocesses bound to the live server.

``cli`` acts as the bootstrap root user; ``tenant`` is a fresh project with its own admin, so
counting tests see only their own objects.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.helpers import CLI, unique


@pytest.fixture(scope="module")
def cli(live_server: Any) -> CLI:
    """The bootstrap root user."""
    return CLI(live_server.url, live_server.project_id, live_server.username, live_server.api_key)


@pytest.fixture
def tenant(live_server: Any, cli: CLI) -> CLI:
    """A new project and its admin user, for tests that count what they see."""
    project_id = cli.json("project-create", "-n", unique("project"))["id"]
    username, api_key = live_server.create_user(project_id, unique("admin"), is_admin=True)
    return CLI(live_server.url, project_id, username, api_key)
