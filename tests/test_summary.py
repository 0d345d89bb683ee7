"""Tests of the summary parser on real .docx and text PDFs built in code."""

import io
import re
import zipfile
from functools import lru_cache

from docx import Document

from intake import sampledocs
from parsers.summary import parse_summary
from parsers.wordcount import count_zi

UNIT = "机械工程与自动化学院分党委"


@lru_cache(maxsize=None)
def build(basic_chars=600, cases=None, include_basic=True):
    """A cached summary .docx; ``cases`` as a tuple of tuples (title, chars, photos, captions)."""
    case_dicts = None
    if cases is not None:
        case_dicts = [{"title": t, "chars": c, "photos": p, "captions": cap} for t, c, p, cap in cases]
    return sampledocs.summary_docx(UNIT, basic_chars=basic_chars, cases=case_dicts, include_basic=include_basic)


def codes(finding):
    return [p.code for p in finding.problems]


def test_valid_summary_has_no_problem_and_real_facts():
    finding = parse_summary("总结.docx", build())
    assert finding.kind == "summary"
    assert finding.problems == []
    assert finding.facts["title"] == f"2021年{UNIT}开展支部立项工作总结"
    assert finding.facts["unit"] == UNIT
    assert finding.facts["basic_chars"] == 600
    cases = finding.facts["cases"]
    assert [(c["title"], c["chars"], c["photos"], c["captions"]) for c in cases] == [
        ("党建引领志愿服务进社区", 420, 2, 2), ("理论学习与专业实践深度融合", 380, 3, 3)]
    assert count_zi(cases[0]["text"]) == 420 and "图1" not in cases[0]["text"]
    assert finding.size == len(build())


def test_basic_exactly_1000_is_accepted_1001_is_not():
    assert "basic_too_long" not in codes(parse_summary("a.docx", build(basic_chars=1000)))
    finding = parse_summary("a.docx", build(basic_chars=1001))
    assert codes(finding) == ["basic_too_long"]
    assert "1001 字" in finding.problems[0].message
    assert finding.facts["basic_chars"] == 1001


def test_basic_missing_only_when_no_basic_part():
    finding = parse_summary("a.docx", build(include_basic=False))
    assert codes(finding) == ["basic_missing"]
    assert len(finding.facts["cases"]) == 2


def test_case_length_bounds():
    ok = build(cases=(("甲", 500, 2, True), ("乙", 300, 2, True)))
    assert codes(parse_summary("a.docx", ok)) == []
    bad = parse_summary("a.docx", build(cases=(("甲", 501, 2, True), ("乙", 299, 2, True))))
    assert codes(bad) == ["case_length", "case_length"]
    assert "“甲”共 501 字" in bad.problems[0].message
    assert "“乙”共 299 字" in bad.problems[1].message


def test_case_photos_bounds():
    assert codes(parse_summary("a.docx", build(cases=(("甲", 400, 3, True),)))) == []
    finding = parse_summary("a.docx", build(cases=(("甲", 400, 4, True), ("乙", 400, 1, True))))
    assert codes(finding) == ["case_photos", "case_photos"]
    assert "插入了 4 张照片" in finding.problems[0].message
    assert "插入了 1 张照片" in finding.problems[1].message


def test_cases_count():
    assert codes(parse_summary("a.docx", build(cases=(("甲", 400, 2, True),)))) == []
    three = parse_summary("a.docx", build(cases=(("甲", 400, 2, True), ("乙", 400, 2, True), ("丙", 400, 2, True))))
    assert codes(three) == ["cases_count"]
    assert "找到 3 个" in three.problems[0].message
    none = parse_summary("a.docx", build(cases=()))
    assert codes(none) == ["cases_count"]
    assert "找到 0 个" in none.problems[0].message


def test_photo_caption_missing():
    finding = parse_summary("a.docx", build(cases=(("甲", 400, 2, False), ("乙", 400, 2, True))))
    assert codes(finding) == ["photo_caption_missing", "photo_caption_missing"]
    assert "“甲”的第 1 张照片" in finding.problems[0].message
    assert "“甲”的第 2 张照片" in finding.problems[1].message
    assert finding.facts["cases"][0]["captions"] == 0


def _custom_docx(paragraphs):
    """A .docx from (text, style) pairs; text "<photo>" inserts a photo paragraph."""
    doc = Document()
    for text, style in paragraphs:
        if text == "<photo>":
            doc.add_paragraph().add_run().add_picture(io.BytesIO(sampledocs.photo_png()))
        else:
            doc.add_paragraph(text, style=style)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_other_numbering_styles_are_found():
    body = [("2021年计算机学院分党委支部立项工作总结", "Title"),
            ("第一部分 基本情况", None), (sampledocs.prose(200), None),
            ("第二部分 特色案例", None),
            ("特色案例1：红色基因代代传", None), (sampledocs.prose(350), None),
            ("<photo>", None), ("照片：支部书记讲党课", None),
            ("<photo>", None), ("图2 党员参观纪念馆", None),
            ("第三部分 下一步打算", None), (sampledocs.prose(700), None)]
    finding = parse_summary("a.docx", _custom_docx(body))
    assert codes(finding) == []
    assert finding.facts["basic_chars"] == 200
    assert finding.facts["unit"] == "计算机学院分党委"
    assert [(c["title"], c["chars"], c["photos"], c["captions"]) for c in finding.facts["cases"]] == [
        ("红色基因代代传", 350, 2, 2)]


def test_inline_basic_heading_and_bracket_numbering():
    body = [("（一）基本情况：" + sampledocs.prose(100), None),
            ("（二）特色案例", None),
            ("案例一 志愿服务", None), (sampledocs.prose(320), None),
            ("<photo>", None), ("图1 志愿服务", "Caption"), ("<photo>", None), ("图2 志愿服务", None)]
    finding = parse_summary("a.docx", _custom_docx(body))
    assert codes(finding) == []
    assert finding.facts["basic_chars"] == 100
    assert finding.facts["cases"][0]["chars"] == 320


def test_unclear_case_structure_raises_no_length_request():
    body = [("一、基本情况", None), (sampledocs.prose(300), None),
            ("二、特色案例", None), (sampledocs.prose(900), None)]
    finding = parse_summary("a.docx", _custom_docx(body))
    assert codes(finding) == []
    assert finding.facts["cases_structure"] == "unclear"


def _patch_document(data, change):
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "word/document.xml":
                content = change(content)
            dst.writestr(info, content)
    return out.getvalue()


def test_fallback_twin_of_a_picture_is_not_counted():
    def wrap(xml):
        match = re.search(rb"<w:drawing>.*?</w:drawing>", xml, re.S)
        fallback = (b'<mc:AlternateContent><mc:Choice Requires="wps">' + match.group(0) +
                    b'</mc:Choice><mc:Fallback><w:pict><v:shape><v:imagedata r:id="rId9"/></v:shape>'
                    b'</w:pict></mc:Fallback></mc:AlternateContent>')
        return xml[:match.start()] + fallback + xml[match.end():]

    finding = parse_summary("a.docx", _patch_document(build(), wrap))
    assert finding.problems == []
    assert finding.facts["cases"][0]["photos"] == 2


def test_entity_declarations_are_refused():
    def doctype(xml):
        return xml.replace(b"?>", b'?><!DOCTYPE w:document [<!ENTITY x "boom">]>', 1)

    finding = parse_summary("a.docx", _patch_document(build(), doctype))
    assert codes(finding) == ["unreadable"]


def test_corrupt_and_truncated_files_are_unreadable():
    assert codes(parse_summary("a.docx", b"not a document")) == ["unreadable"]
    assert codes(parse_summary("a.docx", build()[:5000])) == ["unreadable"]
    assert codes(parse_summary("a.pdf", b"%PDF-1.4 broken")) == ["unreadable"]


def test_text_pdf_summary():
    lines = ["2021年外国语学院分党委开展支部立项工作总结", "一、基本情况"]
    lines += [sampledocs.prose(30, offset=i * 30) for i in range(4)]
    lines += ["二、特色案例", "案例一：外语志愿服务"]
    lines += [sampledocs.prose(35, offset=i * 35) for i in range(10)]
    finding = parse_summary("总结.pdf", sampledocs.text_pdf(lines))
    assert finding.facts["basic_chars"] == 120
    assert finding.facts["unit"] == "外国语学院分党委"
    assert finding.facts["cases"][0]["chars"] == 350
    # the PDF has no photos: the case lacks them
    assert codes(finding) == ["case_photos"]
