"""The dashboard as a WSGI application (Flask): ``create_app`` configures one and registers the
routes (``routes.bp``), with what they need in ``app.extensions["intake"]``."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from ..config import LEGACY_STAFF_NAME, Settings, StaffAccount
from ..pipeline import Pipeline
from ..store import RawStore
from . import accounts, decision_routes, export_routes
from .live_sessions import LiveSessions
from .preview_routes import bp as preview_bp
from .render import STATIC, environment
from .routes import Dashboard, bp
from .throttle import LoginThrottle


def create_app(
    settings: Settings,
    sessions: sessionmaker[Session],
    pipeline: Pipeline,
    *,
    login_required: bool = False,
    password_hash: str | None = None,
    send_replies: Callable[[], object] | None = None,
    secret_key: bytes | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    throttle: LoginThrottle | None = None,
    live_sessions: LiveSessions | None = None,
) -> Flask:
    """The dashboard application over ``sessions``; ``pipeline`` and ``send_replies`` serve the
    assign form (``send_replies`` None: replies stay queued for the next poll).

    ``throttle`` and ``live_sessions`` (login throttling, live session ids) default to fresh ones
    on the monotonic clock; tests pass their own clock. The session cookie is ``Secure`` when
    ``settings.dashboard_behind_tls``.

    The accounts are ``settings.staff_accounts``; a ``password_hash`` given here instead stands
    for the one editor 工作人员, as the old ``[dashboard] password_hash`` does.
    """
    if password_hash and not settings.staff_accounts:
        settings = dataclasses.replace(
            settings, staff_accounts=(StaffAccount(LEGACY_STAFF_NAME, password_hash),)
        )
    if login_required and not settings.staff_accounts:
        raise ValueError("login_required needs a staff account")
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_bytes(32),
        SESSION_COOKIE_NAME="intake_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.dashboard_behind_tls,
        MAX_CONTENT_LENGTH=64 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=300,
    )
    app.extensions["intake"] = Dashboard(
        settings=settings,
        sessions=sessions,
        pipeline=pipeline,
        store=RawStore(settings.storage_dir),
        login_required=login_required,
        password_hash=password_hash,
        send_replies=send_replies,
        clock=clock,
        throttle=throttle or LoginThrottle(),
        live_sessions=live_sessions or LiveSessions(),
    )
    app.register_blueprint(bp)
    app.register_blueprint(decision_routes.bp)
    app.register_blueprint(preview_bp)
    app.register_blueprint(export_routes.bp)
    environment().globals["logged_in"] = accounts.header  # the page header's "who is logged in"
    environment().globals["may_edit"] = accounts.may_edit
    return app
