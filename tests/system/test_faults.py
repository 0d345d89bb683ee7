"""Crash and fault tests: kill -9 at every step of a 100-message batch, servers and disks failing.

Every message must end up recorded once and answered once. The one exception is named here:
a kill between the SMTP server accepting a reply and the outbox recording it
(``sent_unrecorded``) sends that reply again on the next run, with the same Message-ID.
"""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from intake.imap import ImapError
from intake.samples import documents, scans
from intake.service import open_pipeline, poll_once
from tests.helpers import tally
from tests.helpers.campaign import (
    DEADLINE,
    INTAKE,
    INTAKE_ENV,
    UNITS,
    make_settings,
    submission,
    write_config,
)
from tests.helpers.servers import DovecotServer
from tests.helpers.smtpserver import SmtpServer

TOTAL = 100
BEFORE = DEADLINE - timedelta(days=1)
KILLS = [
    ("fetched", 1),
    ("fetched", 61),
    ("stored", 1),
    ("stored", 77),
    ("parsed", 23),
    ("recorded", 50),
    ("recorded", 100),
    ("queued", 9),
    ("sending", 1),
    ("sending", 88),
    ("sent_unrecorded", 40),
]
WINDOW = "sent_unrecorded"


@pytest.fixture(scope="module")
def mailbox():  # noqa: ANN201
    """One Dovecot holding the 100-message batch, shared (read-only) by every crash scenario."""
    server = DovecotServer()
    server.start()
    try:
        table = {name: documents.table_xlsx(name) for name, _, _ in UNITS}
        for number in range(TOTAL):
            name, _, emails = UNITS[number % len(UNITS)]
            moment = BEFORE + timedelta(minutes=number)
            server.append(
                submission(
                    name,
                    emails[0],
                    arrived=moment,
                    message_id=f"<batch{number}@example.edu.cn>",
                    subject=f"{name}汇总表{number}",
                    attachments=[("汇总表.xlsx", table[name])],
                ),
                internaldate=moment,
            )
        yield server
    finally:
        server.cleanup()


def poll(config, **env: str) -> subprocess.CompletedProcess:  # noqa: ANN001
    return subprocess.run(
        [*INTAKE, "--config", str(config), "poll"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**INTAKE_ENV, **env},
        cwd=config.parent,
    )


def replies(smtp_server: SmtpServer) -> list:
    return [message_from_bytes(m.data, policy=default_policy) for m in smtp_server.messages]


def assert_each_message_recorded_once(config) -> None:  # noqa: ANN001
    with sqlite3.connect(config.parent / "intake.db") as db:
        states = Counter(state for (state,) in db.execute("SELECT state FROM messages"))
        uids = db.execute("SELECT count(DISTINCT uid), count(*) FROM messages").fetchone()
        versions = db.execute("SELECT count(*) FROM item_versions").fetchone()[0]
    assert states == Counter({"processed": TOTAL}) and uids == (TOTAL, TOTAL) and versions == TOTAL


@pytest.mark.parametrize("point, nth", KILLS, ids=[f"{p}-{n}" for p, n in KILLS])
def test_kill_9_anywhere_then_run_again(tmp_path, mailbox, smtp_server, point, nth):
    config = write_config(tmp_path, dovecot=mailbox, smtp=smtp_server, replies_per_day=1000)
    killed = poll(config, INTAKE_KILL_AT=f"{point}:{nth}")
    assert killed.returncode == -9, killed.stderr
    again = poll(config)
    assert again.returncode == 0, again.stderr
    tally.add("kill -9 points (of a 100-message batch)")
    assert_each_message_recorded_once(config)
    answered = Counter(str(reply["In-Reply-To"]) for reply in replies(smtp_server))
    assert set(answered) == {f"<batch{n}@example.edu.cn>" for n in range(TOTAL)}
    repeated = {key: count for key, count in answered.items() if count > 1}
    if point != WINDOW:
        assert repeated == {}, f"a reply was sent twice after a kill at {point}"
        return
    # The named window: the reply in flight went out and was not recorded, so it goes again,
    # identical (same Message-ID), and it is the only one.
    assert list(repeated.values()) == [2]
    [key] = repeated
    copies = {str(r["Message-ID"]) for r in replies(smtp_server) if str(r["In-Reply-To"]) == key}
    assert len(copies) == 1


def test_dovecot_stopped_mid_fetch_loses_nothing(tmp_path, dovecot, smtp_server):
    for number in range(12):
        moment = BEFORE + timedelta(minutes=number)
        dovecot.append(
            submission(
                "机械工程与自动化学院分党委",
                "jixie@example.edu.cn",
                arrived=moment,
                attachments=[],
                message_id=f"<stop{number}@x>",
            ),
            internaldate=moment,
        )
    settings = make_settings(tmp_path, dovecot=dovecot, smtp=smtp_server)
    sessions, pipeline = open_pipeline(settings)
    seen = []

    def stop_after_five(outcome) -> None:  # noqa: ANN001
        seen.append(outcome)
        if len(seen) == 5:
            dovecot.stop()

    with pytest.raises(ImapError):
        poll_once(settings, pipeline, sessions, progress=stop_after_five)
    dovecot.start()
    poll_once(settings, pipeline, sessions)
    answered = Counter(str(r["In-Reply-To"]) for r in replies(smtp_server))
    assert answered == Counter({f"<stop{n}@x>": 1 for n in range(12)})


def test_disk_full_while_storing_keeps_the_message_for_the_next_run(tmp_path, dovecot, smtp_server):
    storage = tmp_path / "small"
    storage.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(storage)], check=True)
    try:
        big = scans.scan_pdf("summary_scan", "机械工程与自动化学院分党委", pages=3)
        for number in range(3):
            moment = BEFORE + timedelta(minutes=number)
            dovecot.append(
                submission(
                    "机械工程与自动化学院分党委",
                    "jixie@example.edu.cn",
                    arrived=moment,
                    message_id=f"<full{number}@x>",
                    attachments=[("扫描件.pdf", big)],
                ),
                internaldate=moment,
            )
        config = write_config(tmp_path, dovecot=dovecot, smtp=smtp_server)
        config.write_text(
            config.read_text(encoding="utf-8").replace('dir = "data"', f'dir = "{storage}"'),
            encoding="utf-8",
        )
        full = poll(config)
        assert (
            full.returncode == 1 and full.stderr.count("\n") == 1 and "No space left" in full.stderr
        )
        assert "Traceback" not in full.stderr
    finally:
        subprocess.run(["umount", str(storage)], check=True)
    again = poll(config)  # the same folder, now on the real disk
    assert again.returncode == 0, again.stderr
    answered = Counter(str(r["In-Reply-To"]) for r in replies(smtp_server))
    assert answered == Counter({f"<full{n}@x>": 1 for n in range(3)})


def test_database_locked_by_another_writer_is_waited_for(tmp_path, dovecot, smtp_server):
    dovecot.append(
        submission(
            "机械工程与自动化学院分党委",
            "jixie@example.edu.cn",
            arrived=BEFORE,
            attachments=[],
            message_id="<locked@x>",
        ),
        internaldate=BEFORE,
    )
    config = write_config(tmp_path, dovecot=dovecot, smtp=smtp_server)
    assert poll(config).returncode == 0  # creates the database
    dovecot.append(
        submission(
            "机械工程与自动化学院分党委",
            "jixie@example.edu.cn",
            arrived=BEFORE,
            attachments=[],
            message_id="<locked2@x>",
        ),
        internaldate=BEFORE,
    )
    other = sqlite3.connect(tmp_path / "intake.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(3.0, lambda: other.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    done = poll(config)
    release.join()
    other.close()
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 3.0
    assert sorted(str(r["In-Reply-To"]) for r in replies(smtp_server)) == [
        "<locked2@x>",
        "<locked@x>",
    ]
