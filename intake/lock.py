"""One ``intake run`` per database: a file lock for SQLite, an advisory lock for PostgreSQL."""

from __future__ import annotations

import fcntl
import os
import zlib
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from .config import Settings


class AlreadyRunning(Exception):
    """Another instance holds the lock; the message is the one line to show."""


class InstanceLock:
    """Held for the life of the process; released by ``release`` or by the process ending."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._file = None
        self._connection = None

    def acquire(self) -> None:
        """Take the lock or raise ``AlreadyRunning``."""
        url = make_url(self.settings.database_url)
        if url.get_backend_name() == "postgresql":
            self._acquire_advisory(url)
        else:
            self._acquire_file(self._lock_path(url))

    def release(self) -> None:
        """Give the lock back."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _lock_path(self, url) -> Path:  # noqa: ANN001 - a SQLAlchemy URL
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database + ".lock")
        self.settings.storage_dir.mkdir(parents=True, exist_ok=True)
        return self.settings.storage_dir / "intake-run.lock"

    def _acquire_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - kept open while the lock is held
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise AlreadyRunning(
                f"另一个 intake run 正在使用同一个数据库（PID {holder}）/ another intake run "
                f"(PID {holder}) is using this database; lock: {path}"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def _acquire_advisory(self, url) -> None:  # noqa: ANN001 - a SQLAlchemy URL
        key = zlib.crc32(b"intake-run:" + (url.database or "").encode())
        engine = create_engine(url)
        connection = engine.connect()
        taken = connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})").scalar()
        connection.commit()
        if not taken:
            connection.close()
            raise AlreadyRunning(
                "另一个 intake run 正在使用同一个 PostgreSQL 数据库 / another intake run "
                f"is using this PostgreSQL database ({url.database})"
            )
        self._connection = connection
