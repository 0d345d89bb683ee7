"""Tests of the scan parser on image-only PDFs and JPG/PNG pages drawn in code."""

from functools import cache

from intake.samples import scans
from parsers.scan import inspect_pdf, scan_kind
from tests.helpers.judging import parse_scan

UNIT = "机械工程与自动化学院分党委"


@cache
def pdf(kind, seal=True, pages=1, signature=False):
    return scans.scan_pdf(kind, UNIT, seal=seal, pages=pages, signature=signature)


def codes(finding):
    return [p.code for p in finding.problems]


def test_image_pdf_is_a_scan_with_a_seal():
    profile = inspect_pdf(pdf("summary_scan"))
    assert (profile.pages, profile.scan_pages, profile.text_chars) == (1, 1, 0)
    finding = parse_scan("总结（盖章）.pdf", pdf("summary_scan"))
    assert finding.kind == "summary_scan"
    assert finding.problems == []
    assert finding.facts["seal"] == "found"
    assert finding.facts["scan_kind_confidence"] == "high"


def test_kind_from_layout_when_the_name_says_nothing():
    table = parse_scan("scan001.pdf", pdf("table_scan"))
    assert table.kind == "table_scan"
    assert table.facts["landscape"] is True and table.facts["grid"] is True
    assert table.facts["scan_kind_confidence"] == "medium"
    summary = parse_scan("scan002.pdf", pdf("summary_scan"))
    assert summary.kind == "summary_scan"
    assert summary.facts["grid"] is False


def test_name_hints():
    assert scan_kind("立项结果汇总表.jpg", False, False)[0] == "table_scan"
    assert scan_kind("工作总结盖章版.pdf", True, True) == ("summary_scan", "high")
    assert scan_kind("机械学院.pdf", False, False) == ("summary_scan", "medium")


def test_multi_page_scan():
    finding = parse_scan("总结.pdf", pdf("summary_scan", pages=3))
    assert finding.facts["pages"] == 3
    assert finding.facts["scan_pages"] == 3
    assert finding.facts["seal"] == "found"


def test_jpeg_and_png_pages():
    jpeg = parse_scan("汇总表.jpg", scans.scan_image("table_scan", UNIT))
    assert (jpeg.kind, jpeg.facts["seal"], jpeg.problems) == ("table_scan", "found", [])
    png = parse_scan("总结.png", scans.scan_image("summary_scan", UNIT, fmt="PNG"))
    assert (png.kind, png.facts["seal"], png.problems) == ("summary_scan", "found", [])


def test_seal_not_found_only_when_confident():
    # a black-and-white looking scan without seal: we cannot be sure, so no request
    grey = parse_scan("总结.pdf", pdf("summary_scan", seal=False))
    assert grey.facts["seal"] == "unknown"
    assert grey.problems == []
    # a colour scan (blue ink signature shows) with no red at all: the seal is missing
    colour = parse_scan("总结.pdf", pdf("summary_scan", seal=False, signature=True))
    assert colour.facts["seal"] == "absent"
    assert codes(colour) == ["seal_not_found"]
    # the same colour scan with its seal
    sealed = parse_scan("总结.pdf", pdf("summary_scan", seal=True, signature=True))
    assert sealed.problems == [] and sealed.facts["seal"] == "found"


def test_text_pdf_is_not_a_scan():
    finding = parse_scan("汇总表扫描件.pdf", scans.text_pdf(["Branch plan table", "2022"]))
    assert finding.kind == "table_scan"
    assert codes(finding) == ["not_a_scan"]
    assert finding.facts["text_chars"] > 10


def test_broken_files_are_unreadable():
    assert codes(parse_scan("总结.pdf", b"%PDF-1.4\nbroken")) == ["unreadable"]
    assert codes(parse_scan("总结.jpg", b"\xff\xd8\xff" + b"\0" * 100)) == ["unreadable"]


def test_long_colour_scan_with_the_seal_on_its_last_page():
    # 22 pages, more than MAX_PAGES: the last page (with the seal) is inspected too
    data = scans.scan_pdf("summary_scan", UNIT, pages=22, dpi=80, signature=True)
    finding = parse_scan("总结（盖章）.pdf", data)
    assert finding.facts["pages"] == 22
    assert finding.facts["seal"] == "found"
    assert finding.problems == []


def test_no_absence_concluded_from_a_partial_inspection():
    # 25 colour pages, the seal on page 22 which is neither in the first 20 nor in the last 2:
    # it is not seen, but pages were left out, so the seal is unknown and nothing is requested
    data = scans.scan_pdf("summary_scan", UNIT, pages=25, dpi=80, signature=True, seal_page=21)
    finding = parse_scan("总结（盖章）.pdf", data)
    assert finding.facts["seal"] == "unknown"
    assert finding.facts["inspected_pages"] < 25
    assert finding.problems == []
    # near miss: a short colour scan, every page inspected, no seal anywhere: the request stands
    short = parse_scan(
        "总结.pdf",
        scans.scan_pdf("summary_scan", UNIT, pages=3, dpi=50, seal=False, signature=True),
    )
    assert short.facts["seal"] == "absent"
    assert codes(short) == ["seal_not_found"]
