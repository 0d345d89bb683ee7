"""Serving the dashboard with waitress, in the foreground (``intake serve``) or in a thread."""

from __future__ import annotations

import threading

from flask import Flask
from waitress.server import create_server

from ..config import Settings
from ..service import can_send, open_pipeline, send_replies
from .app import create_app
from .auth import is_loopback
from .throttle import LoginThrottle


class LoginNotConfigured(Exception):
    """Serving on a non-loopback address without a staff account in the configuration."""


def dashboard_app(settings: Settings, host: str, *, throttle: LoginThrottle | None = None) -> Flask:
    """The dashboard application for ``settings`` (``throttle``: the login throttle, for tests).

    It asks for a login whenever staff accounts are configured, and refuses to serve beyond
    loopback without one. Without an SMTP password at hand it still serves: the replies the assign
    form causes stay queued for the next poll.
    """
    login_required = bool(settings.staff_accounts) or not is_loopback(host)
    if login_required and not settings.staff_accounts:
        raise LoginNotConfigured(
            f"看板绑定在 {host} 上需要登录账号：请用 intake hash-password 生成密码哈希，并在配置中"
            f"添加 [[staff]]（name、password_hash、role）/ binding to {host} needs a [[staff]] "
            "account (name, password_hash, role) in the config"
        )
    sessions, pipeline = open_pipeline(settings)
    return create_app(
        settings,
        sessions,
        pipeline,
        login_required=login_required,
        password_hash=settings.dashboard_password_hash,
        send_replies=(lambda: send_replies(settings, sessions)) if can_send(settings) else None,
        throttle=throttle,
    )


class BackgroundServer:
    """A real waitress server for ``app`` in a daemon thread (tests, the benchmark); ``stop()`` ends
    it."""

    def __init__(
        self, app: Flask, host: str = "127.0.0.1", port: int = 0, threads: int = 4
    ) -> None:
        self.server = create_server(app, host=host, port=port, threads=threads)
        self.url = f"http://{host}:{self.server.effective_port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dashboard-server", daemon=True)

    def start(self) -> BackgroundServer:
        """Start serving; returns self."""
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.server.asyncore.loop(timeout=0.2, map=self.server._map, count=1)

    def stop(self) -> None:
        """Stop accepting, finish the worker threads and close the socket."""
        self._stopping.set()
        self._thread.join(timeout=10)
        self.server.task_dispatcher.shutdown(timeout=5)
        self.server.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
