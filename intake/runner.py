"""``intake run``: the service left running through the campaign.

The main thread keeps one IMAP connection: it fetches and processes new mail (a sender thread,
``ReplySender``, sends each receipt meanwhile), then waits in IDLE (re-issued before the
server's timeout) or, without IDLE or after a broken connection, sleeps ``poll_interval``.
APScheduler, with its job store in the same database, fires the reminders, the after-deadline
notice, the daily digest and outbox retries. SIGTERM or
SIGINT stops the loop after the message in hand.
"""

from __future__ import annotations

import imaplib
import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import InterfaceError, OperationalError

from notifier.reminders import reminder_key

from .config import Settings
from .imap import ImapError, ImapSource
from .lock import InstanceLock
from .reply_sender import ReplySender
from .service import (
    RUN_ERROR,
    RUN_PASS,
    fetch_and_process,
    note_state,
    one_line,
    open_pipeline,
    send_replies_quietly,
)

log = logging.getLogger(__name__)
JOB_TABLE = "apscheduler_jobs"
JOB_STATE = "job:"
"""The service state key of a scheduled job's last run is ``JOB_STATE + job id``."""


class Runner:
    """One running service over one configuration."""

    def __init__(self, settings: Settings, config_path: Path) -> None:
        self.settings, self.config_path = settings, str(config_path.resolve())
        self.stopping = threading.Event()
        self.sessions = self.pipeline = None
        # each receipt goes while the next message is parsed, and queued ones every poll interval
        self.sender = ReplySender(
            lambda: send_replies_quietly(
                self.settings, self.sessions, should_stop=self.stopping.is_set
            ),
            interval=settings.service.poll_interval,
            stopping=self.stopping,
        )

    def stop(self, *_args: object) -> None:
        """Ask the loop to finish the message in hand and end."""
        if not self.stopping.is_set():
            log.info("服务正在停止：处理完手头的来信后退出")
        self.stopping.set()
        self.sender.wake()

    def run(self) -> int:
        """Hold the instance lock, start the scheduler and serve mail until stopped."""
        with InstanceLock(self.settings):
            self.sessions, self.pipeline = open_pipeline(self.settings)
            self.pipeline.pool.warm()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self.stop)
            scheduler = self._scheduler()
            scheduler.start()
            log.info(
                "服务已启动 folder=%s deadline=%s",
                self.settings.mailbox.folder,
                self.settings.deadline.isoformat(),
            )
            self.sender.start()
            try:
                self._mail_loop()
            finally:
                self.stop()
                self.sender.stop(timeout=60)
                scheduler.shutdown(wait=True)
                log.info("服务已停止")
        return 0

    # -- mail --------------------------------------------------------------------------------
    def _mail_loop(self) -> None:
        service = self.settings.service
        while not self.stopping.is_set():
            try:
                with ImapSource(
                    self.settings.mailbox, max_message_bytes=self.settings.max_message_bytes
                ) as source:
                    idle = source.supports_idle
                    while not self.stopping.is_set():
                        if self._pass(source):
                            continue  # mail that came meanwhile is not announced: look again
                        if not idle:
                            self.stopping.wait(service.poll_interval)
                        elif source.wait_for_new_mail(service.idle_timeout, self.stopping.is_set):
                            log.info("IDLE：服务器通知有新邮件")
                        elif not self.stopping.is_set():
                            log.info("IDLE：%s 秒内无新邮件，重新等待", service.idle_timeout)
            except (ImapError, OSError, imaplib.IMAP4.error) as exc:
                self._note_quietly(RUN_ERROR, one_line(exc))
                log.warning("邮箱无法连接，%s 秒后重试：%s", service.poll_interval, exc)
                self.stopping.wait(service.poll_interval)
            except (OperationalError, InterfaceError) as exc:
                # the database went away: the message in hand stays stored, nothing is lost
                self._note_quietly(RUN_ERROR, one_line(exc))
                log.warning(
                    "数据库暂时不可用，%s 秒后重试：%s", service.poll_interval, one_line(exc)
                )
                self.stopping.wait(service.poll_interval)

    def _pass(self, source: ImapSource) -> int:
        """One pass over the new mail; how many messages it stored."""
        result = fetch_and_process(
            self.settings,
            self.pipeline,
            self.sessions,
            source,
            progress=self.sender.wake,  # fetch, parse and send overlap
            should_stop=self.stopping.is_set,
        )
        self._note(RUN_PASS, f"新邮件 {result.stored} 封")
        return result.stored

    def _note(self, key: str, value: str) -> None:
        note_state(self.sessions, key, value)

    def _note_quietly(self, key: str, value: str) -> None:
        """Record for ``intake status`` when the database takes it (it may be the one failing)."""
        try:
            self._note(key, value)
        except Exception:  # noqa: BLE001 - the record is for status only
            log.warning("无法记录服务状态 %s（数据库不可用）", key)

    def _job_done(self, event: JobExecutionEvent) -> None:
        """Record a scheduled job's run, or its error, for ``intake status``."""
        outcome = f"失败：{one_line(event.exception)}" if event.exception else "完成"
        try:
            self._note(JOB_STATE + event.job_id, outcome)
        except Exception:  # noqa: BLE001 - the record is for status only; never stop the scheduler
            log.exception("无法记录定时任务 %s 的运行结果", event.job_id)

    # -- schedule ----------------------------------------------------------------------------
    def _scheduler(self) -> BackgroundScheduler:
        service, deadline = self.settings.service, self.settings.deadline
        scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(url=self.settings.database_url, tablename=JOB_TABLE)
            },
            timezone=deadline.tzinfo,
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        scheduler.add_listener(self._job_done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        grace = int(timedelta(hours=service.reminder_grace_hours).total_seconds())
        now = datetime.now(UTC)
        for offset in service.reminders:
            self._once(scheduler, now, deadline - offset, reminder_key(offset), grace)
        if service.after_deadline_notice is not None:
            self._once(
                scheduler, now, deadline + service.after_deadline_notice, reminder_key(None), grace
            )
        if service.digest_time is not None and service.staff:
            scheduler.add_job(
                "intake.jobs:send_digest",
                CronTrigger(
                    hour=service.digest_time.hour,
                    minute=service.digest_time.minute,
                    timezone=deadline.tzinfo,
                ),
                args=[self.config_path],
                id="digest",
                replace_existing=True,
                misfire_grace_time=grace,
            )
        scheduler.add_job(
            "intake.jobs:flush",
            IntervalTrigger(seconds=30),
            args=[self.config_path],
            id="outbox",
            replace_existing=True,
            misfire_grace_time=60,
        )
        return scheduler

    def _once(
        self, scheduler: BackgroundScheduler, now: datetime, when: datetime, key: str, grace: int
    ) -> None:
        """A one-off job; a time already past within the grace period runs at once (at most once per
        unit)."""
        job_id = f"reminder-{key}"
        if when < now - timedelta(seconds=grace):
            if scheduler.get_job(job_id):
                scheduler.remove_job(job_id)
            return
        scheduler.add_job(
            "intake.jobs:send_reminder",
            DateTrigger(run_date=max(when, now)),
            args=[self.config_path, key],
            id=job_id,
            replace_existing=True,
            misfire_grace_time=grace,
        )


def next_jobs(settings: Settings) -> list[tuple[str, datetime | None]]:
    """The scheduled jobs and when each runs next, read from the job store (for ``intake
    status``)."""
    store = SQLAlchemyJobStore(url=settings.database_url, tablename=JOB_TABLE)
    try:
        store.start(None, "default")
    except Exception:  # noqa: BLE001 - no job table yet: nothing scheduled
        return []
    try:
        return [(job.id, job.next_run_time) for job in store.get_all_jobs()]
    finally:
        store.shutdown()


def job_label(job_id: str) -> str:
    """A scheduled job's name in Chinese, for ``intake status``; an unknown id stays as it is."""
    names = {
        "digest": "工作人员日报",
        "outbox": "发送待发回执（含重试）",
        f"reminder-{reminder_key(None)}": "发送逾期提醒",
    }
    if job_id in names:
        return names[job_id]
    amount = job_id.removeprefix("reminder-before-")
    units = {"d": "天", "h": "小时", "m": "分钟", "s": "秒"}
    if amount != job_id and amount[:-1].isdigit() and amount[-1:] in units:
        return f"发送提醒（截止前 {amount[:-1]} {units[amount[-1]]}）"
    return job_id
