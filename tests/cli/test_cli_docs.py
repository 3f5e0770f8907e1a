"""docs/cli.md stays true: its session runs against a real server, and matches the script."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def transcript() -> ModuleType:
    path = ROOT / "docs/tools/cli_transcript.py"
    spec = importlib.util.spec_from_file_location("cli_transcript", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_documented_session_runs_as_declared(live_server: Any, transcript: ModuleType) -> None:
    credentials = transcript.Credentials(
        live_server.url, live_server.project_id, live_server.username, live_server.api_key
    )
    # Raises TranscriptError on any exit status other than the declared one.
    text = transcript.run_session(credentials)
    assert "ERROR: Not Found" in text
    assert "| web-01 |" in text
    assert '"ansible_host": "10.10.0.11"' in text


def test_docs_show_exactly_the_scripted_session(transcript: ModuleType) -> None:
    document = (ROOT / "docs/cli.md").read_text(encoding="utf-8")
    start, end = document.index(transcript.START), document.index(transcript.END)
    shown = re.findall(r"^\$ (?!echo \$\?)(.*)$", document[start:end], re.MULTILINE)
    assert shown == [step.shell_line() for step in transcript.SESSION], (
        "docs/cli.md is stale: run python docs/tools/cli_transcript.py"
    )


def test_splice_replaces_only_the_marked_block(transcript: ModuleType) -> None:
    document = f"intro\n{transcript.START}\nold\n{transcript.END}\noutro\n"
    assert transcript.splice(document, "new") == f"intro\n{transcript.START}\nnew\n{transcript.END}\noutro\n"
