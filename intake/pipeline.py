"""The pipeline driver: store the raw bytes first, then parse, identify, record and queue a reply.

Stage by stage, each in its own transaction: ``ingest`` commits the stored message (state
``stored``); ``process`` turns it into item versions, problems and one queued reply and commits
all of that at once (state ``processed``). A crash between the two leaves a ``stored`` message
that the next run processes; a failure parks the message as ``failed`` with its reason, for
``intake reprocess``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from notifier.machine import machine_reason
from notifier.outbox import queue_reply, within_daily_limit
from notifier.replies import compose_reply, render_receipt
from parsers.authresults import sender_verdict
from parsers.mail import ParsedMail, parse_message
from parsers.messages import human_size, problem
from parsers.registry import examine
from parsers.roster import Roster, RosterError, load_roster
from tracker import records
from tracker.identify import identify, units_named_in
from tracker.models import ItemVersion, Message

from . import faults
from .config import ConfigError, Settings
from .receipts import build_receipt
from .store import RawStore

log = logging.getLogger(__name__)


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
        raise ConfigError(f"无法读取支部名册 / cannot read roster.branches {path}: {exc.strerror}") from None
    except RosterError as exc:
        raise ConfigError(f"roster.branches: {exc}") from None


class Pipeline:
    """Runs messages from any source through store -> parse -> record -> reply."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], *, reply: bool = True,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.settings, self.sessions, self.reply, self.clock = settings, sessions, reply, clock
        self.store = RawStore(settings.storage_dir)
        self.roster = load_branch_roster(settings.roster_path) if settings.roster_path else None
        with sessions() as session:
            records.sync_subcommittees(session, ((u.name, u.aliases, u.emails) for u in settings.subcommittees))
            session.commit()

    # -- stage 1: store ----------------------------------------------------------------------
    def ingest(self, raw: bytes, *, received_at: datetime, source: str = "import",
               uidvalidity: int | None = None, uid: int | None = None, size: int | None = None,
               truncated: bool = False) -> int | None:
        """Store ``raw`` and record the message; return its id, or None if it was stored before.

        ``truncated`` marks an over-size message of which only the header was fetched.
        """
        digest = self.store.put(raw)
        headers = parse_message(raw) if truncated else None
        for _attempt in range(3):
            with self.sessions() as session:
                if uid is not None and records.message_from_origin(session, source, uidvalidity, uid):
                    return None
                if uid is None and records.message_with_raw(session, digest):
                    return None
                message = Message(source=source, uidvalidity=uidvalidity, uid=uid, raw_sha256=digest,
                                  size=size if size is not None else len(raw), truncated=truncated,
                                  received_at=received_at, stored_at=self.clock(), state="stored",
                                  message_id=headers.message_id if headers else None, problems=[], facts={})
                try:
                    session.add(message)
                    if uid is not None:
                        records.save_checkpoint(session, source, uidvalidity, uid)
                    session.commit()
                    faults.reached("stored")
                    return message.id
                except IntegrityError:
                    # Another process stored this UID, or created the folder's checkpoint, first:
                    # look again rather than skip a message that may not be stored yet.
                    session.rollback()
        raise RuntimeError(f"could not store UID {uid} of {source}: conflicting writers")

    # -- stage 2: parse, record, reply ---------------------------------------------------------
    def process(self, message_id: int, *, reply: bool | None = None) -> Outcome:
        """Parse, identify and record one stored message and queue its reply, all in one commit."""
        return self._guarded(message_id, reply=self.reply if reply is None else reply, claim=True)

    def _guarded(self, message_id: int, *, reply: bool, claim: bool, forced_unit_id: int | None = None) -> Outcome:
        """Run ``_process`` in one transaction; a failure parks the message as ``failed``.

        ``claim`` takes only a ``stored`` message (another process may have it); staff actions
        take the message whatever its state. A staff assignment survives a failure, so that
        ``reprocess`` files the message under the same unit.
        """
        try:
            with self.sessions() as session:
                if claim and not records.claim_stored_message(session, message_id):
                    return Outcome(message_id, "skipped")
                message = session.get(Message, message_id)
                outcome = self._process(session, message, reply=reply, forced_unit_id=forced_unit_id)
                session.commit()
                faults.reached("queued")
                return outcome
        except Exception as exc:  # noqa: BLE001 - any failure parks the message, the batch goes on
            log.exception("message %s failed", message_id)
            with self.sessions() as session:
                message = session.get(Message, message_id)
                message.state, message.error = "failed", f"{exc.__class__.__name__}: {exc}"[:2000]
                message.attempts += 1
                if forced_unit_id is not None:
                    message.subcommittee_id, message.identified_by = forced_unit_id, "staff"
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

    def _process(self, session: Session, message: Message, *, reply: bool,
                 forced_unit_id: int | None = None) -> Outcome:
        started = time.monotonic()
        raw = self.store.get(message.raw_sha256)
        mail = parse_message(raw)
        faults.reached("parsed")
        message.message_id = mail.message_id
        message.from_addr, message.from_name, message.subject = mail.from_addr, mail.from_name, mail.subject
        message.error = None
        message.attempts += 1
        session.flush()
        if records.earlier_copy(session, message):
            message.state = "duplicate"
            log.info("message %s: duplicate of an earlier message, no reply", message.id)
            return Outcome(message.id, "duplicate")
        message.machine_reason = machine_reason(mail, self.settings.own_addresses)
        if message.machine_reason:
            message.state = "processed"
            log.info("message %s: machine mail (%s), no reply", message.id, message.machine_reason)
            return Outcome(message.id, "processed")

        findings, message_problems = self._examine(message, mail)
        units = records.unit_names(session)
        if forced_unit_id is not None:
            unit_id, method, candidates = forced_unit_id, "staff", set()
        else:
            found = identify(units, sender=mail.from_addr, learned=records.learned_addresses(session),
                             texts=[mail.subject, mail.body_text, *(f.filename for f in findings),
                                    *(a.filename for a in mail.big_attachments),
                                    *(str(f.facts.get("unit") or "") for f in findings)])
            unit_id, method, candidates = found.unit_id, found.method, found.candidates
        if method == "registered_address" and self._forged(mail):
            claimed = next(u.name for u in units if u.unit_id == unit_id)
            message_problems.append(problem("sender_unverified", address=mail.from_addr, unit=claimed))
            log.warning("message %s: %s failed sender verification; held for staff", message.id, mail.from_addr)
            unit_id, method, candidates, reply = None, None, {unit_id}, False
        unit_name = next((u.name for u in units if u.unit_id == unit_id), None)
        if unit_name:
            findings = self._recheck_tables(findings, unit_name, unit_id, units)
        if method == "content" and mail.from_addr:
            records.learn_address(session, mail.from_addr, unit_id, self.clock())

        message.subcommittee_id, message.identified_by = unit_id, method
        message.problems = [p.as_dict() for p in message_problems]
        message.facts = {"candidates": sorted(candidates),
                         "big_attachments": [vars(b) for b in mail.big_attachments],
                         "files": [{"filename": f.filename, "kind": f.kind, "size": f.size,
                                    "problems": [p.as_dict() for p in f.problems]} for f in findings]}
        message.versions.clear()
        if unit_id is not None:
            for finding in findings:
                if finding.kind:
                    message.versions.append(ItemVersion(
                        subcommittee_id=unit_id, item=finding.kind, filename=finding.filename,
                        sha256=self.store.put(finding.data or b"", "attachments"), size=finding.size,
                        received_at=message.received_at, problems=[p.as_dict() for p in finding.problems],
                        facts=finding.facts))
        message.state = "processed"
        session.flush()
        faults.reached("recorded")
        replied = reply and self._queue_receipt(session, message, mail, findings, message_problems,
                                                unit_name, [u.name for u in units if u.unit_id in candidates],
                                                kind="assigned" if method == "staff" else "receipt")
        items = tuple(f.kind for f in findings if f.kind and unit_id is not None)
        log.info("message id=%s uid=%s from=%s unit=%s items=%s outcome=processed replied=%s ms=%d",
                 message.id, message.uid, mail.from_addr, unit_name, ",".join(items) or "-", replied,
                 (time.monotonic() - started) * 1000)
        return Outcome(message.id, "processed", unit_name, items, replied)

    def _forged(self, mail: ParsedMail) -> bool:
        """Whether our receiving server says the sender of a registered address is forged."""
        return bool(self.settings.authserv_id) and \
            sender_verdict(mail.auth_results, self.settings.authserv_id) == "fail"

    def _examine(self, message: Message, mail: ParsedMail):  # noqa: ANN202 - (findings, problems)
        limit = self.settings.max_message_bytes
        problems = []
        if message.truncated:
            problems.append(problem("too_large", what="来信", size=human_size(message.size),
                                    limit=human_size(limit)))
        for big in mail.big_attachments:
            problems.append(problem("oversize_link", filename=big.filename or big.url))
        findings = []
        for attachment in mail.attachments:
            for finding in examine(attachment.filename, attachment.data,
                                   max_bytes=self.settings.max_attachment_bytes, roster=self.roster):
                if attachment.inline and finding.kind is None and not finding.problems:
                    continue
                findings.append(finding)
        return findings, problems

    def _recheck_tables(self, findings: list, unit_name: str, unit_id: int, units: list) -> list:
        """Tables are parsed once more knowing the unit (``subcommittee_mismatch``, the roster).

        The parser compares names loosely; a table whose 填报单位 names another configured
        sub-committee is a mismatch even when the loose comparison let it pass.
        """
        rechecked = []
        for finding in findings:
            if finding.kind == "table" and finding.data is not None:
                again = examine(finding.filename.rsplit("/", 1)[-1], finding.data, expected_unit=unit_name,
                                max_bytes=self.settings.max_attachment_bytes, roster=self.roster)
                if len(again) == 1 and again[0].kind == "table":
                    again[0].filename = finding.filename
                    finding = again[0]
                named = str(finding.facts.get("unit") or "")
                others = units_named_in(named, units)
                if others and unit_id not in others and \
                        not any(p.code == "subcommittee_mismatch" for p in finding.problems):
                    finding.problems.append(problem("subcommittee_mismatch", filename=finding.filename,
                                                    named=named, unit=unit_name))
            rechecked.append(finding)
        return rechecked

    def _queue_receipt(self, session: Session, message: Message, mail: ParsedMail, findings: list,
                       message_problems: list, unit_name: str | None, candidates: list[str], *,
                       kind: str) -> bool:
        recipient = mail.reply_to or mail.from_addr
        now = self.clock()
        if not recipient or records.reply_for(session, message.id, kind):
            return False
        if not within_daily_limit(session, recipient, self.settings.max_replies_per_address_per_day, now):
            message.facts = {**message.facts, "reply_suppressed": "daily_limit"}
            log.warning("message %s: daily reply limit reached for %s", message.id, recipient)
            return False
        receipt = build_receipt(session, self.settings, message, findings, message_problems, unit_name,
                                candidates, assigned_by_staff=kind == "assigned")
        reply = compose_reply(sender=self.settings.smtp.sender, recipient=recipient,
                              original_subject=mail.subject, original_message_id=mail.message_id,
                              original_references=mail.references, body=render_receipt(receipt), now=now)
        queue_reply(session, message_id=message.id, kind=kind, reply=reply, now=now)
        return True

    # -- staff actions -----------------------------------------------------------------------
    def assign(self, message_id: int, unit_id: int) -> Outcome:
        """File a message under a sub-committee by hand and run the pipeline for it again."""
        return self._guarded(message_id, reply=self.reply, claim=False, forced_unit_id=unit_id)

    def reprocess(self, message_ids: list[int]) -> list[Outcome]:
        """Parse messages again, keeping staff assignments; only messages never answered get a receipt."""
        outcomes = []
        for message_id in message_ids:
            with self.sessions() as session:
                message = session.get(Message, message_id)
                forced = message.subcommittee_id if message.identified_by == "staff" else None
            outcomes.append(self._guarded(message_id, reply=self.reply, claim=False, forced_unit_id=forced))
        return outcomes
