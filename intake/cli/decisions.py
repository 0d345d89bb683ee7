"""Staff decisions from the command line (decide, mark, extend, exempt, undo, log) and the
reminder sent now (remind). None of them needs a mailbox password: a mail a decision causes is
queued and sent by the next ``poll`` or by the running service."""

from __future__ import annotations

import argparse
import getpass

from .errors import UserError
from .options import settings_of


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the staff decision commands and ``remind``."""
    decide = commands.add_parser(
        "decide",
        help="核对待定事项或免于更正（accept），或判为需更正（reject）/ settle a verdict",
    )
    decide.add_argument("unit", help="分党委名称或简称")
    decide.add_argument("item", help="材料项：summary / 工作总结（电子版）…")
    choice = decide.add_mutually_exclusive_group(required=True)
    choice.add_argument("--accept", metavar="CODE", help="核对无误或免于更正的问题代码")
    choice.add_argument("--reject", metavar="CODE", help="判为需更正的待核对代码（将通知该单位）")
    _common(decide)
    decide.set_defaults(handler=_decide)

    mark = commands.add_parser("mark", help="登记线下（纸质、当面）收到的材料 / item handed in")
    mark.add_argument("unit")
    mark.add_argument("item")
    mark.add_argument("--received-at", required=True, help="收到时间，如 2022-04-01T16:30")
    _common(mark)
    mark.set_defaults(handler=_mark)

    extend = commands.add_parser("extend", help="为某单位延长截止时间 / a unit's own deadline")
    extend.add_argument("unit")
    extend.add_argument("--until", required=True, help="新的截止时间，如 2022-04-03T17:00")
    _common(extend)
    extend.set_defaults(handler=_extend)

    exempt = commands.add_parser(
        "exempt", help="某单位免交某项材料 / an item this unit need not send"
    )
    exempt.add_argument("unit")
    exempt.add_argument("item")
    _common(exempt)
    exempt.set_defaults(handler=_exempt)

    undo = commands.add_parser("undo", help="撤销一项工作人员决定 / take a decision back")
    undo.add_argument("decision", help="决定编号（见 intake log）")
    undo.add_argument("--by", default=None, help="撤销人（默认：当前登录名）")
    undo.set_defaults(handler=_undo)

    log = commands.add_parser("log", help="列出全部工作人员决定 / every staff decision")
    log.set_defaults(handler=_log)

    remind = commands.add_parser("remind", help="立即向尚缺材料的单位发送催交提醒 / remind now")
    remind.add_argument("units", nargs="*", metavar="UNIT", help="只提醒这些单位（默认：全部）")
    remind.add_argument("--dry-run", action="store_true", help="只显示将发出的提醒，不发送")
    remind.set_defaults(handler=_remind)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", required=True, help="理由（记入操作记录）")
    parser.add_argument("--by", default=None, help="决定人（默认：当前登录名）")


def _actions(args: argparse.Namespace):  # noqa: ANN202 - a StaffActions
    from ..pipeline.driver import Pipeline
    from ..service import open_database
    from ..staff_actions import StaffActions

    settings = settings_of(args)
    sessions = open_database(settings.database_url)
    return StaffActions(settings, sessions, Pipeline(settings, sessions, reply=True))


def _by(args: argparse.Namespace) -> str:
    return args.by or getpass.getuser()


def _run(action) -> object:  # noqa: ANN001 - a call of StaffActions
    from ..staff_actions import DecisionError

    try:
        return action()
    except DecisionError as exc:
        raise UserError(str(exc)) from None


def _decide(args: argparse.Namespace) -> int:
    actions = _actions(args)
    decision = _run(
        lambda: actions.decide(
            args.unit,
            args.item,
            accept=args.accept,
            reject=args.reject,
            reason=args.reason,
            by=_by(args),
        )
    )
    _done(
        decision,
        "已记录" + ("，更正通知已排队，将由下一次 poll 或运行中的服务发出" if args.reject else ""),
    )
    return 0


def _mark(args: argparse.Namespace) -> int:
    actions = _actions(args)
    decision = _run(
        lambda: actions.mark(
            args.unit, args.item, received_at=args.received_at, reason=args.reason, by=_by(args)
        )
    )
    _done(decision, "已登记为线下收到")
    return 0


def _extend(args: argparse.Namespace) -> int:
    actions = _actions(args)
    decision = _run(
        lambda: actions.extend(args.unit, until=args.until, reason=args.reason, by=_by(args))
    )
    _done(decision, "已延长截止时间")
    return 0


def _exempt(args: argparse.Namespace) -> int:
    actions = _actions(args)
    decision = _run(lambda: actions.exempt(args.unit, args.item, reason=args.reason, by=_by(args)))
    _done(decision, "已登记为免交")
    return 0


def _undo(args: argparse.Namespace) -> int:
    actions = _actions(args)
    decision = _run(lambda: actions.undo(args.decision, by=_by(args)))
    print(f"已撤销决定 #{decision.id}")
    return 0


def _done(decision, what: str) -> None:  # noqa: ANN001 - a StaffDecision
    print(f"决定 #{decision.id}：{what}（可用 intake undo {decision.id} 撤销）")


def _log(args: argparse.Namespace) -> int:
    from tracker import records, standing
    from tracker.decisions import decision_view

    from ..service import open_database

    settings = settings_of(args)
    zone = settings.deadline.tzinfo
    with open_database(settings.database_url)() as session:
        units = {u.id: u.name for u in records.all_subcommittees(session)}
        decisions = standing.all_decisions(session)
        if not decisions:
            print("尚无工作人员决定")
        for decision in decisions:
            view = decision_view(decision, zone)
            what = view["label"]
            if decision.item:
                what += f" {settings.rules.label(decision.item)}"
            if decision.code:
                what += f" {decision.code}"
            if view["moment"]:
                what += f" {view['moment']}"
            line = (
                f"#{decision.id}  {view['at']}  {decision.decided_by}  "
                f"{units.get(decision.subcommittee_id, '')}  {what}  理由：{decision.reason}"
            )
            if decision.undone_at:
                line += f"  〔已于 {view['undone_at']} 由 {decision.undone_by} 撤销〕"
            print(line)
    return 0


def _remind(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from notifier.reminders import MANUAL_KEY, plan_reminders, queue_reminders
    from tracker import records

    from ..config import ConfigError
    from ..service import open_database, send_replies
    from ..staff_actions import StaffActions

    settings = settings_of(args)
    sessions = open_database(settings.database_url)
    now = datetime.now(UTC)
    with sessions() as session:
        unit_ids = None
        if args.units:
            unit_ids = []
            for name in args.units:
                unit = records.find_subcommittee(session, name)
                if unit is None:
                    raise UserError(f"找不到分党委 / no such sub-committee: {name}")
                unit_ids.append(unit.id)
        options = dict(
            key=MANUAL_KEY,
            campaign=settings.campaign_name,
            deadline=settings.deadline,
            now=now,
            rules=settings.rules,
            unit_ids=unit_ids,
        )
        if args.dry_run:
            plan = plan_reminders(session, **options)
        else:
            plan = queue_reminders(session, sender=settings.smtp.sender, **options)
            session.commit()
        for reminder in plan.reminders:
            print(f"—— 致 {reminder.unit}（{', '.join(reminder.addresses)}）：{reminder.subject}")
            if args.dry_run:
                print(reminder.body)
        for unit, why in plan.skipped:
            print(f"—— 不提醒 {unit}：{why}")
        if args.dry_run:
            print(f"（试运行）将提醒 {len(plan.reminders)} 个单位，未发送")
            return 0
    count = len(plan.reminders)
    actions = StaffActions(settings, sessions)
    for reminder in plan.reminders:
        actions.note(reminder.unit_id, "remind", reminder.subject, by=getpass.getuser())
    try:
        sent = send_replies(settings, sessions).get("sent", 0)
        print(f"已向 {count} 个单位发出催交提醒（发送 {sent} 封）")
    except ConfigError as exc:
        print(f"已为 {count} 个单位排队催交提醒，将由下一次 poll 或运行中的服务发出（{exc}）")
    return 0
