"""docs/cli.md stays true: its session runs against a real server, and matches the script."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.cli.helpers import transcript_tool

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def transcript() -> ModuleType:
    return transcript_tool()


def test_the_documented_session_runs_as_declared(live_server: Any, transcript: ModuleType) -> None:
    credentials = transcript.Credentials(
        live_server.url, live_server.project_id, live_server.username, live_server.api_key
    )
    # Raises TranscriptError on any exit status other than the declared one.
    text = transcript.run_session(credentials)
    assert "ERROR: Not Found" in text
    assert "| web-01 |" in text
    assert '"ansible_host": "10.10.0.11"' in text
    # The history steps: the reason is recorded, and the diff pins the change by its id.
    assert "| CHG-7: new NTP server |" in text
    assert "| ntp_server | changed | 10.10.0.123 | 10.10.0.124 |" in text
    # Names instead of ids, and a cut list that says so after the table.
    assert "ERROR: No region named 'west'." in text
    assert "+\nShowing 1 host; more follow. Next page: --marker 2" in text


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


def test_splice_fills_several_blocks_in_order(transcript: ModuleType) -> None:
    start, end = transcript.START, transcript.END
    document = f"a\n{start}\n{end}\nb\n{start}\nold\n{end}\n"
    assert transcript.splice(document, ["one", "two"]) == f"a\n{start}\none\n{end}\nb\n{start}\ntwo\n{end}\n"
    assert transcript.marked_blocks(transcript.splice(document, ["one", "two"])) == ["\none\n", "\ntwo\n"]
    with pytest.raises(transcript.TranscriptError, match="2 transcript marker pairs, expected 1"):
        transcript.splice(document, ["one"])
