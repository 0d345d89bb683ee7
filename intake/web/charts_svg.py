"""The dashboard's charts as inline SVG (``tracker.chart_layout``'s canvases): no script, no
CDN, nothing the page's CSP refuses. Every text is escaped; each bar carries a <title> tooltip."""

from __future__ import annotations

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from parsers.rules import CampaignRules
from parsers.vocabulary import percent
from tracker.chart_layout import Canvas, Line, Rect, Text, grades_canvas, progress_canvases
from tracker.charts import grades, progress
from tracker.consolidated import collect_tables

ANCHORS = {"start": "start", "middle": "middle", "end": "end"}


def dashboard_charts(session: Session, report: dict, rules: CampaignRules) -> dict[str, list]:
    """The dashboard's charts for ``_charts.html``: progress (two SVGs) and grades (one)."""
    return {
        "progress": [svg(c) for c in progress_canvases(progress(report))],
        "grades": [svg(grades_canvas(grades(collect_tables(session, rules), rules)))],
        "best_label": f"{rules.best_grade}上限 {percent(rules.best_share)}",
    }


def svg(canvas: Canvas) -> Markup:
    """One canvas as an <svg> element that scales to the page width."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="100%" '
        f'viewBox="0 0 {canvas.width} {canvas.height}" aria-label="{escape(canvas.label)}">'
    ]
    for shape in canvas.shapes:
        parts.append(_shape(shape))
    parts.append("</svg>")
    return Markup("".join(parts))


def _shape(shape: Rect | Line | Text) -> str:
    if isinstance(shape, Rect):
        title = f"<title>{escape(shape.title)}</title>" if shape.title else ""
        return (
            f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" '
            f'height="{shape.h:.1f}" fill="{escape(shape.fill)}">{title}</rect>'
        )
    if isinstance(shape, Line):
        dash = ' stroke-dasharray="5 4"' if shape.dash else ""
        return (
            f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" '
            f'y2="{shape.y2:.1f}" stroke="{escape(shape.stroke)}" '
            f'stroke-width="{shape.width:g}"{dash}/>'
        )
    weight = ' font-weight="bold"' if shape.bold else ""
    return (
        f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size:g}" '
        f'text-anchor="{ANCHORS.get(shape.anchor, "start")}" dominant-baseline="central" '
        f'fill="{escape(shape.fill)}"{weight}>{escape(shape.text)}</text>'
    )
