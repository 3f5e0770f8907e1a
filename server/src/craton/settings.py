"""One typed settings object, read once at start-up.

Precedence, highest first: command-line flags, environment variables, the INI
file given with ``--config-file``, then built-in defaults.
"""

from __future__ import annotations

import configparser
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///craton.sqlite"


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to know about its environment."""

    database_url: str = DEFAULT_DATABASE_URL
    api_host: str = "127.0.0.1"
    api_port: int = 7780
    workers: int = 1
    threads: int = 4
    auth_strategy: str = "craton"
    log_level: str = "info"
    log_format: str = "text"
    access_log: bool = True
    max_body_bytes: int = 1_048_576
    max_json_depth: int = 32
    # POST /v1/import: a whole fleet document is far bigger than any other request.
    max_import_bytes: int = 64 * 1024 * 1024
    history_enabled: bool = True
    history_retention_days: int = 0
    rate_limit: float = 0.0
    public_url: str = ""
    allowed_hosts: str = "*"
    rate_limit_burst: int = 20
    db_pool_size: int = 10
    db_max_overflow: int = 20
    events_enabled: bool = True
    events_interval: float = 1.0
    # Whether writes queue events (an outbox row per change record) for the event pump.
    events_queue: bool = True
    # A pending change older than this is warned about (log, /readyz, /metrics); 0: never.
    events_backlog_warn_seconds: float = 600.0
    webhooks_allow_private_targets: bool = False
    webhooks_max_attempts: int = 8
    webhooks_backoff_seconds: float = 10.0
    webhooks_backoff_max_seconds: float = 3600.0
    webhooks_timeout_seconds: float = 10.0
    webhooks_max_response_bytes: int = 65536
    webhooks_disable_after: int = 5
    webhooks_poll_seconds: float = 2.0
    # Whether the background loop (craton-api's thread, craton-events) delivers webhooks.
    webhooks_dispatch: bool = True
    webhooks_delivery_retention_days: int = 30
    extra: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


# setting name -> (environment variable, INI section, INI option)
_SOURCES: dict[str, tuple[str, str, str]] = {
    "database_url": ("CRATON_DATABASE_URL", "database", "connection"),
    "api_host": ("CRATON_API_HOST", "api", "host"),
    "api_port": ("CRATON_API_PORT", "api", "port"),
    "workers": ("CRATON_API_WORKERS", "api", "workers"),
    "threads": ("CRATON_API_THREADS", "api", "threads"),
    "auth_strategy": ("CRATON_AUTH_STRATEGY", "api", "auth_strategy"),
    "log_level": ("CRATON_LOG_LEVEL", "DEFAULT", "log_level"),
    "log_format": ("CRATON_LOG_FORMAT", "DEFAULT", "log_format"),
    "access_log": ("CRATON_ACCESS_LOG", "api", "access_log"),
    "max_body_bytes": ("CRATON_MAX_BODY_BYTES", "api", "max_body_bytes"),
    "max_json_depth": ("CRATON_MAX_JSON_DEPTH", "api", "max_json_depth"),
    "max_import_bytes": ("CRATON_MAX_IMPORT_BYTES", "api", "max_import_bytes"),
    "history_enabled": ("CRATON_HISTORY_ENABLED", "history", "enabled"),
    "history_retention_days": ("CRATON_HISTORY_RETENTION_DAYS", "history", "retention_days"),
    "rate_limit": ("CRATON_RATE_LIMIT", "api", "rate_limit"),
    "public_url": ("CRATON_PUBLIC_URL", "api", "public_url"),
    "allowed_hosts": ("CRATON_ALLOWED_HOSTS", "api", "allowed_hosts"),
    "rate_limit_burst": ("CRATON_RATE_LIMIT_BURST", "api", "rate_limit_burst"),
    "db_pool_size": ("CRATON_DB_POOL_SIZE", "database", "max_pool_size"),
    "db_max_overflow": ("CRATON_DB_MAX_OVERFLOW", "database", "max_overflow"),
    "events_enabled": ("CRATON_EVENTS_ENABLED", "events", "enabled"),
    "events_interval": ("CRATON_EVENTS_INTERVAL", "events", "interval"),
    "events_queue": ("CRATON_EVENTS_QUEUE", "events", "queue"),
    "events_backlog_warn_seconds": ("CRATON_EVENTS_BACKLOG_WARN_SECONDS", "events", "backlog_warn_seconds"),
    "webhooks_allow_private_targets": ("CRATON_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "webhooks", "allow_private_targets"),
    "webhooks_max_attempts": ("CRATON_WEBHOOKS_MAX_ATTEMPTS", "webhooks", "max_attempts"),
    "webhooks_backoff_seconds": ("CRATON_WEBHOOKS_BACKOFF_SECONDS", "webhooks", "backoff_seconds"),
    "webhooks_backoff_max_seconds": ("CRATON_WEBHOOKS_BACKOFF_MAX_SECONDS", "webhooks", "backoff_max_seconds"),
    "webhooks_timeout_seconds": ("CRATON_WEBHOOKS_TIMEOUT_SECONDS", "webhooks", "timeout_seconds"),
    "webhooks_max_response_bytes": ("CRATON_WEBHOOKS_MAX_RESPONSE_BYTES", "webhooks", "max_response_bytes"),
    "webhooks_disable_after": ("CRATON_WEBHOOKS_DISABLE_AFTER", "webhooks", "disable_after"),
    "webhooks_poll_seconds": ("CRATON_WEBHOOKS_POLL_SECONDS", "webhooks", "poll_seconds"),
    "webhooks_dispatch": ("CRATON_WEBHOOKS_DISPATCH", "webhooks", "dispatch"),
    "webhooks_delivery_retention_days": (
        "CRATON_WEBHOOKS_DELIVERY_RETENTION_DAYS",
        "webhooks",
        "delivery_retention_days",
    ),
}

# The original's Paste pipeline names are accepted as aliases.
_AUTH_ALIASES = {"local-auth": "craton", "keystone-auth": "keystone", "craton": "craton", "keystone": "keystone"}


class SettingsError(ValueError):
    """A configuration value is unusable; the message names it."""


def _convert(name: str, raw: Any) -> Any:
    target = {f.name: f.type for f in dataclasses.fields(Settings)}[name]
    if raw is None:
        return None
    if target == "int":
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{name}: {raw!r} is not an integer") from None
    if target == "float":
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{name}: {raw!r} is not a number") from None
    if target == "bool":
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() not in {"", "0", "n", "no", "false", "off"}
    if name == "auth_strategy":
        try:
            return _AUTH_ALIASES[str(raw).strip()]
        except KeyError:
            raise SettingsError(f"auth_strategy: {raw!r} is not one of craton, keystone") from None
    return str(raw)


def _read_ini(path: str | os.PathLike[str]) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    if not Path(path).is_file():
        raise SettingsError(f"config file {path} does not exist")
    parser.read(path)
    return parser


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings from the four sources; ``overrides`` are the command-line flags."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    extra: dict[str, dict[str, str]] = {}
    if config_file:
        ini = _read_ini(config_file)
        extra = {section: dict(ini[section]) for section in ini.sections()}
        if ini.has_option("api", "paste_pipeline") and not ini.has_option("api", "auth_strategy"):
            values["auth_strategy"] = ini.get("api", "paste_pipeline")
        for name, (_, section, option) in _SOURCES.items():
            if section == "DEFAULT":
                if option in ini.defaults():
                    values[name] = ini.defaults()[option]
            elif ini.has_option(section, option):
                values[name] = ini.get(section, option)
    for name, (env_name, _, _) in _SOURCES.items():
        if env_name in environ:
            values[name] = environ[env_name]
    for name, value in overrides.items():
        if value is not None:
            values[name] = value
    converted = {name: _convert(name, raw) for name, raw in values.items()}
    settings = Settings(extra=extra, **converted)
    if settings.workers < 1:
        raise SettingsError("workers must be at least 1")
    if settings.threads < 1:
        raise SettingsError("threads must be at least 1")
    if not settings.events_interval > 0:
        raise SettingsError(f"events_interval must be a positive number of seconds, not {settings.events_interval}")
    if settings.events_backlog_warn_seconds < 0:
        raise SettingsError("events backlog_warn_seconds must be 0 (never warn) or more")
    if settings.webhooks_max_attempts < 1:
        raise SettingsError("webhooks max_attempts must be at least 1")
    if settings.webhooks_delivery_retention_days < 0:
        raise SettingsError("webhooks delivery_retention_days must be 0 (keep every delivery) or more")
    if settings.public_url:
        public = urlsplit(settings.public_url)
        if public.scheme not in ("http", "https") or not public.netloc or public.query or public.fragment:
            raise SettingsError(
                f"public_url: {settings.public_url!r} is not an http(s) URL without query, e.g. https://craton.example.net"
            )
    return settings
