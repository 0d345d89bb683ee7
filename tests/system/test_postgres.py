"""The same code on PostgreSQL: the pipeline, migrations, and two processes on one database and
mailbox."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from collections import Counter
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import create_engine, text

from intake.samples import documents
from tests.helpers.campaign import DEADLINE, INTAKE, INTAKE_ENV, submission, write_config
from tests.helpers.pgserver import PostgresServer, postgres_bin
from tests.system.test_service import running, wait_for

BEFORE = DEADLINE - timedelta(days=1)
JIXIE = "机械工程与自动化学院分党委"
_names = itertools.count()


@pytest.fixture(scope="module")
def postgres():  # noqa: ANN201
    assert postgres_bin(), (
        "PostgreSQL is not installed: .ci/run installs the Debian package postgresql"
    )
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(postgres) -> str:  # noqa: ANN001
    return postgres.create_database(f"intake_test_{next(_names)}")


def intake(config, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:  # noqa: ANN001
    return subprocess.run(
        [*INTAKE, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=INTAKE_ENV,
    )


def test_pipeline_report_and_migrations_on_postgresql(tmp_path, dovecot, smtp_server, database_url):
    config = write_config(tmp_path, dovecot=dovecot, smtp=smtp_server, database_url=database_url)
    dovecot.append(
        submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, message_id="<pg1@x>"),
        internaldate=BEFORE,
    )
    dovecot.append(
        submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, message_id="<pg1@x>"),
        internaldate=BEFORE,
    )
    done = intake(config, "poll")
    assert done.returncode == 0, done.stderr
    report = json.loads(intake(config, "report", "--format", "json").stdout)
    unit = next(u for u in report["subcommittees"] if u["name"] == JIXIE)
    assert unit["complete"] and unit["items"]["summary"]["received_at"] == BEFORE.isoformat()
    assert len(smtp_server.messages) == 1
    with create_engine(database_url).connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
        )
        states = dict(
            connection.execute(text("SELECT state, count(*) FROM messages GROUP BY state")).all()
        )
    assert states == {"processed": 1, "duplicate": 1}


def test_two_processes_on_one_database_and_mailbox_never_process_or_reply_twice(
    tmp_path, dovecot, smtp_server, database_url
):
    config = write_config(
        tmp_path,
        dovecot=dovecot,
        smtp=smtp_server,
        database_url=database_url,
        service='reminders = []\nafter_deadline_notice = ""\npoll_interval = 3600',
    )
    total = 30
    table = documents.table_xlsx(JIXIE)
    for number in range(total):
        moment = BEFORE + timedelta(minutes=number)
        dovecot.append(
            submission(
                JIXIE,
                "jixie@example.edu.cn",
                arrived=moment,
                message_id=f"<two{number}@x>",
                subject=f"机械学院材料{number}",
                attachments=[("汇总表.xlsx", table)],
            ),
            internaldate=moment,
        )
    pollers = [
        subprocess.Popen(
            [*INTAKE, "--config", str(config), "poll"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=INTAKE_ENV,
        )
        for _ in range(2)
    ]
    outputs = [poller.communicate(timeout=180) for poller in pollers]
    assert [poller.returncode for poller in pollers] == [0, 0], outputs
    stored = [int(re.search(r"新邮件 (\d+) 封", out).group(1)) for out, _ in outputs]
    assert sum(stored) == total and min(stored) > 0, f"the two pollers did not overlap: {stored}"
    replies = Counter(
        str(message_from_bytes(m.data, policy=default_policy)["In-Reply-To"])
        for m in smtp_server.messages
    )
    assert replies == Counter({f"<two{n}@x>": 1 for n in range(total)})
    with create_engine(database_url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM messages")).scalar() == total
        assert (
            connection.execute(text("SELECT count(*) FROM outbox WHERE state = 'sent'")).scalar()
            == total
        )

    with running(config, tmp_path / "run.log"):
        refused = intake(config, "run", timeout=60)
    assert (
        refused.returncode == 2
        and "另一个 intake run" in refused.stderr
        and "PostgreSQL" in refused.stderr
    )
    assert wait_for(lambda: len(smtp_server.messages) == total, 1)
