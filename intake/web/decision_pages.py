"""What the dashboard shows of staff decisions: each verdict with the decision that overrules it,
a unit's decisions, the receipts held for review, the reminders about to go, the decision log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from notifier.reminders import MANUAL_KEY, plan_reminders
from parsers.vocabulary import RECORDED_ACTIONS, short_label
from tracker import records, standing
from tracker.decisions import Overrides, decision_view

from ..config import Settings


def verdicts_of(version: Any, overrides: Overrides, zone: Any) -> list[dict[str, Any]]:
    """The system's problems and doubts on ``version``, each with the decision that overruled it
    (None while it stands), then the problems staff made of rejected doubts."""
    view = overrides.version(version)
    by_code = {d.code: decision_view(d, zone) for d in view.decisions}
    shown = [
        {
            "verdict": verdict,
            "code": f.get("code"),
            "message": f.get("message", ""),
            "decision": by_code.get(f.get("code")),
        }
        for verdict, found in (("problem", version.problems), ("doubt", version.doubts))
        for f in found or []
    ]
    shown += [
        {
            "verdict": "problem",
            "code": p.get("code"),
            "message": p["message"],
            "decision": None,
            "by_staff": True,
        }
        for p in view.problems
        if p.get("decision")
    ]
    return shown


def unit_decisions(session: Session, settings: Settings, unit_id: int) -> list[dict[str, Any]]:
    """Every decision about the unit, newest first, undone ones included."""
    zone, rules = settings.deadline.tzinfo, settings.rules
    listed = []
    for decision in reversed(standing.unit_decisions(session, unit_id)):
        view = decision_view(decision, zone)
        view["recorded_only"] = decision.action in RECORDED_ACTIONS
        view["item_label"] = (
            rules.label(decision.item)
            if decision.item
            else "—"
            if view["recorded_only"]
            else "全部材料"
        )
        view["code_label"] = (
            short_label(decision.code, best_share=rules.best_share) if decision.code else ""
        )
        listed.append(view)
    return listed


def reminder_preview(
    session: Session, settings: Settings, now: datetime, unit_ids: list[int] | None
) -> dict[str, Any]:
    """The exact reminders 一键催交 would send now, and the units it would leave out."""
    plan = plan_reminders(
        session,
        key=MANUAL_KEY,
        campaign=settings.campaign_name,
        deadline=settings.deadline,
        now=now,
        rules=settings.rules,
        unit_ids=unit_ids,
    )
    return {
        "reminders": [
            {
                "unit": r.unit,
                "unit_id": r.unit_id,
                "to": r.addresses,
                "subject": r.subject,
                "body": r.body,
            }
            for r in plan.reminders
        ],
        "skipped": plan.skipped,
    }


def decision_log(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Every decision of the campaign, newest first, with its unit."""
    units = {u.id: u.name for u in records.all_subcommittees(session)}
    listed = []
    for unit_id in units:
        for view in unit_decisions(session, settings, unit_id):
            view["unit"], view["unit_id"] = units[unit_id], unit_id
            listed.append(view)
    return sorted(listed, key=lambda v: (v["at"], v["id"]), reverse=True)
