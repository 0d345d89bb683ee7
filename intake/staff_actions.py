"""Staff decisions, taken the same way from the command line and from the dashboard.

``decide`` settles a doubt or waives a problem (accept) or turns a doubt into a problem (reject:
the unit is sent its correction request, threaded to its message); ``mark``, ``extend`` and
``exempt`` record what the mail cannot show; ``undo`` takes a decision back. Each is stored with
who, when and why. A mistake (unknown unit, item or code, no reason) is a ``DecisionError`` with
one Chinese sentence. Receipts held for review (``[replies] hold_corrections``) of the unit are
composed again after every decision, so staff approve the text the unit will really get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from notifier.corrections import queue_correction
from parsers.vocabulary import CODES, ITEM_KEYS, ITEM_SHORT_LABELS, RECORDED_ACTIONS, verdict_of
from tracker import records, standing
from tracker.decisions import Overrides, decision_label, rejected_problem
from tracker.models import ItemVersion, Message, OutboxEntry, StaffDecision, SubCommittee

from . import notices
from .config import Settings
from .pipeline.receipt import reference_number


class DecisionError(ValueError):
    """A staff decision that cannot be taken, with the reason in one Chinese sentence."""


@dataclass
class StaffActions:
    """The staff decisions over one database; ``pipeline`` (optional) recomposes held receipts."""

    settings: Settings
    sessions: sessionmaker[Session]
    pipeline: object | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    # -- the decisions -------------------------------------------------------------------------
    def decide(
        self,
        unit: str,
        item: str,
        *,
        accept: str | None = None,
        reject: str | None = None,
        reason: str,
        by: str,
    ) -> StaffDecision:
        """Accept (settle a doubt, waive a problem) or reject (a doubt becomes a problem) the
        code ``accept`` or ``reject`` on the item's newest file that carries it."""
        if (accept is None) == (reject is None):
            raise DecisionError("请指定 --accept 或 --reject 其中之一")
        code = accept or reject
        if code not in CODES:
            raise DecisionError(f"未知的问题代码：{code}")
        if reject and verdict_of(code) != "doubt":
            raise DecisionError(f"{code} 不是待核对事项，只能 --accept（免于更正）")
        reason = _reason(reason)
        with self.sessions() as session:
            found = self._unit(session, unit)
            key = self._item(item)
            version = _version_with(session, found.id, key, code)
            if version is None:
                raise DecisionError(
                    f"{found.name}的“{self.settings.rules.label(key)}”目前没有待处理的 {code}"
                )
            decision = self._record(
                session,
                found,
                "accept" if accept else "reject",
                reason,
                by,
                item=key,
                code=code,
                sha256=version.sha256,
                filename=version.filename,
            )
            held = _held_receipts(session, found.id)
            if reject and not any(e.message_id == version.message_id for e in held):
                self._queue_correction(session, found, version, decision)
            _commit_detached(session, decision)
        self._recompose_held(found.id)
        return decision

    def mark(
        self, unit: str, item: str, *, received_at: str | datetime, reason: str, by: str
    ) -> StaffDecision:
        """Record an item handed in another way (on paper, in person) at ``received_at``."""
        return self._simple(
            unit, "mark", reason, by, item=item, moment=self._moment(received_at, "--received-at")
        )

    def extend(self, unit: str, *, until: str | datetime, reason: str, by: str) -> StaffDecision:
        """Give the unit its own deadline: on time is then judged against it."""
        return self._simple(unit, "extend", reason, by, moment=self._moment(until, "--until"))

    def exempt(self, unit: str, item: str, *, reason: str, by: str) -> StaffDecision:
        """Record that the unit need not send ``item``."""
        return self._simple(unit, "exempt", reason, by, item=item)

    def undo(self, decision_id: int | str, *, by: str) -> StaffDecision:
        """Take a decision back (it stays in the log as undone); a correction request it queued
        and that has not gone yet is withdrawn."""
        try:
            number = int(str(decision_id).lstrip("#"))
        except ValueError:
            raise DecisionError(f"决定编号应为数字：{decision_id}") from None
        with self.sessions() as session:
            decision = session.get(StaffDecision, number)
            if decision is None:
                raise DecisionError(f"找不到编号为 {number} 的决定")
            if not decision.active:
                raise DecisionError(f"决定 {number} 已于此前撤销")
            if decision.action in RECORDED_ACTIONS:
                raise DecisionError(f"#{number} 是操作记录（{decision_label(decision)}），不能撤销")
            decision.undone_by, decision.undone_at = by, self.clock()
            if decision.outbox_id is not None:
                entry = session.get(OutboxEntry, decision.outbox_id)
                if entry is not None and entry.state in ("queued", "review"):
                    entry.state = "cancelled"
            unit_id = decision.subcommittee_id
            _commit_detached(session, decision)
        self._recompose_held(unit_id)
        return decision

    def approve(self, entry_id: int, *, by: str) -> OutboxEntry:
        """Let a receipt held for review go out as it stands (recorded in the log)."""
        with self.sessions() as session:
            entry = session.get(OutboxEntry, entry_id)
            if entry is None or entry.state != "review":
                raise DecisionError(f"没有待审的回执 {entry_id}")
            entry.state = "queued"
            message = session.get(Message, entry.message_id) if entry.message_id else None
            if message is not None and message.subcommittee_id is not None:
                unit = session.get(SubCommittee, message.subcommittee_id)
                self._record(
                    session,
                    unit,
                    "approve",
                    f"致 {entry.recipient}：{entry.subject}",
                    by,
                    outbox_id=entry.id,
                )
            _commit_detached(session, entry)
            return entry

    def note(self, unit_id: int, action: str, what: str, *, by: str) -> None:
        """Log a staff action that overrules no verdict (``assign``, ``remind``) under ``by``."""
        with self.sessions() as session:
            unit = session.get(SubCommittee, unit_id)
            if unit is not None:
                self._record(session, unit, action, what, by)
                session.commit()

    # -- helpers -------------------------------------------------------------------------------
    def _simple(
        self,
        unit: str,
        action: str,
        reason: str,
        by: str,
        *,
        item: str | None = None,
        moment: datetime | None = None,
    ) -> StaffDecision:
        reason = _reason(reason)
        with self.sessions() as session:
            found = self._unit(session, unit)
            key = self._item(item) if item is not None else None
            decision = self._record(session, found, action, reason, by, item=key, moment=moment)
            _commit_detached(session, decision)
        self._recompose_held(found.id)
        return decision

    def _record(
        self, session: Session, unit: SubCommittee, action: str, reason: str, by: str, **fields
    ) -> StaffDecision:  # noqa: ANN003 - the decision's columns
        if not by.strip():
            raise DecisionError("请写明决定人（--by）")
        decision = StaffDecision(
            subcommittee_id=unit.id,
            action=action,
            reason=reason,
            decided_by=by.strip(),
            decided_at=self.clock(),
            **fields,
        )
        session.add(decision)
        session.flush()
        return decision

    def _unit(self, session: Session, name: str) -> SubCommittee:
        unit = records.find_subcommittee(session, name.strip())
        if unit is None:
            raise DecisionError(f"找不到分党委（直属党总支）：{name}")
        return unit

    def _item(self, name: str) -> str:
        name = name.strip()
        rules = self.settings.rules
        for key in ITEM_KEYS:
            if name in (key, rules.label(key), rules.short_label(key), ITEM_SHORT_LABELS[key]):
                return key
        raise DecisionError(
            f"未知的材料项：{name}（可用：{'、'.join(rules.label(k) for k in ITEM_KEYS)}，"
            f"或 {', '.join(ITEM_KEYS)}）"
        )

    def _moment(self, value: str | datetime, option: str) -> datetime:
        zone = self.settings.deadline.tzinfo
        if isinstance(value, datetime):
            moment = value
        else:
            text = value.strip()
            try:
                if len(text) <= 10:
                    raise ValueError
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise DecisionError(
                    f"{option} 的时间无法识别：{value}（应写为 2022-04-03T17:00 这样的日期和时间）"
                ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)

    def _queue_correction(
        self, session: Session, unit: SubCommittee, version: ItemVersion, decision: StaffDecision
    ) -> None:
        rules, settings = self.settings.rules, self.settings
        message = version.message
        problem = rejected_problem(decision, rules.label(version.item))["message"]
        entry = queue_correction(
            session,
            message=message,
            unit=unit.name,
            item=rules.label(version.item),
            problem=problem,
            reference=reference_number(message, settings),
            campaign=settings.campaign_name,
            deadline=standing.unit_deadline(session, unit.id, settings.deadline),
            sender=settings.smtp.sender,
            now=self.clock(),
            decision_id=decision.id,
        )
        if entry is not None:
            session.flush()
            decision.outbox_id = entry.id
            notices.staff_correction(
                session, settings, message, unit=unit.name, item=rules.label(version.item),
                problem=problem, decision_id=decision.id, by=decision.decided_by, now=self.clock(),
            )  # fmt: skip

    def _recompose_held(self, unit_id: int) -> None:
        """Compose the unit's held receipts again under the decisions now in force."""
        if self.pipeline is None:
            return
        with self.sessions() as session:
            held = _held_receipts(session, unit_id)
            message_ids = [e.message_id for e in held]
            for entry in held:
                session.delete(entry)
            session.commit()
        if message_ids:
            self.pipeline.reprocess(message_ids)


def _commit_detached(session: Session, row: object) -> None:
    """Commit, and keep ``row`` readable after its session closes."""
    session.commit()
    session.refresh(row)
    session.expunge(row)


def _reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise DecisionError("请写明理由（--reason）")
    return text[:1000]


def _version_with(session: Session, unit_id: int, item: str, code: str) -> ItemVersion | None:
    """The newest version of ``item`` whose problems or doubts, after the decisions already
    taken, still carry ``code``."""
    overrides: Overrides = standing.overrides_for(session, unit_id)
    for version in reversed(records.unit_versions(session, unit_id)):
        if version.item != item:
            continue
        view = overrides.version(version)
        if any(f.get("code") == code for f in view.problems + view.doubts):
            if not any(p.get("decision") for p in view.problems if p.get("code") == code):
                return version
    return None


def _held_receipts(session: Session, unit_id: int) -> list[OutboxEntry]:
    return [
        e
        for e in records.unit_replies(session, unit_id)
        if e.state == "review" and e.message_id is not None
    ]
