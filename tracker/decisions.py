"""Staff decisions laid over the system's verdicts, without changing what the system said.

The stored versions keep the checks' problems and doubts; ``Overrides`` gives the view staff
decisions make of them: a waived problem or a settled doubt gone, a rejected doubt turned into a
problem, an item handed in on paper, an exempt item, a unit's own deadline. Each item's status
then lists the decisions that shaped it, to be shown beside the verdict they overrule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parsers.vocabulary import DECISION_LABELS, PAPER_FILENAME, REJECTED_DOUBTS, verdict_of

from .models import StaffDecision

PAPER_VERSION_ID = 10**12  # paper versions sort after every stored version received at that time


@dataclass
class VersionView:
    """A version as staff decisions leave it (the fields ``tracker.status`` folds)."""

    id: int
    item: str
    filename: str
    received_at: datetime
    sha256: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    doubts: list[dict[str, Any]] = field(default_factory=list)
    rejected_kind: bool = False
    decisions: list[StaffDecision] = field(default_factory=list)


def decision_label(decision: StaffDecision) -> str:
    """The Chinese name of what a decision did (核对无误, 免于更正, 线下收到…)."""
    if decision.action == "accept":
        code = decision.code or ""
        try:
            verdict = verdict_of(code)
        except KeyError:
            verdict = "problem"
        return DECISION_LABELS["accept_doubt" if verdict == "doubt" else "accept_problem"]
    return DECISION_LABELS.get(decision.action, decision.action)


def rejected_problem(decision: StaffDecision, item_label: str) -> dict[str, Any]:
    """The problem a rejected doubt becomes: its code, and the sentence the unit is sent."""
    template = REJECTED_DOUBTS.get(
        decision.code or "", "经工作人员核对，《{filename}》需更正（{reason}），请更正后重新发送。"
    )
    message = template.format(
        filename=decision.filename or "", reason=decision.reason, item=item_label
    )
    return {"code": decision.code, "message": message, "decision": decision.id}


class Overrides:
    """The active decisions of one unit, applied to its versions, deadline and items."""

    def __init__(
        self, decisions: Iterable[StaffDecision], labels: dict[str, str] | None = None
    ) -> None:
        self.active = sorted((d for d in decisions if d.active), key=lambda d: (d.decided_at, d.id))
        self.labels = labels or {}

    def deadline(self, campaign_deadline: datetime) -> datetime:
        """The unit's deadline: its newest extension, else the campaign's."""
        extensions = [d for d in self.active if d.action == "extend" and d.moment]
        return extensions[-1].moment if extensions else campaign_deadline

    def exempted(self, item: str) -> StaffDecision | None:
        """The decision that exempts this unit from ``item``, if any."""
        return next((d for d in self.active if d.action == "exempt" and d.item == item), None)

    def version(self, version: Any) -> VersionView:
        """``version`` with every accept and reject on its file and item applied."""
        view = VersionView(
            id=version.id,
            item=version.item,
            filename=version.filename,
            received_at=version.received_at,
            sha256=getattr(version, "sha256", None),
            problems=list(version.problems or []),
            doubts=list(getattr(version, "doubts", None) or []),
        )
        for decision in self.active:
            if decision.action not in ("accept", "reject"):
                continue
            if decision.item != view.item or decision.sha256 != view.sha256:
                continue
            code = decision.code
            had = any(p.get("code") == code for p in view.problems + view.doubts)
            if not had:
                continue
            view.decisions.append(decision)
            view.doubts = [d for d in view.doubts if d.get("code") != code]
            if decision.action == "accept":
                view.problems = [p for p in view.problems if p.get("code") != code]
            else:
                view.rejected_kind = view.rejected_kind or code == "kind_unsure"
                view.problems.append(rejected_problem(decision, self.labels.get(view.item, "")))
        return view

    def paper_versions(self) -> list[VersionView]:
        """One version per item handed in another way (``mark``), at the time staff gave."""
        return [
            VersionView(
                id=PAPER_VERSION_ID + d.id,
                item=d.item or "",
                filename=PAPER_FILENAME,
                received_at=d.moment,
                decisions=[d],
            )
            for d in self.active
            if d.action == "mark" and d.moment and d.item
        ]

    def unit_wide(self) -> list[StaffDecision]:
        """Decisions that shape every item of the unit (its own deadline)."""
        return [d for d in self.active if d.action == "extend"]


def decision_view(decision: StaffDecision, zone: Any) -> dict[str, Any]:
    """A decision as the report, the dashboard and ``intake log`` show it (times in ``zone``)."""

    def iso(moment: datetime | None) -> str | None:
        return moment.astimezone(zone).isoformat() if moment else None

    return {
        "id": decision.id,
        "action": decision.action,
        "label": decision_label(decision),
        "item": decision.item,
        "code": decision.code,
        "filename": decision.filename,
        "moment": iso(decision.moment),
        "reason": decision.reason,
        "by": decision.decided_by,
        "at": iso(decision.decided_at),
        "undone_by": decision.undone_by,
        "undone_at": iso(decision.undone_at),
    }
