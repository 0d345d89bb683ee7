"""Item status: on time or late by the first version, problems from the newest (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from parsers.findings import ITEM_KEYS

ITEM_LABELS = {
    "summary": "工作总结（电子版）",
    "summary_scan": "工作总结（盖章扫描件）",
    "table": "立项结果汇总表（电子版）",
    "table_scan": "立项结果汇总表（盖章扫描件）",
}
STATUS_LABELS = {"on_time": "按时", "late": "逾期", "missing": "缺交"}


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

    @property
    def needs_correction(self) -> bool:
        """True when the newest version has problems."""
        return bool(self.problems)


def is_on_time(received_at: datetime, deadline: datetime) -> bool:
    """On time means received at or before the deadline (17:00:00 itself is on time)."""
    return received_at <= deadline


def item_status(item: str, versions: Iterable[Any], deadline: datetime) -> ItemStatus:
    """Fold the versions of one item (objects with received_at, filename, problems, id) into its status."""
    ordered = sorted(versions, key=lambda v: (v.received_at, v.id))
    status = ItemStatus(item=item)
    if not ordered:
        return status
    first, newest = ordered[0], ordered[-1]
    status.received_at = first.received_at
    status.status = "on_time" if is_on_time(status.received_at, deadline) else "late"
    status.updated_at = newest.received_at
    status.filename = newest.filename
    status.versions = len(ordered)
    status.problems = list(newest.problems or [])
    return status


def unit_statuses(versions: Iterable[Any], deadline: datetime) -> dict[str, ItemStatus]:
    """The status of all four items from every version of one sub-committee."""
    by_item: dict[str, list[Any]] = {key: [] for key in ITEM_KEYS}
    for version in versions:
        by_item.setdefault(version.item, []).append(version)
    return {key: item_status(key, by_item[key], deadline) for key in ITEM_KEYS}

