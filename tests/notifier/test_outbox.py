"""The outbox against a real SMTP server: permanent failures, backoff, holding stale replies,
pace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake.config import load_settings
from intake.localsource import LocalMessage
from intake.service import import_messages, open_pipeline, send_replies
from notifier.outbox import DeliveryPolicy, RateLimiter
from tests.helpers.campaign import DEADLINE, make_settings, submission, write_config
from tracker import records

BEFORE = DEADLINE - timedelta(days=1)
JIXIE = "机械工程与自动化学院分党委"


def queue_one(settings, sender: str = "jixie@example.edu.cn", raw: bytes | None = None):  # noqa: ANN001, ANN201
    sessions, pipeline = open_pipeline(settings)
    raw = raw or submission(JIXIE, sender, arrived=BEFORE)
    import_messages(settings, pipeline, sessions, [LocalMessage("t.eml", raw, BEFORE)], reply=False)
    return sessions


def test_a_5xx_refusal_is_failed_for_good_and_listed(tmp_path, smtp_server):
    settings = make_settings(tmp_path, smtp=smtp_server)
    smtp_server.refuse("jixie@example.edu.cn")
    sessions = queue_one(settings)
    assert send_replies(settings, sessions) == {"sent": 0, "retry": 0, "failed": 1, "held": 0}
    later = lambda: datetime.now(UTC) + timedelta(days=1)  # noqa: E731
    assert send_replies(settings, sessions, clock=later)["failed"] == 0  # not tried again
    with sessions() as session:
        [entry] = records.undelivered_replies(session)
        assert entry.state == "failed" and entry.last_error.startswith("550")
        assert records.counts(session)["outbox_failed"] == 1


def test_temporary_failures_back_off_doubling(tmp_path, smtp_server):
    settings = make_settings(tmp_path, smtp=smtp_server)
    smtp_server.tempfail_rcpt = True
    sessions = queue_one(settings)
    start = datetime.now(UTC)
    waits = []
    for step in range(3):
        now = start + timedelta(hours=step * 3)
        assert send_replies(settings, sessions, clock=lambda now=now: now)["retry"] == 1
        with sessions() as session:
            [entry] = records.queued_replies(session)
            waits.append(entry.next_attempt_at - now)
    assert waits == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]
    smtp_server.tempfail_rcpt = False
    assert send_replies(settings, sessions, clock=lambda: start + timedelta(hours=9))["sent"] == 1
    assert len(smtp_server.messages) == 1


def test_a_reply_older_than_the_limit_is_held_until_staff_release_it(tmp_path, smtp_server):
    settings = make_settings(tmp_path, smtp=smtp_server)
    sessions = queue_one(settings)
    long_after = lambda: datetime.now(UTC) + timedelta(hours=49)  # noqa: E731
    assert send_replies(settings, sessions, clock=long_after)["held"] == 1
    assert smtp_server.messages == []
    with sessions() as session:
        assert records.release_held_replies(session) == 1
        session.commit()
    assert send_replies(settings, sessions, clock=long_after)["sent"] == 1
    assert len(smtp_server.messages) == 1


def test_backoff_is_capped_and_the_rate_limiter_spaces_sends():
    policy = DeliveryPolicy(retry_initial_seconds=60, retry_max_seconds=600)
    assert [policy.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 9)] == [
        60,
        120,
        240,
        480,
        600,
        600,
    ]
    slept = []
    limiter = RateLimiter(per_minute=20, sleep=slept.append)
    for _ in range(3):
        limiter.wait()
    assert len(slept) == 2 and all(2.9 < s <= 3.0 for s in slept)


def test_a_refused_reply_is_shown_on_the_dashboard(tmp_path, smtp_server):
    from html.parser import HTMLParser

    from intake.web.app import create_app

    settings = make_settings(tmp_path, smtp=smtp_server)
    smtp_server.refuse("jixie@example.edu.cn")
    sessions = queue_one(settings)
    send_replies(settings, sessions)
    _, pipeline = open_pipeline(settings)
    page = create_app(settings, sessions, pipeline).test_client().get("/").get_data(as_text=True)

    class Text(HTMLParser):
        chunks: list[str] = []

        def handle_data(self, data: str) -> None:
            self.chunks.append(data)

    reader = Text()
    reader.feed(page)
    text = " ".join(reader.chunks)
    assert (
        "未能发出的邮件（1 封）" in text and "发送失败" in text and "550 5.1.1 user unknown" in text
    )


def test_one_limiter_paces_every_sender_of_the_process(tmp_path, smtp_server):
    import threading
    import time

    from intake.service import shared_limiter

    settings = make_settings(tmp_path, smtp=smtp_server)
    settings = type(settings)(
        **{
            **settings.__dict__,
            "smtp": type(settings.smtp)(**{**settings.smtp.__dict__, "max_per_minute": 120}),
        }
    )  # one send every 0.5 s
    assert shared_limiter(120) is shared_limiter(120)
    sessions = queue_one(settings)
    for number in range(3):
        queue_one(settings, sender=f"unit{number}@example.edu.cn")
    start = time.monotonic()
    workers = [threading.Thread(target=send_replies, args=(settings, sessions)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(smtp_server.messages) == 4
    assert time.monotonic() - start >= 1.4  # four sends, two senders, still 0.5 s apart


def test_a_refused_smtp_login_is_retried_not_failed(tmp_path):
    from tests.helpers.smtpserver import SmtpServer

    server = SmtpServer(credentials=("dept@example.edu.cn", "right-password"))
    server.start()
    try:
        config = write_config(tmp_path, smtp=server)
        config.write_text(
            config.read_text(encoding="utf-8").replace(
                "max_per_minute = 6000\n",
                'max_per_minute = 6000\nusername = "dept@example.edu.cn"\n'
                'password = "wrong-password"\n',
            ),
            encoding="utf-8",
        )
        settings = load_settings(config)
        sessions = queue_one(settings)
        assert send_replies(settings, sessions) == {"sent": 0, "retry": 1, "failed": 0, "held": 0}
        config.write_text(
            config.read_text(encoding="utf-8").replace("wrong-password", "right-password"),
            encoding="utf-8",
        )
        fixed = load_settings(config)
        later = lambda: datetime.now(UTC) + timedelta(hours=1)  # noqa: E731
        assert send_replies(fixed, sessions, clock=later)["sent"] == 1
        assert server.logins == ["dept@example.edu.cn"] and len(server.messages) == 1
    finally:
        server.stop()


def test_a_non_ascii_recipient_fails_alone_and_the_outbox_goes_on(tmp_path, smtp_server):
    settings = make_settings(tmp_path, smtp=smtp_server)
    raw = submission(JIXIE, "placeholder@example.edu.cn", arrived=BEFORE)
    assert b"placeholder@example.edu.cn" in raw
    sessions = queue_one(
        settings, raw=raw.replace(b"placeholder@", "王老师@".encode())
    )  # raw UTF-8, as some clients send
    queue_one(settings, sender="cailiao@example.edu.cn")
    assert send_replies(settings, sessions) == {"sent": 1, "retry": 0, "failed": 1, "held": 0}
    assert [m.rcpt_tos for m in smtp_server.messages] == [["cailiao@example.edu.cn"]]


def test_the_database_failing_repeats_a_reply_only_after_the_server_accepted_it(
    tmp_path, smtp_server
):
    """The outbox's steps, each with the database failing there: only SENT_UNRECORDED (the
    server accepted, ``sent`` not yet committed) sends the reply a second time."""
    from sqlalchemy.exc import OperationalError

    from intake.service import transport_for
    from notifier.outbox import SENT_UNRECORDED, flush_outbox

    for point in ("sending", SENT_UNRECORDED):
        before = len(smtp_server.messages)
        (tmp_path / point).mkdir()
        settings = make_settings(tmp_path / point, smtp=smtp_server)
        sessions = queue_one(settings)

        def database_gone(reached: str, point: str = point) -> None:
            if reached == point:
                raise OperationalError("UPDATE outbox", {}, Exception("connection lost"))

        try:
            flush_outbox(sessions, transport_for(settings), step=database_gone)
        except OperationalError:
            pass
        assert send_replies(settings, sessions)["sent"] == 1  # the next run sends it
        assert send_replies(settings, sessions)["sent"] == 0  # and never again
        sent = smtp_server.messages[before:]
        assert len(sent) == (2 if point == SENT_UNRECORDED else 1), point
        assert len({m.data for m in sent}) == 1  # a repeat is the same mail, same Message-ID
