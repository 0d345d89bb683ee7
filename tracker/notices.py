"""The queries of the work-chat notices (``tracker.models.Notice``): queue once, lock, report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from .db import upsert_insert
from .models import Notice


def add_notice(session: Session, **values) -> bool:  # noqa: ANN003 - the Notice's columns
    """Queue a notice in the caller's transaction unless this target has one with this key
    already (a second process, or a message processed again); True if it was added."""
    insert = upsert_insert(session)
    values = {"state": "queued", "attempts": 0, **values}
    if insert is None:  # another database: check, then insert
        if session.scalar(
            select(Notice.id).where(Notice.target == values["target"], Notice.key == values["key"])
        ):
            return False
        session.add(Notice(**values))
        return True
    statement = insert(Notice).values(**values).on_conflict_do_nothing()
    return session.execute(statement).rowcount == 1


def due_notices(session: Session, now: datetime) -> list[Notice]:
    """Queued notices due for an attempt, oldest first."""
    query = select(Notice).where(
        Notice.state == "queued",
        or_(Notice.next_attempt_at.is_(None), Notice.next_attempt_at <= now),
    )
    return list(session.scalars(query.order_by(Notice.id)))


def resting_targets(session: Session, now: datetime) -> dict[str, tuple[str, datetime]]:
    """The targets that refused a notice and are not to be tried before a later time: target ->
    (its last error, when to try it again)."""
    query = (
        select(Notice.target, Notice.last_error, Notice.next_attempt_at)
        .where(
            Notice.state == "queued",
            Notice.last_error.is_not(None),
            Notice.next_attempt_at > now,
        )
        .order_by(Notice.next_attempt_at)
    )
    return {target: (error, at) for target, error, at in session.execute(query)}


def lock_notice(session: Session, notice_id: int) -> Notice | None:
    """The queued notice, locked for this transaction; None if another sender holds or sent it
    (as ``records.lock_queued_reply``)."""
    queued = (Notice.id == notice_id, Notice.state == "queued")
    if session.get_bind().dialect.name == "sqlite":
        claimed = session.execute(update(Notice).where(*queued).values(attempts=Notice.attempts))
        return session.get(Notice, notice_id) if claimed.rowcount == 1 else None
    return session.scalar(select(Notice).where(*queued).with_for_update(skip_locked=True))


def notices_for(session: Session, target: str, *, event: str | None = None) -> list[Notice]:
    """A target's notices (of ``event``), oldest first."""
    query = select(Notice).where(Notice.target == target)
    if event is not None:
        query = query.where(Notice.event == event)
    return list(session.scalars(query.order_by(Notice.id)))


def target_standing(session: Session, target: str) -> dict[str, object]:
    """How a target fares: counts by state, the last success, the newest error still standing."""
    counts = dict(
        session.execute(
            select(Notice.state, func.count()).where(Notice.target == target).group_by(Notice.state)
        ).all()
    )
    last_sent = session.scalar(select(func.max(Notice.sent_at)).where(Notice.target == target))
    failing = session.scalar(
        select(Notice)
        .where(
            Notice.target == target,
            Notice.state.in_(("queued", "failed")),
            Notice.last_error.is_not(None),
        )
        .order_by(Notice.id.desc())
        .limit(1)
    )
    return {"counts": counts, "last_sent": last_sent, "failing": failing}
