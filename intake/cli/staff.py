"""The staff's own commands: serve the dashboard, and hash a password for a ``[[staff]]``
account."""

from __future__ import annotations

import argparse

from .errors import UserError
from .options import settings_of


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``intake`` parser."""
    serve = commands.add_parser("serve", help="运行报送情况看板网页 / serve the dashboard page")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="监听地址；非本机地址需在配置中设置 [[staff]] 账号 / address (non-loopback needs "
        "a [[staff]] account)",
    )
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, default=8, help=argparse.SUPPRESS)
    serve.set_defaults(handler=_serve)

    password = commands.add_parser(
        "hash-password",
        help="生成看板账号密码的哈希 / hash a password for a [[staff]] account's password_hash",
    )
    password.set_defaults(handler=_hash_password)


def _serve(args: argparse.Namespace) -> int:
    from ..web.server import LoginNotConfigured, dashboard_app

    settings = settings_of(args)
    try:
        app = dashboard_app(settings, args.host)
    except LoginNotConfigured as exc:
        raise UserError(str(exc)) from None
    from waitress.server import create_server

    server = create_server(app, host=args.host, port=args.port, threads=args.threads)
    print(f"看板已启动：http://{args.host}:{server.effective_port}/ （按 Ctrl+C 停止）", flush=True)
    if app.extensions["intake"].send_replies is None:
        print(
            "未设置发信密码：看板上归档引起的回执将排队，由下次 intake poll 或 intake run 发出",
            flush=True,
        )
    try:
        server.run()
    finally:
        server.close()
    return 0


def _hash_password(_args: argparse.Namespace) -> int:
    import getpass

    from ..web.auth import hash_password

    first = getpass.getpass("看板登录密码：")
    if len(first) < 8:
        raise UserError("密码至少 8 位 / the password needs at least 8 characters")
    if getpass.getpass("再输入一次：") != first:
        raise UserError("两次输入的密码不一致 / the passwords differ")
    print("请把下面几行加入配置文件，并填写姓名和角色 / add these lines to the config:")
    print(
        f'[[staff]]\nname = "张老师"\npassword_hash = "{hash_password(first)}"\n'
        'role = "editor"   # "editor" 可归档和决定 / "viewer" 只读'
    )
    return 0
