"""Users and their API keys; managing them needs an admin (or root) user."""

from __future__ import annotations

from typing import Any

from cratonclient.shell.commands import Context, arg
from cratonclient.shell.resources import ResourceSpec


def _own_project(ctx: Context) -> dict[str, Any]:
    """New users join the caller's project unless --project says otherwise."""
    project = getattr(ctx.options, "os_project_id", "")
    return {"project_id": project} if project else {}


SPEC = ResourceSpec(
    name="user",
    manager="users",
    fields=("id", "username", "is_admin", "project_id"),
    detail_fields=("created_at", "updated_at"),
    filters=(arg("-n", "--name", metavar="USERNAME", help="Only users with this username."),),
    create=(
        arg(
            "-n",
            "--name",
            "--username",
            dest="username",
            metavar="USERNAME",
            required=True,
            help="Username, unique within the project.",
        ),
        arg(
            "-p",
            "--project",
            dest="project_id",
            metavar="<project>",
            help="Project of the user (default: the project you authenticate with).",
        ),
        arg("--admin", dest="is_admin", action="store_true", help="Make the user an administrator of its project."),
    ),
    details=False,
    create_defaults=_own_project,
    create_message="The API key below is shown only now; store it safely.",
)
