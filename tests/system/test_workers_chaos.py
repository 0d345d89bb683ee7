"""Exactly once with several workers: ``intake poll`` processes sharing one Dovecot mailbox and
one database (a private PostgreSQL, and one SQLite file), every mail delivered twice (identical
bytes, two UIDs), workers killed with ``kill -9`` at random moments and, on PostgreSQL, the
database restarted under them. At the aiosmtpd server each Message-ID gets one reply: a mail
repeated in the one named window (``SENT_UNRECORDED``) is the same mail, same Message-ID.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import time
from collections import defaultdict
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import create_engine, text

from intake.samples import documents
from tests.helpers.campaign import DEADLINE, INTAKE, INTAKE_ENV, submission, write_config
from tests.helpers.pgserver import PostgresServer, postgres_bin

BEFORE = DEADLINE - timedelta(days=1)
JIXIE = "机械工程与自动化学院分党委"
MAILS = 20


@pytest.fixture
def postgres():  # noqa: ANN201
    assert postgres_bin(), "PostgreSQL is not installed: .ci/run installs the Debian package"
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def start_workers(config, count: int) -> list[subprocess.Popen]:  # noqa: ANN001
    return [
        subprocess.Popen(
            [*INTAKE, "--config", str(config), "poll"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=INTAKE_ENV,
        )
        for _ in range(count)
    ]


LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING) ")


def assert_one_clear_error(err: str) -> None:
    """A worker that stopped on an error printed no traceback and exactly one error line; the
    rest of its stderr is timestamped log records (a message deferred to the next run)."""
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line and not LOG_RECORD.match(line)]
    assert len(errors) == 1 and errors[0].startswith("intake: "), err


def chaos(config, workers: int, rounds: int, restart=None) -> dict[str, int]:  # noqa: ANN001
    """Rounds of concurrent workers, one killed at a random moment in each (and the database
    restarted in the middle of a round, when ``restart`` is given); then clean polls until one
    finishes with nothing left. Returns the counts the note reports."""
    rng = random.Random(1234)
    counts = {"kills": 0, "restarts": 0, "exit_errors": 0}
    for round_number in range(rounds):
        running = start_workers(config, workers)
        time.sleep(rng.uniform(0.5, 2.5))
        victim = rng.choice(running)
        if victim.poll() is None:
            os.kill(victim.pid, signal.SIGKILL)
            counts["kills"] += 1
        if restart is not None and round_number == 0:
            restart()
            counts["restarts"] += 1
        for worker in running:
            out, err = worker.communicate(timeout=300)
            if worker.returncode not in (0, -signal.SIGKILL):
                counts["exit_errors"] += 1
                assert_one_clear_error(err)
    for _ in range(3):
        [final] = start_workers(config, 1)
        out, err = final.communicate(timeout=300)
        if final.returncode == 0 and "新邮件 0 封" in out:
            break
    assert final.returncode == 0, err
    return counts


def replies_by_original(smtp_server) -> dict[str, set[str]]:  # noqa: ANN001
    """Every reply at the SMTP server by the Message-ID it answers: the set of its own ids."""
    found: dict[str, set[str]] = defaultdict(set)
    for received in smtp_server.messages:
        mail = message_from_bytes(received.data, policy=default_policy)
        found[str(mail["In-Reply-To"])].add(str(mail["Message-ID"]))
    return found


def deliver_twice(dovecot) -> None:  # noqa: ANN001
    table = documents.table_xlsx(JIXIE)
    for number in range(MAILS):
        moment = BEFORE + timedelta(minutes=number)
        raw = submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=moment,
            message_id=f"<chaos{number}@x>",
            subject=f"机械学院材料{number}",
            attachments=[("汇总表.xlsx", table)],
        )
        dovecot.append(raw, internaldate=moment)
        dovecot.append(raw, internaldate=moment)  # the same mail delivered again: a second UID


def check(database_url: str, smtp_server, counts: dict[str, int]) -> None:  # noqa: ANN001
    replies = replies_by_original(smtp_server)
    expected = {f"<chaos{n}@x>" for n in range(MAILS)}
    missing = expected - set(replies)
    twice = {key for key, ids in replies.items() if len(ids) > 1}
    repeated = len(smtp_server.messages) - len(replies)  # the named window: same mail again
    with create_engine(database_url).connect() as connection:
        states = dict(
            connection.execute(text("SELECT state, count(*) FROM messages GROUP BY state")).all()
        )
    print(
        f"mails {MAILS}, deliveries {2 * MAILS}, kills {counts['kills']}, "
        f"database restarts {counts['restarts']}, workers ending with one-line errors "
        f"{counts['exit_errors']}, duplicates {states.get('duplicate', 0)}, "
        f"missing {len(missing)}, answered twice {len(twice)}, repeated in SENT_UNRECORDED "
        f"{repeated}"
    )
    assert not missing and not twice and set(replies) == expected
    assert states == {"processed": MAILS, "duplicate": MAILS}


def test_three_workers_duplicates_kills_and_a_database_restart_on_postgresql(
    tmp_path, dovecot, smtp_server, postgres
):
    database_url = postgres.create_database("intake_chaos")
    config = write_config(tmp_path, dovecot=dovecot, smtp=smtp_server, database_url=database_url)
    deliver_twice(dovecot)
    counts = chaos(config, workers=3, rounds=3, restart=postgres.restart)
    check(database_url, smtp_server, counts)


def test_two_workers_duplicates_and_kills_on_one_sqlite_file(tmp_path, dovecot, smtp_server):
    config = write_config(tmp_path, dovecot=dovecot, smtp=smtp_server)
    deliver_twice(dovecot)
    counts = chaos(config, workers=2, rounds=3)
    check(f"sqlite:///{tmp_path / 'intake.db'}", smtp_server, counts)
