"""The staff's own commands: serve the dashboard, and hash the password its login asks for."""

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
        help="监听地址；非本机地址需在配置中设置登录密码 / address (non-loopback needs a password)",
    )
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, default=8, help=argparse.SUPPRESS)
    serve.set_defaults(handler=_serve)

    password = commands.add_parser(
        "hash-password",
        help="生成看板登录密码的哈希 / hash a password for [dashboard] password_hash",
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
    print("请把下面两行加入配置文件 / add these lines to the config:")
    print(f'[dashboard]\npassword_hash = "{hash_password(first)}"')
    return 0
