"""Builders of realistic sample materials as bytes, for the tests and the demo.

The summary is a real .docx with real PNG photos, the table a real .xlsx laid out like the
department's template, the scans real image-only PDFs or JPG/PNG pages with a red seal ring.
No CJK font is installed with the project, so the scanned pages draw strokes standing for text:
the layout (portrait prose, landscape grid, seal) is what matters, not readability.
"""

from __future__ import annotations

import io
import re
import random
import zipfile
import zlib
from datetime import datetime

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Inches
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from PIL import Image, ImageDraw

from parsers.wordcount import count_zi

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
_CAPTIONS = ("支部党员开展志愿服务", "支部召开专题学习研讨会", "党员走进社区宣讲政策", "师生党员共建实践基地")
_DEFAULT_CASES = (
    {"title": "党建引领志愿服务进社区", "chars": 420, "photos": 2, "captions": True},
    {"title": "理论学习与专业实践深度融合", "chars": 380, "photos": 3, "captions": True},
)
_TABLE_TITLE = "2022年基层党组织活动方案立项结果汇总表"
_TABLE_HEADER = ("序号", "党支部名称", "支部类型", "支部书记", "立项方案名称", "立项等级", "经费预算（元）")
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = ("建国", "晓明", "丽华", "志强", "海燕", "文博", "静怡", "子涵", "国栋", "雪梅")
_PLAN_THEMES = ("红色基因传承", "学思践悟", "党员先锋岗", "志愿服务进社区", "师生共建",
                "科研攻关党员突击队", "理论宣讲", "乡村振兴调研", "安全生产示范", "书香支部")


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
            target.writestr(zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6]), body,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def prose(chars: int, *, offset: int = 0) -> str:
    """Chinese prose of exactly ``chars`` 字 (CJK and full-width punctuation only), ending in 。."""
    if chars <= 0:
        return ""
    text = ""
    while len(text) < chars + offset:
        text += _PROSE
    text = text[offset:offset + chars - 1]
    if text and text[-1] in "，。；、：":
        text = text[:-1] + "党"
    text += "。"
    assert count_zi(text) == chars
    return text


def _split(text: str, parts: int) -> list[str]:
    """Cut ``text`` into ``parts`` roughly equal pieces (the 字 total is kept)."""
    parts = max(1, parts)
    size = -(-len(text) // parts)
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


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


def summary_docx(unit: str, *, basic_chars: int = 600, cases: list[dict] | None = None,
                 include_basic: bool = True, seal: str | None = None, basic_photo: bool = False) -> bytes:
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
        doc.add_heading(f"案例{_ORDINALS[number % 10]}：{case.get('title', '支部特色活动')}", level=2)
        photos = int(case.get("photos", 2))
        layout = case.get("layout", "inline")
        captions = bool(case.get("captions", True))
        chunks = _split(prose(int(case.get("chars", 400)), offset=37 * (number + 1)), max(photos, 1))
        pending = photos
        for i, chunk in enumerate(chunks):
            text = doc.add_paragraph(chunk)
            if pending and layout in ("side_by_side", "table") and pending == photos and photos >= 2:
                _add_photo_pair(doc, figure, captions, layout)
                figure, pending = figure + 2, pending - 2
            elif pending:
                figure, pending = figure + 1, pending - 1
                _add_photo(doc, figure, captions, layout, text)
        for _ in range(pending):
            figure += 1
            _add_photo(doc, figure, captions, "inline" if layout in ("side_by_side", "table") else layout)
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


def _add_photo(doc, figure: int, caption: bool, layout: str = "inline", text_paragraph=None) -> None:
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
        for cell, index in zip(table.rows[0].cells, (figure + 1, figure + 2)):
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            cell.paragraphs[0].add_run().add_picture(io.BytesIO(photo_png(index)), width=Inches(2.6))
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
    _seal(ImageDraw.Draw(img), size // 2, size // 2, size / 44)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _add_seal(paragraph, floating: bool = False) -> None:
    """An electronic seal picture (4.2 cm square) in ``paragraph``, inline or floating over it."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = paragraph.add_run()
    run.add_picture(io.BytesIO(electronic_seal_png()), width=Inches(4.2 / 2.54), height=Inches(4.2 / 2.54))
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
        f'<wp:anchor {nsdecls("wp", "a")} distT="0" distB="0" distL="114300" distR="114300" simplePos="0" '
        'relativeHeight="251658240" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>1800000</wp:posOffset>'
        '</wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '</wp:anchor>')
    anchor.append(extent)
    anchor.append(parse_xml(f'<wp:effectExtent {nsdecls("wp")} l="0" t="0" r="0" b="0"/>'))
    anchor.append(parse_xml(f'<wp:wrapSquare {nsdecls("wp")} wrapText="bothSides"/>'))
    anchor.append(docpr)
    anchor.append(parse_xml(f'<wp:cNvGraphicFramePr {nsdecls("wp")}/>'))
    anchor.append(graphic)
    inline.getparent().replace(inline, anchor)


def best_limit(plans: int) -> int:
    """round-half-up(30% of ``plans``), at least 1: the most 最佳 a table may hold."""
    return max(1, (3 * plans + 5) // 10)


def sample_rows(plans: int = 10, best: int | None = None, *, seed: int = 7) -> list[dict]:
    """``plans`` realistic table rows, ``best`` of them graded 最佳 (default: the 30% limit)."""
    rng = random.Random(seed)
    best = best_limit(plans) if best is None else best
    rows = []
    for i in range(plans):
        staff = i % 3 == 0
        name = f"教工第{_ORDINALS[i // 3 % 10]}党支部" if staff else f"{'本科生' if i % 3 == 1 else '研究生'}第{_ORDINALS[i % 10]}党支部"
        if i >= 10:
            name = f"第{i + 1}党支部"
        grade = "最佳" if i < best else ("优秀" if i % 2 else "培育")
        rows.append({
            "branch": name,
            "type": "教工" if staff else "学生",
            "secretary": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
            "plan": f"“{_PLAN_THEMES[i % len(_PLAN_THEMES)]}”主题实践活动",
            "grade": grade,
            "budget": 2000 + 500 * rng.randrange(7),
        })
    return rows


def table_xlsx(unit: str, rows: list[dict] | None = None, *, best: int | None = None,
               plans: int = 10, header_title: bool = True, named_unit: str | None = None,
               index_column: bool = True, footer: list[str] | None = None, footer_merged: bool = False,
               merges: list[tuple[int, int, str]] = ()) -> bytes:
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
    header = _TABLE_HEADER[len(_TABLE_HEADER) - len(keys):]
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
        ws.merge_cells(start_row=first_data + first, start_column=col, end_row=first_data + last, end_column=col)
    if footer is None:
        footer = ["备注：立项等级分为最佳、优秀、培育三类，最佳方案原则上不超过30%。", "填表人：王晓明    联系电话："]
    for offset, text in enumerate(footer, start=1):
        ws.cell(line + offset, 1, text)
        if footer_merged:
            ws.merge_cells(start_row=line + offset, start_column=1, end_row=line + offset, end_column=len(header))
    for col, width in zip("ABCDEFG", (6, 24, 10, 10, 36, 10, 14)[len(_TABLE_HEADER) - len(keys):]):
        ws.column_dimensions[col].width = width
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip_times(buf.getvalue())


def _fake_text(draw: ImageDraw.ImageDraw, rng: random.Random, x: int, y: int, width: int, em: int) -> None:
    """Strokes standing for a line of Chinese characters of height ``em`` from (x, y)."""
    cx = x
    while cx + em <= x + width:
        for _ in range(rng.randrange(2, 5)):
            if rng.random() < 0.5:
                yy = y + rng.randrange(em)
                draw.line([cx + 1, yy, cx + em - 2, yy], fill=(35, 35, 35), width=1)
            else:
                xx = cx + rng.randrange(em)
                draw.line([xx, y + 1, xx, y + em - 2], fill=(35, 35, 35), width=1)
        cx += em + max(1, em // 6)


def _fake_text_colour(draw: ImageDraw.ImageDraw, rng: random.Random, x: int, y: int, width: int, em: int,
                      colour: tuple[int, int, int]) -> None:
    """Thick strokes in ``colour`` standing for a line of large characters (a red header)."""
    cx = x
    while cx + em <= x + width:
        for _ in range(3):
            yy = y + rng.randrange(em)
            draw.line([cx + 1, yy, cx + em - 2, yy], fill=colour, width=max(2, em // 8))
        xx = cx + rng.randrange(em)
        draw.line([xx, y + 1, xx, y + em - 2], fill=colour, width=max(2, em // 8))
        cx += em + max(1, em // 6)


def _seal(draw: ImageDraw.ImageDraw, cx: int, cy: int, px_per_mm: float) -> None:
    """A red round official seal (42 mm): ring, star, and strokes for the arc of text."""
    red = (215, 30, 35)
    r = int(21 * px_per_mm)
    ring = max(2, int(1.2 * px_per_mm))
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=red, width=ring)
    s = int(5 * px_per_mm)
    draw.polygon([(cx, cy - s), (cx + s * 0.3, cy - s * 0.3), (cx + s, cy - s * 0.3),
                  (cx + s * 0.45, cy + s * 0.15), (cx + s * 0.6, cy + s * 0.9), (cx, cy + s * 0.45),
                  (cx - s * 0.6, cy + s * 0.9), (cx - s * 0.45, cy + s * 0.15), (cx - s, cy - s * 0.3),
                  (cx - s * 0.3, cy - s * 0.3)], fill=red)
    inner = r - ring - int(5 * px_per_mm)
    draw.arc([cx - inner, cy - inner, cx + inner, cy + inner], 150, 390, fill=red, width=max(2, int(2.5 * px_per_mm)))


def scan_page(kind: str, unit: str, *, seal: bool = True, dpi: int = 100, page: int = 0,
              signature: bool = False, red_header: bool = False, red_marks: bool = False) -> Image.Image:
    """One scanned page as a Pillow image: portrait prose for summaries, landscape grid for tables.

    ``red_header`` prints a red document header (红头: a red title and a red rule), ``red_marks``
    adds red pen ticks, a red underline and a red flag-like block, all of which are no seal."""
    landscape = kind == "table_scan"
    w_mm, h_mm = (297, 210) if landscape else (210, 297)
    ppm = dpi / 25.4
    img = Image.new("RGB", (int(w_mm * ppm), int(h_mm * ppm)), (250, 250, 247))
    draw = ImageDraw.Draw(img)
    rng = random.Random(zlib.crc32(f"{kind}/{unit}/{page}".encode()))
    em = max(6, int(4.2 * ppm))
    margin = int(25 * ppm)
    width = img.width - 2 * margin
    _fake_text(draw, rng, margin + width // 4, margin, width // 2, int(em * 1.4))
    if landscape:
        top, rows, cols = margin + 3 * em, 12, (0.06, 0.2, 0.08, 0.08, 0.34, 0.1, 0.14)
        row_h = int(8 * ppm)
        xs = [margin]
        for frac in cols:
            xs.append(xs[-1] + int(frac * width))
        for i in range(rows + 1):
            draw.line([margin, top + i * row_h, xs[-1], top + i * row_h], fill=(20, 20, 20), width=2)
        for x in xs:
            draw.line([x, top, x, top + rows * row_h], fill=(20, 20, 20), width=2)
        for i in range(rows):
            for a, b in zip(xs, xs[1:]):
                _fake_text(draw, rng, a + em // 2, top + i * row_h + (row_h - em) // 2, (b - a) * 2 // 3, em)
        seal_at = (img.width - margin - int(40 * ppm), img.height - margin - int(15 * ppm))
    else:
        y = margin + 3 * em
        while y < img.height - margin - 6 * em:
            indent = 2 * em if rng.random() < 0.2 else 0
            _fake_text(draw, rng, margin + indent, y, width - indent - rng.randrange(3) * em, em)
            y += int(em * 1.8)
        seal_at = (img.width - margin - int(35 * ppm), img.height - margin - int(10 * ppm))
    _fake_text(draw, rng, seal_at[0] - int(25 * ppm), seal_at[1] - em, int(50 * ppm), em)
    if signature:
        points = [(margin + int(20 * ppm) + i * 6, img.height - margin - int(20 * ppm) + rng.randrange(-12, 12))
                  for i in range(20)]
        draw.line(points, fill=(30, 50, 190), width=3)
    if red_header:
        _fake_text_colour(draw, rng, margin + width // 6, margin // 3, width * 2 // 3, int(em * 2.2), (210, 25, 30))
        draw.line([margin, margin + 2 * em, img.width - margin, margin + 2 * em], fill=(210, 25, 30), width=max(2, em // 4))
    if red_marks:
        draw.line([margin, img.height // 2, margin + width // 2, img.height // 2], fill=(220, 40, 40), width=3)
        for i in range(6):
            x, y = margin + int(30 * ppm) * i, img.height // 3
            draw.line([x, y, x + 8, y + 12, x + 30, y - 20], fill=(220, 40, 40), width=3)
        draw.rectangle([img.width - margin - int(30 * ppm), img.height // 4, img.width - margin,
                        img.height // 4 + int(20 * ppm)], fill=(225, 30, 30))
    if seal:
        _seal(draw, seal_at[0], seal_at[1], ppm)
    grain = Image.frombytes("L", img.size, rng.randbytes(img.width * img.height)).convert("RGB")
    return Image.blend(img, grain, 0.06)


def scan_pdf(kind: str, unit: str, *, seal: bool = True, pages: int = 1, dpi: int = 100,
             signature: bool = False, seal_page: int | None = None, **marks: bool) -> bytes:
    """An image-only PDF of ``pages`` scanned pages (kind "summary_scan" or "table_scan"); ``marks``
    are scan_page's red_header/red_marks. The seal is on the last page, as on a stamped document,
    or on page ``seal_page`` (0-based) when given."""
    at = pages - 1 if seal_page is None else seal_page
    images = [scan_page(kind, unit, seal=seal and i == at, dpi=dpi, page=i, signature=signature, **marks)
              for i in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=dpi, save_all=True, append_images=images[1:],
                   creationDate=_FIXED_TIME.timetuple(), modDate=_FIXED_TIME.timetuple())
    return buf.getvalue()


def scan_image(kind: str, unit: str, *, seal: bool = True, fmt: str = "JPEG", dpi: int = 100,
               signature: bool = False) -> bytes:
    """One scanned page as JPEG or PNG bytes."""
    buf = io.BytesIO()
    scan_page(kind, unit, seal=seal, dpi=dpi, signature=signature).save(buf, fmt, dpi=(dpi, dpi))
    return buf.getvalue()


def text_pdf(text_lines: list[str]) -> bytes:
    """A born-digital text PDF, one A4 page per 40 lines (CJK through the standard STSong font)."""
    pages = [text_lines[i:i + 40] for i in range(0, len(text_lines), 40)] or [[]]
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages (filled in last)
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")  # 3
    objects.append(b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
                   b"/DescendantFonts [5 0 R] >>")  # 4
    objects.append(b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
                   b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
                   b"/FontDescriptor 6 0 R /DW 1000 >>")  # 5
    objects.append(b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
                   b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")  # 6
    kids = []
    for lines in pages:
        ops = []
        for i, line in enumerate(lines):
            y = 800 - 18 * i
            if line.isascii():
                esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(f"BT /F1 11 Tf 60 {y} Td ({esc}) Tj ET")
            else:
                ops.append(f"BT /F2 11 Tf 60 {y} Td <{line.encode('utf-16-be').hex()}> Tj ET")
        stream = zlib.compress("\n".join(ops).encode("ascii"))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % content)
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def zip_archive(members: list[tuple[str, bytes]], *, encoding: str = "utf-8", utf8_flag: bool = True) -> bytes:
    """A .zip of ``members``; with encoding "gbk" the names are stored in GBK without the
    UTF-8 flag, as the archivers of Chinese Windows write them (``utf8_flag=False`` stores
    UTF-8 names without the flag, as some macOS tools do)."""
    if encoding.lower().replace("-", "") == "utf8" and utf8_flag:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in members:
                archive.writestr(name, content)
        return buf.getvalue()
    # zipfile always writes non-ASCII names as flagged UTF-8: write unique ASCII stand-ins of
    # the same byte length, then put the encoded names in their place in both headers.
    encoded = [name.encode(encoding) for name, _ in members]
    stand_ins = [(b"%05d" % i + b"_" * len(raw))[:len(raw)] if len(raw) >= 5 else None
                 for i, raw in enumerate(encoded)]
    if any(s is None for s in stand_ins):
        raise ValueError("names must be at least 5 bytes long in the target encoding")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for stand_in, (_, content) in zip(stand_ins, members):
            archive.writestr(stand_in.decode("ascii"), content)
    out = buf.getvalue()
    for stand_in, raw in zip(stand_ins, encoded):
        assert out.count(stand_in) == 2, "stand-in name must be unique"
        out = out.replace(stand_in, raw)
    return out


def table_xls(unit: str, rows: list[dict] | None = None, *, best: int | None = None, plans: int = 10,
              named_unit: str | None = None) -> bytes:
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
        values = (number, row.get("branch"), row.get("type"), row.get("secretary"), row.get("plan"),
                  row.get("grade"), str(row.get("budget")))
        for col, value in enumerate(values):
            sheet.write(2 + number, col, value)
    sheet.write(3 + len(rows), 0, "备注：立项等级分为最佳、优秀、培育三类。")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def roster_xlsx(branches: list[tuple] | None = None, *, title: bool = True) -> bytes:
    """A branch roster workbook: rows of (分党委, 党支部, 类型, 毕业年级, 样板支部), 是/否 flags as
    text or bools. The default holds the ten branches of ``sample_rows()`` under 机械工程与自动化学院分党委
    plus a graduating branch, and two branches of another unit."""
    if branches is None:
        unit = "机械工程与自动化学院分党委"
        branches = [(unit, row["branch"], row["type"], False, i == 0) for i, row in enumerate(sample_rows(10))]
        branches += [(unit, "2018级本科生党支部", "学生", True, False),
                     ("计算机学院分党委", "教工第一党支部", "教工", False, True),
                     ("计算机学院分党委", "研究生第一党支部", "学生", False, False)]
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


def rar_archive(members: list[tuple[str, bytes]], *, encoding: str = "utf-8") -> bytes:
    """A RAR 4 archive of stored (uncompressed) ``members``, written by hand (no RAR writer is free
    software). UTF-8 names carry the Unicode flag; ``encoding="gbk"`` stores them without it, as
    old WinRAR on Chinese Windows did."""
    def block(head_type: int, flags: int, body: bytes) -> bytes:
        header = bytes([head_type]) + flags.to_bytes(2, "little") + (len(body) + 7).to_bytes(2, "little") + body
        return (zlib.crc32(header) & 0xFFFF).to_bytes(2, "little") + header

    out = [b"Rar!\x1a\x07\x00", block(0x73, 0, b"\0" * 6)]
    dos_time = ((2022 - 1980) << 25) | (3 << 21) | (25 << 16) | (9 << 11)
    for name, content in members:
        raw = name.replace("/", "\\").encode(encoding)
        unicode_flag = 0x200 if encoding.lower().replace("-", "") == "utf8" and not name.isascii() else 0
        body = (len(content).to_bytes(4, "little") * 2 + b"\x02" + zlib.crc32(content).to_bytes(4, "little")
                + dos_time.to_bytes(4, "little") + b"\x14\x30" + len(raw).to_bytes(2, "little")
                + (0x20).to_bytes(4, "little") + raw)
        out.append(block(0x74, 0x8000 | unicode_flag, body) + content)
    out.append(block(0x7B, 0x4000, b""))
    return b"".join(out)


def sevenzip_archive(members: list[tuple[str, bytes]]) -> bytes:
    """A .7z archive of ``members`` (LZMA2, names in UTF-16 as 7-Zip stores them)."""
    import py7zr

    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        for name, content in members:
            archive.writestr(content, name)
    return buf.getvalue()
