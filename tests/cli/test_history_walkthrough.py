"""docs/history.md's walkthrough, run from the CLI alone against a fresh server.

The question: a region variable was changed with a reason; which hosts did it affect, who made
the change, and what did those hosts resolve to before it? The module has its own server
(``live_server`` is per module), so ids are those of an empty database, as in the document.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.cli.helpers import transcript_tool

DOC = Path(__file__).resolve().parents[2] / "docs/history.md"


def test_the_walkthrough_answers_the_question_from_the_cli_alone(live_server: Any) -> None:
    tool = transcript_tool()
    credentials = tool.Credentials(live_server.url, live_server.project_id, live_server.username, live_server.api_key)
    # Raises TranscriptError on any exit status other than the declared one.
    setup, change, who, which, before, feed = tool.run_parts(credentials, tool.WALKTHROUGH)

    assert "| ntp_server | 10.10.0.200 |" in change
    # Who, when and why: the region's last record.
    last = [line for line in who.splitlines() if line.startswith("| 9 ")]
    assert len(last) == 1 and "| bootstrap | variables | OPS-1234: move east to the new NTP pool |" in last[0]
    assert '| ntp_server: "10.10.0.123" -> "10.10.0.200" |' in last[0]
    # Which hosts: the two that take the value from region 1; db-01 overrides it.
    rows = {cells[1]: cells for cells in _table_rows(which)}
    assert [rows[name][2:6] for name in ("web-01", "web-02")] == [["10.10.0.200", "region", "1", "east"]] * 2
    assert rows["db-01"][2:6] == ["10.10.0.5", "host", "3", "db-01"]
    assert rows["db-01"][8] == "region 1 (east): 10.10.0.200"
    # Before: what the hosts resolved to just before change 9, and what changed since.
    assert "| ntp_server | 10.10.0.123 |" in before
    assert "| ntp_server | changed | 10.10.0.123 | 10.10.0.200 |" in before
    assert "No changes from " in before
    assert '"reason": "OPS-1234: move east to the new NTP pool"' in feed and '"request_id": "req-' in feed


def test_the_document_shows_exactly_the_scripted_walkthrough() -> None:
    tool = transcript_tool()
    blocks = tool.marked_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) == len(tool.WALKTHROUGH), "docs/history.md: one marker pair per part"
    for block, part in zip(blocks, tool.WALKTHROUGH, strict=True):
        shown = re.findall(r"^\$ (?!echo \$\?)(.*)$", block, re.MULTILINE)
        assert shown == [item.shell_line() for item in part], (
            "docs/history.md is stale: run python docs/tools/cli_transcript.py"
        )


def _table_rows(text: str) -> list[list[str]]:
    """The body rows of a PrettyTable as lists of stripped cells (the heading row excluded)."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]
