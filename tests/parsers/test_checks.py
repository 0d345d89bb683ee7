"""The registry of checks: one rule per code of DESIGN.md, three verdicts, numbers from [rules]."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from docx import Document
from PIL import Image

from intake.samples import documents, scans
from parsers.checks import CHECKS, FILE, MESSAGE, CheckContext, checks_for, run_checks
from parsers.rules import CampaignRules
from parsers.vocabulary import DOUBTS, ITEM_KEYS, PROBLEMS
from tests.helpers.judging import examine, parse_scan, parse_summary, parse_table

UNIT = "机械工程与自动化学院分党委"
DESIGN = Path(__file__).resolve().parents[3] / "shared" / "DESIGN.md"


def design_codes(heading: str) -> set[str]:
    """The codes of the first table under ``heading`` in DESIGN.md."""
    text = DESIGN.read_text(encoding="utf-8")
    start = text.index(heading)
    table = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return {m.group(1) for line in table if (m := re.match(r"\|\s*`(\w+)`", line))}


def codes(items) -> list[str]:  # noqa: ANN001
    return [p.code for p in items]


def test_registry_sentences_and_design_tables_name_the_same_codes():
    problems, doubts = design_codes("## Problem codes"), design_codes("Doubt codes")
    assert problems and doubts
    assert set(PROBLEMS) == problems and set(DOUBTS) == doubts
    assert set(CHECKS) == problems | doubts
    assert {c.verdict for c in CHECKS.values() if c.code in doubts} == {"doubt"}
    assert {c.verdict for c in CHECKS.values() if c.code in problems} == {"problem"}


def test_every_rule_says_what_it_looks_for_and_where_it_applies():
    for rule in CHECKS.values():
        assert rule.description, rule.code
        assert set(rule.scopes) <= {*ITEM_KEYS, FILE, MESSAGE}
    assert [c.code for c in checks_for(MESSAGE)] == [
        "too_large",
        "oversize_link",
        "sender_unverified",
    ]
    assert "seal_unsure" in {c.code for c in checks_for("table_scan")} & {
        c.code for c in checks_for("summary_scan")
    }


def test_message_rules_judge_the_message_facts():
    facts = {
        "big_attachments": [{"filename": "汇总表.zip", "url": "https://mail.qq.com/x"}],
        "forged": {"address": "jixie@example.edu.cn", "unit": UNIT},
        "refusals": [{"code": "too_large", "what": "来信", "size": "90.0 MB", "limit": "50.0 MB"}],
    }
    problems, doubts = run_checks(MESSAGE, facts, CheckContext())
    assert codes(problems) == ["too_large", "oversize_link", "sender_unverified"] and doubts == []
    assert "汇总表.zip" in problems[1].message and "上限 50.0 MB" in problems[0].message
    assert run_checks(MESSAGE, {}, CheckContext()) == ([], [])


def test_summary_numbers_come_from_the_campaign_rules():
    data = documents.summary_docx(UNIT, basic_chars=1200)
    assert codes(parse_summary("总结.docx", data).problems) == ["basic_too_long"]
    lenient = CampaignRules(basic_max_zi=1500)
    assert parse_summary("总结.docx", data, rules=lenient).problems == []
    strict = CampaignRules(case_zi=(450, 600), photos_per_case=(3, 4))
    finding = parse_summary("总结.docx", documents.summary_docx(UNIT), rules=strict)
    assert codes(finding.problems) == ["case_length", "case_length", "case_photos"]
    assert (
        "要求 450～600 字" in finding.problems[0].message
        and "2～3" not in finding.problems[2].message
    )


def test_best_share_comes_from_the_campaign_rules():
    data = documents.table_xlsx(UNIT, plans=10, best=4)
    finding = parse_table("汇总表.xlsx", data, expected_unit=UNIT)
    assert (
        codes(finding.problems) == ["best_ratio_exceeded"]
        and "超过 30%（最多 3 个）" in finding.problems[0].message
    )
    assert (
        parse_table(
            "汇总表.xlsx", data, expected_unit=UNIT, rules=CampaignRules(best_share=0.4)
        ).problems
        == []
    )


def test_best_limit_rounds_half_up_for_any_share():
    rules = CampaignRules(best_share=0.25)
    assert [rules.best_limit(n) for n in (1, 2, 6, 10, 14)] == [1, 1, 2, 3, 4]


def _docx(paragraphs: list[str]) -> bytes:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_a_summary_whose_parts_are_not_found_is_a_doubt_not_a_correction():
    data = _docx(
        [
            f"2021年{UNIT}开展支部立项工作总结",
            documents.prose(400),
            documents.prose(500),
            "党建工作亮点",
            documents.prose(300),
        ]
    )
    finding = parse_summary("总结.docx", data)
    assert finding.problems == [] and codes(finding.doubts) == ["structure_unsure"]
    assert "人工核对" in finding.doubts[0].message


def test_a_summary_with_case_headings_that_cannot_be_read_is_a_doubt():
    data = _docx(
        ["一、基本情况", documents.prose(300), "典型经验做法（含案例）", documents.prose(600)]
    )
    finding = parse_summary("总结.docx", data)
    assert finding.problems == [] and codes(finding.doubts) == ["structure_unsure"]


def _grey_pdf(kind: str) -> bytes:
    page = scans.scan_page(kind, UNIT, seal=True).convert("L")
    buf = io.BytesIO()
    page.save(buf, "PDF", resolution=100)
    return buf.getvalue()


def test_a_grayscale_scan_is_a_seal_doubt_with_its_reason():
    finding = parse_scan("汇总表（盖章扫描件）.pdf", _grey_pdf("table_scan"))
    assert finding.kind == "table_scan" and finding.problems == []
    assert codes(finding.doubts) == ["seal_unsure"] and "黑白或灰度" in finding.doubts[0].message


def test_a_red_mark_that_is_no_ring_is_a_seal_doubt():
    data = scans.scan_pdf("summary_scan", UNIT, seal=False, red_marks=True)
    finding = parse_scan("总结（盖章）.pdf", data)
    assert finding.problems == [] and codes(finding.doubts) == ["seal_unsure"]
    assert finding.facts["seal_reason"] == "unclear_mark"


def test_a_confirmed_seal_passes_and_a_colour_scan_without_red_is_a_problem():
    sealed = parse_scan("总结（盖章）.pdf", scans.scan_pdf("summary_scan", UNIT))
    assert sealed.problems == [] and sealed.doubts == []
    bare = parse_scan(
        "总结（盖章）.pdf", scans.scan_pdf("summary_scan", UNIT, seal=False, signature=True)
    )
    assert codes(bare.problems) == ["seal_not_found"] and bare.doubts == []


def _photo_jpeg() -> bytes:
    img = Image.new("RGB", (1600, 1200), (90, 140, 60))
    for x in range(0, 1600, 40):
        for y in range(0, 1200, 40):
            img.putpixel((x, y), (200, 180, 40))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["IMG_20220330_101512.jpg", "微信图片_20220330.jpg"])
def test_an_activity_photo_is_a_kind_doubt_and_gets_no_correction(name):
    [finding] = examine(name, _photo_jpeg())
    assert codes(finding.doubts) == ["kind_unsure"] and finding.problems == []
    assert finding.facts["kind_doubt"] == "photo_or_scan"


def test_a_stamped_scan_named_as_such_is_no_kind_doubt():
    [finding] = examine("汇总表盖章.jpg", scans.scan_image("table_scan", UNIT))
    assert finding.kind == "table_scan" and finding.doubts == [] and finding.problems == []
