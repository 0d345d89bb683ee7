"""Tests of the summary parser on real .docx and text PDFs built in code."""

import io
import re
import zipfile
from functools import cache

from docx import Document

from intake.samples import documents, scans
from parsers.wordcount import count_zi
from tests.helpers.judging import parse_summary

UNIT = "机械工程与自动化学院分党委"


@cache
def build(basic_chars=600, cases=None, include_basic=True):
    """A cached summary .docx; ``cases`` as a tuple of tuples (title, chars, photos, captions)."""
    case_dicts = None
    if cases is not None:
        case_dicts = [
            {"title": t, "chars": c, "photos": p, "captions": cap} for t, c, p, cap in cases
        ]
    return documents.summary_docx(
        UNIT, basic_chars=basic_chars, cases=case_dicts, include_basic=include_basic
    )


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
        ("党建引领志愿服务进社区", 420, 2, 2),
        ("理论学习与专业实践深度融合", 380, 3, 3),
    ]
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
    three = parse_summary(
        "a.docx", build(cases=(("甲", 400, 2, True), ("乙", 400, 2, True), ("丙", 400, 2, True)))
    )
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
            doc.add_paragraph().add_run().add_picture(io.BytesIO(documents.photo_png()))
        else:
            doc.add_paragraph(text, style=style)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_other_numbering_styles_are_found():
    body = [
        ("2021年计算机学院分党委支部立项工作总结", "Title"),
        ("第一部分 基本情况", None),
        (documents.prose(200), None),
        ("第二部分 特色案例", None),
        ("特色案例1：红色基因代代传", None),
        (documents.prose(350), None),
        ("<photo>", None),
        ("照片：支部书记讲党课", None),
        ("<photo>", None),
        ("图2 党员参观纪念馆", None),
        ("第三部分 下一步打算", None),
        (documents.prose(700), None),
    ]
    finding = parse_summary("a.docx", _custom_docx(body))
    assert codes(finding) == []
    assert finding.facts["basic_chars"] == 200
    assert finding.facts["unit"] == "计算机学院分党委"
    assert [
        (c["title"], c["chars"], c["photos"], c["captions"]) for c in finding.facts["cases"]
    ] == [("红色基因代代传", 350, 2, 2)]


def test_inline_basic_heading_and_bracket_numbering():
    body = [
        ("（一）基本情况：" + documents.prose(100), None),
        ("（二）特色案例", None),
        ("案例一 志愿服务", None),
        (documents.prose(320), None),
        ("<photo>", None),
        ("图1 志愿服务", "Caption"),
        ("<photo>", None),
        ("图2 志愿服务", None),
    ]
    finding = parse_summary("a.docx", _custom_docx(body))
    assert codes(finding) == []
    assert finding.facts["basic_chars"] == 100
    assert finding.facts["cases"][0]["chars"] == 320


def test_unclear_case_structure_raises_no_length_request():
    body = [
        ("一、基本情况", None),
        (documents.prose(300), None),
        ("二、特色案例", None),
        (documents.prose(900), None),
    ]
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
        fallback = (
            b'<mc:AlternateContent><mc:Choice Requires="wps">'
            + match.group(0)
            + b'</mc:Choice><mc:Fallback><w:pict><v:shape><v:imagedata r:id="rId9"/></v:shape>'
            b"</w:pict></mc:Fallback></mc:AlternateContent>"
        )
        return xml[: match.start()] + fallback + xml[match.end() :]

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
    lines += [documents.prose(30, offset=i * 30) for i in range(4)]
    lines += ["二、特色案例", "案例一：外语志愿服务"]
    lines += [documents.prose(35, offset=i * 35) for i in range(10)]
    finding = parse_summary("总结.pdf", scans.text_pdf(lines))
    assert finding.facts["basic_chars"] == 120
    assert finding.facts["unit"] == "外国语学院分党委"
    assert finding.facts["cases"][0]["chars"] == 350
    # the PDF has no photos: the case lacks them
    assert codes(finding) == ["case_photos"]


def _summary(**options):
    cases = options.pop("cases", None)
    return documents.summary_docx(UNIT, cases=cases, **options)


def test_electronic_seal_at_the_sign_off_is_no_case_photo():
    for where in ("before", "between", "after", "anchored"):
        finding = parse_summary("总结.docx", _summary(seal=where))
        assert finding.problems == [], where
        assert [(c["photos"], c["captions"]) for c in finding.facts["cases"]] == [(2, 2), (3, 3)], (
            where
        )


def test_seal_sized_picture_is_kept_when_it_is_a_case_photo_before_a_caption():
    # near miss: a real last photo without caption right above the sign-off is still reported
    cases = [
        {"title": "甲", "chars": 400, "photos": 2, "captions": True},
        {"title": "乙", "chars": 400, "photos": 2, "captions": False},
    ]
    finding = parse_summary("总结.docx", _summary(cases=cases, seal="after"))
    assert codes(finding) == ["photo_caption_missing", "photo_caption_missing"]
    assert finding.facts["cases"][1]["photos"] == 2


def test_picture_in_the_basic_part_needs_no_caption():
    finding = parse_summary("总结.docx", _summary(basic_photo=True))
    assert finding.problems == []
    assert [c["photos"] for c in finding.facts["cases"]] == [2, 3]


def test_two_photos_side_by_side_under_one_caption():
    for layout in ("side_by_side", "table"):
        cases = [
            {"title": "甲", "chars": 420, "photos": 2, "captions": True, "layout": layout},
            {"title": "乙", "chars": 380, "photos": 3, "captions": True, "layout": layout},
        ]
        finding = parse_summary("总结.docx", _summary(cases=cases))
        assert finding.problems == [], layout
        assert [(c["photos"], c["captions"]) for c in finding.facts["cases"]] == [(2, 2), (3, 3)], (
            layout
        )
        assert count_zi(finding.facts["cases"][0]["text"]) == 420, layout
    # near miss: the same pair with no caption at all is still reported, both photos
    cases = [
        {"title": "甲", "chars": 420, "photos": 2, "captions": False, "layout": "side_by_side"}
    ]
    finding = parse_summary("总结.docx", _summary(cases=cases))
    assert codes(finding) == ["photo_caption_missing", "photo_caption_missing"]


def test_one_caption_under_two_separate_photo_paragraphs_still_misses_one():
    body = [
        ("一、基本情况", None),
        (documents.prose(300), None),
        ("二、特色案例", None),
        ("案例一：志愿服务", None),
        (documents.prose(350), None),
        ("<photo>", None),
        ("<photo>", None),
        ("图为党员志愿服务", None),
    ]
    finding = parse_summary("a.docx", _custom_docx(body))
    assert codes(finding) == ["photo_caption_missing"]


def test_floating_pictures_are_photos():
    cases = [{"title": "甲", "chars": 420, "photos": 2, "captions": True, "layout": "floating"}]
    data = _summary(cases=cases)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("word/document.xml").count(b"<wp:anchor") == 2
    finding = parse_summary("总结.docx", data)
    assert finding.problems == []
    assert [(c["photos"], c["captions"], c["chars"]) for c in finding.facts["cases"]] == [
        (2, 2, 420)
    ]
    # near miss: floating photos without captions are still photos without captions
    cases[0]["captions"] = False
    assert codes(parse_summary("总结.docx", _summary(cases=cases))) == ["photo_caption_missing"] * 2


def test_caption_above_the_photo_is_accepted():
    cases = [
        {"title": "甲", "chars": 420, "photos": 2, "captions": True, "layout": "caption_above"},
        {"title": "乙", "chars": 380, "photos": 3, "captions": True, "layout": "caption_above"},
    ]
    finding = parse_summary("总结.docx", _summary(cases=cases))
    assert finding.problems == []
    assert [(c["photos"], c["captions"]) for c in finding.facts["cases"]] == [(2, 2), (3, 3)]


def test_text_boxes_are_not_photos():
    textbox = (
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor distT="0" '
        'distB="0" '
        'distL="114300" distR="114300" simplePos="0" relativeHeight="2" behindDoc="0" locked="0" '
        'layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/><wp:positionH '
        'relativeFrom="column">'
        '<wp:posOffset>0</wp:posOffset></wp:positionH><wp:positionV relativeFrom="paragraph">'
        "<wp:posOffset>0"
        '</wp:posOffset></wp:positionV><wp:extent cx="1800000" cy="360000"/><wp:wrapNone/>'
        '<wp:docPr id="90" name="文本框 90"/><a:graphic '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData '
        'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
        '<wps:cNvSpPr txBox="1"/>'
        '<wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1800000" cy="360000"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></wps:spPr><wps:txbx><w:txbxContent><w:p>'
        "<w:r>"
        "<w:t>活动掠影</w:t></w:r></w:p></w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData>"
        "</a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape "
        'type="#_x0000_t202" '
        'style="position:absolute;width:141.75pt;height:28.35pt"><v:textbox><w:txbxContent><w:p><w:r>'
        "<w:t>活动掠影</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    ).encode()
    vml_only = (
        '<w:r><w:pict><v:shape type="#_x0000_t202" style="position:absolute;width:100pt;'
        'height:30pt">'
        "<v:textbox><w:txbxContent><w:p><w:r><w:t>说明</w:t></w:r></w:p></w:txbxContent></v:textbox>"
        "</v:shape></w:pict></w:r>"
    ).encode()

    def add_boxes(xml):  # both in the paragraph of the first case's heading
        first = xml.index(b"</w:p>", xml.index("案例一".encode()))
        return xml[:first] + textbox + vml_only + xml[first:]

    finding = parse_summary("总结.docx", _patch_document(build(), add_boxes))
    assert finding.problems == []
    assert [c["photos"] for c in finding.facts["cases"]] == [2, 3]
