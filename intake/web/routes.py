"""The dashboard's routes, on one Flask Blueprint: pages, downloads, the assign form, the login.

Every POST carries the session's CSRF token in a hidden field and must come from our own
origin (Origin, or Referer when a browser sends no Origin; ``https://`` when ``[dashboard]
behind_tls``). When ``login_required`` is set (accounts configured, or the server is bound to a
non-loopback address) every page but the login asks for a staff login that ``live_sessions``
still knows. Login attempts go through ``throttle``: a held-back attempt is answered at once
with 429, and only an allowed one checks the password. A control character in a query string
(or NUL and the like in a form field) is a 400. The guard, the security headers and the 404 page
apply to the whole application, static files and unknown URLs included.

What a view needs (settings, sessions, the pipeline, the raw store, the login settings, the
clock) is the ``Dashboard`` that ``create_app`` puts in ``current_app.extensions["intake"]``.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from urllib.parse import quote

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
from .live_sessions import LiveSessions
from .render import render
from .throttle import LoginThrottle, Verdict

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ASSIGNABLE = ("processed", "failed", "stored")
PUBLIC_ENDPOINTS = {"dashboard.login", "static"}
QUERY_REFUSED = {chr(c) for c in range(32)} | {"\x7f"}
FORM_REFUSED = QUERY_REFUSED - {"\t", "\n", "\r"}  # a textarea's lines are fine

log = logging.getLogger(__name__)

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
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    live_sessions: LiveSessions = field(default_factory=LiveSessions)


def dashboard_of_app() -> Dashboard:
    """The ``Dashboard`` of the application handling this request."""
    return current_app.extensions["intake"]


@bp.before_app_request
def guard() -> Response | None:
    if _refused_characters():
        return _error(400, "请求无效", "请求中含有控制字符（如换行、NUL），无法处理。")
    if (
        dashboard_of_app().login_required
        and request.endpoint not in PUBLIC_ENDPOINTS
        and accounts.current_account() is None
    ):
        for key in ("user", "role", "sid"):  # logged out elsewhere, or the password changed
            session.pop(key, None)
        here = request.full_path if request.query_string else request.path
        return redirect("/login?next=" + quote(auth.safe_next(here), safe="/"))
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
    target = auth.safe_next(request.values.get("next", "/"))
    if not app.login_required:
        return redirect(target)
    if request.method == "POST":
        address = request.remote_addr or "-"
        name = request.form.get("name", "").strip()
        verdict = app.throttle.begin(address)
        if not verdict.allowed:
            return _throttled(verdict)
        try:
            account = accounts.authenticate(name, request.form.get("password", ""))
        except BaseException:
            app.throttle.abandon()
            raise
        if account is not None:
            app.throttle.end(address, succeeded=True)
            accounts.log_in(account)
            log.info("看板登录 name=%s address=%s", account.name, address)
            return redirect(target, code=303)
        failures = app.throttle.end(address, succeeded=False)
        shown = " ".join(name.split())[:64] or "-"  # one log line whatever the name holds
        log.warning("看板登录失败 name=%s address=%s failures=%d", shown, address, failures)
        flash("账号或密码不正确。", "error")
    return _page(
        "login.html",
        next=target,
        name=request.form.get("name") or accounts.only_account_name(),
        page={"campaign": app.settings.campaign_name},
    )


@bp.post("/logout")
def logout() -> Response:
    accounts.log_out()
    return redirect("/login", code=303)


def _throttled(verdict: Verdict) -> Response:
    """429 at once, with when to retry (no password is checked, no worker waits)."""
    seconds = max(1, math.ceil(verdict.retry_after))
    app = dashboard_of_app()
    moment = (app.clock() + timedelta(seconds=seconds)).astimezone(app.settings.deadline.tzinfo)
    if verdict.locked:
        text = (
            f"该地址登录失败次数过多，已暂时锁定。请在 {math.ceil(seconds / 60)} 分钟后"
            f"（约 {moment:%H:%M}）再试；如忘记密码，请联系管理员重新生成密码哈希。"
        )
    elif verdict.overall:
        text = f"当前登录尝试过多（可能有人在猜测密码），请在 {seconds} 秒后重试。"
    else:
        text = f"登录失败后需稍候，请在 {seconds} 秒后重试。"
    response = _error(429, "登录尝试过于频繁", text)
    response.headers["Retry-After"] = str(seconds)
    return response


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
    ours = request.host_url
    if dashboard_of_app().settings.dashboard_behind_tls:  # the proxy speaks TLS, we plain HTTP
        ours = f"https://{request.host}/"
    return auth.same_token(
        request.form.get("csrf_token"), session.get("csrf")
    ) and auth.same_origin(request.headers.get("Origin"), request.headers.get("Referer"), ours)


def _refused_characters() -> bool:
    """A control character in a query string's names or values, or NUL and the like in a form
    (``next`` excepted: whatever it holds, ``safe_next`` makes it "/")."""
    for values, refused in ((request.args, QUERY_REFUSED), (request.form, FORM_REFUSED)):
        for key, value in values.items(multi=True):
            if any(c in refused for c in key):
                return True
            if key != "next" and any(c in refused for c in value):
                return True
    return False


def _download(store: RawStore, digest: str, kind: str, name: str, mimetype: str) -> Response:
    try:
        data = store.get(digest, kind)
    except (OSError, ValueError):
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
