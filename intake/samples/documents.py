"""Builders of realistic sample materials as bytes, for the tests and the demo.

The summary is a real .docx with real PNG photos, the table a real .xlsx laid out like the
department's template, the roster a real workbook. Scans live in ``intake.samples.scans`` and
archives in ``intake.samples.archives``.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from datetime import datetime

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Inches
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from PIL import Image, ImageDraw

from parsers.rules import DEFAULT_RULES
from parsers.wordcount import count_zi

from .scans import draw_seal

__all__ = [
    "electronic_seal_png",
    "photo_png",
    "prose",
    "roster_xlsx",
    "sample_rows",
    "summary_docx",
    "table_xls",
    "table_xlsx",
    "workbook_xlsx",
]

_PROSE = (
    "本年度分党委坚持以习近平新时代中国特色社会主义思想为指导，深入学习贯彻党的十九届六中全会精神，"
    "扎实推进基层党组织活动方案立项工作。各党支部紧扣学校中心工作，结合师生实际，精心设计活动方案，"
    "做到组织有力、内容充实、形式多样、成效明显。分党委成立立项工作领导小组，书记亲自部署，"
    "委员分工联系支部，定期听取进展汇报，及时协调解决困难问题。教工党支部聚焦教学科研和人才培养，"
    "把党建工作与业务工作同谋划、同部署、同推进；学生党支部围绕理想信念教育和志愿服务，"
    "引导党员在学习生活中发挥先锋模范作用。全年共开展主题党日、专题学习、实践调研等活动，"
    "党员参与率明显提高，支部凝聚力和战斗力不断增强，形成了一批可复制、可推广的工作经验。"
    "在总结成绩的同时，我们也清醒认识到，部分支部活动创新不足，成果转化还不够充分，"
    "下一步将加强分类指导和过程管理，推动支部建设质量持续提升。"
)
_ORDINALS = "一二三四五六七八九十"
_CAPTIONS = (
    "支部党员开展志愿服务",
    "支部召开专题学习研讨会",
    "党员走进社区宣讲政策",
    "师生党员共建实践基地",
)
_DEFAULT_CASES = (
    {"title": "党建引领志愿服务进社区", "chars": 420, "photos": 2, "captions": True},
    {"title": "理论学习与专业实践深度融合", "chars": 380, "photos": 3, "captions": True},
)
_TABLE_TITLE = "2022年基层党组织活动方案立项结果汇总表"
_TABLE_HEADER = (
    "序号",
    "党支部名称",
    "支部类型",
    "支部书记",
    "立项方案名称",
    "立项等级",
    "经费预算（元）",
)
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = ("建国", "晓明", "丽华", "志强", "海燕", "文博", "静怡", "子涵", "国栋", "雪梅")
_PLAN_THEMES = (
    "红色基因传承",
    "学思践悟",
    "党员先锋岗",
    "志愿服务进社区",
    "师生共建",
    "科研攻关党员突击队",
    "理论宣讲",
    "乡村振兴调研",
    "安全生产示范",
    "书香支部",
)


_FIXED_TIME = datetime(2022, 3, 25, 9, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _fixed_zip_times(data: bytes) -> bytes:
    """The same Office file with fixed member times, so a sample is the same bytes every time."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "docProps/core.xml":
                body = _MODIFIED.sub(rb"\g<1>2022-03-25T09:00:00Z\g<2>", body)
            target.writestr(
                zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6]),
                body,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return out.getvalue()


def prose(chars: int, *, offset: int = 0) -> str:
    """Chinese prose of exactly ``chars`` 字 (CJK and full-width punctuation only), ending in 。."""
    if chars <= 0:
        return ""
    text = ""
    while len(text) < chars + offset:
        text += _PROSE
    text = text[offset : offset + chars - 1]
    if text and text[-1] in "，。；、：":
        text = text[:-1] + "党"
    text += "。"
    assert count_zi(text) == chars
    return text


def _split(text: str, parts: int) -> list[str]:
    """Cut ``text`` into ``parts`` roughly equal pieces (the 字 total is kept)."""
    parts = max(1, parts)
    size = -(-len(text) // parts)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def photo_png(index: int = 0, size: tuple[int, int] = (320, 220)) -> bytes:
    """A small real PNG photo (sky, ground, a few figures) made with Pillow."""
    rng = random.Random(index)
    img = Image.new("RGB", size, (120 + rng.randrange(80), 170, 230))
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle([0, h * 2 // 3, w, h], fill=(90, 140 + rng.randrange(60), 70))
    for _ in range(5):
        x = rng.randrange(20, w - 20)
        y = h * 2 // 3 - rng.randrange(10)
        colour = (200, 30, 30) if rng.random() < 0.5 else (40, 40, 120)
        draw.ellipse([x - 6, y - 46, x + 6, y - 34], fill=(240, 200, 170))
        draw.rectangle([x - 8, y - 34, x + 8, y], fill=colour)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def summary_docx(
    unit: str,
    *,
    basic_chars: int = 600,
    cases: list[dict] | None = None,
    include_basic: bool = True,
    seal: str | None = None,
    basic_photo: bool = False,
) -> bytes:
    """The 《2021年{unit}开展支部立项工作总结》 as .docx bytes: 基本情况 and 特色案例 with photos.

    A case dict may set ``layout``: "inline" (default: each photo in its own paragraph, its
    caption under it), "caption_above" (the caption over the photo), "floating" (each photo a
    floating wp:anchor picture in the text paragraph before its caption), "side_by_side" (the
    first two photos in one paragraph under one caption "图为…") or "table" (the first two photos
    in one table row, one caption "图1-2 …" under the table). ``seal`` adds an electronic seal
    picture (a red stamp, 4.2 cm square) at the sign-off: "before" the unit name, "between" the
    unit name and the date, "after" the date, or "anchored" floating in the unit-name line.
    ``basic_photo`` puts an uncaptioned photo in the 基本情况 part."""
    cases = [dict(c) for c in (_DEFAULT_CASES if cases is None else cases)]
    doc = Document()
    title = doc.add_paragraph(f"2021年{unit}开展支部立项工作总结", style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if include_basic:
        doc.add_heading("一、基本情况", level=1)
        for piece in _split(prose(basic_chars), 3 if basic_chars > 300 else 1):
            doc.add_paragraph(piece)
        if basic_photo:
            doc.add_paragraph().add_run().add_picture(io.BytesIO(photo_png(99)), width=Inches(3))
    doc.add_heading("二、特色案例" if include_basic else "一、特色案例", level=1)
    figure = 0
    for number, case in enumerate(cases):
        doc.add_heading(
            f"案例{_ORDINALS[number % 10]}：{case.get('title', '支部特色活动')}", level=2
        )
        photos = int(case.get("photos", 2))
        layout = case.get("layout", "inline")
        captions = bool(case.get("captions", True))
        chunks = _split(
            prose(int(case.get("chars", 400)), offset=37 * (number + 1)), max(photos, 1)
        )
        pending = photos
        for chunk in chunks:
            text = doc.add_paragraph(chunk)
            if (
                pending
                and layout in ("side_by_side", "table")
                and pending == photos
                and photos >= 2
            ):
                _add_photo_pair(doc, figure, captions, layout)
                figure, pending = figure + 2, pending - 2
            elif pending:
                figure, pending = figure + 1, pending - 1
                _add_photo(doc, figure, captions, layout, text)
        for _ in range(pending):
            figure += 1
            _add_photo(
                doc, figure, captions, "inline" if layout in ("side_by_side", "table") else layout
            )
    if seal == "before":
        _add_seal(doc.add_paragraph())
    signature = doc.add_paragraph(unit)
    signature.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if seal == "anchored":
        _add_seal(signature, floating=True)
    if seal == "between":
        _add_seal(doc.add_paragraph())
    date = doc.add_paragraph("2022年3月25日")
    date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if seal == "after":
        _add_seal(doc.add_paragraph())
    doc.core_properties.created = doc.core_properties.modified = _FIXED_TIME
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip_times(buf.getvalue())


def _add_photo(
    doc, figure: int, caption: bool, layout: str = "inline", text_paragraph=None
) -> None:
    """Insert one photo, and its 图 caption when ``caption``: an inline photo paragraph with the
    caption under it (or over it for "caption_above"), or for "floating" a floating picture
    anchored in ``text_paragraph`` with the caption paragraph after it."""
    words = f"图{figure} {_CAPTIONS[(figure - 1) % len(_CAPTIONS)]}"
    if caption and layout == "caption_above":
        doc.add_paragraph(words).alignment = WD_ALIGN_PARAGRAPH.CENTER
    if layout == "floating":
        host = text_paragraph if text_paragraph is not None else doc.add_paragraph()
        run = host.add_run()
        run.add_picture(io.BytesIO(photo_png(figure)), width=Inches(3))
        _make_floating(run)
    else:
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run().add_picture(io.BytesIO(photo_png(figure)), width=Inches(3))
    if caption and layout != "caption_above":
        doc.add_paragraph(words).alignment = WD_ALIGN_PARAGRAPH.CENTER


def _add_photo_pair(doc, figure: int, caption: bool, layout: str) -> None:
    """Two photos side by side (in one paragraph, or in the two cells of one table row) under one
    caption for both: "图为…" for a paragraph, "图{n}-{n+1} …" for a table."""
    if layout == "table":
        table = doc.add_table(rows=1, cols=2)
        for cell, index in zip(table.rows[0].cells, (figure + 1, figure + 2), strict=True):
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            cell.paragraphs[0].add_run().add_picture(
                io.BytesIO(photo_png(index)), width=Inches(2.6)
            )
        words = f"图{figure + 1}-{figure + 2} {_CAPTIONS[figure % len(_CAPTIONS)]}"
    else:
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for index in (figure + 1, figure + 2):
            paragraph.add_run().add_picture(io.BytesIO(photo_png(index)), width=Inches(2.6))
            paragraph.add_run("  ")
        words = f"图为{_CAPTIONS[figure % len(_CAPTIONS)]}"
    if caption:
        doc.add_paragraph(words).alignment = WD_ALIGN_PARAGRAPH.CENTER


def electronic_seal_png(size: int = 300) -> bytes:
    """An electronic seal image as units paste it: a red ring, star and arc on transparency."""
    img = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw_seal(ImageDraw.Draw(img), size // 2, size // 2, size / 44)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _add_seal(paragraph, floating: bool = False) -> None:
    """An electronic seal picture (4.2 cm square) in ``paragraph``, inline or floating over it."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = paragraph.add_run()
    run.add_picture(
        io.BytesIO(electronic_seal_png()), width=Inches(4.2 / 2.54), height=Inches(4.2 / 2.54)
    )
    if floating:
        _make_floating(run)


def _make_floating(run) -> None:
    """Turn the inline picture of ``run`` into a floating one (wp:anchor, square wrap), as Word
    writes a picture set to "四周型环绕"."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn

    inline = run._r.find(".//" + qn("wp:inline"))
    extent, docpr, graphic = (inline.find(qn(t)) for t in ("wp:extent", "wp:docPr", "a:graphic"))
    anchor = parse_xml(
        f'<wp:anchor {nsdecls("wp", "a")} distT="0" distB="0" distL="114300" distR="114300" '
        'simplePos="0" relativeHeight="251658240" behindDoc="0" locked="0" layoutInCell="1" '
        'allowOverlap="1"><wp:simplePos x="0" y="0"/>'
        '<wp:positionH relativeFrom="column"><wp:posOffset>1800000</wp:posOffset></wp:positionH>'
        '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        "</wp:anchor>"
    )
    anchor.append(extent)
    anchor.append(parse_xml(f'<wp:effectExtent {nsdecls("wp")} l="0" t="0" r="0" b="0"/>'))
    anchor.append(parse_xml(f'<wp:wrapSquare {nsdecls("wp")} wrapText="bothSides"/>'))
    anchor.append(docpr)
    anchor.append(parse_xml(f"<wp:cNvGraphicFramePr {nsdecls('wp')}/>"))
    anchor.append(graphic)
    inline.getparent().replace(inline, anchor)


def sample_rows(plans: int = 10, best: int | None = None, *, seed: int = 7) -> list[dict]:
    """``plans`` realistic table rows, ``best`` of them graded 最佳 (default: the 30% limit)."""
    rng = random.Random(seed)
    best = DEFAULT_RULES.best_limit(plans) if best is None else best
    rows = []
    for i in range(plans):
        staff = i % 3 == 0
        name = (
            f"教工第{_ORDINALS[i // 3 % 10]}党支部"
            if staff
            else f"{'本科生' if i % 3 == 1 else '研究生'}第{_ORDINALS[i % 10]}党支部"
        )
        if i >= 10:
            name = f"第{i + 1}党支部"
        grade = "最佳" if i < best else ("优秀" if i % 2 else "培育")
        rows.append(
            {
                "branch": name,
                "type": "教工" if staff else "学生",
                "secretary": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
                "plan": f"“{_PLAN_THEMES[i % len(_PLAN_THEMES)]}”主题实践活动",
                "grade": grade,
                "budget": 2000 + 500 * rng.randrange(7),
            }
        )
    return rows


def table_xlsx(
    unit: str,
    rows: list[dict] | None = None,
    *,
    best: int | None = None,
    plans: int = 10,
    header_title: bool = True,
    named_unit: str | None = None,
    index_column: bool = True,
    footer: list[str] | None = None,
    footer_merged: bool = False,
    merges: list[tuple[int, int, str]] = (),
) -> bytes:
    """The 《2022年基层党组织活动方案立项结果汇总表》 as .xlsx bytes, laid out like the template.

    Variants seen in real submissions: ``index_column=False`` leaves out the 序号 column;
    ``footer`` replaces the note lines under the rows (in column A, each merged over the width
    with ``footer_merged``); ``merges`` merges a column vertically, as (first, last, key) with
    0-based indices into ``rows`` and key one of the row keys ("grade", "branch", ...): Excel
    keeps the value of the first row only."""
    rows = sample_rows(plans, best) if rows is None else rows
    keys = ("index", "branch", "type", "secretary", "plan", "grade", "budget")
    if not index_column:
        keys = keys[1:]
    header = _TABLE_HEADER[len(_TABLE_HEADER) - len(keys) :]
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总表"
    line = 1
    if header_title:
        ws.cell(1, 1, _TABLE_TITLE).font = Font(size=16, bold=True)
        ws.cell(1, 1).alignment = Alignment(horizontal="center")
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        line = 2
    ws.cell(line, 1, f"填报单位：{named_unit or unit}")
    ws.merge_cells(start_row=line, start_column=1, end_row=line, end_column=4)
    ws.cell(line, 5, "填报日期：2022年3月28日")
    line += 1
    for col, name in enumerate(header, start=1):
        ws.cell(line, col, name).font = Font(bold=True)
    first_data = line + 1
    for number, row in enumerate(rows, start=1):
        line += 1
        for col, key in enumerate(keys, start=1):
            ws.cell(line, col, number if key == "index" else row.get(key))
    for first, last, key in merges:
        col = keys.index(key) + 1
        for r in range(first_data + first + 1, first_data + last + 1):
            ws.cell(r, col).value = None
        ws.merge_cells(
            start_row=first_data + first,
            start_column=col,
            end_row=first_data + last,
            end_column=col,
        )
    if footer is None:
        footer = [
            "备注：立项等级分为最佳、优秀、培育三类，最佳方案原则上不超过30%。",
            "填表人：王晓明    联系电话：",
        ]
    for offset, text in enumerate(footer, start=1):
        ws.cell(line + offset, 1, text)
        if footer_merged:
            ws.merge_cells(
                start_row=line + offset,
                start_column=1,
                end_row=line + offset,
                end_column=len(header),
            )
    widths = (6, 24, 10, 10, 36, 10, 14)[len(_TABLE_HEADER) - len(keys) :]
    for col, width in zip("ABCDEFG", widths, strict=False):  # as many columns as widths
        ws.column_dimensions[col].width = width
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip_times(buf.getvalue())


def table_xls(
    unit: str,
    rows: list[dict] | None = None,
    *,
    best: int | None = None,
    plans: int = 10,
    named_unit: str | None = None,
) -> bytes:
    """The results table as a BIFF8 .xls (as Excel 2003 or WPS write it): title merged over the
    columns, a 填报单位 row, the header, the rows, a note; budgets stored as text."""
    import xlwt

    rows = sample_rows(plans, best) if rows is None else rows
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("汇总表")
    sheet.write_merge(0, 0, 0, len(_TABLE_HEADER) - 1, _TABLE_TITLE)
    sheet.write_merge(1, 1, 0, 3, f"填报单位：{named_unit or unit}")
    sheet.write(1, 4, "填报日期：2022年3月28日")
    for col, name in enumerate(_TABLE_HEADER):
        sheet.write(2, col, name)
    for number, row in enumerate(rows, start=1):
        values = (
            number,
            row.get("branch"),
            row.get("type"),
            row.get("secretary"),
            row.get("plan"),
            row.get("grade"),
            str(row.get("budget")),
        )
        for col, value in enumerate(values):
            sheet.write(2 + number, col, value)
    sheet.write(3 + len(rows), 0, "备注：立项等级分为最佳、优秀、培育三类。")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def workbook_xlsx(rows: list[list]) -> bytes:
    """A plain one-sheet workbook of ``rows``, for tables laid out by hand."""
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def roster_xlsx(branches: list[tuple] | None = None, *, title: bool = True) -> bytes:
    """A branch roster workbook: rows of (分党委, 党支部, 类型, 毕业年级, 样板支部), 是/否 flags as
    text or bools. The default holds the ten branches of ``sample_rows()`` under
    机械工程与自动化学院分党委 plus a graduating branch, and two branches of another unit."""
    if branches is None:
        unit = "机械工程与自动化学院分党委"
        branches = [
            (unit, row["branch"], row["type"], False, i == 0)
            for i, row in enumerate(sample_rows(10))
        ]
        branches += [
            (unit, "2018级本科生党支部", "学生", True, False),
            ("计算机学院分党委", "教工第一党支部", "教工", False, True),
            ("计算机学院分党委", "研究生第一党支部", "学生", False, False),
        ]
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append(["党支部名册（2022年）"])
    ws.append(["分党委", "党支部", "类型", "毕业年级", "样板支部"])
    for unit, name, kind, graduating, model in branches:
        flags = ["是" if v is True else "否" if v is False else v for v in (graduating, model)]
        ws.append([unit, name, kind, *flags])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
