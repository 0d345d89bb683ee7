"""Tests of the parser registry: routing by content, archives, and never raising."""

from functools import cache

import pytest

from intake.samples import archives, documents, scans
from parsers.registry import kind_by_name
from tests.helpers.judging import examine

UNIT = "机械工程与自动化学院分党委"


@cache
def docs():
    return {
        "summary": documents.summary_docx(UNIT),
        "table": documents.table_xlsx(UNIT),
        "summary_scan": scans.scan_pdf("summary_scan", UNIT),
        "table_scan": scans.scan_image("table_scan", UNIT),
    }


def only(findings):
    assert len(findings) == 1
    return findings[0]


def codes(finding):
    return [p.code for p in finding.problems]


@pytest.mark.parametrize(
    ("name", "key", "kind"),
    [
        ("2021年工作总结.docx", "summary", "summary"),
        ("附件1.bin", "summary", "summary"),  # decided by content, not by name
        ("立项结果汇总表.xlsx", "table", "table"),
        ("总结（盖章）.pdf", "summary_scan", "summary_scan"),
        ("汇总表盖章.jpg", "table_scan", "table_scan"),
        ("IMG_2031.jpg", "table_scan", "table_scan"),  # a landscape grid page
    ],
)
def test_routing_by_content(name, key, kind):
    finding = only(examine(name, docs()[key], expected_unit=UNIT))
    assert finding.kind == kind
    assert finding.problems == []
    assert finding.data == docs()[key]
    assert finding.size == len(docs()[key])


def test_text_pdf_summary_and_text_pdf_named_as_scan():
    text = scans.text_pdf(
        ["2021年机械学院分党委开展支部立项工作总结", "一、基本情况", documents.prose(40)]
    )
    summary = only(examine("工作总结.pdf", text))
    assert summary.kind == "summary"
    assert summary.facts["basic_chars"] == 40
    scan = only(examine("工作总结盖章扫描.pdf", text))
    assert scan.kind == "summary_scan"
    assert codes(scan) == ["not_a_scan"]


def test_archive_with_gbk_names_and_nested_zip():
    inner = archives.zip_archive([("汇总表（盖章）.jpg", docs()["table_scan"])], encoding="gbk")
    outer = archives.zip_archive(
        [
            ("机械学院材料/2021年工作总结.docx", docs()["summary"]),
            ("机械学院材料/立项结果汇总表.xlsx", docs()["table"]),
            ("扫描件.zip", inner),
            ("__MACOSX/._2021年工作总结.docx", b"junk"),
        ],
        encoding="gbk",
    )
    findings = examine("机械学院.zip", outer, expected_unit=UNIT)
    assert [(f.filename, f.kind, codes(f)) for f in findings] == [
        ("机械学院.zip/2021年工作总结.docx", "summary", []),
        ("机械学院.zip/立项结果汇总表.xlsx", "table", []),
        ("机械学院.zip/扫描件.zip/汇总表（盖章）.jpg", "table_scan", []),
    ]
    assert findings[0].data == docs()["summary"]


def test_zip_nesting_stops_after_one_level():
    level3 = archives.zip_archive([("总结.docx", docs()["summary"])])
    level2 = archives.zip_archive([("c.zip", level3)])
    level1 = archives.zip_archive([("b.zip", level2)])
    findings = examine("a.zip", level1)
    assert [(f.filename, f.kind, codes(f)) for f in findings] == [
        ("a.zip/b.zip/c.zip", None, ["too_large"])
    ]
    assert "第 3 层压缩包" in findings[0].problems[0].message


def test_legacy_office_files_without_a_known_stream():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2048
    # damaged (or, without LibreOffice, unsupported) on the item the name says
    assert [(f.kind, codes(f)) for f in examine("总结.doc", ole)] in (
        [("summary", ["unreadable"])],
        [("summary", ["unsupported_format"])],
    )
    assert [(f.kind, codes(f)) for f in examine("总结.wps", ole)] == [
        ("summary", ["unsupported_format"])
    ]
    assert [(f.kind, codes(f)) for f in examine("汇总表.xls", ole)] == [("table", ["unreadable"])]
    assert [(f.kind, codes(f)) for f in examine("汇总表.et", ole)] == [("table", ["unreadable"])]
    assert [(f.kind, codes(f)) for f in examine("附件.bin", ole)] == [
        (None, ["unsupported_format"])
    ]


def test_small_images_are_ignored():
    logo = documents.photo_png(1, (120, 40))
    finding = only(examine("image001.png", logo))
    assert finding.kind is None and finding.problems == []
    assert finding.facts["ignored"] == "small_image"


def test_other_files():
    assert [(f.kind, codes(f)) for f in examine("readme.txt", b"hello")] == [(None, [])]
    assert [(f.kind, codes(f)) for f in examine("工作总结.txt", b"hello")] == [
        ("summary", ["unsupported_format"])
    ]
    assert [(f.kind, codes(f)) for f in examine("材料.rar", b"Rar!\x1a\x07\x00rest")] == [
        (None, ["unreadable"])
    ]
    assert [(f.kind, codes(f)) for f in examine("材料.tar.gz", b"\x1f\x8b\x08rest")] == [
        (None, ["unsupported_format"])
    ]


def test_too_large_is_not_parsed():
    finding = only(examine("立项结果汇总表.xlsx", docs()["table"], max_bytes=1000))
    assert finding.kind == "table"
    assert codes(finding) == ["too_large"]
    assert "上限 1000 B" in finding.problems[0].message
    assert finding.facts == {}


@pytest.mark.parametrize(
    "name", ["总结.docx", "汇总表.xlsx", "总结.pdf", "扫描.jpg", "a.zip", "x.png"]
)
@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"PK\x03\x04" + b"\xff" * 50,
        b"%PDF-1.7\n" + b"\x00" * 50,
        b"\x89PNG\r\n\x1a\n" + b"\x01" * 40,
        b"\xff\xd8\xff\xe0garbage",
    ],
)
def test_bad_input_never_raises(name, junk):
    findings = examine(name, junk)
    assert findings
    for finding in findings:
        assert finding.data == junk and finding.size == len(junk)
        assert all(p.code in ("unreadable", "unsupported_format") for p in finding.problems)


def test_truncated_docx_is_unreadable_summary():
    finding = only(examine("总结.docx", docs()["summary"][:4000]))
    assert (finding.kind, codes(finding)) == ("summary", ["unreadable"])


def test_kind_by_name():
    assert kind_by_name("总结.docx") == "summary"
    assert kind_by_name("汇总表扫描.pdf") == "table_scan"
    assert kind_by_name("总结盖章.jpg") == "summary_scan"
    assert kind_by_name("photo.jpg") is None
