"""Wiring the parts from the settings: database, pipeline, transport, and one poll or import
pass."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from notifier.outbox import DeliveryPolicy, RateLimiter, flush_outbox
from notifier.smtp import DirectoryTransport, SmtpTransport, Transport
from tracker import records
from tracker.db import open_database

from .config import Settings
from .localsource import LocalMessage
from .pipeline import Outcome, Pipeline, faults


@dataclass
class PassResult:
    """What one poll or import pass did."""

    stored: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)


def open_pipeline(
    settings: Settings, *, reply: bool = True
) -> tuple[sessionmaker[Session], Pipeline]:
    """The database session factory and a pipeline over it."""
    sessions = open_database(settings.database_url)
    return sessions, Pipeline(settings, sessions, reply=reply)


def transport_for(settings: Settings) -> Transport:
    """Where replies go: the outbox folder if configured, else the SMTP server."""
    if settings.smtp.outbox_dir is not None:
        return DirectoryTransport(settings.smtp.outbox_dir)
    server = settings.smtp.server
    return SmtpTransport(
        host=server.host,
        port=server.port,
        security=server.security,
        username=server.username,
        password=server.password,
        sender=settings.smtp.sender,
        timeout=server.timeout,
    )


def poll_once(
    settings: Settings,
    pipeline: Pipeline,
    sessions: sessionmaker[Session],
    progress: Callable[[Outcome], None] | None = None,
) -> PassResult:
    """One pass over the IMAP folder: finish leftovers, fetch and process new mail, send replies."""
    from .imap import ImapSource

    with ImapSource(settings.mailbox, max_message_bytes=settings.max_message_bytes) as source:
        result = fetch_and_process(settings, pipeline, sessions, source, progress)
    result.sent = send_replies(settings, sessions)
    return result


def fetch_and_process(
    settings: Settings,
    pipeline: Pipeline,
    sessions: sessionmaker[Session],
    source,  # noqa: ANN001
    progress: Callable[[Outcome], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> PassResult:
    """Finish leftovers, then store and process every new message of an open ``ImapSource``.

    ``should_stop`` is asked between messages: a shutdown finishes the message in hand.
    """
    result = PassResult()
    result.outcomes += pipeline.process_pending(progress)
    key = settings.mailbox.source_key
    with sessions() as session:
        checkpoint = records.checkpoint(session, key)
    for fetched in source.fetch_new(checkpoint):
        faults.reached("fetched")
        message_id = pipeline.ingest(
            fetched.raw if fetched.raw is not None else fetched.headers,
            received_at=fetched.internaldate,
            source=key,
            uidvalidity=fetched.uidvalidity,
            uid=fetched.uid,
            size=fetched.size,
            truncated=fetched.raw is None,
        )
        if message_id is not None:
            result.stored += 1
            outcome = pipeline.process(message_id)
            result.outcomes.append(outcome)
            if progress:
                progress(outcome)
        if should_stop():
            break
    return result


def import_messages(
    settings: Settings,
    pipeline: Pipeline,
    sessions: sessionmaker[Session],
    messages: Iterable[LocalMessage],
    *,
    reply: bool = True,
    progress: Callable[[Outcome | None], None] | None = None,
) -> PassResult:
    """The same pipeline over local messages; replies are sent unless ``reply`` is False."""
    result = PassResult()
    if reply:  # leftovers may be IMAP mail waiting for its receipt: never finish them silently
        result.outcomes += pipeline.process_pending(progress)
    for local in messages:
        message_id = pipeline.ingest(local.raw, received_at=local.received_at)
        if message_id is None:
            if progress:
                progress(None)
            continue
        result.stored += 1
        outcome = pipeline.process(message_id)
        result.outcomes.append(outcome)
        if progress:
            progress(outcome)
    if reply:
        result.sent = send_replies(settings, sessions)
    return result


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    """The outbox's pace and patience from the ``[smtp]`` settings."""
    smtp = settings.smtp
    return DeliveryPolicy(
        max_per_minute=smtp.max_per_minute,
        retry_initial_seconds=smtp.retry_initial_seconds,
        retry_max_seconds=smtp.retry_max_seconds,
        max_reply_age_hours=smtp.max_reply_age_hours,
    )


_LIMITERS: dict[int, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(per_minute: int) -> RateLimiter:
    """The process's one limiter for this pace, shared by the mail loop and every job."""
    with _LIMITERS_LOCK:
        return _LIMITERS.setdefault(per_minute, RateLimiter(per_minute))


def send_replies(settings: Settings, sessions: sessionmaker[Session], **options) -> dict[str, int]:  # noqa: ANN003
    """Flush the outbox through the configured transport, paced by the process-wide limiter."""
    transport = transport_for(settings)
    if getattr(transport, "rate_limited", True):
        options.setdefault("limiter", shared_limiter(settings.smtp.max_per_minute))
    return flush_outbox(
        sessions, transport, policy=delivery_policy(settings), step=faults.reached, **options
    )
