"""Options both commands share, and settings built from them."""

from __future__ import annotations

import argparse
import logging

from craton.settings import LOG_FORMAT, Settings, SettingsError, load_settings


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config-file", help="INI file with [api] and [database] sections")
    parser.add_argument("--database-url", help="SQLAlchemy URL (env CRATON_DATABASE_URL)")


def settings_from(args: argparse.Namespace, parser: argparse.ArgumentParser, **flags: object) -> Settings:
    try:
        return load_settings(config_file=args.config_file, database_url=args.database_url, **flags)
    except SettingsError as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
