"""Wiring the parts from the settings: database, pipeline, transport, and one poll or import
pass."""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from notifier.outbox import DeliveryPolicy, RateLimiter, flush_outbox
from notifier.smtp import DirectoryTransport, SmtpTransport, Transport
from notifier.webhooks import flush_notices
from tracker import records
from tracker.db import open_database

from . import notices
from .config import Settings, require_mail_passwords
from .localsource import LocalMessage, within_limit
from .pipeline import Outcome, Pipeline, faults
from .pipeline.pool import LOOK_AHEAD
from .reply_sender import ReplySender

log = logging.getLogger(__name__)

POLL_STARTED, POLL_FINISHED, POLL_ERROR = "poll_started", "poll_finished", "poll_error"
"""What ``poll_once`` records in the service state for ``intake status``."""
RUN_PASS, RUN_ERROR = "last_poll", "last_error"
"""What ``intake run`` records after each pass over the mailbox, and its last mailbox error."""


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


def can_send(settings: Settings) -> bool:
    """Whether replies can go now: an outbox folder, or an SMTP server whose password is at hand
    (or that needs no login)."""
    if settings.smtp.outbox_dir is not None:
        return True
    server = settings.smtp.server
    return server is not None and (not server.username or server.password is not None)


def transport_for(settings: Settings) -> Transport:
    """Where replies go: the outbox folder if configured, else the SMTP server (its password
    unset: the one-line ``ConfigError``)."""
    if settings.smtp.outbox_dir is not None:
        return DirectoryTransport(settings.smtp.outbox_dir)
    server = settings.smtp.server
    return SmtpTransport(
        host=server.host,
        port=server.port,
        security=server.security,
        username=server.username,
        password=server.login_password(),
        sender=settings.smtp.sender,
        timeout=server.timeout,
    )


def poll_once(
    settings: Settings,
    pipeline: Pipeline,
    sessions: sessionmaker[Session],
    progress: Callable[[Outcome], None] | None = None,
) -> PassResult:
    """One pass over the IMAP folder: finish leftovers, fetch and process new mail, send replies
    (each from a sender thread as soon as its message is recorded, then a last flush).

    Both passwords are asked for first (a missing one: the one-line ``ConfigError``). The start,
    the end and any error are recorded for ``intake status`` (``POLL_STARTED`` …).
    """
    from .imap import ImapSource

    note_state(sessions, POLL_STARTED, settings.mailbox.source_key)
    try:
        require_mail_passwords(settings)
        with ImapSource(settings.mailbox, max_message_bytes=settings.max_message_bytes) as source:
            with PassSender(settings, sessions, progress) as sender:
                result = fetch_and_process(settings, pipeline, sessions, source, sender.progress)
        result.sent = sender.finish()
    except Exception as exc:
        note_state(sessions, POLL_ERROR, one_line(exc))
        raise
    note_state(
        sessions,
        POLL_FINISHED,
        f"新邮件 {result.stored} 封，处理 {len(result.outcomes)} 封，回执发送 "
        f"{result.sent.get('sent', 0)} 封，待重试 {result.sent.get('retry', 0)} 封",
    )
    return result


def note_state(sessions: sessionmaker[Session], key: str, value: str) -> None:
    """Record a fact for ``intake status`` (a pass, an error), stamped now."""
    with sessions() as session:
        records.set_service_state(session, key, value, datetime.now(UTC))
        session.commit()


def one_line(exc: BaseException) -> str:
    """An exception as one line for the service state: its first line, or its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def fetch_and_process(
    settings: Settings,
    pipeline: Pipeline,
    sessions: sessionmaker[Session],
    source,  # noqa: ANN001
    progress: Callable[[Outcome], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> PassResult:
    """Finish leftovers, then store and process every new message of an open ``ImapSource``.

    Each message is stored and handed to the parsing workers while the ones fetched before it
    are still to be processed (``LOOK_AHEAD`` of them wait), so the workers parse the next
    messages while this process records one. ``should_stop`` is asked between messages: a
    shutdown finishes the messages in hand.
    """
    result = PassResult()
    result.outcomes += pipeline.process_pending(progress)
    key = settings.mailbox.source_key
    with sessions() as session:
        checkpoint = records.checkpoint(session, key)
    waiting: deque[int] = deque()  # stored and handed to the workers, oldest first
    for fetched in source.fetch_new(checkpoint):
        faults.reached("fetched")
        raw = fetched.raw if fetched.raw is not None else fetched.headers
        message_id = pipeline.ingest(
            raw,
            received_at=fetched.internaldate,
            source=key,
            uidvalidity=fetched.uidvalidity,
            uid=fetched.uid,
            size=fetched.size,
            truncated=fetched.raw is None,
        )
        if message_id is not None:
            result.stored += 1
            if fetched.raw is not None:
                pipeline.look_ahead(message_id, raw)  # parsed while the ones before are recorded
            waiting.append(message_id)
        _process_waiting(pipeline, waiting, result, progress, keep=LOOK_AHEAD)
        if should_stop():
            break
    _process_waiting(pipeline, waiting, result, progress, keep=0)
    return result


def _process_waiting(
    pipeline: Pipeline,
    waiting: deque[int],
    result: PassResult,
    progress: Callable[[Outcome], None] | None,
    *,
    keep: int,
) -> None:
    """Process the oldest ``waiting`` messages, noting each outcome, until ``keep`` are left."""
    while len(waiting) > keep:
        outcome = pipeline.process(waiting.popleft())
        result.outcomes.append(outcome)
        if progress:
            progress(outcome)


def import_messages(
    settings: Settings,
    pipeline: Pipeline,
    sessions: sessionmaker[Session],
    messages: Iterable[LocalMessage],
    *,
    reply: bool = True,
    progress: Callable[[Outcome | None], None] | None = None,
) -> PassResult:
    """The same pipeline over local messages (each handed to the parsing workers as soon as it
    is stored, as in ``fetch_and_process``); replies are sent unless ``reply`` is False."""
    if not reply:
        return _import_pass(settings, pipeline, messages, progress)
    with PassSender(settings, sessions, progress) as sender:
        # leftovers may be IMAP mail waiting for its receipt: never finish them silently
        result = _import_pass(settings, pipeline, messages, sender.progress, leftovers=True)
    result.sent = sender.finish()
    return result


def _import_pass(
    settings: Settings,
    pipeline: Pipeline,
    messages: Iterable[LocalMessage],
    progress: Callable[[Outcome | None], None] | None,
    *,
    leftovers: bool = False,
) -> PassResult:
    result = PassResult()
    if leftovers:
        result.outcomes += pipeline.process_pending(progress)
    waiting: deque[int] = deque()  # stored and handed to the workers, oldest first
    for local in messages:
        local = within_limit(local, settings.max_message_bytes)  # as IMAP: the header block only
        message_id = pipeline.ingest(
            local.raw, received_at=local.received_at, size=local.size, truncated=local.truncated
        )
        if message_id is None:
            if progress:
                progress(None)
            continue
        result.stored += 1
        if not local.truncated:
            pipeline.look_ahead(message_id, local.raw)  # parsed while the ones before are recorded
        waiting.append(message_id)
        _process_waiting(pipeline, waiting, result, progress, keep=LOOK_AHEAD)
    _process_waiting(pipeline, waiting, result, progress, keep=0)
    return result


class PassSender:
    """A ``ReplySender`` for one pass: ``progress`` wakes it (and tells the caller's callback),
    ``finish`` flushes once more in the caller's thread (its failure raised, as before the
    pass overlapped) and counts every flush of the pass; "retry" is how many replies wait to be
    tried again when it ends (a reply that failed in two flushes of a long pass counts once)."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        progress: Callable[[Outcome | None], None] | None,
    ) -> None:
        self.settings, self.sessions, self._progress = settings, sessions, progress
        self.sender = ReplySender(lambda: send_replies_quietly(settings, sessions))

    def progress(self, outcome: Outcome | None) -> None:
        self.sender.wake()
        if self._progress:
            self._progress(outcome)

    def __enter__(self) -> PassSender:
        self.sender.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.sender.stop()

    def finish(self) -> dict[str, int]:
        counts = self.sender.totals + Counter(send_replies(self.settings, self.sessions))
        with self.sessions() as session:
            counts["retry"] = records.replies_awaiting_retry(session)
        return {key: counts[key] for key in ("sent", "retry", "failed", "held")}


def send_replies_quietly(
    settings: Settings, sessions: sessionmaker[Session], **options
) -> dict[str, int]:  # noqa: ANN003
    """``send_replies``, its failure logged instead of raised (the replies stay queued for the
    next flush): for a sender thread."""
    try:
        return send_replies(settings, sessions, **options)
    except Exception as exc:  # noqa: BLE001 - the replies stay queued for the next try
        log.warning("回执暂未发出，稍后重试：%s", one_line(exc))
        return {}


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


def send_replies_if_possible(
    settings: Settings, sessions: sessionmaker[Session]
) -> dict[str, int] | None:
    """``send_replies`` when ``can_send``; else None: the replies stay queued for the next poll."""
    return send_replies(settings, sessions) if can_send(settings) else None


def send_replies(settings: Settings, sessions: sessionmaker[Session], **options) -> dict[str, int]:  # noqa: ANN003
    """Flush the outbox through the configured transport, paced by the process-wide limiter."""
    transport = transport_for(settings)
    if getattr(transport, "rate_limited", True):
        options.setdefault("limiter", shared_limiter(settings.smtp.max_per_minute))
    sent = flush_outbox(
        sessions,
        transport,
        policy=delivery_policy(settings),
        step=faults.reached,
        on_failed=lambda session, entry: notices.reply_failed(
            session, settings, entry, now=datetime.now(UTC)
        ),
        **options,
    )
    # the work chat after the mail, on its own backoff: a webhook outage delays no receipt
    later = {k: options[k] for k in ("clock", "should_stop") if k in options}
    flush_notices(
        sessions, settings.notify, policy=delivery_policy(settings), step=faults.reached, **later
    )
    return sent
