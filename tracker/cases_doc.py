"""The featured cases (特色案例) of every unit's summary, compiled into one Word document.

The case titles and texts come from the parser's facts; the photos and their captions are
read again from the stored .docx (the bytes come through ``read_attachment(sha256)``, passed in
by the caller, since ``tracker`` does not know where ``intake`` stores files), in document
order: each case owns the photos between its heading and the next case's heading.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from parsers.text_safety import shown, shown_line

from . import records, standing

TITLE = "2021年基层党组织活动方案立项工作特色案例汇编"
_CAPTION = re.compile(r"^\s*(?:[（(]?\s*图\s*[\d一二三四五六七八九十]|图\s*[：:]|照片)")
_NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "v": "urn:schemas-microsoft-com:vml",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
}


@dataclass
class Photo:
    """One photo of a case: the image bytes and its caption ('' when none was found)."""

    data: bytes
    caption: str = ""


@dataclass
class Case:
    """One featured case as it goes into the compiled document."""

    unit: str
    title: str
    text: str
    photos: list[Photo] = field(default_factory=list)
    note: str = ""
    corrections: list[str] = field(default_factory=list)


def collect_cases(
    session: Session, read_attachment: Callable[[str], bytes]
) -> tuple[list[Case], list[str]]:
    """The cases of every unit in configuration order, and the units that sent no readable cases."""
    cases: list[Case] = []
    without: list[str] = []
    for unit in records.all_subcommittees(session):
        overrides = standing.overrides_for(session, unit.id)
        summaries = [
            v
            for v in records.unit_versions(session, unit.id)
            if v.item == "summary" and (v.facts or {}).get("cases")
        ]
        if not summaries:
            without.append(unit.name)
            continue
        version = summaries[-1]
        facts_cases = version.facts["cases"]
        photos, note = _photos_of(version.filename, version.sha256, facts_cases, read_attachment)
        for number, found in enumerate(facts_cases):
            cases.append(
                Case(
                    unit=unit.name,
                    title=found.get("title") or f"案例{number + 1}",
                    text=found.get("text") or "",
                    photos=photos[number],
                    note=note,
                    corrections=case_corrections(
                        overrides.version(version).problems, found.get("title") or ""
                    ),
                )
            )
    return cases, without


def case_corrections(problems: list[dict] | None, title: str) -> list[str]:
    """The sentences of the summary's problems that name this case (“title”)."""
    if not title:
        return []
    return [p["message"] for p in problems or [] if f"“{title}”" in p.get("message", "")]


def _photos_of(
    filename: str, sha256: str, facts_cases: list[dict], read_attachment: Callable[[str], bytes]
) -> tuple[list[list[Photo]], str]:
    empty: list[list[Photo]] = [[] for _ in facts_cases]
    if not filename.lower().endswith(".docx"):
        return empty, "（原文不是 .docx 文档，照片未能提取，请查看原件。）"
    try:
        blocks = docx_blocks(read_attachment(sha256))
    except Exception:  # noqa: BLE001 - a missing or broken file: the text is still worth having
        return empty, "（原文件无法读取，照片未能提取，请查看原件。）"
    return split_photos(blocks, [c.get("title") or "" for c in facts_cases]), ""


def docx_blocks(data: bytes) -> list[tuple[str, list[bytes], bool]]:
    """The paragraphs of a .docx in document order as (text, image bytes, centred)."""
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = document.part.related_parts
    blocks = []
    # Not the paragraphs inside text boxes, and not the mc:Fallback twin of a picture.
    for paragraph in _xpath(document.element.body, ".//w:p[not(ancestor::w:txbxContent)]"):
        text = "".join(
            t.text or "" for t in _xpath(paragraph, ".//w:t[not(ancestor::w:txbxContent)]")
        ).strip()
        images = []
        for rid in _xpath(
            paragraph,
            ".//a:blip[not(ancestor::mc:Fallback)]/@r:embed"
            " | .//v:imagedata[not(ancestor::mc:Fallback)]/@r:id",
        ):
            part = parts.get(rid)
            if part is not None and getattr(part, "blob", None):
                images.append(part.blob)
        centred = _xpath(paragraph, "string(./w:pPr/w:jc/@w:val)") == "center"
        blocks.append((text, images, centred))
    return blocks


def _xpath(element, expression: str):  # noqa: ANN001, ANN202 - lxml element and result
    """XPath with this module's namespaces (python-docx's own map lacks v:)."""
    from lxml import etree

    return etree._Element.xpath(element, expression, namespaces=_NS)


def split_photos(
    blocks: list[tuple[str, list[bytes], bool]], titles: list[str]
) -> list[list[Photo]]:
    """The photos (with captions) of each case: those between its heading and the next one."""
    starts: list[int | None] = []
    position = 0
    for title in titles:
        found = next(
            (
                i
                for i in range(position, len(blocks))
                if title
                and title in blocks[i][0]
                and not blocks[i][1]
                and len(blocks[i][0]) <= len(title) + 20
            ),
            None,
        )
        starts.append(found)
        if found is not None:
            position = found + 1
    result: list[list[Photo]] = []
    for index, start in enumerate(starts):
        if start is None:
            result.append([])
            continue
        end = next((s for s in starts[index + 1 :] if s is not None), len(blocks))
        result.append(_photos_between(blocks, start + 1, end))
    return result


def _photos_between(
    blocks: list[tuple[str, list[bytes], bool]], start: int, end: int
) -> list[Photo]:
    photos: list[Photo] = []
    for index in range(start, end):
        text, images, _ = blocks[index]
        if not images:
            continue
        caption = text if text and _CAPTION.match(text) else ""
        if not caption:
            following = next((b for b in blocks[index + 1 : end] if b[0] or b[1]), None)
            if (
                following
                and not following[1]
                and (_CAPTION.match(following[0]) or (following[2] and len(following[0]) <= 40))
            ):
                caption = following[0]
        photos += [Photo(data) for data in images]
        if photos and caption:
            photos[-1].caption = caption
    return photos


def cases_document(cases: list[Case]):  # noqa: ANN201 - a python-docx Document
    """The compiled Word document on A4: a title, then per unit (each from a new page) its cases
    with text and photos; a case that needs correcting says so in red under its title. Every text
    from a sender passes ``parsers.text_safety`` (python-docx, XML, refuses control characters)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Inches, Pt, RGBColor

    document = Document()
    for section in document.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
    _chinese_fonts(document)
    title = document.add_paragraph(TITLE, style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    units = list(dict.fromkeys(case.unit for case in cases))
    summary = document.add_paragraph(f"共 {len(units)} 个单位、{len(cases)} 个特色案例")
    summary.alignment = WD_ALIGN_PARAGRAPH.CENTER
    current = None
    for case in cases:
        if case.unit != current:
            heading = document.add_heading(shown_line(case.unit), level=1)
            heading.paragraph_format.page_break_before = current is not None
            current = case.unit
        document.add_heading(shown_line(case.title), level=2)
        if case.corrections:
            corrections = shown("；".join(case.corrections))
            marked = document.add_paragraph().add_run(f"（需更正：{corrections}）")
            marked.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
        for line in shown(case.text).splitlines():
            if line.strip():
                paragraph = document.add_paragraph(line.strip())
                paragraph.paragraph_format.first_line_indent = Pt(24)
        for photo in case.photos:
            picture = document.add_paragraph()
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            try:
                picture.add_run().add_picture(io.BytesIO(photo.data), width=Inches(4))
            except Exception:  # noqa: BLE001 - e.g. EMF images python-docx cannot place
                picture.add_run("（此图片格式无法嵌入，请查看原件）")
            caption = document.add_paragraph(shown_line(photo.caption) or "（原文未附图注）")
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption.runs[0].italic = True
        if case.note:
            document.add_paragraph(shown(case.note))
    return document


def write_cases(
    session: Session, path: Path, read_attachment: Callable[[str], bytes]
) -> tuple[list[Case], list[str]]:
    """Write the compiled document to ``path``; return the cases and the units without any."""
    cases, without = collect_cases(session, read_attachment)
    cases_document(cases).save(path)
    return cases, without


def _chinese_fonts(document) -> None:  # noqa: ANN001 - a python-docx Document
    """宋体 for the body and 黑体 for headings: Word shows the text as the department does."""
    from docx.oxml.ns import qn

    for name, font in (
        ("Normal", "宋体"),
        ("Title", "黑体"),
        ("Heading 1", "黑体"),
        ("Heading 2", "黑体"),
    ):
        style = document.styles[name]
        style.font.name = font
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), font)
