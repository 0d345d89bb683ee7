"""The stages one stored message goes through, in the order ``STAGES`` names them.

Each stage is a short function of one ``Handling``: it reads what earlier stages left there,
adds its own part, and may end the handling (``handling.finish(state)``) — a duplicate or a
machine's mail goes no further. All stages run inside the one transaction that
``Pipeline.process`` commits; the crash points (``faults.reached``) mark where a kill leaves what.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from notifier.machine import machine_reason
from notifier.outbox import queue_reply as queue_outbox_reply
from notifier.outbox import within_daily_limit
from notifier.replies import compose_reply, render_receipt
from parsers.authresults import sender_verdict
from parsers.checks import MESSAGE, CheckContext, judge, run_checks
from parsers.findings import Finding, Problem, refusal
from parsers.mail import ParsedMail
from parsers.roster import Roster
from parsers.text_safety import shown_data, shown_line
from parsers.vocabulary import human_size
from tracker import records
from tracker.identify import UnitNames, identify, units_named_in
from tracker.models import ItemVersion, Message

from ..config import Settings
from ..store import RawStore
from . import faults
from .receipt import build_receipt


class PipelineParts(Protocol):
    """What the stages use of the pipeline that runs them (``intake.pipeline.driver.Pipeline``)."""

    settings: Settings
    store: RawStore
    roster: Roster | None
    clock: Callable[[], datetime]

    def parsed_mail(self, message: Message) -> ParsedMail:
        """The stored ``message`` parsed (once, when it was parsed ahead)."""
        ...


log = logging.getLogger(__name__)

ADDRESS_CHARS = 320  # the from_addr / from_name columns and RFC 5321's longest address
MESSAGE_ID_CHARS = 998
SUBJECT_CHARS = 998  # a header line's limit (RFC 5322); the subject is shown, not parsed


@dataclass
class Handling:
    """One message on its way through the stages: what each stage found, for the next."""

    pipeline: PipelineParts
    session: Session
    message: Message
    reply: bool
    forced_unit_id: int | None = None
    mail: ParsedMail | None = None
    state: str | None = None  # set when a stage ends the handling
    findings: list[Finding] = field(default_factory=list)
    message_facts: dict[str, Any] = field(default_factory=dict)
    message_problems: list[Problem] = field(default_factory=list)
    units: list[UnitNames] = field(default_factory=list)
    unit_id: int | None = None
    method: str | None = None
    candidates: set[int] = field(default_factory=set)
    replied: bool = False

    @property
    def unit_name(self) -> str | None:
        """The name of the unit the message was filed under (None while unassigned)."""
        return next((u.name for u in self.units if u.unit_id == self.unit_id), None)

    def finish(self, state: str) -> None:
        """End the handling here with the message in ``state``."""
        self.state = self.message.state = state

    def context(self, **changes: Any) -> CheckContext:
        """The check context of this campaign (its rules and roster), with ``changes``."""
        return replace(campaign_context(self.pipeline), **changes)


def campaign_context(pipeline: PipelineParts) -> CheckContext:
    """What the attachments of any message of this campaign are examined by."""
    return CheckContext(rules=pipeline.settings.rules, roster=pipeline.roster)


def parse_mail(h: Handling) -> None:
    """Parse the stored raw bytes and note sender and subject on the message (made safe for
    either database and every output by ``parsers.text_safety``: the raw bytes stay as sent)."""
    message = h.message
    h.mail = h.pipeline.parsed_mail(message)
    faults.reached("parsed")
    message.message_id = shown_line(h.mail.message_id, MESSAGE_ID_CHARS)
    message.from_addr, message.from_name, message.subject = (
        shown_line(h.mail.from_addr, ADDRESS_CHARS),
        shown_line(h.mail.from_name, ADDRESS_CHARS),
        shown_line(h.mail.subject, SUBJECT_CHARS),
    )
    message.error = None
    message.attempts += 1
    h.session.flush()


def skip_duplicates(h: Handling) -> None:
    """A message seen before (the same Message-ID) is kept as a duplicate, with no reply."""
    if records.earlier_copy(h.session, h.message):
        log.info("来信 %s 与此前的来信重复，不回复", h.message.id)
        h.finish("duplicate")


def skip_machine_mail(h: Handling) -> None:
    """Auto-replies, bounces, lists and our own mail are recorded, never answered (RFC 3834)."""
    h.message.machine_reason = machine_reason(h.mail, h.pipeline.settings.own_addresses)
    if h.message.machine_reason:
        log.info("来信 %s 是机器发出的邮件（%s），不回复", h.message.id, h.message.machine_reason)
        h.finish("processed")


def examine_attachments(h: Handling) -> None:
    """Every attachment (archives unpacked) read and judged; the message's own facts noted."""
    settings, message = h.pipeline.settings, h.message
    if message.truncated:
        h.message_facts["refusals"] = [
            refusal(
                "too_large",
                what="来信",
                size=human_size(message.size),
                limit=human_size(settings.max_message_bytes),
            ).as_fact()
        ]
    h.message_facts["big_attachments"] = [vars(b) for b in h.mail.big_attachments]
    attachments = h.mail.attachments
    examined = h.pipeline.pool.examine_all(  # in worker processes: every core parses
        [(a.filename, a.data) for a in attachments],
        max_bytes=settings.max_attachment_bytes,
        ctx=h.context(),
    )
    for attachment, findings in zip(attachments, examined, strict=True):
        for finding in findings:
            if attachment.inline and finding.kind is None and not finding.problems:
                continue  # a logo or emoji in the body
            h.findings.append(finding)


def identify_unit(h: Handling) -> None:
    """Which sub-committee sent it: staff's assignment, the registered address, names in the
    content, or an address learned before; an address identified by content is learned."""
    h.units = records.unit_names(h.session)
    if h.forced_unit_id is not None:
        h.unit_id, h.method = h.forced_unit_id, "staff"
        return
    mail = h.mail
    found = identify(
        h.units,
        sender=mail.from_addr,
        learned=records.learned_addresses(h.session),
        texts=[
            mail.subject,
            mail.body_text,
            *(f.filename for f in h.findings),
            *(a.filename for a in mail.big_attachments),
            *(str(f.facts.get("unit") or "") for f in h.findings),
        ],
    )
    h.unit_id, h.method, h.candidates = found.unit_id, found.method, found.candidates


def verify_sender(h: Handling) -> None:
    """A registered address whose mail our server says is forged is held for staff, unanswered."""
    settings, mail = h.pipeline.settings, h.mail
    if h.method != "registered_address" or not settings.authserv_id:
        return
    if sender_verdict(mail.auth_results, settings.authserv_id) != "fail":
        return
    h.message_facts["forged"] = {"address": mail.from_addr, "unit": h.unit_name}
    log.warning(
        "来信 %s：%s 未通过发件人验证（SPF/DKIM），不回复，交工作人员核对",
        h.message.id,
        mail.from_addr,
    )
    h.candidates, h.unit_id, h.method, h.reply = {h.unit_id}, None, None, False


def judge_for_unit(h: Handling) -> None:
    """With the unit known, every file is judged again on the facts already read (a table naming
    another unit, the roster's branches); the message's own rules are applied."""
    unit_name, unit_id, units = h.unit_name, h.unit_id, h.units

    def names_other_unit(text: str) -> bool:
        named = units_named_in(text, units)
        return bool(named) and unit_id not in named

    if unit_name:
        ctx = h.context(unit=unit_name, names_other_unit=names_other_unit)
        h.findings = [judge(finding, ctx) for finding in h.findings]
    h.message_problems, _ = run_checks(MESSAGE, h.message_facts, h.context())
    if h.method == "content" and _plausible_address(h.mail.from_addr):
        records.learn_address(h.session, h.mail.from_addr, unit_id, h.pipeline.clock())


def record_versions(h: Handling) -> None:
    """File the message under its unit and record each file as a new version of its item."""
    message, store = h.message, h.pipeline.store
    message.subcommittee_id, message.identified_by = h.unit_id, h.method
    message.problems = shown_data([p.as_dict() for p in h.message_problems])
    message.facts = {
        "candidates": sorted(h.candidates),
        "big_attachments": shown_data(h.message_facts["big_attachments"]),
        "files": [
            {
                "filename": shown_line(f.filename),
                "kind": f.kind,
                "size": f.size,
                "problems": shown_data([p.as_dict() for p in f.problems]),
                "doubts": shown_data([d.as_dict() for d in f.doubts]),
            }
            for f in h.findings
        ],
    }
    message.versions.clear()
    if h.unit_id is not None:
        for finding in (f for f in h.findings if f.kind):
            message.versions.append(
                ItemVersion(
                    subcommittee_id=h.unit_id,
                    item=finding.kind,
                    filename=shown_line(finding.filename),
                    sha256=store.put(finding.data or b"", "attachments"),
                    size=finding.size,
                    received_at=message.received_at,
                    problems=shown_data([p.as_dict() for p in finding.problems]),
                    doubts=shown_data([d.as_dict() for d in finding.doubts]),
                    facts=shown_data(finding.facts),
                )
            )
    message.state = "processed"
    h.session.flush()
    faults.reached("recorded")


def queue_reply(h: Handling) -> None:
    """Queue the one receipt of this message (within the sender's daily limit); with
    ``[replies] hold_corrections`` a receipt asking for a correction waits for staff review."""
    if not h.reply:
        return
    settings, session, message, mail = h.pipeline.settings, h.session, h.message, h.mail
    kind = "assigned" if h.method == "staff" else "receipt"
    recipient, now = mail.reply_to or mail.from_addr, h.pipeline.clock()
    if not _plausible_address(recipient) or records.reply_for(session, message.id, kind):
        return
    if not within_daily_limit(session, recipient, settings.max_replies_per_address_per_day, now):
        message.facts = {**message.facts, "reply_suppressed": "daily_limit"}
        log.warning("来信 %s：%s 今日的回执已达上限，不再回复", message.id, recipient)
        return
    candidates = [u.name for u in h.units if u.unit_id in h.candidates]
    receipt = build_receipt(
        session,
        settings,
        message,
        h.findings,
        h.message_problems,
        h.unit_name,
        candidates,
        assigned_by_staff=kind == "assigned",
    )
    reply = compose_reply(
        sender=settings.smtp.sender,
        recipient=recipient,
        original_subject=shown_line(mail.subject, SUBJECT_CHARS),
        original_message_id=mail.message_id if message.message_id == mail.message_id else None,
        original_references=mail.references,
        body=render_receipt(receipt),
        now=now,
    )
    entry = queue_outbox_reply(session, message_id=message.id, kind=kind, reply=reply, now=now)
    if settings.hold_corrections and receipt.has_problems:
        entry.state = "review"  # staff read it (and may change the verdict) before it goes
    h.replied = True


def notify_staff(h: Handling) -> None:
    """Queue the work chat's notices of this message ([[notify]]): doubt, correction, complete."""
    from ..notices import message_events  # the notices build on this package's receipt

    message_events(h)


def _plausible_address(address: str | None) -> bool:
    """Whether ``address`` can be written to: one line, printable, within RFC 5321's length."""
    return (
        bool(address)
        and len(address) <= 254
        and shown_line(address) == address
        and (" " not in address)
    )


STAGES = (
    parse_mail,
    skip_duplicates,
    skip_machine_mail,
    examine_attachments,
    identify_unit,
    verify_sender,
    judge_for_unit,
    record_versions,
    queue_reply,
    notify_staff,
)


def run_stages(h: Handling, stages=STAGES) -> None:  # noqa: ANN001 - a sequence of stage functions
    """Run the stages in order until one ends the handling (or all have run)."""
    for stage in stages:
        stage(h)
        if h.state is not None:
            return
    h.state = h.message.state
