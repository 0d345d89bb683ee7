"""The IMAP mailbox source: the only module of the project that speaks IMAP.

``ImapSource`` logs in, announces itself with the ``ID`` command (NetEase 163/126 refuse SELECT
with "Unsafe Login" otherwise), selects the folder READ-ONLY and yields the messages newer than
a checkpoint ``(uidvalidity, last_uid)`` in ascending UID order. It never sets flags and never
deletes anything: staff read the same mailbox in webmail.

Sizes and INTERNALDATEs are fetched first, a batch of UIDs at a time; the bodies of messages
over ``max_message_bytes`` are never loaded (their header block is fetched instead), the others
a few MB at a time (``FETCH_CHUNK_BYTES``). A dropped connection is reopened and the scan
carries on after the last UID already yielded.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from intake import __version__
from intake.config import MailboxSettings

log = logging.getLogger(__name__)

# bodies fetched in one command, at most: a response is held two or three times over while it is
# read (imaplib's buffer, the parsed response, the bytes kept), so 25 messages of 550 KB in one
# FETCH cost the service some 35 MB; one round trip per 4 MB costs little beside the transfer
FETCH_CHUNK_BYTES = 4 << 20

# Errors after which the connection is considered lost and worth reopening.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, imaplib.IMAP4.abort)


@dataclass(frozen=True)
class FetchedMessage:
    """One message as found in the mailbox."""

    folder: str
    uidvalidity: int
    uid: int
    size: int  # RFC822.SIZE
    internaldate: datetime  # timezone-aware, as the server reported it
    raw: bytes | None  # BODY.PEEK[]; None when size > max_message_bytes (not loaded)
    headers: bytes  # BODY.PEEK[HEADER] when raw is None, else b""


class ImapError(Exception):
    """The mailbox cannot be read; the message is one line meant for the person at the CLI."""


def _one_line(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = " ".join(str(value).split())
    # imapclient words some errors as the repr of the server's bytes: b'[AUTH...] ...'
    quoted = re.fullmatch(r"""b(['"])(.*)\1""", text)
    return (quoted.group(2) if quoted else text) or type(value).__name__


def _describe(exc: BaseException) -> str:
    """A short one-line description of an exception (server text when there is some)."""
    args = exc.args
    if len(args) == 1 and isinstance(args[0], (bytes, str)):
        detail = _one_line(args[0])
    else:
        detail = _one_line(exc)
    return f"{type(exc).__name__}: {detail}" if isinstance(exc, OSError) else detail


class ImapSource:
    """A read-only view of one IMAP folder, used as a context manager.

    >>> with ImapSource(settings, max_message_bytes=50 << 20) as source:
    ...     for message in source.fetch_new(checkpoint):
    ...         ...
    """

    def __init__(
        self,
        settings: MailboxSettings,
        *,
        max_message_bytes: int,
        reconnect_attempts: int = 5,
        reconnect_delay: float = 1.0,
    ) -> None:
        if max_message_bytes <= 0:
            raise ValueError("max_message_bytes must be positive")
        self.settings = settings
        self.max_message_bytes = max_message_bytes
        self.reconnect_attempts = max(0, reconnect_attempts)
        self.reconnect_delay = max(0.0, reconnect_delay)
        self._client: IMAPClient | None = None
        self._uidvalidity: int | None = None

    @property
    def uidvalidity(self) -> int | None:
        """UIDVALIDITY of the selected folder (None before ``__enter__``)."""
        return self._uidvalidity

    # -- connection ------------------------------------------------------------------------
    def __enter__(self) -> ImapSource:
        """Connect, log in, send ID and select the folder read-only (retrying a lost server); an
        unset password is the one-line ``ConfigError`` before any connection."""
        self.settings.login_password()
        self._connect_with_retries(first_error=None)
        return self

    def __exit__(self, *exc: object) -> None:
        """Log out, ignoring any error on the way."""
        self._disconnect(graceful=True)

    def _where(self) -> str:
        s = self.settings
        return f"{s.host}:{s.port}"

    def _open(self) -> IMAPClient:
        """A TCP (and TLS) connection to the server, not yet logged in."""
        s = self.settings
        context = ssl.create_default_context()
        if s.security == "ssl":
            client = IMAPClient(s.host, s.port, ssl=True, ssl_context=context, timeout=s.timeout)
        else:
            client = IMAPClient(s.host, s.port, ssl=False, timeout=s.timeout)
            if s.security == "starttls":
                try:
                    client.starttls(context)
                except BaseException:
                    _shutdown_quietly(client)
                    raise
        client.normalise_times = False  # keep INTERNALDATE's own zone: aware datetimes
        _quiet_imaplib(client)
        return client

    def _connect_once(self) -> None:
        """One connection attempt; connection errors propagate, refusals become ImapError."""
        s = self.settings
        try:
            client = self._open()
        except ssl.SSLCertVerificationError as exc:
            raise ImapError(
                f"IMAP 服务器证书无效 / IMAP server certificate rejected "
                f"({self._where()}): {_one_line(exc.verify_message or exc)}"
            ) from None
        except IMAPClientError as exc:  # e.g. STARTTLS not offered
            if isinstance(exc, imaplib.IMAP4.abort):
                raise
            raise ImapError(
                f"IMAP 连接失败 / IMAP connection failed ({self._where()}, "
                f"security={s.security}): {_describe(exc)}"
            ) from None
        try:
            try:
                client.login(s.username, s.login_password())
            except LoginError as exc:
                raise ImapError(
                    f"IMAP 登录被拒绝 / IMAP login refused for {s.username} at "
                    f"{self._where()}: {_describe(exc)}"
                ) from None
            self._send_id(client)
            try:
                info = client.select_folder(s.folder, readonly=True)
            except imaplib.IMAP4.abort:
                raise
            except IMAPClientError as exc:
                raise ImapError(
                    f"无法打开邮箱文件夹 / cannot open IMAP folder {s.folder!r} at "
                    f"{self._where()}: {_describe(exc)}"
                ) from None
            uidvalidity = info.get(b"UIDVALIDITY")
            if uidvalidity is None:
                raise ImapError(
                    f"IMAP 服务器未返回 UIDVALIDITY / the IMAP server gave no "
                    f"UIDVALIDITY for folder {s.folder!r}"
                )
        except BaseException:
            _shutdown_quietly(client)
            raise
        self._client = client
        self._uidvalidity = int(uidvalidity)
        log.debug(
            "selected %s read-only on %s, UIDVALIDITY %s",
            s.folder,
            self._where(),
            self._uidvalidity,
        )

    def _send_id(self, client: IMAPClient) -> None:
        """Send the IMAP ID command when the server supports it (required by NetEase)."""
        try:
            if not client.has_capability("ID"):
                return
            client.id_({"name": "intake", "version": __version__, "vendor": "intake"})
        except imaplib.IMAP4.abort:
            raise
        except IMAPClientError as exc:
            log.warning("IMAP ID command failed on %s: %s", self._where(), _describe(exc))

    def _connect_with_retries(self, first_error: BaseException | None) -> None:
        """Connect, retrying connection errors; ``first_error`` is the drop that led here."""
        self._disconnect(graceful=first_error is None)
        error = first_error
        tries = self.reconnect_attempts + (1 if first_error is None else 0)
        for attempt in range(tries):
            if error is not None:
                log.warning(
                    "IMAP connection to %s lost (%s); reconnecting (%d/%d)",
                    self._where(),
                    _describe(error),
                    attempt + 1,
                    tries,
                )
                time.sleep(self.reconnect_delay)
            try:
                self._connect_once()
                return
            except _CONNECTION_ERRORS as exc:
                error = exc
        detail = _describe(error) if error else "no attempt"
        raise ImapError(
            f"IMAP 服务器无法连接 / IMAP server unreachable ({self._where()}) "
            f"after {tries} attempt(s): {detail}"
        )

    def _disconnect(self, *, graceful: bool) -> None:
        """Drop the connection: LOGOUT when ``graceful`` (else just close a broken socket)."""
        client, self._client = self._client, None
        if client is None:
            return
        if not graceful:
            _shutdown_quietly(client)
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - quietly, whatever state the connection is in
            _shutdown_quietly(client)

    # -- waiting ---------------------------------------------------------------------------
    @property
    def supports_idle(self) -> bool:
        """Whether the server offers IMAP IDLE (RFC 2177)."""
        return bool(self._require_client().has_capability("IDLE"))

    def wait_for_new_mail(
        self, timeout: float, should_stop: Callable[[], bool] = lambda: False, tick: float = 1.0
    ) -> bool:
        """Wait in IDLE up to ``timeout`` seconds; True as soon as the server announces new mail.

        Mail that arrived after the caller's last look (NOOP) but before IDLE began is not
        announced during IDLE by every server: Dovecot watches the folder from the start of IDLE
        on and reports earlier mail only when IDLE ends (its sync at DONE). So a first IDLE is
        ended at once and what DONE reports is looked at; only then is the waiting IDLE issued
        (what is left is one round trip between that DONE and the next IDLE, instead of the
        caller's whole way from its NOOP, which may take minutes to be announced).

        IDLE is ended (DONE) before returning, so a caller that loops re-issues it before the
        server's own limit (29 minutes by RFC 2177; keep ``timeout`` below it). ``should_stop`` is
        asked every ``tick`` seconds so a shutdown is not delayed. A dropped connection raises
        (socket error or ``imaplib.IMAP4.abort``); the caller reconnects.
        """
        client = self._require_client()
        client.idle()
        if _announces_mail(client.idle_done()[1]):
            return True
        client.idle()
        finish = time.monotonic() + timeout
        announced, quiet_wakeups = False, 0
        try:
            while not announced and not should_stop():
                left = finish - time.monotonic()
                if left <= 0:
                    break
                wait, started = min(tick, left), time.monotonic()
                responses = client.idle_check(timeout=wait)
                # imapclient swallows EOF: a socket that keeps waking up with nothing to read
                # is closed.
                quick = not responses and time.monotonic() - started < wait / 2
                quiet_wakeups = quiet_wakeups + 1 if quick else 0
                if quiet_wakeups >= 3:
                    raise imaplib.IMAP4.abort("connection closed by the server during IDLE")
                announced = _announces_mail(responses)
        finally:
            _text, at_done = client.idle_done()
        return announced or _announces_mail(at_done)

    # -- fetching --------------------------------------------------------------------------
    def fetch_new(self, checkpoint: tuple[int, int] | None) -> Iterator[FetchedMessage]:
        """Yield the folder's messages after ``checkpoint`` = (uidvalidity, last UID), in UID order.

        When the checkpoint is None or its UIDVALIDITY is not the folder's, the whole folder is
        scanned from UID 1. A lost connection is reopened (``reconnect_attempts`` times in a
        row at most) and the scan resumes after the last UID yielded, so within one call no
        message is yielded twice and none is skipped. If UIDVALIDITY changed meanwhile, the
        scan restarts from UID 1 under the new UIDVALIDITY. Raises ``ImapError`` when the
        server stays unreachable.
        """
        if self._client is None:
            self._connect_with_retries(first_error=None)
        validity = self._uidvalidity
        last = checkpoint[1] if checkpoint is not None and checkpoint[0] == validity else 0
        if checkpoint is not None and last == 0:
            log.info(
                "UIDVALIDITY of %s is %s, checkpoint has %s: rescanning from UID 1",
                self.settings.folder,
                validity,
                checkpoint[0],
            )
        failures = 0
        scan = self._scan(last)
        while True:
            try:
                message = next(scan)
            except StopIteration:
                return
            except _CONNECTION_ERRORS as exc:
                failures += 1
                if failures > self.reconnect_attempts:
                    raise ImapError(
                        f"IMAP 连接反复中断 / IMAP connection to {self._where()} keeps "
                        f"dropping ({failures} times in a row): {_describe(exc)}"
                    ) from None
                self._connect_with_retries(first_error=exc)
                if self._uidvalidity != validity:
                    log.warning(
                        "UIDVALIDITY of %s changed from %s to %s: rescanning from 1",
                        self.settings.folder,
                        validity,
                        self._uidvalidity,
                    )
                    validity, last = self._uidvalidity, 0
                scan = self._scan(last)
                continue
            failures = 0
            last = message.uid
            yield message

    def _scan(self, last: int) -> Iterator[FetchedMessage]:
        """Messages with UID > ``last`` on the current connection; connection errors propagate."""
        client = self._require_client()
        client.noop()  # let the server report mail that arrived since SELECT
        # "UID n:*" always matches the highest UID, even when it is <= last: filter.
        uids = sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)
        batch_size = max(1, self.settings.batch_size)
        for start in range(0, len(uids), batch_size):
            batch = uids[start : start + batch_size]
            meta = self._fetch_meta(batch)
            small = [uid for uid in batch if uid in meta and meta[uid][0] <= self.max_message_bytes]
            large = [uid for uid in batch if uid in meta and meta[uid][0] > self.max_message_bytes]
            headers = self._fetch_part(large, b"BODY.PEEK[HEADER]", b"BODY[HEADER]")
            bodies: dict[int, bytes] = {}
            requested: set[int] = set()
            for uid in batch:
                if uid not in meta:
                    continue  # expunged meanwhile
                size, internaldate = meta[uid]
                if uid in large:
                    if uid in headers:
                        yield self._message(uid, size, internaldate, None, headers[uid])
                    continue
                if uid not in requested:
                    chunk = self._chunk_from(small, uid, meta)
                    requested.update(chunk)
                    bodies = self._fetch_part(chunk, b"BODY.PEEK[]", b"BODY[]")
                raw = bodies.pop(uid, None)
                if raw is not None:  # else expunged between the two fetches
                    yield self._message(uid, size, internaldate, raw, b"")

    def _chunk_from(
        self, small: list[int], first: int, meta: dict[int, tuple[int, datetime]]
    ) -> list[int]:
        """UIDs of ``small`` from ``first`` on whose total size stays within ``FETCH_CHUNK_BYTES``
        (or the message limit, if lower); the first is taken whatever its size."""
        chunk: list[int] = []
        total = 0
        limit = min(FETCH_CHUNK_BYTES, self.max_message_bytes)
        for uid in small[small.index(first) :]:
            size = meta[uid][0]
            if chunk and total + size > limit:
                break
            chunk.append(uid)
            total += size
        return chunk

    def _fetch_meta(self, uids: list[int]) -> dict[int, tuple[int, datetime]]:
        client = self._require_client()
        response = client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE"])
        meta: dict[int, tuple[int, datetime]] = {}
        for uid in uids:
            data = response.get(uid)
            if not data or b"RFC822.SIZE" not in data or b"INTERNALDATE" not in data:
                continue
            internaldate = data[b"INTERNALDATE"]
            if internaldate.tzinfo is None:  # not expected with normalise_times=False
                internaldate = internaldate.replace(tzinfo=UTC)
            meta[uid] = (int(data[b"RFC822.SIZE"]), internaldate)
        return meta

    def _fetch_part(self, uids: list[int], item: bytes, key: bytes) -> dict[int, bytes]:
        if not uids:
            return {}
        response = self._require_client().fetch(uids, [item])
        return {
            uid: bytes(response[uid][key])
            for uid in uids
            if uid in response and response[uid].get(key) is not None
        }

    def _message(
        self, uid: int, size: int, internaldate: datetime, raw: bytes | None, headers: bytes
    ) -> FetchedMessage:
        assert self._uidvalidity is not None
        return FetchedMessage(
            folder=self.settings.folder,
            uidvalidity=self._uidvalidity,
            uid=uid,
            size=size,
            internaldate=internaldate,
            raw=raw,
            headers=headers,
        )

    def _require_client(self) -> IMAPClient:
        if self._client is None:
            # Treated like a lost connection: fetch_new reconnects.
            raise imaplib.IMAP4.abort("not connected")
        return self._client


def _announces_mail(responses: list) -> bool:
    """Whether untagged IMAP responses tell of new mail (EXISTS or RECENT)."""
    return any(len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses)


IMAPLIB_LOGGER = "imapclient.imaplib"


def _quiet_imaplib(client: IMAPClient) -> None:
    """Turn off imaplib's own debug output unless its logger would show it. IMAPClient sets
    imaplib's debug level to 5 and routes it to a logger: imaplib then formats the repr of every
    response, each fetched message body included (3 ms per 0.5 MB message, and a string twice the
    size of a 4 MB chunk), before the logger drops it."""
    if not logging.getLogger(IMAPLIB_LOGGER).isEnabledFor(logging.DEBUG):
        client._imap.debug = 0  # noqa: SLF001 - IMAPClient offers no switch for it


def _shutdown_quietly(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # noqa: BLE001
        pass
