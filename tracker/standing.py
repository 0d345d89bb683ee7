"""A unit's standing read from the database: its versions with its staff decisions applied,
and the decisions themselves (record, undo, the log).

Every place that shows or acts on an item's status (report, dashboard, receipts, reminders,
digest, exports) asks here, so a decision changes all of them at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.rules import DEFAULT_RULES, CampaignRules
from parsers.vocabulary import ITEM_KEYS

from . import records
from .decisions import Overrides
from .models import ItemVersion, StaffDecision
from .status import ItemStatus, counted, unit_statuses


def unit_decisions(session: Session, unit_id: int) -> list[StaffDecision]:
    """Every decision about one unit, undone ones included, oldest first."""
    return list(
        session.scalars(
            select(StaffDecision)
            .where(StaffDecision.subcommittee_id == unit_id)
            .order_by(StaffDecision.decided_at, StaffDecision.id)
        )
    )


def all_decisions(session: Session) -> list[StaffDecision]:
    """Every staff decision, undone ones included, oldest first (``intake log``)."""
    return list(
        session.scalars(select(StaffDecision).order_by(StaffDecision.decided_at, StaffDecision.id))
    )


def overrides_for(
    session: Session, unit_id: int, rules: CampaignRules = DEFAULT_RULES
) -> Overrides:
    """The unit's active decisions, ready to lay over its versions."""
    labels = {key: rules.label(key) for key in ITEM_KEYS}
    return Overrides(unit_decisions(session, unit_id), labels)


def unit_deadline(session: Session, unit_id: int, deadline: datetime) -> datetime:
    """The unit's own deadline (staff extended it), else the campaign's."""
    return overrides_for(session, unit_id).deadline(deadline)


def unit_standing(
    session: Session,
    unit_id: int,
    deadline: datetime,
    rules: CampaignRules = DEFAULT_RULES,
    overrides: Overrides | None = None,
) -> dict[str, ItemStatus]:
    """The four items' statuses of one unit, its staff decisions applied (``overrides``, when
    the caller read them already)."""
    return unit_statuses(
        records.unit_versions(session, unit_id, facts=False),  # statuses never read facts
        deadline,
        rules.required_keys,
        overrides or overrides_for(session, unit_id, rules),
    )


def every_standing(
    session: Session, deadline: datetime, rules: CampaignRules = DEFAULT_RULES
) -> dict[int, tuple[dict[str, ItemStatus], datetime]]:
    """Every unit's item statuses and own deadline, by unit id, from two queries (the report
    and the dashboard show all units at once)."""
    labels = {key: rules.label(key) for key in ITEM_KEYS}
    versions: dict[int, list[ItemVersion]] = defaultdict(list)
    for version in session.scalars(
        select(ItemVersion).order_by(ItemVersion.received_at, ItemVersion.id)
    ):
        versions[version.subcommittee_id].append(version)
    decisions = _decisions_by_unit(session)
    found = {}
    for unit in records.all_subcommittees(session):
        overrides = Overrides(decisions[unit.id], labels)
        statuses = unit_statuses(versions[unit.id], deadline, rules.required_keys, overrides)
        found[unit.id] = (statuses, overrides.deadline(deadline))
    return found


def current_versions(
    session: Session, item: str | None = None
) -> dict[tuple[int, str], ItemVersion]:
    """The newest counted version of every (unit id, item) after staff decisions (a version
    whose kind staff accepted counts; one they found is not the item does not)."""
    current, _ = _counted_and_in_review(session, item)
    return current


def newest_versions(session: Session, item: str) -> dict[int, ItemVersion]:
    """The newest counted version of ``item`` of every unit that sent one, by unit id."""
    return {unit_id: v for (unit_id, _), v in current_versions(session, item).items()}


def versions_in_review(session: Session) -> list[ItemVersion]:
    """The versions with doubts no staff decision has settled, oldest first: the current version
    of an item when it carries one, and every version not counted because its kind is in doubt."""
    _, review = _counted_and_in_review(session)
    return review


def _counted_and_in_review(
    session: Session, item: str | None = None
) -> tuple[dict[tuple[int, str], ItemVersion], list[ItemVersion]]:
    query = select(ItemVersion).order_by(ItemVersion.received_at, ItemVersion.id)
    if item is not None:
        query = query.where(ItemVersion.item == item)
    overrides = {
        unit_id: Overrides(found) for unit_id, found in _decisions_by_unit(session).items()
    }
    none = Overrides(())
    current: dict[tuple[int, str], tuple[ItemVersion, bool]] = {}
    uncounted: list[ItemVersion] = []
    for version in session.scalars(query):
        view = overrides.get(version.subcommittee_id, none).version(version)
        if counted(view):
            current[(version.subcommittee_id, version.item)] = (version, bool(view.doubts))
        elif view.doubts:
            uncounted.append(version)
    review = [v for v, doubtful in current.values() if doubtful] + uncounted
    return (
        {key: v for key, (v, _) in current.items()},
        sorted(review, key=lambda v: (v.received_at, v.id)),
    )


def _decisions_by_unit(session: Session) -> dict[int, list[StaffDecision]]:
    """Every decision, oldest first, by unit id (one query for all units)."""
    decisions: dict[int, list[StaffDecision]] = defaultdict(list)
    for decision in all_decisions(session):
        decisions[decision.subcommittee_id].append(decision)
    return decisions
