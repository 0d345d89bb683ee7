"""The ``intake`` command line: ``main`` and its parser; the commands live in one module per group.

``mail`` takes mail in and answers it (demo, poll, run, status, release-held, import, assign,
reprocess), ``reports`` writes the report and the exports, ``staff`` serves the dashboard and
hashes its password. A mistake on the command line is a ``UserError`` (``errors``): one line on
standard error and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from parsers.text_safety import LogFilter

from ..config import ConfigError
from . import decisions, mail, reports, staff
from .errors import UserError
from .options import add_shared_options

__all__ = ["UserError", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run one command; user mistakes print one line and exit 2, never a traceback."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:  # a sender's text is one visible log line
        handler.addFilter(LogFilter())
    try:
        return args.handler(args) or 0
    except (ConfigError, UserError) as exc:
        print(f"intake: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("intake: interrupted / 已中断", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - servers down, disk full: one line, details with -v
        from sqlalchemy.exc import OperationalError

        from ..imap import ImapError
        from ..localsource import SourceError

        if isinstance(exc, OperationalError):  # database unreachable or locked too long
            print(
                f"intake: 数据库不可用 / database unavailable: {str(exc.orig).splitlines()[0]}",
                file=sys.stderr,
            )
            return 1
        if isinstance(exc, ImapError | SourceError | OSError):
            print(f"intake: {exc}", file=sys.stderr)
            if args.verbose:
                raise
            return 1
        raise


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intake", description="分党委材料报送的收件、回执与催交服务"
    )
    add_shared_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (mail, reports, staff, decisions):
        group.add_commands(commands)
    return parser
