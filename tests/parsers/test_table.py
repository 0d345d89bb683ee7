"""Tests of the results-table parser on real .xlsx workbooks built in code."""

import io

from intake.samples import documents
from parsers.rules import DEFAULT_RULES
from parsers.table import normalise_grade, units_match
from tests.helpers.judging import parse_table

best_limit = DEFAULT_RULES.best_limit

UNIT = "机械工程与自动化学院分党委"


def codes(finding):
    return [p.code for p in finding.problems]


def test_valid_table_facts():
    finding = parse_table("汇总表.xlsx", documents.table_xlsx(UNIT), expected_unit=UNIT)
    assert finding.kind == "table"
    assert finding.problems == []
    assert finding.facts["unit"] == UNIT
    assert finding.facts["plans"] == 10
    assert finding.facts["best"] == 3
    first = finding.facts["rows"][0]
    assert first["branch"] == "教工第一党支部"
    assert first["grade"] == "最佳"
    assert first["type"] == "教工"
    assert first["row"] == 4
    assert first["plan"] == "“红色基因传承”主题实践活动"


def test_best_limit_round_half_up():
    assert [best_limit(n) for n in (1, 2, 3, 5, 10, 15, 16, 17)] == [1, 1, 1, 2, 3, 5, 5, 5]


def test_best_ratio_exceeded_and_near_miss():
    # 5 plans: 30% is 1.5, rounded half up to 2
    assert codes(parse_table("a.xlsx", documents.table_xlsx(UNIT, plans=5, best=2))) == []
    finding = parse_table("a.xlsx", documents.table_xlsx(UNIT, plans=5, best=3))
    assert codes(finding) == ["best_ratio_exceeded"]
    assert "共 5 个方案，其中“最佳” 3 个" in finding.problems[0].message
    assert "最多 2 个" in finding.problems[0].message
    # 15 plans: 4.5 rounds to 5
    assert codes(parse_table("a.xlsx", documents.table_xlsx(UNIT, plans=15, best=5))) == []
    assert codes(parse_table("a.xlsx", documents.table_xlsx(UNIT, plans=15, best=6))) == [
        "best_ratio_exceeded"
    ]
    # one plan may always be 最佳
    assert codes(parse_table("a.xlsx", documents.table_xlsx(UNIT, plans=1, best=1))) == []


def test_grades_are_normalised_and_invalid_ones_reported():
    assert normalise_grade(" 最佳方案 ") == "最佳"
    assert normalise_grade("优 秀") == "优秀"
    assert normalise_grade("培育项目") == "培育"
    rows = documents.sample_rows(6, 1)
    rows[1]["grade"] = "优秀方案"
    rows[2]["grade"] = "良好"
    finding = parse_table("a.xlsx", documents.table_xlsx(UNIT, rows))
    assert codes(finding) == ["grade_invalid"]
    assert "第 6 行的立项等级“良好”" in finding.problems[0].message
    assert finding.facts["rows"][1]["grade"] == "优秀"


def test_duplicate_branch():
    rows = documents.sample_rows(6, 1)
    rows[4]["branch"] = rows[2]["branch"] + " "
    finding = parse_table("a.xlsx", documents.table_xlsx(UNIT, rows))
    assert codes(finding) == ["duplicate_branch"]
    assert f"“{rows[2]['branch']}”出现了 2 次" in finding.problems[0].message
    assert (
        codes(parse_table("a.xlsx", documents.table_xlsx(UNIT, documents.sample_rows(6, 1)))) == []
    )


def test_subcommittee_mismatch_only_for_another_unit():
    other = parse_table(
        "a.xlsx", documents.table_xlsx(UNIT, named_unit="计算机学院分党委"), expected_unit=UNIT
    )
    assert codes(other) == ["subcommittee_mismatch"]
    assert "填报单位为“计算机学院分党委”" in other.problems[0].message
    for named in ("机械学院", "中共机械工程与自动化学院委员会", UNIT + "（盖章）"):
        data = documents.table_xlsx(UNIT, named_unit=named)
        assert codes(parse_table("a.xlsx", data, expected_unit=UNIT)) == [], named
    # no expected unit given: nothing to compare
    assert (
        codes(parse_table("a.xlsx", documents.table_xlsx(UNIT, named_unit="计算机学院分党委")))
        == []
    )
    assert units_match("材料学院", "材料科学与工程学院分党委")


def test_synonym_columns_and_notes_without_title():
    data = documents.workbook_xlsx(
        [
            ["填报单位：", "机械学院"],
            [],
            ["序号", "支部名称", "负责人", "项目名称", "评审等级"],
            [1, "教工第一党支部", "张三", "方案甲", "最佳"],
            [None, None, None, None, None],
            [2, "学生第一党支部", "李四", "方案乙", "优秀"],
            ["合计", None, None, "2个", None],
            ["说明：本表一式两份"],
        ]
    )
    finding = parse_table("a.xlsx", data, expected_unit=UNIT)
    assert finding.problems == []
    assert finding.facts["unit"] == "机械学院"
    assert [r["branch"] for r in finding.facts["rows"]] == ["教工第一党支部", "学生第一党支部"]
    assert finding.facts["rows"][0]["secretary"] == "张三"


def test_columns_missing():
    data = documents.workbook_xlsx(
        [["序号", "党支部名称", "立项方案名称"], [1, "教工第一党支部", "方案甲"]]
    )
    finding = parse_table("a.xlsx", data)
    assert codes(finding) == ["columns_missing"]
    assert "立项等级" in finding.problems[0].message
    nothing = parse_table("a.xlsx", documents.workbook_xlsx([["随便写的内容"], ["没有表头"]]))
    assert codes(nothing) == ["columns_missing"]


def test_legacy_and_broken_files():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024
    assert codes(parse_table("a.xls", ole)) == ["unreadable"]  # an OLE file without a workbook
    assert codes(parse_table("a.xlsx", b"plain text")) == ["unsupported_format"]
    assert codes(parse_table("a.xlsx", b"PK\x03\x04broken")) == ["unreadable"]
    assert codes(parse_table("a.xlsx", documents.table_xlsx(UNIT)[:3000])) == ["unreadable"]


CLOSING_LINES = [
    "分党委书记签字：",
    "制表：张三",
    "以上方案经分党委会议审议通过",
    "分党委（盖章）",
    "填表日期：2022年3月28日",
]


def test_closing_lines_under_a_table_without_index_column_are_not_plans():
    # the branch name is in column A: the signature, seal and date lines under the rows land
    # there too
    data = documents.table_xlsx(UNIT, plans=6, index_column=False, footer=CLOSING_LINES)
    finding = parse_table("汇总表.xlsx", data, expected_unit=UNIT)
    assert finding.problems == []
    assert finding.facts["plans"] == 6
    assert [r["branch"] for r in finding.facts["rows"]] == [
        r["branch"] for r in documents.sample_rows(6)
    ]
    # the same lines each merged across the whole width
    merged = documents.table_xlsx(
        UNIT, plans=6, index_column=False, footer=CLOSING_LINES, footer_merged=True
    )
    finding = parse_table("汇总表.xlsx", merged, expected_unit=UNIT)
    assert finding.problems == [] and finding.facts["plans"] == 6


def test_closing_lines_do_not_hide_a_real_bad_grade():
    # near miss: a plan row with a wrong grade above the closing lines is still reported
    rows = documents.sample_rows(6, 1)
    rows[5]["grade"] = "良好"
    data = documents.table_xlsx(UNIT, rows, index_column=False, footer=CLOSING_LINES)
    finding = parse_table("汇总表.xlsx", data)
    assert codes(finding) == ["grade_invalid"]
    assert "第 9 行的立项等级“良好”" in finding.problems[0].message
    # and a plan row without any grade is still reported
    rows = documents.sample_rows(6, 1)
    rows[2]["grade"] = None
    finding = parse_table("汇总表.xlsx", documents.table_xlsx(UNIT, rows, footer=CLOSING_LINES))
    assert codes(finding) == ["grade_invalid"]
    assert "第 6 行的立项等级“”" in finding.problems[0].message


def test_grade_merged_over_two_rows_applies_to_both():
    rows = documents.sample_rows(6, 1)
    rows[3]["grade"] = rows[4]["grade"] = "优秀"
    data = documents.table_xlsx(UNIT, rows, merges=[(3, 4, "grade")])
    finding = parse_table("汇总表.xlsx", data, expected_unit=UNIT)
    assert finding.problems == []
    assert [r["grade"] for r in finding.facts["rows"]][3:5] == ["优秀", "优秀"]
    # a 最佳 merged over two rows counts twice against the 30% limit (4 plans: at most 1)
    rows = documents.sample_rows(4, 1)
    rows[1]["grade"] = "最佳"
    finding = parse_table("a.xlsx", documents.table_xlsx(UNIT, rows, merges=[(0, 1, "grade")]))
    assert codes(finding) == ["best_ratio_exceeded"]
    assert finding.facts["best"] == 2


def test_branch_merged_over_its_plans_is_not_a_duplicate():
    rows = documents.sample_rows(6, 1)
    rows[2]["branch"] = rows[1]["branch"]
    rows[2]["type"] = rows[1]["type"]
    data = documents.table_xlsx(UNIT, rows, merges=[(1, 2, "branch"), (1, 2, "type")])
    finding = parse_table("汇总表.xlsx", data)
    assert finding.problems == []
    assert finding.facts["rows"][2]["branch"] == rows[1]["branch"]
    assert finding.facts["rows"][2]["type"] == rows[1]["type"]
    # near miss: the same branch written twice, not merged, is a duplicate
    assert codes(parse_table("汇总表.xlsx", documents.table_xlsx(UNIT, rows))) == [
        "duplicate_branch"
    ]


def test_merged_grade_in_a_legacy_xls():
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("汇总表")
    sheet.write_merge(0, 0, 0, 3, "2022年基层党组织活动方案立项结果汇总表")
    for col, name in enumerate(("党支部名称", "支部书记", "立项方案名称", "立项等级")):
        sheet.write(1, col, name)
    for r, (branch, plan) in enumerate(
        (
            ("教工第一党支部", "方案甲"),
            ("学生第一党支部", "方案乙"),
            ("学生第二党支部", "方案丙"),
            ("学生第三党支部", "方案丁"),
        ),
        start=2,
    ):
        sheet.write(r, 0, branch)
        sheet.write(r, 1, "张三")
        sheet.write(r, 2, plan)
    sheet.write(2, 3, "最佳")
    sheet.write_merge(3, 5, 3, 3, "优秀")
    sheet.write(6, 0, "分党委书记签字：")
    sheet.write_merge(7, 7, 0, 3, "以上方案经分党委会议审议通过")
    buf = io.BytesIO()
    book.save(buf)
    finding = parse_table("汇总表.xls", buf.getvalue())
    assert finding.problems == []
    assert [r["grade"] for r in finding.facts["rows"]] == ["最佳", "优秀", "优秀", "优秀"]


def test_repeated_header_line_is_not_a_plan():
    data = documents.workbook_xlsx(
        [
            ["党支部名称", "立项方案名称", "立项等级"],
            ["教工第一党支部", "方案甲", "最佳"],
            ["党支部名称", "立项方案名称", "立项等级"],
            ["学生第一党支部", "方案乙", "优秀"],
            ["学生第二党支部", "方案丙", "培育"],
        ]
    )
    finding = parse_table("a.xlsx", data)
    assert finding.problems == []
    assert finding.facts["plans"] == 3
