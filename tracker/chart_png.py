"""The charts (``tracker.chart_layout``'s canvases) as PNG images drawn with Pillow, for the
leadership report: a CJK font (WenQuanYi Micro Hei, as the CI installs) when there is one."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .chart_layout import Canvas, Line, Rect, Text

FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
ANCHORS = {"start": "lm", "middle": "mm", "end": "rm"}


def png(canvas: Canvas, scale: float = 2.0) -> bytes:
    """The canvas drawn at ``scale`` (2: sharp when printed at half its pixel width)."""
    image = Image.new("RGB", (round(canvas.width * scale), round(canvas.height * scale)), "white")
    draw = ImageDraw.Draw(image)
    for shape in canvas.shapes:
        if isinstance(shape, Rect):
            box = [shape.x * scale, shape.y * scale, (shape.x + shape.w) * scale]
            draw.rectangle([*box, (shape.y + shape.h) * scale], fill=shape.fill)
        elif isinstance(shape, Line):
            _line(draw, shape, scale)
        elif isinstance(shape, Text):
            draw.text(
                (shape.x * scale, shape.y * scale),
                shape.text,
                fill=shape.fill,
                font=_font(round(shape.size * scale)),
                anchor=ANCHORS.get(shape.anchor, "lm"),
                stroke_width=1 if shape.bold else 0,
                stroke_fill=shape.fill,
            )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _line(draw: ImageDraw.ImageDraw, line: Line, scale: float) -> None:
    x1, y1, x2, y2 = (v * scale for v in (line.x1, line.y1, line.x2, line.y2))
    width = max(1, round(line.width * scale))
    if not line.dash:
        draw.line([x1, y1, x2, y2], fill=line.stroke, width=width)
        return
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 or 1
    step, on = 9 * scale, 5 * scale
    position = 0.0
    while position < length:
        end = min(position + on, length)
        draw.line(
            [
                x1 + (x2 - x1) * position / length,
                y1 + (y2 - y1) * position / length,
                x1 + (x2 - x1) * end / length,
                y1 + (y2 - y1) * end / length,
            ],
            fill=line.stroke,
            width=width,
        )
        position += step


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)
