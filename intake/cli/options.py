"""The options every command takes (``--config``, ``-v``) and the settings ``--config`` names."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import Settings, default_config_path, load_settings


def add_shared_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--config`` and ``-v`` to the ``intake`` parser."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="配置文件 (default ./config.toml or $INTAKE_CONFIG)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every message")


def config_path(args: argparse.Namespace) -> Path:
    """The config file of this call: ``--config``, else ``$INTAKE_CONFIG`` or ``./config.toml``."""
    return args.config or default_config_path()


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings of this call, loaded from its config file."""
    return load_settings(config_path(args))
