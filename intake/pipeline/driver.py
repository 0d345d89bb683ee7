"""The pipeline driver: store the raw bytes first, then run the stages that parse, judge, identify,
record and queue a reply (``intake.pipeline.stages``).

Two transactions: ``ingest`` commits the stored message (state ``stored``); ``process`` runs
the stages, which turn it into item versions, verdicts and one queued reply, and commits all of
that at once (state ``processed``). A crash between the two leaves a ``stored`` message
that the next run processes; a failure parks the message as ``failed`` with its reason, for
``intake reprocess``.
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from parsers.mail import ParsedMail, header_message_id, parse_message
from parsers.roster import Roster, RosterError, load_roster
from parsers.text_safety import shown
from tracker import records
from tracker.models import Message

from .. import notices
from ..config import ConfigError, Settings
from ..store import RawStore
from . import faults
from .pool import KEPT_BATCHES, shared_pool
from .stages import Handling, campaign_context, run_stages

log = logging.getLogger(__name__)


TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOMEM, errno.EAGAIN}
PARSED_AHEAD_LIMIT = KEPT_BATCHES + 2  # parsed messages kept for process, at most


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure of the database, the disk or the network (the message is not
    at fault and is tried again), as opposed to a failure of the message itself (parked
    ``failed`` for staff)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout):
        return True
    if isinstance(exc, ConnectionError | socket.timeout):
        return True
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


@dataclass
class Outcome:
    """What processing one message did, for logs and the progress display."""

    message_id: int
    state: str
    unit: str | None = None
    items: tuple[str, ...] = ()
    replied: bool = False


def load_branch_roster(path) -> Roster:  # noqa: ANN001 - a Path
    """The ``[roster]`` branch list; a missing or malformed file is a configuration error."""
    try:
        return load_roster(path.read_bytes())
    except OSError as exc:
        raise ConfigError(
            f"无法读取支部名册 / cannot read roster.branches {path}: {exc.strerror}"
        ) from None
    except RosterError as exc:
        raise ConfigError(f"roster.branches: {exc}") from None


class Pipeline:
    """Runs messages from any source through store -> parse -> record -> reply."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        reply: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings, self.sessions, self.reply, self.clock = settings, sessions, reply, clock
        self.store = RawStore(settings.storage_dir)
        self.pool = shared_pool(settings.service.workers)
        self._parsed_ahead: dict[int, ParsedMail] = {}  # by message id, see look_ahead
        self.roster = load_branch_roster(settings.roster_path) if settings.roster_path else None
        with sessions() as session:
            records.sync_subcommittees(
                session, ((u.name, u.aliases, u.emails) for u in settings.subcommittees)
            )
            session.commit()

    # -- stage 1: store ----------------------------------------------------------------------
    def ingest(
        self,
        raw: bytes,
        *,
        received_at: datetime,
        source: str = "import",
        uidvalidity: int | None = None,
        uid: int | None = None,
        size: int | None = None,
        truncated: bool = False,
    ) -> int | None:
        """Store ``raw`` and record the message; return its id, or None if it was stored before.

        ``truncated`` marks an over-size message of which only the header was fetched.
        """
        digest = self.store.put(raw)
        message_id = header_message_id(raw)
        claim_key = message_id or f"sha256:{digest}"
        for _attempt in range(3):
            with self.sessions() as session:
                if uid is not None and records.message_from_origin(
                    session, source, uidvalidity, uid
                ):
                    return None
                if uid is None and records.message_with_raw(session, digest):
                    return None
                # the first copy of a Message-ID claims it; later copies, in this process or
                # another, are stored as duplicates and never processed
                copy = records.claim_holder(session, claim_key) is not None
                message = Message(
                    source=source,
                    uidvalidity=uidvalidity,
                    uid=uid,
                    raw_sha256=digest,
                    size=size if size is not None else len(raw),
                    truncated=truncated,
                    received_at=received_at,
                    stored_at=self.clock(),
                    state="duplicate" if copy else "stored",
                    message_id=message_id,
                    problems=[],
                    facts={},
                )
                try:
                    session.add(message)
                    if not copy:
                        session.flush()
                        records.claim(session, claim_key, message.id)
                    if uid is not None:
                        records.save_checkpoint(session, source, uidvalidity, uid)
                    session.commit()
                    faults.reached("stored")
                    return message.id
                except IntegrityError:
                    # Another process stored this UID, claimed this Message-ID or created the
                    # folder's checkpoint first: look again rather than skip a message that may
                    # not be stored yet.
                    session.rollback()
        raise RuntimeError(f"could not store UID {uid} of {source}: conflicting writers")

    def look_ahead(self, message_id: int, raw: bytes) -> None:
        """Start examining the attachments of stored message ``message_id`` (``raw``, its
        bytes), processed next, in the parsing workers, while this process still records the one
        before. Nothing is written: the parsed mail and the work started are only kept for
        ``process`` to pick up."""
        if self.pool.workers == 1:
            return
        try:
            mail = parse_message(raw)
        except Exception:  # noqa: BLE001 - processing it will say what is wrong
            return
        self._parsed_ahead[message_id] = mail
        while len(self._parsed_ahead) > PARSED_AHEAD_LIMIT:
            self._parsed_ahead.pop(next(iter(self._parsed_ahead)))
        self.pool.start(
            [(a.filename, a.data) for a in mail.attachments],
            max_bytes=self.settings.max_attachment_bytes,
            ctx=campaign_context(self),
        )

    def parsed_mail(self, message: Message) -> ParsedMail:
        """The stored ``message`` parsed: the parse ``look_ahead`` made, else a new one."""
        mail = self._parsed_ahead.pop(message.id, None)
        return mail if mail is not None else parse_message(self.store.get(message.raw_sha256))

    # -- stage 2: parse, record, reply ---------------------------------------------------------
    def process(self, message_id: int, *, reply: bool | None = None) -> Outcome:
        """Parse, identify and record one stored message and queue its reply, all in one commit."""
        return self._guarded(message_id, reply=self.reply if reply is None else reply, claim=True)

    def _guarded(
        self, message_id: int, *, reply: bool, claim: bool, forced_unit_id: int | None = None
    ) -> Outcome:
        """Run ``_process`` in one transaction; a failure parks the message as ``failed``.

        ``claim`` takes only a ``stored`` message (another process may have it); staff actions
        take the message whatever its state. A staff assignment survives a failure, so that
        ``reprocess`` files the message under the same unit.
        """
        try:
            with self.sessions() as session:
                if claim and not records.claim_stored_message(session, message_id):
                    # another worker has it, or it was stored as a second copy of a Message-ID
                    held = session.get(Message, message_id)
                    state = "duplicate" if held and held.state == "duplicate" else "skipped"
                    return Outcome(message_id, state)
                message = session.get(Message, message_id)
                outcome = self._process(
                    session, message, reply=reply, forced_unit_id=forced_unit_id
                )
                session.commit()
                faults.reached("queued")
                return outcome
        except Exception as exc:  # noqa: BLE001 - a failure of the message parks it, the batch goes on
            if is_transient(exc):
                # the database, the disk or the network failed, not the message: it stays
                # ``stored`` (the transaction rolled back) for the next run
                log.warning(
                    "来信 %s 暂未处理（数据库、磁盘或网络暂时不可用），下次运行时再处理", message_id
                )
                raise
            log.exception("来信 %s 处理失败", message_id)
            with self.sessions() as session:
                message = session.get(Message, message_id)
                # the error may quote what the sender wrote (a database refusing it): made safe
                message.state = "failed"
                message.error = shown(f"{exc.__class__.__name__}: {exc}", 2000)
                message.attempts += 1
                if forced_unit_id is not None:
                    message.subcommittee_id, message.identified_by = forced_unit_id, "staff"
                notices.message_failed(session, self.settings, message, now=self.clock())
                session.commit()
            return Outcome(message_id, "failed")

    def process_pending(self, progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Process every message still in state ``stored`` (new ones, or left by a crash)."""
        with self.sessions() as session:
            pending = [m.id for m in records.messages_in_state(session, "stored")]
        outcomes = []
        for message_id in pending:
            outcome = self.process(message_id)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        return outcomes

    def _process(
        self, session: Session, message: Message, *, reply: bool, forced_unit_id: int | None = None
    ) -> Outcome:
        """Run the stages (``intake.pipeline.stages.STAGES``) over one claimed message."""
        started = time.monotonic()
        handling = Handling(self, session, message, reply, forced_unit_id)
        run_stages(handling)
        if handling.state != "processed" or message.machine_reason:
            return Outcome(message.id, handling.state)
        items = tuple(f.kind for f in handling.findings if f.kind and handling.unit_id is not None)
        log.info(
            "来信已处理 id=%s uid=%s from=%s unit=%s items=%s outcome=processed replied=%s ms=%d",
            message.id,
            message.uid,
            handling.mail.from_addr,
            handling.unit_name or "未识别",
            ",".join(items) or "-",
            handling.replied,
            (time.monotonic() - started) * 1000,
        )
        return Outcome(message.id, "processed", handling.unit_name, items, handling.replied)

    # -- staff actions -----------------------------------------------------------------------
    def assign(self, message_id: int, unit_id: int) -> Outcome:
        """File a message under a sub-committee by hand and run the pipeline for it again."""
        return self._guarded(message_id, reply=self.reply, claim=False, forced_unit_id=unit_id)

    def reprocess(self, message_ids: list[int]) -> list[Outcome]:
        """Parse messages again, keeping staff assignments; mail never answered gets a receipt."""
        outcomes = []
        for message_id in message_ids:
            with self.sessions() as session:
                message = session.get(Message, message_id)
                forced = message.subcommittee_id if message.identified_by == "staff" else None
            outcomes.append(
                self._guarded(message_id, reply=self.reply, claim=False, forced_unit_id=forced)
            )
        return outcomes
