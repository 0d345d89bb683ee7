"""The ``intake`` console command: a thin entry point that imports the command line (and with
it SQLAlchemy, Jinja2 and IMAP) only when the command runs. Parsing workers never re-import it:
they are started as ``python -m parsers.worker`` (``intake.pipeline.workers``)."""

from __future__ import annotations


def main() -> int:
    """Run the command line (``intake.cli.main``)."""
    from .cli import main as run

    return run()
