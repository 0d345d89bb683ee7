"""The correction request a staff decision causes: one reply, threaded to the unit's message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tracker.models import Message, OutboxEntry

from .outbox import queue_reply
from .replies import compose_reply, render


def queue_correction(
    session: Session,
    *,
    message: Message,
    unit: str,
    item: str,
    problem: str,
    reference: str,
    campaign: str,
    deadline: datetime,
    sender: str,
    now: datetime,
    decision_id: int,
) -> OutboxEntry | None:
    """Queue the request to correct ``item`` (``problem``: the sentence) as a reply to
    ``message``; None when the message has no address to answer."""
    if not message.from_addr:
        return None
    zone = deadline.tzinfo
    body = render(
        "correction.txt.j2",
        unit=unit,
        item=item,
        problem=problem,
        reference=reference,
        campaign=campaign,
        received=message.received_at.astimezone(zone),
        deadline=deadline,
    )
    reply = compose_reply(
        sender=sender,
        recipient=message.from_addr,
        original_subject=message.subject,
        original_message_id=message.message_id,
        original_references=[],
        body=body,
        now=now,
    )
    del reply["Subject"]
    reply["Subject"] = f"【需更正】{(message.subject or '').strip() or item}"
    return queue_reply(
        session,
        message_id=message.id,
        kind=f"correction:{decision_id}",
        reply=reply,
        now=now,
        subcommittee_id=message.subcommittee_id,
    )
