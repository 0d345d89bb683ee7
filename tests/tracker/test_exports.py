"""The staff formats read back: report as csv/xlsx/html, the merged 汇总表, the cases .docx.

Every test runs the real pipeline (``intake import``) over mail built by the sample builders,
then opens what the command wrote with openpyxl, python-docx, csv or an HTML parser.
"""

from __future__ import annotations

import csv
import io

import pytest
from docx import Document
from openpyxl import load_workbook

from intake.cli import main
from intake.samples import documents
from tests.helpers.staff_campaign import (
    BEFORE,
    CAILIAO,
    JINGGUAN,
    JIXIE,
    JSJ,
    STRANGER,
    WAIYU,
    Campaign,
    build_campaign,
    parse_page,
)
from tracker.consolidated import HEADER


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Campaign:  # noqa: ANN001
    return build_campaign(tmp_path_factory.mktemp("campaign"))


def run(campaign: Campaign, *args: str) -> int:
    return main(["--config", str(campaign.config), *args])


def test_report_xlsx_has_three_sheets_with_fills_filter_and_frozen_header(campaign, tmp_path):
    out = tmp_path / "report.xlsx"
    assert run(campaign, "report", "--format", "xlsx", "--output", str(out)) == 0
    book = load_workbook(out)
    assert book.sheetnames == [
        "报送情况",
        "问题清单",
        "未识别来信",
        "待核对清单",
        "工作人员决定",
        "进度图表",
    ]
    sheet = book["报送情况"]
    assert "完成 2/5" in sheet["A1"].value and "A1:L1" in {
        str(r) for r in sheet.merged_cells.ranges
    }
    assert sheet.freeze_panes == "B3" and sheet.auto_filter.ref == "A2:L7"
    assert [c.value for c in sheet[2]][:4] == [
        "分党委（直属党总支）",
        "是否完成",
        "总结",
        "总结送达时间",
    ]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    assert list(rows) == [JIXIE, CAILIAO, JINGGUAN, JSJ, WAIYU]

    def look(unit: str, col: int) -> tuple[str, str]:
        cell = rows[unit][col]
        return cell.value, cell.fill.fgColor.rgb[-6:]

    assert look(JIXIE, 2) == ("按时", "D7F0DD") and rows[JIXIE][3].value == BEFORE.strftime(
        "%Y-%m-%d %H:%M"
    )
    assert look(CAILIAO, 2) == ("逾期", "FFEDB8")
    assert look(JSJ, 2) == ("缺交", "F9D3D0")
    assert look(JINGGUAN, 6) == ("需更正（按时）", "E6DBFA")
    assert "超过 30%" in rows[JINGGUAN][10].value
    widest = max(len(name) for name in rows) * 2
    assert sheet.column_dimensions["A"].width >= widest
    problems = book["问题清单"]
    codes = {(row[0].value, row[2].value) for row in problems.iter_rows(min_row=3)}
    assert (JINGGUAN, "best_ratio_exceeded") in codes and (WAIYU, "grade_invalid") in codes
    assert problems.freeze_panes == "A3" and problems.auto_filter.ref.startswith("A2:E")
    unassigned = [[c.value for c in row] for row in book["未识别来信"].iter_rows(min_row=3)]
    assert len(unassigned) == 1 and unassigned[0][1] == STRANGER


def test_report_csv_opens_in_excel_and_has_the_same_cells(campaign, tmp_path):
    out = tmp_path / "report.csv"
    assert run(campaign, "report", "--format", "csv", "--output", str(out)) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    header = rows[0]  # the header row comes first: no title line before it
    assert header[:2] == ["分党委（直属党总支）", "是否完成"]
    table = {row[0]: dict(zip(header, row, strict=False)) for row in rows[1:6]}
    assert table[JIXIE]["总结"] == "按时" and table[JIXIE]["是否完成"] == "是"
    assert table[CAILIAO]["汇总表"] == "逾期" and table[JSJ]["汇总表扫描件"] == "缺交"
    assert table[JINGGUAN]["汇总表"] == "需更正（按时）"
    assert rows[7] == ["未识别单位的来信"] and rows[9][1] == STRANGER


def test_report_html_is_one_offline_file_with_the_page_content(campaign, tmp_path):
    out = tmp_path / "report.html"
    assert run(campaign, "report", "--format", "html", "--output", str(out)) == 0
    html = out.read_text(encoding="utf-8")
    page = parse_page(html)
    assert page.assets == [] and "<style>" in html and "http" not in html.split("<body")[0]
    assert page.counts == {
        "complete": "2/5",
        "missing": "3",
        "late": "1",
        "correction": "2",
        "doubt": "0",
        "unassigned": "1",
        "failed": "0",
    }
    assert page.rows[JIXIE] == ["on_time"] * 4 and page.rows[CAILIAO] == ["late"] * 4
    assert page.rows[JINGGUAN] == ["on_time", "missing", "needs_correction", "missing"]
    assert STRANGER in html and "<form" not in html


def test_report_xlsx_needs_an_output_file(campaign, capsys):
    capsys.readouterr()
    assert run(campaign, "report", "--format", "xlsx") == 2
    assert "--output" in capsys.readouterr().err


def test_export_table_merges_newest_tables_with_statistics(campaign, tmp_path, capsys):
    out = tmp_path / "汇总.xlsx"
    assert run(campaign, "export-table", "--output", str(out)) == 0
    assert "4 个单位、39 个立项方案" in capsys.readouterr().out
    book = load_workbook(out)
    sheet = book["汇总表"]
    assert sheet["A1"].value == "2022年基层党组织活动方案立项结果汇总表"
    assert tuple(c.value for c in sheet[2]) == HEADER and sheet.freeze_panes == "A3"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    units = [row[1] for row in rows]
    assert units == [JIXIE] * 10 + [CAILIAO] * 10 + [JINGGUAN] * 10 + [WAIYU] * 9
    assert [row[0] for row in rows] == list(range(1, 40))
    assert all(row[6] in ("最佳", "优秀", "培育") for row in rows)
    original = documents.sample_rows(10)[0]
    assert rows[0][2:8] == [
        original["branch"],
        original["type"],
        original["secretary"],
        original["plan"],
        original["grade"],
        original["budget"],
    ]
    stats = {row[0].value: row for row in book["统计"].iter_rows(min_row=3)}
    assert [stats[JINGGUAN][i].value for i in (1, 2, 3, 4)] == [10, 6, 2, 2]
    assert stats[JINGGUAN][5].value == pytest.approx(0.6) and stats[JINGGUAN][7].value == "是"
    assert stats[JINGGUAN][0].fill.fgColor.rgb[-6:] == "F9D3D0"
    assert stats[JIXIE][7].value == "否" and stats[JIXIE][0].fill.fgColor.rgb[-6:] != "F9D3D0"
    assert stats[JSJ][1].value == 0 and stats[JSJ][8].value == "未收到汇总表"
    assert "1 行等级无效" in stats[WAIYU][8].value
    total = stats["全校合计"]
    assert total[1].value == 39 and total[2].value == 3 + 3 + 6 + 3


def test_export_cases_compiles_text_photos_and_captions_in_unit_order(campaign, tmp_path):
    out = tmp_path / "案例.docx"
    assert run(campaign, "export-cases", "--output", str(out)) == 0
    document = Document(str(out))
    headings = [
        (p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")
    ]
    units = [text for style, text in headings if style == "Heading 1"]
    assert units == [JIXIE, CAILIAO, JINGGUAN]
    titles = [text for style, text in headings if style == "Heading 2"]
    assert titles == ["党建引领志愿服务进社区", "理论学习与专业实践深度融合"] * 3
    assert len(document.inline_shapes) == 15  # 2 + 3 photos per summary
    texts = [p.text for p in document.paragraphs]
    assert (
        texts.count("图1 支部党员开展志愿服务") == 3
        and texts.count("图5 支部党员开展志愿服务") == 3
    )
    blobs = [
        document.part.related_parts[s._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        for s in document.inline_shapes
    ]
    assert blobs[0] == documents.photo_png(1) and blobs[4] == documents.photo_png(5)
    assert any(len(t) > 100 and t.endswith("。") for t in texts)


@pytest.mark.parametrize("command,name", [("export-table", "x.docx"), ("export-cases", "x.xlsx")])
def test_exports_refuse_a_wrong_suffix_in_one_line(campaign, tmp_path, capsys, command, name):
    capsys.readouterr()
    assert run(campaign, command, "--output", str(tmp_path / name)) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_subject_that_looks_like_a_formula_stays_text(tmp_path):
    import io

    from openpyxl import load_workbook

    from tracker.exports import report_csv
    from tracker.xlsx_report import report_workbook

    report = {
        "campaign": "c",
        "deadline": "2022-04-01T17:00:00+08:00",
        "generated_at": "2022-04-01T18:00:00+08:00",
        "subcommittees": [],
        "failed": [],
        "unassigned": [
            {
                "message_id": "m@x",
                "from": "a@b.c",
                "subject": '=HYPERLINK("http://evil","点我")',
                "received_at": "2022-03-31T10:00:00+08:00",
                "problems": [],
            }
        ],
    }
    buffer = io.BytesIO()
    report_workbook(report).save(buffer)
    cells = [
        c
        for row in load_workbook(io.BytesIO(buffer.getvalue())).worksheets[2].iter_rows()
        for c in row
    ]
    subject = next(c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert subject.data_type == "s"
    assert "'=HYPERLINK" in report_csv(report)
