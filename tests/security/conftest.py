"""Fixtures for the security tests: the three-project world, on tests/conftest.py's ``craton``."""

from __future__ import annotations

import pytest

from tests.api.helpers import Craton
from tests.security.helpers import World


def pytest_configure(config: pytest.Config) -> None:
    """Schemathesis' collection hooks, for the fuzz module only (pytest.ini blocks the global plugin)."""
    from schemathesis.pytest import plugin

    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, "schemathesis-security")


@pytest.fixture(scope="module")
def world(craton: Craton) -> World:
    return World(craton)
