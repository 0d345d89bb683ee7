"""Opening the database: engine, schema migrations (Alembic) and sessions."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def open_database(url: str, *, migrate: bool = True) -> sessionmaker[Session]:
    """Connect to ``url``, bring the schema up to date and return a session factory."""
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    if migrate:
        upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """The Alembic configuration pointing at ``tracker/migrations``."""
    config = Config()
    config.set_main_option("script_location", str(files("tracker") / "migrations"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision``; safe to call on every start."""
    config = alembic_config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Two processes starting at once must not both create the tables.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7306001)")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001 - DB-API objects
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(
            "PRAGMA busy_timeout=120000"
        )  # a sender holds the write lock for one SMTP send
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
