"""Work-chat notices end to end: every event reaches 企业微信, 钉钉 (plain and signed) and 飞书
(plain and signed) through the real pipeline, a local server checking each request as the
provider does; a provider outage delays no receipt and is listed in ``intake status``; and a
``kill -9`` repeats a notice only in its named window. Nothing leaves the machine."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake import jobs
from intake.cli import main
from intake.config import load_settings
from intake.localsource import LocalMessage
from intake.service import import_messages, open_pipeline, send_replies
from intake.staff_actions import StaffActions
from tests.helpers.campaign import DEADLINE, INTAKE, INTAKE_ENV, submission, write_config
from tests.helpers.decision_campaign import JIXIE, campaign_mails, decision_campaign
from tests.helpers.webhook_server import WebhookServer
from tracker import notices as stored

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "webhooks"
TARGETS = ("企业微信群", "钉钉群", "钉钉加签", "飞书群", "飞书加签")
NOTIFY = """
[[notify]]
name = "企业微信群"
kind = "wecom"
url_env = "T_WECOM_URL"
max_per_minute = 6000
[[notify]]
name = "钉钉群"
kind = "dingtalk"
url_env = "T_DING_URL"
max_per_minute = 6000
[[notify]]
name = "钉钉加签"
kind = "dingtalk"
url_env = "T_DING_SIGNED_URL"
secret_env = "T_DING_SECRET"
max_per_minute = 6000
[[notify]]
name = "飞书群"
kind = "feishu"
url_env = "T_FS_URL"
max_per_minute = 6000
[[notify]]
name = "飞书加签"
kind = "feishu"
url_env = "T_FS_SIGNED_URL"
secret_env = "T_FS_SECRET"
max_per_minute = 6000
"""
WECOM_ONLY = NOTIFY.split("[[notify]]")[1].join(["[[notify]]", ""])


@pytest.fixture
def webhooks(monkeypatch):  # noqa: ANN001, ANN201
    server = WebhookServer(secrets={"ding-signed": "SECding", "fs-signed": "fs-secret"}).start()
    env = {
        "T_WECOM_URL": server.wecom_url("wecom-key-0001"),
        "T_DING_URL": server.dingtalk_url("ding-plain"),
        "T_DING_SIGNED_URL": server.dingtalk_url("ding-signed"),
        "T_DING_SECRET": "SECding",
        "T_FS_URL": server.feishu_url("fs-plain"),
        "T_FS_SIGNED_URL": server.feishu_url("fs-signed"),
        "T_FS_SECRET": "fs-secret",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    server.env = env
    yield server
    server.stop()


def by_target(server: WebhookServer) -> dict[str, list[str]]:
    """The texts each target took, by the token in its address."""
    tokens = {
        "wecom-key-0001": "企业微信群",
        "ding-plain": "钉钉群",
        "ding-signed": "钉钉加签",
        "fs-plain": "飞书群",
        "fs-signed": "飞书加签",
    }
    found: dict[str, list[str]] = {name: [] for name in TARGETS}
    for request in server.accepted():
        token = request.query.get("key") or request.query.get("access_token")
        token = token or request.path.rsplit("/", 1)[-1]
        found[tokens[token]].append(request.text)
    return found


def test_every_event_reaches_every_provider_in_its_format(tmp_path, webhooks, monkeypatch):
    config = decision_campaign(tmp_path, extra=NOTIFY)
    settings = load_settings(config)
    sessions, pipeline = open_pipeline(settings)
    # a staff reject sends a correction request: the chats hear of it
    StaffActions(settings, sessions, pipeline).decide(
        JIXIE, "table_scan", reject="seal_unsure", reason="灰度扫描看不出公章", by="张老师"
    )
    send_replies(settings, sessions)
    # a message that cannot be processed
    from intake.pipeline import stages

    def broken(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("identify bug")

    monkeypatch.setattr(stages, "identify", broken)
    raw = submission(JIXIE, "jixie@example.edu.cn", arrived=DEADLINE, message_id="<bad@x>")
    import_messages(settings, pipeline, sessions, [LocalMessage("bad.eml", raw, DEADLINE)])
    monkeypatch.undo()
    for name, value in webhooks.env.items():
        monkeypatch.setenv(name, value)
    # the daily digest
    assert jobs.send_digest(str(config)) == 0  # no staff addresses: the chats only
    assert all(r.ok for r in webhooks.received), [r.error for r in webhooks.received]
    texts = by_target(webhooks)
    events = {}
    with sessions() as session:
        for name in TARGETS:
            notices = stored.notices_for(session, name)
            assert {n.state for n in notices} == {"sent"}
            events[name] = Counter(n.event for n in notices)
            assert [json.loads(n.body) for n in notices] == [
                r.body if "sign" not in r.body and "sign" not in r.query else _unsigned(r.body)
                for r in webhooks.accepted()
                if _token_target(r) == name
            ]
    # 机械学院: a doubt, complete; 材料学院: complete (late); 经管学院: a correction;
    # the staff reject: a correction; the broken message: failed; the digest
    expected = Counter(doubt=1, complete=2, correction=2, failed=1, digest=1)
    assert all(events[name] == expected for name in TARGETS), events
    assert all(texts[name] == texts["企业微信群"] for name in TARGETS)
    wecom = texts["企业微信群"]
    assert any(t.startswith("【待核对】") and "seal" not in t and JIXIE in t for t in wecom)
    assert sum(t.startswith("【已发更正通知】") for t in wecom) == 2
    assert any("经 张老师 核对改判为需更正" in t for t in wecom)
    assert any(t.startswith("【来信处理失败】") and "identify bug" in t for t in wecom)
    assert any(t.startswith("【日报】") for t in wecom)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "requests.json").write_text(
        json.dumps(
            [
                {
                    "target": _token_target(r),
                    "path": r.path,
                    "query": sorted(r.query),
                    "body": r.body,
                }
                for r in webhooks.accepted()
            ],
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )


def _unsigned(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("timestamp", "sign")}


def _token_target(request) -> str:  # noqa: ANN001
    token = request.query.get("key") or request.query.get("access_token")
    token = token or request.path.rsplit("/", 1)[-1]
    return {
        "wecom-key-0001": "企业微信群",
        "ding-plain": "钉钉群",
        "ding-signed": "钉钉加签",
        "fs-plain": "飞书群",
        "fs-signed": "飞书加签",
    }[token]


def test_a_refused_reply_is_a_failed_notice(tmp_path, webhooks, smtp_server):
    config = write_config(tmp_path, smtp=smtp_server, extra=WECOM_ONLY)
    settings = load_settings(config)
    smtp_server.refuse("jixie@example.edu.cn")
    sessions, pipeline = open_pipeline(settings)
    raw = submission(JIXIE, "jixie@example.edu.cn", arrived=DEADLINE - timedelta(days=1))
    import_messages(settings, pipeline, sessions, [LocalMessage("a.eml", raw, DEADLINE)])
    [failed] = [r.text for r in webhooks.accepted() if r.text.startswith("【回执未能发出】")]
    assert "jixie@example.edu.cn" in failed and "550" in failed


@pytest.mark.parametrize("mode", ["500", "code"])
def test_a_provider_outage_delays_no_receipt_and_is_listed_in_status(
    tmp_path, webhooks, smtp_server, capsys, mode
):
    webhooks.fail["wecom-key-0001"] = mode
    config = write_config(tmp_path, smtp=smtp_server, extra=WECOM_ONLY)
    settings = load_settings(config)
    sessions, pipeline = open_pipeline(settings)
    raws = [
        LocalMessage(f"{n}.eml", raw, DEADLINE - timedelta(days=1))
        for n, raw in enumerate(campaign_mails())
    ]
    import_messages(settings, pipeline, sessions, raws)
    assert len(smtp_server.messages) == 3  # every receipt went at once
    # one attempt for the refusing robot in this flush, its other notices wait with it
    assert len(webhooks.received) == 1 and not webhooks.received[0].ok
    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert "企业微信群（企业微信）：已发送 0，待发送 4" in out
    assert ("HTTP 500" if mode == "500" else "errcode=") in out
    assert "wecom-key-0001" not in out and "127.0.0.1" not in out
    webhooks.fail.clear()
    send_replies(settings, sessions, clock=lambda: datetime.now(UTC) + timedelta(hours=2))
    assert len(webhooks.accepted()) == 4 and len(smtp_server.messages) == 3
    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert "已发送 4，待发送 0" in out and "拒收" not in out


KILLS = [("queued", 2), ("notice_sending", 1), ("notice_sending", 3), ("notice_sent_unrecorded", 2)]


@pytest.mark.parametrize("point, nth", KILLS, ids=[f"{p}-{n}" for p, n in KILLS])
def test_kill_9_repeats_a_notice_only_in_its_window(
    tmp_path, webhooks, dovecot, smtp_server, point, nth
):
    for number, raw in enumerate(campaign_mails()):
        dovecot.append(raw, internaldate=DEADLINE - timedelta(days=1, minutes=-number))
    config = write_config(tmp_path, dovecot=dovecot, smtp=smtp_server, extra=NOTIFY)
    env = {**INTAKE_ENV, **webhooks.env}

    def poll(**more: str) -> int:
        # output to a file: a pipe would wait for helpers the kill orphaned
        with (tmp_path / "poll.log").open("a") as log:
            return subprocess.run(
                [*INTAKE, "--config", str(config), "poll"],
                stdout=log,
                stderr=log,
                timeout=600,
                env={**env, **more},
                cwd=tmp_path,
            ).returncode

    assert poll(INTAKE_KILL_AT=f"{point}:{nth}") == -9
    assert poll() == 0, (tmp_path / "poll.log").read_text()
    # every receipt once (no mail is in a window here)
    answered = Counter(
        m.data.split(b"In-Reply-To:")[1].split(b"\n")[0] for m in smtp_server.messages
    )
    assert len(answered) == 3 and set(answered.values()) == {1}
    assert all(r.ok for r in webhooks.received)
    posted = Counter(
        (_token_target(r), json.dumps(_unsigned(r.body), ensure_ascii=False))
        for r in webhooks.accepted()
    )
    assert len(posted) == 4 * len(TARGETS)  # doubt, correction and two completes, each target
    repeated = [key for key, count in posted.items() if count > 1]
    if point == "notice_sent_unrecorded":
        assert len(repeated) == 1 and posted[repeated[0]] == 2  # the one in flight, identical
    else:
        assert repeated == []
