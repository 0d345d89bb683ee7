"""Benchmark: a login-guessing flood against the real waitress server, and a staff member's pages.

The campaign is the dashboard benchmark's (40 units, 400 messages written through the tracker
models, ``dashboard.py``) plus one ``[[staff]]`` account. The dashboard is served by waitress with
``intake serve``'s 8 worker threads, in this process. 24 guessing clients, each its own process
and its own source address (127.0.0.2 … 127.0.0.25, so each is a separate ``REMOTE_ADDR``), fetch
the login form and post a wrong password, for ``--seconds`` (default 20) in each of two rounds:
first retrying when the 429 says (Retry-After), then as fast as they are answered, ignoring it.
Meanwhile one logged-in staff client (another process) loads the dashboard page again and again.
Printed per round: password checks made (counted in the server) and per second, the answers the
guessers got (429 counts), and the staff page's median and p95 latency; first the same page
without guessers as the baseline. Each round starts with a fresh throttle.

The clients run on the same machine as the server: in the second round their own work (some
hundreds of requests a second) takes CPU from the server too.

Run: ``python benchmarks/login_flood.py [--seconds 20] [--clients 24] [--page /unit/1]``
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# the client processes import this module again: the server's imports are in main() only
from tests.helpers.http_client import request, session_cookie  # noqa: E402

STAFF, PASSWORD = "张老师", "benchmark-secret-1"
THREADS = 8  # intake serve's default


def login_attempt(url: str, password: str, source: str) -> tuple[int, dict[str, str]]:
    """GET the form, POST the password: the POST's status and headers."""
    _, headers, html = request(url, "GET", "/login", source=source)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    form = {"csrf_token": token, "name": STAFF, "password": password, "next": "/"}
    status, answer, _ = request(url, "POST", "/login", session_cookie(headers), form, source)
    return status, answer


def guesser(url: str, source: str, seconds: float, obey: bool, go, results) -> None:  # noqa: ANN001
    """Once ``go`` is set, guess passwords for ``seconds`` (waiting the Retry-After of a 429 when
    ``obey``); put the statuses' counts on ``results``."""
    results.put(("ready", None))
    go.wait()
    until = time.time() + seconds
    counts: Counter[int] = Counter()
    number = 0
    while time.time() < until:
        number += 1
        try:
            status, headers = login_attempt(url, f"guess-{source}-{number}", source)
        except (OSError, http.client.HTTPException):
            counts[0] += 1
            continue
        counts[status] += 1
        if obey and status == 429:
            time.sleep(min(float(headers.get("Retry-After", "1")), max(0, until - time.time())))
    results.put(("guesser", dict(counts)))


def page_times(url: str, cookie: str, until: float, page: str = "/") -> list[float]:
    """Load ``page`` again and again until ``until``: milliseconds each."""
    times = []
    while time.time() < until:
        started = time.perf_counter()
        status, _, _ = request(url, "GET", page, cookie)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"staff page answered {status}")
    return times


def staff_client(url: str, cookie: str, seconds: float, page: str, go, results) -> None:  # noqa: ANN001
    results.put(("ready", None))
    go.wait()
    results.put(("staff", page_times(url, cookie, time.time() + seconds, page)))


def flood(url: str, cookie: str, args: argparse.Namespace, obey: bool, octet: int):  # noqa: ANN201
    """One round: the guessers' answer counts, the staff page times, the round's start."""
    spawn = multiprocessing.get_context("spawn")
    results, go = spawn.Queue(), spawn.Event()
    workers = [
        spawn.Process(
            target=guesser,
            args=(url, f"127.0.{octet}.{n + 2}", args.seconds, obey, go, results),
        )
        for n in range(args.clients)
    ]
    workers.append(
        spawn.Process(target=staff_client, args=(url, cookie, args.seconds, args.page, go, results))
    )
    for worker in workers:
        worker.start()
    for _ in workers:  # every process started and waiting
        results.get(timeout=300)
    started = time.time()
    go.set()
    gathered = [results.get(timeout=args.seconds + 120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    answers: Counter[int] = Counter()
    staff: list[float] = []
    for kind, value in gathered:
        if kind == "guesser":
            answers.update(value)
        else:
            staff = value
    return answers, staff, started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=24)
    parser.add_argument("--page", default="/", help="the staff page to load (default: /)")
    args = parser.parse_args()
    import dataclasses

    from _servers import percentile
    from dashboard import MESSAGES, UNITS, fill, write_config

    from intake.config import load_settings
    from intake.service import open_pipeline
    from intake.web import auth
    from intake.web.server import BackgroundServer, dashboard_app
    from intake.web.throttle import LoginThrottle

    def latency(times: list[float]) -> str:
        return (
            f"{len(times)} 次，中位数 {statistics.median(times):.1f} ms，"
            f"p95 {percentile(times, 0.95):.1f} ms，最大 {max(times):.1f} ms"
        )

    checks: list[float] = []
    real_verify = auth.verify_password

    def counted(password: str, stored: str) -> bool:  # every password check the server makes
        checks.append(time.time())
        return real_verify(password, stored)

    auth.verify_password = counted
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder))
        config.write_text(
            config.read_text(encoding="utf-8")
            + f'\n[[staff]]\nname = "{STAFF}"\npassword_hash = "{auth.hash_password(PASSWORD)}"\n',
            encoding="utf-8",
        )
        settings = load_settings(config)
        sessions, _ = open_pipeline(settings, reply=False)
        fill(sessions)
        print(f"看板：{UNITS} 个单位、{MESSAGES} 封来信；waitress {THREADS} 个工作线程")
        app = dashboard_app(settings, "127.0.0.1")
        with BackgroundServer(app, threads=THREADS) as server:
            status, headers = login_attempt(server.url, PASSWORD, "127.0.0.1")
            assert status == 303, status
            cookie = session_cookie(headers)
            request(server.url, "GET", args.page, cookie)  # warm up
            alone = page_times(server.url, cookie, time.time() + 5, args.page)
            print(f"无猜测时 {args.page}：{latency(alone)}")
            rounds = (("按 Retry-After 重试", True, 1), ("不理会 Retry-After、连续猜测", False, 2))
            for label, obey, octet in rounds:
                app.extensions["intake"] = dataclasses.replace(
                    app.extensions["intake"], throttle=LoginThrottle()
                )
                answers, staff, started = flood(server.url, cookie, args, obey, octet)
                window = [t for t in checks if started <= t <= started + args.seconds]
                others = sum(v for k, v in answers.items() if k not in (200, 429))
                print(
                    f"{args.clients} 个猜测客户端（{label}，各用一个地址）{args.seconds:.0f} s："
                    f"登录请求 {sum(answers.values())} 次，429 {answers.get(429, 0)} 次，"
                    f"受理（核对密码后拒绝）{answers.get(200, 0)} 次，其他 {others} 次；"
                    f"服务器核对密码 {len(window)} 次，每秒 {len(window) / args.seconds:.2f} 次"
                    "（目标 ≤ 1）"
                )
                print(f"  同时 {args.page}（已登录）：{latency(staff)}（p95 目标 ≤ 300 ms）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
