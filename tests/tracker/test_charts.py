"""The charts' data (tracker.charts), their SVG on the dashboard and their PNG, and the native
Excel charts of the xlsx report and of export-table, opened again with openpyxl."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart
from PIL import Image

from intake.cli import main
from intake.web.charts_svg import svg
from parsers.rules import CampaignRules
from tests.helpers.campaign import DEADLINE
from tests.helpers.staff_campaign import CAILIAO, JINGGUAN, JIXIE, JSJ, WAIYU, build_campaign
from tracker.chart_layout import grades_canvas, progress_canvases
from tracker.chart_png import png
from tracker.charts import grades, progress, short_name

KEYS = ("summary", "summary_scan", "table", "table_scan")


def _unit(name: str, **arrived) -> dict:  # noqa: ANN003 - item key -> hours before the deadline
    items = {}
    for key in KEYS:
        value = arrived.get(key)
        if value == "exempt":
            items[key] = {"status": "exempt", "received_at": None, "required": False}
        elif value is None:
            items[key] = {"status": "missing", "received_at": None, "required": True}
        else:
            moment = DEADLINE - timedelta(hours=value)
            status = "on_time" if moment <= DEADLINE else "late"
            items[key] = {"status": status, "received_at": moment.isoformat(), "required": True}
    return {"name": name, "items": items}


def _report(now, *units) -> dict:  # noqa: ANN001
    return {
        "deadline": DEADLINE.isoformat(),
        "generated_at": now.isoformat(),
        "subcommittees": list(units),
    }


def test_progress_counts_units_per_day_and_per_hour_against_the_deadline():
    now = DEADLINE + timedelta(hours=5)
    report = _report(
        now,
        _unit("甲学院分党委", summary=50, summary_scan=50, table=30, table_scan=2),
        _unit("乙学院分党委", summary=3),
        _unit("丙学院分党委", summary=-4, summary_scan=-4, table=-4, table_scan="exempt"),
        _unit("丁学院分党委"),
    )
    chart = progress(report)
    assert chart.total == 4
    assert [p.label for p in chart.days] == ["03-30", "03-31", "04-01"]
    assert chart.days[0].counts == {"complete": 0, "partly": 1, "nothing": 3}
    assert chart.days[1].counts == {"complete": 0, "partly": 1, "nothing": 3}
    # 04-01 ends "now": 甲 complete, 丙 (late, its fourth item exempt) complete, 乙 partly
    assert chart.days[2].counts == {"complete": 2, "partly": 1, "nothing": 1}
    assert [p.arrivals for p in chart.days] == [2, 1, 5]
    assert chart.current == chart.days[-1].counts
    assert len(chart.hours) == 24 and chart.hours[-1].at == now
    assert chart.last_day_arrivals == 5 and chart.completed_last_day == 2
    # the deadline (17:00 on the third day) and five hours before the end of the last 24 hours
    assert chart.deadline_day == pytest.approx(2 + 17 / 24)
    assert chart.deadline_hour == pytest.approx(19)


def test_before_the_deadline_the_days_still_to_come_are_empty():
    now = DEADLINE - timedelta(days=2, hours=3)
    chart = progress(_report(now, _unit("甲学院分党委", summary=60)))
    assert chart.days[-1].label == "04-01" and chart.days[-1].counts is None
    assert chart.days[-3].counts == {"complete": 0, "partly": 1, "nothing": 0}
    assert chart.deadline_hour is None
    # nothing received at all: the week before the deadline
    assert len(progress(_report(now, _unit("乙学院分党委"))).days) == 7


def test_grades_per_unit_with_the_best_share_line():
    rules = CampaignRules()

    def table(name, grades_, filename="t.xlsx"):  # noqa: ANN001, ANN202
        return SimpleNamespace(
            name=name, filename=filename, count=lambda g, given=grades_: given.count(g)
        )

    chart = grades(
        [
            table("甲学院分党委", ["最佳"] * 3 + ["优秀"] * 5 + ["培育"] * 2),
            table("乙学院分党委", ["最佳"] * 6 + ["优秀"] * 4),
            table("丙学院分党委", [], filename=None),
        ],
        rules,
    )
    first, second, third = chart.rows
    assert first.counts == [3, 5, 2] and first.limit == 3 and not first.over
    assert second.over and second.best_share == pytest.approx(0.6)
    assert not third.received and third.plans == 0 and third.best_share is None
    assert chart.total.counts == [9, 9, 2] and chart.total.over  # 45% of the university's
    assert short_name("外国语学院分党委") == "外国语学院" and short_name("党委") == "党委"


def test_svg_escapes_every_text_and_carries_no_script():
    rules = CampaignRules()
    hostile = '<script>alert("x")</script>&分党委'
    table = SimpleNamespace(name=hostile, filename="a.xlsx", count=lambda g: 2)
    markup = str(svg(grades_canvas(grades([table], rules))))
    assert "<script" not in markup and "&lt;script&gt;" in markup and "&amp;" in markup
    report = _report(DEADLINE, _unit(hostile, summary=1))
    days, hours = (str(svg(c)) for c in progress_canvases(progress(report)))
    assert days.startswith("<svg") and "<script" not in days + hours
    assert 'stroke-dasharray="5 4"' in days  # the deadline line


def test_png_is_drawn_with_a_cjk_font():
    report = _report(DEADLINE, _unit("甲学院分党委", summary=1))
    data = png(progress_canvases(progress(report))[0])
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (1920, 520)
    assert len(image.getcolors(1 << 20)) > 10  # bars, lines and anti-aliased text


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):  # noqa: ANN001, ANN201
    return build_campaign(tmp_path_factory.mktemp("charts"))


def _title(chart) -> str:  # noqa: ANN001
    return "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))


def test_xlsx_report_has_native_progress_charts(campaign, tmp_path):
    out = tmp_path / "report.xlsx"
    assert (
        main(["--config", str(campaign.config), "report", "--format", "xlsx", "--output", str(out)])
        == 0
    )
    sheet = load_workbook(out)["进度图表"]
    by_day, by_hour = sheet._charts
    assert isinstance(by_day, BarChart) and by_day.grouping == "stacked"
    assert isinstance(by_hour, LineChart)
    assert _title(by_day) == "各单位报送进度（按日）"
    assert _title(by_hour) == "最近24小时报送进度"
    assert len(by_day.series) == len(by_hour.series) == 3
    values = {row[0]: row[1:] for row in sheet.iter_rows(min_row=24, values_only=True) if row[0]}
    assert values["日期"][:3] == ("已交齐", "部分已交", "未交")
    # 机械, 材料 (late, the same day) sent everything; 经管, 外语 part of it; 计算机 nothing
    assert values["04-01"][:3] == (2, 2, 1)
    assert values["03-31"][:3] == (1, 2, 2)


def test_export_table_has_native_grade_charts(campaign, tmp_path):
    out = tmp_path / "汇总表.xlsx"
    assert main(["--config", str(campaign.config), "export-table", "--output", str(out)]) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["汇总表", "统计", "等级图表"]
    sheet = book["等级图表"]
    counts, shares = sheet._charts
    assert isinstance(counts, BarChart) and counts.grouping == "stacked"
    assert _title(counts) == "各单位立项等级分布（方案数）"
    assert len(counts.series) == 3
    assert _title(shares) == "各单位最佳占比与上限（30%）"
    assert isinstance(shares, BarChart) and len(shares.series) == 1
    assert [type(c).__name__ for c in shares._charts] == ["BarChart", "LineChart"]
    rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=41, values_only=True) if r[0]}
    assert set(rows) == {short_name(n) for n in (JIXIE, CAILIAO, JINGGUAN, JSJ, WAIYU)}
    assert rows[short_name(JINGGUAN)][0] == 6 and rows[short_name(JSJ)][:3] == (0, 0, 0)
    assert rows[short_name(WAIYU)][4] == pytest.approx(0.3)
