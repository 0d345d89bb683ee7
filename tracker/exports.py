"""What every staff format of the report shares: cell states, labels, colours, rows, and CSV.

The report dictionary (``tracker.report.build_report``) is the one source; the terminal table,
the CSV, the xlsx (``tracker.xlsx_report``) and the HTML page all show the same cells:
按时 / 逾期 / 缺交 / 需更正 / 待核对 with the arrival time, under the campaign's item labels.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import datetime
from typing import Any

from parsers.text_safety import EXCEL_CELL, shown
from parsers.vocabulary import ITEM_KEYS, STATUS_LABELS, short_label

from .report import item_labels, summary_counts
from .zones import zone_label

CELL_LABELS = {**STATUS_LABELS, "needs_correction": "需更正", "doubt": "待核对"}
# Background and text colours (RGB hex, no '#'), shared by the xlsx fills and the page's CSS.
CELL_COLOURS = {
    "on_time": ("D7F0DD", "1E6B34"),
    "late": ("FFEDB8", "7A5300"),
    "missing": ("F9D3D0", "A3261B"),
    "needs_correction": ("E6DBFA", "5321A8"),
    "doubt": ("DCEBFA", "1F4E8C"),
    "exempt": ("EDEDED", "555555"),
}
UNIT_HEADER = "分党委（直属党总支）"


def cell_state(item: dict[str, Any]) -> str:
    """``needs_correction`` when the newest version has problems, ``doubt`` when staff must check
    it, else the item's status."""
    if item["problems"]:
        return "needs_correction"
    if item.get("doubts") and item["status"] != "missing":
        return "doubt"
    return item["status"]


def arrival_text(item: dict[str, Any]) -> str:
    """The first arrival as ``MM-DD HH:MM`` in the deadline's zone ('' when missing)."""
    if not item["received_at"]:
        return ""
    return datetime.fromisoformat(item["received_at"]).strftime("%m-%d %H:%M")


def cell_label(item: dict[str, Any]) -> str:
    """The cell's word: 按时 / 逾期 / 缺交, or 需更正 / 待核对 followed by whether it came in time;
    an optional item not sent is 未交（非必交）."""
    state = cell_state(item)
    if state in ("needs_correction", "doubt"):
        return f"{CELL_LABELS[state]}（{CELL_LABELS[item['status']]}）"
    if state == "missing" and not item.get("required", True):
        return "未交（非必交）"
    return CELL_LABELS[state]


def unit_problem_messages(unit: dict[str, Any]) -> list[str]:
    """Every problem sentence of one unit (items first, then the unit's own), without repeats."""
    sentences = [p["message"] for key in ITEM_KEYS for p in unit["items"][key]["problems"]]
    sentences += [p["message"] for p in unit["problems"]]
    return list(dict.fromkeys(sentences))


def unit_problem_labels(unit: dict[str, Any], best_share: float = 0.30) -> list[str]:
    """The short Chinese labels of a unit's problems and doubts (最佳超30%, 公章待核对 ...),
    without repeats."""
    codes = [p["code"] for key in ITEM_KEYS for p in unit["items"][key]["problems"]]
    codes += [p["code"] for p in unit["problems"]]
    codes += [d["code"] for key in ITEM_KEYS for d in unit["items"][key].get("doubts", ())]
    return [short_label(code, best_share=best_share) for code in dict.fromkeys(codes)]


def problem_rows(
    report: dict[str, Any], verdicts: str = "problems"
) -> list[tuple[str, str, str, str, str]]:
    """Every problem (or, with ``verdicts="doubts"``, every doubt) as (unit, material, code, short
    label, sentence), in report order."""
    labels, share = item_labels(report), report.get("best_share", 0.30)
    rows = []
    for unit in report["subcommittees"]:
        for key in ITEM_KEYS:
            for found in unit["items"][key].get(verdicts, ()):
                rows.append(
                    (
                        unit["name"],
                        labels[key],
                        found["code"],
                        short_label(found["code"], best_share=share),
                        found["message"],
                    )
                )
        for found in unit["problems"] if verdicts == "problems" else ():
            rows.append(
                (
                    unit["name"],
                    "来信",
                    found["code"],
                    short_label(found["code"], best_share=share),
                    found["message"],
                )
            )
    return rows


def headline(report: dict[str, Any]) -> str:
    """The counts line shown at the top of every format."""
    n = summary_counts(report)
    return (
        f"完成 {n['complete']}/{n['total']}  缺交 {n['missing']}  逾期 {n['late']}  "
        f"需更正 {n['needs_correction']}  待核对 {n['doubts']}  未识别来信 {n['unassigned']}  "
        f"处理失败 {n['failed']}"
    )


def table_header(report: dict[str, Any] | None = None) -> list[str]:
    """The header of the one-row-per-unit table (CSV and xlsx), under the campaign's labels."""
    short = item_labels(report or {}, short=True)
    header = [UNIT_HEADER, "是否完成"]
    for key in ITEM_KEYS:
        header += [short[key], f"{short[key]}送达时间"]
    return header + ["问题", "待核对"]


def table_row(unit: dict[str, Any]) -> list[str]:
    """One unit as the cells of ``table_header``."""
    row = [unit["name"], "是" if unit["complete"] else "否"]
    for key in ITEM_KEYS:
        item = unit["items"][key]
        row += [cell_label(item), _full_time(item["received_at"])]
    doubts = [d["message"] for key in ITEM_KEYS for d in unit["items"][key].get("doubts", ())]
    return row + ["\n".join(unit_problem_messages(unit)), "\n".join(dict.fromkeys(doubts))]


def unassigned_header() -> list[str]:
    """The header of the list of messages no unit was found for."""
    return ["收到时间", "发件人", "主题", "Message-ID", "回执编号"]


def unassigned_row(message: dict[str, Any]) -> list[str]:
    """One unassigned message as the cells of ``unassigned_header``."""
    return [
        _full_time(message["received_at"]),
        message["from"] or "",
        message["subject"] or "",
        message["message_id"] or "",
        message.get("reference") or "",
    ]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_value(value: object) -> object:
    """A value as a spreadsheet cell (xlsx or CSV) can hold it: a sender's control characters
    shown, at most the 32 767 characters of an Excel cell (``parsers.text_safety``)."""
    return shown(value, EXCEL_CELL)


def csv_safe(value: object) -> object:
    """Text from mail that a spreadsheet would run as a formula, quoted to stay text; control
    characters shown and the length bounded as in any cell."""
    value = cell_value(value)
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def keep_text(cell) -> None:  # noqa: ANN001 - an openpyxl cell
    """Keep a cell's text as text even when it starts like a formula (a subject "=HYPERLINK(…)")."""
    if isinstance(cell.value, str) and cell.data_type == "f":
        cell.data_type = "s"


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV text: the header row first (no title line, so that a spreadsheet or a
    script reads the columns), the unit table, then the unassigned messages after a blank row.

    Write it with the ``utf-8-sig`` encoding so that Excel opens the Chinese text correctly.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table_header(report))
    writer.writerows([csv_safe(v) for v in table_row(unit)] for unit in report["subcommittees"])
    writer.writerow([])
    writer.writerow(["未识别单位的来信"])
    writer.writerow(unassigned_header())
    writer.writerows([csv_safe(v) for v in unassigned_row(m)] for m in report["unassigned"])
    return buffer.getvalue()


def display_width(text: object) -> int:
    """How many Latin-letter widths ``text`` takes in a spreadsheet cell (CJK counts two)."""
    longest = 0
    for line in str(text if text is not None else "").splitlines() or [""]:
        width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
        longest = max(longest, width)
    return longest


def _full_time(value: str | None) -> str:
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M") if value else ""


def deadline_text(value: str) -> str:
    """The deadline with its zone named: ``2022-04-01 17:00 北京时间`` (``UTC+09:00`` elsewhere)."""
    moment = datetime.fromisoformat(value)
    return f"{moment:%Y-%m-%d %H:%M} {zone_label(moment)}"


def render_table(report: dict[str, Any]):  # noqa: ANN201 - a rich renderable group
    """The report as a rich terminal table, with the cells and headline of every other format."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    styles = {
        "on_time": "green",
        "late": "yellow",
        "missing": "red",
        "needs_correction": "magenta",
        "doubt": "cyan",
        "exempt": "dim",
    }
    short = item_labels(report, short=True)
    table = Table(show_lines=True)
    table.add_column(UNIT_HEADER, min_width=12, ratio=2)
    for key in ITEM_KEYS:
        table.add_column(short[key], no_wrap=True)
    table.add_column("问题", ratio=1)
    for unit in report["subcommittees"]:
        cells = [
            Text(
                "\n".join(filter(None, (cell_label(item), arrival_text(item)))),
                style=styles[cell_state(item)],
            )
            for item in (unit["items"][key] for key in ITEM_KEYS)
        ]
        table.add_row(
            Text(unit["name"], style="bold" if unit["complete"] else ""),
            *cells,
            "、".join(unit_problem_labels(unit, report.get("best_share", 0.30))),
        )
    parts = [
        Text(f"{report['campaign']}  截止时间 {deadline_text(report['deadline'])}"),
        Text(headline(report)),
        table,
    ]
    if report["unassigned"]:
        lines = "\n".join(
            f"  {m.get('reference') or m['message_id']}  {m['received_at'][:16]}  {m['from']}"
            f"  {m['subject']}"
            for m in report["unassigned"]
        )
        parts.append(Text("未识别单位的来信（请用 intake assign 回执编号 单位 归档）：\n" + lines))
    if report.get("failed"):
        lines = "\n".join(f"  {m['from']}  {m['subject']}  {m['error']}" for m in report["failed"])
        parts.append(Text("处理失败的来信（修复后用 intake reprocess 重试）：\n" + lines))
    return Group(*parts)
