"""Options both commands share, and settings built from them."""

from __future__ import annotations

import argparse
from typing import Any

from craton import logs
from craton.settings import Settings, SettingsError, load_settings


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config-file", help="INI file with [api] and [database] sections")
    parser.add_argument("--database-url", help="SQLAlchemy URL (env CRATON_DATABASE_URL)")


def settings_from(args: argparse.Namespace, parser: argparse.ArgumentParser, **flags: Any) -> Settings:
    try:
        return load_settings(config_file=args.config_file, database_url=args.database_url, **flags)
    except SettingsError as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


def configure_logging(level: str, fmt: str = "text") -> None:
    logs.configure(level, fmt)
