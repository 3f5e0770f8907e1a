"""API-test fixtures on top of tests/conftest.py's per-backend ``server``.

``craton`` gives cheap clients for any identity: they share one HTTP transport per
module (a new ``httpx.Client`` with its own TLS context costs up to 0.3 s, which
dominated the run time), and the transport is closed when the module ends.
"""

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


@pytest.fixture(scope="module")
def root(craton: Craton) -> httpx.Client:
    """The bootstrap root user (crosses projects)."""
    return craton.root
