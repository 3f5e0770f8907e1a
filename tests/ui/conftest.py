"""A real Chromium (Debian's package) driven by Playwright, and a server with a small fleet.

Playwright never downloads a browser here: it launches /usr/bin/chromium (or
CRATON_TEST_CHROMIUM). Without one the browser tests skip with the reason, except under
CI=true, where that is a failure (.ci/run installs the package).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKENDS, IN_CI, LiveServer, running_server, throwaway_database

CHROMIUM = os.environ.get("CRATON_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# What this machine's closed network needs: no background connections, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope: Playwright's sync API keeps an event loop running in the thread while it is
# open, and later tests in the same worker process that call asyncio.run() would fail.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module", params=[b for b in ("sqlite", "postgresql") if b in BACKENDS])
def ui_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The browser tests run on SQLite, and the tree and edit flows on PostgreSQL too."""
    backend = request.param
    with throwaway_database(backend, tmp_path_factory.mktemp("db")) as url, running_server(backend, url) as live:
        yield live
