"""The Jinja2 templates of the dashboard, and the report as one self-contained HTML file."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from parsers.text_safety import shown
from tracker.zones import zone_label

from .pages import dashboard

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment (autoescaped HTML, Chinese date formats)."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_visible,
    )
    env.filters["when"] = lambda moment, fmt="%Y-%m-%d %H:%M": (
        moment.strftime(fmt) if moment else ""
    )
    env.filters["zone"] = lambda moment: zone_label(moment) if moment else ""
    return env


def _visible(value: Any) -> Any:
    """Every value a page prints, before escaping: a sender's control characters shown
    (``parsers.text_safety``); markup our own templates made is left as it is."""
    return value if isinstance(value, Markup) else shown(value)


def render(template: str, **context: Any) -> str:
    """Render one template with ``context``."""
    return environment().get_template(template).render(**context)


@lru_cache(maxsize=4)
def asset(name: str) -> str:
    """A bundled static file's text (the CSS and JS the page carries; no CDN)."""
    return (STATIC / name).read_text(encoding="utf-8")


def report_html(
    report: dict[str, Any], unassigned: list[dict[str, Any]], *, now: datetime | None = None
) -> str:
    """The dashboard as one offline HTML file: CSS inlined, no links to the server, no forms."""
    view = dashboard(report, {}, now=now or datetime.now(UTC))
    return render(
        "dashboard.html",
        page=view,
        unassigned=unassigned,
        units=[],
        static_file=True,
        inline_css=asset("dashboard.css"),
        csrf_token="",
        flashes=[],
        login_required=False,
    )
