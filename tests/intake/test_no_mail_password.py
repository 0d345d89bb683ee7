"""Commands that only read need no mailbox password: ``report``, ``status``, the exports,
``import --no-reply`` and ``serve`` run with neither the IMAP nor the SMTP password set; the
commands that connect stop with one line naming the variable, and ``status`` shows it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from intake.config import load_settings
from intake.samples import scans
from intake.web.server import dashboard_app
from tests.helpers.campaign import CHINA, DEADLINE, INTAKE, INTAKE_ENV, submission, write_config
from tests.helpers.staff_campaign import JSJ, STRANGER

IMAP_VAR, SMTP_VAR = "INTAKE_TEST_UNSET_IMAP_PASSWORD", "INTAKE_TEST_UNSET_SMTP_PASSWORD"


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def config(tmp_path) -> Path:  # noqa: ANN001
    """A campaign whose IMAP and SMTP passwords come from variables nobody set (nothing listens on
    the servers' ports either: nothing may try to connect)."""
    nowhere = SimpleNamespace(host="127.0.0.1", port=unused_port(), user="dept", password="x")
    path = write_config(tmp_path, dovecot=nowhere, smtp=nowhere)
    text = path.read_text(encoding="utf-8")
    text = text.replace('password = "x"\n', f'password_env = "{IMAP_VAR}"\n')
    text = text.replace(
        "max_per_minute = 6000\n",
        f'max_per_minute = 6000\nusername = "dept"\npassword_env = "{SMTP_VAR}"\n',
    )
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)  # no secret inside
    eml = tmp_path / "stranger.eml"
    before = DEADLINE - timedelta(days=1)
    page = [("盖章页.pdf", scans.scan_pdf("summary_scan", "某单位"))]
    eml.write_bytes(  # from an unregistered address: staff file it under a unit
        submission("某单位", STRANGER, arrived=before, subject="材料", attachments=page)
    )
    return path


def no_password_env() -> dict[str, str]:
    env = {k: v for k, v in INTAKE_ENV.items() if k not in (IMAP_VAR, SMTP_VAR)}
    assert IMAP_VAR not in env and SMTP_VAR not in env
    return env


def intake(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*INTAKE, "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=no_password_env(),
        timeout=120,
        cwd=config.parent,
    )


def test_reading_commands_run_without_any_mailbox_password(config):
    stored = intake(config, "import", "--no-reply", str(config.parent / "stranger.eml"))
    assert stored.returncode == 0, stored.stderr
    report = intake(config, "report")
    assert report.returncode == 0, report.stderr
    assert "完成 0/5" in report.stdout and report.stderr == ""
    for export, name in (
        ("export-table", "all.xlsx"),
        ("export-cases", "cases.docx"),
        ("export-files", "files.zip"),
    ):
        written = intake(config, export, "--output", str(config.parent / name))
        assert written.returncode == 0 and (config.parent / name).exists(), written.stderr
    status = intake(config, "status")
    assert status.returncode == 0 and status.stderr == "", status.stderr
    assert "收取邮件（intake run" in status.stdout and "收取邮件（intake poll" in status.stdout

    # staff decisions and remind: recorded, their mail queued for the next poll
    for decision in (
        ("exempt", JSJ, "table_scan", "--reason", "本年度无立项"),
        ("extend", JSJ, "--until", "2022-04-03T17:00", "--reason", "学院换届"),
        ("mark", JSJ, "summary", "--received-at", "2022-04-01T10:00", "--reason", "纸质版"),
        ("undo", "2"),
        ("log",),
    ):
        done = intake(config, *decision)
        assert done.returncode == 0 and done.stderr == "", (decision, done.stderr)
    assert "由 " in done.stdout and "撤销" in done.stdout
    reminded = intake(config, "remind", JSJ)
    assert reminded.returncode == 0 and "排队" in reminded.stdout and SMTP_VAR in reminded.stdout


@pytest.mark.parametrize(
    "args, variable",
    [
        (("poll",), IMAP_VAR),
        (("run",), IMAP_VAR),
        (("import", "STRANGER"), SMTP_VAR),
        (("release-held",), SMTP_VAR),
    ],
)
def test_commands_that_connect_stop_with_one_line_naming_the_variable(config, args, variable):
    args = tuple(str(config.parent / "stranger.eml") if a == "STRANGER" else a for a in args)
    done = intake(config, *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and variable in done.stderr
    assert "Traceback" not in done.stderr


def test_status_shows_the_failed_poll_in_the_campaign_time_zone(config):
    assert intake(config, "poll").returncode == 2
    out = intake(config, "status").stdout
    poll = out.split("收取邮件（intake poll，单次）")[1]
    started = re.search(r"上次开始：(\S+ \S+)", poll).group(1)
    error = re.search(r"上次错误：(\S+ \S+)  (.+)", poll)
    assert IMAP_VAR in error.group(2) and "上次完成：无" in poll
    shown = datetime.strptime(error.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    assert abs(shown - datetime.now(CHINA)) < timedelta(minutes=2)  # +08:00, not UTC
    assert started <= error.group(1)
    assert "（上次 intake poll 尚未结束" not in poll


def test_serve_runs_without_passwords_and_answers(config):
    port = unused_port()
    server = subprocess.Popen(
        [*INTAKE, "--config", str(config), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=no_password_env(),
        cwd=config.parent,
    )
    try:
        assert "看板已启动" in server.stdout.readline()
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200
                    assert "材料报送" in response.read().decode("utf-8")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
    finally:
        os.kill(server.pid, 15)  # SIGTERM, by its PID
        server.wait(timeout=20)
        server.stdout.close()
        server.stderr.close()


def test_the_dashboard_without_an_smtp_password_queues_the_assign_reply(config):
    stored = intake(config, "import", "--no-reply", str(config.parent / "stranger.eml"))
    assert stored.returncode == 0, stored.stderr
    settings = load_settings(config)
    app = dashboard_app(settings, "127.0.0.1")
    assert app.extensions["intake"].send_replies is None
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    form = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
        "message_id": re.search(r'name="message_id" value="(\d+)"', html).group(1),
        "unit_id": re.search(r'<a href="/unit/(\d+)">' + JSJ, html).group(1),
    }
    response = client.post("/assign", data=form, headers={"Origin": "http://localhost"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "回执已排队，将在下次收信时发出" in page
    from tracker import records
    from tracker.db import open_database

    with open_database(settings.database_url)() as session:
        assert records.counts(session)["outbox_queued"] >= 1


def test_status_names_the_jobs_in_chinese_with_their_last_run_and_error(config, capsys):
    from intake.cli import main
    from intake.runner import Runner
    from intake.service import open_pipeline

    runner = Runner(load_settings(config), config)
    runner.sessions, runner.pipeline = open_pipeline(runner.settings)
    runner._job_done(SimpleNamespace(job_id="digest", exception=None))
    runner._job_done(SimpleNamespace(job_id="reminder-before-3d", exception=OSError("断网\n详情")))
    runner._note("last_poll", "2022-03-30T01:00:00+00:00 新邮件 2 封")  # as older versions wrote
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"工作人员日报：不再运行，上次 \S+ \S+ 完成", out)
    assert re.search(r"发送提醒（截止前 3 天）：不再运行，上次 \S+ \S+ 失败：断网\n", out)
    assert re.search(r"上次收信：\S+ \S+  新邮件 2 封\n", out) and "+00:00" not in out
    assert "时间为活动所在时区（UTC+08:00" in out
