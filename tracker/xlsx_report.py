"""The report as the workbook staff forward: status, problems, unassigned messages, doubts.

Sheet 1 (报送情况): a title row, the frozen header, an autofilter, one row per unit with a fill
per status; sheet 2 (问题清单): every problem; sheet 3 (未识别来信): the unassigned messages;
sheet 4 (待核对清单): every doubt staff must decide; sheet 5 (工作人员决定): the staff decisions in
force, each beside the item it shaped.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from parsers.vocabulary import ITEM_KEYS

from .exports import (
    CELL_COLOURS,
    UNIT_HEADER,
    cell_state,
    cell_value,
    deadline_text,
    display_width,
    headline,
    keep_text,
    problem_rows,
    table_header,
    table_row,
    unassigned_header,
    unassigned_row,
)
from .report import item_labels
from .xlsx_charts import add_progress_charts

THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def status_fill(state: str) -> PatternFill:
    """The solid fill of a cell state (on_time, late, missing, needs_correction)."""
    return PatternFill("solid", fgColor=CELL_COLOURS[state][0])


def report_workbook(report: dict[str, Any]) -> Workbook:
    """The five-sheet workbook of the report."""
    book = Workbook()
    _status_sheet(book.active, report)
    problems = book.create_sheet("问题清单")
    _simple_sheet(
        problems,
        f"{report['campaign']} 需更正问题清单",
        [UNIT_HEADER, "材料", "问题代码", "问题", "说明（回执中的原文）"],
        [list(row) for row in problem_rows(report)],
        max_width=70,
    )
    unassigned = book.create_sheet("未识别来信")
    _simple_sheet(
        unassigned,
        f"{report['campaign']} 未识别单位的来信",
        unassigned_header(),
        [unassigned_row(m) for m in report["unassigned"]],
        max_width=60,
    )
    doubts = book.create_sheet("待核对清单")
    _simple_sheet(
        doubts,
        f"{report['campaign']} 待工作人员核对清单",
        [UNIT_HEADER, "材料", "代码", "待核对事项", "说明（回执中的原文）"],
        [list(row) for row in problem_rows(report, "doubts")],
        max_width=70,
    )
    decisions = book.create_sheet("工作人员决定")
    _simple_sheet(
        decisions,
        f"{report['campaign']} 工作人员决定",
        ["编号", UNIT_HEADER, "材料", "决定", "代码", "时间", "决定人", "理由"],
        decision_rows(report),
        max_width=60,
    )
    add_progress_charts(book, report)  # sheet 6: 进度图表
    print_landscape(book)
    return book


def decision_rows(report: dict[str, Any]) -> list[list[Any]]:
    """One row per staff decision in force, under the item it shaped (an extension once per
    unit)."""
    labels = item_labels(report)
    rows, seen = [], set()
    for unit in report["subcommittees"]:
        for key, item in unit["items"].items():
            for d in item.get("decisions", []):
                if d["id"] in seen:
                    continue
                seen.add(d["id"])
                what = "全部材料" if d["action"] == "extend" else labels[key]
                label = d["label"] + (
                    f"（{d['moment'][:16].replace('T', ' ')}）" if d.get("moment") else ""
                )
                rows.append(
                    [
                        d["id"],
                        unit["name"],
                        what,
                        label,
                        d.get("code") or "",
                        d["at"][:16].replace("T", " "),
                        d["by"],
                        d["reason"],
                    ]
                )
    return sorted(rows, key=lambda row: row[0])


def print_landscape(book: Workbook) -> None:
    """Every sheet prints on A4 landscape, fit to one page wide (as many pages long as needed),
    with its title and header rows on every page."""
    for sheet in book.worksheets:
        setup = sheet.page_setup
        setup.orientation, setup.paperSize = "landscape", sheet.PAPERSIZE_A4
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        setup.fitToWidth, setup.fitToHeight = 1, 0
        sheet.print_title_rows = "1:2"


def write_report_xlsx(report: dict[str, Any], path: Path) -> None:
    """Write the report workbook to ``path``."""
    report_workbook(report).save(path)


def _status_sheet(sheet: Worksheet, report: dict[str, Any]) -> None:
    sheet.title = "报送情况"
    header = table_header(report)
    generated = datetime.fromisoformat(report["generated_at"])
    _title(
        sheet,
        f"{report['campaign']} 材料报送情况（截止 {deadline_text(report['deadline'])}，"
        f"统计于 {generated:%Y-%m-%d %H:%M}）  {headline(report)}",
        len(header),
    )
    write_header(sheet, header)
    for number, unit in enumerate(report["subcommittees"], start=3):
        values = table_row(unit)
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(number, col, cell_value(value))
            keep_text(cell)
            cell.border, cell.alignment = BORDER, WRAP
        for index, key in enumerate(ITEM_KEYS):
            state = cell_state(unit["items"][key])
            for col in (3 + 2 * index, 4 + 2 * index):
                cell = sheet.cell(number, col)
                cell.fill = status_fill(state)
                cell.font = Font(color=CELL_COLOURS[state][1], bold=col == 3 + 2 * index)
                cell.alignment = CENTER
        done = sheet.cell(number, 2)
        done.alignment = CENTER
        done.fill = status_fill("on_time" if unit["complete"] else "missing")
    _finish(sheet, len(header), 2 + len(report["subcommittees"]), max_width=60)


def _simple_sheet(
    sheet: Worksheet, title: str, header: list[str], rows: list[list[Any]], *, max_width: int
) -> None:
    _title(sheet, title, len(header))
    write_header(sheet, header)
    for number, values in enumerate(rows, start=3):
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(number, col, cell_value(value))
            keep_text(cell)
            cell.border, cell.alignment = BORDER, WRAP
    _finish(sheet, len(header), 2 + len(rows), max_width=max_width)


def _title(sheet: Worksheet, text: str, columns: int) -> None:
    sheet.cell(1, 1, cell_value(text)).font = TITLE_FONT
    sheet.cell(1, 1).alignment = Alignment(vertical="center")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    sheet.row_dimensions[1].height = 30


def write_header(sheet: Worksheet, header: list[str] | tuple[str, ...]) -> None:
    """The bold, filled header row (row 2, under the title) of every sheet we write."""
    for col, name in enumerate(header, start=1):
        cell = sheet.cell(2, col, name)
        cell.font, cell.fill, cell.alignment, cell.border = HEADER_FONT, HEADER_FILL, CENTER, BORDER


def _finish(sheet: Worksheet, columns: int, last_row: int, *, max_width: int) -> None:
    """Freeze the header, filter it, and size the columns to their Chinese text."""
    sheet.freeze_panes = "B3" if sheet.title == "报送情况" else "A3"
    sheet.auto_filter.ref = f"A2:{get_column_letter(columns)}{max(last_row, 2)}"
    fit_columns(sheet, columns, first_row=2, max_width=max_width)


def fit_columns(
    sheet: Worksheet, columns: int, *, first_row: int, max_width: int = 60, min_width: int = 8
) -> None:
    """Set each column's width from its widest cell (CJK characters count double), within limits."""
    widths = [min_width] * columns
    for row in sheet.iter_rows(min_row=first_row, max_col=columns, values_only=True):
        for index, value in enumerate(row):
            widths[index] = max(widths[index], display_width(value) + 4)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width, max_width)
