"""End to end on real servers: Dovecot delivers, the pipeline records, aiosmtpd receives the
replies."""

from __future__ import annotations

import email
import time
from datetime import timedelta
from email.policy import default as default_policy

import pytest

from intake.reporting import report_data
from intake.samples import documents, mail, scans
from intake.service import open_pipeline, poll_once, send_replies
from tests.helpers.campaign import CHINA, DEADLINE, DEPT, later, make_settings, submission

BEFORE = DEADLINE - timedelta(days=2)
AFTER = DEADLINE + timedelta(hours=20)


def parse_reply(received) -> email.message.EmailMessage:  # noqa: ANN001
    return email.message_from_bytes(received.data, policy=default_policy)


def reply_text(received) -> str:  # noqa: ANN001
    return parse_reply(received).get_body(("plain",)).get_content()


def unit_report(report: dict, name: str) -> dict:
    return next(u for u in report["subcommittees"] if u["name"] == name)


@pytest.fixture
def service(tmp_path, dovecot, smtp_server):  # noqa: ANN001, ANN201
    settings = make_settings(tmp_path, dovecot=dovecot, smtp=smtp_server)
    sessions, pipeline = open_pipeline(settings)

    class Service:
        def poll(self, **kwargs):  # noqa: ANN003, ANN202
            return poll_once(settings, pipeline, sessions, **kwargs)

        def report(self) -> dict:
            return report_data(settings, sessions)

    service = Service()
    service.settings, service.sessions, service.pipeline = settings, sessions, pipeline
    return service


def test_complete_on_time_unit_gets_one_receipt_saying_all_arrived(service, dovecot, smtp_server):
    unit = "机械工程与自动化学院分党委"
    dovecot.append(
        submission(unit, "jixie@example.edu.cn", arrived=BEFORE, message_id="<m1@example.edu.cn>"),
        internaldate=BEFORE,
    )
    result = service.poll()
    assert result.stored == 1 and result.sent["sent"] == 1
    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received.rcpt_tos == ["jixie@example.edu.cn"] and received.mail_from == DEPT
    reply = parse_reply(received)
    assert reply["Auto-Submitted"] == "auto-replied"
    assert (
        reply["In-Reply-To"] == "<m1@example.edu.cn>"
        and "<m1@example.edu.cn>" in reply["References"]
    )
    assert str(reply["Subject"]).startswith("【自动回执】")
    text = reply_text(received)
    assert (
        unit in text
        and "按时送达" in text
        and "四项材料均已收到" in text
        and "需更正：" not in text
    )
    report = unit_report(service.report(), unit)
    assert report["complete"] is True
    assert {k: v["status"] for k, v in report["items"].items()} == dict.fromkeys(
        ("summary", "summary_scan", "table", "table_scan"), "on_time"
    )
    assert report["items"]["table"]["received_at"] == BEFORE.isoformat()
    assert service.poll().stored == 0 and len(smtp_server.messages) == 1


def test_foxmail_gbk_message_from_personal_qq_address_is_identified_by_subject(
    service, dovecot, smtp_server
):
    unit = "材料科学与工程学院分党委"
    table = ("2022年材料学院立项结果汇总表.xlsx", documents.table_xlsx(unit))
    raw = submission(
        unit,
        "王喆 <12345678@qq.com>",
        arrived=BEFORE,
        style="foxmail",
        subject="材料学院立项汇总表（王喆、朱镕报送）",
        attachments=[table],
    )
    assert b"X-Mailer: Foxmail" in raw
    dovecot.append(raw, internaldate=BEFORE)
    service.poll()
    assert [m.rcpt_tos for m in smtp_server.messages] == [["12345678@qq.com"]]
    text = reply_text(smtp_server.messages[0])
    assert (
        unit in text
        and "2022年材料学院立项结果汇总表.xlsx" in text
        and "立项结果汇总表（电子版）" in text
    )
    assert "工作总结（电子版）" in text.split("目前仍缺少")[1]
    items = unit_report(service.report(), unit)["items"]
    assert items["table"]["status"] == "on_time" and items["summary"]["status"] == "missing"


def test_late_unit_is_late_by_server_time_although_its_date_header_lies(
    service, dovecot, smtp_server
):
    unit = "经济管理学院分党委"
    dovecot.append(
        submission(unit, "jingguan@example.edu.cn", arrived=AFTER, date=BEFORE), internaldate=AFTER
    )
    service.poll()
    report = unit_report(service.report(), unit)
    assert {v["status"] for v in report["items"].values()} == {"late"}
    text = reply_text(smtp_server.messages[0])
    assert "已超过截止时间" in text and "工作总结（电子版）（逾期）" in text


def test_cp936_zip_members_are_unpacked_and_recorded_under_their_chinese_names(
    service, dovecot, smtp_server
):
    unit = "计算机学院分党委"
    archive = mail.zip_cp936(
        [
            (f"计算机学院{name}", data)
            for name, data in [
                ("工作总结.docx", documents.summary_docx(unit)),
                ("立项结果汇总表.xlsx", documents.table_xlsx(unit)),
            ]
        ]
    )
    dovecot.append(
        submission(
            unit,
            "jsj@example.edu.cn",
            arrived=BEFORE,
            attachments=[("计算机学院材料.zip", archive)],
        ),
        internaldate=BEFORE,
    )
    service.poll()
    items = unit_report(service.report(), unit)["items"]
    assert items["summary"]["status"] == "on_time" and items["table"]["status"] == "on_time"
    assert items["summary_scan"]["status"] == "missing"
    text = reply_text(smtp_server.messages[0])
    assert "计算机学院工作总结.docx" in text and "计算机学院立项结果汇总表.xlsx" in text


def test_big_attachment_link_is_a_problem_and_the_reply_asks_for_a_real_attachment(
    service, dovecot, smtp_server
):
    unit = "外国语学院分党委"
    raw = mail.netease_big_attachment(
        sender="waiyu@example.edu.cn",
        to=DEPT,
        subject="外语学院立项材料",
        files=[("外国语学院立项材料.zip", "68.5M")],
        date=BEFORE,
        arrived=BEFORE,
    )
    dovecot.append(raw, internaldate=BEFORE)
    service.poll()
    report = unit_report(service.report(), unit)
    assert [p["code"] for p in report["problems"]] == ["oversize_link"]
    assert all(v["status"] == "missing" for v in report["items"].values())
    assert "超大附件" in reply_text(smtp_server.messages[0])


def test_auto_reply_and_bounce_get_no_reply(service, dovecot, smtp_server):
    dovecot.append(
        mail.auto_reply(
            sender="jixie@example.edu.cn",
            to=DEPT,
            subject="【自动回执】材料",
            date=BEFORE,
            arrived=BEFORE,
        ),
        internaldate=BEFORE,
    )
    dovecot.append(
        mail.bounce(
            to=DEPT,
            failed_recipient="nobody@example.edu.cn",
            original_subject="催交通知",
            date=BEFORE,
            arrived=BEFORE,
        ),
        internaldate=BEFORE,
    )
    result = service.poll()
    assert result.stored == 2 and [o.state for o in result.outcomes] == ["processed", "processed"]
    assert smtp_server.messages == []
    assert service.report()["unassigned"] == []


def test_same_message_delivered_twice_is_recorded_once_and_answered_once(
    service, dovecot, smtp_server
):
    raw = submission(
        "机械工程与自动化学院分党委",
        "jixie@example.edu.cn",
        arrived=BEFORE,
        message_id="<twice@example.edu.cn>",
    )
    dovecot.append(raw, internaldate=BEFORE)
    dovecot.append(raw, internaldate=BEFORE + timedelta(minutes=1))
    result = service.poll()
    assert [o.state for o in result.outcomes] == ["processed", "duplicate"]
    assert len(smtp_server.messages) == 1


def test_unidentifiable_sender_is_unassigned_asked_and_then_assigned_by_staff(
    service, dovecot, smtp_server
):
    unit = "外国语学院分党委"
    raw = mail.build_message(
        sender="lihua2000@163.com",
        to=DEPT,
        subject="材料",
        style="netease",
        body="老师好，材料见附件。",
        date=BEFORE,
        arrived=BEFORE,
        message_id="<who@163.com>",
        attachments=[("汇总表扫描件.pdf", scans.scan_pdf("table_scan", unit))],
    )
    dovecot.append(raw, internaldate=BEFORE)
    service.poll()
    report = service.report()
    assert [m["message_id"] for m in report["unassigned"]] == ["who@163.com"]
    assert "无法确定您代表哪个单位" in reply_text(smtp_server.messages[0])

    from intake.cli import main

    assert (
        main(
            [
                "--config",
                str(service.settings.base_dir / "config.toml"),
                "assign",
                "who@163.com",
                "外语学院",
            ]
        )
        == 0
    )
    report = service.report()
    assert report["unassigned"] == []
    assert unit_report(report, unit)["items"]["table_scan"]["status"] == "on_time"
    assert len(smtp_server.messages) == 2
    assert "已将您的来信归入“外国语学院分党委”" in reply_text(smtp_server.messages[1])


def test_dropped_imap_connection_mid_batch_loses_and_repeats_nothing(
    tmp_path, dovecot, tcp_proxy, smtp_server
):
    settings = make_settings(tmp_path, dovecot=tcp_proxy, smtp=smtp_server)
    sessions, pipeline = open_pipeline(settings)
    for number in range(8):
        arrived = BEFORE + timedelta(minutes=number)
        dovecot.append(
            mail.build_message(
                sender="jixie@example.edu.cn",
                to=DEPT,
                subject=f"机械学院补充材料{number}",
                body="见附件",
                date=arrived,
                arrived=arrived,
                message_id=f"<drop{number}@example.edu.cn>",
            ),
            internaldate=arrived,
        )
    dropped = []

    def cut_after_third(outcome) -> None:  # noqa: ANN001
        if len(dropped) == 0 and outcome.message_id == 3:
            dropped.append(tcp_proxy.drop_connections())

    result = poll_once(settings, pipeline, sessions, progress=cut_after_third)
    assert dropped and dropped[0] >= 1
    assert result.stored == 8 and [o.state for o in result.outcomes] == ["processed"] * 8
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == ["jixie@example.edu.cn"] * 8
    assert poll_once(settings, pipeline, sessions).stored == 0


def test_smtp_down_then_up_sends_the_reply_once_later(service, dovecot, smtp_server):
    smtp_server.stop()
    dovecot.append(
        submission("机械工程与自动化学院分党委", "jixie@example.edu.cn", arrived=BEFORE),
        internaldate=BEFORE,
    )
    result = service.poll()
    assert result.sent == {"sent": 0, "retry": 1, "failed": 0, "held": 0}
    smtp_server.start()
    assert send_replies(service.settings, service.sessions)["sent"] == 0  # backoff: not due yet
    assert send_replies(service.settings, service.sessions, clock=later())["sent"] == 1
    assert send_replies(service.settings, service.sessions, clock=later())["sent"] == 0
    assert len(smtp_server.messages) == 1


def test_smtp_temporary_failure_is_retried_and_sent_once(service, dovecot, smtp_server):
    smtp_server.tempfail_data = True
    dovecot.append(
        submission("机械工程与自动化学院分党委", "jixie@example.edu.cn", arrived=BEFORE),
        internaldate=BEFORE,
    )
    assert service.poll().sent["retry"] == 1
    smtp_server.tempfail_data = False
    assert send_replies(service.settings, service.sessions, clock=later())["sent"] == 1
    assert len(smtp_server.messages) == 1


def test_crash_between_store_and_process_is_finished_by_the_next_run_with_one_reply(
    service, dovecot, smtp_server
):
    raw = submission("机械工程与自动化学院分党委", "jixie@example.edu.cn", arrived=BEFORE)
    stored = service.pipeline.ingest(raw, received_at=BEFORE, source="INBOX", uidvalidity=1, uid=99)
    assert stored is not None and smtp_server.messages == []
    result = service.poll()
    assert result.outcomes[0].message_id == stored and result.outcomes[0].state == "processed"
    assert len(smtp_server.messages) == 1
    service.poll()
    assert len(smtp_server.messages) == 1


def test_over_size_message_is_not_loaded_and_the_sender_is_told_the_limit(
    tmp_path, dovecot, smtp_server
):
    settings = make_settings(tmp_path, dovecot=dovecot, smtp=smtp_server, max_message_bytes=20_000)
    sessions, pipeline = open_pipeline(settings)
    big = submission("机械工程与自动化学院分党委", "jixie@example.edu.cn", arrived=BEFORE)
    assert len(big) > 20_000
    dovecot.append(big, internaldate=BEFORE)
    poll_once(settings, pipeline, sessions)
    text = reply_text(smtp_server.messages[0])
    assert "超过系统上限" in text and "19.5 KB" in text
    report = report_data(settings, sessions)
    unit = unit_report(report, "机械工程与自动化学院分党委")
    assert [p["code"] for p in unit["problems"]] == ["too_large"]


def test_received_times_are_reported_in_china_time(service, dovecot):
    dovecot.append(
        submission("机械工程与自动化学院分党委", "jixie@example.edu.cn", arrived=DEADLINE),
        internaldate=DEADLINE.astimezone(CHINA),
    )
    service.poll()
    item = unit_report(service.report(), "机械工程与自动化学院分党委")["items"]["summary"]
    assert item == {
        "status": "on_time",
        "received_at": "2022-04-01T17:00:00+08:00",
        "problems": item["problems"],
        "doubts": item["doubts"],
        "decisions": [],
        "required": True,
    }


def test_intake_poll_command_reads_the_mailbox_and_answers(tmp_path, dovecot, smtp_server, capsys):
    from intake.cli import main
    from tests.helpers.campaign import write_config

    config = write_config(tmp_path, dovecot=dovecot, smtp=smtp_server)
    dovecot.append(
        submission("机械工程与自动化学院分党委", "jixie@example.edu.cn", arrived=BEFORE),
        internaldate=BEFORE,
    )
    assert main(["--config", str(config), "poll"]) == 0
    assert "新邮件 1 封" in capsys.readouterr().out
    assert main(["--config", str(config), "poll"]) == 0
    assert "新邮件 0 封" in capsys.readouterr().out
    assert len(smtp_server.messages) == 1
    assert not any(b"\\Seen" in flags for flags in dovecot.flags().values())


def test_intake_poll_with_a_wrong_password_is_one_line(tmp_path, dovecot, capsys):
    from intake.cli import main
    from tests.helpers.campaign import write_config

    config = write_config(tmp_path, dovecot=dovecot)
    config.write_text(
        config.read_text(encoding="utf-8").replace(dovecot.password, "wrong"), encoding="utf-8"
    )
    assert main(["--config", str(config), "poll"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "IMAP" in err and "Traceback" not in err


def test_poll_sends_the_first_receipts_while_later_mail_is_still_processed(
    service, dovecot, smtp_server
):
    units = ["机械工程与自动化学院分党委", "材料科学与工程学院分党委", "经济管理学院分党委"]
    for number, unit in enumerate(units):
        arrived = BEFORE + timedelta(minutes=number)
        dovecot.append(
            submission(
                unit,
                f"u{number}@example.edu.cn",
                arrived=arrived,
                message_id=f"<early{number}@example.edu.cn>",
            ),
            internaldate=arrived,
        )
    sent_before_last = []

    def at_each_outcome(outcome) -> None:  # noqa: ANN001
        if outcome.message_id == len(units):  # the last message is recorded; the pass goes on
            deadline = time.monotonic() + 10
            while len(smtp_server.messages) < len(units) - 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            sent_before_last.append(len(smtp_server.messages))

    result = service.poll(progress=at_each_outcome)
    # the receipts of the first two left from the sender thread before the pass ended
    assert sent_before_last and sent_before_last[0] >= len(units) - 1
    assert result.sent == {"sent": len(units), "retry": 0, "failed": 0, "held": 0}
    assert len(smtp_server.messages) == len(units)  # each unit's receipt once, none twice
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        f"u{number}@example.edu.cn" for number in range(len(units))
    ]
