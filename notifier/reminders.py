"""Reminders to units still missing items, before and after the deadline (each at most once)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from parsers.rules import DEFAULT_RULES, CampaignRules
from tracker import records
from tracker.status import still_missing, unit_statuses

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


def queue_reminders(
    session: Session,
    *,
    key: str,
    campaign: str,
    deadline: datetime,
    sender: str,
    now: datetime,
    rules: CampaignRules = DEFAULT_RULES,
) -> int:
    """Queue reminder ``key`` for every unit with a missing required item and a known address;
    return how many units."""
    after = key == "after-deadline"
    reminded = 0
    for unit in records.all_subcommittees(session):
        if records.reminder_sent(session, unit.id, key):
            continue
        statuses = unit_statuses(
            records.unit_versions(session, unit.id), deadline, rules.required_keys
        )
        missing = [rules.label(item) for item in still_missing(statuses)]
        addresses = records.unit_addresses(session, unit)
        if not missing or not addresses:
            continue
        body = render(
            "reminder.txt.j2",
            unit=unit.name,
            campaign=campaign,
            missing=missing,
            now=now.astimezone(deadline.tzinfo),
            deadline=deadline,
            after_deadline=after,
            remaining=_remaining(deadline - now),
        )
        label = "逾期提醒" if after else "报送提醒"
        subject = f"【{label}】{campaign}：{unit.name}尚缺{len(missing)}项材料"
        first = None
        for address in addresses:
            entry = queue_reply(
                session,
                message_id=None,
                kind=f"reminder:{key}",
                now=now,
                subcommittee_id=unit.id,
                reply=compose_message(
                    sender=sender, recipient=address, subject=subject, body=body, now=now
                ),
            )
            first = first or entry
        session.flush()
        records.record_reminder(session, unit.id, key, now, first.id)
        reminded += 1
        log.info(
            "reminder key=%s unit=%s to=%s missing=%d",
            key,
            unit.name,
            ",".join(addresses),
            len(missing),
        )
    return reminded


def _remaining(left: timedelta) -> str:
    hours = max(0, int(left.total_seconds() // 3600))
    return f"{hours // 24} 天 {hours % 24} 小时" if hours >= 24 else f"{hours} 小时"
