"""The outbox: replies are queued in the database with the work that caused them, then sent.

A reply is committed as ``queued`` in the same transaction as the message it answers. Sending
locks the row (other processes skip it), sends, and records ``sent`` in the same transaction; so
nothing is sent twice, except in the one window ``SENT_UNRECORDED``: after the SMTP server
accepted the reply and before ``sent`` is committed. Two things can happen there: the process
dies, or the database goes away so the commit fails. Either way that one reply is sent again
later, with the same Message-ID, so the unit's mail client shows it once. No other point
repeats a reply: the kill-point tests kill the process at every step, and the outbox tests fail
the database at every step, and only this window repeats. A temporary failure (4xx, no
connection) waits with exponential backoff; a permanent one (5xx) is ``failed`` and shown to
staff; a reply older than ``max_reply_age_hours`` is ``held`` until staff release it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy.orm import Session, sessionmaker

from tracker import records
from tracker.models import OutboxEntry

from .smtp import PermanentSendError, Transport

log = logging.getLogger(__name__)

SENT_UNRECORDED = "sent_unrecorded"
"""The only window in which a reply can be sent twice (see the module's docstring)."""


@dataclass(frozen=True)
class DeliveryPolicy:
    """How fast and how persistently the outbox sends."""

    max_per_minute: int = 20
    retry_initial_seconds: int = 60
    retry_max_seconds: int = 3600
    max_reply_age_hours: int = 48

    def backoff(self, attempts: int) -> timedelta:
        """The wait before attempt ``attempts + 1``: doubling from the initial delay, capped."""
        seconds = self.retry_initial_seconds * 2 ** max(0, attempts - 1)
        return timedelta(seconds=min(seconds, self.retry_max_seconds))


class RateLimiter:
    """Spaces sends so that at most ``per_minute`` leave in any minute (providers throttle).

    One limiter is shared by every sender of a process (the mail loop, the scheduled jobs), so
    it is thread-safe.
    """

    def __init__(self, per_minute: int, sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval, self.sleep, self.last = 60.0 / per_minute, sleep, None
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next send is allowed."""
        with self._lock:
            now = time.monotonic()
            if self.last is not None and now - self.last < self.interval:
                self.sleep(self.interval - (now - self.last))
            self.last = time.monotonic()


def queue_reply(
    session: Session,
    *,
    message_id: int | None,
    kind: str,
    reply: EmailMessage,
    now: datetime,
    subcommittee_id: int | None = None,
) -> OutboxEntry:
    """Add ``reply`` to the outbox (in the caller's transaction) and return the entry."""
    entry = OutboxEntry(
        message_id=message_id,
        kind=kind,
        recipient=parseaddr(reply["To"])[1].lower(),
        subject=str(reply["Subject"]),
        smtp_message_id=str(reply["Message-ID"]).strip("<>"),
        body=reply.as_bytes(policy=reply.policy.clone(linesep="\r\n")),
        state="queued",
        attempts=0,
        created_at=now,
        subcommittee_id=subcommittee_id,
    )
    session.add(entry)
    return entry


def within_daily_limit(session: Session, recipient: str, limit: int, now: datetime) -> bool:
    """True while fewer than ``limit`` replies went to ``recipient`` in the last 24 hours."""
    return records.replies_to_since(session, recipient.lower(), now - timedelta(days=1)) < limit


def flush_outbox(
    sessions: sessionmaker[Session],
    transport: Transport,
    *,
    policy: DeliveryPolicy = DeliveryPolicy(),
    limiter: RateLimiter | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    should_stop: Callable[[], bool] = lambda: False,
    step: Callable[[str], None] = lambda _point: None,
    on_failed: Callable[[Session, OutboxEntry], None] = lambda _session, _entry: None,
) -> dict[str, int]:
    """Send every due reply once; count those sent, to retry, failed for good, and held back.

    ``step`` is told ``sending`` before each send and ``sent_unrecorded`` after the server
    accepted it but before that is committed (the crash tests kill the process there).
    ``on_failed`` is called, in the same transaction, for a reply refused for good (5xx).
    """
    result = {"sent": 0, "retry": 0, "failed": 0, "held": 0}
    if limiter is None and getattr(transport, "rate_limited", True):
        limiter = RateLimiter(policy.max_per_minute)
    with sessions() as session:
        pending = [entry.id for entry in records.queued_replies(session, clock())]
    for entry_id in pending:
        if should_stop():
            break
        with sessions() as session:
            entry = records.lock_queued_reply(session, entry_id)
            if entry is None:
                continue
            outcome = _deliver(entry, transport, policy, limiter, clock(), step)
            result[outcome] += 1
            if outcome == "failed":
                on_failed(session, entry)
            session.commit()
    return result


def _deliver(
    entry: OutboxEntry,
    transport: Transport,
    policy: DeliveryPolicy,
    limiter: RateLimiter | None,
    now: datetime,
    step: Callable[[str], None],
) -> str:
    if not entry.release_approved and entry.created_at < now - timedelta(
        hours=policy.max_reply_age_hours
    ):
        entry.state = "held"
        log.warning(
            "回执 id=%s to=%s 暂缓发送：已积压超过 %s 小时（intake release-held 放行）",
            entry.id,
            entry.recipient,
            policy.max_reply_age_hours,
        )
        return "held"
    if limiter:
        limiter.wait()
    entry.attempts += 1
    step("sending")
    try:
        transport.send(entry.recipient, entry.body, entry.smtp_message_id)
    except PermanentSendError as exc:
        entry.state, entry.last_error = "failed", str(exc)
        log.warning("回执 id=%s to=%s 发送失败，不再重试：%s", entry.id, entry.recipient, exc)
        return "failed"
    except OSError as exc:
        entry.last_error = str(exc) or exc.__class__.__name__
        entry.next_attempt_at = now + policy.backoff(entry.attempts)
        log.info(
            "回执 id=%s to=%s 暂时未能发出，将于 %s 重试：%s",
            entry.id,
            entry.recipient,
            entry.next_attempt_at.isoformat(),
            entry.last_error,
        )
        return "retry"
    step(SENT_UNRECORDED)
    entry.state, entry.sent_at, entry.last_error = "sent", now, None
    log.info("回执已发送 id=%s to=%s kind=%s", entry.id, entry.recipient, entry.kind)
    return "sent"
