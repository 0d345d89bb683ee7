"""Real servers for the test suite: a private Dovecot, a TCP proxy that can drop connections,
and an aiosmtpd SMTP server that records what it receives.

Everything binds to 127.0.0.1 on free ports and lives in its own temporary directory, so tests
can run next to any other Dovecot or SMTP server on the machine. Servers are stopped by their
own PID / object, never by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

from intake.config import MailboxSettings

HOST = "127.0.0.1"
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
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    return True


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
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_plugins = $mail_plugins notify mail_log
imap_id_log = *
login_log_format_elements = user=<%u> method=%m rip=%r lip=%l mpid=%e %c

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
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}

plugin {{
  mail_log_events = delete undelete expunge copy save flag_change mailbox_delete mailbox_rename
  mail_log_fields = uid box msgid size flags
}}
"""


class DovecotServer:
    """A private Dovecot instance (IMAP only, plaintext, one user) under its own directory.

    ``start()``/``stop()`` may be called repeatedly; the port and the mail stay the same.
    """

    def __init__(self, user: str = "dept@example.edu.cn", password: str = "s3cret-pass",
                 *, root: Path | None = None, port: int | None = None,
                 timezone: str = "Asia/Shanghai") -> None:
        self.host = HOST
        self.port = port or free_port()
        self.user = user
        self.password = password
        self.timezone = timezone
        self.pid: int | None = None
        self._own_root = root is None
        if root is None:
            # pytest's tmp_path parents are mode 700; Dovecot's unprivileged processes need to
            # traverse into base_dir and the mail home, so use a 755 dir directly under /tmp.
            root = Path(tempfile.mkdtemp(prefix="intake-dovecot-", dir="/tmp"))
        self.root = root
        self.root.chmod(0o755)
        self.config_path = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self._write_files()

    # -- set-up -------------------------------------------------------------------------------
    def _write_files(self) -> None:
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(mode=0o755, exist_ok=True)
        shutil.chown(self.root / "mail", user="mail", group="mail")
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        (self.root / "passwd").chmod(0o644)
        self.config_path.write_text(_DOVECOT_CONF.format(host=self.host, port=self.port,
                                                         root=self.root))

    def config_dump(self) -> str:
        """``dovecot -n`` for this instance (useful when it fails to start)."""
        result = subprocess.run([DOVECOT_BINARY, "-c", str(self.config_path), "-n"],
                                capture_output=True, text=True, timeout=30)
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
            result = subprocess.run([DOVECOT_BINARY, "-c", str(self.config_path)],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    env=env, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"dovecot failed to start (exit {result.returncode}):\n"
                               f"{startup_log.read_text(errors='replace')}\n{self.log_text()}")
        deadline = time.monotonic() + 10
        while not pid_file.exists() or not pid_file.read_text().strip():
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot wrote no master.pid:\n{self.log_text()}")
            time.sleep(0.02)
        self.pid = int(pid_file.read_text().strip())
        try:
            wait_for_port(self.host, self.port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"dovecot does not listen on {self.port}:\n{self.log_text()}")

    def stop(self) -> None:
        """Stop this daemon by its own PID (SIGTERM, then SIGKILL after 10 s)."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while _pid_alive(pid):
            if time.monotonic() > deadline:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                break
            time.sleep(0.02)
        # The listener is closed by the master; wait until the port is really free.
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

    def append(self, raw: bytes, internaldate: datetime | None = None,
               folder: str = "INBOX") -> None:
        """APPEND one message, with ``internaldate`` as its INTERNALDATE when given."""
        client = self.client()
        try:
            client.append(folder, raw, msg_time=internaldate)
        finally:
            client.logout()

    def create_folder(self, name: str) -> None:
        """Create a mailbox folder."""
        client = self.client()
        try:
            client.create_folder(name)
        finally:
            client.logout()

    def delete_folder(self, name: str) -> None:
        """Delete a mailbox folder with its messages."""
        client = self.client()
        try:
            client.delete_folder(name)
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        """FLAGS of every message in ``folder`` by UID (read-only look)."""
        client = self.client()
        try:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])  # imapclient 4 drops results of a "1:*" fetch
            return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()}
        finally:
            client.logout()


def mailbox_settings(server: Any, **overrides: Any) -> MailboxSettings:
    """MailboxSettings (security "none") for a ``DovecotServer`` or a ``TcpProxy`` before one."""
    values: dict[str, Any] = dict(host=server.host, port=server.port, security="none",
                                  username=server.user, password=server.password,
                                  timeout=10.0, folder="INBOX", batch_size=25)
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

    @property
    def user(self) -> str:
        """The upstream server's user name."""
        return self.upstream.user  # type: ignore[union-attr]

    @property
    def password(self) -> str:
        """The upstream server's password."""
        return self.upstream.password  # type: ignore[union-attr]

    def _accept_loop(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((self.upstream_host, self.upstream_port),
                                                    timeout=5)
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


# --------------------------------------------------------------------------------------------
# SMTP


@dataclass
class ReceivedMail:
    """One message the test SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class _RecordingHandler:
    messages: list[ReceivedMail] = field(default_factory=list)
    tempfail_data: bool = False
    tempfail_rcpt: bool = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.tempfail_rcpt:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.tempfail_data:
            return "451 4.3.0 try again later"
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), data))
        return "250 2.0.0 OK queued"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 that stores every message it accepts in ``messages``.

    Set ``tempfail_data`` (or ``tempfail_rcpt``) to answer ``451 4.3.0 try again later``.
    With ``credentials=(user, password)`` it offers AUTH PLAIN/LOGIN without TLS and records
    successful logins in ``logins``; without them it offers no AUTH at all.
    """

    def __init__(self, *, port: int | None = None,
                 credentials: tuple[str, str] | None = None) -> None:
        self.host = HOST
        self.port = port or free_port()
        self.credentials = credentials
        self.logins: list[str] = []
        self._handler = _RecordingHandler()
        self._controller = None

    @property
    def messages(self) -> list[ReceivedMail]:
        """Messages accepted so far, oldest first."""
        return self._handler.messages

    @property
    def tempfail_data(self) -> bool:
        """While true, DATA is answered with 451."""
        return self._handler.tempfail_data

    @tempfail_data.setter
    def tempfail_data(self, value: bool) -> None:
        self._handler.tempfail_data = value

    @property
    def tempfail_rcpt(self) -> bool:
        """While true, RCPT is answered with 451."""
        return self._handler.tempfail_rcpt

    @tempfail_rcpt.setter
    def tempfail_rcpt(self, value: bool) -> None:
        self._handler.tempfail_rcpt = value

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._controller is not None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword) and self.credentials is not None:
            user = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if (user, password) == self.credentials:
                self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        """Listen (again) on the same port."""
        from aiosmtpd.controller import Controller

        if self._controller is not None:
            return
        kwargs: dict[str, object] = {}
        if self.credentials is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        controller = Controller(self._handler, hostname=self.host, port=self.port,
                                ready_timeout=10, **kwargs)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening; ``messages`` are kept."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
