"""Printing or writing the report in the formats the command line offers (``intake report``)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tracker.exports import render_table

from ..config import Settings
from ..reporting import console, report_data
from .errors import UserError

REPORT_FORMATS = ("table", "json", "csv", "xlsx", "html")


def print_report(
    settings: Settings, sessions: sessionmaker[Session], fmt: str, output: Path | None
) -> None:
    """Write the report as ``fmt`` to ``output``, or to the terminal (xlsx needs ``output``)."""
    if fmt == "xlsx" and output is None:
        raise UserError(
            "xlsx 格式需要用 --output 指定文件 / --format xlsx needs --output FILE.xlsx"
        )
    report = report_data(settings, sessions)
    if fmt == "xlsx":
        from tracker.xlsx_report import write_report_xlsx

        write_report_xlsx(report, output)
        print(f"已写入 {output}")
        return
    if fmt in ("json", "csv", "html"):
        _write_text(_report_text(settings, sessions, report, fmt), output, bom=fmt == "csv")
        return
    if output:
        with output.open("w", encoding="utf-8") as handle:
            console(handle).print(render_table(report))
    else:
        console().print(render_table(report))


def _report_text(
    settings: Settings, sessions: sessionmaker[Session], report: dict, fmt: str
) -> str:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        from tracker.exports import report_csv

        return report_csv(report)
    from ..web.pages import unassigned
    from ..web.render import report_html

    with sessions() as session:
        listed = unassigned(session, settings)
    return report_html(report, listed, now=datetime.fromisoformat(report["generated_at"]))


def _write_text(text: str, output: Path | None, *, bom: bool = False) -> None:
    """``text`` to ``output`` (UTF-8, with a BOM for CSV so Excel reads it) or to standard
    output."""
    if output:
        output.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    else:
        print(text, end="")
