"""What the dashboard and the unit page show, as plain dictionaries for the templates.

The dashboard is the report dictionary (``tracker.report.build_report``) with filters applied;
the unit page gathers one sub-committee's messages, item versions, problems and replies.
"""

from __future__ import annotations

import email
from datetime import datetime
from email.policy import default as default_policy
from typing import Any

from sqlalchemy.orm import Session

from parsers.vocabulary import CODES, ITEM_KEYS, STATUS_LABELS, human_size, short_label
from tracker import records, standing
from tracker.decisions import decision_view
from tracker.exports import CELL_LABELS, arrival_text, cell_state, unit_problem_labels
from tracker.report import item_labels, summary_counts
from tracker.status import counted, is_on_time, unit_complete, unit_statuses

from ..config import Settings
from ..pipeline.receipt import reference_number
from .decision_pages import unit_decisions, verdicts_of
from .previews import version_preview

FILTERS = {
    "": "全部单位",
    "incomplete": "仅未完成",
    "late": "仅逾期",
    "missing": "仅缺交",
    "correction": "仅需更正",
    "doubt": "仅待核对",
}


def code_labels(best_share: float = 0.30) -> dict[str, str]:
    """The short label of every problem and doubt code, for the unit page."""
    return {code: short_label(code, best_share=best_share) for code in CODES}


IDENTIFIED_BY = {
    "registered_address": "登记邮箱",
    "content": "按内容识别",
    "learned_address": "已学习的邮箱",
    "staff": "工作人员归档",
}
MESSAGE_STATES = {
    "processed": "已处理",
    "failed": "处理失败",
    "stored": "待处理",
    "duplicate": "重复投递",
}
REPLY_STATES = {
    "queued": "待发送",
    "sent": "已发送",
    "failed": "发送失败",
    "held": "暂缓（待放行）",
    "review": "待审（尚未发出）",
    "cancelled": "已撤回",
}
KIND_LABELS = {
    "receipt": "回执",
    "assigned": "归档后回执",
    "correction": "更正通知",
    "reminder": "催交提醒",
}


def countdown(deadline: datetime, now: datetime) -> str:
    """距截止还有 … before the deadline, 已截止 … after it (days, hours, minutes)."""
    seconds = int((deadline - now).total_seconds())
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    span = (f"{days} 天 " if days else "") + f"{hours} 小时 {rest // 60} 分"
    return f"距截止还有 {span}" if seconds > 0 else f"已截止（已过 {span}）"


def keep_unit(unit: dict[str, Any], columns: list[str], only: str) -> bool:
    """Whether a unit passes the filter ``only`` over the shown item ``columns``."""
    items = [unit["items"][key] for key in columns]
    if only == "incomplete":
        unit_problems = bool(unit["problems"]) and len(columns) == len(ITEM_KEYS)
        return unit_problems or any(
            (i["status"] == "missing" and i.get("required", True)) or i["problems"] for i in items
        )
    if only == "late":
        return any(i["status"] == "late" for i in items)
    if only == "missing":
        return any(i["status"] == "missing" for i in items)
    if only == "correction":
        return any(i["problems"] for i in items)
    if only == "doubt":
        return any(i.get("doubts") for i in items)
    return True


def dashboard(
    report: dict[str, Any],
    unit_ids: dict[str, int],
    *,
    only: str = "",
    item: str = "",
    now: datetime,
) -> dict[str, Any]:
    """The dashboard's content: headline, counts, filters and the (filtered) unit rows."""
    only = only if only in FILTERS else ""
    item = item if item in ITEM_KEYS else ""
    columns = [item] if item else list(ITEM_KEYS)
    rows = []
    for unit in report["subcommittees"]:
        if not keep_unit(unit, columns, only):
            continue
        rows.append(
            {
                "name": unit["name"],
                "id": unit_ids.get(unit["name"]),
                "complete": unit["complete"],
                "cells": [
                    cell(unit["items"][key], report.get("best_share", 0.30)) for key in columns
                ],
                "problems": unit_problem_labels(unit, report.get("best_share", 0.30)),
            }
        )
    deadline = datetime.fromisoformat(report["deadline"])
    return {
        "campaign": report["campaign"],
        "deadline": deadline,
        "deadline_iso": report["deadline"],
        "countdown": countdown(deadline, now),
        "generated_at": datetime.fromisoformat(report["generated_at"]),
        "counts": summary_counts(report),
        "rows": rows,
        "columns": columns,
        "column_labels": [item_labels(report, short=True)[key] for key in columns],
        "only": only,
        "item": item,
        "filters": FILTERS,
        "item_labels": item_labels(report),
        "failed": report.get("failed", []),
        "undelivered": report.get("undelivered", []),
        "reply_states": REPLY_STATES,
        "cell_labels": CELL_LABELS,
    }


def cell(item: dict[str, Any], best_share: float = 0.30) -> dict[str, Any]:
    """One coloured cell: its state, label, arrival time and the problem (and doubt) sentences as a
    tooltip."""
    state = cell_state(item)
    verdicts = [*item["problems"], *item.get("doubts", ())]
    return {
        "state": state,
        "label": CELL_LABELS[state],
        "timing": STATUS_LABELS[item["status"]] if state in ("needs_correction", "doubt") else "",
        "time": arrival_text(item),
        "problems": [short_label(p["code"], best_share=best_share) for p in verdicts],
        "title": "\n".join(p["message"] for p in verdicts),
    }


def review_list(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Every open doubt for staff to decide: the unit, the item, the file (one click away: its
    version id) and the doubt sentences; the newest counted version of each item, and every file
    not counted because its kind is in doubt."""
    zone, rules = settings.deadline.tzinfo, settings.rules
    units = {u.id: u.name for u in records.all_subcommittees(session)}
    return [
        {
            "unit": units.get(v.subcommittee_id, ""),
            "unit_id": v.subcommittee_id,
            "version_id": v.id,
            "item": rules.label(v.item),
            "filename": v.filename,
            "counted": counted(v),
            "received_at": v.received_at.astimezone(zone),
            "doubts": v.doubts or [],
        }
        for v in standing.versions_in_review(session)
    ]


def unassigned(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """The messages no unit was found for, with the units their content named (if any)."""
    units = {u.id: u.name for u in records.all_subcommittees(session)}
    zone = settings.deadline.tzinfo
    listed = []
    for message in records.unassigned_messages(session):
        candidates = [units[c] for c in (message.facts or {}).get("candidates", []) if c in units]
        listed.append(
            {
                "id": message.id,
                "reference": reference_number(message, settings),
                "received_at": message.received_at.astimezone(zone),
                "from": message.from_addr,
                "from_name": message.from_name,
                "subject": message.subject,
                "files": [f["filename"] for f in (message.facts or {}).get("files", [])],
                "candidates": candidates,
                "problems": [p["message"] for p in message.problems or []],
                "candidate_ids": [
                    c for c in (message.facts or {}).get("candidates", []) if c in units
                ],
            }
        )
    return listed


def unit_page(session: Session, settings: Settings, unit_id: int) -> dict[str, Any] | None:
    """Everything about one sub-committee: items and their versions, messages, problems, replies."""
    unit = records.subcommittee_by_id(session, unit_id)
    if unit is None:
        return None
    zone = settings.deadline.tzinfo
    versions = records.unit_versions(session, unit.id)
    overrides = standing.overrides_for(session, unit.id, settings.rules)
    deadline = overrides.deadline(settings.deadline)
    statuses = unit_statuses(versions, settings.deadline, settings.rules.required_keys, overrides)
    items = []
    for key in ITEM_KEYS:
        status = statuses[key]
        own = sorted((v for v in versions if v.item == key), key=lambda v: (v.received_at, v.id))
        state = cell_state(
            {"problems": status.problems, "doubts": status.doubts, "status": status.status}
        )
        items.append(
            {
                "key": key,
                "label": settings.rules.label(key),
                "state": state,
                "state_label": CELL_LABELS[state],
                "timing": STATUS_LABELS[status.status],
                "received_at": status.received_at.astimezone(zone) if status.received_at else None,
                "problems": status.problems,
                "doubts": status.doubts,
                "decisions": [decision_view(d, zone) for d in status.decisions],
                "versions": [
                    {
                        "id": v.id,
                        "filename": v.filename,
                        "size": human_size(v.size),
                        "received_at": v.received_at.astimezone(zone),
                        "message_id": v.message_id,
                        "on_time": is_on_time(v.received_at, deadline),
                        "problems": v.problems or [],
                        "doubts": v.doubts or [],
                        "verdicts": verdicts_of(v, overrides, zone),
                        "counted": counted(overrides.version(v)),
                        "current": v is own[-1],
                        "preview": version_preview(settings, v),
                    }
                    for v in own
                ],
            }
        )
    messages = [
        {
            "id": m.id,
            "reference": reference_number(m, settings),
            "received_at": m.received_at.astimezone(zone),
            "from": m.from_addr,
            "from_name": m.from_name,
            "subject": m.subject,
            "identified_by": IDENTIFIED_BY.get(m.identified_by or "", m.identified_by or ""),
            "state": MESSAGE_STATES.get(m.state, m.state),
            "size": human_size(m.size),
            "on_time": is_on_time(m.received_at, deadline),
            "problems": m.problems or [],
            "files": (m.facts or {}).get("files", []),
            "items": [settings.rules.short_label(v.item) for v in m.versions],
        }
        for m in records.unit_messages(session, unit.id)
    ]
    replies = [reply_view(entry, zone) for entry in records.unit_replies(session, unit.id)]
    problems = [p for i in items for p in i["problems"]]
    seen = {p["message"] for p in problems}
    problems += [p for m in messages for p in m["problems"] if p["message"] not in seen]
    return {
        "id": unit.id,
        "name": unit.name,
        "aliases": unit.aliases or [],
        "emails": unit.emails or [],
        "items": items,
        "messages": messages,
        "replies": replies,
        "problems": list({p["message"]: p for p in problems}.values()),
        "complete": unit_complete(statuses),
        "deadline": deadline,
        "extended": deadline != settings.deadline,
        "decisions": unit_decisions(session, settings, unit.id),
    }


def held_receipts(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Receipts asking for a correction that wait for staff (``[replies] hold_corrections``)."""
    zone = settings.deadline.tzinfo
    units = {u.id: u for u in records.all_subcommittees(session)}
    held = []
    for entry in records.replies_in_state(session, "review"):
        message = records.message_by_id(session, entry.message_id) if entry.message_id else None
        unit = units.get(message.subcommittee_id) if message else None
        shown = reply_view(entry, zone)
        shown["unit"] = unit.name if unit else ""
        shown["unit_id"] = unit.id if unit else None
        held.append(shown)
    return held


def reply_view(entry, zone) -> dict[str, Any]:  # noqa: ANN001 - an OutboxEntry and a tzinfo
    """One reply we queued or sent, with its plain-text body decoded for reading."""
    try:
        parsed = email.message_from_bytes(entry.body, policy=default_policy)
        part = parsed.get_body(("plain",))
        text = part.get_content() if part is not None else ""
    except Exception:  # noqa: BLE001 - a broken stored reply still shows its headers
        text = ""
    return {
        "id": entry.id,
        "kind": KIND_LABELS.get(entry.kind.partition(":")[0], entry.kind),
        "recipient": entry.recipient,
        "subject": entry.subject,
        "state": REPLY_STATES.get(entry.state, entry.state),
        "created_at": entry.created_at.astimezone(zone),
        "sent_at": entry.sent_at.astimezone(zone) if entry.sent_at else None,
        "error": entry.last_error,
        "text": text,
        "message_id": entry.message_id,
    }
