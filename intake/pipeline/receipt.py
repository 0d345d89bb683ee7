"""Gathering what a receipt must say about one message and its sub-committee's standing."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from notifier.replies import ArrivedFile, Receipt
from parsers.findings import Finding, Problem
from parsers.vocabulary import STATUS_LABELS
from tracker import records
from tracker.models import Message
from tracker.status import ItemStatus, still_missing, unit_statuses

from ..config import Settings


def reference_number(message: Message, settings: Settings) -> str:
    """The number a sender quotes when asking about a message: ZZB + arrival date + id."""
    day = message.received_at.astimezone(settings.deadline.tzinfo)
    return f"ZZB{day:%Y%m%d}-{message.id:05d}"


def _timing(status: ItemStatus | None, settings: Settings, *, same_kind_here: int) -> str:
    """How the item stands on time: 按时 or 逾期, and for a correction when it first came."""
    if status is None or status.status == "missing":
        return ""
    label = STATUS_LABELS[status.status]
    if status.versions <= same_kind_here:  # every version came in this message: not a correction
        return label
    first = status.received_at.astimezone(settings.deadline.tzinfo)
    return f"更正版本；该项首次于 {first:%m月%d日 %H:%M} 收到，记为{label}"


def build_receipt(
    session: Session,
    settings: Settings,
    message: Message,
    findings: list[Finding],
    message_problems: list[Problem],
    unit_name: str | None,
    candidates: list[str],
    *,
    assigned_by_staff: bool = False,
) -> Receipt:
    """The receipt for ``message``: its files with their verdicts, and what the unit still lacks
    (the campaign's required items, under its labels)."""
    rules = settings.rules
    receipt = Receipt(
        campaign=settings.campaign_name,
        deadline=settings.deadline,
        reference=reference_number(message, settings),
        received_at=message.received_at,
        unit_name=unit_name,
        candidates=candidates if len(candidates) > 1 else [],
        assigned_by_staff=assigned_by_staff,
        message_problems=[p.message for p in message_problems],
        all_items_required=len(rules.required_keys) == len(rules.items),
    )
    counted = [f for f in findings if f.kind and not f.kind_in_doubt]
    kinds_here = Counter(f.kind for f in counted)
    statuses = (
        {}
        if message.subcommittee_id is None
        else unit_statuses(
            records.unit_versions(session, message.subcommittee_id),
            settings.deadline,
            rules.required_keys,
        )
    )
    for finding in findings:
        in_doubt = finding.kind_in_doubt
        receipt.files.append(
            ArrivedFile(
                filename=finding.filename,
                item_label=rules.label(finding.kind) if finding.kind else None,
                problems=[p.message for p in finding.problems],
                doubts=[d.message for d in finding.doubts],
                counted=not in_doubt,
                timing=""
                if in_doubt
                else _timing(
                    statuses.get(finding.kind or ""),
                    settings,
                    same_kind_here=kinds_here[finding.kind],
                ),
            )
        )
    if message.subcommittee_id is None:
        return receipt
    here = {f.kind for f in counted}
    receipt.missing = [rules.label(key) for key in still_missing(statuses)]
    for key, status in statuses.items():
        if status.status != "missing" and key not in here:
            receipt.other_problems.extend((rules.label(key), p["message"]) for p in status.problems)
    return receipt
