"""Item status: on time or late by the first version, problems and doubts by the newest (DESIGN.md).

A version whose item is in doubt (a ``kind_unsure`` doubt: it may be a photo, not a scan) is not
counted until staff decide; it stays listed among the doubts for review. Staff decisions
(``tracker.decisions.Overrides``) are laid over the versions first: the unit's own deadline,
waived problems, settled or rejected doubts, items handed in on paper, exempt items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parsers.vocabulary import ITEM_KEYS

from .decisions import Overrides


@dataclass
class ItemStatus:
    """The state of one item of one sub-committee."""

    item: str
    status: str = "missing"
    received_at: datetime | None = None
    updated_at: datetime | None = None
    filename: str | None = None
    versions: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    doubts: list[dict[str, Any]] = field(default_factory=list)
    required: bool = True
    decisions: list[Any] = field(default_factory=list)

    @property
    def needs_correction(self) -> bool:
        """True when the newest version has problems."""
        return bool(self.problems)


def is_on_time(received_at: datetime, deadline: datetime) -> bool:
    """On time means received at or before the deadline (17:00:00 itself is on time)."""
    return received_at <= deadline


def counted(version: Any) -> bool:
    """Whether a version counts as its item: not while its kind is in doubt, nor once staff
    found it is not the item."""
    if getattr(version, "rejected_kind", False):
        return False
    return not any(d.get("code") == "kind_unsure" for d in (getattr(version, "doubts", None) or []))


def item_status(
    item: str, versions: Iterable[Any], deadline: datetime, *, required: bool = True
) -> ItemStatus:
    """Fold the versions of one item (objects with received_at, filename, problems, doubts, id) into
    its status; versions whose kind is in doubt are left out, their doubts kept for staff."""
    everything = sorted(versions, key=lambda v: (v.received_at, v.id))
    ordered = [v for v in everything if counted(v)]
    status = ItemStatus(item=item, required=required)
    status.doubts = [d for v in everything if not counted(v) for d in (v.doubts or [])]
    if not ordered:
        return status
    first, newest = ordered[0], ordered[-1]
    status.received_at = first.received_at
    status.status = "on_time" if is_on_time(status.received_at, deadline) else "late"
    status.updated_at = newest.received_at
    status.filename = newest.filename
    status.versions = len(ordered)
    status.problems = list(newest.problems or [])
    status.doubts = list(getattr(newest, "doubts", None) or []) + status.doubts
    return status


def unit_statuses(
    versions: Iterable[Any],
    deadline: datetime,
    required: Iterable[str] = ITEM_KEYS,
    overrides: Overrides | None = None,
) -> dict[str, ItemStatus]:
    """The status of all four items from every version of one sub-committee; ``required`` are
    the items this campaign asks of every unit (``CampaignRules.required_keys``), ``overrides``
    the unit's staff decisions (its own deadline among them)."""
    overrides = overrides or Overrides(())
    deadline = overrides.deadline(deadline)
    required = set(required)
    by_item: dict[str, list[Any]] = {key: [] for key in ITEM_KEYS}
    for version in [overrides.version(v) for v in versions] + overrides.paper_versions():
        by_item.setdefault(version.item, []).append(version)
    statuses = {}
    for key in ITEM_KEYS:
        status = item_status(key, by_item[key], deadline, required=key in required)
        status.decisions = [d for v in by_item[key] for d in v.decisions] + overrides.unit_wide()
        exempt = overrides.exempted(key)
        if exempt is not None:
            status.status, status.required = "exempt", False
            status.problems, status.doubts = [], []
            status.decisions.append(exempt)
        statuses[key] = status
    return statuses


def unit_complete(statuses: dict[str, ItemStatus]) -> bool:
    """No required item missing and no item with problems (doubts are staff's to settle)."""
    return all(
        (s.status != "missing" or not s.required) and not s.problems for s in statuses.values()
    )


def still_missing(statuses: dict[str, ItemStatus]) -> list[str]:
    """The required items not yet received, in item order."""
    return [key for key, s in statuses.items() if s.status == "missing" and s.required]
