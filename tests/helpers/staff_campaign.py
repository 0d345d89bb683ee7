"""A staff campaign for the export and dashboard tests: five units and a stranger through the real
pipeline, and a parser of the report page's cells and counts."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from intake.cli import main
from intake.samples import documents, mail, scans
from tests.helpers.campaign import DEADLINE, DEPT, submission, write_config

JIXIE, CAILIAO, JINGGUAN, JSJ, WAIYU = (
    "机械工程与自动化学院分党委",
    "材料科学与工程学院分党委",
    "经济管理学院分党委",
    "计算机学院分党委",
    "外国语学院分党委",
)
BEFORE = DEADLINE - timedelta(days=1)
STRANGER = "lixiaoming1990@163.com"


@dataclass
class Campaign:
    """A processed campaign: its config, and the bytes of a few files that went in."""

    config: Path
    jixie_table: bytes


def build_campaign(tmp_path: Path) -> Campaign:
    """Five units through the real pipeline: complete, late, too many 最佳, nothing, bad grade; one
    stranger."""
    config = write_config(tmp_path)
    waiyu_rows = documents.sample_rows(10)
    waiyu_rows[9]["grade"] = "良好"
    jixie_table = documents.table_xlsx(JIXIE)
    mails = [
        submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=BEFORE,
            attachments=[
                (f"2021年{JIXIE}开展支部立项工作总结.docx", documents.summary_docx(JIXIE)),
                ("总结扫描件.pdf", scans.scan_pdf("summary_scan", JIXIE)),
                ("2022年汇总表.xlsx", jixie_table),
                ("汇总表扫描件.pdf", scans.scan_pdf("table_scan", JIXIE)),
            ],
        ),
        submission(CAILIAO, "cailiao@example.edu.cn", arrived=DEADLINE + timedelta(hours=3)),
        submission(
            JINGGUAN,
            "jingguan@example.edu.cn",
            arrived=BEFORE + timedelta(hours=2),
            attachments=[
                (f"2021年{JINGGUAN}开展支部立项工作总结.docx", documents.summary_docx(JINGGUAN)),
                ("经管学院汇总表.xlsx", documents.table_xlsx(JINGGUAN, best=6)),
            ],
        ),
        submission(
            WAIYU,
            "waiyu@example.edu.cn",
            arrived=BEFORE + timedelta(hours=4),
            attachments=[("外语学院汇总表.xlsx", documents.table_xlsx(WAIYU, rows=waiyu_rows))],
        ),
        mail.build_message(
            sender=STRANGER,
            to=DEPT,
            subject="材料",
            body="请查收",
            date=BEFORE,
            arrived=BEFORE,
            attachments=[("盖章页.pdf", scans.scan_pdf("summary_scan", "某单位"))],
        ),
    ]
    paths = []
    for number, raw in enumerate(mails):
        path = tmp_path / f"{number}.eml"
        path.write_bytes(raw)
        paths.append(str(path))
    assert main(["--config", str(config), "import", *paths]) == 0
    return Campaign(config, jixie_table)


class CellParser(HTMLParser):
    """Collects the status table's rows (unit name and cell states) and the headline counts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.counts: dict[str, str] = {}
        self.assets: list[str] = []
        self._unit: str | None = None
        self._count: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: D102
        attrs = dict(attrs)
        if tag == "tr" and "data-unit" in attrs:
            self._unit = attrs["data-unit"]
            self.rows[self._unit] = []
        if tag == "td" and "data-state" in attrs and self._unit:
            self.rows[self._unit].append(attrs["data-state"])
        if tag == "span" and (attrs.get("id") or "").startswith("count-"):
            self._count = attrs["id"][6:]
        if tag in ("link", "script") and (attrs.get("href") or attrs.get("src")):
            self.assets.append(attrs.get("href") or attrs.get("src"))

    def handle_data(self, data: str) -> None:  # noqa: D102
        if self._count:
            self.counts[self._count] = data.strip()
            self._count = None


def parse_page(html: str) -> CellParser:
    parser = CellParser()
    parser.feed(html)
    return parser


def config_with(base: Path, tmp_path: Path, extra: str) -> Path:
    """A copy of the campaign at ``base`` (config, database, stored mail) in a new folder under
    ``tmp_path``, with ``extra`` TOML appended to the config."""
    where = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
    shutil.copytree(base.parent, where)
    path = where / "config.toml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path
