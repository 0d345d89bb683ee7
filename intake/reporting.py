"""The report of the configured campaign, as the dashboard, the digest, the demo and the command
line read it, and the console the report table is printed on."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from tracker.report import build_report

from .config import Settings


def report_data(
    settings: Settings, sessions: sessionmaker[Session], now: datetime | None = None
) -> dict:
    """The report dictionary for the configured campaign."""
    with sessions() as session:
        return build_report(
            session,
            campaign=settings.campaign_name,
            deadline=settings.deadline,
            now=now or datetime.now(UTC),
            rules=settings.rules,
        )


def console(file=None):  # noqa: ANN001, ANN201 - a rich Console
    """A console for the report: the terminal's width, or 140 columns when writing to a pipe or
    file."""
    from rich.console import Console

    probe = Console(file=file)
    return probe if probe.is_terminal else Console(file=file, width=140, no_color=file is not None)
