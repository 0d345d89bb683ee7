"""Staff decisions on the dashboard (Flask test client over a campaign from the real pipeline):
each form changes the unit page and the dashboard at once, is shown beside the verdict it
overrules and can be undone; held receipts are read, recomposed after a decision and approved;
remind now shows the exact mails before sending them."""

from __future__ import annotations

import email
import re
from email.policy import default as default_policy
from pathlib import Path

from intake.config import load_settings
from intake.web.server import dashboard_app
from tests.helpers.decision_campaign import (
    CAILIAO,
    JINGGUAN,
    JIXIE,
    JIXIE_MESSAGE_ID,
    decision_campaign,
)
from tests.helpers.staff_campaign import parse_page


class Site:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.settings = load_settings(config)
        app = dashboard_app(self.settings, "127.0.0.1")
        app.testing = True
        self.client = app.test_client()

    def get(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, path
        return response.get_data(as_text=True)

    def post(self, path: str, **form) -> str:  # noqa: ANN003
        first_unit = re.search(r'<a href="(/unit/\d+)">', self.get("/")).group(1)
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(first_unit)).group(1)
        response = self.client.post(
            path,
            data={"csrf_token": token, **form},
            headers={"Origin": "http://localhost"},
            follow_redirects=True,
        )
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    def unit_id(self, name: str) -> int:
        return int(re.search(r'<a href="/unit/(\d+)">' + name, self.get("/")).group(1))

    def mails(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=default_policy)
            for p in sorted((self.config.parent / "outbox").glob("*.eml"))
        ]


def test_reject_then_undo_then_accept_a_doubt_from_the_unit_page(tmp_path):
    site = Site(decision_campaign(tmp_path))
    jixie = site.unit_id(JIXIE)
    page = site.get(f"/unit/{jixie}")
    assert "判为需更正并通知该单位" in page and "核对无误" in page
    before = len(site.mails())

    page = site.post(
        f"/unit/{jixie}/decide",
        item="table_scan",
        code="seal_unsure",
        verdict="reject",
        reason="扫描件上没有公章",
    )
    assert "已判为需更正" in page and "本机工作人员" in page
    assert "<s>待核对：" in page and "→ 核对后需更正（本机工作人员" in page
    corrections = [m for m in site.mails() if m["Subject"].startswith("【需更正】")]
    assert len(site.mails()) == before + 1 and len(corrections) == 1
    assert corrections[0]["In-Reply-To"] == f"<{JIXIE_MESSAGE_ID}>"
    assert parse_page(site.get("/")).rows[JIXIE][3] == "needs_correction"

    decision = re.search(r'action="/decision/(\d+)/undo"', page).group(1)
    page = site.post(f"/decision/{decision}/undo")
    assert "已撤销决定" in page and "已由 本机工作人员" in page
    assert parse_page(site.get("/")).rows[JIXIE][3] == "doubt"

    site.post(
        f"/unit/{jixie}/decide",
        item="table_scan",
        code="seal_unsure",
        verdict="accept",
        reason="电话确认已盖章",
    )
    dashboard = parse_page(site.get("/"))
    assert dashboard.rows[JIXIE] == ["on_time"] * 4
    assert "→ 核对无误" in site.get(f"/unit/{jixie}")
    log = site.get("/log")
    assert log.count('<tr class="') == 2 and "扫描件上没有公章" in log and "电话确认已盖章" in log


def test_mark_exempt_extend_and_waive_change_the_dashboard(tmp_path):
    site = Site(decision_campaign(tmp_path))
    jingguan, cailiao = site.unit_id(JINGGUAN), site.unit_id(CAILIAO)
    assert parse_page(site.get("/")).rows[JINGGUAN] == [
        "on_time",
        "missing",
        "needs_correction",
        "missing",
    ]
    site.post(
        f"/unit/{jingguan}/decide",
        item="table",
        code="best_ratio_exceeded",
        verdict="accept",
        reason="党委会议同意",
    )
    site.post(
        f"/unit/{jingguan}/mark",
        item="summary_scan",
        received_at="2022-04-01T16:00",
        reason="纸质版当面交来",
    )
    page = site.post(f"/unit/{jingguan}/exempt", item="table_scan", reason="并入总结扫描件")
    assert "已登记为免交" in page and "免交（本机工作人员）" in page
    page = site.post(f"/unit/{cailiao}/extend", until="2022-04-02T17:00", reason="学院换届")
    assert "已为该单位延长" in page and "2022-04-02 17:00" in page
    rows = parse_page(site.get("/")).rows
    assert rows[JINGGUAN] == ["on_time", "on_time", "on_time", "exempt"]
    assert rows[CAILIAO] == ["on_time"] * 4
    page = site.post(f"/unit/{jingguan}/exempt", item="table_scan", reason="  ")
    assert "请写明理由" in page


def test_held_receipts_are_recomposed_after_a_decision_and_approved(tmp_path):
    site = Site(decision_campaign(tmp_path, hold_corrections=True))
    sent = {m["To"] for m in site.mails()}
    assert "jingguan@example.edu.cn" not in sent and "jixie@example.edu.cn" in sent
    held = site.get("/held")
    assert held.count('data-held="') == 1 and "经济管理学院分党委" in held and "需更正" in held
    assert parse_page(site.get("/")).counts.get("held") == "1"

    jingguan = site.unit_id(JINGGUAN)
    site.post(
        f"/unit/{jingguan}/decide",
        item="table",
        code="best_ratio_exceeded",
        verdict="accept",
        reason="党委会议同意",
    )
    assert site.get("/held").count('data-held="') == 0  # recomposed without the correction: gone
    receipt = next(m for m in site.mails() if m["To"] == "jingguan@example.edu.cn")
    body = receipt.get_body(("plain",)).get_content()
    assert "需更正" not in body and "经济管理学院分党委" in body


def test_approving_a_held_receipt_sends_it_as_it_stands(tmp_path):
    site = Site(decision_campaign(tmp_path, hold_corrections=True))
    held = site.get("/held")
    entry = re.search(r'data-held="(\d+)"', held).group(1)
    text = re.search(r"<pre>(.*?)</pre>", held, re.S).group(1)
    site.post(f"/held/{entry}/approve")
    receipt = next(m for m in site.mails() if m["To"] == "jingguan@example.edu.cn")
    assert receipt.get_body(("plain",)).get_content().strip()[:40] in text.replace("&#34;", '"')


def test_remind_now_previews_the_exact_mails_then_sends_once_an_hour(tmp_path):
    site = Site(decision_campaign(tmp_path))
    preview = site.get("/remind")
    units = re.findall(r'<article class="reminder" data-unit="([^"]+)">', preview)
    assert JINGGUAN in units and JIXIE not in units and CAILIAO not in units
    assert f"将发出 {len(units)} 封提醒" in preview
    assert "jingguan@example.edu.cn" in preview and "工作总结（盖章扫描件）" in preview
    before = len(site.mails())
    page = site.post("/remind")
    assert f"已向 {len(units)} 个单位发出催交提醒" in page
    reminders = [m for m in site.mails() if "提醒" in m["Subject"]]
    assert len(site.mails()) == before + len(reminders) and len(reminders) >= len(units)
    jingguan = [m for m in reminders if m["To"] == "jingguan@example.edu.cn"]
    assert len(jingguan) == 1 and "尚缺2项材料" in jingguan[0]["Subject"]
    assert jingguan[0].get_body(("plain",)).get_content().strip() in preview.replace("&#34;", '"')
    assert "将发出 0 封提醒" in page and "一小时内已催交过" in page
    one = site.unit_id(JINGGUAN)
    assert "将发出 0 封提醒" in site.get(f"/remind?unit={one}")
