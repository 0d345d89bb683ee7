"""The dashboard's charts in headless Chromium: inline SVG under the page's strict CSP (no
script, no CDN), both charts visible, a screenshot saved as ``test-artifacts/dashboard-charts.png``.

The dashboard's clock stands three hours after the deadline, so the last 24 hours hold the
campaign's final day (and the deadline line)."""

from __future__ import annotations

from datetime import timedelta

from intake.config import load_settings
from intake.service import open_pipeline
from intake.web.app import create_app
from intake.web.server import BackgroundServer
from tests.helpers.campaign import DEADLINE
from tests.helpers.staff_campaign import build_campaign
from tests.system.test_browser import ARTIFACTS, browser_page  # noqa: F401 - the fixture


def test_dashboard_shows_the_progress_and_grade_charts(tmp_path, browser_page):  # noqa: F811
    settings = load_settings(build_campaign(tmp_path).config)
    sessions, pipeline = open_pipeline(settings)
    app = create_app(settings, sessions, pipeline, clock=lambda: DEADLINE + timedelta(hours=4))
    page = browser_page
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    with BackgroundServer(app) as server:
        response = page.goto(server.url + "/")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        charts = page.locator("#charts svg")
        assert charts.count() == 3  # by day, the last 24 hours, the grades
        for index in range(3):
            box = charts.nth(index).bounding_box()
            assert box and box["width"] > 600 and box["height"] > 100
        days = page.locator("#progress-chart-1 svg")
        assert "截止 04-01 17:00" in days.get_attribute("aria-label")
        assert days.locator("rect").count() >= 6  # the states of two days
        hours = page.locator("#progress-chart-2 svg")
        assert "收到" in hours.get_attribute("aria-label")
        grades = page.locator("#grades-chart")
        assert "经济管理学院（超过）" in grades.inner_text()
        assert "未收到汇总表" in grades.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "dashboard-charts.png"
        page.screenshot(path=str(shot), full_page=True)
    assert not refused, refused
    assert shot.stat().st_size > 20_000
