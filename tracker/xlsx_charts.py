"""Native Excel charts (openpyxl) on a sheet of their own, beside the numbers they draw: the
report's submissions over time (sheet 进度图表) and the consolidated tables' grade distribution
(sheet 等级图表). The data are ``tracker.charts``'s, as on the dashboard."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from parsers.rules import DEFAULT_RULES, CampaignRules
from parsers.vocabulary import percent

from .charts import STATE_LABELS, STATES, Point, grades, progress, short_name

PROGRESS_SHEET, GRADES_SHEET = "进度图表", "等级图表"
STATE_HEX = {"complete": "2E7D32", "partly": "F9A825", "nothing": "BDBDBD"}
GRADE_HEX = ("C62828", "1565C0", "7CB342", "8E24AA", "6D4C41")


def add_progress_charts(book: Workbook, report: dict[str, Any]) -> Worksheet:
    """Sheet 进度图表: units that sent everything, part, nothing, per day (stacked columns) and
    per hour of the last 24 hours (lines), with the numbers under the charts."""
    chart = progress(report)
    sheet = book.create_sheet(PROGRESS_SHEET)
    sheet.cell(1, 1, f"报送进度（截止 {chart.deadline:%Y-%m-%d %H:%M}）").font = Font(
        bold=True, size=14
    )
    days_at = 24
    hours_at = days_at + len(chart.days) + 3
    _table(sheet, days_at, "日期", chart.days)
    _table(sheet, hours_at, "时间（最近24小时）", chart.hours)
    by_day = BarChart()
    by_day.type, by_day.grouping, by_day.overlap = "col", "stacked", 100
    by_day.title = "各单位报送进度（按日）"
    _series(by_day, sheet, days_at, len(chart.days), chart.total)
    sheet.add_chart(by_day, "A3")
    by_hour = LineChart()
    by_hour.title = "最近24小时报送进度"
    _series(by_hour, sheet, hours_at, len(chart.hours), chart.total)
    sheet.add_chart(by_hour, "J3")
    sheet.column_dimensions["A"].width = 20
    return sheet


def add_grade_charts(
    book: Workbook, tables: list[Any], rules: CampaignRules = DEFAULT_RULES
) -> Worksheet:
    """Sheet 等级图表: each unit's plans by grade (stacked bars), and its top-grade share
    against the campaign's line (bars and a line)."""
    chart = grades(tables, rules)
    best, line = rules.best_grade, percent(rules.best_share)
    sheet = book.create_sheet(GRADES_SHEET)
    sheet.cell(1, 1, "立项等级分布").font = Font(bold=True, size=14)
    first = 40
    header = ("单位", *rules.grades, f"{best}占比", f"{best}上限（{line}）")
    for col, text in enumerate(header, start=1):
        sheet.cell(first, col, text).font = Font(bold=True)
    for number, row in enumerate(chart.rows, start=first + 1):
        values = (short_name(row.name), *row.counts, row.best_share or 0, rules.best_share)
        for col, value in enumerate(values, start=1):
            sheet.cell(number, col, value)
        for col in (len(header) - 1, len(header)):
            sheet.cell(number, col).number_format = "0%"
    last = first + len(chart.rows)
    units = Reference(sheet, min_col=1, min_row=first + 1, max_row=max(last, first + 1))
    counts = BarChart()
    counts.type, counts.grouping, counts.overlap = "bar", "stacked", 100
    counts.title = "各单位立项等级分布（方案数）"
    counts.add_data(
        Reference(sheet, min_col=2, max_col=1 + len(rules.grades), min_row=first, max_row=last),
        titles_from_data=True,
    )
    counts.set_categories(units)
    for index, series in enumerate(counts.series):
        series.graphicalProperties.solidFill = GRADE_HEX[index % len(GRADE_HEX)]
    counts.y_axis.title, counts.height, counts.width = "方案数", 12, 18
    sheet.add_chart(counts, "A3")
    share_col = 2 + len(rules.grades)
    shares = BarChart()
    shares.type = "col"
    shares.title = f"各单位{best}占比与上限（{line}）"
    shares.add_data(
        Reference(sheet, min_col=share_col, min_row=first, max_row=last), titles_from_data=True
    )
    shares.set_categories(units)
    shares.series[0].graphicalProperties.solidFill = GRADE_HEX[0]
    limit = LineChart()
    limit.add_data(
        Reference(sheet, min_col=share_col + 1, min_row=first, max_row=last), titles_from_data=True
    )
    limit.series[0].graphicalProperties.line.dashStyle = "dash"
    limit.series[0].graphicalProperties.line.solidFill = "000000"
    shares.y_axis.number_format, shares.y_axis.scaling.min = "0%", 0
    shares.height, shares.width = 12, 18
    shares += limit
    sheet.add_chart(shares, "L3")
    sheet.column_dimensions["A"].width = 24
    return sheet


def _table(sheet: Worksheet, first: int, heading: str, points: list[Point]) -> None:
    header = (heading, *(STATE_LABELS[s] for s in STATES), "收到材料（项）")
    for col, text in enumerate(header, start=1):
        sheet.cell(first, col, text).font = Font(bold=True)
    for number, point in enumerate(points, start=first + 1):
        sheet.cell(number, 1, point.label if point.counts is not None else f"{point.label}（未到）")
        for col, state in enumerate(STATES, start=2):
            sheet.cell(number, col, point.counts[state] if point.counts else None)
        sheet.cell(number, 2 + len(STATES), point.arrivals)


def _series(
    chart: BarChart | LineChart, sheet: Worksheet, first: int, rows: int, total: int
) -> None:
    last = first + max(rows, 1)
    chart.add_data(
        Reference(sheet, min_col=2, max_col=1 + len(STATES), min_row=first, max_row=last),
        titles_from_data=True,
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=first + 1, max_row=last))
    for series, state in zip(chart.series, STATES, strict=True):
        if isinstance(chart, BarChart):
            series.graphicalProperties.solidFill = STATE_HEX[state]
        else:
            series.graphicalProperties.line.solidFill = STATE_HEX[state]
            series.smooth = False
    chart.y_axis.title, chart.y_axis.scaling.min = "单位数", 0
    chart.y_axis.scaling.max = max(total, 1)
    chart.height, chart.width = 9, 16
