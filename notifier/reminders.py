"""Reminders to units still missing items, before and after the deadline (each at most once)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from parsers.rules import DEFAULT_RULES, CampaignRules
from tracker import records, standing
from tracker.status import still_missing

from .outbox import queue_reply
from .replies import compose_message, render

log = logging.getLogger(__name__)


def reminder_key(offset: timedelta | None) -> str:
    """The name of a reminder: ``before-3d``, ``before-3h``… or ``after-deadline``."""
    if offset is None:
        return "after-deadline"
    seconds = int(offset.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"before-{seconds // size}{unit}"
    return f"before-{seconds}s"


MANUAL_KEY = "manual"
MANUAL_INTERVAL = timedelta(hours=1)  # at most one manual reminder per unit per hour


@dataclass
class PlannedReminder:
    """One unit's reminder, as it will be sent: to whom, subject and text."""

    unit_id: int
    unit: str
    addresses: list[str]
    missing: list[str]
    subject: str
    body: str


@dataclass
class ReminderPlan:
    """The reminders that would go now, and the units left out with the reason (Chinese)."""

    reminders: list[PlannedReminder] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def plan_reminders(
    session: Session,
    *,
    key: str,
    campaign: str,
    deadline: datetime,
    now: datetime,
    rules: CampaignRules = DEFAULT_RULES,
    unit_ids: Iterable[int] | None = None,
) -> ReminderPlan:
    """What reminder ``key`` would send now: one per unit with a missing required item and a
    known address, each against the unit's own deadline. ``key`` ``manual`` is staff's
    reminder sent now (一键催交): at most one per unit per hour; ``unit_ids`` limits it."""
    wanted = set(unit_ids) if unit_ids is not None else None
    plan = ReminderPlan()
    standings = standing.every_standing(session, deadline, rules)
    for unit in records.all_subcommittees(session):
        if wanted is not None and unit.id not in wanted:
            continue
        if key == MANUAL_KEY:
            last = records.last_reminder(session, unit.id, f"{MANUAL_KEY}-")
            if last is not None and now - last < MANUAL_INTERVAL:
                plan.skipped.append((unit.name, "一小时内已催交过"))
                continue
        elif records.reminder_sent(session, unit.id, key):
            continue
        statuses, own_deadline = standings[unit.id]
        after = now > own_deadline
        if key == "after-deadline" and not after:
            continue  # staff extended this unit's deadline
        missing = [rules.label(item) for item in still_missing(statuses)]
        addresses = records.unit_addresses(session, unit)
        if not missing or not addresses:
            if wanted is not None:
                plan.skipped.append(
                    (unit.name, "材料已齐" if not missing else "没有可用的邮箱地址")
                )
            continue
        body = render(
            "reminder.txt.j2",
            unit=unit.name,
            campaign=campaign,
            missing=missing,
            now=now.astimezone(own_deadline.tzinfo),
            deadline=own_deadline,
            after_deadline=after,
            remaining=_remaining(own_deadline - now),
        )
        label = "逾期提醒" if after else "报送提醒"
        plan.reminders.append(
            PlannedReminder(
                unit_id=unit.id,
                unit=unit.name,
                addresses=addresses,
                missing=missing,
                subject=f"【{label}】{campaign}：{unit.name}尚缺{len(missing)}项材料",
                body=body,
            )
        )
    return plan


def queue_reminders(
    session: Session,
    *,
    key: str,
    campaign: str,
    deadline: datetime,
    sender: str,
    now: datetime,
    rules: CampaignRules = DEFAULT_RULES,
    unit_ids: Iterable[int] | None = None,
) -> ReminderPlan:
    """Queue reminder ``key`` (see ``plan_reminders``) and record it per unit; return the plan
    that was queued (its reminders, and the units left out). A manual reminder is recorded under
    ``manual-<time>``, so each one is kept."""
    plan = plan_reminders(
        session,
        key=key,
        campaign=campaign,
        deadline=deadline,
        now=now,
        rules=rules,
        unit_ids=unit_ids,
    )
    stored_key = f"{MANUAL_KEY}-{now:%Y%m%dT%H%M%S}" if key == MANUAL_KEY else key
    for reminder in plan.reminders:
        first = None
        for address in reminder.addresses:
            entry = queue_reply(
                session,
                message_id=None,
                kind=f"reminder:{stored_key}",
                now=now,
                subcommittee_id=reminder.unit_id,
                reply=compose_message(
                    sender=sender,
                    recipient=address,
                    subject=reminder.subject,
                    body=reminder.body,
                    now=now,
                ),
            )
            first = first or entry
        session.flush()
        records.record_reminder(session, reminder.unit_id, stored_key, now, first.id)
        log.info(
            "已排队催交提醒 key=%s unit=%s to=%s missing=%d",
            stored_key,
            reminder.unit,
            ",".join(reminder.addresses),
            len(reminder.missing),
        )
    return plan


def _remaining(left: timedelta) -> str:
    hours = max(0, int(left.total_seconds() // 3600))
    return f"{hours // 24} 天 {hours % 24} 小时" if hours >= 24 else f"{hours} 小时"
