"""The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Serves a real campaign with waitress on a free port, loads the page, applies a filter, opens a
unit, assigns the unassigned message through the form, and saves a screenshot under
``test-artifacts/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from intake.config import load_settings
from intake.web.server import BackgroundServer, dashboard_app
from tests.helpers.staff_campaign import CAILIAO, JSJ, STRANGER, build_campaign

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)


@pytest.fixture
def browser_page():  # noqa: ANN201
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
            page.set_default_timeout(15000)
            yield page
        finally:
            browser.close()


def test_dashboard_filter_unit_page_and_assign_in_chromium(tmp_path, browser_page):
    settings = load_settings(build_campaign(tmp_path).config)
    page = browser_page
    with BackgroundServer(dashboard_app(settings, "127.0.0.1")) as server:
        page.goto(server.url + "/")
        assert page.locator("#count-complete").inner_text() == "2/5"
        assert page.locator("#status-table tbody tr").count() == 5
        assert page.locator("#countdown").inner_text().startswith("已截止")

        with page.expect_navigation():
            page.select_option("#filter-only", "late")  # the script submits the filter on change
        assert "only=late" in page.url
        assert page.locator("#status-table tbody tr").all_inner_texts()[0].startswith(CAILIAO)
        assert page.locator("#status-table tbody tr").count() == 1

        page.click(f"text={CAILIAO}")
        page.wait_for_url("**/unit/*")
        assert page.locator("h1").inner_text() == CAILIAO
        assert (
            page.locator("#messages tbody tr").count() == 1
            and "逾期" in page.locator("#messages").inner_text()
        )

        page.goto(server.url + "/")
        row = page.locator("#unassigned tbody tr").first
        assert STRANGER in row.inner_text()
        row.locator("select[name=unit_id]").select_option(label=JSJ)
        with page.expect_navigation():
            row.locator("button[type=submit]").click()
        assert page.locator("h1").inner_text() == JSJ
        assert f"归入 {JSJ}" in page.locator(".flash-ok").inner_text()

        page.goto(server.url + "/")
        assert page.locator("#count-unassigned").inner_text() == "0"
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
