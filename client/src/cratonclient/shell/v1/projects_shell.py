"""Projects (tenants): root manages them, an admin renames its own; ids are UUIDs."""

from __future__ import annotations

import argparse

from cratonclient.shell import cliutils, names, preview
from cratonclient.shell.commands import Command, Context, PreviewResult, VariablesResult, arg
from cratonclient.shell.errors import UsageError
from cratonclient.shell.resources import ResourceSpec
from cratonclient.shell.v1 import common

STRATEGIES = ("replace", "deep", "append", "union")

SPEC = ResourceSpec(
    name="project",
    manager="projects",
    id_type=str,
    fields=("id", "name"),
    detail_fields=("created_at", "updated_at", "variables"),
    filters=(common.name_filter("projects"), common.vars_filter("projects")),
    create=(common.name_option("project", required=True),),
    update=(common.name_option("project"),),
    variables=True,
)


def _project(ctx: Context, args: argparse.Namespace) -> str:
    project = names.Resolver(ctx).id_of("project", args.id) if args.id else names.own_project_id(ctx)
    if not project:
        raise UsageError("give the project id (or set OS_PROJECT_ID)")
    return str(project)


def _get_strategies(ctx: Context, args: argparse.Namespace) -> VariablesResult:
    return VariablesResult(ctx.client.projects.merge_strategies(_project(ctx, args)))


def _set_strategies(ctx: Context, args: argparse.Namespace) -> VariablesResult | PreviewResult:
    declared: dict[str, str] = {}
    for text in args.strategies:
        key, equals, strategy = text.rpartition("=")
        if not equals or not key or strategy not in STRATEGIES:
            raise UsageError(f"{text!r}: expected KEY=STRATEGY, STRATEGY one of {', '.join(STRATEGIES)}")
        declared[key] = strategy
    if not declared and not args.clear:
        if ctx.stdin_is_tty():
            raise UsageError("give KEY=STRATEGY arguments, --clear, or pipe a JSON object on stdin")
        declared = cliutils.load_json(ctx.stdin.read(), dict, "a JSON object of KEY: STRATEGY")
    project = _project(ctx, args)
    if args.preview:
        return preview.result(ctx, lambda: ctx.client.projects.merge_strategies(project, declared, preview=True))
    result = ctx.client.projects.merge_strategies(project, declared)
    return VariablesResult(result, message=None if result else "Every key now uses replace (Craton v1).")


_PROJECT_ARG = arg("id", nargs="?", metavar="PROJECT", help="Project id (default: OS_PROJECT_ID).")

COMMANDS = [
    Command(
        name="project-merge-strategies-get",
        summary="Show how each variable key of a project merges along the hierarchy.",
        handler=_get_strategies,
        arguments=(_PROJECT_ARG,),
        description="Show the project's merge strategy per variable key. Keys not listed use "
        "replace: the nearest level that sets the key wins (Craton v1).",
    ),
    Command(
        name="project-merge-strategies-set",
        summary="Declare how variable keys of a project merge (replaces the whole declaration).",
        handler=_set_strategies,
        arguments=(
            _PROJECT_ARG,
            arg(
                "--strategy",
                dest="strategies",
                action="append",
                default=[],
                metavar="KEY=STRATEGY",
                help="A key and its strategy: replace, deep (dictionaries merge recursively), "
                "append (lists concatenate, farthest level first) or union (append without "
                "duplicates). Repeat for several keys.",
            ),
            arg("--clear", action="store_true", help="Declare nothing: every key uses replace."),
            preview.option("the new declaration"),
        ),
        description="Replace the project's whole declaration of merge strategies; keys not "
        "given use replace. Without --strategy or --clear, a JSON object is read from stdin, "
        'e.g. echo \'{"ntp_servers": "union"}\' | craton project-merge-strategies-set.',
    ),
]
