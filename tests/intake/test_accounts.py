"""Dashboard accounts: ``[[staff]]`` in the config, logging in by name and password, the header,
what a viewer may not do, and the old shared ``[dashboard] password_hash`` as one editor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from intake.config import ConfigError, load_settings
from intake.web import accounts
from intake.web.auth import hash_password
from intake.web.server import LoginNotConfigured, dashboard_app
from intake.web.throttle import LoginThrottle
from tests.helpers.staff_campaign import JSJ, build_campaign, config_with, parse_page

ORIGIN = "http://localhost"
EDITOR, VIEWER = "张老师", "李老师"
EDITOR_PASSWORD, VIEWER_PASSWORD = "editor-secret-1", "viewer-secret-2"


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {EDITOR: hash_password(EDITOR_PASSWORD), VIEWER: hash_password(VIEWER_PASSWORD)}


@pytest.fixture(scope="module")
def campaign_config(tmp_path_factory) -> Path:  # noqa: ANN001
    """One processed campaign (with an unidentified message); each test copies its config."""
    return build_campaign(tmp_path_factory.mktemp("campaign")).config


def staff_toml(hashes: dict[str, str]) -> str:
    return (
        f'\n[[staff]]\nname = "{EDITOR}"\npassword_hash = "{hashes[EDITOR]}"\nrole = "editor"\n'
        f'\n[[staff]]\nname = "{VIEWER}"\npassword_hash = "{hashes[VIEWER]}"\nrole = "viewer"\n'
    )


def client_for(config: Path, host: str = "0.0.0.0"):  # noqa: ANN201 - a Flask test client
    # no waiting between attempts here: throttling has its own tests (test_login_security.py)
    app = dashboard_app(
        load_settings(config), host, throttle=LoginThrottle(first_delay=0, overall_pause=0)
    )
    app.testing = True
    return app.test_client()


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, name: str, password: str):  # noqa: ANN001, ANN201 - a response
    token = csrf(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login",
        data={"csrf_token": token, "name": name, "password": password, "next": "/"},
        headers={"Origin": ORIGIN},
    )


def assign_form(client) -> dict[str, str]:  # noqa: ANN001
    html = client.get("/").get_data(as_text=True)
    return {
        "csrf_token": csrf(html),
        "message_id": re.search(r'name="message_id" value="(\d+)"', html).group(1),
        "unit_id": re.search(r'<a href="/unit/(\d+)">' + JSJ, html).group(1),
    }


# -- configuration ---------------------------------------------------------------------------


def test_staff_accounts_load_with_their_roles(campaign_config, tmp_path, hashes):
    settings = load_settings(config_with(campaign_config, tmp_path, staff_toml(hashes)))
    assert [(a.name, a.role) for a in settings.staff_accounts] == [
        (EDITOR, "editor"),
        (VIEWER, "viewer"),
    ]
    assert settings.staff_accounts[0].can_edit and not settings.staff_accounts[1].can_edit
    assert hashes[EDITOR] not in repr(settings)


ONE = '[[staff]]\nname = "甲"\n'


@pytest.mark.parametrize(
    "extra, key",
    [
        (ONE + 'password_hash = "{h}"\n' + ONE, "staff[2].name"),
        (ONE + 'password_hash = "{h}"\nrole = "admin"\n', "staff[1].role"),
        (ONE + 'password_hash = "secret123"\n', "staff[1].password_hash"),
        (ONE + 'password_hash = "scrypt$16384$8$1$@@$x"\n', "staff[1].password_hash"),
        (ONE + 'password = "x"\n', "staff[1].password"),
        ('[[staff]]\npassword_hash = "{h}"\n', "staff[1].name"),
        ('[dashboard]\npassword_hash = "not-a-hash"\n', "dashboard.password_hash"),
        (
            '[[staff]]\nname = "工作人员"\npassword_hash = "{h}"\n'
            '[dashboard]\npassword_hash = "{h}"\n',
            "工作人员",
        ),
    ],
)
def test_each_account_mistake_is_one_line_naming_the_key(
    campaign_config, tmp_path, hashes, extra, key
):
    config = config_with(campaign_config, tmp_path, "\n" + extra.replace("{h}", hashes[EDITOR]))
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert key in str(caught.value) and "\n" not in str(caught.value)


def test_a_public_address_without_accounts_is_refused(campaign_config, tmp_path):
    settings = load_settings(config_with(campaign_config, tmp_path, ""))
    with pytest.raises(LoginNotConfigured) as caught:
        dashboard_app(settings, "0.0.0.0")
    assert "[[staff]]" in str(caught.value) and "intake hash-password" in str(caught.value)


# -- logging in ------------------------------------------------------------------------------


def test_an_editor_logs_in_by_name_sees_the_name_and_may_assign(campaign_config, tmp_path, hashes):
    client = client_for(config_with(campaign_config, tmp_path, staff_toml(hashes)))
    assert client.get("/").status_code == 302
    login = client.get("/login").get_data(as_text=True)
    assert 'name="name"' in login and 'name="password"' in login and EDITOR not in login
    wrong = log_in(client, EDITOR, VIEWER_PASSWORD)
    assert wrong.status_code == 200 and "账号或密码不正确" in wrong.get_data(as_text=True)
    assert "账号或密码不正确" in log_in(client, "王老师", EDITOR_PASSWORD).get_data(as_text=True)
    assert log_in(client, EDITOR, EDITOR_PASSWORD).status_code == 303
    with client.session_transaction() as session:
        assert session["user"] == EDITOR and session["role"] == "editor"
    html = client.get("/").get_data(as_text=True)
    assert f"当前账号：{EDITOR}（可编辑）" in html and "退出登录" in html
    response = client.post("/assign", data=assign_form(client), headers={"Origin": ORIGIN})
    assert response.status_code == 303 and "/unit/" in response.headers["Location"]
    assert parse_page(client.get("/").get_data(as_text=True)).counts["unassigned"] == "0"


def test_a_viewer_reads_but_gets_403_on_assign(campaign_config, tmp_path, hashes):
    client = client_for(config_with(campaign_config, tmp_path, staff_toml(hashes)))
    assert log_in(client, VIEWER, VIEWER_PASSWORD).status_code == 303
    with client.session_transaction() as session:
        assert session["user"] == VIEWER and session["role"] == "viewer"
    html = client.get("/").get_data(as_text=True)
    assert f"当前账号：{VIEWER}（只读）" in html
    assert client.get("/report.csv").status_code == 200
    refused = client.post("/assign", data=assign_form(client), headers={"Origin": ORIGIN})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "无权操作" in page and "只读账号" in page
    assert f"当前账号：{VIEWER}" in page
    assert parse_page(client.get("/").get_data(as_text=True)).counts["unassigned"] == "1"


def test_accounts_ask_for_a_login_on_loopback_too(campaign_config, tmp_path, hashes):
    client = client_for(config_with(campaign_config, tmp_path, staff_toml(hashes)), "127.0.0.1")
    assert client.get("/").headers["Location"] == "/login?next=/"


def test_logout_ends_the_session(campaign_config, tmp_path, hashes):
    client = client_for(config_with(campaign_config, tmp_path, staff_toml(hashes)))
    log_in(client, EDITOR, EDITOR_PASSWORD)
    token = csrf(client.get("/").get_data(as_text=True))
    out = client.post("/logout", data={"csrf_token": token}, headers={"Origin": ORIGIN})
    assert out.status_code == 303 and client.get("/").status_code == 302


def test_the_old_shared_password_hash_is_one_editor_named_gongzuorenyuan(
    campaign_config, tmp_path, hashes
):
    old = f'\n[dashboard]\npassword_hash = "{hashes[EDITOR]}"\n'
    settings = load_settings(config_with(campaign_config, tmp_path, old))
    assert [(a.name, a.role) for a in settings.staff_accounts] == [("工作人员", "editor")]
    client = client_for(config_with(campaign_config, tmp_path, old))
    assert 'value="工作人员"' in client.get("/login").get_data(as_text=True)
    assert log_in(client, "", EDITOR_PASSWORD).status_code == 303  # the old form: no name
    html = client.get("/").get_data(as_text=True)
    assert "当前账号：工作人员（可编辑）" in html
    response = client.post("/assign", data=assign_form(client), headers={"Origin": ORIGIN})
    assert response.status_code == 303
    again = client_for(config_with(campaign_config, tmp_path, old))
    assert log_in(again, "工作人员", EDITOR_PASSWORD).status_code == 303


# -- the helpers for other POST routes -------------------------------------------------------


def _with_probe(config: Path, host: str):  # noqa: ANN202 - a Flask test client
    """A dashboard with one more POST route guarded like the decision routes will be."""
    app = dashboard_app(load_settings(config), host)
    app.testing = True

    @accounts.editor_required
    def probe() -> str:
        return accounts.current_staff()

    app.add_url_rule("/probe", "probe", probe, methods=["POST"])
    return app.test_client()


def test_current_staff_and_editor_required_for_other_routes(campaign_config, tmp_path, hashes):
    local = _with_probe(config_with(campaign_config, tmp_path, ""), "127.0.0.1")
    html = local.get("/").get_data(as_text=True)
    assert "当前账号：本机工作人员" in html and "退出登录" not in html
    posted = local.post("/probe", data={"csrf_token": csrf(html)}, headers={"Origin": ORIGIN})
    assert posted.get_data(as_text=True) == accounts.LOCAL_STAFF == "本机工作人员"

    config = config_with(campaign_config, tmp_path, staff_toml(hashes))
    for name, password, status, body in (
        (EDITOR, EDITOR_PASSWORD, 200, EDITOR),
        (VIEWER, VIEWER_PASSWORD, 403, "无权操作"),
    ):
        client = _with_probe(config, "0.0.0.0")
        log_in(client, name, password)
        token = csrf(client.get("/").get_data(as_text=True))
        answer = client.post("/probe", data={"csrf_token": token}, headers={"Origin": ORIGIN})
        assert answer.status_code == status and body in answer.get_data(as_text=True)
