"""The commands that take mail in and answer it: the demo, one IMAP pass, the service and its
status, importing local mail, and staff fixes on stored messages (assign, reprocess,
release-held)."""

from __future__ import annotations

import argparse
import getpass
import logging
from pathlib import Path

from ..config import load_settings, require_mail_passwords
from .errors import UserError
from .options import config_path, settings_of


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``intake`` parser."""
    demo = commands.add_parser(
        "demo", help="生成示例活动并运行整个流程 / run the whole pipeline on sample mail"
    )
    demo.add_argument("directory", nargs="?", type=Path, default=Path("intake-demo"))
    demo.set_defaults(handler=_demo)

    poll = commands.add_parser(
        "poll", help="收取一次 IMAP 新邮件并回复 / one pass over the IMAP mailbox"
    )
    poll.set_defaults(handler=_poll)

    run = commands.add_parser("run", help="持续运行：IDLE 收信、提醒、日报 / the service")
    run.set_defaults(handler=_run)

    status = commands.add_parser(
        "status", help="服务状态：上次收信及错误、队列、定时任务 / service status"
    )
    status.set_defaults(handler=_status)

    release = commands.add_parser(
        "release-held", help="放行因积压过久而暂缓的回执 / send replies held after an outage"
    )
    release.set_defaults(handler=_release_held)

    imp = commands.add_parser("import", help="导入 .eml / Maildir / mbox")
    imp.add_argument("paths", nargs="+", type=Path)
    imp.add_argument("--no-reply", action="store_true", help="不发送回执 / send nothing")
    imp.set_defaults(handler=_import)

    assign = commands.add_parser(
        "assign", help="将未识别来信归入分党委 / file a message under a sub-committee"
    )
    assign.add_argument("message", help="回执编号、Message-ID 或编号 / reference, Message-ID or id")
    assign.add_argument("subcommittee", help="分党委名称或简称 / name or alias")
    assign.add_argument(
        "--force",
        action="store_true",
        help="改归已归入其他单位的来信 / re-file a message filed under another unit",
    )
    assign.set_defaults(handler=_assign)

    reprocess = commands.add_parser(
        "reprocess", help="重新解析失败的来信 / parse failed messages again"
    )
    reprocess.add_argument(
        "--all", action="store_true", help="重新解析全部来信 / every message, not only failed ones"
    )
    reprocess.set_defaults(handler=_reprocess)


def _poll(args: argparse.Namespace) -> int:
    from ..service import open_pipeline, poll_once

    settings = settings_of(args)
    if settings.mailbox is None:
        raise UserError("配置中没有 [mailbox] / no [mailbox] section in the config")
    sessions, pipeline = open_pipeline(settings)
    result = poll_once(settings, pipeline, sessions)
    print(
        f"新邮件 {result.stored} 封，处理 {len(result.outcomes)} 封，回执发送 "
        f"{result.sent.get('sent', 0)} 封，"
        f"待重试 {result.sent.get('retry', 0)} 封"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    from ..lock import AlreadyRunning
    from ..runner import Runner

    path = config_path(args)
    settings = load_settings(path)
    if settings.mailbox is None:
        raise UserError("配置中没有 [mailbox] / no [mailbox] section in the config")
    require_mail_passwords(settings)
    logging.getLogger().setLevel(logging.INFO)
    try:
        return Runner(settings, path).run()
    except AlreadyRunning as exc:
        raise UserError(str(exc)) from None


def _status(args: argparse.Namespace) -> int:
    """The last passes of ``intake run`` and ``intake poll`` (errors included), the queues and the
    scheduled jobs, times in the campaign's time zone (the deadline's)."""
    from tracker import records

    from .. import notices
    from ..runner import JOB_STATE, job_label, next_jobs
    from ..service import (
        POLL_ERROR,
        POLL_FINISHED,
        POLL_STARTED,
        RUN_ERROR,
        RUN_PASS,
        open_pipeline,
    )

    settings = settings_of(args)
    sessions, _ = open_pipeline(settings, reply=False)
    zone = settings.deadline.tzinfo
    with sessions() as session:
        state = records.service_state(session)
        queues = records.counts(session)

    def when(moment) -> str:  # noqa: ANN001 - an aware datetime
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M:%S}"

    def line(label: str, key: str, *, text: bool = True) -> None:
        row = state.get(key)
        value = _without_timestamp(row.value) if row and text else ""
        print(
            f"  {label}：{when(row.updated_at) + ('  ' + value if value else '') if row else '无'}"
        )

    print(f"时间为活动所在时区（{settings.deadline.tzname()}，与截止时间相同）")
    print("收取邮件（intake run，持续运行）")
    line("上次收信", RUN_PASS)
    line("上次错误", RUN_ERROR)
    print("收取邮件（intake poll，单次）")
    line("上次开始", POLL_STARTED, text=False)
    line("上次完成", POLL_FINISHED)
    line("上次错误", POLL_ERROR)
    started, ended = state.get(POLL_STARTED), [state.get(POLL_FINISHED), state.get(POLL_ERROR)]
    if started and all(r is None or r.updated_at < started.updated_at for r in ended):
        print("  （上次 intake poll 尚未结束，或被中断）")
    print(
        f"待处理来信 {queues['pending']}，处理失败 {queues['failed']}，待发送 "
        f"{queues['outbox_queued']}，"
        f"发送失败 {queues['outbox_failed']}，暂缓 {queues['outbox_held']}"
    )
    if settings.notify:  # the work chats, each with its queue and standing refusal
        with sessions() as session:
            print("\n".join(notices.status_lines(settings, session, when)))
    scheduled = dict(next_jobs(settings))
    done = {k.removeprefix(JOB_STATE): row for k, row in state.items() if k.startswith(JOB_STATE)}
    print("定时任务（intake run）：" + ("无" if not scheduled and not done else ""))
    order = sorted(scheduled, key=lambda j: (scheduled[j] is None, scheduled[j] or 0))
    for job_id in order + sorted(set(done) - set(scheduled)):
        upcoming = (
            ("下次 " + when(scheduled[job_id]) if scheduled[job_id] else "暂停")
            if job_id in scheduled
            else "不再运行"
        )
        last = done.get(job_id)
        previous = f"，上次 {when(last.updated_at)} {last.value}" if last else ""
        print(f"  {job_label(job_id)}：{upcoming}{previous}")
    return 0


def _without_timestamp(value: str) -> str:
    """A recorded value without the ISO time older versions put in front (``updated_at`` has it)."""
    from datetime import datetime

    first, _, rest = value.partition(" ")
    try:
        datetime.fromisoformat(first)
    except ValueError:
        return value
    return rest


def _release_held(args: argparse.Namespace) -> int:
    from tracker import records

    from ..service import open_pipeline, send_replies

    settings = settings_of(args)
    require_mail_passwords(settings, imap=False)
    sessions, _ = open_pipeline(settings, reply=False)
    with sessions() as session:
        released = records.release_held_replies(session)
        session.commit()
    sent = send_replies(settings, sessions)
    print(f"放行 {released} 封暂缓的回执，已发送 {sent['sent']} 封")
    return 0


def _import(args: argparse.Namespace) -> int:
    from collections import Counter

    from ..localsource import SKIP_REASONS, iter_messages
    from ..service import import_messages, open_pipeline

    settings = settings_of(args)
    if not args.no_reply:
        require_mail_passwords(settings, imap=False)
    sessions, pipeline = open_pipeline(settings, reply=not args.no_reply)
    skipped = Counter()

    def count_duplicates(outcome) -> None:  # noqa: ANN001 - an Outcome, None for mail stored before
        if outcome is None or outcome.state == "duplicate":
            skipped["duplicate"] += 1

    result = import_messages(
        settings,
        pipeline,
        sessions,
        iter_messages(args.paths, skipped, max_message_bytes=settings.max_message_bytes),
        reply=not args.no_reply,
        progress=count_duplicates,
    )
    print(
        f"导入 {result.stored} 封，处理 {len(result.outcomes)} 封，回执发送 "
        f"{result.sent.get('sent', 0)} 封"
    )
    for reason, label in SKIP_REASONS.items():
        if skipped[reason]:
            print(f"跳过 {skipped[reason]} 个文件：{label}")
    return 0


def _assign(args: argparse.Namespace) -> int:
    from tracker import records
    from tracker.references import reference_mismatch

    from ..service import open_pipeline, send_replies_if_possible
    from ..staff_actions import StaffActions

    settings = settings_of(args)
    sessions, pipeline = open_pipeline(settings)
    with sessions() as session:
        message = records.find_message(session, args.message)
        unit = records.find_subcommittee(session, args.subcommittee)
        if message is None:
            raise UserError(f"找不到来信 / no such message: {args.message}")
        wrong_date = reference_mismatch(args.message, message, settings.deadline.tzinfo)
        if wrong_date:
            raise UserError(f"{wrong_date} / the reference's date is not the message's")
        if unit is None:
            raise UserError(f"找不到分党委 / no such sub-committee: {args.subcommittee}")
        if message.state not in ("processed", "failed", "stored"):
            raise UserError(f"该来信是重复投递，无需归档 / message {args.message} is a duplicate")
        if message.subcommittee_id not in (None, unit.id) and not args.force:
            current = records.subcommittee_by_id(session, message.subcommittee_id)
            raise UserError(
                f"来信 {args.message} 已归入 {current.name}；确需改归 {unit.name}，请加 --force"
                f" / already filed under another unit: add --force to re-file it"
            )
        message_key, unit_id, unit_name = message.id, unit.id, unit.name
    outcome = pipeline.assign(message_key, unit_id)
    StaffActions(settings, sessions).note(
        unit_id, "assign", f"来信 {args.message} 归入本单位", by=getpass.getuser()
    )
    sent = send_replies_if_possible(settings, sessions)
    print(f"已将来信 {args.message} 归入 {unit_name}，登记材料：{', '.join(outcome.items) or '无'}")
    _say_if_queued(sent)
    return 0


def _reprocess(args: argparse.Namespace) -> int:
    from tracker import records

    from ..service import open_pipeline, send_replies_if_possible

    settings = settings_of(args)
    sessions, pipeline = open_pipeline(settings)
    states = ("failed", "processed", "stored") if args.all else ("failed", "stored")
    with sessions() as session:
        ids = [m.id for m in records.messages_in_state(session, *states)]
    outcomes = pipeline.reprocess(ids)
    sent = send_replies_if_possible(settings, sessions)
    failed = sum(o.state == "failed" for o in outcomes)
    print(f"重新处理 {len(outcomes)} 封，仍失败 {failed} 封")
    _say_if_queued(sent)
    return 1 if failed else 0


def _say_if_queued(sent: dict[str, int] | None) -> None:
    """Tell staff the replies wait in the outbox when no SMTP password is at hand."""
    if sent is None:
        print("未设置发信密码，回执已排队，将由下次 intake poll 或运行中的 intake run 发出")


def _demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return run_demo(args.directory)
