"""The outbox: replies are queued in the database with the work that caused them, then sent.

A reply is committed as ``queued`` in the same transaction as the message it answers; sending
marks it ``sent``. A failed send stays queued with its error and is tried again on the next
flush; nothing is sent twice unless the process dies between the server's acceptance and the
commit that records it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy.orm import Session, sessionmaker

from tracker import records
from tracker.models import OutboxEntry

from .smtp import PermanentSendError, Transport

log = logging.getLogger(__name__)


def queue_reply(session: Session, *, message_id: int | None, kind: str, reply: EmailMessage,
                now: datetime) -> OutboxEntry:
    """Add ``reply`` to the outbox (in the caller's transaction) and return the entry."""
    entry = OutboxEntry(message_id=message_id, kind=kind, recipient=parseaddr(reply["To"])[1].lower(),
                        subject=str(reply["Subject"]), smtp_message_id=str(reply["Message-ID"]).strip("<>"),
                        body=reply.as_bytes(policy=reply.policy.clone(linesep="\r\n")), state="queued", attempts=0, created_at=now)
    session.add(entry)
    return entry


def within_daily_limit(session: Session, recipient: str, limit: int, now: datetime) -> bool:
    """True while fewer than ``limit`` replies went to ``recipient`` in the last 24 hours."""
    return records.replies_to_since(session, recipient.lower(), now - timedelta(days=1)) < limit


def flush_outbox(sessions: sessionmaker[Session], transport: Transport, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> dict[str, int]:
    """Send every queued reply once; return how many were sent, failed for now, or failed for good."""
    result = {"sent": 0, "retry": 0, "failed": 0}
    with sessions() as session:
        pending = [entry.id for entry in records.queued_replies(session)]
    for entry_id in pending:
        with sessions() as session:
            entry = session.get(OutboxEntry, entry_id)
            if entry is None or entry.state != "queued":
                continue
            entry.attempts += 1
            try:
                transport.send(entry.recipient, entry.body, entry.smtp_message_id)
            except PermanentSendError as exc:
                entry.state, entry.last_error = "failed", str(exc)
                result["failed"] += 1
                log.warning("reply %s to %s refused for good: %s", entry.id, entry.recipient, exc)
            except OSError as exc:
                entry.last_error = str(exc) or exc.__class__.__name__
                result["retry"] += 1
                log.info("reply %s to %s not sent yet: %s", entry.id, entry.recipient, entry.last_error)
            else:
                entry.state, entry.sent_at, entry.last_error = "sent", clock(), None
                result["sent"] += 1
            session.commit()
    return result
