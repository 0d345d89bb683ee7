"""The demo campaign: a config.toml and a Maildir of realistic mail from 12 sub-committees.

``write_demo_campaign`` is what ``intake demo`` runs first. The mail covers the cases the
service must handle: complete and on time, split over two messages, late (the server's time
says so, the sender's Date: does not), missing scans, content problems, a personal QQ address
with a Foxmail GBK message, a GBK-named zip, a 163 超大附件 link, an auto-reply, a bounce, an
unidentifiable sender, a duplicate delivery, and a corrected table after the deadline.
Writing twice into the same folder rewrites the same files (file names are deterministic and
the Maildir is cleared first).
"""

from __future__ import annotations

import json
import mailbox
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import documents, mail
from .scans import scan_image, scan_pdf, text_pdf

CHINA = timezone(timedelta(hours=8))
DEADLINE = datetime(2022, 4, 1, 17, 0, tzinfo=CHINA)
CAMPAIGN_NAME = "2022年基层党组织活动方案立项"
DEPARTMENT = "党委组织部 <zzb@example.edu.cn>"
NOTICE = "关于开展2022年基层党组织活动方案立项工作的通知"

# (name, aliases, registered addresses)
UNITS: list[tuple[str, list[str], list[str]]] = [
    ("机械工程与自动化学院分党委", ["机械学院", "机自学院"], ["jixie@example.edu.cn"]),
    ("材料科学与工程学院分党委", ["材料学院"], ["cailiao@example.edu.cn"]),
    ("经济管理学院分党委", ["经管学院"], ["jingguan@example.edu.cn"]),
    ("计算机科学与技术学院分党委", ["计算机学院"], ["jisuanji@example.edu.cn"]),
    ("外国语学院分党委", ["外语学院"], ["waiyu@example.edu.cn"]),
    ("机关直属党总支", ["机关党总支"], ["jiguan@example.edu.cn"]),
    ("图书馆直属党总支", ["图书馆党总支"], ["tushuguan@example.edu.cn"]),
    (
        "化学与化工学院分党委",
        ["化工学院", "化学学院"],
        ["huagong@example.edu.cn", "hgxy_dangwei@163.com"],
    ),
    ("马克思主义学院分党委", ["马院"], ["makesi@example.edu.cn"]),
    ("土木工程学院分党委", ["土木学院"], ["tumu@example.edu.cn"]),
    ("电子信息工程学院分党委", ["电子学院", "电信学院"], ["dianzi@example.edu.cn"]),
    ("体育部直属党总支", ["体育部党总支"], ["tiyu@example.edu.cn"]),
]


@dataclass
class DemoCampaign:
    """Where the demo campaign was written."""

    config_path: Path
    maildir: Path
    units: list[str]


def _at(day: int, hour: int, minute: int, second: int = 0, month: int = 3) -> datetime:
    return datetime(2022, month, day, hour, minute, second, tzinfo=CHINA)


def _files(
    unit: str,
    alias: str,
    *,
    summary: bytes | None = None,
    table: bytes | None = None,
    scans: bool = True,
    scan_format: str = "pdf",
) -> list[tuple[str, bytes]]:
    """The four materials of ``unit`` with the file names secretaries give them."""
    files = [
        (f"2021年{unit}开展支部立项工作总结.docx", summary or documents.summary_docx(unit)),
        (
            f"2022年基层党组织活动方案立项结果汇总表（{alias}）.xlsx",
            table or documents.table_xlsx(unit),
        ),
    ]
    if scans and scan_format == "pdf":
        files.insert(1, (f"{alias}工作总结（盖章扫描件）.pdf", scan_pdf("summary_scan", unit)))
        files.append(("汇总表盖章版.pdf", scan_pdf("table_scan", unit)))
    elif scans:
        files.insert(1, ("总结盖章页.jpg", scan_image("summary_scan", unit)))
        files.append(("汇总表盖章页.jpg", scan_image("table_scan", unit)))
    return files


def _letter(unit: str, signer: str = "") -> str:
    return (
        f"组织部老师：\n    您好！现将{unit}2022年基层党组织活动方案立项材料报送，请查收。\n\n"
        f"{signer or unit}\n2022年3月"
    )


def demo_messages() -> list[tuple[datetime, bytes]]:
    """(arrival time, raw bytes) of every demo message, in the order the server received them."""
    to = DEPARTMENT
    unit = {name: (aliases, emails) for name, aliases, emails in UNITS}
    out: list[tuple[datetime, bytes]] = []

    def send(
        name: str,
        style: str,
        date: datetime,
        *,
        subject: str | None = None,
        attachments: list[tuple[str, bytes]] = (),
        sender: str | None = None,
        body: str | None = None,
        delay: int = 23,
        arrived: datetime | None = None,
    ) -> bytes:
        aliases, emails = unit[name]
        arrived = arrived or date + timedelta(seconds=delay)
        raw = mail.build_message(
            sender=sender or f"{name} <{emails[0]}>",
            to=to,
            subject=subject or f"{name}立项材料报送",
            body=body or _letter(name),
            attachments=attachments,
            style=style,
            date=date,
            arrived=arrived,
        )
        out.append((arrived, raw))
        return raw

    out.append(
        (
            _at(20, 8, 0, 41),
            mail.auto_reply(
                sender="马克思主义学院分党委 <makesi@example.edu.cn>",
                to=to,
                subject=NOTICE,
                date=_at(20, 8, 0, 37),
                arrived=_at(20, 8, 0, 41),
                in_reply_to="<notice-2022@example.edu.cn>",
            ),
        )
    )
    out.append(
        (
            _at(20, 8, 1, 5),
            mail.bounce(
                to="zzb@example.edu.cn",
                failed_recipient="tiyubu-old@example.edu.cn",
                original_subject=NOTICE,
                date=_at(20, 8, 1, 2),
                arrived=_at(20, 8, 1, 5),
            ),
        )
    )
    jixie = "机械工程与自动化学院分党委"
    send(jixie, "outlook", _at(28, 9, 15), attachments=_files(jixie, "机械学院"))
    cailiao = "材料科学与工程学院分党委"
    send(
        cailiao,
        "qq",
        _at(29, 14, 2),
        subject="材料学院 工作总结及盖章扫描件",
        attachments=_files(cailiao, "材料学院", scan_format="jpg")[:2],
    )
    send(
        cailiao,
        "qq",
        _at(30, 10, 30),
        subject="材料学院 立项结果汇总表及盖章扫描件",
        attachments=_files(cailiao, "材料学院", scan_format="jpg")[2:],
    )
    tumu = "土木工程学院分党委"
    twice = send(tumu, "netease", _at(30, 9, 0), attachments=_files(tumu, "土木学院"))
    redelivered = (
        b"Received: from relay.example.edu.cn (relay.example.edu.cn [10.20.1.5])\r\n\tby "
        + mail.DEPARTMENT_MX.encode()
        + b" with ESMTP; Wed, 30 Mar 2022 09:02:40 +0800\r\n"
        + twice
    )
    out.append(
        (_at(30, 9, 2, 40), redelivered)
    )  # the same message delivered again (same Message-ID)
    dianzi = "电子信息工程学院分党委"
    send(
        dianzi,
        "qq",
        _at(31, 9, 0),
        attachments=_files(dianzi, "电子学院", table=documents.table_xlsx(dianzi, best=5)),
    )
    jisuanji = "计算机科学与技术学院分党委"
    send(
        jisuanji,
        "outlook",
        _at(31, 11, 0),
        attachments=_files(jisuanji, "计算机学院", scans=False),
        body=_letter(jisuanji) + "\n（盖章扫描件待书记签字后另行发送）",
    )
    waiyu = "外国语学院分党委"
    long_case = [{"title": "外语志愿服务助力国际赛事", "chars": 700, "photos": 2, "captions": True}]
    send(
        waiyu,
        "netease",
        _at(31, 15, 20),
        attachments=_files(
            waiyu,
            "外语学院",
            summary=documents.summary_docx(waiyu, cases=long_case),
            table=documents.table_xlsx(waiyu, best=6),
        ),
    )
    tushu = "图书馆直属党总支"
    archive = mail.zip_cp936(
        [(f"图书馆直属党总支立项材料/{n}", d) for n, d in _files(tushu, "图书馆")]
    )
    send(
        tushu,
        "raw8bit",
        _at(31, 16, 45),
        subject="图书馆直属党总支立项材料",
        attachments=[("图书馆直属党总支立项材料.zip", archive)],
    )
    out.append(
        (
            _at(31, 20, 11, 30),
            mail.build_message(
                sender="lixiaoming1990@163.com",
                to=to,
                subject="材料",
                body="老师好，材料见附件。",
                style="netease",
                attachments=[
                    ("总结.pdf", text_pdf(["2021年开展支部立项工作总结", "一、基本情况", "（略）"]))
                ],
                date=_at(31, 20, 11),
                arrived=_at(31, 20, 11, 30),
            ),
        )
    )
    out.append(
        (
            _at(1, 9, 30, 20, 4),
            mail.netease_big_attachment(
                sender="化工学院党委 <hgxy_dangwei@163.com>",
                to=to,
                subject="化工学院2022年立项材料（超大附件）",
                body="老师您好，材料较大，以超大附件形式发送，请下载。",
                files=[("化工学院立项材料.zip", "58.3M")],
                expires="2022年4月16日 09:30",
                date=_at(1, 9, 30, 0, 4),
                arrived=_at(1, 9, 30, 20, 4),
            ),
        )
    )
    jiguan = "机关直属党总支"
    send(
        jiguan,
        "foxmail",
        _at(1, 10, 5, 0, 4),
        sender="王喆 <wangzhe1986@qq.com>",
        subject="机关直属党总支2022年立项材料（王喆）",
        body=_letter(jiguan, "机关直属党总支 王喆"),
        attachments=_files(jiguan, "机关党总支"),
    )
    jingguan = "经济管理学院分党委"
    send(
        jingguan,
        "foxmail",
        _at(1, 16, 40, 0, 4),
        arrived=_at(1, 17, 20, 5, 4),
        attachments=_files(jingguan, "经管学院"),
    )
    send(
        dianzi,
        "qq",
        _at(2, 9, 30, 0, 4),
        subject="电子学院 更正后的立项结果汇总表",
        body="老师您好，根据要求调整了“最佳”等级的数量，请以此版为准。",
        attachments=[
            (
                "2022年基层党组织活动方案立项结果汇总表（电子学院）更正版.xlsx",
                documents.table_xlsx(dianzi),
            )
        ],
    )
    return sorted(out, key=lambda item: item[0])


def config_text(units: list[tuple[str, list[str], list[str]]] = UNITS) -> str:
    """The demo config.toml (relative paths are relative to its folder)."""

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    lines = [
        "[campaign]",
        f"name = {q(CAMPAIGN_NAME)}",
        f"deadline = {DEADLINE.isoformat()}",
        "",
        "[smtp]",
        f"from = {q(DEPARTMENT)}",
        'outbox_dir = "outbox"',
        "",
        "[database]",
        'url = "sqlite:///intake.db"',
        "",
        "[storage]",
        'dir = "data"',
        "",
    ]
    for name, aliases, emails in units:
        lines += [
            "[[subcommittees]]",
            f"name = {q(name)}",
            f"aliases = [{', '.join(map(q, aliases))}]",
            f"emails = [{', '.join(map(q, emails))}]",
            "",
        ]
    return "\n".join(lines)


def _write_maildir(path: Path, messages: list[tuple[datetime, bytes]]) -> None:
    """A fresh Maildir holding exactly ``messages`` in ``new/``, under deterministic names."""
    mailbox.Maildir(str(path), create=True)
    for sub in ("cur", "new", "tmp"):
        for old in (path / sub).iterdir():
            if old.is_file():
                old.unlink()
    for number, (arrived, raw) in enumerate(messages, start=1):
        name = f"{int(arrived.timestamp())}.M{number:04d}P1000Q{number}.demo-intake"
        temporary = path / "tmp" / name
        temporary.write_bytes(raw.replace(b"\r\n", b"\n"))
        os.replace(temporary, path / "new" / name)


def write_demo_campaign(directory: Path) -> DemoCampaign:
    """Write ``config.toml`` and ``maildir/`` of the demo campaign into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "config.toml"
    config_path.write_text(config_text(), encoding="utf-8")
    maildir = directory / "maildir"
    _write_maildir(maildir, demo_messages())
    return DemoCampaign(
        config_path=config_path, maildir=maildir, units=[name for name, _, _ in UNITS]
    )
