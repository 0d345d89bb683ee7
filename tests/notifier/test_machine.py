"""notifier.machine: every machine signal gives a reason, a person's mail gives None."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from intake.samples import mail
from notifier.machine import machine_reason
from parsers.mail import parse_message

CN = timezone(timedelta(hours=8))
SENT = datetime(2022, 3, 31, 10, 0, tzinfo=CN)
OWN = ["党委组织部 <zzb@example.edu.cn>", "ZZB-notify@example.edu.cn"]


def _mail(style="outlook", sender="机械学院 <jixie@example.edu.cn>", **extra):
    headers = {name.replace("_", "-"): value for name, value in extra.items()}
    return parse_message(
        mail.build_message(
            sender=sender,
            to="zzb@example.edu.cn",
            subject="机械学院立项材料",
            body="请查收。",
            attachments=[("总结.docx", b"PK")],
            style=style,
            date=SENT,
            extra_headers=headers,
        )
    )


@pytest.mark.parametrize(
    "style,sender",
    [
        ("foxmail", "王喆 <wangzhe1986@qq.com>"),
        ("qq", "张老师 <123456789@qq.com>"),
        ("netease", "hgxy_dangwei@163.com"),
        ("outlook", "jixie@example.edu.cn"),
        ("raw8bit", "图书馆 <tushuguan@example.edu.cn>"),
    ],
)
def test_a_person_gets_none(style, sender):
    assert machine_reason(_mail(style, sender), OWN) is None


def test_auto_submitted_no_is_a_person():
    assert machine_reason(_mail(Auto_Submitted="no"), OWN) is None


@pytest.mark.parametrize(
    "headers,expected",
    [
        ({"Return-Path": "<>"}, "null sender"),
        ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted"),
        ({"Auto-Submitted": "auto-generated; owner-email=x@y.cn"}, "Auto-Submitted"),
        ({"Precedence": "bulk"}, "Precedence"),
        ({"Precedence": "junk"}, "Precedence"),
        ({"Precedence": "list"}, "Precedence"),
        ({"Precedence": "auto_reply"}, "Precedence"),
        ({"X-Autoreply": "yes"}, "X-Autoreply"),
        ({"X-Autorespond": "Out of office"}, "X-Autorespond"),
        ({"X-Auto-Response-Suppress": "All"}, "X-Auto-Response-Suppress"),
        ({"X-Loop": "zzb@example.edu.cn"}, "X-Loop"),
        ({"X-Failed-Recipients": "old@example.edu.cn"}, "X-Failed-Recipients"),
        ({"List-Id": "<dangjian.lists.example.edu.cn>"}, "List-Id"),
        ({"List-Unsubscribe": "<mailto:unsubscribe@lists.example.edu.cn>"}, "List-Unsubscribe"),
    ],
)
def test_each_header_signal(headers, expected):
    reason = machine_reason(_mail(**{k.replace("-", "_"): v for k, v in headers.items()}), OWN)
    assert reason is not None and expected in reason


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@mx.example.edu.cn",
        "postmaster@example.edu.cn",
        "Abuse@example.edu.cn",
        "noreply@example.edu.cn",
        "No-Reply <no-reply@service.example.com>",
    ],
)
def test_system_senders(sender):
    assert "system sender" in machine_reason(_mail(sender=sender), OWN)


def test_our_own_address():
    assert "own address" in machine_reason(_mail(sender="组织部 <ZZB@example.edu.cn>"), OWN)
    assert "own address" in machine_reason(_mail(sender="zzb-notify@example.edu.cn"), OWN)


def test_bounce_and_auto_reply_samples():
    bounce = parse_message(
        mail.bounce(
            to="zzb@example.edu.cn",
            failed_recipient="old@example.edu.cn",
            original_subject="通知",
            date=SENT,
        )
    )
    assert machine_reason(bounce, OWN)
    auto = parse_message(
        mail.auto_reply(
            sender="makesi@example.edu.cn", to="zzb@example.edu.cn", subject="通知", date=SENT
        )
    )
    assert "Auto-Submitted" in machine_reason(auto, OWN)


def test_multipart_report_alone():
    raw = (
        b"From: someone@example.com\nSubject: report\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nfailed\n--b--\n"
    )
    assert "delivery status" in machine_reason(parse_message(raw), OWN)
    other = raw.replace(b"delivery-status", b"disposition-notification")
    assert "multipart/report" in machine_reason(parse_message(other), OWN)
