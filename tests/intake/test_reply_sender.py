"""The outbox sender thread: woken by each processed message, it flushes while the pass goes on."""

from __future__ import annotations

import threading

from intake.reply_sender import ReplySender


def test_each_wake_flushes_once_and_counts_add_up():
    flushed = threading.Semaphore(0)

    def send() -> dict[str, int]:
        flushed.release()
        return {"sent": 2, "retry": 1}

    sender = ReplySender(send).start()
    try:
        for _ in range(3):
            sender.wake()
            assert flushed.acquire(timeout=5)  # one flush per wake, in the sender's thread
    finally:
        sender.stop(timeout=5)
    assert sender.totals == {"sent": 6, "retry": 3}
    assert not flushed.acquire(timeout=0.2)  # nothing flushed after the stop


def test_without_a_wake_it_flushes_every_interval():
    flushed = threading.Event()
    sender = ReplySender(lambda: flushed.set() or {"sent": 1}, interval=0.05).start()
    try:
        assert flushed.wait(timeout=5)
    finally:
        sender.stop(timeout=5)
    assert sender.totals["sent"] >= 1


def test_stop_before_any_wake_never_flushes():
    calls = []
    sender = ReplySender(lambda: calls.append(1) or {}).start()
    sender.stop(timeout=5)
    assert calls == []


def test_a_pass_counts_each_reply_awaiting_retry_once(tmp_path, smtp_server, monkeypatch):
    """However many flushes of a pass retried a reply (here every flush retries every one: no
    backoff), the pass's "待重试" is how many replies wait when it ends."""
    from datetime import timedelta

    from intake import service
    from intake.config import load_settings
    from intake.localsource import LocalMessage
    from intake.service import import_messages, open_pipeline
    from notifier.outbox import DeliveryPolicy
    from tests.helpers.campaign import DEADLINE, write_config
    from tests.helpers.decision_campaign import campaign_mails

    monkeypatch.setattr(
        service, "delivery_policy", lambda _settings: DeliveryPolicy(600, retry_initial_seconds=0)
    )
    smtp_server.tempfail_rcpt = True
    settings = load_settings(write_config(tmp_path, smtp=smtp_server))
    sessions, pipeline = open_pipeline(settings)
    mails = [
        LocalMessage(f"{n}.eml", raw, DEADLINE - timedelta(days=1))
        for n, raw in enumerate(campaign_mails())
    ]
    result = import_messages(settings, pipeline, sessions, mails)
    assert result.sent["sent"] == 0 and result.sent["retry"] == len(mails) == 3
    smtp_server.tempfail_rcpt = False
    assert import_messages(settings, pipeline, sessions, []).sent == {
        "sent": 3,
        "retry": 0,
        "failed": 0,
        "held": 0,
    }
