"""Imports flow one way: http -> domain -> storage, and the client never imports the server."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server" / "src" / "craton"
CLIENT = ROOT / "client" / "src" / "cratonclient"

FORBIDDEN = {
    SERVER / "storage": ("craton.domain", "craton.http", "craton.app"),
    SERVER / "domain": ("craton.http", "craton.app"),
    CLIENT: ("craton.", "craton"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", sorted(FORBIDDEN), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_upward_imports(folder: Path) -> None:
    offenders = []
    for path in sorted(folder.rglob("*.py")):
        for module in imported_modules(path):
            for prefix in FORBIDDEN[folder]:
                if module == prefix.rstrip(".") or module.startswith(prefix.rstrip(".") + "."):
                    offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []
