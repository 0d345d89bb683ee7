"""Opening the database: engine, schema migrations (Alembic) and sessions."""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration under tracker/migrations (a test holds the two together). A database at
# it is opened without loading Alembic, whose Mako and Pygments cost every process 7 MB.
HEAD_REVISION = "0006"


def open_database(url: str, *, migrate: bool = True) -> sessionmaker[Session]:
    """Connect to ``url``, bring the schema up to date and return a session factory."""
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    if migrate and schema_revision(engine) != HEAD_REVISION:
        upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at, None for a database without the schema."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def alembic_config() -> Config:
    """The Alembic configuration pointing at ``tracker/migrations``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("tracker") / "migrations"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision``; safe to call on every start."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Two processes starting at once must not both create the tables.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7306001)")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def upsert_insert(session: Session):  # noqa: ANN201 - a dialect's insert construct, or None
    """The INSERT … ON CONFLICT construct of the session's database (SQLite, PostgreSQL; None
    for another), its dialect imported only when used (PostgreSQL's costs 60 ms and 2 MB)."""
    import importlib

    name = session.get_bind().dialect.name
    if name not in ("sqlite", "postgresql"):
        return None
    return importlib.import_module(f"sqlalchemy.dialects.{name}").insert


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
