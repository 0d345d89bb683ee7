"""The missing-submissions report: one dictionary (DESIGN.md's JSON) and its terminal table."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from parsers.messages import SHORT_LABELS as SHORT_PROBLEM_LABELS

from . import records
from .status import ITEM_KEYS, STATUS_LABELS, unit_statuses

SHORT_LABELS = {"summary": "总结", "summary_scan": "总结扫描件", "table": "汇总表", "table_scan": "汇总表扫描件"}


def build_report(session: Session, *, campaign: str, deadline: datetime,
                 now: datetime | None = None) -> dict[str, Any]:
    """The report as DESIGN.md's JSON schema, plus the ``failed`` queue of unparsable mail and the
    ``undelivered`` mail (refused for good, or held back after an outage)."""
    now = now or datetime.now(timezone.utc)
    units = []
    for unit in records.all_subcommittees(session):
        statuses = unit_statuses(records.unit_versions(session, unit.id), deadline)
        items = {key: {"status": s.status, "received_at": _iso(s.received_at, deadline),
                       "problems": s.problems} for key, s in statuses.items()}
        complete = all(s.status != "missing" and not s.problems for s in statuses.values())
        all_received = all(s.status != "missing" for s in statuses.values())
        units.append({"name": unit.name, "complete": complete,
                      "problems": [] if all_received else _unit_problems(session, unit.id),
                      "items": items})
    unassigned = [{"message_id": m.message_id, "from": m.from_addr, "subject": m.subject,
                   "received_at": _iso(m.received_at, deadline), "problems": list(m.problems or [])}
                  for m in records.unassigned_messages(session)]
    failed = [{"message_id": m.message_id, "from": m.from_addr, "subject": m.subject,
               "received_at": _iso(m.received_at, deadline), "error": m.error}
              for m in records.messages_in_state(session, "failed")]
    undelivered = [{"to": e.recipient, "subject": e.subject, "state": e.state, "error": e.last_error,
                    "created_at": _iso(e.created_at, deadline)} for e in records.undelivered_replies(session)]
    return {"campaign": campaign, "deadline": deadline.isoformat(), "generated_at": _iso(now, deadline),
            "subcommittees": units, "unassigned": unassigned, "failed": failed, "undelivered": undelivered}


def _unit_problems(session: Session, unit_id: int) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for message in records.unit_messages(session, unit_id):
        for found in message.problems or []:
            seen.setdefault(found["message"], found)
    return list(seen.values())


def _iso(moment: datetime | None, deadline: datetime) -> str | None:
    """Times are shown in the deadline's zone (China time for the department)."""
    return moment.astimezone(deadline.tzinfo).isoformat() if moment else None


def summary_counts(report: dict[str, Any]) -> dict[str, int]:
    """The headline numbers: complete units, and units with a missing, late or to-correct item."""
    units = report["subcommittees"]

    def having(status: str) -> int:
        return sum(any(i["status"] == status for i in u["items"].values()) for u in units)

    return {"total": len(units), "complete": sum(u["complete"] for u in units),
            "missing": having("missing"), "late": having("late"),
            "needs_correction": sum(any(i["problems"] for i in u["items"].values()) for u in units),
            "unassigned": len(report["unassigned"]), "failed": len(report.get("failed", []))}


def cell_text(item: dict[str, Any]) -> str:
    """One item as a short Chinese cell: status label (需更正 when it has problems), then arrival time."""
    label = STATUS_LABELS[item["status"]]
    if item["problems"]:
        label += "·需更正"
    if item["received_at"]:
        label += "\n" + datetime.fromisoformat(item["received_at"]).strftime("%m-%d %H:%M")
    return label


def render_table(report: dict[str, Any]):  # noqa: ANN201 - a rich renderable group
    """The report as a rich table with a headline, in Chinese."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    numbers = summary_counts(report)
    deadline = datetime.fromisoformat(report["deadline"])
    head = Text(f"{report['campaign']}  截止时间 {deadline:%Y-%m-%d %H:%M}\n"
                f"完成 {numbers['complete']}/{numbers['total']}  缺交 {numbers['missing']}  "
                f"逾期 {numbers['late']}  需更正 {numbers['needs_correction']}  "
                f"未识别来信 {numbers['unassigned']}  处理失败 {numbers['failed']}")
    table = Table(show_lines=True)
    table.add_column("分党委（直属党总支）", min_width=12, ratio=2)
    for key in ITEM_KEYS:
        table.add_column(SHORT_LABELS[key], no_wrap=True)
    table.add_column("问题", ratio=1)
    styles = {"on_time": "green", "late": "yellow", "missing": "red"}
    for unit in report["subcommittees"]:
        cells = []
        for key in ITEM_KEYS:
            item = unit["items"][key]
            style = "magenta" if item["problems"] else styles[item["status"]]
            cells.append(Text(cell_text(item), style=style))
        problems = [p["code"] for i in unit["items"].values() for p in i["problems"]]
        problems += [p["code"] for p in unit["problems"]]
        table.add_row(Text(unit["name"], style="bold" if unit["complete"] else ""), *cells,
                      "、".join(SHORT_PROBLEM_LABELS.get(c, c) for c in dict.fromkeys(problems)))
    parts = [head, table]
    if report["unassigned"]:
        lines = "\n".join(f"  {m['received_at'][:16]}  {m['from']}  {m['subject']}  ({m['message_id']})"
                          for m in report["unassigned"])
        parts.append(Text("未识别单位的来信（请用 intake assign 归档）：\n" + lines))
    if report.get("failed"):
        lines = "\n".join(f"  {m['from']}  {m['subject']}  {m['error']}" for m in report["failed"])
        parts.append(Text("处理失败的来信（修复后用 intake reprocess 重试）：\n" + lines))
    return Group(*parts)
