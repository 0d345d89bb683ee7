"""Test campaign helpers: settings pointing at the test servers, and the mail units send."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from intake.config import load_settings
from intake.samples import documents, mail, scans

CHINA = timezone(timedelta(hours=8))
ROOT = Path(__file__).resolve().parents[2]
INTAKE = [sys.executable, "-m", "intake"]
"""The command line of this checkout, whatever version is installed."""
INTAKE_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
}
DEADLINE = datetime(2022, 4, 1, 17, 0, 0, tzinfo=CHINA)
DEPT = "zzb@example.edu.cn"

UNITS = [
    ("机械工程与自动化学院分党委", ["机械学院"], ["jixie@example.edu.cn"]),
    ("材料科学与工程学院分党委", ["材料学院"], ["cailiao@example.edu.cn"]),
    ("经济管理学院分党委", ["经管学院"], ["jingguan@example.edu.cn"]),
    ("计算机学院分党委", ["计算机学院"], ["jsj@example.edu.cn"]),
    ("外国语学院分党委", ["外语学院"], ["waiyu@example.edu.cn"]),
]


def later(minutes: int = 10):  # noqa: ANN201 - a clock
    """A clock ``minutes`` ahead of now, for retries that wait with backoff."""
    return lambda: datetime.now(UTC) + timedelta(minutes=minutes)


def write_config(
    tmp_path: Path,
    *,
    dovecot=None,
    smtp=None,
    replies_per_day: int = 50,  # noqa: ANN001
    deadline: datetime = DEADLINE,
    service: str = "",
    database_url: str = "sqlite:///intake.db",
    security: str = "",
    extra: str = "",
    **limits: int,
) -> Path:
    """A config.toml for a campaign whose mailbox and SMTP server are the test servers.

    Without ``smtp`` the replies go to ``outbox/`` as .eml files; ``extra`` is more TOML (a
    campaign's ``[rules]`` or ``[[items]]``).
    """
    units = "".join(
        f'[[subcommittees]]\nname = "{n}"\naliases = {_toml_list(a)}\nemails = {_toml_list(e)}\n'
        for n, a, e in UNITS
    )
    text = f"""
[campaign]
name = "2022年基层党组织活动方案立项"
deadline = {deadline.isoformat()}
[database]
url = "{database_url}"
[storage]
dir = "data"
[replies]
max_per_address_per_day = {replies_per_day}
"""
    if service:
        text += "[service]\n" + service.strip() + "\n"
    if security:
        text += "[security]\n" + security.strip() + "\n"
    if limits:
        text += "[limits]\n" + "".join(f"{key} = {value}\n" for key, value in limits.items())
    if dovecot is not None:
        text += (
            f'[mailbox]\nhost = "{dovecot.host}"\nport = {dovecot.port}\nsecurity = "none"\n'
            f'username = "{dovecot.user}"\npassword = "{dovecot.password}"\n'
            "batch_size = 3\ntimeout = 10\n"
        )
    text += f'[smtp]\nfrom = "党委组织部 <{DEPT}>"\n'
    if smtp is not None:
        text += (
            f'host = "{smtp.host}"\nport = {smtp.port}\nsecurity = "none"\ntimeout = 10\n'
            "max_per_minute = 6000\n"
        )
    else:
        text += 'outbox_dir = "outbox"\n'
    path = tmp_path / "config.toml"
    path.write_text(text + extra.strip() + "\n" + units, encoding="utf-8")
    path.chmod(0o600)  # it holds the test mailbox's password
    return path


def make_settings(tmp_path: Path, **options):  # noqa: ANN003, ANN201
    """Validated settings from ``write_config(tmp_path, **options)``."""
    return load_settings(write_config(tmp_path, **options))


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def four_items(unit: str) -> list[tuple[str, bytes]]:
    """The four materials of a unit, as a careful secretary sends them."""
    return [
        (f"2021年{unit}开展支部立项工作总结.docx", documents.summary_docx(unit)),
        (f"{unit}工作总结（盖章扫描件）.pdf", scans.scan_pdf("summary_scan", unit)),
        (f"2022年{unit}活动方案立项结果汇总表.xlsx", documents.table_xlsx(unit)),
        (f"{unit}立项结果汇总表（盖章扫描件）.pdf", scans.scan_pdf("table_scan", unit)),
    ]


def submission(
    unit: str,
    sender: str,
    *,
    arrived: datetime,
    date: datetime | None = None,
    attachments: list[tuple[str, bytes]] | None = None,
    style: str = "outlook",
    subject: str | None = None,
    message_id: str | None = None,
) -> bytes:
    """A message from ``sender`` carrying ``attachments`` (default: the four items of ``unit``)."""
    return mail.build_message(
        sender=sender,
        to=DEPT,
        subject=subject or f"{unit}立项工作材料",
        style=style,
        body=f"组织部老师：您好！附件是{unit}的立项工作材料，请查收。",
        date=date or arrived,
        arrived=arrived,
        message_id=message_id,
        attachments=four_items(unit) if attachments is None else attachments,
    )
