"""The notice's own 汇总表 template: a merged title row, a 填报单位（盖章） row, a two-row header
with merged cells (党支部 over 名称/类型, 立项方案 over 名称/等级), hidden columns and a closing 注
row, in .xlsx (openpyxl) and .xls (xlwt). It must be read whole, with no columns_missing."""

from __future__ import annotations

import io

import pytest

from tests.helpers.judging import parse_table

UNIT = "机械工程与自动化学院分党委"
TITLE = "2022年基层党组织活动方案立项结果汇总表"
NOTE = "注：1.立项等级分为最佳、优秀、培育三等，最佳不超过30%；2.毕业班学生党支部不列入。"
GRADES = ["最佳"] * 3 + ["优秀"] * 4 + ["培育"] * 3
PLANS = [
    {
        "branch": f"{'教工' if i < 5 else '学生'}第{'一二三四五'[i % 5]}党支部",
        "type": "教工" if i < 5 else "学生",
        "plan": f"“学思践悟”主题活动方案{i + 1}",
        "grade": GRADES[i],
        "budget": 1000 + 100 * i,
        "secretary": f"书记{i + 1}",
    }
    for i in range(10)
]
# columns: A 序号 | B hidden stale 党支部名称 | C-D 党支部(名称, 类型) | E-F 立项方案(名称, 等级) |
#          G 经费预算（元） | H hidden 支部书记 (hidden, but holding data)
WIDTH = 8


def _layout():
    """(row, col, value) cells and (r0, c0, r1, c1) merges (0-based, inclusive) of the template."""
    cells = [
        (0, 0, TITLE),
        (1, 0, f"填报单位（盖章）：{UNIT}"),
        (1, 5, "填报日期：2022年3月25日"),
        (2, 0, "序号"),
        (2, 1, "党支部名称"),
        (2, 2, "党支部"),
        (2, 4, "立项方案"),
        (2, 6, "经费预算（元）"),
        (2, 7, "支部书记"),
        (3, 2, "名称"),
        (3, 3, "类型"),
        (3, 4, "名称"),
        (3, 5, "等级"),
    ]
    for i, plan in enumerate(PLANS):
        r = 4 + i
        cells += [
            (r, 0, i + 1),
            (r, 1, f"旧表第{i + 1}支部"),
            (r, 2, plan["branch"]),
            (r, 3, plan["type"]),
            (r, 4, plan["plan"]),
            (r, 5, plan["grade"]),
            (r, 6, plan["budget"]),
            (r, 7, plan["secretary"]),
        ]
    last = 4 + len(PLANS)
    cells += [(last, 0, NOTE)]
    merges = [
        (0, 0, 0, WIDTH - 1),
        (1, 0, 1, 4),
        (1, 5, 1, WIDTH - 1),
        (2, 0, 3, 0),
        (2, 1, 3, 1),
        (2, 2, 2, 3),
        (2, 4, 2, 5),
        (2, 6, 3, 6),
        (2, 7, 3, 7),
        (last, 0, last, WIDTH - 1),
    ]
    return cells, merges, {1, 7}


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    cells, merges, hidden = _layout()
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总表"
    for r, c, value in cells:
        ws.cell(row=r + 1, column=c + 1, value=value)
    for r0, c0, r1, c1 in merges:
        ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
    for c in hidden:
        ws.column_dimensions[get_column_letter(c + 1)].hidden = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_xls() -> bytes:
    xlwt = pytest.importorskip("xlwt")
    cells, merges, hidden = _layout()
    values = {(r, c): v for r, c, v in cells}
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("汇总表")
    covered = set()
    for r0, c0, r1, c1 in merges:
        ws.write_merge(r0, r1, c0, c1, values.get((r0, c0), ""))
        covered |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    for (r, c), value in values.items():
        if (r, c) not in covered:
            ws.write(r, c, value)
    for c in hidden:
        ws.col(c).hidden = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def check_template(finding) -> None:
    assert [p.code for p in finding.problems] == [], finding.problems
    facts = finding.facts
    assert facts["header_found"] and facts["missing_columns"] == []
    assert facts["unit"] == UNIT
    assert facts["plans"] == 10 and facts["best"] == 3
    rows = facts["rows"]
    assert [r["branch"] for r in rows] == [
        p["branch"] for p in PLANS
    ]  # the visible 党支部/名称, not the stale copy
    assert [r["plan"] for r in rows] == [p["plan"] for p in PLANS]
    assert [r["grade"] for r in rows] == GRADES
    assert [r["type"] for r in rows] == [p["type"] for p in PLANS]
    assert [r["secretary"] for r in rows] == [
        p["secretary"] for p in PLANS
    ]  # a hidden column with data is data
    assert [r["budget"] for r in rows] == [p["budget"] for p in PLANS]
    assert rows[0]["row"] == 5 and rows[-1]["row"] == 14  # the 注 row is no plan
    assert not any(r["branch_merged"] for r in rows)


def test_template_xlsx_is_read_whole():
    check_template(
        parse_table(
            "2022年基层党组织活动方案立项结果汇总表.xlsx", template_xlsx(), expected_unit=UNIT
        )
    )


def test_template_xls_is_read_whole():
    check_template(
        parse_table(
            "2022年基层党组织活动方案立项结果汇总表.xls", template_xls(), expected_unit=UNIT
        )
    )


def test_template_names_another_unit():
    finding = parse_table("汇总表.xlsx", template_xlsx(), expected_unit="材料科学与工程学院分党委")
    assert [p.code for p in finding.problems] == ["subcommittee_mismatch"]


def test_two_row_header_without_hidden_columns_or_budget():
    """立项方案 over 名称/等级 and 党支部 over 名称 only, the sub-header cells on the
    second row."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.append([f"填报单位（盖章）：{UNIT}"])
    ws.append(["序号", "党支部", "立项方案", None])
    ws.append([None, "名称", "名称", "等级"])
    for i, plan in enumerate(PLANS):
        ws.append([i + 1, plan["branch"], plan["plan"], plan["grade"]])
    ws.append(["注：最佳方案不超过30%。"])
    for ref in ("A1:D1", "A2:D2", "A3:A4", "C3:D3", "A15:D15"):
        ws.merge_cells(ref)
    buf = io.BytesIO()
    wb.save(buf)
    finding = parse_table("汇总表.xlsx", buf.getvalue(), expected_unit=UNIT)
    assert [p.code for p in finding.problems] == []
    assert [r["grade"] for r in finding.facts["rows"]] == GRADES
    assert [r["plan"] for r in finding.facts["rows"]] == [p["plan"] for p in PLANS]


def test_header_synonyms_in_one_row():
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.append(["填报单位（公章）", UNIT])
    ws.append(["序 号", "支部名称", "活动方案名称", "评定等级"])
    for i, plan in enumerate(PLANS):
        ws.append([i + 1, plan["branch"], plan["plan"], plan["grade"] + "方案"])
    buf = io.BytesIO()
    wb.save(buf)
    finding = parse_table("汇总表.xlsx", buf.getvalue(), expected_unit=UNIT)
    assert [p.code for p in finding.problems] == []
    assert finding.facts["unit"] == UNIT
    assert [r["grade"] for r in finding.facts["rows"]] == GRADES
