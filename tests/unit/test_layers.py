"""Imports flow one way: http and ui -> domain -> storage, and the client never imports the server."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server" / "src" / "craton"
CLIENT = ROOT / "client" / "src" / "cratonclient"

FORBIDDEN = {
    SERVER / "storage": ("craton.domain", "craton.http", "craton.ui", "craton.app"),
    SERVER / "domain": ("craton.http", "craton.ui", "craton.app"),
    # The UI is a second presentation layer: it may share http's pieces; http never needs the UI.
    SERVER / "http": ("craton.ui",),
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


# What HTTP may take from storage directly: opening connections and transactions. Tables,
# queries and result types reach it only through the domain.
HTTP_MAY_IMPORT_FROM_STORAGE = {"craton.storage.engine"}


def test_presentation_reaches_storage_only_through_the_domain() -> None:
    offenders = []
    for path in sorted([*(SERVER / "http").rglob("*.py"), *(SERVER / "ui").rglob("*.py"), SERVER / "app.py"]):
        for module in imported_modules(path):
            if module.startswith("craton.storage") and module not in HTTP_MAY_IMPORT_FROM_STORAGE:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_the_presenter_holds_no_connection() -> None:
    """Rows become JSON without the database: the domain loads what a page shows (domain/readmodel.py)."""
    assert not any(
        module == "sqlalchemy" or module.startswith("sqlalchemy.")
        for module in imported_modules(SERVER / "http" / "representation.py")
    )


def _uses_loader(path: Path) -> bool:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "craton.domain.readmodel":
            if any(alias.name == "load" for alias in node.names):
                return True
        if isinstance(node, ast.Attribute) and node.attr == "load":
            if isinstance(node.value, ast.Name) and node.value.id == "readmodel":
                return True
    return False


def test_presentation_renders_what_the_read_use_cases_return() -> None:
    """HTTP and the web UI load no details themselves: objects.read/read_page/lookup did (issue 20 §2)."""
    paths = sorted([*(SERVER / "http").rglob("*.py"), *(SERVER / "ui").rglob("*.py")])
    assert [str(path.relative_to(ROOT)) for path in paths if _uses_loader(path)] == []
