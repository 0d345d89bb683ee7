"""A private PostgreSQL server for the tests: its own cluster in a temp dir, on a free port, as
``postgres``."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.helpers.servers import HOST, free_port, wait_for_port


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin directory (Debian layout), if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """initdb + pg_ctl under a temp dir; stopped by the postmaster's own PID."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="intake-pg-"))
        self.data = self.root / "data"
        self.pid: int | None = None

    def _as_postgres(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> None:
        """Create the cluster and start the server on 127.0.0.1 (trust authentication)."""
        os.chmod(self.root, 0o755)
        shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        log = self.root / "postgres.log"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(log),
            "-w",
            "start",
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c fsync=off",
        )
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        wait_for_port(HOST, self.port, 30)

    def restart(self) -> None:
        """Stop the server at once, as a crash would (``-m immediate``), and start it again on
        the same data and port; clients' connections break meanwhile."""
        self._as_postgres(  # its own log file: the restarted server must not hold our pipes
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "postgres.log"),
            "-m",
            "immediate",
            "-w",
            "restart",
        )
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        wait_for_port(HOST, self.port, 30)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for ``database`` on this server."""
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(
            f"host={HOST} port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """SIGTERM the postmaster (a fast shutdown after SIGINT if needed), then remove the
        cluster."""
        if self.pid:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
                try:
                    os.kill(self.pid, sig)
                except ProcessLookupError:
                    break
                end = time.monotonic() + 10
                while time.monotonic() < end and _alive(self.pid):
                    time.sleep(0.1)
                if not _alive(self.pid):
                    break
            self.pid = None
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False
