"""Printing or writing the report in the formats the command line offers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tracker.report import build_report, render_table

from .config import Settings

REPORT_FORMATS = ("table", "json")


def report_data(settings: Settings, sessions: sessionmaker[Session], now: datetime | None = None) -> dict:
    """The report dictionary for the configured campaign."""
    with sessions() as session:
        return build_report(session, campaign=settings.campaign_name, deadline=settings.deadline,
                            now=now or datetime.now(timezone.utc))


def console(file=None):  # noqa: ANN001, ANN201 - a rich Console
    """A console for the report: the terminal's width, or 140 columns when writing to a pipe or file."""
    from rich.console import Console

    probe = Console(file=file)
    return probe if probe.is_terminal else Console(file=file, width=140, no_color=file is not None)


def print_report(settings: Settings, sessions: sessionmaker[Session], fmt: str, output: Path | None) -> None:
    """Write the report as ``fmt`` to ``output``, or to the terminal."""
    report = report_data(settings, sessions)
    if fmt == "json":
        text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            print(text, end="")
        return
    if output:
        with output.open("w", encoding="utf-8") as handle:
            console(handle).print(render_table(report))
    else:
        console().print(render_table(report))
