"""The outbox flushed from a thread of its own while mail is still being processed.

The pipeline queues each receipt in the database as it records a message; a ``ReplySender``,
woken then, sends it while the next message is fetched and parsed, so fetch, parse and send
overlap (``intake run`` the whole campaign long, ``intake poll`` and ``intake import`` for one
pass). Sending stays exactly-once: it is the outbox's own flush, which claims each entry.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable


class ReplySender:
    """Calls ``send`` (a flush of the outbox that returns its counts and logs its own failure:
    the replies stay queued for the next) in a thread each time it is woken and, with
    ``interval``, at least every ``interval`` seconds, until stopped."""

    def __init__(
        self,
        send: Callable[[], dict[str, int]],
        *,
        interval: float | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self._send, self._interval = send, interval
        self.stopping = stopping if stopping is not None else threading.Event()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None
        self.totals: Counter[str] = Counter()  # what every flush of this sender counted

    def start(self) -> ReplySender:
        """Start the thread; returns the sender."""
        self._thread = threading.Thread(target=self._loop, name="outbox-sender", daemon=True)
        self._thread.start()
        return self

    def wake(self, *_args: object) -> None:
        """A reply was queued: flush now (usable as a pipeline ``progress`` callback)."""
        self._woken.set()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to end (a flush in progress stops before its next reply) and wait for
        it."""
        self.stopping.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            self._woken.wait(self._interval)
            self._woken.clear()
            if self.stopping.is_set():
                break
            self.totals.update(self._send())
