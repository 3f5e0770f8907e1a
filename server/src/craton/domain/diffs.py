"""The difference between two sets of variables, as every reader reports it.

Impact previews and the effective-change feed name a changed key's values ``old``/``new``
(issue 15); the history's ``?diff-from`` reads have said ``from``/``to`` since before, and keep it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def diff(before: Mapping[str, Any], after: Mapping[str, Any], old: str = "old", new: str = "new") -> dict[str, Any]:
    """Keys ``added``, ``removed`` and ``changed`` (``{old: ..., new: ...}``), each in key order."""
    return {
        "added": {key: after[key] for key in sorted(after.keys() - before.keys())},
        "removed": {key: before[key] for key in sorted(before.keys() - after.keys())},
        "changed": {
            key: {old: before[key], new: after[key]}
            for key in sorted(before.keys() & after.keys())
            if before[key] != after[key]
        },
    }
