"""Work-chat notices (企业微信, 钉钉, 飞书) against a local server that checks each provider's
request format and signature: the bodies, signing, refusals, backoff, exactly once, config."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake.config import ConfigError, parse_settings
from notifier.outbox import DeliveryPolicy
from notifier.webhooks import (
    NOTICE_SENDING,
    NOTICE_SENT_UNRECORDED,
    NotifyTarget,
    WebhookError,
    WebhookSender,
    dingtalk_sign,
    feishu_sign,
    flush_notices,
    queue_notice,
    request_body,
)
from tests.helpers.webhook_server import WebhookServer
from tracker import notices as stored
from tracker.db import open_database

TEXT = "【待核对】2022年基层党组织活动方案立项\n机械工程与自动化学院分党委有文件需工作人员核对"
FAST = DeliveryPolicy(retry_initial_seconds=60, retry_max_seconds=3600)


@pytest.fixture
def server():  # noqa: ANN201
    server = WebhookServer(secrets={"ding-signed": "SECdingsecret", "fs-signed": "fs-secret"})
    server.start()
    yield server
    server.stop()


def targets(server: WebhookServer) -> tuple[tuple[NotifyTarget, ...], dict[str, str]]:
    """One target of each provider and variant, with the environment holding their addresses."""
    env = {
        "WECOM_URL": server.wecom_url("wecom-key"),
        "DING_URL": server.dingtalk_url("ding-plain"),
        "DING_SIGNED_URL": server.dingtalk_url("ding-signed"),
        "DING_SECRET": "SECdingsecret",
        "FS_URL": server.feishu_url("fs-plain"),
        "FS_SIGNED_URL": server.feishu_url("fs-signed"),
        "FS_SECRET": "fs-secret",
    }
    found = (
        NotifyTarget("企业微信群", "wecom", "WECOM_URL", max_per_minute=6000),
        NotifyTarget("钉钉群", "dingtalk", "DING_URL", max_per_minute=6000),
        NotifyTarget(
            "钉钉加签", "dingtalk", "DING_SIGNED_URL", secret_env="DING_SECRET", max_per_minute=6000
        ),
        NotifyTarget("飞书群", "feishu", "FS_URL", max_per_minute=6000),
        NotifyTarget(
            "飞书加签", "feishu", "FS_SIGNED_URL", secret_env="FS_SECRET", max_per_minute=6000
        ),
    )
    return found, env


def test_each_provider_gets_its_documented_request(server):
    found, env = targets(server)
    sender = WebhookSender(env=env)
    for target in found:
        sender.send(target, request_body(target.kind, TEXT))
    assert [r.error for r in server.received] == [""] * 5
    wecom, ding, ding_signed, feishu, feishu_signed = server.received
    assert wecom.body == {"msgtype": "text", "text": {"content": TEXT}}
    assert ding.body == {"msgtype": "text", "text": {"content": TEXT}}
    assert set(ding_signed.query) == {"access_token", "timestamp", "sign"}
    assert feishu.body == {"msg_type": "text", "content": {"text": TEXT}}
    assert set(feishu_signed.body) == {"timestamp", "sign", "msg_type", "content"}


def test_signatures_follow_the_providers_examples():
    # 钉钉's Python example: hmac(secret, "timestamp\nsecret", sha256), base64, quote_plus
    secret, stamp = "this is secret", 1577262236757
    digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    assert dingtalk_sign(secret, stamp) == urllib.parse.quote_plus(base64.b64encode(digest))
    # 飞书's: hmac(key = "timestamp\nsecret", message = "", sha256), base64
    key = b"1599360473\nsecret"
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert feishu_sign("secret", 1599360473) == expected


def test_a_wrong_secret_is_refused_by_the_provider(server):
    found, env = targets(server)
    sender = WebhookSender(env={**env, "DING_SECRET": "SECwrong", "FS_SECRET": "wrong"})
    for target in (found[2], found[4]):
        with pytest.raises(WebhookError, match="errcode=(310000|19021)"):
            sender.send(target, request_body(target.kind, TEXT))


def test_a_200_with_a_nonzero_code_and_a_500_are_failures_that_never_show_the_url(server):
    found, env = targets(server)
    server.fail["wecom-key"] = "code"
    server.fail["fs-plain"] = "500"
    sender = WebhookSender(env=env)
    with pytest.raises(WebhookError, match="errcode=40008") as refused:
        sender.send(found[0], request_body("wecom", TEXT))
    with pytest.raises(WebhookError, match="HTTP 500") as failed:
        sender.send(found[3], request_body("feishu", TEXT))
    for error in (refused.value, failed.value):
        assert "wecom-key" not in str(error) and "127.0.0.1" not in str(error)
    with pytest.raises(WebhookError, match="环境变量 WECOM_URL 未设置"):
        WebhookSender(env={}).send(found[0], request_body("wecom", TEXT))
    with pytest.raises(WebhookError) as unknown:
        WebhookSender(env={"WECOM_URL": "ftp://example.invalid/?key=topsecretkey"}).send(
            found[0], request_body("wecom", TEXT)
        )
    assert "topsecretkey" not in str(unknown.value)


def test_wecom_text_is_cut_to_2048_bytes(server):
    found, env = targets(server)
    WebhookSender(env=env).send(found[0], request_body("wecom", "字" * 5000))
    [got] = server.received
    assert got.ok and len(got.text.encode()) <= 2048 and got.text.endswith("……")


def database(tmp_path: Path):  # noqa: ANN201
    return open_database(f"sqlite:///{tmp_path / 'n.db'}")


def test_a_notice_is_queued_once_per_key_and_posted_once(tmp_path, server):
    found, env = targets(server)
    sessions, now = database(tmp_path), datetime.now(UTC)
    for _ in range(2):  # the same event twice (a message processed again)
        with sessions() as session:
            queue_notice(session, found, "doubt", key="message:1", text=TEXT, now=now)
            session.commit()
    steps: list[str] = []
    result = flush_notices(sessions, found, sender=WebhookSender(env=env), step=steps.append)
    assert result == {"sent": 5, "retry": 0, "failed": 0}
    assert steps == [NOTICE_SENDING, NOTICE_SENT_UNRECORDED] * 5
    assert flush_notices(sessions, found, sender=WebhookSender(env=env))["sent"] == 0
    assert len(server.accepted()) == 5
    with sessions() as session:
        [notice] = stored.notices_for(session, "企业微信群")
        assert json.loads(notice.body) == {"msgtype": "text", "text": {"content": TEXT}}
        assert notice.state == "sent" and notice.key == "doubt:message:1"


def test_a_stopping_service_posts_nothing_more(tmp_path, server):
    found, env = targets(server)
    sessions, now = database(tmp_path), datetime.now(UTC)
    with sessions() as session:
        queue_notice(session, found, "doubt", key="m", text=TEXT, now=now)
        session.commit()
    sender = WebhookSender(env=env)
    assert flush_notices(sessions, found, sender=sender, should_stop=lambda: True)["sent"] == 0
    assert server.received == []


def test_only_the_events_a_target_wants(tmp_path, server):
    found, env = targets(server)
    only_digest = (NotifyTarget("日报群", "wecom", "WECOM_URL", events=("digest",)),)
    sessions, now = database(tmp_path), datetime.now(UTC)
    with sessions() as session:
        assert queue_notice(session, only_digest, "doubt", key="m", text=TEXT, now=now) == 0
        assert queue_notice(session, only_digest, "digest", key="d", text=TEXT, now=now) == 1
        session.commit()


def test_a_refusing_target_backs_off_alone_and_the_others_go(tmp_path, server):
    found, env = targets(server)
    server.fail["ding-plain"] = "500"
    sessions, start = database(tmp_path), datetime.now(UTC)
    with sessions() as session:
        for number in range(3):
            queue_notice(session, found, "doubt", key=f"m{number}", text=TEXT, now=start)
        session.commit()
    sender = WebhookSender(env=env)
    result = flush_notices(sessions, found, sender=sender, policy=FAST, clock=lambda: start)
    assert result == {"sent": 12, "retry": 3, "failed": 0}
    # the refusing target was tried once in this flush: its other notices wait with it
    assert len([r for r in server.received if r.query.get("access_token") == "ding-plain"]) == 1
    waits = []
    for hour in (0, 1, 2):
        now = start + timedelta(minutes=1, hours=hour * 2)
        flush_notices(sessions, found, sender=sender, policy=FAST, clock=lambda now=now: now)
        with sessions() as session:
            first = stored.notices_for(session, "钉钉群")[0]
            waits.append(first.next_attempt_at - now)
            assert first.state == "queued" and first.last_error.startswith("HTTP 500")
    assert waits == [timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    server.fail.clear()
    later = start + timedelta(hours=8)
    assert flush_notices(sessions, found, sender=sender, policy=FAST, clock=lambda: later) == {
        "sent": 3,
        "retry": 0,
        "failed": 0,
    }
    with sessions() as session:
        standing = stored.target_standing(session, "钉钉群")
        assert standing["counts"] == {"sent": 3} and standing["failing"] is None


def test_a_notice_queued_for_a_resting_target_waits_with_the_refused_one(tmp_path, server):
    """A receipt's flush after the target refused tries nothing: the notice queued since waits
    for the same time, and the other targets still get theirs."""
    found, env = targets(server)
    server.fail["ding-plain"] = "500"
    sessions, start = database(tmp_path), datetime.now(UTC)
    sender = WebhookSender(env=env)
    with sessions() as session:
        queue_notice(session, found, "doubt", key="m1", text=TEXT, now=start)
        session.commit()
    flush_notices(sessions, found, sender=sender, policy=FAST, clock=lambda: start)
    with sessions() as session:
        queue_notice(session, found, "complete", key="u1", text=TEXT, now=start)
        session.commit()
    soon = start + timedelta(seconds=5)
    result = flush_notices(sessions, found, sender=sender, policy=FAST, clock=lambda: soon)
    assert result == {"sent": 4, "retry": 1, "failed": 0}
    assert len([r for r in server.received if r.query.get("access_token") == "ding-plain"]) == 1
    with sessions() as session:
        first, second = stored.notices_for(session, "钉钉群")
        assert second.attempts == 0 and second.last_error == first.last_error
        assert second.next_attempt_at == first.next_attempt_at > soon


def test_a_notice_too_old_is_given_up(tmp_path, server):
    found, env = targets(server)
    sessions, start = database(tmp_path), datetime.now(UTC)
    with sessions() as session:
        queue_notice(session, found[:1], "failed", key="x", text=TEXT, now=start)
        session.commit()
    later = start + timedelta(hours=49)
    result = flush_notices(sessions, found, sender=WebhookSender(env=env), clock=lambda: later)
    assert result == {"sent": 0, "retry": 0, "failed": 1} and server.received == []


BASE = {
    "campaign": {"name": "x", "deadline": datetime(2022, 4, 1, 9, tzinfo=UTC)},
    "smtp": {"outbox_dir": "outbox", "from": "党委组织部 <zzb@example.edu.cn>"},
}


def settings_with(*entries: dict):  # noqa: ANN201
    return parse_settings({**BASE, "notify": list(entries)}, base_dir=Path("."))


def test_notify_entries_are_read_with_their_defaults():
    wecom, ding = settings_with(
        {"kind": "wecom", "url_env": "INTAKE_WECOM_WEBHOOK"},
        {
            "kind": "dingtalk",
            "name": "值班群",
            "url_env": "DING",
            "secret_env": "DING_SECRET",
            "events": ["doubt", "failed"],
        },
    ).notify
    assert wecom.name == "INTAKE_WECOM_WEBHOOK" and wecom.events == (
        "doubt",
        "correction",
        "complete",
        "failed",
        "digest",
    )
    assert ding.label == "值班群（钉钉）" and ding.secret_env == "DING_SECRET"
    assert ding.events == ("doubt", "failed")


@pytest.mark.parametrize(
    "entry, key",
    [
        ({"kind": "slack", "url_env": "X"}, "notify[1].kind"),
        ({"kind": "wecom"}, "notify[1].url_env"),
        ({"kind": "wecom", "url_env": "https://qyapi.weixin.qq.com/?key=k"}, "notify[1].url_env"),
        ({"kind": "wecom", "url_env": "X", "secret_env": "S"}, "notify[1].secret_env"),
        ({"kind": "feishu", "url_env": "X", "secret_env": 3}, "notify[1].secret_env"),
        ({"kind": "wecom", "url_env": "X", "events": ["doubt", "holiday"]}, "notify[1].events"),
        ({"kind": "wecom", "url_env": "X", "events": []}, "notify[1].events"),
        ({"kind": "wecom", "url_env": "X", "url": "https://x"}, "notify[1].url"),
        ({"kind": "wecom", "url_env": "X", "max_per_minute": 0}, "notify[1].max_per_minute"),
    ],
)
def test_a_bad_notify_entry_is_one_line_naming_the_key(entry, key):
    with pytest.raises(ConfigError) as error:
        settings_with(entry)
    assert key in str(error.value) and "\n" not in str(error.value)


def test_two_notify_entries_with_one_name_are_refused():
    with pytest.raises(ConfigError, match=r"notify\[2\]\.name"):
        settings_with({"kind": "wecom", "url_env": "A"}, {"kind": "feishu", "url_env": "A"})
