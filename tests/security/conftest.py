"""Fixtures for the security tests: the three-project world, on tests/conftest.py's ``craton``."""

from __future__ import annotations

import pytest

from tests.api.helpers import Craton
from tests.security.helpers import World


@pytest.fixture(scope="module")
def world(craton: Craton) -> World:
    return World(craton)
