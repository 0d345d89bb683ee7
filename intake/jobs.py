"""The scheduled jobs of ``intake run``: reminders, the after-deadline notice, the staff digest,
the outbox.

APScheduler keeps these jobs in the database, so each is a module-level function whose only
argument is the config path: it loads the settings itself and can run after a restart.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from notifier.digest import queue_digest
from notifier.reminders import queue_reminders

from .config import load_settings
from .reporting import report_data
from .service import open_pipeline, send_replies

log = logging.getLogger(__name__)


def send_reminder(config_path: str, key: str) -> int:
    """Queue and send reminder ``key`` to units still missing something; returns how many units."""
    settings, sessions = _open(config_path)
    now = datetime.now(UTC)
    with sessions() as session:
        queued = queue_reminders(
            session,
            key=key,
            campaign=settings.campaign_name,
            deadline=settings.deadline,
            sender=settings.smtp.sender,
            now=now,
            rules=settings.rules,
        )
        session.commit()
    count = len(queued.reminders)
    send_replies(settings, sessions)
    log.info("定时任务：催交提醒 key=%s units=%d", key, count)
    return count


def send_digest(config_path: str) -> int:
    """Queue and send today's digest to the staff addresses (once a day); returns how many were
    queued."""
    from tracker import records

    settings, sessions = _open(config_path)
    if not settings.service.staff and not settings.notify:
        return 0
    now = datetime.now(UTC)
    key = f"digest-{now.astimezone(settings.deadline.tzinfo):%Y-%m-%d}"
    with sessions() as session:
        if key in records.service_state(session):
            return 0
        report = report_data(settings, sessions, now)
        queued = queue_digest(
            session,
            report=report,
            staff=list(settings.service.staff),
            now=now,
            sender=settings.smtp.sender,
            deadline=settings.deadline,
            xlsx=_workbook_bytes(report),
            notify=settings.notify,
        )
        records.set_service_state(session, key, str(queued), now)
        session.commit()
    send_replies(settings, sessions)
    log.info("定时任务：日报 staff=%d", queued)
    return queued


def flush(config_path: str) -> dict[str, int]:
    """Send whatever is due in the outbox (retries after backoff)."""
    settings, sessions = _open(config_path)
    return send_replies(settings, sessions)


@lru_cache(maxsize=4)
def _open(config_path: str):  # noqa: ANN202 - (settings, session factory)
    """Settings and database of a config, opened once per process (jobs run every 30 seconds)."""
    settings = load_settings(Path(config_path))
    sessions, _ = open_pipeline(settings, reply=False)
    return settings, sessions


def _workbook_bytes(report: dict) -> bytes:
    """The xlsx report staff forward, as bytes for the digest's attachment."""
    import io

    from tracker.xlsx_report import report_workbook

    buffer = io.BytesIO()
    report_workbook(report).save(buffer)
    return buffer.getvalue()
