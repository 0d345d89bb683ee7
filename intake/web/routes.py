"""The dashboard's routes, on one Flask Blueprint: pages, downloads, the assign form, the login.

Every POST carries the session's CSRF token in a hidden field and must come from our own
origin (Origin, or Referer when a browser sends no Origin). When ``login_required`` is set
(the server is bound to a non-loopback address) every page but the login asks for the password
whose hash is configured. The guard, the security headers and the 404 page apply to the whole
application, static files and unknown URLs included.

What a view needs (settings, sessions, the pipeline, the raw store, the login settings, the
clock) is the ``Dashboard`` that ``create_app`` puts in ``current_app.extensions["intake"]``.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    request,
    send_file,
    session,
)
from sqlalchemy.orm import Session, sessionmaker

from tracker import records
from tracker.exports import report_csv
from tracker.report import build_report
from tracker.xlsx_report import report_workbook

from ..config import Settings
from ..pipeline import Pipeline
from ..pipeline.receipt import reference_number
from ..reporting import report_data
from ..staff_actions import StaffActions
from ..store import RawStore
from . import accounts, auth, pages
from .charts_svg import dashboard_charts
from .render import render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ASSIGNABLE = ("processed", "failed", "stored")
PUBLIC_ENDPOINTS = {"dashboard.login", "static"}

bp = Blueprint("dashboard", __name__)


@dataclass(frozen=True)
class Dashboard:
    """What the views of one dashboard application work with."""

    settings: Settings
    sessions: sessionmaker[Session]
    pipeline: Pipeline
    store: RawStore
    login_required: bool
    password_hash: str | None
    send_replies: Callable[[], object] | None
    clock: Callable[[], datetime]


def dashboard_of_app() -> Dashboard:
    """The ``Dashboard`` of the application handling this request."""
    return current_app.extensions["intake"]


@bp.before_app_request
def guard() -> Response | None:
    if (
        dashboard_of_app().login_required
        and request.endpoint not in PUBLIC_ENDPOINTS
        and not session.get("user")
    ):
        return redirect(
            f"/login?next={request.full_path if request.query_string else request.path}"
        )
    if request.method == "POST" and not _posted_from_us():
        return _error(
            403,
            "请求被拒绝",
            "该请求不是从本看板页面提交的（跨站请求或页面已过期），请刷新页面后重试。",
        )
    return None


@bp.after_app_request
def headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'",
    )
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def dashboard() -> Response:
    app = dashboard_of_app()
    settings = app.settings
    with app.sessions() as db:
        report = build_report(
            db,
            campaign=settings.campaign_name,
            deadline=settings.deadline,
            now=app.clock(),
            rules=settings.rules,
        )
        units = records.all_subcommittees(db)  # one session: the rows match the report
        view = pages.dashboard(
            report,
            {u.name: u.id for u in units},
            only=request.args.get("only", ""),
            item=request.args.get("item", ""),
            now=app.clock(),
        )
        unassigned = pages.unassigned(db, settings)
        review = pages.review_list(db, settings)
        charts = dashboard_charts(db, report, settings.rules)
    return _page(
        "dashboard.html",
        page=view,
        charts=charts,
        unassigned=unassigned,
        review=review,
        units=[{"id": u.id, "name": u.name} for u in units],
    )


@bp.get("/unit/<int:unit_id>")
def unit(unit_id: int) -> Response:
    app = dashboard_of_app()
    settings = app.settings
    with app.sessions() as db:
        view = pages.unit_page(db, settings, unit_id)
    if view is None:
        return _error(404, "找不到该单位", "该分党委（直属党总支）不存在。")
    return _page(
        "unit.html",
        unit=view,
        deadline=settings.deadline,
        labels=pages.code_labels(settings.rules.best_share),
        page={"campaign": settings.campaign_name},
    )


@bp.get("/message/<int:message_id>/raw")
def raw_message(message_id: int) -> Response:
    app = dashboard_of_app()
    with app.sessions() as db:
        message = records.message_by_id(db, message_id)
        if message is None:
            abort(404)
        name, digest = f"{reference_number(message, app.settings)}.eml", message.raw_sha256
    return _download(app.store, digest, "messages", name, "message/rfc822")


@bp.get("/version/<int:version_id>/file")
def version_file(version_id: int) -> Response:
    app = dashboard_of_app()
    with app.sessions() as db:
        version = records.version_by_id(db, version_id)
        if version is None:
            abort(404)
        name, digest = (
            PurePosixPath(version.filename.replace("\\", "/")).name or "附件",
            version.sha256,
        )
    return _download(app.store, digest, "attachments", name, "application/octet-stream")


@bp.get("/reply/<int:entry_id>/eml")
def reply_file(entry_id: int) -> Response:
    with dashboard_of_app().sessions() as db:
        entry = records.outbox_entry_by_id(db, entry_id)
        if entry is None:
            abort(404)
        body = entry.body
    return send_file(
        io.BytesIO(body),
        mimetype="message/rfc822",
        as_attachment=True,
        download_name=f"回执-{entry_id}.eml",
    )


@bp.get("/report.xlsx")
def report_xlsx() -> Response:
    buffer = io.BytesIO()
    report_workbook(_report()).save(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=_report_name("xlsx"))


@bp.get("/report.csv")
def report_csv_file() -> Response:
    data = report_csv(_report()).encode("utf-8-sig")
    return send_file(
        io.BytesIO(data), mimetype="text/csv", as_attachment=True, download_name=_report_name("csv")
    )


@bp.post("/assign")
@accounts.editor_required
def assign() -> Response:
    app = dashboard_of_app()
    message_key, unit_key = request.form.get("message_id", ""), request.form.get("unit_id", "")
    if not (message_key.isdigit() and unit_key.isdigit()):
        flash("请选择要归档的来信和单位。", "error")
        return redirect("/#unassigned", code=303)
    with app.sessions() as db:
        message = records.message_by_id(db, int(message_key))
        target = records.subcommittee_by_id(db, int(unit_key))
        if message is None or target is None or message.state not in ASSIGNABLE:
            flash("找不到该来信或单位，或该来信是重复投递，无法归档。", "error")
            return redirect("/#unassigned", code=303)
        filed = message.subcommittee_id
        if filed not in (None, target.id) and not request.form.get("confirm"):
            current = records.subcommittee_by_id(db, filed).name
            flash(
                f"该来信已归入 {current}；确需改归 {target.name}，请勾选“确认改归”后再提交。",
                "error",
            )
            return redirect("/#unassigned", code=303)
        message_id, unit_id, unit_name, subject = (
            message.id,
            target.id,
            target.name,
            message.subject,
        )
    outcome = app.pipeline.assign(message_id, unit_id)
    StaffActions(app.settings, app.sessions).note(
        unit_id, "assign", f"来信《{subject}》归入本单位", by=accounts.current_staff()
    )
    items = (
        "、".join(dict.fromkeys(app.settings.rules.short_label(i) for i in outcome.items)) or "无"
    )
    flash(f"已将来信《{subject}》归入 {unit_name}，登记材料：{items}。", "ok")
    if app.send_replies is not None:
        try:
            app.send_replies()
        except Exception:  # noqa: BLE001 - the reply stays queued and goes with the next run
            flash("回执暂未发出（邮件服务器不可用），将在下次收信时重试。", "error")
    else:  # no SMTP password at hand: the next poll (or the running service) sends it
        flash("回执已排队，将在下次收信时发出。", "ok")
    return redirect(f"/unit/{unit_id}", code=303)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    app = dashboard_of_app()
    target = request.values.get("next", "/")
    target = target if target.startswith("/") and not target.startswith("//") else "/"
    if not app.login_required:
        return redirect(target)
    if request.method == "POST":
        account = accounts.authenticate(
            request.form.get("name", ""), request.form.get("password", "")
        )
        if account is not None:
            accounts.log_in(account)
            return redirect(target, code=303)
        time.sleep(1)
        flash("账号或密码不正确。", "error")
    return _page(
        "login.html",
        next=target,
        name=request.form.get("name") or accounts.only_account_name(),
        page={"campaign": app.settings.campaign_name},
    )


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect("/login", code=303)


@bp.app_errorhandler(accounts.EditorOnly)
def editor_only(exc: accounts.EditorOnly) -> Response:
    return _error(403, exc.heading, exc.description)


@bp.app_errorhandler(404)
def not_found(_exc) -> Response:  # noqa: ANN001 - werkzeug's exception
    return _error(404, "页面不存在", "请求的页面或文件不存在。")


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = auth.new_token()
    return session["csrf"]


def _page(template: str, status: int = 200, **context) -> Response:  # noqa: ANN003 - template values
    html = render(
        template,
        csrf_token=csrf_token(),
        flashes=get_flashed_messages(with_categories=True),
        login_required=dashboard_of_app().login_required,
        static_file=False,
        **context,
    )
    return Response(html, status=status, mimetype="text/html")


def _error(status: int, heading: str, text: str) -> Response:
    campaign = dashboard_of_app().settings.campaign_name
    return _page(
        "error.html", status=status, heading=heading, text=text, page={"campaign": campaign}
    )


def _report() -> dict:
    app = dashboard_of_app()
    return report_data(app.settings, app.sessions, app.clock())


def _report_name(ext: str) -> str:
    app = dashboard_of_app()
    settings = app.settings
    moment = app.clock().astimezone(settings.deadline.tzinfo)
    return f"{settings.campaign_name}报送情况-{moment:%Y%m%d-%H%M}.{ext}"


def _posted_from_us() -> bool:
    return auth.same_token(
        request.form.get("csrf_token"), session.get("csrf")
    ) and auth.same_origin(
        request.headers.get("Origin"), request.headers.get("Referer"), request.host_url
    )


def _download(store: RawStore, digest: str, kind: str, name: str, mimetype: str) -> Response:
    try:
        data = store.get(digest, kind)
    except (OSError, ValueError):
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
