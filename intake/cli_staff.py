"""Staff commands beyond the core pipeline: the dashboard, the exports, the dashboard password."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from .config import Settings

SettingsOf = Callable[[argparse.Namespace], Settings]


def add_staff_commands(commands: argparse._SubParsersAction, settings_of: SettingsOf) -> None:
    """Add the staff commands to the ``intake`` parser; ``settings_of`` loads the config of a call."""
    serve = commands.add_parser("serve", help="运行报送情况看板网页 / serve the dashboard page")
    serve.add_argument("--host", default="127.0.0.1",
                       help="监听地址；非本机地址需在配置中设置登录密码 / address (non-loopback needs a password)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, default=8, help=argparse.SUPPRESS)
    serve.set_defaults(handler=lambda args: _serve(args, settings_of(args)))

    table = commands.add_parser("export-table", help="导出全校立项结果汇总表 / the university-wide results table")
    table.add_argument("--output", type=Path, required=True, help="输出的 .xlsx 文件")
    table.set_defaults(handler=lambda args: _export_table(args, settings_of(args)))

    cases = commands.add_parser("export-cases", help="导出特色案例汇编 / the featured cases as one .docx")
    cases.add_argument("--output", type=Path, required=True, help="输出的 .docx 文件")
    cases.set_defaults(handler=lambda args: _export_cases(args, settings_of(args)))

    password = commands.add_parser("hash-password",
                                   help="生成看板登录密码的哈希 / hash a password for [dashboard] password_hash")
    password.set_defaults(handler=_hash_password)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from .cli import UserError
    from .web.server import LoginNotConfigured, dashboard_app

    try:
        app = dashboard_app(settings, args.host)
    except LoginNotConfigured as exc:
        raise UserError(str(exc)) from None
    from waitress.server import create_server

    server = create_server(app, host=args.host, port=args.port, threads=args.threads)
    print(f"看板已启动：http://{args.host}:{server.effective_port}/ （按 Ctrl+C 停止）", flush=True)
    try:
        server.run()
    finally:
        server.close()
    return 0


def _export_table(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.consolidated import write_consolidated

    from .service import open_pipeline

    _check_suffix(args.output, ".xlsx")
    sessions, _ = open_pipeline(settings, reply=False)
    with sessions() as session:
        tables = write_consolidated(session, args.output)
    rows = sum(len(t.rows) for t in tables)
    missing = [t.name for t in tables if t.filename is None]
    print(f"已写入 {args.output}：{len(tables) - len(missing)} 个单位、{rows} 个立项方案"
          + (f"；未收到汇总表：{'、'.join(missing)}" if missing else ""))
    return 0


def _export_cases(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.cases_doc import write_cases

    from .service import open_pipeline
    from .views import read_attachment

    _check_suffix(args.output, ".docx")
    sessions, _ = open_pipeline(settings, reply=False)
    with sessions() as session:
        cases, without = write_cases(session, args.output, read_attachment(settings))
    units = len({case.unit for case in cases})
    print(f"已写入 {args.output}：{units} 个单位、{len(cases)} 个特色案例"
          + (f"；无特色案例：{'、'.join(without)}" if without else ""))
    return 0


def _hash_password(_args: argparse.Namespace) -> int:
    import getpass

    from .cli import UserError
    from .web.auth import hash_password

    first = getpass.getpass("看板登录密码：")
    if len(first) < 8:
        raise UserError("密码至少 8 位 / the password needs at least 8 characters")
    if getpass.getpass("再输入一次：") != first:
        raise UserError("两次输入的密码不一致 / the passwords differ")
    print("请把下面两行加入配置文件 / add these lines to the config:")
    print(f'[dashboard]\npassword_hash = "{hash_password(first)}"')
    return 0


def _check_suffix(path: Path, suffix: str) -> None:
    from .cli import UserError

    if path.suffix.lower() != suffix:
        raise UserError(f"输出文件应以 {suffix} 结尾 / the output must end in {suffix}: {path}")
    if not path.parent.exists():
        raise UserError(f"目录不存在 / no such folder: {path.parent}")
