"""The one-page report for the leadership (``intake export-summary``): headline figures, the
progress and grade charts as images, the units still owing items and the cases chosen for
publicity, on A4, ready to forward.

The cases chosen are the featured cases (``tracker.cases_doc.collect_cases``) that no problem
of the unit's summary names: those that need no correction before they are published.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from parsers.rules import DEFAULT_RULES, CampaignRules
from parsers.vocabulary import percent

from .cases_doc import Case, _chinese_fonts, collect_cases
from .chart_layout import grades_canvas, progress_canvases
from .chart_png import png
from .charts import Grades, Progress, grades, progress
from .consolidated import collect_tables
from .report import item_labels, summary_counts

_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Owing:
    """A unit still owing: the items it has not sent and those it must correct."""

    name: str
    missing: list[str]
    to_correct: list[str]


@dataclass
class Summary:
    """What the one-page report says."""

    campaign: str
    deadline: datetime
    now: datetime
    figures: dict[str, Any]
    progress: Progress
    grades: Grades
    owing: list[Owing] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)


def collect_summary(
    session: Session,
    report: dict[str, Any],
    read_attachment: Callable[[str], bytes],
    rules: CampaignRules = DEFAULT_RULES,
) -> Summary:
    """The report's figures, the charts' data, the owing units and the chosen cases."""
    counts = summary_counts(report)
    chart = grades(collect_tables(session, rules), rules)
    total = chart.total
    labels = item_labels(report, short=True)
    owing = []
    for unit in report["subcommittees"]:
        items = unit["items"]
        missing = [
            labels[k]
            for k, i in items.items()
            if i["status"] == "missing" and i.get("required", True)
        ]
        to_correct = [labels[k] for k, i in items.items() if i["problems"]]
        if missing or to_correct:
            owing.append(Owing(unit["name"], missing, to_correct))
    on_time = sum(
        all(
            i["status"] in ("on_time", "exempt")
            for i in u["items"].values()
            if i.get("required", True)
        )
        for u in report["subcommittees"]
    )
    cases, _ = collect_cases(session, read_attachment)
    return Summary(
        campaign=report["campaign"],
        deadline=datetime.fromisoformat(report["deadline"]),
        now=datetime.fromisoformat(report["generated_at"]),
        figures={
            "units": counts["total"],
            "on_time": on_time,
            "late": counts["late"],
            "missing": counts["missing"],
            "complete": counts["complete"],
            "plans": total.plans,
            "grade_counts": dict(zip(rules.grades, total.counts, strict=True)),
            "best_share": total.best_share,
            "over_units": sum(r.over for r in chart.rows),
        },
        progress=progress(report),
        grades=chart,
        owing=owing,
        cases=[c for c in cases if not c.corrections],
    )


def summary_document(summary: Summary, rules: CampaignRules = DEFAULT_RULES):  # noqa: ANN201
    """The python-docx Document: A4 portrait, narrow margins, one page where the units allow."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    document = Document()
    for section in document.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(1.8)
        section.top_margin = section.bottom_margin = Cm(1.5)
    _chinese_fonts(document)
    document.styles["Normal"].font.size = Pt(10.5)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(f"{_plain(summary.campaign)}报送情况简报")
    run.bold, run.font.size = True, Pt(16)
    when = document.add_paragraph(
        f"截至 {summary.now:%Y年%m月%d日 %H:%M}（截止时间 {summary.deadline:%Y年%m月%d日 %H:%M}）"
    )
    when.alignment = WD_ALIGN_PARAGRAPH.CENTER
    figures = summary.figures
    best = rules.best_grade
    share = figures["best_share"]
    cells = [
        ("单位", f"{figures['units']}"),
        ("按时交齐", f"{figures['on_time']}"),
        ("逾期", f"{figures['late']}"),
        ("缺交", f"{figures['missing']}"),
        ("立项方案", f"{figures['plans']}"),
        (f"{best}占比", f"{share:.1%}" if share is not None else "—"),
    ]
    table = document.add_table(rows=2, cols=len(cells))
    table.style, table.alignment = "Table Grid", WD_TABLE_ALIGNMENT.CENTER
    for col, (label, value) in enumerate(cells):
        _cell(table.cell(0, col), value, size=18, bold=True, centred=True)
        _cell(table.cell(1, col), label, centred=True)
    grade_text = "、".join(f"{g} {n}" for g, n in figures["grade_counts"].items())
    note = document.add_paragraph(
        f"已完成（材料齐全且无需更正）{figures['complete']} 个单位；立项方案中{grade_text}；"
        f"{figures['over_units']} 个单位{best}超过 {percent(rules.best_share)}。"
        "逾期、缺交为存在该情况的单位数。"
    )
    note.paragraph_format.space_before = Pt(4)
    days, _ = progress_canvases(summary.progress, width=960)
    for canvas in (days, grades_canvas(summary.grades, row=15)):
        picture = document.add_paragraph()
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.paragraph_format.space_after = Pt(0)
        picture.add_run().add_picture(io.BytesIO(png(canvas)), width=Cm(17.4))
    _heading(document, f"尚未交齐或需更正的单位（{len(summary.owing)} 个）")
    _list_table(
        document,
        ("单位", "尚缺材料", "需更正"),
        [
            (_plain(u.name), "、".join(u.missing) or "—", "、".join(u.to_correct) or "—")
            for u in summary.owing
        ],
        "全部单位材料已交齐，无需更正。",
    )
    _heading(document, f"宣传选用案例（{len(summary.cases)} 个，均无待更正问题）")
    _list_table(
        document,
        ("单位", "案例标题", "照片"),
        [(_plain(c.unit), _plain(c.title), f"{len(c.photos)} 张") for c in summary.cases],
        "暂无可选用的特色案例。",
    )
    return document


def write_summary(
    session: Session,
    report: dict[str, Any],
    path: Path,
    read_attachment: Callable[[str], bytes],
    rules: CampaignRules = DEFAULT_RULES,
) -> Summary:
    """Write the one-page report to ``path``; return what it says."""
    summary = collect_summary(session, report, read_attachment, rules)
    summary_document(summary, rules).save(path)
    return summary


def _plain(text: str) -> str:
    """A sender's text as python-docx can write it (XML refuses control characters)."""
    return _UNWRITABLE.sub("\ufffd", " ".join(str(text).split()))


def _list_table(  # noqa: ANN001 - a python-docx Document
    document, header: tuple[str, ...], rows: list[tuple[str, ...]], empty: str
) -> None:
    """A bordered table under ``header``, or the sentence ``empty`` when there are no rows."""
    if not rows:
        document.add_paragraph(empty)
        return
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for col, text in enumerate(header):
        _cell(table.rows[0].cells[col], text, bold=True)
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            _cell(cell, text)


def _heading(document, text: str) -> None:  # noqa: ANN001 - a python-docx Document
    from docx.shared import Pt

    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(8)
    paragraph.paragraph_format.space_after = Pt(2)
    run = paragraph.add_run(text)
    run.bold, run.font.size = True, Pt(12)


def _cell(  # noqa: ANN001 - a python-docx cell
    cell, text: str, *, size: float = 10, bold: bool = False, centred: bool = False
) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred or bold else None
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    run.bold, run.font.size = bold, Pt(size)
