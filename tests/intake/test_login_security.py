"""The dashboard's login against guessing and stolen cookies, and its answers to hostile input.

Throttling (429 at once, lifting after the window, the lock after repeated failures, logged) runs
on an injected clock, never by sleeping; a flood of guesses and the copied-cookie check also run
on the real waitress server (``BackgroundServer``). The flood's figures (guesses a second, staff
page latency) are measured by ``benchmarks/login_flood.py``, not asserted here.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from intake.config import ConfigError, StaffAccount, load_settings
from intake.web import auth
from intake.web.auth import hash_password, safe_next
from intake.web.server import BackgroundServer, dashboard_app
from intake.web.throttle import LoginThrottle
from tests.helpers.http_client import request, session_cookie
from tests.helpers.staff_campaign import build_campaign, config_with

ORIGIN = "http://localhost"
EDITOR, PASSWORD = "张老师", "editor-secret-1"


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture(scope="module")
def campaign_config(tmp_path_factory) -> Path:  # noqa: ANN001
    return build_campaign(tmp_path_factory.mktemp("campaign")).config


def staff(password_hash: str, *, behind_tls: bool | None = None) -> str:
    text = f'\n[[staff]]\nname = "{EDITOR}"\npassword_hash = "{password_hash}"\nrole = "editor"\n'
    if behind_tls is not None:
        text += f"\n[dashboard]\nbehind_tls = {str(behind_tls).lower()}\n"
    return text


@pytest.fixture
def config(campaign_config, tmp_path, password_hash) -> Path:  # noqa: ANN001
    return config_with(campaign_config, tmp_path, staff(password_hash))


def make_app(config: Path, clock: Clock | None = None, **throttle):  # noqa: ANN003, ANN201
    settings = load_settings(config)
    return dashboard_app(settings, "0.0.0.0", throttle=LoginThrottle(clock or Clock(), **throttle))


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def post_login(client, password: str, *, next_: str = "/", origin: str = ORIGIN):  # noqa: ANN001, ANN201
    token = csrf(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login",
        data={"csrf_token": token, "name": EDITOR, "password": password, "next": next_},
        headers={"Origin": origin},
    )


@pytest.fixture
def checks(monkeypatch) -> list[str]:  # noqa: ANN001
    """Every password check made (``auth.verify_password``), recorded."""
    made: list[str] = []
    real = auth.verify_password

    def counting(password: str, stored: str) -> bool:
        made.append(password)
        return real(password, stored)

    monkeypatch.setattr(auth, "verify_password", counting)
    return made


# -- throttling ------------------------------------------------------------------------------


def test_a_failure_makes_the_next_attempt_wait_429_at_once_with_no_check(config, checks):
    clock = Clock()
    client = make_app(config, clock).test_client()
    assert "账号或密码不正确" in post_login(client, "wrong-1").get_data(as_text=True)
    assert checks == ["wrong-1"]
    held = post_login(client, PASSWORD)  # even the right password waits for the window
    assert held.status_code == 429 and held.headers["Retry-After"] == "1"
    assert "秒后重试" in held.get_data(as_text=True) and checks == ["wrong-1"]
    clock.advance(1.01)
    assert post_login(client, "wrong-2").status_code == 200  # allowed again, and fails
    clock.advance(1.01)  # the second failure doubles the wait
    assert post_login(client, PASSWORD).status_code == 429
    clock.advance(1.0)
    right = post_login(client, PASSWORD)
    assert right.status_code == 303 and checks == ["wrong-1", "wrong-2", PASSWORD]
    assert client.get("/").status_code == 200


def test_the_wait_grows_with_each_failure_up_to_the_maximum():
    clock = Clock()
    throttle = LoginThrottle(clock, first_delay=1, max_delay=8, lock_after=100, overall_pause=0)
    waits = []
    for _ in range(6):
        assert throttle.begin("10.0.0.1").allowed
        throttle.end("10.0.0.1", succeeded=False)
        waits.append(throttle.begin("10.0.0.1").retry_after)
        clock.advance(waits[-1])
    assert waits == [1, 2, 4, 8, 8, 8]
    assert throttle.begin("10.0.0.2").allowed  # another address has its own count


def test_guesses_from_many_addresses_meet_the_overall_limit(config, checks):
    clock = Clock()
    app = make_app(config, clock)
    clients = [app.test_client() for _ in range(3)]
    for number, client in enumerate(clients):
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{number + 1}"
    assert post_login(clients[0], "guess-a").status_code == 200
    overall = post_login(clients[1], "guess-b")  # a fresh address, but a guess just failed
    assert overall.status_code == 429 and "登录尝试过多" in overall.get_data(as_text=True)
    clock.advance(1.01)
    assert post_login(clients[1], "guess-b").status_code == 200
    assert post_login(clients[2], PASSWORD).status_code == 429
    clock.advance(1.01)
    assert post_login(clients[2], PASSWORD).status_code == 303
    assert checks == ["guess-a", "guess-b", PASSWORD]


def test_repeated_failures_lock_the_address_logged_in_chinese(config, checks, caplog):
    clock = Clock()
    client = make_app(config, clock, lock_after=3, lock_seconds=600).test_client()
    with caplog.at_level(logging.WARNING):
        for number in range(3):
            assert post_login(client, f"guess-{number}").status_code == 200
            clock.advance(60)
        locked = post_login(client, PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) == 540
    page = locked.get_data(as_text=True)
    assert "已暂时锁定" in page and "9 分钟后" in page
    failures = [r.getMessage() for r in caplog.records if "看板登录失败" in r.getMessage()]
    assert len(failures) == 3 and f"name={EDITOR}" in failures[0]
    assert "address=127.0.0.1" in failures[0] and "failures=3" in failures[2]
    assert any(
        "登录已锁定" in r.getMessage() and "address=127.0.0.1" in r.getMessage()
        for r in caplog.records
    )
    assert checks == ["guess-0", "guess-1", "guess-2"]
    clock.advance(540)  # the lock lifts
    assert post_login(client, PASSWORD).status_code == 303


def test_a_flood_on_the_real_server_checks_one_guess_and_staff_pages_keep_answering(config, checks):
    clock = Clock()  # never moves: after the first failure every guess is held back
    app = make_app(config, clock)
    with BackgroundServer(app, threads=4) as server:
        cookie = real_login(server.url)
        statuses: list[int] = []

        def guess(number: int) -> None:
            for _ in range(5):
                statuses.append(real_post_login(server.url, f"guess-{number}")[0])

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
        for thread in threads:
            thread.start()
        pages = [request(server.url, "GET", "/", cookie)[0] for _ in range(10)]
        for thread in threads:
            thread.join(timeout=60)
    assert pages == [200] * 10
    assert len(statuses) == 120 and statuses.count(200) == 1 and statuses.count(429) == 119
    assert checks == [PASSWORD, checks[1]] and checks[1].startswith("guess-")


# -- sessions --------------------------------------------------------------------------------


def test_a_cookie_copied_before_logout_fails_after_it_on_the_real_server(config):
    with BackgroundServer(make_app(config)) as server:
        status, headers, html = request(server.url, "GET", "/", real_login(server.url))
        assert status == 200
        cookie = session_cookie(headers)  # now holding the page's CSRF token too
        copy = cookie
        assert request(server.url, "GET", "/", copy)[0] == 200
        out = request(server.url, "POST", "/logout", cookie, {"csrf_token": csrf(html)})
        assert out[0] == 303
        status, headers, _ = request(server.url, "GET", "/", copy)
        assert status == 302 and headers["Location"].startswith("/login")


def test_a_changed_password_ends_the_sessions_made_with_the_old_one(config):
    app = make_app(config)
    client, other = app.test_client(), app.test_client()
    assert post_login(client, PASSWORD).status_code == 303
    assert client.get("/").status_code == 200
    dashboard = app.extensions["intake"]
    changed = (StaffAccount(EDITOR, hash_password("new-password-2"), "editor"),)
    app.extensions["intake"] = dataclasses.replace(
        dashboard, settings=dataclasses.replace(dashboard.settings, staff_accounts=changed)
    )
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    with client.session_transaction() as session:
        assert "user" not in session
    assert post_login(other, "new-password-2").status_code == 303
    assert other.get("/").status_code == 200


def test_secure_cookie_only_behind_tls(campaign_config, tmp_path, password_hash):
    tls = make_app(config_with(campaign_config, tmp_path, staff(password_hash, behind_tls=True)))
    response = post_login(tls.test_client(), PASSWORD, origin="https://localhost")
    assert response.status_code == 303  # the form is checked against the https:// origin
    assert "Secure" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]
    plain = make_app(config_with(campaign_config, tmp_path, staff(password_hash)))
    response = post_login(plain.test_client(), PASSWORD)
    assert response.status_code == 303 and "Secure" not in response.headers["Set-Cookie"]


def test_behind_tls_must_be_true_or_false(campaign_config, tmp_path):
    config = config_with(campaign_config, tmp_path, '\n[dashboard]\nbehind_tls = "yes"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "dashboard.behind_tls" in str(caught.value)


# -- next and hostile input ------------------------------------------------------------------

HOSTILE_NEXT = [
    "/%09/evil.example/",
    "//x",
    "/\\x",
    "https://x",
    "%0d%0a",
    "/%0d%0aSet-Cookie:%20a=b",
    "javascript:alert(1)",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "/%252F%252Fevil.example",
    "\\\\evil.example",
    "http:/evil.example",
    "/%E3%80%80/evil.example",
    "/%00/evil.example",
    "",
]


def same_site(location: str) -> bool:
    parts = urlsplit(location)
    return (
        location.startswith("/")
        and not location.startswith(("//", "/\\"))
        and not parts.scheme
        and not parts.netloc
    )


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_every_hostile_next_goes_to_a_same_site_path(config, campaign_config, hostile):
    assert safe_next(hostile) == "/" and safe_next(quote(hostile, safe="")) == "/"
    client = make_app(config).test_client()
    form = client.get("/login", query_string=f"next={hostile}")
    assert form.status_code == 200 and 'name="next" value="/"' in form.get_data(as_text=True)
    response = post_login(client, PASSWORD, next_=hostile)  # the value itself, decoded
    assert response.status_code == 303 and response.headers["Location"] == "/"
    open_app = dashboard_app(load_settings(campaign_config), "127.0.0.1")  # loopback: no login
    response = open_app.test_client().get("/login", query_string=f"next={hostile}")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert same_site(response.headers["Location"])


def test_a_same_site_next_is_kept(config):
    client = make_app(config).test_client()
    first = client.get("/?only=late")
    assert first.status_code == 302
    target = first.headers["Location"]
    assert target == "/login?next=/%3Fonly%3Dlate"
    response = post_login(client, PASSWORD, next_="/?only=late")
    assert response.status_code == 303 and response.headers["Location"] == "/?only=late"


HOSTILE_VALUES = ["\r\n", "\x00", "a\r\nSet-Cookie: x=y", "%0d%0a", "\x00\r\n\x1b"]
FIELDS = [
    "next",
    "back",
    "only",
    "item",
    "unit",
    "all",
    "name",
    "password",
    "message_id",
    "unit_id",
    "confirm",
    "verdict",
    "code",
    "reason",
    "received_at",
    "until",
]


def test_no_route_answers_500_to_cr_lf_or_nul(config):
    app = make_app(config, overall_pause=0, first_delay=0, lock_after=10_000)
    client = app.test_client()
    assert post_login(client, PASSWORD).status_code == 303
    token = csrf(client.get("/").get_data(as_text=True))
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    assert len(rules) > 20
    answers: dict[tuple[str, str, str], int] = {}
    for rule in rules:
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            for value in HOSTILE_VALUES:
                fields = {name: value for name in FIELDS}
                query = "&".join(f"{name}={quote(value)}" for name in FIELDS)
                if method == "GET":
                    response = client.get(path, query_string=query)
                else:
                    response = client.post(
                        path + "?" + query,
                        data={**fields, "csrf_token": token},
                        headers={"Origin": ORIGIN},
                    )
                answers[(method, path, value)] = response.status_code
                if path == "/logout" and response.status_code == 303:
                    assert post_login(client, PASSWORD).status_code == 303
                    token = csrf(client.get("/").get_data(as_text=True))
    failed = {key: status for key, status in answers.items() if status >= 500}
    assert not failed
    assert answers[("GET", "/", "\x00")] == 400 and answers[("GET", "/", "\r\n")] == 400
    assert answers[("POST", "/assign", "\x00")] == 400
    assert client.get("/", query_string="only=late").status_code == 200  # still logged in


def test_the_real_server_answers_cr_lf_and_nul_without_500(config):
    with BackgroundServer(make_app(config)) as server:
        cookie = real_login(server.url)
        for target in (
            "/login?next=%0d%0a",
            "/login?next=/%09/evil.example/",
            "/?only=%0d%0a",
            "/?only=%00",
            "/unit/1?x=%00",
            "/%0d%0a",
        ):
            status, headers, _ = request(server.url, "GET", target, cookie)
            assert status in (200, 302, 303, 400, 404), (target, status)
            assert same_site(headers.get("Location", "/")), target


# -- the real server over HTTP ---------------------------------------------------------------


def real_post_login(url: str, password: str):  # noqa: ANN201
    status, headers, html = request(url, "GET", "/login")
    cookie = session_cookie(headers)
    form = {"csrf_token": csrf(html), "name": EDITOR, "password": password, "next": "/"}
    return request(url, "POST", "/login", cookie, form)


def real_login(url: str) -> str:
    status, headers, _ = real_post_login(url, PASSWORD)
    assert status == 303
    return session_cookie(headers)
