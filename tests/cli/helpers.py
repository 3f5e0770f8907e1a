"""Running the real ``craton`` command as a subprocess, for the live CLI tests.

Every command name run through :class:`CLI` is recorded, and the last test of
test_cli_live.py checks that no command was left untested.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import httpx

#: Command names run through :class:`CLI` in this process (one test module per worker).
COMMANDS_RUN: set[str] = set()

_GLOBAL_WITH_VALUE = {
    "--format",
    "--craton-url",
    "--craton-version",
    "--os-username",
    "--os-password",
    "--os-project-id",
    "--os-cacert",
    "--timeout",
    "--reason",
}


def command_name(argv: Sequence[str]) -> str | None:
    """The subcommand of a command line, skipping global options and their values."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in _GLOBAL_WITH_VALUE:
            skip = True
        elif not word.startswith("-"):
            return word
    return None


@dataclass
class CLI:
    """``cli("cloud-list", "--all")`` runs ``craton`` with these credentials."""

    url: str
    project_id: str
    username: str
    api_key: str
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            # Bytecode caching stays on: every call is a new interpreter, and compiling the
            # client each time would dominate the run time.
            if not k.startswith(("OS_", "CRATON_")) and k not in ("COLUMNS", "PYTHONDONTWRITEBYTECODE")
        }
        env.update(
            CRATON_URL=self.url,
            OS_USERNAME=self.username,
            OS_PASSWORD=self.api_key,
            OS_PROJECT_ID=self.project_id,
            PYTHONIOENCODING="utf-8",
        )
        env.update(self.extra_env)
        return env

    def __call__(
        self,
        *argv: str,
        input: str | None = None,
        stdin: int | IO[Any] | None = subprocess.DEVNULL,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        name = command_name(argv)
        if name:
            COMMANDS_RUN.add(name)
        return subprocess.run(
            [sys.executable, "-m", "cratonclient.shell.main", *argv],
            input=input,
            stdin=None if input is not None else stdin,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=120,
        )

    def ok(self, *argv: str, input: str | None = None) -> str:
        """Run, insist on success and a clean stderr-free failure path, return stdout."""
        result = self(*argv, input=input)
        assert result.returncode == 0, f"craton {' '.join(argv)} failed:\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result.stdout

    def json(self, *argv: str, input: str | None = None) -> Any:
        """Run with ``--format json`` and parse stdout."""
        return json.loads(self.ok("--format", "json", *argv, input=input))

    def fails(self, *argv: str, code: int = 1, input: str | None = None, env: dict[str, str] | None = None) -> str:
        """Run, insist on exit status ``code`` and no output on stdout; return stderr."""
        result = self(*argv, input=input, env=env)
        assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        return result.stderr


def seed(cli: CLI, path: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create many objects straight through the API: fast setup for paging tests."""
    headers = {"X-Auth-Project": cli.project_id, "X-Auth-User": cli.username, "X-Auth-Token": cli.api_key}
    with httpx.Client(base_url=cli.url, headers=headers, timeout=30) as client:
        created = []
        for body in bodies:
            response = client.post(path, json=body)
            assert response.status_code == 201, response.text
            created.append(response.json())
    return created


def transcript_tool() -> ModuleType:
    """docs/tools/cli_transcript.py, imported as a module (it is a script, not a package)."""
    name = "cli_transcript"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "docs/tools/cli_transcript.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
