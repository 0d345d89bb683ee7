"""The data of the two charts staff look at: submissions over time against the deadline, and the
university-wide grade distribution. Pure data: the progress comes from the report
(``tracker.report.build_report``: each item's first arrival with staff decisions applied), the
grades from the consolidated tables (``tracker.consolidated.collect_tables``).

A unit, at a moment, has sent everything it must (``complete``: every required item that is not
exempt received), part of it (``partly``), or nothing (``nothing``). Whether an item needs
correcting does not change the count: the charts show how the submissions came in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from parsers.rules import DEFAULT_RULES, CampaignRules

STATES = ("complete", "partly", "nothing")
STATE_LABELS = {"complete": "已交齐", "partly": "部分已交", "nothing": "未交"}
MAX_DAYS = 45
UNIT_SUFFIXES = ("直属党总支", "分党委", "党总支", "党委")


@dataclass
class Point:
    """The units in each state at ``at`` (the end of a day or an hour), and the items that first
    arrived in the period; ``counts`` is None for a period still to come."""

    label: str
    at: datetime
    counts: dict[str, int] | None
    arrivals: int = 0


@dataclass
class Progress:
    """Submissions over time: one point per day, and one per hour of the last 24 hours."""

    total: int
    deadline: datetime
    now: datetime
    days: list[Point]
    hours: list[Point]
    deadline_day: float | None = None  # the deadline's place on the days axis (slot index + part)
    deadline_hour: float | None = None  # and on the hours axis, when it falls in the last 24 hours

    @property
    def current(self) -> dict[str, int]:
        """The units in each state now."""
        return self.hours[-1].counts or dict.fromkeys(STATES, 0)

    @property
    def last_day_arrivals(self) -> int:
        """Items first received in the last 24 hours."""
        return sum(p.arrivals for p in self.hours)

    @property
    def completed_last_day(self) -> int:
        """Units that finished sending in the last 24 hours."""
        first = self.hours[0].counts or {}
        return self.current["complete"] - (first.get("complete", 0) if self.hours else 0)


@dataclass
class GradeRow:
    """One unit's plans by grade (in the campaign's grade order) and its top-grade standing."""

    name: str
    counts: list[int]
    received: bool = True
    limit: int | None = None
    over: bool = False

    @property
    def plans(self) -> int:
        """The unit's plans."""
        return sum(self.counts)

    @property
    def best_share(self) -> float | None:
        """The share of top-graded plans, None without plans."""
        return self.counts[0] / self.plans if self.plans else None


@dataclass
class Grades:
    """The grade distribution: one row per unit and the university's total."""

    grades: tuple[str, ...]
    best_share: float
    rows: list[GradeRow] = field(default_factory=list)

    @property
    def total(self) -> GradeRow:
        """The whole university as one row (over: its share above the line)."""
        counts = [sum(r.counts[i] for r in self.rows) for i in range(len(self.grades))]
        row = GradeRow("全校合计", counts)
        row.over = bool(row.plans) and counts[0] / row.plans > self.best_share
        return row


def short_name(name: str) -> str:
    """A unit's name without its 分党委 / 直属党总支 suffix, for chart labels."""
    for suffix in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def progress(report: dict[str, Any], now: datetime | None = None) -> Progress:
    """Submissions over time from a report: per day from the first arrival (or the week before the
    deadline) to the deadline's day or the last arrival, and per hour over the last 24 hours."""
    deadline = datetime.fromisoformat(report["deadline"])
    zone = deadline.tzinfo
    now = (now or datetime.fromisoformat(report["generated_at"])).astimezone(zone)
    units = [_unit_arrivals(u, zone) for u in report["subcommittees"]]
    arrivals = sorted(t for _, received in units for t in received)
    first = arrivals[0].date() if arrivals else deadline.date() - timedelta(days=6)
    last = max(deadline.date(), arrivals[-1].date() if arrivals else deadline.date())
    end = deadline.date() if now < deadline else min(last, now.date())
    start = max(min(first, deadline.date(), now.date()), end - timedelta(days=MAX_DAYS - 1))
    days = []
    for number in range((end - start).days + 1):
        day = start + timedelta(days=number)
        begin = datetime.combine(day, time(), zone)
        close = min(begin + timedelta(days=1), now)
        days.append(
            Point(
                f"{day:%m-%d}",
                close,
                _counts(units, close) if begin <= now else None,
                sum(begin <= t < close for t in arrivals),
            )
        )
    hours = []
    for back in range(23, -1, -1):
        close = now - timedelta(hours=back)
        hours.append(
            Point(
                f"{close:%H:%M}",
                close,
                _counts(units, close),
                sum(close - timedelta(hours=1) < t <= close for t in arrivals),
            )
        )
    deadline_day = _place(deadline, datetime.combine(start, time(), zone), timedelta(days=1))
    deadline_hour = _place(deadline, now - timedelta(hours=24), timedelta(hours=1))
    return Progress(
        total=len(units),
        deadline=deadline,
        now=now,
        days=days,
        hours=hours,
        deadline_day=deadline_day
        if deadline_day is not None and deadline_day <= len(days)
        else None,
        deadline_hour=deadline_hour if deadline_hour is not None and deadline_hour <= 24 else None,
    )


def grades(tables: list[Any], rules: CampaignRules = DEFAULT_RULES) -> Grades:
    """The grade distribution from ``collect_tables``'s unit tables."""
    chart = Grades(rules.grades, rules.best_share)
    for table in tables:
        row = GradeRow(
            table.name, [table.count(g) for g in rules.grades], table.filename is not None
        )
        if row.plans:
            row.limit = rules.best_limit(row.plans)
            row.over = row.counts[0] > row.limit
        chart.rows.append(row)
    return chart


def _unit_arrivals(unit: dict[str, Any], zone: Any) -> tuple[list[datetime | None], list[datetime]]:
    """When each required (not exempt) item first arrived (None: not yet), and every item's."""
    required, received = [], []
    for item in unit["items"].values():
        if item.get("status") == "exempt":
            continue
        moment = item.get("received_at")
        moment = datetime.fromisoformat(moment).astimezone(zone) if moment else None
        if item.get("required", True):
            required.append(moment)
        if moment is not None:
            received.append(moment)
    return required, received


def _counts(
    units: list[tuple[list[datetime | None], list[datetime]]], moment: datetime
) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for required, received in units:
        if all(t is not None and t <= moment for t in required):
            counts["complete"] += 1
        elif any(t <= moment for t in received):
            counts["partly"] += 1
        else:
            counts["nothing"] += 1
    return counts


def _place(moment: datetime, start: datetime, step: timedelta) -> float | None:
    """Where ``moment`` falls on an axis of ``step``-long slots from ``start``."""
    offset = (moment - start) / step
    return offset if offset >= 0 else None
