"""``craton-inventory``: Craton as an Ansible inventory script (``--list``, ``--host NAME``).

Ansible runs an executable inventory with ``--list`` and reads groups and ``_meta.hostvars``
from its JSON output; since ``_meta`` is always present it never needs ``--host``. Both are
served from one ``GET /v1/ansible-inventory`` request::

    ansible-inventory -i "$(command -v craton-inventory)" --graph

Ansible passes no options to a script, so everything can also come from the environment:
``CRATON_URL``, ``OS_PROJECT_ID``, ``OS_USERNAME``, ``OS_PASSWORD`` (as for the ``craton``
CLI), the filters ``CRATON_INVENTORY_CLOUD_ID``, ``..._REGION_ID``, ``..._CELL_ID``,
``..._LABEL``, ``..._VARS``, the plugin's ``group_by`` and ``network_devices`` as
``CRATON_INVENTORY_GROUP_BY`` (e.g. ``cloud,device_type``) and
``CRATON_INVENTORY_NETWORK_DEVICES``, and the cache settings below.

Ansible does not cache script output (scripts cache for themselves), so this one keeps an
optional on-disk cache. It is off unless a TTL is given (``--cache-ttl`` or
``CRATON_INVENTORY_CACHE_TTL``) or Ansible's own switch ``ANSIBLE_INVENTORY_CACHE`` is on (then
``ANSIBLE_INVENTORY_CACHE_TIMEOUT`` and ``ANSIBLE_INVENTORY_CACHE_CONNECTION`` give the TTL and
the directory, as for inventory plugins). A cached answer younger than the TTL is used without
asking the server; an older one is revalidated with ``If-None-Match``, and a ``304 Not
Modified`` answer (no body) renews it. Cache files hold host variables, so they are written
with mode 0600 in a 0700 directory, and their names are hashes (no credentials in them).

Variable values are data, not templates: Ansible evaluates Jinja in strings that an inventory
script prints, and any project member can write Craton variables. So strings holding a template
marker (``{{``, ``{%``, ``{#``) are printed as ``{"__ansible_unsafe": "..."}``, which Ansible reads
as a string it never templates (as the inventory plugin does). ``--allow-templates`` (or
``CRATON_INVENTORY_ALLOW_TEMPLATES=true``) prints the server's JSON verbatim instead.

Only the standard library and ``requests`` are used; nothing else of cratonclient.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

PROG = "craton-inventory"
DEFAULT_TIMEOUT = 120.0
#: Ansible's default inventory cache timeout, used when only ANSIBLE_INVENTORY_CACHE is set.
ANSIBLE_DEFAULT_CACHE_TIMEOUT = 3600
FILTERS = ("cloud_id", "region_id", "cell_id", "label", "vars")
#: What the server can group hosts by (``group_by``), as in the inventory plugin.
GROUPINGS = ("cloud", "region", "cell", "label", "device_type")
TRUE_WORDS = frozenset({"1", "y", "yes", "true", "on"})


class InventoryError(Exception):
    """A failure worth one line on stderr (Ansible shows it to the user)."""


def _env(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = environ.get(name)
        if value not in (None, ""):
            return value
    return None


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Print Craton's Ansible inventory (JSON) for use as an inventory script.",
        epilog="Options default to the environment variables named in parentheses.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="print the whole inventory (the default)")
    mode.add_argument("--host", metavar="NAME", help="print the variables of one host ({} if unknown)")

    conn = p.add_argument_group("connection")
    conn.add_argument("--url", default=_env(environ, "CRATON_URL"), help="Craton API URL (CRATON_URL)")
    conn.add_argument("--project-id", default=_env(environ, "OS_PROJECT_ID"), help="project id or name (OS_PROJECT_ID)")
    conn.add_argument("--username", default=_env(environ, "OS_USERNAME"), help="user name (OS_USERNAME)")
    conn.add_argument("--api-key", default=_env(environ, "OS_PASSWORD"), help="API key (OS_PASSWORD)")
    conn.add_argument(
        "--os-cacert",
        default=_env(environ, "OS_CACERT"),
        metavar="FILE",
        help="CA bundle for TLS verification (OS_CACERT)",
    )
    conn.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
    try:
        timeout = float(_env(environ, "CRATON_INVENTORY_TIMEOUT") or DEFAULT_TIMEOUT)
    except ValueError as exc:
        p.error(f"CRATON_INVENTORY_TIMEOUT: {exc}")
    conn.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        default=timeout,
        help=f"request timeout (CRATON_INVENTORY_TIMEOUT, default {DEFAULT_TIMEOUT:g})",
    )

    filters = p.add_argument_group("filters")
    for name, kind, text in (
        ("cloud_id", int, "only hosts of this cloud"),
        ("region_id", int, "only hosts of this region"),
        ("cell_id", int, "only hosts of this cell"),
        ("label", str, "only hosts with this label"),
        ("vars", str, "only hosts whose resolved variables match, e.g. 'role:\"compute\"'"),
    ):
        env_name = f"CRATON_INVENTORY_{name.upper()}"
        raw = _env(environ, env_name)
        try:
            default = kind(raw) if raw is not None else None
        except ValueError:
            p.error(f"{env_name}={raw!r} is not an integer")
        filters.add_argument(
            f"--{name.replace('_', '-')}", dest=name, type=kind, default=default, help=f"{text} ({env_name})"
        )

    groups = p.add_argument_group("grouping")
    groups.add_argument(
        "--network-devices",
        action=argparse.BooleanOptionalAction,
        default=(_env(environ, "CRATON_INVENTORY_NETWORK_DEVICES") or "").lower() in TRUE_WORDS,
        help="also list network devices as hosts, grouped like hosts (CRATON_INVENTORY_NETWORK_DEVICES)",
    )
    groups.add_argument(
        "--group-by",
        action="append",
        type=_groupings,
        metavar="GROUPS",
        help="which groups to build: any of " + ", ".join(GROUPINGS) + ", repeated or separated by "
        "commas; 'none' for no groups (CRATON_INVENTORY_GROUP_BY; default: region,cell,label)",
    )

    p.add_argument(
        "--allow-templates",
        action="store_true",
        default=(_env(environ, "CRATON_INVENTORY_ALLOW_TEMPLATES") or "").lower() in TRUE_WORDS,
        help="let Ansible evaluate Jinja in variable values (CRATON_INVENTORY_ALLOW_TEMPLATES); "
        "by default they are marked unsafe",
    )

    cache = p.add_argument_group("cache")
    try:
        ttl = _default_ttl(environ)
    except ValueError as exc:
        p.error(f"cache timeout from the environment: {exc}")
    cache.add_argument(
        "--cache-ttl",
        type=float,
        metavar="SECONDS",
        default=ttl,
        help="use a cached answer this young without asking; revalidate older ones with "
        "If-None-Match (CRATON_INVENTORY_CACHE_TTL; off by default, 0 = always revalidate)",
    )
    cache.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=_default_cache_dir(environ),
        help="cache directory (CRATON_INVENTORY_CACHE_DIR)",
    )
    cache.add_argument("--refresh", action="store_true", help="ignore the cache, fetch, and store the answer")
    return p


def _groupings(text: str) -> list[str]:
    """``region,cell`` -> ``["region", "cell"]``; an unknown grouping is a usage error naming the known ones."""
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in wanted if part not in (*GROUPINGS, "none")]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown grouping {', '.join(map(repr, unknown))}; choose from {', '.join(GROUPINGS)} or none"
        )
    return wanted


def grouping_of(args: argparse.Namespace, environ: Mapping[str, str]) -> str | None:
    """The ``group_by`` query value, or None for the server's default (region, cell, label)."""
    if args.group_by is not None:
        chosen = [group for groups in args.group_by for group in groups]
    else:
        raw = _env(environ, "CRATON_INVENTORY_GROUP_BY")
        if raw is None:
            return None
        try:
            chosen = _groupings(raw)
        except argparse.ArgumentTypeError as exc:
            raise InventoryError(f"CRATON_INVENTORY_GROUP_BY: {exc}") from None
    return ",".join(chosen) or "none"


def _default_ttl(environ: Mapping[str, str]) -> float | None:
    own = _env(environ, "CRATON_INVENTORY_CACHE_TTL")
    if own is not None:
        return float(own)
    if (_env(environ, "ANSIBLE_INVENTORY_CACHE") or "").lower() in TRUE_WORDS:
        timeout = _env(environ, "ANSIBLE_INVENTORY_CACHE_TIMEOUT", "ANSIBLE_CACHE_PLUGIN_TIMEOUT")
        return float(timeout) if timeout is not None else float(ANSIBLE_DEFAULT_CACHE_TIMEOUT)
    return None


def _default_cache_dir(environ: Mapping[str, str]) -> str:
    explicit = _env(
        environ, "CRATON_INVENTORY_CACHE_DIR", "ANSIBLE_INVENTORY_CACHE_CONNECTION", "ANSIBLE_CACHE_PLUGIN_CONNECTION"
    )
    if explicit:
        return os.path.expanduser(explicit)
    base = _env(environ, "XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "craton-inventory")


@dataclass(frozen=True)
class Source:
    """Where the inventory comes from: one URL and the credentials to send."""

    url: str
    headers: dict[str, str]
    verify: bool | str
    timeout: float

    @classmethod
    def from_args(cls, args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Source:
        if not args.url:
            raise InventoryError("no Craton URL: pass --url or set CRATON_URL")
        missing = [
            env
            for env, value in (
                ("OS_PROJECT_ID", args.project_id),
                ("OS_USERNAME", args.username),
                ("OS_PASSWORD", args.api_key),
            )
            if not value
        ]
        if missing:
            raise InventoryError(f"missing credentials: set {', '.join(missing)} (or pass the options)")
        root = args.url.strip().rstrip("/")
        if not root.endswith("/v1"):
            root += "/v1"
        query = {name: getattr(args, name) for name in FILTERS if getattr(args, name) not in (None, "")}
        if args.network_devices:
            query["network_devices"] = "true"
        group_by = grouping_of(args, os.environ if environ is None else environ)
        if group_by is not None:
            query["group_by"] = group_by
        url = requests.Request("GET", f"{root}/ansible-inventory", params=query).prepare().url or ""
        headers = {
            "Accept": "application/json",
            "User-Agent": f"{PROG}/1.0",
            "X-Auth-Project": args.project_id,
            "X-Auth-User": args.username,
            "X-Auth-Token": args.api_key,
        }
        verify: bool | str = False if args.insecure else (args.os_cacert or True)
        return cls(url=url, headers=headers, verify=verify, timeout=args.timeout)

    @property
    def cache_name(self) -> str:
        """A file name that differs per URL, filters, project, user and key, and reveals none."""
        identity = "|".join(
            [self.url, self.headers["X-Auth-Project"], self.headers["X-Auth-User"], self.headers["X-Auth-Token"]]
        )
        return f"inventory-{hashlib.sha256(identity.encode()).hexdigest()[:32]}.json"

    def get(self, etag: str | None = None) -> requests.Response:
        headers = dict(self.headers)
        if etag:
            headers["If-None-Match"] = etag
        try:
            response = requests.get(self.url, headers=headers, timeout=self.timeout, verify=self.verify)
        except requests.exceptions.Timeout:
            raise InventoryError(
                f"no answer from {self.url} within {self.timeout:g} s "
                "(raise --timeout or CRATON_INVENTORY_TIMEOUT for a very large inventory)"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise InventoryError(f"cannot reach Craton at {self.url}: {exc}") from None
        if response.status_code not in (200, 304):
            raise InventoryError(f"Craton answered {response.status_code} to GET {self.url}: {_message(response)}")
        return response


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason
    return str(body.get("message")) if isinstance(body, dict) and body.get("message") else response.reason


class Cache:
    """One file per source: a JSON header line (``{"etag": ...}``) and then the body verbatim.

    The file's modification time is when the answer was last confirmed by the server.
    """

    def __init__(self, directory: str, name: str) -> None:
        self.path = Path(directory) / name

    def read(self) -> tuple[str | None, bytes, float] | None:
        """``(etag, body, age in seconds)``, or None when there is no usable entry."""
        try:
            with self.path.open("rb") as handle:
                header = json.loads(handle.readline())
                body = handle.read()
                age = time.time() - os.fstat(handle.fileno()).st_mtime
        except (OSError, ValueError):
            return None
        if not isinstance(header, dict) or not body:
            return None
        return header.get("etag"), body, age

    def write(self, etag: str | None, body: bytes) -> None:
        """Atomically, so a concurrent reader sees the old entry or the new one, never half."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(json.dumps({"etag": etag}).encode() + b"\n")
                handle.write(body)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def touch(self) -> None:
        with contextlib.suppress(OSError):
            os.utime(self.path)


def load_inventory(source: Source, ttl: float | None, cache_dir: str, refresh: bool = False) -> bytes:
    """The inventory JSON as bytes: from the cache, after revalidation, or freshly fetched."""
    if ttl is None:
        return source.get().content
    cache = Cache(cache_dir, source.cache_name)
    entry = None if refresh else cache.read()
    if entry is not None:
        etag, body, age = entry
        if age < ttl:
            return body
        response = source.get(etag)
        if response.status_code == 304:
            cache.touch()
            return body
    else:
        response = source.get()
    if response.status_code == 304:  # a 304 to an unconditional request: do not trust it
        raise InventoryError(f"Craton answered 304 to GET {source.url} without a cached copy")
    try:
        cache.write(response.headers.get("ETag"), response.content)
    except OSError as exc:
        print(f"{PROG}: warning: cannot write the cache {cache.path}: {exc}", file=sys.stderr)
    return response.content


TEMPLATE_MARKERS = ("{{", "{%", "{#")


def _mark(value: Any) -> Any:
    """Strings that Ansible would template, wrapped so that it reads them as unsafe text."""
    if isinstance(value, str):
        return {"__ansible_unsafe": value} if any(m in value for m in TEMPLATE_MARKERS) else value
    if isinstance(value, dict):
        return {key: _mark(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mark(item) for item in value]
    return value


def untrusted(body: bytes) -> bytes:
    """The inventory with every template-looking variable value marked unsafe.

    Most inventories hold no template marker at all; then the body is returned as it came,
    without parsing it.
    """
    if not any(marker.encode() in body for marker in TEMPLATE_MARKERS):
        return body
    inventory = json.loads(body)
    for name, group in inventory.items():
        if name == "_meta" and isinstance(group, dict):
            hostvars = group.get("hostvars") or {}
            for host in hostvars:
                hostvars[host] = _mark(hostvars[host])
        elif isinstance(group, dict) and "vars" in group:
            group["vars"] = _mark(group["vars"])
    return json.dumps(inventory, separators=(",", ":"), ensure_ascii=False).encode()


def main(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, stdout: IO[bytes] | None = None
) -> int:
    environ = os.environ if environ is None else environ
    out = stdout if stdout is not None else sys.stdout.buffer
    parser = build_parser(environ)
    args = parser.parse_args(argv)
    try:
        source = Source.from_args(args, environ)
        body = load_inventory(source, args.cache_ttl, args.cache_dir, refresh=args.refresh)
        if args.host is None:
            if not args.allow_templates:
                body = untrusted(body)
            out.write(body if body.endswith(b"\n") else body + b"\n")
        else:
            try:
                inventory = json.loads(body)
            except ValueError as exc:
                raise InventoryError(f"Craton's answer is not JSON: {exc}") from None
            hostvars = inventory.get("_meta", {}).get("hostvars", {}).get(args.host, {})
            if not args.allow_templates:
                hostvars = _mark(hostvars)
            out.write(json.dumps(hostvars, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n")
        out.flush()
    except InventoryError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
