"""Staff in control, in headless Chromium (Debian's /usr/bin/chromium driven by Playwright),
against a campaign fetched from a real Dovecot and answered through a real aiosmtpd server.

An editor logs in, approves a receipt held for review, previews a scan, rejects a doubt (the unit
receives one correction request, threaded), undoes it, accepts it, waives a problem, marks an item
received on paper, exempts one, extends a unit's deadline, reminds with a preview first and
downloads every file as a zip; a viewer sees the same pages without the forms. Screenshots of the
review list and of a unit page with a decision are saved under ``test-artifacts/``.
"""

from __future__ import annotations

import email
import io
import shutil
import zipfile
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest

from intake.config import load_settings
from intake.service import open_pipeline, poll_once
from intake.web.auth import hash_password
from intake.web.server import BackgroundServer, dashboard_app
from tests.helpers.campaign import DEADLINE, write_config
from tests.helpers.decision_campaign import (
    BEFORE,
    CAILIAO,
    JINGGUAN,
    JIXIE,
    JIXIE_MESSAGE_ID,
    campaign_mails,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)


def staff_config(tmp_path: Path, dovecot, smtp_server) -> Path:  # noqa: ANN001
    accounts = (
        f'[[staff]]\nname = "张老师"\npassword_hash = "{hash_password("zhang-pass")}"\n'
        'role = "editor"\n'
        f'[[staff]]\nname = "李老师"\npassword_hash = "{hash_password("li-pass")}"\n'
        'role = "viewer"\n'
    )
    config = write_config(tmp_path, dovecot=dovecot, smtp=smtp_server, extra=accounts)
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[replies]\n", "[replies]\nhold_corrections = true\n"), encoding="utf-8"
    )
    return config


def texts_to(smtp_server, address: str) -> list[tuple[email.message.EmailMessage, str]]:  # noqa: ANN001
    found = []
    for received in smtp_server.messages:
        if address in received.rcpt_tos:
            mail = email.message_from_bytes(received.data, policy=default_policy)
            found.append((mail, mail.get_body(("plain",)).get_content()))
    return found


def log_in(page, url: str, name: str, password: str) -> None:  # noqa: ANN001
    page.goto(url + "/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")


@pytest.fixture
def browser():  # noqa: ANN201
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def test_every_staff_action_in_chromium(tmp_path, dovecot, smtp_server, browser):  # noqa: ANN001, PLR0915
    config = staff_config(tmp_path, dovecot, smtp_server)
    arrivals = [BEFORE, DEADLINE + timedelta(hours=3), BEFORE]  # 机械, 材料 (late), 经管
    for raw, arrived in zip(campaign_mails(), arrivals, strict=True):
        dovecot.append(raw, internaldate=arrived)
    settings = load_settings(config)
    sessions, pipeline = open_pipeline(settings)
    assert poll_once(settings, pipeline, sessions).stored == 3
    # the receipt asking 经管学院 to correct its table waits; the others went at once
    assert texts_to(smtp_server, "jingguan@example.edu.cn") == []
    assert len(texts_to(smtp_server, "jixie@example.edu.cn")) == 1

    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.set_default_timeout(15000)
    with BackgroundServer(dashboard_app(settings, "127.0.0.1")) as server:
        log_in(page, server.url, "张老师", "zhang-pass")
        assert "张老师" in page.locator("header").inner_text()
        assert page.locator("#count-held").inner_text() == "1"
        assert page.locator("#review tbody tr").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#review").screenshot(path=str(ARTIFACTS / "review-list.png"))

        # approve the held receipt as it stands: the unit gets it now
        page.goto(server.url + "/held")
        held = page.locator("article.held")
        assert held.count() == 1 and "需更正" in held.inner_text()
        with page.expect_navigation():
            held.locator("button[type=submit]").click()
        assert "回执已放行" in page.locator(".flash-ok").inner_text()
        [(receipt, text)] = texts_to(smtp_server, "jingguan@example.edu.cn")
        assert "需更正" in text and "最佳" in text

        # the unit page previews the grey scan; reject its seal doubt
        page.goto(server.url + "/")
        with page.expect_navigation():
            page.click(f"#status-table >> text={JIXIE}")
        jixie_url = page.url
        assert page.locator("img[src*='/page/1.png']").count() >= 1
        row = page.locator("#versions tr[id^=version-]", has_text="汇总表盖章扫描件.png").first
        row.locator("details.act summary").click()
        row.locator("input[name=reason]").fill("扫描件上没有公章")
        with page.expect_navigation():
            row.locator("button[value=reject]").click()
        assert "已判为需更正" in page.locator(".flash-ok").inner_text()
        corrections = [
            (m, t)
            for m, t in texts_to(smtp_server, "jixie@example.edu.cn")
            if str(m["Subject"]).startswith("【需更正】")
        ]
        assert len(corrections) == 1
        mail, text = corrections[0]
        assert mail["In-Reply-To"] == f"<{JIXIE_MESSAGE_ID}>" and "扫描件上没有公章" in text
        assert "核对后需更正（张老师" in page.locator("#versions").inner_text()
        page.screenshot(path=str(ARTIFACTS / "unit-decision.png"), full_page=True)

        # undo it, then accept the seal: 机械学院 is complete
        with page.expect_navigation():
            page.locator("#decisions button", has_text="撤销").first.click()
        assert "已撤销决定" in page.locator(".flash-ok").inner_text()
        row = page.locator("#versions tr[id^=version-]", has_text="汇总表盖章扫描件.png").first
        row.locator("details.act summary").click()
        row.locator("input[name=reason]").fill("电话确认已盖章")
        with page.expect_navigation():
            row.locator("button[value=accept]").click()
        page.goto(server.url + "/")
        assert page.locator(f"tr[data-unit='{JIXIE}'] td[data-state=on_time]").count() == 4

        # 经管学院: waive the 最佳 problem, mark the scan handed in on paper, exempt the other
        page.goto(server.url + "/")
        with page.expect_navigation():
            page.click(f"#status-table >> text={JINGGUAN}")
        row = page.locator("#versions tr[id^=version-]", has_text="经管学院汇总表.xlsx").first
        row.locator("details.act summary").click()
        row.locator("input[name=reason]").fill("党委会议同意放宽")
        with page.expect_navigation():
            row.locator("button[value=accept]").click()
        mark = page.locator("form.mark")
        mark.locator("select[name=item]").select_option("summary_scan")
        mark.locator("input[name=received_at]").fill("2022-04-01T16:00")
        mark.locator("input[name=reason]").fill("纸质版当面交来")
        with page.expect_navigation():
            mark.locator("button[type=submit]").click()
        exempt = page.locator("form.exempt")
        exempt.locator("select[name=item]").select_option("table_scan")
        exempt.locator("input[name=reason]").fill("并入总结扫描件")
        with page.expect_navigation():
            exempt.locator("button[type=submit]").click()
        page.goto(server.url + "/")
        states = page.locator(f"tr[data-unit='{JINGGUAN}'] td[data-state]")
        assert [states.nth(i).get_attribute("data-state") for i in range(4)] == [
            "on_time",
            "on_time",
            "on_time",
            "exempt",
        ]

        # 材料学院 sent late: its own deadline makes it on time
        with page.expect_navigation():
            page.click(f"#status-table >> text={CAILIAO}")
        extend = page.locator("form.extend")
        extend.locator("input[name=until]").fill("2022-04-02T17:00")
        extend.locator("input[name=reason]").fill("学院换届")
        with page.expect_navigation():
            extend.locator("button[type=submit]").click()
        page.goto(server.url + "/")
        assert page.locator(f"tr[data-unit='{CAILIAO}'] td[data-state=on_time]").count() == 4

        # remind now: the exact mails first, then sent
        with page.expect_navigation():
            page.click("#remind-all")
        previews = page.locator("article.reminder")
        units = [previews.nth(i).get_attribute("data-unit") for i in range(previews.count())]
        assert units and JIXIE not in units and JINGGUAN not in units
        shown = previews.first.locator("pre").inner_text()
        before = len(smtp_server.messages)
        with page.expect_navigation():
            page.click("form.remind button[type=submit]")
        assert "催交提醒" in page.locator(".flash-ok").inner_text()
        reminders = smtp_server.messages[before:]
        assert len(reminders) >= len(units)
        bodies = [
            email.message_from_bytes(r.data, policy=default_policy)
            .get_body(("plain",))
            .get_content()
            for r in reminders
        ]
        assert any(b.strip() == shown.strip() for b in bodies)

        # every file at once
        page.goto(server.url + "/")
        with page.expect_download() as download:
            page.click("a[href^='/export/files.zip']")
        archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
        names = archive.namelist()
        assert any(n.endswith("清单.xlsx") for n in names)
        assert any("机械学院" in n and n.endswith(".png") for n in names)

        page.goto(server.url + "/log")
        assert page.locator("table.decisions tbody tr:not(.note)").count() == 6
        notes = page.locator("table.decisions tbody tr.note")
        assert notes.count() == 1 + len(units)  # the approved receipt, one per unit reminded
        assert "张老师" in notes.first.inner_text()

        # a viewer reads the same pages without any form to change them
        viewer = browser.new_page(locale="zh-CN")
        log_in(viewer, server.url, "李老师", "li-pass")
        viewer.goto(jixie_url)
        assert "核对无误" in viewer.locator("#versions").inner_text()
        assert viewer.locator("form.mark").count() == 0
        assert viewer.locator("details.act").count() == 0
