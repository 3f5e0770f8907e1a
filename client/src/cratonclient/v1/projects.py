"""Projects (tenants). Their ids are UUID strings; listing and creating them needs root.

``update(project_id, name=...)`` renames a project: root renames any, a project admin its own.
"""

from __future__ import annotations

from cratonclient import crud
from cratonclient.v1.history import HistoryMixin
from cratonclient.v1.variables import VariableManager


class Project(crud.Resource):
    subresource_managers = {"variables": VariableManager}


class ProjectManager(HistoryMixin, crud.CRUDClient):
    key = "project"
    base_path = "/projects"
    resource_class = Project


__all__ = ["Project", "ProjectManager"]
