"""The dashboard as a WSGI application (Flask): pages, downloads, the assign form, the login.

Every POST carries the session's CSRF token in a hidden field and must come from our own
origin (Origin, or Referer when a browser sends no Origin). When ``login_required`` is set
(the server is bound to a non-loopback address) every page but the login asks for the password
whose hash is configured.
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import PurePosixPath

from flask import Flask, Response, abort, flash, get_flashed_messages, redirect, request, send_file, session
from sqlalchemy.orm import Session, sessionmaker

from tracker import records
from tracker.exports import report_csv
from tracker.report import build_report
from tracker.xlsx_report import report_workbook

from ..config import Settings
from ..pipeline import Pipeline
from ..store import RawStore
from ..reporting import report_data
from . import auth, pages
from .render import STATIC, render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ASSIGNABLE = ("processed", "failed", "stored")
PUBLIC_ENDPOINTS = {"login", "static"}


def create_app(settings: Settings, sessions: sessionmaker[Session], pipeline: Pipeline, *,
               login_required: bool = False, password_hash: str | None = None,
               send_replies: Callable[[], object] | None = None, secret_key: bytes | None = None,
               clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> Flask:
    """The dashboard application over ``sessions``; ``pipeline`` and ``send_replies`` serve the assign form."""
    if login_required and not password_hash:
        raise ValueError("login_required needs a password hash")
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config.update(SECRET_KEY=secret_key or secrets.token_bytes(32), SESSION_COOKIE_NAME="intake_session",
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      MAX_CONTENT_LENGTH=64 * 1024, SEND_FILE_MAX_AGE_DEFAULT=300)
    store = RawStore(settings.storage_dir)

    def page(template: str, status: int = 200, **context) -> Response:  # noqa: ANN003 - template values
        html = render(template, csrf_token=csrf_token(), flashes=get_flashed_messages(with_categories=True),
                      login_required=login_required, static_file=False, **context)
        return Response(html, status=status, mimetype="text/html")

    def error(status: int, heading: str, text: str) -> Response:
        return page("error.html", status=status, heading=heading, text=text, page={"campaign": settings.campaign_name})

    @app.before_request
    def guard() -> Response | None:
        if login_required and request.endpoint not in PUBLIC_ENDPOINTS and not session.get("user"):
            return redirect(f"/login?next={request.full_path if request.query_string else request.path}")
        if request.method == "POST" and not _posted_from_us():
            return error(403, "请求被拒绝", "该请求不是从本看板页面提交的（跨站请求或页面已过期），请刷新页面后重试。")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                    "form-action 'self'; base-uri 'none'")
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def dashboard() -> Response:
        with sessions() as db:
            report = build_report(db, campaign=settings.campaign_name, deadline=settings.deadline, now=clock(),
                                  rules=settings.rules)
            units = records.all_subcommittees(db)  # one session: the rows match the report
            view = pages.dashboard(report, {u.name: u.id for u in units}, only=request.args.get("only", ""),
                                   item=request.args.get("item", ""), now=clock())
            unassigned = pages.unassigned(db, settings)
            review = pages.review_list(db, settings)
        return page("dashboard.html", page=view, unassigned=unassigned, review=review,
                    units=[{"id": u.id, "name": u.name} for u in units])

    @app.get("/unit/<int:unit_id>")
    def unit(unit_id: int) -> Response:
        with sessions() as db:
            view = pages.unit_page(db, settings, unit_id)
        if view is None:
            return error(404, "找不到该单位", "该分党委（直属党总支）不存在。")
        return page("unit.html", unit=view, deadline=settings.deadline, labels=pages.code_labels(settings.rules.best_share),
                    page={"campaign": settings.campaign_name})

    @app.get("/message/<int:message_id>/raw")
    def raw_message(message_id: int) -> Response:
        with sessions() as db:
            message = records.message_by_id(db, message_id)
            if message is None:
                abort(404)
            from ..pipeline.receipt import reference_number

            name, digest = f"{reference_number(message, settings)}.eml", message.raw_sha256
        return _download(store, digest, "messages", name, "message/rfc822")

    @app.get("/version/<int:version_id>/file")
    def version_file(version_id: int) -> Response:
        with sessions() as db:
            version = records.version_by_id(db, version_id)
            if version is None:
                abort(404)
            name, digest = PurePosixPath(version.filename.replace("\\", "/")).name or "附件", version.sha256
        return _download(store, digest, "attachments", name, "application/octet-stream")

    @app.get("/reply/<int:entry_id>/eml")
    def reply_file(entry_id: int) -> Response:
        with sessions() as db:
            entry = records.outbox_entry_by_id(db, entry_id)
            if entry is None:
                abort(404)
            body = entry.body
        return send_file(io.BytesIO(body), mimetype="message/rfc822", as_attachment=True,
                         download_name=f"回执-{entry_id}.eml")

    @app.get("/report.xlsx")
    def report_xlsx() -> Response:
        buffer = io.BytesIO()
        report_workbook(_report()).save(buffer)
        buffer.seek(0)
        return send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=_report_name("xlsx"))

    @app.get("/report.csv")
    def report_csv_file() -> Response:
        data = report_csv(_report()).encode("utf-8-sig")
        return send_file(io.BytesIO(data), mimetype="text/csv", as_attachment=True, download_name=_report_name("csv"))

    @app.post("/assign")
    def assign() -> Response:
        message_key, unit_key = request.form.get("message_id", ""), request.form.get("unit_id", "")
        if not (message_key.isdigit() and unit_key.isdigit()):
            flash("请选择要归档的来信和单位。", "error")
            return redirect("/#unassigned", code=303)
        with sessions() as db:
            message = records.message_by_id(db, int(message_key))
            target = records.subcommittee_by_id(db, int(unit_key))
            if message is None or target is None or message.state not in ASSIGNABLE:
                flash("找不到该来信或单位，或该来信是重复投递，无法归档。", "error")
                return redirect("/#unassigned", code=303)
            message_id, unit_id, unit_name, subject = message.id, target.id, target.name, message.subject
        outcome = pipeline.assign(message_id, unit_id)
        items = "、".join(dict.fromkeys(settings.rules.short_label(i) for i in outcome.items)) or "无"
        flash(f"已将来信《{subject}》归入 {unit_name}，登记材料：{items}。", "ok")
        if send_replies is not None:
            try:
                send_replies()
            except Exception:  # noqa: BLE001 - the reply stays queued and goes with the next run
                flash("回执暂未发出（邮件服务器不可用），将在下次收信时重试。", "error")
        return redirect(f"/unit/{unit_id}", code=303)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response:
        target = request.values.get("next", "/")
        target = target if target.startswith("/") and not target.startswith("//") else "/"
        if not login_required:
            return redirect(target)
        if request.method == "POST":
            if auth.verify_password(request.form.get("password", ""), password_hash):
                session.clear()
                session["user"] = True
                return redirect(target, code=303)
            time.sleep(1)
            flash("密码不正确。", "error")
        return page("login.html", next=target, page={"campaign": settings.campaign_name})

    @app.post("/logout")
    def logout() -> Response:
        session.clear()
        return redirect("/login", code=303)

    @app.errorhandler(404)
    def not_found(_exc) -> Response:  # noqa: ANN001 - werkzeug's exception
        return error(404, "页面不存在", "请求的页面或文件不存在。")

    def _report() -> dict:
        return report_data(settings, sessions, clock())

    def _report_name(ext: str) -> str:
        return f"{settings.campaign_name}报送情况-{clock().astimezone(settings.deadline.tzinfo):%Y%m%d-%H%M}.{ext}"

    return app


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = auth.new_token()
    return session["csrf"]


def _posted_from_us() -> bool:
    return auth.same_token(request.form.get("csrf_token"), session.get("csrf")) and auth.same_origin(
        request.headers.get("Origin"), request.headers.get("Referer"), request.host_url)


def _download(store: RawStore, digest: str, kind: str, name: str, mimetype: str) -> Response:
    try:
        data = store.get(digest, kind)
    except (OSError, ValueError):
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
