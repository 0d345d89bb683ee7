"""A campaign with one doubt (a grayscale table scan), one problem (too many 最佳), a late unit and
an empty one, through the real pipeline: for the staff decision tests."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from PIL import Image

from intake.cli import main
from intake.samples import documents, scans
from tests.helpers.campaign import DEADLINE, submission, write_config

JIXIE, CAILIAO, JINGGUAN = (
    "机械工程与自动化学院分党委",
    "材料科学与工程学院分党委",
    "经济管理学院分党委",
)
BEFORE = DEADLINE - timedelta(days=1)
JIXIE_MESSAGE_ID = "jixie-1@example.edu.cn"


def grey_scan() -> bytes:
    """The stamped table scan as a grayscale PNG: red cannot show, so the seal is a doubt."""
    page = Image.open(io.BytesIO(scans.scan_image("table_scan", JIXIE))).convert("L")
    out = io.BytesIO()
    page.save(out, "PNG")
    return out.getvalue()


def campaign_mails() -> list[bytes]:
    """机械学院 complete but its table scan grey; 材料学院 late; 经管学院 two items, 6 最佳."""
    return [
        submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=BEFORE,
            message_id=JIXIE_MESSAGE_ID,
            attachments=[
                (f"2021年{JIXIE}开展支部立项工作总结.docx", documents.summary_docx(JIXIE)),
                ("总结扫描件.pdf", scans.scan_pdf("summary_scan", JIXIE)),
                ("2022年汇总表.xlsx", documents.table_xlsx(JIXIE)),
                ("汇总表盖章扫描件.png", grey_scan()),
            ],
        ),
        submission(CAILIAO, "cailiao@example.edu.cn", arrived=DEADLINE + timedelta(hours=3)),
        submission(
            JINGGUAN,
            "jingguan@example.edu.cn",
            arrived=BEFORE,
            attachments=[
                (f"2021年{JINGGUAN}开展支部立项工作总结.docx", documents.summary_docx(JINGGUAN)),
                ("经管学院汇总表.xlsx", documents.table_xlsx(JINGGUAN, best=6)),
            ],
        ),
    ]


def decision_campaign(
    tmp_path: Path, extra: str = "", *, hold_corrections: bool = False, **options
) -> Path:  # noqa: ANN003
    """Write the config (``write_config`` options; ``hold_corrections`` under ``[replies]``) and
    import the campaign's mail; the config."""
    config = write_config(tmp_path, extra=extra, **options)
    if hold_corrections:
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace("[replies]\n", "[replies]\nhold_corrections = true\n"), encoding="utf-8"
        )
    paths = []
    for number, raw in enumerate(campaign_mails()):
        path = tmp_path / f"{number}.eml"
        path.write_bytes(raw)
        paths.append(str(path))
    assert main(["--config", str(config), "import", *paths]) == 0
    return config
