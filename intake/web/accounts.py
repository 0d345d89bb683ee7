"""The dashboard's staff accounts: who is logged in, and what a viewer may not do.

The accounts are ``Settings.staff_accounts`` (``[[staff]]``, or the old ``[dashboard]
password_hash`` as the one editor 工作人员). A login keeps the account's name and role in the Flask
session, and a session id that ``live_sessions`` must still know (logout and a changed password end
it). Without a login (loopback, no account configured) the person at the machine is
``LOCAL_STAFF`` and may do everything.

For a POST route that changes something::

    @bp.post("/decide")
    @accounts.editor_required
    def decide() -> Response:
        ...record(by=accounts.current_staff())
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, has_request_context, session
from werkzeug.exceptions import Forbidden

from ..config import LEGACY_STAFF_NAME, StaffAccount
from . import auth

LOCAL_STAFF = "本机工作人员"
"""Who acts when the dashboard asks for no login (bound to loopback, no account configured)."""
ROLE_LABELS = {"editor": "可编辑", "viewer": "只读"}

View = TypeVar("View", bound=Callable[..., object])


class EditorOnly(Forbidden):
    """A viewer account tried to change something; answered with the 403 error page."""

    heading = "无权操作"
    description = (
        "当前账号为只读账号，只能查看，不能归档来信或作出决定。如需操作，请用可编辑账号登录。"
    )


def _dashboard():  # noqa: ANN202 - routes.Dashboard (routes imports this module)
    return current_app.extensions["intake"]


def staff_accounts() -> tuple[StaffAccount, ...]:
    """The accounts of the application handling this request."""
    return _dashboard().settings.staff_accounts


def authenticate(name: str, password: str) -> StaffAccount | None:
    """The account ``name`` if ``password`` is its password; a blank name means the only account
    when there is exactly one (the old shared password)."""
    accounts = staff_accounts()
    name = name.strip()
    if not name and len(accounts) == 1:
        name = accounts[0].name
    account = next((a for a in accounts if a.name == name), None)
    if account is None:
        auth.check_unknown(password)  # as slow as a known name: names are not revealed
        return None
    return account if auth.verify_password(password, account.password_hash) else None


def only_account_name() -> str:
    """The name the login form fills in: 工作人员 when the old shared password is the only account
    (whoever knew the password need not learn a name); otherwise nothing."""
    accounts = staff_accounts()
    return LEGACY_STAFF_NAME if [a.name for a in accounts] == [LEGACY_STAFF_NAME] else ""


def log_in(account: StaffAccount) -> None:
    """Start a fresh session for ``account``: its name, role and a live session id."""
    session.clear()
    session["user"] = account.name
    session["role"] = account.role
    session["sid"] = _dashboard().live_sessions.start(account.name, account.password_hash)


def log_out() -> None:
    """End this session here and for every copy of its cookie."""
    _dashboard().live_sessions.end(session.get("sid"))
    session.clear()


def current_account() -> StaffAccount | None:
    """The logged-in account, or None: no login, the account is no longer configured, the session
    was logged out, or the account's password has changed since (``live_sessions``)."""
    name = session.get("user")
    if name is None:
        return None
    account = next((a for a in staff_accounts() if a.name == name), None)
    if account is None or not _dashboard().live_sessions.valid(
        session.get("sid"), account.name, account.password_hash
    ):
        return None
    return account


def current_staff() -> str:
    """Who is acting: the logged-in account's name; ``LOCAL_STAFF`` when no login is required."""
    if not _dashboard().login_required:
        return LOCAL_STAFF
    account = current_account()
    if account is None:  # the guard lets nobody through without a login: never reached
        abort(403)
    return account.name


def may_edit() -> bool:
    """Whether this request's person may change things (an editor, or nobody needs a login)."""
    if not _dashboard().login_required:
        return True
    account = current_account()
    return account is not None and account.can_edit


def editor_required(view: View) -> View:
    """Refuse ``view`` to viewer accounts with the 403 error page (``EditorOnly``)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the view's own arguments
        if not may_edit():
            raise EditorOnly()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def header() -> str:
    """Who the page header says is logged in ("张老师（只读）"), or "" outside a request."""
    if not has_request_context() or "intake" not in current_app.extensions:
        return ""
    if not _dashboard().login_required:
        return LOCAL_STAFF
    account = current_account()
    return f"{account.name}（{ROLE_LABELS[account.role]}）" if account else ""
