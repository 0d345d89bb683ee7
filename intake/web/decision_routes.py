"""The dashboard's staff actions: decide, mark, extend, exempt, undo; the receipts held for
review; remind now (一键催交) with the exact mails shown first; the decision log.

Every change is a POST from an editor account (``accounts.editor_required``), recorded under the
logged-in account; a mail it causes goes at once when the dashboard can send, else with the next
poll.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, flash, redirect, request

from notifier.reminders import MANUAL_KEY, queue_reminders
from tracker import records

from ..staff_actions import DecisionError, StaffActions
from . import accounts, auth
from .decision_pages import decision_log, reminder_preview
from .pages import held_receipts
from .routes import _page, dashboard_of_app

bp = Blueprint("decisions", __name__)


def _actions() -> StaffActions:
    app = dashboard_of_app()
    return StaffActions(app.settings, app.sessions, app.pipeline, clock=app.clock)


def _send_now(*, quiet: bool = False) -> None:
    """Send what a decision queued, when this dashboard can send; else it waits for the poll
    (``quiet``: say nothing of it, the decision may have queued nothing)."""
    app = dashboard_of_app()
    if app.send_replies is None:
        if not quiet:
            flash("邮件已排队，将在下次收信时发出。", "ok")
        return
    try:
        app.send_replies()
    except Exception:  # noqa: BLE001 - the mail stays queued and goes with the next run
        flash("邮件暂未发出（邮件服务器不可用），将在下次收信时重试。", "error")


def _back(unit_id: int | None, anchor: str = "decisions") -> Response:
    return redirect(f"/unit/{unit_id}#{anchor}" if unit_id else "/", code=303)


def _unit_name(unit_id: int) -> str | None:
    with dashboard_of_app().sessions() as session:
        unit = records.subcommittee_by_id(session, unit_id)
        return unit.name if unit else None


def _taken(unit_id: int, action, done: str) -> Response:  # noqa: ANN001 - a StaffActions call
    """Run ``action`` for the unit; flash what was done or the reason it could not be."""
    name = _unit_name(unit_id)
    if name is None:
        flash("找不到该单位。", "error")
        return redirect("/", code=303)
    try:
        decision = action(name)
    except DecisionError as exc:
        flash(str(exc), "error")
        return _back(unit_id)
    flash(f"决定 #{decision.id}：{done}（记录人：{decision.decided_by}）。", "ok")
    _send_now(quiet=True)  # a receipt recomposed after the decision may be ready to go
    return _back(unit_id)


@bp.post("/unit/<int:unit_id>/decide")
@accounts.editor_required
def decide(unit_id: int) -> Response:
    form, by = request.form, accounts.current_staff()
    verdict, code = form.get("verdict", ""), form.get("code", "")
    if verdict not in ("accept", "reject"):
        flash("请选择核对结果。", "error")
        return _back(unit_id)
    response = _taken(
        unit_id,
        lambda name: _actions().decide(
            name,
            form.get("item", ""),
            accept=code if verdict == "accept" else None,
            reject=code if verdict == "reject" else None,
            reason=form.get("reason", ""),
            by=by,
        ),
        "已判为需更正，已通知该单位" if verdict == "reject" else "已记录核对结果",
    )
    return response


@bp.post("/unit/<int:unit_id>/mark")
@accounts.editor_required
def mark(unit_id: int) -> Response:
    form, by = request.form, accounts.current_staff()
    return _taken(
        unit_id,
        lambda name: _actions().mark(
            name,
            form.get("item", ""),
            received_at=form.get("received_at", ""),
            reason=form.get("reason", ""),
            by=by,
        ),
        "已登记为线下收到",
    )


@bp.post("/unit/<int:unit_id>/extend")
@accounts.editor_required
def extend(unit_id: int) -> Response:
    form, by = request.form, accounts.current_staff()
    return _taken(
        unit_id,
        lambda name: _actions().extend(
            name, until=form.get("until", ""), reason=form.get("reason", ""), by=by
        ),
        "已延长该单位的截止时间",
    )


@bp.post("/unit/<int:unit_id>/exempt")
@accounts.editor_required
def exempt(unit_id: int) -> Response:
    form, by = request.form, accounts.current_staff()
    return _taken(
        unit_id,
        lambda name: _actions().exempt(
            name, form.get("item", ""), reason=form.get("reason", ""), by=by
        ),
        "已登记为免交",
    )


@bp.post("/decision/<int:decision_id>/undo")
@accounts.editor_required
def undo(decision_id: int) -> Response:
    try:
        decision = _actions().undo(decision_id, by=accounts.current_staff())
    except DecisionError as exc:
        flash(str(exc), "error")
        return redirect(auth.safe_next(request.form.get("back") or "/log"), code=303)
    flash(f"已撤销决定 #{decision.id}。", "ok")
    _send_now(quiet=True)
    return _back(decision.subcommittee_id)


@bp.get("/held")
def held() -> Response:
    app = dashboard_of_app()
    with app.sessions() as session:
        entries = held_receipts(session, app.settings)
    return _page("held.html", held=entries, page={"campaign": app.settings.campaign_name})


@bp.post("/held/<int:entry_id>/approve")
@accounts.editor_required
def approve(entry_id: int) -> Response:
    try:
        _actions().approve(entry_id, by=accounts.current_staff())
    except DecisionError as exc:
        flash(str(exc), "error")
        return redirect("/held", code=303)
    flash("回执已放行。", "ok")
    _send_now()
    return redirect("/held", code=303)


@bp.get("/remind")
def remind_preview() -> Response:
    app = dashboard_of_app()
    unit_ids = [int(u) for u in request.args.getlist("unit") if u.isdigit()] or None
    with app.sessions() as session:
        preview = reminder_preview(session, app.settings, app.clock(), unit_ids)
    return _page(
        "remind.html",
        preview=preview,
        unit_ids=unit_ids or [],
        page={"campaign": app.settings.campaign_name},
    )


@bp.post("/remind")
@accounts.editor_required
def remind_send() -> Response:
    app, settings = dashboard_of_app(), dashboard_of_app().settings
    unit_ids = [int(u) for u in request.form.getlist("unit") if u.isdigit()] or None
    now, by = app.clock(), accounts.current_staff()
    with app.sessions() as session:
        queued = queue_reminders(
            session,
            key=MANUAL_KEY,
            campaign=settings.campaign_name,
            deadline=settings.deadline,
            sender=settings.smtp.sender,
            now=now,
            rules=settings.rules,
            unit_ids=unit_ids,
        )
        session.commit()
    for reminder in queued.reminders:
        _actions().note(reminder.unit_id, "remind", reminder.subject, by=by)
    flash(f"已向 {len(queued.reminders)} 个单位发出催交提醒（记录人：{by}）。", "ok")
    if queued.reminders:
        _send_now()
    query = urlencode([("unit", u) for u in unit_ids or []])
    return redirect(f"/remind?{query}" if query else "/remind", code=303)


@bp.get("/log")
def log() -> Response:
    app = dashboard_of_app()
    with app.sessions() as session:
        entries = decision_log(session, app.settings)
    return _page("log.html", decisions=entries, page={"campaign": app.settings.campaign_name})
