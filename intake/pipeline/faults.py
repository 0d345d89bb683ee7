"""Crash points for the fault tests: the process kills itself at a named step of the pipeline.

``INTAKE_KILL_AT="stored:37"`` makes the process send itself SIGKILL the 37th time it passes
the point ``stored``. Without that variable (in every real deployment) ``reached`` does nothing.
The points, in the order a message passes them: ``fetched`` (bytes in memory, not stored),
``stored`` (raw message committed), ``parsed`` (MIME parsed, nothing recorded), ``recorded``
(item versions written, transaction open), ``queued`` (processing and reply committed),
``sending`` (reply about to go to SMTP), ``sent_unrecorded`` (SMTP accepted, outbox not yet
updated: the one window that can repeat a reply), and for a work-chat notice (``notifier.webhooks``)
``notice_sending`` and ``notice_sent_unrecorded`` (its one window).
"""

from __future__ import annotations

import os
import signal

POINTS = ("fetched", "stored", "parsed", "recorded", "queued", "sending", "sent_unrecorded")
POINTS += ("notice_sending", "notice_sent_unrecorded")  # the same two steps of a work-chat notice


def _parse(spec: str | None) -> tuple[str, int] | None:
    if not spec:
        return None
    point, _, count = spec.partition(":")
    if point not in POINTS or not count.isdigit():
        raise ValueError(f"INTAKE_KILL_AT must be one of {POINTS} with ':N', not {spec!r}")
    return point, int(count)


_TARGET = _parse(os.environ.get("INTAKE_KILL_AT"))
_passed: dict[str, int] = {}


def reached(point: str) -> None:
    """Mark that the process passed ``point``; kill it if this is the configured crash."""
    if _TARGET is None or _TARGET[0] != point:
        return
    _passed[point] = _passed.get(point, 0) + 1
    if _passed[point] == _TARGET[1]:
        os.kill(os.getpid(), signal.SIGKILL)
