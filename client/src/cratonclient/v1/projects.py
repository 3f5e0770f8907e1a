"""Projects (tenants). Their ids are UUID strings; listing and creating them needs root.

``update(project_id, name=...)`` renames a project: root renames any, a project admin its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

from cratonclient import crud, impact
from cratonclient.impact import Impact
from cratonclient.session import json_body
from cratonclient.v1.history import HistoryMixin
from cratonclient.v1.variables import VariableManager


class Project(crud.Resource):
    subresource_managers = {"variables": VariableManager}


class ProjectManager(HistoryMixin, crud.CRUDClient):
    key = "project"
    base_path = "/projects"
    resource_class = Project

    @overload
    def merge_strategies(self, project_id: Any, strategies: Mapping[str, str], *, preview: Literal[True]) -> Impact: ...

    @overload
    def merge_strategies(
        self, project_id: Any, strategies: Mapping[str, str] | None = None, *, preview: Literal[False] = ...
    ) -> dict[str, str]: ...

    def merge_strategies(
        self, project_id: Any, strategies: Mapping[str, str] | None = None, *, preview: bool = False
    ) -> dict[str, str] | Impact:
        """How each variable key of the project merges along the chain of levels.

        Without ``strategies``, reads the declaration; with it, replaces the whole declaration
        (``{}`` clears it) and returns the new one. Strategies are ``replace`` (the nearest level
        wins; every key not listed), ``deep``, ``append`` and ``union``: see docs/variables.md.
        Needs a project admin (root: any project). With ``preview=True`` (and ``strategies``)
        nothing is written: the result is the :class:`~cratonclient.impact.Impact` on devices.
        """
        url = self.build_url({f"{self.key}_id": project_id}) + "/merge-strategies"
        if preview:
            if strategies is None:
                raise TypeError("preview=True needs the strategies to declare")
            return impact.request(self.session, "PUT", url, dict(strategies))
        if strategies is None:
            response = self.session.get(url)
        else:
            response = self.session.put(url, json=dict(strategies))
        return dict(json_body(response).get("merge_strategies") or {})


__all__ = ["Project", "ProjectManager"]
