"""Fixtures for the security tests: cheap clients on one shared transport, and the three-project world."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.helpers import Craton
from tests.security.helpers import World


@pytest.fixture(scope="module")
def craton(server: Any) -> Iterator[Craton]:
    transport = httpx.HTTPTransport()
    try:
        yield Craton(server, transport)
    finally:
        transport.close()


@pytest.fixture(scope="module")
def world(craton: Craton) -> World:
    return World(craton)
