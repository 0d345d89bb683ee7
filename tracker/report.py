"""The missing-submissions report: one dictionary (DESIGN.md's JSON) and its terminal table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from parsers.rules import DEFAULT_RULES, CampaignRules
from parsers.text_safety import shown_data
from parsers.vocabulary import ITEM_KEYS, ITEM_LABELS, ITEM_SHORT_LABELS

from . import records, standing
from .decisions import decision_view
from .references import reference_number
from .status import still_missing, unit_complete


def build_report(
    session: Session,
    *,
    campaign: str,
    deadline: datetime,
    now: datetime | None = None,
    rules: CampaignRules = DEFAULT_RULES,
) -> dict[str, Any]:
    """The report as DESIGN.md's JSON schema, plus the ``failed`` queue of unparsable mail and the
    ``undelivered`` mail (refused for good, or held back after an outage). ``rules`` say which
    items are required (an optional item missing leaves a unit complete).

    Every string in it has passed ``parsers.text_safety.shown``: whatever a sender wrote (or an
    older database holds), each format made from the report can write it."""
    now = now or datetime.now(UTC)
    units = []
    standings = standing.every_standing(session, deadline, rules)
    message_problems = _message_problems(session)
    for unit in records.all_subcommittees(session):
        statuses, own_deadline = standings[unit.id]
        items = {
            key: {
                "status": s.status,
                "received_at": _iso(s.received_at, deadline),
                "problems": s.problems,
                "doubts": s.doubts,
                "required": s.required,
                "decisions": [decision_view(d, deadline.tzinfo) for d in s.decisions],
            }
            for key, s in statuses.items()
        }
        units.append(
            {
                "name": unit.name,
                "complete": unit_complete(statuses),
                "deadline": _iso(own_deadline, deadline) if own_deadline != deadline else None,
                "problems": message_problems.get(unit.id, []) if still_missing(statuses) else [],
                "items": items,
            }
        )
    unassigned = [
        {
            "reference": reference_number(m, deadline.tzinfo),
            "message_id": m.message_id,
            "from": m.from_addr,
            "subject": m.subject,
            "received_at": _iso(m.received_at, deadline),
            "problems": list(m.problems or []),
        }
        for m in records.unassigned_messages(session)
    ]
    failed = [
        {
            "reference": reference_number(m, deadline.tzinfo),
            "message_id": m.message_id,
            "from": m.from_addr,
            "subject": m.subject,
            "received_at": _iso(m.received_at, deadline),
            "error": m.error,
        }
        for m in records.messages_in_state(session, "failed")
    ]
    undelivered = [
        {
            "to": e.recipient,
            "subject": e.subject,
            "state": e.state,
            "error": e.last_error,
            "created_at": _iso(e.created_at, deadline),
        }
        for e in records.undelivered_replies(session)
    ]
    held_for_review = [
        {"to": e.recipient, "subject": e.subject, "created_at": _iso(e.created_at, deadline)}
        for e in records.replies_in_state(session, "review")
    ]
    return shown_data(
        {
            "campaign": campaign,
            "deadline": deadline.isoformat(),
            "generated_at": _iso(now, deadline),
            "items": {
                i.key: {"label": i.label, "short_label": i.short_label, "required": i.required}
                for i in rules.items
            },
            "best_share": rules.best_share,
            "subcommittees": units,
            "unassigned": unassigned,
            "failed": failed,
            "undelivered": undelivered,
            "held_for_review": held_for_review,
            "pending": len(records.messages_in_state(session, "stored", "processing")),
        }
    )


def item_labels(report: dict[str, Any], *, short: bool = False) -> dict[str, str]:
    """The campaign's item labels (or short labels) in a report, else the standard ones."""
    field, defaults = ("short_label", ITEM_SHORT_LABELS) if short else ("label", ITEM_LABELS)
    given = report.get("items") or {}
    return {key: given.get(key, {}).get(field) or defaults[key] for key in ITEM_KEYS}


def _message_problems(session: Session) -> dict[int, list[dict[str, str]]]:
    """Each unit's message-level problems (a link too large, a message too big), one query."""
    seen: dict[int, dict[str, dict[str, str]]] = {}
    for unit_id, problems in records.unit_message_problems(session):
        for found in problems or []:
            seen.setdefault(unit_id, {}).setdefault(found["message"], found)
    return {unit_id: list(found.values()) for unit_id, found in seen.items()}


def _iso(moment: datetime | None, deadline: datetime) -> str | None:
    """Times are shown in the deadline's zone (China time for the department)."""
    return moment.astimezone(deadline.tzinfo).isoformat() if moment else None


def summary_counts(report: dict[str, Any]) -> dict[str, int]:
    """The headline numbers: complete units, and units with a missing (required), late,
    to-correct or in-doubt item."""
    units = report["subcommittees"]

    def having(status: str) -> int:
        return sum(
            any(i["status"] == status and i.get("required", True) for i in u["items"].values())
            for u in units
        )

    return {
        "total": len(units),
        "complete": sum(u["complete"] for u in units),
        "missing": having("missing"),
        "late": having("late"),
        "needs_correction": sum(any(i["problems"] for i in u["items"].values()) for u in units),
        "doubts": sum(any(i.get("doubts") for i in u["items"].values()) for u in units),
        "unassigned": len(report["unassigned"]),
        "failed": len(report.get("failed", [])),
        "held_for_review": len(report.get("held_for_review", [])),
        "pending": report.get("pending", 0),
    }
