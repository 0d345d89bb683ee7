"""``intake run`` as a real process against real Dovecot and aiosmtpd: IDLE, reminders, signals, the
lock."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from intake.cli import main
from tests.helpers.campaign import CHINA, DEADLINE, INTAKE, INTAKE_ENV, submission, write_config

BEFORE = DEADLINE - timedelta(days=1)
JIXIE = "机械工程与自动化学院分党委"


@contextmanager
def running(config: Path, log: Path) -> Iterator[subprocess.Popen]:
    """``intake run`` in the background, its output in ``log``; stopped by its own PID."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [*INTAKE, "--config", str(config), "run"], stdout=out, stderr=out, env=INTAKE_ENV
        )
    try:
        wait_for(lambda: "已启动".encode() in log.read_bytes() or process.poll() is not None, 30)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition, timeout: float) -> bool:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def subjects(smtp_server) -> list[str]:  # noqa: ANN001
    return [
        str(message_from_bytes(m.data, policy=default_policy)["Subject"])
        for m in smtp_server.messages
    ]


def test_mail_appended_while_idling_is_answered_without_a_poll(tmp_path, dovecot, smtp_server):
    config = write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp_server,
        service='poll_interval = 3600\nreminders = []\nafter_deadline_notice = ""',
    )
    with running(config, tmp_path / "run.log"):
        time.sleep(1.0)  # let it enter IDLE
        appended = time.monotonic()
        dovecot.append(
            submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE), internaldate=BEFORE
        )
        assert wait_for(lambda: len(smtp_server.messages) == 1, 20), (
            tmp_path / "run.log"
        ).read_text()
        latency = time.monotonic() - appended
    log = (tmp_path / "run.log").read_text()
    assert "IDLE：服务器通知有新邮件" in log
    assert latency < 3600  # answered long before the next poll would have run
    print(f"APPEND to reply: {latency:.2f} s")


def test_reminder_goes_to_units_missing_items_once_and_not_to_complete_ones(
    tmp_path, dovecot, smtp_server
):
    deadline = (
        (datetime.now(UTC) + timedelta(days=3, minutes=-1)).astimezone(CHINA).replace(microsecond=0)
    )
    config = write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp_server,
        deadline=deadline,
        service='reminders = ["3d", "1d"]\nafter_deadline_notice = ""\npoll_interval = 3600',
    )
    eml = tmp_path / "complete.eml"
    eml.write_bytes(
        submission(JIXIE, "jixie@example.edu.cn", arrived=datetime.now(CHINA) - timedelta(hours=1))
    )
    assert main(["--config", str(config), "import", "--no-reply", str(eml)]) == 0
    with running(config, tmp_path / "run.log"):
        assert wait_for(lambda: len(smtp_server.messages) >= 4, 20), (
            tmp_path / "run.log"
        ).read_text()
        time.sleep(1.0)
    recipients = sorted(m.rcpt_tos[0] for m in smtp_server.messages)
    assert recipients == [
        "cailiao@example.edu.cn",
        "jingguan@example.edu.cn",
        "jsj@example.edu.cn",
        "waiyu@example.edu.cn",
    ]
    body = (
        message_from_bytes(smtp_server.messages[0].data, policy=default_policy)
        .get_body(("plain",))
        .get_content()
    )
    assert "工作总结（电子版）" in body and "立项结果汇总表（盖章扫描件）" in body
    assert all(s.startswith("【报送提醒】") for s in subjects(smtp_server))
    with running(config, tmp_path / "run2.log"):
        time.sleep(2.0)
    assert len(smtp_server.messages) == 4  # each reminder at most once per unit and offset


def test_sigterm_in_the_middle_of_a_batch_loses_nothing(tmp_path, dovecot, smtp_server):
    config = write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp_server,
        service='reminders = []\nafter_deadline_notice = ""\npoll_interval = 3600',
    )
    for number in range(20):
        moment = BEFORE + timedelta(minutes=number)
        dovecot.append(
            submission(
                JIXIE,
                "jixie@example.edu.cn",
                arrived=moment,
                message_id=f"<batch{number}@example.edu.cn>",
                subject=f"机械学院材料{number}",
            ),
            internaldate=moment,
        )
    log = tmp_path / "run.log"
    with running(config, log) as process:
        assert wait_for(lambda: b"outcome=processed" in log.read_bytes(), 60), log.read_text()
        process.send_signal(signal.SIGTERM)  # in the middle of processing the batch
        assert process.wait(30) == 0
    with sqlite3.connect(tmp_path / "intake.db") as db:
        processed = db.execute(
            "SELECT count(*) FROM messages WHERE state = 'processed'"
        ).fetchone()[0]
        half_done = db.execute(
            "SELECT count(*) FROM messages WHERE state NOT IN ('processed', 'stored')"
        )
        assert half_done.fetchone()[0] == 0
    assert 1 <= processed < 20, "the signal should land before the batch is through"
    answered = len(smtp_server.messages)
    assert main(["--config", str(config), "poll"]) == 0
    replied_to = sorted(
        str(message_from_bytes(m.data, policy=default_policy)["In-Reply-To"])
        for m in smtp_server.messages
    )
    assert replied_to == sorted(f"<batch{n}@example.edu.cn>" for n in range(20))
    print(f"processed before SIGTERM took effect: {processed} of 20, replies sent: {answered}")


def test_a_second_instance_refuses_to_start(tmp_path, dovecot, smtp_server):
    config = write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp_server,
        service='reminders = []\nafter_deadline_notice = ""',
    )
    with running(config, tmp_path / "run.log"):
        second = subprocess.run(
            [*INTAKE, "--config", str(config), "run"],
            capture_output=True,
            text=True,
            timeout=60,
            env=INTAKE_ENV,
        )
    assert second.returncode == 2
    assert second.stderr.count("\n") == 1 and "另一个 intake run" in second.stderr
    assert "PID " in second.stderr


def test_status_shows_last_poll_queues_and_next_jobs(tmp_path, dovecot, smtp_server, capsys):
    deadline = (datetime.now(UTC) + timedelta(days=10)).astimezone(CHINA).replace(microsecond=0)
    config = write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp_server,
        deadline=deadline,
        service='staff = ["zzb-staff@example.edu.cn"]\ndigest_time = "08:00"',
    )
    with running(config, tmp_path / "run.log"):
        time.sleep(1.0)
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert "上次收信：" in out and "新邮件 0 封" in out
    assert "发送提醒（截止前 3 天）：下次 " in out and "工作人员日报：下次 " in out
    assert "发送待发回执（含重试）：下次 " in out and "reminder-before-3d" not in out
    assert os.path.exists(str(tmp_path / "intake.db.lock"))


def test_daily_digest_goes_to_staff_once_with_the_xlsx_report(tmp_path, smtp_server):
    import io

    from openpyxl import load_workbook

    from intake import jobs

    config = write_config(
        tmp_path,
        smtp=smtp_server,
        service='staff = ["leader@example.edu.cn", "zzb2@example.edu.cn"]',
    )
    eml = tmp_path / "one.eml"
    eml.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    assert main(["--config", str(config), "import", "--no-reply", str(eml)]) == 0
    assert jobs.send_digest(str(config)) == 2
    assert jobs.send_digest(str(config)) == 0  # once a day
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "leader@example.edu.cn",
        "zzb2@example.edu.cn",
    ]
    digest = message_from_bytes(smtp_server.messages[0].data, policy=default_policy)
    assert (
        str(digest["Subject"]).startswith("【日报】")
        and digest["Auto-Submitted"] == "auto-generated"
    )
    body = digest.get_body(("plain",)).get_content()
    assert "完成 1/5" in body and "计算机学院分党委：工作总结（电子版）" in body
    [attachment] = list(digest.iter_attachments())
    assert attachment.get_filename().endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(attachment.get_content()))
    assert "报送情况" in workbook.sheetnames


def test_after_deadline_notice_goes_to_units_still_missing_something(tmp_path, smtp_server):
    from intake import jobs

    config = write_config(tmp_path, smtp=smtp_server)
    eml = tmp_path / "one.eml"
    eml.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    assert main(["--config", str(config), "import", "--no-reply", str(eml)]) == 0
    assert jobs.send_reminder(str(config), "after-deadline") == 4
    assert jobs.send_reminder(str(config), "after-deadline") == 0
    assert "jixie@example.edu.cn" not in [m.rcpt_tos[0] for m in smtp_server.messages]
    assert (
        all(s.startswith("【逾期提醒】") for s in subjects(smtp_server))
        and len(smtp_server.messages) == 4
    )


def test_idle_is_renewed_before_the_server_timeout(tmp_path, dovecot, smtp_server):
    config = write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp_server,
        service="idle_timeout = 1\npoll_interval = 3600\nreminders = []\n"
        'after_deadline_notice = ""',
    )
    log = tmp_path / "run.log"
    with running(config, log):
        assert wait_for(lambda: log.read_text().count("重新等待") >= 2, 20), log.read_text()
        dovecot.append(
            submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE), internaldate=BEFORE
        )
        assert wait_for(lambda: len(smtp_server.messages) == 1, 20), log.read_text()


def test_without_idle_the_service_polls(tmp_path, smtp_server):
    from tests.helpers.servers import DovecotServer

    server = DovecotServer(
        extra_config="imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+"
    )
    server.start()
    try:
        config = write_config(
            tmp_path,
            dovecot=server,
            smtp=smtp_server,
            service='poll_interval = 1\nreminders = []\nafter_deadline_notice = ""',
        )
        log = tmp_path / "run.log"
        with running(config, log):
            time.sleep(1.5)
            server.append(
                submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE), internaldate=BEFORE
            )
            assert wait_for(lambda: len(smtp_server.messages) == 1, 20), log.read_text()
        assert "IDLE" not in log.read_text()
    finally:
        server.cleanup()


def test_a_broken_connection_falls_back_to_polling_and_reconnects(
    tmp_path, dovecot, tcp_proxy, smtp_server
):
    config = write_config(
        tmp_path,
        dovecot=tcp_proxy,
        smtp=smtp_server,
        service='poll_interval = 1\nreminders = []\nafter_deadline_notice = ""',
    )
    log = tmp_path / "run.log"
    with running(config, log):
        time.sleep(1.0)
        assert tcp_proxy.drop_connections() >= 1
        dovecot.append(
            submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE), internaldate=BEFORE
        )
        assert wait_for(lambda: len(smtp_server.messages) == 1, 30), log.read_text()
    assert "邮箱无法连接" in log.read_text()
