"""``craton-dbsync``: schema migrations and the first root credentials."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import sys

from craton.cmd.common import add_common_options, configure_logging, settings_from
from craton.domain.bootstrap import bootstrap
from craton.domain.errors import CratonError
from craton.domain.history import feed as history_feed
from craton.domain.principal import Role
from craton.storage import migrate
from craton.storage.engine import create_engine
from craton.storage.types import utcnow


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="craton-dbsync", description="Manage the Craton database.")
    add_common_options(p)
    commands = p.add_subparsers(dest="command", required=True)
    upgrade = commands.add_parser("upgrade", help="migrate the schema to a revision (default: head)")
    upgrade.add_argument("--revision", default="head")
    downgrade = commands.add_parser("downgrade", help="migrate the schema down to a revision")
    downgrade.add_argument("--revision", required=True)
    stamp = commands.add_parser("stamp", help="record a revision without running migrations")
    stamp.add_argument("--revision", default="head")
    commands.add_parser("version", help="print the current schema revision")
    prune = commands.add_parser("prune-history", help="delete change records older than the retention window")
    prune.add_argument("--days", type=int, help="keep this many days (default: [history] retention_days)")
    boot = commands.add_parser("bootstrap", help="create the first project and root user (idempotent)")
    boot.add_argument("--project-id", help="UUID of the project to create or use")
    boot.add_argument("--project-name", default="bootstrap")
    boot.add_argument("--username", default="bootstrap")
    boot.add_argument("--api-key", help="use this key instead of a random one")
    boot.add_argument("--role", choices=["root", "admin", "member"], default="root")
    boot.add_argument("--write-rc", metavar="PATH", help="also write the credentials as a shell file (mode 0600)")
    boot.add_argument("--url", default="http://127.0.0.1:7780", help="service URL recorded in --write-rc")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    settings = settings_from(args, p)
    configure_logging("warning")
    url = settings.database_url
    if args.command == "upgrade":
        migrate.upgrade(url, args.revision)
    elif args.command == "downgrade":
        migrate.downgrade(url, args.revision)
    elif args.command == "stamp":
        migrate.stamp(url, args.revision)
    elif args.command == "version":
        print(migrate.version(url) or "none")
    elif args.command == "bootstrap":
        return _bootstrap(url, args)
    elif args.command == "prune-history":
        return _prune(url, args.days if args.days is not None else settings.history_retention_days)
    return 0


def _prune(url: str, days: int) -> int:
    if days <= 0:
        print("History retention is unlimited (retention_days = 0); nothing to prune.")
        return 0
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            removed = history_feed.prune(conn, utcnow() - dt.timedelta(days=days))
    finally:
        engine.dispose()
    print(f"Removed {removed} change records older than {days} days.")
    return 0


def _bootstrap(url: str, args: argparse.Namespace) -> int:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            credentials = bootstrap(
                conn,
                project_id=args.project_id,
                project_name=args.project_name,
                username=args.username,
                api_key=args.api_key,
                role={"root": Role.ROOT, "admin": Role.ADMIN, "member": Role.MEMBER}[args.role],
            )
    except CratonError as exc:
        print(f"ERROR: {exc.message}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if args.write_rc and credentials.api_key is not None:
        write_rc(args.write_rc, args.url, credentials.project_id, credentials.username, credentials.api_key)
    print()
    print(f"ProjectId: {credentials.project_id}")
    print(f"Username: {credentials.username}")
    if credentials.api_key is not None:
        print(f"APIKey: {credentials.api_key}")
    else:
        print("APIKey: (unchanged; keys are stored hashed and shown only when created)")
    return 0


def write_rc(path: str, url: str, project_id: str, username: str, api_key: str) -> None:
    """A file to ``source``: the variables the CLI reads, and the headers for curl."""
    lines = [
        f"export CRATON_URL={shlex.quote(url)}",
        f"export OS_PROJECT_ID={shlex.quote(project_id)}",
        f"export OS_USERNAME={shlex.quote(username)}",
        f"export OS_PASSWORD={shlex.quote(api_key)}",
        '# curl -H "X-Auth-Project: $OS_PROJECT_ID" -H "X-Auth-User: $OS_USERNAME" '
        '-H "X-Auth-Token: $OS_PASSWORD" $CRATON_URL/v1/clouds',
    ]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as rc:
        rc.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)


if __name__ == "__main__":
    sys.exit(main())
