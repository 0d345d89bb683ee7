"""The missing-submissions report: one dictionary (DESIGN.md's JSON) and its terminal table."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from . import records
from .status import unit_statuses

SHORT_LABELS = {"summary": "总结", "summary_scan": "总结扫描件", "table": "汇总表", "table_scan": "汇总表扫描件"}


def build_report(session: Session, *, campaign: str, deadline: datetime,
                 now: datetime | None = None) -> dict[str, Any]:
    """The report as DESIGN.md's JSON schema, plus the ``failed`` queue of unparsable mail and the
    ``undelivered`` mail (refused for good, or held back after an outage)."""
    now = now or datetime.now(timezone.utc)
    units = []
    for unit in records.all_subcommittees(session):
        statuses = unit_statuses(records.unit_versions(session, unit.id), deadline)
        items = {key: {"status": s.status, "received_at": _iso(s.received_at, deadline),
                       "problems": s.problems} for key, s in statuses.items()}
        complete = all(s.status != "missing" and not s.problems for s in statuses.values())
        all_received = all(s.status != "missing" for s in statuses.values())
        units.append({"name": unit.name, "complete": complete,
                      "problems": [] if all_received else _unit_problems(session, unit.id),
                      "items": items})
    unassigned = [{"message_id": m.message_id, "from": m.from_addr, "subject": m.subject,
                   "received_at": _iso(m.received_at, deadline), "problems": list(m.problems or [])}
                  for m in records.unassigned_messages(session)]
    failed = [{"message_id": m.message_id, "from": m.from_addr, "subject": m.subject,
               "received_at": _iso(m.received_at, deadline), "error": m.error}
              for m in records.messages_in_state(session, "failed")]
    undelivered = [{"to": e.recipient, "subject": e.subject, "state": e.state, "error": e.last_error,
                    "created_at": _iso(e.created_at, deadline)} for e in records.undelivered_replies(session)]
    return {"campaign": campaign, "deadline": deadline.isoformat(), "generated_at": _iso(now, deadline),
            "subcommittees": units, "unassigned": unassigned, "failed": failed, "undelivered": undelivered}


def _unit_problems(session: Session, unit_id: int) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for message in records.unit_messages(session, unit_id):
        for found in message.problems or []:
            seen.setdefault(found["message"], found)
    return list(seen.values())


def _iso(moment: datetime | None, deadline: datetime) -> str | None:
    """Times are shown in the deadline's zone (China time for the department)."""
    return moment.astimezone(deadline.tzinfo).isoformat() if moment else None


def summary_counts(report: dict[str, Any]) -> dict[str, int]:
    """The headline numbers: complete units, and units with a missing, late or to-correct item."""
    units = report["subcommittees"]

    def having(status: str) -> int:
        return sum(any(i["status"] == status for i in u["items"].values()) for u in units)

    return {"total": len(units), "complete": sum(u["complete"] for u in units),
            "missing": having("missing"), "late": having("late"),
            "needs_correction": sum(any(i["problems"] for i in u["items"].values()) for u in units),
            "unassigned": len(report["unassigned"]), "failed": len(report.get("failed", []))}
