"""The university-wide 《2022年基层党组织活动方案立项结果汇总表》 merged from every unit's table.

Each unit's newest table version gives its rows (the parser's normalised facts); rows whose
grade is one of the campaign's grades (最佳, 优秀, 培育) are accepted, put under one header with the
unit column, in unit order. A second sheet counts plans and grades per unit and for the
university, highlighting units with more top grades than the campaign's share allows (as the
``best_ratio_exceeded`` rule judges).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from parsers.rules import DEFAULT_RULES, CampaignRules
from parsers.vocabulary import percent

from . import records, standing
from .exports import UNIT_HEADER, cell_value, keep_text
from .xlsx_charts import add_grade_charts
from .xlsx_report import BORDER, CENTER, WRAP, fit_columns, print_landscape, write_header

TITLE = "2022年基层党组织活动方案立项结果汇总表"
HEADER = (
    "序号",
    UNIT_HEADER,
    "党支部名称",
    "支部类型",
    "支部书记",
    "立项方案名称",
    "立项等级",
    "经费预算（元）",
)
FIELDS = ("branch", "type", "secretary", "plan", "grade", "budget")
OVER_FILL = PatternFill("solid", fgColor="F9D3D0")
TOTAL_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass
class UnitTable:
    """One unit's contribution: its accepted rows and what was left out."""

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    filename: str | None = None

    def count(self, grade: str) -> int:
        """How many accepted rows carry ``grade``."""
        return sum(1 for row in self.rows if row.get("grade") == grade)


def collect_tables(session: Session, rules: CampaignRules = DEFAULT_RULES) -> list[UnitTable]:
    """Every unit, in configuration order, with the accepted rows of its newest table."""
    newest = standing.newest_versions(session, "table")
    tables = []
    for unit in records.all_subcommittees(session):
        table = UnitTable(unit.name)
        version = newest.get(unit.id)
        if version is not None:
            table.filename = version.filename
            for row in (version.facts or {}).get("rows", []):
                if row.get("grade") in rules.grades and (row.get("branch") or row.get("plan")):
                    table.rows.append(row)
                else:
                    table.rejected += 1
        tables.append(table)
    return tables


def consolidated_workbook(
    tables: list[UnitTable], rules: CampaignRules = DEFAULT_RULES
) -> Workbook:
    """The merged table (sheet 汇总表) and the statistics (sheet 统计)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "汇总表"
    sheet.cell(1, 1, TITLE).font = Font(bold=True, size=16)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.row_dimensions[1].height = 32
    write_header(sheet, HEADER)
    line = 2
    for table in tables:
        for row in table.rows:
            line += 1
            values = (line - 2, table.name, *(row.get(key) for key in FIELDS))
            for col, value in enumerate(values, start=1):
                cell = sheet.cell(line, col, cell_value(value))
                keep_text(cell)
                cell.border, cell.alignment = BORDER, CENTER if col in (1, 4, 7) else WRAP
    sheet.freeze_panes = "A3"
    sheet.auto_filter.ref = f"A2:H{max(line, 2)}"
    fit_columns(sheet, len(HEADER), first_row=2, max_width=50, min_width=6)
    _statistics(book.create_sheet("统计"), tables, rules)
    add_grade_charts(book, tables, rules)  # sheet 等级图表
    print_landscape(book)
    return book


def write_consolidated(
    session: Session, path: Path, rules: CampaignRules = DEFAULT_RULES
) -> list[UnitTable]:
    """Write the merged workbook to ``path``; return the unit tables it was made of."""
    tables = collect_tables(session, rules)
    consolidated_workbook(tables, rules).save(path)
    return tables


def stat_header(rules: CampaignRules) -> tuple[str, ...]:
    """The statistics sheet's header under the campaign's grades and share."""
    best, share = rules.best_grade, percent(rules.best_share)
    return (
        UNIT_HEADER,
        "方案数",
        *rules.grades,
        f"{best}占比",
        f"{best}上限（{share}）",
        f"是否超过{share}",
        "备注",
    )


def _statistics(sheet, tables: list[UnitTable], rules: CampaignRules) -> None:  # noqa: ANN001 - a worksheet
    header = stat_header(rules)
    sheet.cell(1, 1, f"{TITLE} · 分党委统计").font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    write_header(sheet, header)
    best, limit = rules.best_grade, rules.best_limit
    line = 2
    for table in tables:
        line += 1
        plans = len(table.rows)
        over = plans > 0 and table.count(best) > limit(plans)
        note = (
            "未收到汇总表"
            if table.filename is None
            else ("汇总表中未读出方案" if not plans else "")
        )
        if table.rejected:
            note = (note + "；" if note else "") + f"{table.rejected} 行等级无效，未计入"
        _stat_row(
            sheet,
            line,
            table.name,
            plans,
            [table.count(g) for g in rules.grades],
            limit(plans) if plans else None,
            over,
            note,
        )
        if over:
            for col in range(1, len(header) + 1):
                sheet.cell(line, col).fill = OVER_FILL
    line += 1
    plans = sum(len(t.rows) for t in tables)
    counts = [sum(t.count(g) for t in tables) for g in rules.grades]
    reported = sum(1 for t in tables if t.rows)
    over_units = sum(1 for t in tables if t.rows and t.count(best) > limit(len(t.rows)))
    _stat_row(
        sheet,
        line,
        "全校合计",
        plans,
        counts,
        None,
        None,
        f"{reported}/{len(tables)} 个单位已报送方案，"
        f"{over_units} 个单位{best}超过{percent(rules.best_share)}",
    )
    for col in range(1, len(header) + 1):
        sheet.cell(line, col).fill = TOTAL_FILL
        sheet.cell(line, col).font = Font(bold=True)
    sheet.freeze_panes = "B3"
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(header))}{line - 1}"
    fit_columns(sheet, len(header), first_row=2, max_width=50, min_width=8)


def _stat_row(
    sheet,
    line: int,
    name: str,
    plans: int,
    counts: list[int],
    limit: int | None,  # noqa: ANN001
    over: bool | None,
    note: str,
) -> None:
    ratio = counts[0] / plans if plans else None
    flag = "" if over is None else ("是" if over else "否")
    values = (name, plans, *counts, ratio, limit, flag, note)
    for col, value in enumerate(values, start=1):
        cell = sheet.cell(line, col, cell_value(value))
        cell.border, cell.alignment = BORDER, WRAP if col in (1, len(values)) else CENTER
    sheet.cell(line, 3 + len(counts)).number_format = "0.0%"
