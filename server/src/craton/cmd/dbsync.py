"""``craton-dbsync``: schema migrations and the first root credentials."""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import re
import shlex
import sys

from craton.cmd.common import add_common_options, configure_logging, settings_from
from craton.domain.bootstrap import bootstrap
from craton.domain.errors import CratonError
from craton.domain.events import feed as effective_feed
from craton.domain.history import feed as history_feed
from craton.domain.principal import Role
from craton.settings import Settings
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
    boot.add_argument(
        "--url", help="service URL recorded in --write-rc (default: from [api] host and port, CRATON_API_HOST/PORT)"
    )
    rc_url = commands.add_parser(
        "update-rc", help="point CRATON_URL in a file written by --write-rc at the service's URL"
    )
    rc_url.add_argument("path", metavar="PATH", help="the rc file, e.g. cratonrc")
    rc_url.add_argument("--url", help="the URL to write (default: from [api] host and port, CRATON_API_HOST/PORT)")
    return p


def service_url(settings: Settings) -> str:
    """The URL a client on this machine reaches ``craton-api`` at, from its host and port."""
    host = settings.api_host.strip("[]") or "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{settings.api_port}"
    if address.is_unspecified:  # listening everywhere: this machine reaches it on loopback
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    shown = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{shown}:{settings.api_port}"


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
        return _bootstrap(url, args, args.url or service_url(settings))
    elif args.command == "update-rc":
        return _update_rc(args.path, args.url or service_url(settings))
    elif args.command == "prune-history":
        return _prune(url, args.days if args.days is not None else settings.history_retention_days)
    return 0


def _prune(url: str, days: int) -> int:
    if days <= 0:
        print("History retention is unlimited (retention_days = 0); nothing to prune.")
        return 0
    engine = create_engine(url)
    try:
        cutoff = utcnow() - dt.timedelta(days=days)
        with engine.begin() as conn:
            removed = history_feed.prune(conn, cutoff)
            effects = effective_feed.prune(conn, cutoff)
    finally:
        engine.dispose()
    print(f"Removed {removed} change records and {effects} effective changes older than {days} days.")
    return 0


def _bootstrap(url: str, args: argparse.Namespace, service: str) -> int:
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
        write_rc(args.write_rc, service, credentials.project_id, credentials.username, credentials.api_key)
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


_URL_LINE = re.compile(r"^export CRATON_URL=.*$", re.MULTILINE)


def _update_rc(path: str, service: str) -> int:
    """Rewrite the ``CRATON_URL`` line of an rc file; the credentials in it stay as they are."""
    try:
        with open(path, encoding="utf-8") as rc:
            text = rc.read()
    except OSError as exc:
        print(f"ERROR: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    line = f"export CRATON_URL={shlex.quote(service)}"
    match = _URL_LINE.search(text)
    if match is not None and match.group(0) == line:
        print(f"{path}: CRATON_URL is {service}")
        return 0
    text = _URL_LINE.sub(lambda _: line, text, count=1) if match else f"{line}\n{text}"
    descriptor = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as rc:
        rc.write(text)
    print(f"{path}: CRATON_URL set to {service}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
