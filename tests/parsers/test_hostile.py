"""Hostile and broken input: each gives a typed problem within bounded time and memory."""

import io
import time
import tracemalloc
import zipfile
from functools import cache

import pytest

from intake.samples import archives, documents, scans
from tests.helpers.judging import examine, parse_scan

UNIT = "机械工程与自动化学院分党委"
BOMB = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'
    b'&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)


def codes(findings):
    return [(f.kind, [p.code for p in f.problems]) for f in findings]


@cache
def docs():
    return {"docx": documents.summary_docx(UNIT), "xlsx": documents.table_xlsx(UNIT)}


def _patch(data, part, change):
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info, change(body) if info.filename == part else body)
    return out.getvalue()


def _with_doctype(body, doctype):
    """The XML part with ``doctype`` after its declaration (or first, when it has none)."""
    if body.startswith(b"<?xml"):
        end = body.index(b"?>") + 2
        return body[:end] + doctype + body[end:]
    return doctype + body


def _with_bomb(body):
    return _with_doctype(body, BOMB).replace(b"<w:t>", b"<w:t>&lol3;", 1)


@pytest.mark.parametrize(
    ("name", "key", "part", "kind"),
    [
        ("总结.docx", "docx", "word/document.xml", "summary"),
        ("总结.docx", "docx", "word/numbering.xml", "summary"),
        ("总结.docx", "docx", "docProps/core.xml", "summary"),
        ("汇总表.xlsx", "xlsx", "xl/workbook.xml", "table"),
        ("汇总表.xlsx", "xlsx", "xl/worksheets/sheet1.xml", "table"),
        ("汇总表.xlsx", "xlsx", "xl/styles.xml", "table"),
    ],
)
def test_xml_bombs_are_refused(name, key, part, kind):
    names = zipfile.ZipFile(io.BytesIO(docs()[key])).namelist()
    if part not in names:
        pytest.skip(f"{part} not in the sample")
    assert codes(examine(name, _patch(docs()[key], part, _with_bomb))) == [(kind, ["unreadable"])]


def test_external_entity_is_refused():
    xxe = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    data = _patch(docs()["xlsx"], "xl/workbook.xml", lambda b: _with_doctype(b, xxe))
    assert codes(examine("汇总表.xlsx", data)) == [("table", ["unreadable"])]


def test_zip_bomb_member_and_package():
    bomb = archives.zip_archive([("总结.docx", b"\0" * (20 * 1024 * 1024))])
    findings = examine("材料.zip", bomb)
    assert codes(findings) == [(None, ["too_large"])]
    # a docx whose parts declare far more than any real document
    big = _patch(docs()["docx"], "word/document.xml", lambda b: b + b" " * (210 * 1024 * 1024))
    assert codes(examine("总结.docx", big)) == [("summary", ["unreadable"])]


def test_lying_zip_sizes_are_caught():
    data = bytearray(archives.zip_archive([("总结.txt", b"a" * 5000)]))
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")  # declared 10 bytes, holds 5000
    findings = examine("a.zip", bytes(data))
    assert ("unreadable" in findings[0].problems[0].code) or findings[0].problems == []
    assert all(f.size <= 5000 for f in findings)


def test_encrypted_pdf_is_unreadable():
    pdf = scans.text_pdf(["2021年工作总结", "一、基本情况"])
    encrypt = (
        b"/Encrypt << /Filter /Standard /V 1 /R 2 /O <"
        + b"ab" * 32
        + b"> /U <"
        + b"cd" * 32
        + b"> /P -44 >> /ID [<0123456789abcdef0123456789abcdef><0123456789abcdef0123456789abcdef>]"
    )
    locked = pdf.replace(b"/Root 1 0 R", b"/Root 1 0 R " + encrypt)
    for name in ("总结.pdf", "汇总表扫描件.pdf"):
        [finding] = examine(name, locked)
        assert [p.code for p in finding.problems] == ["unreadable"], name


def test_oversized_attachment_is_not_loaded():
    data = b"PK\x03\x04" + b"\0" * (100 * 1024 * 1024)
    started = time.monotonic()
    assert codes(examine("总结.docx", data)) == [("summary", ["too_large"])]
    assert time.monotonic() - started < 5


def test_path_like_names_stay_names():
    [finding] = examine("../../x", docs()["docx"])
    assert finding.filename == "../../x" and finding.kind == "summary" and finding.problems == []
    inner = archives.zip_archive([("../../../etc/总结.docx", docs()["docx"])])
    [member] = examine("a.zip", inner)
    assert member.filename == "a.zip/总结.docx"


@pytest.mark.parametrize("key", ["docx", "xlsx"])
def test_truncated_files_at_many_lengths(key):
    data = docs()[key]
    for cut in range(0, len(data), max(1, len(data) // 25)):
        for finding in examine(f"f.{key}", data[:cut]):
            assert all(p.code in ("unreadable", "unsupported_format") for p in finding.problems)


def test_200_page_scan_is_bounded():
    data = scans.scan_pdf("summary_scan", UNIT, pages=200, dpi=40)
    tracemalloc.start()
    started = time.monotonic()
    [finding] = examine("总结盖章.pdf", data)
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert finding.kind == "summary_scan" and finding.facts["pages"] == 200
    assert elapsed < 60 and peak < 300 * 1024 * 1024


def test_huge_image_dimensions_are_refused():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buf, "PNG")  # 900 megapixels in a few KB
    [finding] = examine("扫描件.png", buf.getvalue())
    assert [p.code for p in finding.problems] == ["unreadable"]
    buf = io.BytesIO()
    Image.new("1", (10000, 10000)).save(
        buf, "PNG"
    )  # 100 MP: under Pillow's own bomb limit, over ours
    [finding] = examine("扫描件.png", buf.getvalue())
    assert [p.code for p in finding.problems] == ["unreadable"]


# ---------------------------------------------------------------- archives with everything in them


def test_7z_and_rar_attachments_are_unpacked_and_nested_once():
    summary, table = docs()["docx"], docs()["xlsx"]
    seven = archives.sevenzip_archive(
        [
            ("材料/2021年工作总结.docx", summary),
            ("inner.zip", archives.zip_archive([("汇总表.xlsx", table)])),
        ]
    )
    assert codes(examine("机械学院.7z", seven, expected_unit=UNIT)) == [
        ("summary", []),
        ("table", []),
    ]
    rar = archives.rar_archive(
        [("2021年工作总结.docx", summary), ("汇总表.xlsx", table)], encoding="gbk"
    )
    findings = examine("机械学院.rar", rar, expected_unit=UNIT)
    assert [(f.filename, f.kind) for f in findings] == [
        ("机械学院.rar/2021年工作总结.docx", "summary"),
        ("机械学院.rar/汇总表.xlsx", "table"),
    ]
    deep = archives.rar_archive(
        [
            (
                "b.7z",
                archives.sevenzip_archive(
                    [("c.zip", archives.zip_archive([("总结.docx", summary)]))]
                ),
            )
        ]
    )
    assert codes(examine("a.rar", deep)) == [(None, ["too_large"])]  # a third level: refused


# ---------------------------------------------------------------- red that is not a seal


@pytest.mark.parametrize("marks", [{"red_marks": True}, {"red_header": True, "red_marks": True}])
def test_red_header_and_red_marks_are_no_seal(marks):
    finding = parse_scan(
        "总结.pdf", scans.scan_pdf("summary_scan", UNIT, seal=False, signature=True, **marks)
    )
    assert finding.facts["seal"] != "found"
    assert finding.problems == []  # red pen marks and a red block: not sure enough to ask


def test_a_red_header_alone_is_certainly_no_seal():
    # a red title line and a red rule are no seal, and nothing else red is on the page
    finding = parse_scan(
        "总结.pdf",
        scans.scan_pdf("summary_scan", UNIT, seal=False, signature=True, red_header=True),
    )
    assert finding.facts["seal"] == "absent"
    assert [p.code for p in finding.problems] == ["seal_not_found"]


def test_seal_on_a_page_with_red_text_is_found():
    for kind in ("summary_scan", "table_scan"):
        finding = parse_scan(
            "扫描.pdf", scans.scan_pdf(kind, UNIT, red_header=True, red_marks=True)
        )
        assert finding.facts["seal"] == "found" and finding.problems == [], kind


def test_a_pdf_drawing_a_huge_image_is_refused_before_any_page_is_drawn():
    """An image the PDF declares at 30000 x 30720 (921 MP; its stream is tiny and broken off):
    refused from the image's dictionary, never rendered."""
    import zlib

    stream = zlib.compress(b"\xff" * 30000 * 4)  # the first rows; the rest is missing
    pdf = scans.pdf_drawing_image(30000, 30720, stream)
    [finding] = examine("总结盖章扫描件.pdf", pdf)
    assert [p.code for p in finding.problems] == ["unreadable"]
