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
