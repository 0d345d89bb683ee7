"""Test campaign helpers: settings pointing at the test servers, and the mail units send."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from intake import sampledocs, samples
from intake.config import parse_settings

CHINA = timezone(timedelta(hours=8))
DEADLINE = datetime(2022, 4, 1, 17, 0, 0, tzinfo=CHINA)
DEPT = "zzb@example.edu.cn"

UNITS = [
    ("机械工程与自动化学院分党委", ["机械学院"], ["jixie@example.edu.cn"]),
    ("材料科学与工程学院分党委", ["材料学院"], ["cailiao@example.edu.cn"]),
    ("经济管理学院分党委", ["经管学院"], ["jingguan@example.edu.cn"]),
    ("计算机学院分党委", ["计算机学院"], ["jsj@example.edu.cn"]),
    ("外国语学院分党委", ["外语学院"], ["waiyu@example.edu.cn"]),
]


def make_settings(tmp_path: Path, *, dovecot=None, smtp=None, replies_per_day: int = 50,
                  **limits):  # noqa: ANN001, ANN201
    """Validated settings for a campaign whose mailbox and SMTP server are the test servers."""
    raw: dict = {
        "campaign": {"name": "2022年基层党组织活动方案立项", "deadline": DEADLINE},
        "database": {"url": f"sqlite:///{tmp_path / 'intake.db'}"},
        "storage": {"dir": str(tmp_path / "data")},
        "smtp": {"from": f"党委组织部 <{DEPT}>"},
        "subcommittees": [{"name": n, "aliases": a, "emails": e} for n, a, e in UNITS],
    }
    raw["replies"] = {"max_per_address_per_day": replies_per_day}
    if limits:
        raw["limits"] = limits
    if dovecot is not None:
        raw["mailbox"] = {"host": dovecot.host, "port": dovecot.port, "security": "none",
                          "username": dovecot.user, "password": dovecot.password, "batch_size": 3,
                          "timeout": 10}
    if smtp is not None:
        raw["smtp"].update({"host": smtp.host, "port": smtp.port, "security": "none", "username": "",
                            "password": "", "timeout": 10})
    else:
        raw["smtp"]["outbox_dir"] = str(tmp_path / "outbox")
    return parse_settings(raw, base_dir=tmp_path)


def four_items(unit: str) -> list[tuple[str, bytes]]:
    """The four materials of a unit, as a careful secretary sends them."""
    return [
        (f"2021年{unit}开展支部立项工作总结.docx", sampledocs.summary_docx(unit)),
        (f"{unit}工作总结（盖章扫描件）.pdf", sampledocs.scan_pdf("summary_scan", unit)),
        (f"2022年{unit}活动方案立项结果汇总表.xlsx", sampledocs.table_xlsx(unit)),
        (f"{unit}立项结果汇总表（盖章扫描件）.pdf", sampledocs.scan_pdf("table_scan", unit)),
    ]


def submission(unit: str, sender: str, *, arrived: datetime, date: datetime | None = None,
               attachments: list[tuple[str, bytes]] | None = None, style: str = "outlook",
               subject: str | None = None, message_id: str | None = None) -> bytes:
    """A message from ``sender`` carrying ``attachments`` (default: the four items of ``unit``)."""
    return samples.build_message(
        sender=sender, to=DEPT, subject=subject or f"{unit}立项工作材料", style=style,
        body=f"组织部老师：您好！附件是{unit}的立项工作材料，请查收。", date=date or arrived,
        arrived=arrived, message_id=message_id,
        attachments=four_items(unit) if attachments is None else attachments)
