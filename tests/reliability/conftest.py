"""Fixtures for the reliability tests: cheap clients on one shared transport."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.helpers import Craton


@pytest.fixture(scope="module")
def craton(server: Any) -> Iterator[Craton]:
    transport = httpx.HTTPTransport()
    try:
        yield Craton(server, transport)
    finally:
        transport.close()
