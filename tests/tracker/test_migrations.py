"""Schema migrations: a database made by an earlier version is upgraded in place, data kept."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, inspect, text

from tracker.db import HEAD_REVISION, alembic_config, open_database, schema_revision, upgrade


def test_upgrade_from_the_first_schema_keeps_the_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO subcommittees (name, aliases, emails, position) "
                "VALUES ('机械工程与自动化学院分党委', '[]', '[]', 0)"
            )
        )
    assert "reminders_sent" not in inspect(engine).get_table_names()
    sessions = open_database(url)
    with sessions() as session:
        assert (
            session.execute(text("SELECT name FROM subcommittees")).scalar()
            == "机械工程与自动化学院分党委"
        )
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
    names = set(inspect(create_engine(url)).get_table_names())
    assert {"reminders_sent", "service_state", "outbox", "messages"} <= names
    columns = {c["name"] for c in inspect(create_engine(url)).get_columns("outbox")}
    assert {"next_attempt_at", "subcommittee_id"} <= columns


def test_opening_twice_is_harmless(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    open_database(url)
    sessions = open_database(url)
    with sessions() as session:
        session.execute(
            text("INSERT INTO service_state (key, value, updated_at) VALUES ('k', 'v', :t)"),
            {"t": datetime.now(UTC)},
        )
        session.commit()


def test_head_revision_is_the_newest_migration():
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_a_database_at_the_newest_schema_opens_without_alembic(tmp_path):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'current.db'}"
    assert schema_revision(create_engine(url)) is None
    open_database(url)
    assert schema_revision(create_engine(url)) == HEAD_REVISION
    probe = (
        "import sys; from tracker.db import open_database; "
        f"open_database({url!r}); print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
