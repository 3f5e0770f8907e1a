"""Users and their API keys; managing them needs an admin (or root) user."""

from __future__ import annotations

import argparse
from typing import Any

from cratonclient.shell import names
from cratonclient.shell.commands import Context, ObjectResult, arg
from cratonclient.shell.resources import ResourceSpec, item_command

#: The most the server lets an old key live on after a rotation (a week).
MAX_GRACE_SECONDS = 604800


def _own_project(ctx: Context) -> dict[str, Any]:
    """New users join the caller's project unless --project says otherwise."""
    project = names.own_project_id(ctx)
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
            ref="project",
            metavar="<project>",
            help="Project of the user, name or id (default: the project you authenticate with).",
        ),
        arg("--admin", dest="is_admin", action="store_true", help="Make the user an administrator of its project."),
    ),
    details=False,
    create_defaults=_own_project,
    create_message="The API key below is shown only now; store it safely.",
)


def _grace(text: str) -> int:
    value = int(text)
    if not 0 <= value <= MAX_GRACE_SECONDS:
        raise ValueError(text)
    return value


_grace.__name__ = f"number of seconds from 0 to {MAX_GRACE_SECONDS}"


def _rotate_key(ctx: Context, args: argparse.Namespace) -> ObjectResult:
    user = ctx.client.users.rotate_key(args.id, grace_seconds=args.grace_seconds)
    if args.grace_seconds:
        old = f"The previous key keeps working for {args.grace_seconds} seconds."
    else:
        old = "The previous key no longer works."
    return ObjectResult(
        user.to_dict(), message=f"New API key for {user.username}, shown only now; store it safely. {old}"
    )


COMMANDS = [
    item_command(
        SPEC,
        "rotate-key",
        "Give a user a new API key, and print it (only this once).",
        _rotate_key,
        arg(
            "--grace-seconds",
            type=_grace,
            metavar="SECONDS",
            help="Let the previous key keep working this long, to roll the new one out "
            f"(0 to {MAX_GRACE_SECONDS}; default 0: it stops at once).",
        ),
        description="Issue a new API key for a user (POST /v1/users/<id>/api-key) and print it: "
        "the server keeps only a hash, so this is the only time it is shown. Needs an admin of "
        "the user's project (or root).",
    )
]
