"""Item status: on time or late by the first version, problems and doubts by the newest (DESIGN.md).

A version whose item is in doubt (a ``kind_unsure`` doubt: it may be a photo, not a scan) is not
counted until staff decide; it stays listed among the doubts for review.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parsers.vocabulary import ITEM_KEYS


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

    @property
    def needs_correction(self) -> bool:
        """True when the newest version has problems."""
        return bool(self.problems)


def is_on_time(received_at: datetime, deadline: datetime) -> bool:
    """On time means received at or before the deadline (17:00:00 itself is on time)."""
    return received_at <= deadline


def counted(version: Any) -> bool:
    """Whether a version counts as its item: not while its kind is in doubt."""
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
    versions: Iterable[Any], deadline: datetime, required: Iterable[str] = ITEM_KEYS
) -> dict[str, ItemStatus]:
    """The status of all four items from every version of one sub-committee; ``required`` are
    the items this campaign asks of every unit (``CampaignRules.required_keys``)."""
    required = set(required)
    by_item: dict[str, list[Any]] = {key: [] for key in ITEM_KEYS}
    for version in versions:
        by_item.setdefault(version.item, []).append(version)
    return {
        key: item_status(key, by_item[key], deadline, required=key in required) for key in ITEM_KEYS
    }


def unit_complete(statuses: dict[str, ItemStatus]) -> bool:
    """No required item missing and no item with problems (doubts are staff's to settle)."""
    return all(
        (s.status != "missing" or not s.required) and not s.problems for s in statuses.values()
    )


def still_missing(statuses: dict[str, ItemStatus]) -> list[str]:
    """The required items not yet received, in item order."""
    return [key for key, s in statuses.items() if s.status == "missing" and s.required]
