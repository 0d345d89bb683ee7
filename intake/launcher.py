"""The ``intake`` console command.

A parsing worker is a new interpreter that first re-imports the script it was started from, as
``__mp_main__``. The script pip writes for ``intake`` imports this module at its top; the command
line, and with it SQLAlchemy, Jinja2 and IMAP (some 35 MB), is imported only when the command
runs, so a worker loads nothing of the service beside the parsers.
"""

from __future__ import annotations


def main() -> int:
    """Run the command line (``intake.cli.main``)."""
    from .cli import main as run

    return run()
