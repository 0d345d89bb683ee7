"""The two charts laid out once, as shapes on a canvas: the dashboard draws them as inline SVG
(``intake.web.charts_svg``), the leadership report as PNG images (``tracker.chart_png``).

Coordinates are in pixels of a ``width`` × ``height`` canvas; text is placed by its anchor point
(start, middle or end of the line, vertically centred).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from parsers.vocabulary import percent

from .charts import STATE_LABELS, STATES, Grades, Point, Progress, short_name

STATE_COLOURS = {"complete": "#2e7d32", "partly": "#f9a825", "nothing": "#c7c7c7"}
GRADE_COLOURS = ("#c62828", "#1565c0", "#7cb342", "#8e24aa", "#6d4c41")
DEADLINE_COLOUR = "#d32f2f"
INK, MUTED, GRID = "#222222", "#666666", "#e3e3e3"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str = ""


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = GRID
    width: float = 1
    dash: bool = False


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: float = 12
    anchor: str = "start"  # start | middle | end
    fill: str = INK
    bold: bool = False


@dataclass
class Canvas:
    """One chart: its size, what it shows (for screen readers) and its shapes in drawing order."""

    width: int
    height: int
    label: str
    shapes: list[Rect | Line | Text] = field(default_factory=list)


def progress_canvases(chart: Progress, width: int = 960) -> list[Canvas]:
    """The days chart and the last-24-hours chart of submissions."""
    deadline = f"{chart.deadline:%m-%d %H:%M}"
    days = _columns(
        f"报送进度（按日，截止 {deadline}）",
        chart.days,
        chart.total,
        chart.deadline_day,
        width,
        every=max(1, math.ceil(len(chart.days) / 16)),
    )
    hours = _columns(
        f"最近 24 小时（至 {chart.now:%m-%d %H:%M}）：收到 {chart.last_day_arrivals} 项材料，"
        f"新交齐 {max(0, chart.completed_last_day)} 个单位",
        chart.hours,
        chart.total,
        chart.deadline_hour,
        width,
        every=3,
    )
    return [days, hours]


def _columns(
    title: str,
    points: list[Point],
    total: int,
    marker: float | None,
    width: int,
    every: int,
    height: int = 260,
) -> Canvas:
    canvas = Canvas(width, height, title)
    add = canvas.shapes.append
    left, right, top, bottom = 44, width - 16, 52, height - 34
    add(Text(left - 36, 16, title, 14, bold=True))
    _legend(canvas, [(STATE_LABELS[s], STATE_COLOURS[s]) for s in STATES], width - 16, 16)
    scale = (bottom - top) / max(total, 1)
    for tick in sorted({0, total // 2, total}):
        y = bottom - tick * scale
        add(Line(left, y, right, y))
        add(Text(left - 6, y, str(tick), 11, "end", MUTED))
    slot = (right - left) / max(len(points), 1)
    bar = min(slot * 0.7, 56)
    for index, point in enumerate(points):
        x = left + index * slot + (slot - bar) / 2
        if point.counts is None:
            add(Rect(x, bottom - 2, bar, 2, GRID, f"{point.label}：尚未到"))
        else:
            base = bottom
            tip = "，".join(f"{STATE_LABELS[s]} {point.counts[s]}" for s in STATES)
            tip = f"{point.label}：{tip}；收到 {point.arrivals} 项材料"
            for state in STATES:
                h = point.counts[state] * scale
                if h:
                    add(Rect(x, base - h, bar, h, STATE_COLOURS[state], tip))
                base -= h
        if index % every == 0 or index == len(points) - 1:
            add(Text(x + bar / 2, bottom + 14, point.label, 11, "middle", MUTED))
    add(Line(left, bottom, right, bottom, MUTED))
    if marker is not None:
        x = left + marker * slot
        add(Line(x, top - 8, x, bottom, DEADLINE_COLOUR, 2, dash=True))
        add(Text(x + 4, top - 8, "截止", 11, "start", DEADLINE_COLOUR, bold=True))
    return canvas


def grades_canvas(chart: Grades, width: int = 960, row: int = 20) -> Canvas:
    """Each unit's plans by grade as one 100% bar, the university's first, the top-grade line."""
    rows = [chart.total, *chart.rows]
    height = 70 + row * len(rows) + 24
    line = percent(chart.best_share)
    best = chart.grades[0]
    title = f"立项等级分布（每行为一个单位的全部方案，虚线为{best}上限 {line}）"
    canvas = Canvas(width, height, title)
    add = canvas.shapes.append
    add(Text(8, 16, title, 14, bold=True))
    colours = [GRADE_COLOURS[i % len(GRADE_COLOURS)] for i in range(len(chart.grades))]
    _legend(canvas, list(zip(chart.grades, colours, strict=True)), width - 16, 40)
    left, right, top = 150, width - 70, 60
    span = right - left
    for index, unit in enumerate(rows):
        y = top + index * row
        name = short_name(unit.name) + ("（超过）" if unit.over else "")
        add(
            Text(
                left - 6,
                y + row / 2,
                name,
                12,
                "end",
                DEADLINE_COLOUR if unit.over else INK,
                bold=index == 0,
            )
        )
        if not unit.plans:
            note = "未收到汇总表" if not unit.received else "汇总表中未读出方案"
            add(Text(left + 4, y + row / 2, note, 11, "start", MUTED))
            continue
        x = left
        tip = "，".join(f"{g} {n}" for g, n in zip(chart.grades, unit.counts, strict=True))
        tip = f"{unit.name}：{unit.plans} 个方案，{tip}"
        for count, colour in zip(unit.counts, colours, strict=True):
            w = span * count / unit.plans
            if w:
                add(Rect(x, y + 3, w, row - 6, colour, tip))
                if w >= 18:
                    add(Text(x + w / 2, y + row / 2, str(count), 10, "middle", "#ffffff"))
            x += w
        share = f"{unit.best_share or 0:.0%}"
        add(Text(right + 6, y + row / 2, f"{best}{share}", 10, "start", MUTED))
    bottom = top + row * len(rows)
    x = left + span * chart.best_share
    add(Line(x, top - 6, x, bottom + 4, INK, 1.5, dash=True))
    add(Text(x, bottom + 14, f"{best} {line}", 11, "middle", INK, bold=True))
    return canvas


def _legend(canvas: Canvas, entries: list[tuple[str, str]], right: float, y: float) -> None:
    x = right
    for label, colour in reversed(entries):
        x -= 14 * len(label) + 8
        canvas.shapes.append(Text(x, y, label, 12, "start", INK))
        x -= 16
        canvas.shapes.append(Rect(x, y - 6, 12, 12, colour))
        x -= 12
