"""The dashboard as a WSGI application (Flask): ``create_app`` configures one and registers the
routes (``routes.bp``), with what they need in ``app.extensions["intake"]``."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from ..config import Settings
from ..pipeline import Pipeline
from ..store import RawStore
from . import export_routes
from .preview_routes import bp as preview_bp
from .render import STATIC
from .routes import Dashboard, bp


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
) -> Flask:
    """The dashboard application over ``sessions``; ``pipeline`` and ``send_replies`` serve the
    assign form."""
    if login_required and not password_hash:
        raise ValueError("login_required needs a password hash")
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_bytes(32),
        SESSION_COOKIE_NAME="intake_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
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
    )
    app.register_blueprint(bp)
    app.register_blueprint(preview_bp)
    app.register_blueprint(export_routes.bp)
    return app
