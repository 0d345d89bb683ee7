"""Gathering what a receipt must say about one message and its sub-committee's standing."""

from __future__ import annotations

import hashlib
from collections import Counter
from types import SimpleNamespace

from sqlalchemy.orm import Session

from notifier.replies import ArrivedFile, Receipt
from parsers.findings import Finding, Problem
from parsers.vocabulary import STATUS_LABELS
from tracker import references, standing
from tracker.decisions import Overrides
from tracker.models import Message
from tracker.status import ItemStatus, still_missing

from ..config import Settings


def reference_number(message: Message, settings: Settings) -> str:
    """The number a sender quotes when asking about a message: ZZB + arrival date + id."""
    return references.reference_number(message, settings.deadline.tzinfo)


def _timing(status: ItemStatus | None, settings: Settings, *, same_kind_here: int) -> str:
    """How the item stands on time: 按时 or 逾期, and for a correction when it first came."""
    if status is None or status.status in ("missing", "exempt"):
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
    unit_id = message.subcommittee_id
    overrides = (
        standing.overrides_for(session, unit_id, rules) if unit_id is not None else Overrides(())
    )
    receipt = Receipt(
        campaign=settings.campaign_name,
        deadline=overrides.deadline(settings.deadline),
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
        if unit_id is None
        else standing.unit_standing(session, unit_id, settings.deadline, rules, overrides)
    )
    for finding in findings:
        decided = _decided(finding, overrides, message)
        in_doubt = getattr(decided, "rejected_kind", False) or (
            finding.kind_in_doubt and any(d["code"] == "kind_unsure" for d in decided.doubts)
        )
        receipt.files.append(
            ArrivedFile(
                filename=finding.filename,
                item_label=rules.label(finding.kind) if finding.kind else None,
                problems=[p["message"] for p in decided.problems],
                doubts=[d["message"] for d in decided.doubts],
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
    if unit_id is None:
        return receipt
    here = {f.kind for f in counted}
    receipt.missing = [rules.label(key) for key in still_missing(statuses)]
    for key, status in statuses.items():
        if status.status != "missing" and key not in here:
            receipt.other_problems.extend((rules.label(key), p["message"]) for p in status.problems)
    return receipt


def _decided(finding: Finding, overrides: Overrides, message: Message) -> SimpleNamespace:
    """The finding's problems and doubts (as dictionaries) after staff decisions on its file."""
    shaped = SimpleNamespace(
        id=0,
        item=finding.kind or "",
        filename=finding.filename,
        received_at=message.received_at,
        sha256=hashlib.sha256(finding.data or b"").hexdigest(),
        problems=[p.as_dict() for p in finding.problems],
        doubts=[d.as_dict() for d in finding.doubts],
    )
    return overrides.version(shaped) if finding.kind else shaped
