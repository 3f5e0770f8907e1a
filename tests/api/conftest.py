"""API-test fixtures on top of tests/conftest.py's per-backend ``server`` and ``craton``."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import Craton


@pytest.fixture(scope="module")
def root(craton: Craton) -> httpx.Client:
    """The bootstrap root user (crosses projects)."""
    return craton.root
