"""Tests of the branch roster and the table checks that use it."""

import pytest

from intake.samples import documents
from parsers.roster import RosterError, load_roster
from tests.helpers.judging import examine, parse_table

UNIT = "机械工程与自动化学院分党委"


def codes(finding):
    return [p.code for p in finding.problems]


@pytest.fixture(scope="module")
def roster():
    return load_roster(documents.roster_xlsx())


def test_load_roster_and_branches_of_a_unit(roster):
    assert roster.units == [UNIT, "计算机学院分党委"]
    mine = roster.branches_of("机械学院")  # loose match, as units_match
    assert len(mine) == 11
    assert [b.name for b in mine if b.graduating] == ["2018级本科生党支部"]
    assert [b.name for b in mine if b.model] == ["教工第一党支部"]
    assert roster.branches_of("外国语学院分党委") == []
    assert len(roster.branches_of("计算机学院")) == 2


def test_full_table_against_roster_has_no_problem(roster):
    finding = parse_table(
        "汇总表.xlsx", documents.table_xlsx(UNIT), expected_unit=UNIT, roster=roster
    )
    assert finding.problems == []
    assert finding.facts["roster_unit"] == UNIT
    assert (finding.facts["roster_branches"], finding.facts["roster_covered"]) == (10, 10)


def test_coverage_incomplete_names_the_missing_branches(roster):
    rows = documents.sample_rows(10, 2)[:8]
    finding = parse_table(
        "a.xlsx", documents.table_xlsx(UNIT, rows), expected_unit=UNIT, roster=roster
    )
    assert codes(finding) == ["coverage_incomplete"]
    missing = [r["branch"] for r in documents.sample_rows(10)[8:]]
    assert "、".join(missing) in finding.problems[0].message
    # near miss: names written a little differently still cover the branches
    rows = documents.sample_rows(10)
    rows[1]["branch"] = "中共" + rows[1]["branch"].replace("党支部", "支部")
    rows[2]["branch"] = "机械学院" + rows[2]["branch"]
    finding = parse_table(
        "a.xlsx", documents.table_xlsx(UNIT, rows), expected_unit=UNIT, roster=roster
    )
    assert codes(finding) == []


def test_graduating_branch_listed_and_near_miss(roster):
    rows = documents.sample_rows(10) + [
        dict(documents.sample_rows(1)[0], branch="2018级本科生党支部", grade="培育")
    ]
    finding = parse_table(
        "a.xlsx", documents.table_xlsx(UNIT, rows, best=3), expected_unit=UNIT, roster=roster
    )
    assert codes(finding) == ["graduating_branch_listed"]
    assert "“2018级本科生党支部”" in finding.problems[0].message
    # the same name in another unit's roster is no concern of this unit
    other = load_roster(
        documents.roster_xlsx(
            [(UNIT, r["branch"], r["type"], False, False) for r in documents.sample_rows(10)]
            + [("计算机学院分党委", "2018级本科生党支部", "学生", True, False)]
        )
    )
    assert (
        codes(
            parse_table(
                "a.xlsx", documents.table_xlsx(UNIT, rows, best=3), expected_unit=UNIT, roster=other
            )
        )
        == []
    )


def test_model_branch_not_best_and_near_miss(roster):
    rows = documents.sample_rows(10)
    rows[0]["grade"], rows[5]["grade"] = "优秀", "最佳"
    finding = parse_table(
        "a.xlsx", documents.table_xlsx(UNIT, rows), expected_unit=UNIT, roster=roster
    )
    assert codes(finding) == ["model_branch_not_best"]
    assert "样板党支部“教工第一党支部”的立项等级为“优秀”" in finding.problems[0].message
    rows[0]["grade"] = "最佳方案"  # normalised to 最佳: fine
    rows[5]["grade"] = "优秀"
    assert (
        codes(
            parse_table(
                "a.xlsx", documents.table_xlsx(UNIT, rows), expected_unit=UNIT, roster=roster
            )
        )
        == []
    )


def test_no_roster_checks_without_a_known_unit(roster):
    rows = documents.sample_rows(3)
    data = documents.table_xlsx("外国语学院分党委", rows)
    assert codes(parse_table("a.xlsx", data, expected_unit="外国语学院分党委", roster=roster)) == []
    # the table's own 填报单位 is used when the sender is not known
    assert codes(parse_table("a.xlsx", documents.table_xlsx(UNIT, rows), roster=roster)) == [
        "coverage_incomplete"
    ]


def test_examine_passes_the_roster_through(roster):
    rows = documents.sample_rows(10)[:9]
    data = documents.table_xlsx(UNIT, rows)
    [finding] = examine("汇总表.xlsx", data, expected_unit=UNIT, roster=roster)
    assert codes(finding) == ["coverage_incomplete"]
    [finding] = examine(
        "汇总表.xls", documents.table_xls(UNIT, rows), expected_unit=UNIT, roster=roster
    )
    assert codes(finding) == ["coverage_incomplete"]
    [plain] = examine("汇总表.xlsx", data, expected_unit=UNIT)
    assert codes(plain) == []


def test_roster_synonyms_merged_unit_cells_and_flags():
    data = documents.workbook_xlsx(
        [
            ["所属分党委", "支部名称", "支部类型", "是否毕业班", "样板党支部"],
            [UNIT, "教工第一党支部", "教工", "否", "是"],
            [None, "2018级本科生党支部", "学生", "是", None],
            [None, None, None, None, None],
            ["计算机学院分党委", "研究生第1党支部", "学生", False, "√"],
        ]
    )
    roster = load_roster(data)
    assert [(b.unit, b.name, b.graduating, b.model) for b in roster.branches] == [
        (UNIT, "教工第一党支部", False, True),
        (UNIT, "2018级本科生党支部", True, False),
        ("计算机学院分党委", "研究生第1党支部", False, True),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"not a workbook",
        b"PK\x03\x04broken",
        documents.workbook_xlsx([["姓名", "电话"], ["张三", "123"]]),
        documents.workbook_xlsx(
            [["分党委", "党支部", "毕业年级"], ["机械学院", "教工第一党支部", "也许"]]
        ),
        documents.workbook_xlsx([["分党委", "党支部"]]),
    ],
)
def test_bad_roster_raises_roster_error(data):
    with pytest.raises(RosterError) as error:
        load_roster(data)
    assert "\n" not in str(error.value) and "/" in str(error.value)
