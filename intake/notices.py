"""What the staff's work chat hears (``[[notify]]``), written where each event happens.

Every function queues in the caller's transaction (``notifier.webhooks.queue_notice``), so a
notice exists exactly when its event was committed, once per event key: a message processed
again, or by a second process, queues nothing new. Texts are Chinese, plain text (no markdown
a sender could shape), with what senders wrote made printable and cut to one line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from notifier.webhooks import queue_notice
from parsers.text_safety import shown_line
from tracker import standing
from tracker.models import Message, OutboxEntry
from tracker.status import unit_complete

from .config import Settings
from .pipeline.receipt import build_receipt, reference_number

LINE = 120  # characters of a sender's subject, file name or an error shown in a notice


def _header(title: str, settings: Settings) -> str:
    return f"【{title}】{settings.campaign_name}"


def message_events(h: Any) -> None:  # an intake.pipeline.stages.Handling (no import back)
    """The pipeline's events of one processed message: ``doubt`` (a file staff must decide),
    ``correction`` (its receipt asks for one) and ``complete`` (its unit became complete)."""
    settings, session, message = h.pipeline.settings, h.session, h.message
    if not settings.notify or h.mail is None:
        return
    now = h.pipeline.clock()
    candidates = [u.name for u in h.units if u.unit_id in h.candidates]
    receipt = build_receipt(
        session, settings, message, h.findings, h.message_problems, h.unit_name, candidates
    )
    unit = h.unit_name or "未识别单位"
    where = f"{unit}（来信编号 {receipt.reference}，发件人 {shown_line(message.from_addr, LINE)}）"
    doubts = [
        f"· {f.item_label or '未识别材料'}《{shown_line(f.filename, LINE)}》：{d}"
        for f in receipt.files
        for d in f.doubts
    ]
    if doubts:
        text = "\n".join(
            [_header("待核对", settings), f"{where}有文件需工作人员核对：", *doubts]
            + ["请在后台“待核对”列表中决定（intake decide）。"]
        )
        queue_notice(
            session, settings.notify, "doubt", key=f"message:{message.id}", text=text, now=now
        )
    if h.replied and receipt.asks_correction:
        problems = [
            f"· {f.item_label or '未识别材料'}《{shown_line(f.filename, LINE)}》：{p}"
            for f in receipt.files
            for p in f.problems
        ] + [f"· {label}（此前收到）：{p}" for label, p in receipt.other_problems]
        held = " 回执待工作人员审核后发出。" if settings.hold_corrections else ""
        text = "\n".join(
            [_header("已发更正通知", settings), f"{where}的回执要求更正：{held}", *problems]
        )
        queue_notice(
            session, settings.notify, "correction", key=f"message:{message.id}", text=text, now=now
        )
    if h.unit_id is not None:
        unit_became_complete(session, settings, h.unit_id, unit, now=now, at=message.received_at)


def unit_became_complete(
    session: Session, settings: Settings, unit_id: int, unit: str, *, now: datetime, at: datetime
) -> None:
    """``complete``: the unit has every required item and no problem (once per unit); ``at``
    is when the mail that completed it arrived."""
    statuses = standing.unit_standing(session, unit_id, settings.deadline, settings.rules)
    if not unit_complete(statuses):
        return
    moment = at.astimezone(settings.deadline.tzinfo)
    late = [settings.rules.label(k) for k, s in statuses.items() if s.status == "late"]
    text = "\n".join(
        [
            _header("材料齐全", settings),
            f"{unit} 已交齐全部材料（最后一封于 {moment:%m月%d日 %H:%M} 收到）。",
        ]
        + ([f"逾期提交：{'、'.join(late)}"] if late else [])
    )
    queue_notice(session, settings.notify, "complete", key=f"unit:{unit_id}", text=text, now=now)


def message_failed(
    session: Session, settings: Settings, message: Message, *, now: datetime
) -> None:
    """``failed``: a message could not be processed (parked ``failed`` for staff)."""
    text = "\n".join(
        [
            _header("来信处理失败", settings),
            f"来信 id={message.id}{_about(message) or ' '}未能处理：",
            shown_line(message.error or "", 300),
            "请查看 intake report，修复后运行 intake reprocess。",
        ]
    )
    key = f"message:{message.id}:{message.attempts}"
    queue_notice(session, settings.notify, "failed", key=key, text=text, now=now)


def _about(message: Message) -> str:
    """（发件人 …，主题：…） as far as they were recorded before the failure."""
    parts = [f"发件人 {shown_line(message.from_addr, LINE)}"] if message.from_addr else []
    parts += [f"主题：{shown_line(message.subject, LINE)}"] if message.subject else []
    return f"（{'，'.join(parts)}）" if parts else ""


def reply_failed(
    session: Session, settings: Settings, entry: OutboxEntry, *, now: datetime
) -> None:
    """``failed``: the mail server refused a reply for good (5xx)."""
    text = "\n".join(
        [
            _header("回执未能发出", settings),
            f"发往 {shown_line(entry.recipient, LINE)} 的邮件"
            f"（主题：{shown_line(entry.subject, LINE)}）被邮件服务器拒收，不再重试：",
            shown_line(entry.last_error or "", 300),
        ]
    )
    queue_notice(session, settings.notify, "failed", key=f"outbox:{entry.id}", text=text, now=now)


def staff_correction(
    session: Session,
    settings: Settings,
    message: Message,
    *,
    unit: str,
    item: str,
    problem: str,
    decision_id: int,
    by: str,
    now: datetime,
) -> None:
    """``correction``: a staff reject sent the unit a correction request."""
    text = "\n".join(
        [
            _header("已发更正通知", settings),
            f"{unit}（来信编号 {reference_number(message, settings)}）的{item}经 "
            f"{shown_line(by, LINE)} 核对改判为需更正：",
            f"· {problem}",
        ]
    )
    key = f"decision:{decision_id}"
    queue_notice(session, settings.notify, "correction", key=key, text=text, now=now)


def status_lines(settings: Settings, session: Session, when) -> list[str]:  # noqa: ANN001 - formats a datetime
    """``intake status``: each work chat with its queue, last success and standing refusal
    (never its address)."""
    from tracker.notices import target_standing

    if not settings.notify:
        return []
    lines = ["工作群通知（[[notify]]）"]
    for target in settings.notify:
        standing_ = target_standing(session, target.name)
        counts, failing = standing_["counts"], standing_["failing"]
        last = standing_["last_sent"]
        line = (
            f"  {target.label}：已发送 {counts.get('sent', 0)}，待发送 {counts.get('queued', 0)}，"
            f"放弃 {counts.get('failed', 0)}，上次送达 {when(last) if last else '无'}"
        )
        if failing is not None and failing.state == "queued":
            retry = f"，下次重试 {when(failing.next_attempt_at)}" if failing.next_attempt_at else ""
            line += (
                f"\n    拒收或无法送达（已试 {failing.attempts} 次{retry}）：{failing.last_error}"
            )
        lines.append(line)
    return lines
