"""Real servers for the test suite: a private Dovecot and a TCP proxy that can drop connections
(the SMTP server is in ``tests.helpers.smtpserver``).

Everything binds to 127.0.0.1 on free ports and lives in its own temporary directory, so tests
can run next to any other Dovecot or SMTP server on the machine. Servers are stopped by their
own PID / object, never by name; a small watchdog process stops a Dovecot whose test process
was killed before its fixture could clean up.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imapclient import IMAPClient

if TYPE_CHECKING:
    from intake.config import MailboxSettings

HOST = "127.0.0.1"
_REPO = Path(__file__).resolve().parents[2]
"""The repository root: where a child process can import ``tests.helpers``."""
DOVECOT_BINARY = os.environ.get("INTAKE_TEST_DOVECOT", "/usr/sbin/dovecot")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Block until ``host:port`` accepts a TCP connection, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            time.sleep(0.05)


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie counts as dead (init may reap daemons slowly)."""
    try:
        os.kill(pid, 0)
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child: now reaped
            return False
    except ProcessLookupError:
        return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def _descendants(pid: int) -> list[int]:
    """PIDs of the processes below ``pid`` (Linux /proc; empty elsewhere)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # not a PID, or gone meanwhile
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _terminate(pids: list[int], timeout: float = 5.0) -> None:
    """SIGTERM the given processes, wait for them, SIGKILL what is left after ``timeout``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while any(_pid_alive(pid) for pid in pids):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        else:
            return


def _watch(master: int, root: str, remove_root: bool) -> None:
    """Watchdog process body: stop the daemon if the test process dies without stopping it."""
    parent = os.getppid()
    while _pid_alive(master):
        if os.getppid() != parent:  # reparented: pytest was killed (SIGKILL, `timeout`, ...)
            _terminate([master, *_descendants(master)])
            if remove_root:
                shutil.rmtree(root, ignore_errors=True)
            return
        time.sleep(0.5)


def _start_watchdog(master: int, root: Path, remove_root: bool) -> subprocess.Popen:
    code = (
        f"from tests.helpers import servers; servers._watch({master}, {str(root)!r}, {remove_root})"
    )
    # The child runs from the repository root, so ``tests.helpers`` is importable there.
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=_REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # survives the signal that kills pytest


# --------------------------------------------------------------------------------------------
# Dovecot

_DOVECOT_CONF = """\
# Generated for one test; nothing here reads /etc/dovecot.
protocols = imap
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
first_valid_uid = 1
ssl = {ssl}
{ssl_files}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_plugins = $mail_plugins notify mail_log
imap_id_log = *

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={root}/mail/%u
}}

service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
  }}
}}
plugin {{
  mail_log_events = delete undelete expunge copy save flag_change mailbox_delete mailbox_rename
  mail_log_fields = uid box msgid size flags
}}
"""


class DovecotServer:
    """A private Dovecot instance (IMAP, one user) under its own directory.

    ``start()``/``stop()`` may be called repeatedly; the port and the mail stay the same.
    With ``tls=True`` it has a self-signed certificate for 127.0.0.1 (``ca_file``), offers
    STARTTLS on ``port`` and implicit TLS on ``tls_port``.
    """

    def __init__(
        self,
        user: str = "dept@example.edu.cn",
        password: str = "s3cret-pass",
        *,
        root: Path | None = None,
        port: int | None = None,
        timezone: str = "Asia/Shanghai",
        tls: bool = False,
        extra_config: str = "",
    ) -> None:
        self.host = HOST
        self.extra_config = (
            extra_config  # appended to dovecot.conf, e.g. an imap_capability override
        )
        self.port = port or free_port()
        self.user = user
        self.password = password
        self.timezone = timezone
        self.tls = tls
        self.tls_port = free_port() if tls else 0
        self.pid: int | None = None
        self._watchdog: subprocess.Popen | None = None
        self._own_root = root is None
        if root is None:
            # pytest's tmp_path parents are mode 700; Dovecot's unprivileged processes need to
            # traverse into base_dir and the mail home, so use a 755 dir directly under /tmp.
            root = Path(tempfile.mkdtemp(prefix="intake-dovecot-", dir="/tmp"))
        self.root = root
        self.root.chmod(0o755)
        self.config_path = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self.ca_file = self.root / "cert.pem"
        self._write_files()

    def set_password(self, password: str) -> None:
        """Change the user's password (Dovecot re-reads its passwd-file when it changes)."""
        self.password = password
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")

    # -- set-up -------------------------------------------------------------------------------
    def _write_files(self) -> None:
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(mode=0o755, exist_ok=True)
        shutil.chown(self.root / "mail", user="mail", group="mail")
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        (self.root / "passwd").chmod(0o644)
        ssl_files = ""
        if self.tls:
            self._make_certificate()
            ssl_files = f"ssl_cert = <{self.ca_file}\nssl_key = <{self.root / 'key.pem'}"
        self.config_path.write_text(
            _DOVECOT_CONF.format(
                host=self.host,
                port=self.port,
                root=self.root,
                tls_port=self.tls_port,
                ssl="yes" if self.tls else "no",
                ssl_files=ssl_files,
            )
            + self.extra_config
            + "\n"
        )

    def _make_certificate(self) -> None:
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(self.root / "key.pem"),
                "-out",
                str(self.ca_file),
                "-days",
                "2",
                "-subj",
                f"/CN={self.host}",
                "-addext",
                f"subjectAltName=IP:{self.host}",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def config_dump(self) -> str:
        """``dovecot -n`` for this instance (useful when it fails to start)."""
        result = subprocess.run(
            [DOVECOT_BINARY, "-c", str(self.config_path), "-n"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return result.stdout + result.stderr

    def log_text(self) -> str:
        """Everything Dovecot logged so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the daemon and wait until it accepts IMAP connections."""
        if self.pid is not None and _pid_alive(self.pid):
            return
        pid_file = self.root / "run" / "master.pid"
        pid_file.unlink(missing_ok=True)
        env = dict(os.environ, TZ=self.timezone)
        startup_log = self.root / "startup.log"
        # Not a pipe: the daemon keeps its inherited descriptors, a pipe would never close.
        with open(startup_log, "ab") as out:
            result = subprocess.run(
                [DOVECOT_BINARY, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=env,
                timeout=30,
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"dovecot failed to start (exit {result.returncode}):\n"
                f"{startup_log.read_text(errors='replace')}\n{self.log_text()}"
            )
        deadline = time.monotonic() + 10
        while not pid_file.exists() or not pid_file.read_text().strip():
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot wrote no master.pid:\n{self.log_text()}")
            time.sleep(0.02)
        self.pid = int(pid_file.read_text().strip())
        self._watchdog = _start_watchdog(self.pid, self.root, self._own_root)
        try:
            wait_for_port(self.host, self.port)
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(
                f"dovecot does not listen on {self.port}:\n{self.log_text()}"
            ) from exc

    def stop(self) -> None:
        """Stop this daemon and every process it started, by their PIDs.

        Dovecot's master exits on SIGTERM but leaves running imap sessions (and its log
        process) behind, so the descendants are looked up first and terminated as well.
        """
        pid, self.pid = self.pid, None
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.kill()
            watchdog.wait()
        if pid is None:
            return
        _terminate([pid, *_descendants(pid)])
        # Nothing of ours may still listen (or keep a client connection) afterwards.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
            except OSError:
                break
            time.sleep(0.02)

    def cleanup(self) -> None:
        """Stop the daemon and remove its directory (when we created it)."""
        self.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- mailbox helpers ----------------------------------------------------------------------
    def client(self) -> IMAPClient:
        """A new logged-in IMAPClient (caller logs out); INTERNALDATEs come back aware."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        client.normalise_times = False
        client.login(self.user, self.password)
        return client

    @contextmanager
    def session(self) -> Iterator[IMAPClient]:
        """``with dovecot.session() as client:`` a logged-in client, logged out afterwards."""
        client = self.client()
        try:
            yield client
        finally:
            client.logout()

    def append(
        self, raw: bytes, internaldate: datetime | None = None, folder: str = "INBOX"
    ) -> None:
        """APPEND one message, with ``internaldate`` as its INTERNALDATE when given."""
        with self.session() as client:
            client.append(folder, raw, msg_time=internaldate)

    def create_folder(self, name: str) -> None:
        """Create a mailbox folder."""
        with self.session() as client:
            client.create_folder(name)

    def delete_folder(self, name: str) -> None:
        """Delete a mailbox folder with its messages."""
        with self.session() as client:
            client.delete_folder(name)

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        """FLAGS of every message in ``folder`` by UID (read-only look)."""
        with self.session() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])  # imapclient 4 drops results of a "1:*" fetch
            return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()}


def mailbox_settings(server: Any, **overrides: Any) -> MailboxSettings:
    """MailboxSettings (security "none") for a ``DovecotServer`` or a ``TcpProxy`` before one."""
    from intake.config import MailboxSettings

    values: dict[str, Any] = dict(
        host=server.host,
        port=server.port,
        security="none",
        username=server.user,
        password=server.password,
        timeout=10.0,
        folder="INBOX",
        batch_size=25,
    )
    values.update(overrides)
    return MailboxSettings(**values)


# --------------------------------------------------------------------------------------------
# TCP proxy


class TcpProxy:
    """A threaded TCP forwarder on a free port; ``drop_connections()`` cuts every live link.

    ``user``/``password`` are those of the upstream server when it has them, so the proxy can
    stand in for the server in ``mailbox_settings``.
    """

    def __init__(self, upstream_host: str, upstream_port: int, *, upstream: object = None) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.upstream = upstream
        self.host = HOST
        self._listener = socket.create_server((HOST, 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._links: list[tuple[socket.socket, socket.socket]] = []
        self._closed = False
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)
        self._thread.start()

    user = property(lambda self: self.upstream.user, doc="The upstream server's user.")
    password = property(lambda self: self.upstream.password, doc="The upstream's password.")

    def _accept_loop(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(
                    (self.upstream_host, self.upstream_port), timeout=5
                )
                upstream.settimeout(None)
            except OSError:
                downstream.close()
                continue
            with self._lock:
                if self._closed:
                    downstream.close()
                    upstream.close()
                    return
                self._links.append((downstream, upstream))
                self.accepted += 1
            for src, dst in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._cut(src, dst)

    def _cut(self, a: socket.socket, b: socket.socket) -> None:
        for sock in (a, b):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        with self._lock:
            self._links = [link for link in self._links if a not in link]

    def drop_connections(self) -> int:
        """Close every live connection (both sides); returns how many were cut."""
        with self._lock:
            links = list(self._links)
        for down, up in links:
            self._cut(down, up)
        return len(links)

    def close(self) -> None:
        """Stop accepting and drop every connection."""
        with self._lock:
            self._closed = True
        try:
            self._listener.close()
        finally:
            self.drop_connections()
