"""The daily digest for staff: counts, new arrivals, who is missing what, with the xlsx report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tracker import records
from tracker.report import item_labels, summary_counts

from .outbox import queue_reply
from .replies import compose_message, render
from .webhooks import NotifyTarget, queue_notice

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def queue_digest(
    session: Session,
    *,
    report: dict[str, Any],
    staff: list[str],
    sender: str,
    now: datetime,
    deadline: datetime,
    xlsx: bytes | None,
    notify: tuple[NotifyTarget, ...] = (),
) -> int:
    """Queue today's digest to every staff address (and to the work chats that want it);
    returns how many mails were queued."""
    units = {u.id: u.name for u in records.all_subcommittees(session)}
    arrived = [
        {
            "when": m.received_at.astimezone(deadline.tzinfo).strftime("%m-%d %H:%M"),
            "unit": units.get(m.subcommittee_id),
            "subject": m.subject,
        }
        for m in records.messages_received_since(session, now - timedelta(days=1))
    ]
    labels = item_labels(report)
    still_missing = [
        (
            u["name"],
            [
                labels[k]
                for k, i in u["items"].items()
                if i["status"] == "missing" and i.get("required", True)
            ],
        )
        for u in report["subcommittees"]
    ]
    body = render(
        "digest.txt.j2",
        campaign=report["campaign"],
        now=now.astimezone(deadline.tzinfo),
        deadline=deadline,
        counts=summary_counts(report),
        arrived=arrived,
        still_missing=[(name, missing) for name, missing in still_missing if missing],
        unassigned=report["unassigned"],
    )
    day = now.astimezone(deadline.tzinfo)
    lines = [line for line in body.splitlines() if "附件" not in line]  # the chat has none
    chat = f"【日报】{report['campaign']} {day:%m月%d日}\n" + "\n".join(lines)
    queue_notice(session, notify, "digest", key=f"{day:%Y-%m-%d}", text=chat, now=now)
    attachments = [(f"报送情况{day:%Y%m%d}.xlsx", XLSX, xlsx)] if xlsx else []
    for address in staff:
        queue_reply(
            session,
            message_id=None,
            kind=f"digest:{day:%Y-%m-%d}",
            now=now,
            reply=compose_message(
                sender=sender,
                recipient=address,
                now=now,
                attachments=attachments,
                subject=f"【日报】{report['campaign']} {day:%m月%d日}",
                body=body,
            ),
        )
    return len(staff)
