"""Benchmark: the dashboard page and the xlsx report with 40 units and 400 messages.

The database (SQLite, in a temporary folder) is filled directly through the tracker models,
not the mail pipeline (parsing 400 messages with scans takes minutes and is not what is
measured here): 380 messages filed under the 40 units, each carrying one item version with
realistic facts (table rows, featured cases) and some problems, plus 20 unassigned messages
and one reply per message. Then the page is served by waitress on a free port and fetched
over HTTP N times; the xlsx report and the merged 汇总表 are written and timed.

Run: ``python benchmarks/dashboard.py [--requests 50]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.config import load_settings  # noqa: E402
from intake.reporting import report_data  # noqa: E402
from intake.samples import documents  # noqa: E402
from intake.service import open_pipeline  # noqa: E402
from intake.web.server import BackgroundServer, dashboard_app  # noqa: E402
from parsers.vocabulary import ITEM_KEYS  # noqa: E402
from tracker import records  # noqa: E402
from tracker.consolidated import write_consolidated  # noqa: E402
from tracker.models import ItemVersion, Message, OutboxEntry  # noqa: E402
from tracker.xlsx_report import write_report_xlsx  # noqa: E402

CHINA = timezone(timedelta(hours=8))
DEADLINE = datetime(2022, 4, 1, 17, 0, tzinfo=CHINA)
UNITS = 40
MESSAGES = 400
UNASSIGNED = 20


def write_config(folder: Path) -> Path:
    """A config with 40 sub-committees, SQLite and a file outbox."""
    units = "".join(
        f'[[subcommittees]]\nname = "第{n + 1}学院分党委"\naliases = ["第{n + 1}学院"]\n'
        f'emails = ["unit{n + 1}@example.edu.cn"]\n'
        for n in range(UNITS)
    )
    path = folder / "config.toml"
    path.write_text(
        f"""[campaign]
name = "2022年基层党组织活动方案立项"
deadline = {DEADLINE.isoformat()}
[database]
url = "sqlite:///bench.db"
[storage]
dir = "data"
[smtp]
from = "党委组织部 <zzb@example.edu.cn>"
outbox_dir = "outbox"
"""
        + units,
        encoding="utf-8",
    )
    return path


def fill(sessions) -> None:  # noqa: ANN001 - a sessionmaker
    """400 messages: 380 filed (one item version each, with facts), 20 unassigned; one reply
    each."""
    rows = documents.sample_rows(12)
    cases = [
        {
            "title": "党建引领志愿服务进社区",
            "chars": 420,
            "photos": 2,
            "captions": 2,
            "text": "案例正文" * 100,
        }
    ]
    problem = {
        "code": "best_ratio_exceeded",
        "message": (
            "汇总表《汇总表.xlsx》共 12 个方案，其中“最佳” 6 个，超过 30%（最多 4 个），请调整。"
        ),
    }
    with sessions() as session:
        units = records.all_subcommittees(session)
        for number in range(MESSAGES):
            arrived = DEADLINE - timedelta(days=5) + timedelta(minutes=29 * number)
            unit = units[number % UNITS] if number < MESSAGES - UNASSIGNED else None
            message = Message(
                source="INBOX",
                uidvalidity=1,
                uid=number + 1,
                raw_sha256=f"{number:064x}",
                size=2_000_000,
                received_at=arrived,
                stored_at=arrived,
                state="processed",
                message_id=f"<m{number}@example.edu.cn>",
                from_addr=f"sender{number}@qq.com",
                from_name="王老师",
                subject=f"立项材料 第{number}封",
                subcommittee_id=unit.id if unit else None,
                identified_by="registered_address" if unit else None,
                problems=[],
                facts={
                    "candidates": [],
                    "files": [
                        {"filename": "材料.docx", "kind": "summary", "size": 1000, "problems": []}
                    ],
                },
            )
            if unit is not None and (number // UNITS) % 4 != 3:
                item = ITEM_KEYS[(number // UNITS) % 4]
                facts = (
                    {"rows": rows, "unit": unit.name}
                    if item == "table"
                    else {"title": "工作总结", "cases": cases}
                    if item == "summary"
                    else {}
                )
                message.versions.append(
                    ItemVersion(
                        subcommittee_id=unit.id,
                        item=item,
                        filename=f"{item}.docx",
                        sha256=f"{number:064x}",
                        size=100_000,
                        received_at=arrived,
                        facts=facts,
                        problems=[problem] if item == "table" and number % 3 == 0 else [],
                    )
                )
            session.add(message)
            session.flush()
            session.add(
                OutboxEntry(
                    message_id=message.id,
                    kind="receipt",
                    recipient=message.from_addr,
                    subject="【自动回执】" + message.subject,
                    smtp_message_id=f"<r{number}@x>",
                    body=b"Subject: x\r\n\r\nreceipt",
                    state="sent",
                    created_at=arrived,
                    sent_at=arrived,
                )
            )
        session.commit()


def timed_get(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    """Fill, serve, fetch and write; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(write_config(Path(folder)))
        sessions, _ = open_pipeline(settings, reply=False)
        started = time.perf_counter()
        fill(sessions)
        print(
            f"数据准备：{UNITS} 个单位、{MESSAGES} 封来信（直接写入 tracker 模型），用时 "
            f"{time.perf_counter() - started:.2f} s"
        )
        with BackgroundServer(dashboard_app(settings, "127.0.0.1")) as server:
            timed_get(server.url + "/")  # warm up templates and the connection pool
            page = [timed_get(server.url + "/") for _ in range(args.requests)]
            unit = [timed_get(server.url + "/unit/1") for _ in range(args.requests)]
        print(
            f"看板首页（HTTP，{args.requests} 次）：中位数 {statistics.median(page):.1f} ms，"
            f"最大 {max(page):.1f} ms"
        )
        print(f"单位详情页（HTTP，{args.requests} 次）：中位数 {statistics.median(unit):.1f} ms")
        started = time.perf_counter()
        write_report_xlsx(report_data(settings, sessions), Path(folder) / "report.xlsx")
        print(f"xlsx 报表（查询 + 写入）：{time.perf_counter() - started:.3f} s")
        started = time.perf_counter()
        with sessions() as session:
            write_consolidated(session, Path(folder) / "table.xlsx")
        print(f"全校汇总表 xlsx：{time.perf_counter() - started:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
