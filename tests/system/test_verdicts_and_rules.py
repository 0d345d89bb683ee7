"""Three verdicts and a campaign's own rules, end to end: Dovecot delivers, aiosmtpd receives."""

from __future__ import annotations

import email
import io
from datetime import timedelta
from email.policy import default as default_policy

from docx import Document

from intake.reporting import report_data
from intake.samples import documents, scans
from intake.service import open_pipeline, poll_once
from tests.helpers.campaign import DEADLINE, make_settings, submission
from tracker.exports import table_header, table_row

JIXIE = "机械工程与自动化学院分党委"
BEFORE = DEADLINE - timedelta(days=2)


def reply_text(received) -> str:  # noqa: ANN001
    return (
        email.message_from_bytes(received.data, policy=default_policy)
        .get_body(("plain",))
        .get_content()
    )


def unit_report(settings, sessions, name: str) -> dict:  # noqa: ANN001
    return next(u for u in report_data(settings, sessions)["subcommittees"] if u["name"] == name)


def grey_scan(kind: str) -> bytes:
    """A stamped page scanned in grayscale: a red seal cannot show."""
    buf = io.BytesIO()
    scans.scan_page(kind, JIXIE).convert("L").save(buf, "PDF", resolution=100)
    return buf.getvalue()


def unstructured_summary() -> bytes:
    """A summary written as plain prose: no 基本情况 heading, no cases the reader can find."""
    doc = Document()
    for text in (
        f"2021年{JIXIE}开展支部立项工作总结",
        documents.prose(500),
        "工作亮点",
        documents.prose(450),
    ):
        doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_undecidable_seal_and_structure_are_doubts_the_receipt_leaves_to_staff(
    tmp_path, dovecot, smtp_server
):
    settings = make_settings(tmp_path, dovecot=dovecot, smtp=smtp_server)
    sessions, pipeline = open_pipeline(settings)
    files = [
        (f"2021年{JIXIE}开展支部立项工作总结.docx", unstructured_summary()),
        (f"{JIXIE}工作总结（盖章扫描件）.pdf", grey_scan("summary_scan")),
        (f"2022年{JIXIE}活动方案立项结果汇总表.xlsx", documents.table_xlsx(JIXIE)),
        (f"{JIXIE}立项结果汇总表（盖章扫描件）.pdf", scans.scan_pdf("table_scan", JIXIE)),
    ]
    dovecot.append(
        submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, attachments=files),
        internaldate=BEFORE,
    )
    assert poll_once(settings, pipeline, sessions).sent["sent"] == 1
    text = reply_text(smtp_server.messages[0])
    lines = {
        name: next(line for line in text.splitlines() if f"《{name}》：" in line)
        for name, _ in files
    }
    assert lines[files[0][0]].endswith("待工作人员核对") and lines[files[1][0]].endswith(
        "待工作人员核对"
    )
    assert lines[files[2][0]].endswith("检查通过") and lines[files[3][0]].endswith("检查通过")
    assert "需更正" not in text and "无法分辨红色印章" in text and "未能准确识别" in text
    assert "目前无需重新发送" in text and "四项材料均已收到" in text
    report = unit_report(settings, sessions, JIXIE)
    assert report["complete"] is True
    assert [d["code"] for d in report["items"]["summary"]["doubts"]] == ["structure_unsure"]
    assert [d["code"] for d in report["items"]["summary_scan"]["doubts"]] == ["seal_unsure"]
    assert report["items"]["summary"]["problems"] == [] and report["items"]["table"]["doubts"] == []


def test_a_campaign_with_its_own_numbers_is_judged_by_them(tmp_path, dovecot, smtp_server):
    rules = "[rules]\nbasic_max_zi = 1500\nbest_share = 0.4\n"
    settings = make_settings(tmp_path, dovecot=dovecot, smtp=smtp_server, extra=rules)
    sessions, pipeline = open_pipeline(settings)
    files = [
        (
            f"2021年{JIXIE}开展支部立项工作总结.docx",
            documents.summary_docx(JIXIE, basic_chars=1400),
        ),
        (
            f"2022年{JIXIE}活动方案立项结果汇总表.xlsx",
            documents.table_xlsx(JIXIE, plans=10, best=5),
        ),
    ]
    dovecot.append(
        submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, attachments=files),
        internaldate=BEFORE,
    )
    poll_once(settings, pipeline, sessions)
    text = reply_text(smtp_server.messages[0])
    assert "汇总表《" in text and "超过 40%（最多 4 个）" in text
    assert "基本情况" not in text.split("本次收到的材料")[1].split("目前仍缺少")[0].replace(
        "检查通过", ""
    )
    report = unit_report(settings, sessions, JIXIE)
    assert report["items"]["summary"]["problems"] == []
    assert [p["code"] for p in report["items"]["table"]["problems"]] == ["best_ratio_exceeded"]


def test_an_optional_item_is_not_asked_for_and_a_unit_without_it_is_complete(
    tmp_path, dovecot, smtp_server
):
    items = '[[items]]\nkey = "table_scan"\nlabel = "汇总表盖章件（可不交）"\nrequired = false\n'
    settings = make_settings(tmp_path, dovecot=dovecot, smtp=smtp_server, extra=items)
    sessions, pipeline = open_pipeline(settings)
    files = [
        (f"2021年{JIXIE}开展支部立项工作总结.docx", documents.summary_docx(JIXIE)),
        (f"{JIXIE}工作总结（盖章扫描件）.pdf", scans.scan_pdf("summary_scan", JIXIE)),
        (f"2022年{JIXIE}活动方案立项结果汇总表.xlsx", documents.table_xlsx(JIXIE)),
    ]
    dovecot.append(
        submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, attachments=files),
        internaldate=BEFORE,
    )
    poll_once(settings, pipeline, sessions)
    text = reply_text(smtp_server.messages[0])
    assert "目前仍缺少" not in text and "所需材料均已收到" in text and "材料齐全，无需更正" in text
    report = report_data(settings, sessions)
    unit = next(u for u in report["subcommittees"] if u["name"] == JIXIE)
    assert unit["complete"] is True and unit["items"]["table_scan"]["status"] == "missing"
    assert report["items"]["table_scan"] == {
        "label": "汇总表盖章件（可不交）",
        "short_label": "汇总表扫描件",
        "required": False,
    }
    assert "未交（非必交）" in table_row(unit) and "汇总表扫描件" in table_header(report)
