"""Item status: first version decides on time or late; problems are the newest version's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from tracker.status import is_on_time, item_status, unit_statuses

CHINA = timezone(timedelta(hours=8))
DEADLINE = datetime(2022, 4, 1, 17, 0, 0, tzinfo=CHINA)


@dataclass
class Version:
    id: int
    item: str
    received_at: datetime
    filename: str = "f"
    problems: list = field(default_factory=list)


def test_deadline_instant_itself_is_on_time_and_one_second_later_is_late():
    assert is_on_time(DEADLINE, DEADLINE)
    assert is_on_time(datetime(2022, 4, 1, 9, 0, tzinfo=UTC), DEADLINE)  # 17:00 China
    assert not is_on_time(DEADLINE + timedelta(seconds=1), DEADLINE)


def test_correction_after_deadline_keeps_item_on_time_and_takes_newest_problems():
    first = Version(
        1,
        "table",
        DEADLINE - timedelta(days=1),
        "v1.xlsx",
        [{"code": "best_ratio_exceeded", "message": "m"}],
    )
    fixed = Version(2, "table", DEADLINE + timedelta(days=2), "v2.xlsx", [])
    status = item_status("table", [fixed, first], DEADLINE)
    assert status.status == "on_time" and status.problems == [] and status.filename == "v2.xlsx"
    assert status.received_at == first.received_at and status.versions == 2


def test_first_version_late_is_late_and_missing_items_are_missing():
    statuses = unit_statuses([Version(1, "summary", DEADLINE + timedelta(hours=1))], DEADLINE)
    assert statuses["summary"].status == "late"
    assert [statuses[k].status for k in ("summary_scan", "table", "table_scan")] == ["missing"] * 3
