"""The command line over local sources: import (.eml, Maildir, mbox), report, reprocess, limits,
demo."""

from __future__ import annotations

import json
import mailbox
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from intake.cli import main
from intake.samples import documents, mail, scans
from tests.helpers.campaign import DEADLINE, DEPT, submission, write_config

ROOT = Path(__file__).resolve().parents[2]
BEFORE = DEADLINE - timedelta(days=1)
JIXIE = "机械工程与自动化学院分党委"
CAILIAO = "材料科学与工程学院分党委"


def run(config: Path, *args: str) -> int:
    return main(["--config", str(config), *args])


def report(config: Path, capsys) -> dict:  # noqa: ANN001
    capsys.readouterr()
    assert run(config, "report", "--format", "json") == 0
    return json.loads(capsys.readouterr().out)


def unit(data: dict, name: str) -> dict:
    return next(u for u in data["subcommittees"] if u["name"] == name)


def outbox(config: Path) -> list[Path]:
    return sorted((config.parent / "outbox").glob("*.eml"))


def test_import_eml_maildir_and_mbox_through_the_same_pipeline(tmp_path, capsys):
    config = write_config(tmp_path)
    eml = tmp_path / "one.eml"
    eml.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    maildir = mailbox.Maildir(tmp_path / "maildir", create=True)
    maildir.add(submission(CAILIAO, "cailiao@example.edu.cn", arrived=BEFORE + timedelta(hours=1)))
    box = mailbox.mbox(tmp_path / "old.mbox")
    box.add(
        submission(
            "经济管理学院分党委",
            "jingguan@example.edu.cn",
            arrived=DEADLINE + timedelta(hours=3),
            date=BEFORE,
        )
    )
    box.flush()
    assert (
        run(config, "import", str(eml), str(tmp_path / "maildir"), str(tmp_path / "old.mbox")) == 0
    )
    data = report(config, capsys)
    assert unit(data, JIXIE)["complete"] and unit(data, CAILIAO)["complete"]
    late = unit(data, "经济管理学院分党委")["items"]["summary"]
    assert late["status"] == "late" and late["received_at"] == "2022-04-01T20:00:00+08:00"
    assert len(outbox(config)) == 3
    assert run(config, "import", str(eml)) == 0
    assert len(outbox(config)) == 3


def test_import_without_reply_sends_nothing(tmp_path, capsys):
    config = write_config(tmp_path)
    eml = tmp_path / "one.eml"
    eml.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    assert run(config, "import", "--no-reply", str(eml)) == 0
    assert outbox(config) == []
    assert unit(report(config, capsys), JIXIE)["complete"]


def test_report_json_has_the_design_schema(tmp_path, capsys):
    config = write_config(tmp_path)
    eml = tmp_path / "one.eml"
    eml.write_bytes(
        submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=BEFORE,
            attachments=[("汇总表.xlsx", documents.table_xlsx(JIXIE, best=6))],
        )
    )
    run(config, "import", str(eml))
    data = report(config, capsys)
    assert set(data) >= {"campaign", "deadline", "generated_at", "subcommittees", "unassigned"}
    assert data["deadline"] == "2022-04-01T17:00:00+08:00"
    entry = unit(data, JIXIE)
    assert set(entry) == {"name", "complete", "deadline", "problems", "items"}
    assert entry["complete"] is False and entry["deadline"] is None  # no deadline of its own
    assert list(entry["items"]) == ["summary", "summary_scan", "table", "table_scan"]
    table = entry["items"]["table"]
    assert (
        set(table) == {"status", "received_at", "problems", "doubts", "decisions", "required"}
        and table["status"] == "on_time"
    )
    assert [p["code"] for p in table["problems"]] == ["best_ratio_exceeded"]
    assert "超过 30%" in table["problems"][0]["message"]
    assert entry["items"]["summary"] == {
        "status": "missing",
        "received_at": None,
        "problems": [],
        "doubts": [],
        "decisions": [],
        "required": True,
    }


def test_report_table_is_chinese(tmp_path, capsys):
    config = write_config(tmp_path)
    capsys.readouterr()
    assert run(config, "report") == 0
    out = capsys.readouterr().out
    assert "完成 0/5" in out and "缺交" in out and JIXIE in out


def test_a_failing_message_is_kept_listed_and_reprocessed(tmp_path, capsys, monkeypatch):
    config = write_config(tmp_path)
    eml = tmp_path / "one.eml"
    eml.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    from intake.pipeline.pool import ExaminePool

    def broken(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("parser bug")

    monkeypatch.setattr(ExaminePool, "examine_all", broken)
    assert run(config, "import", str(eml)) == 0
    data = report(config, capsys)
    assert [f["error"] for f in data["failed"]] == ["RuntimeError: parser bug"]
    assert unit(data, JIXIE)["items"]["summary"]["status"] == "missing" and outbox(config) == []
    assert list((tmp_path / "data" / "messages").rglob("*"))  # the raw bytes are kept
    monkeypatch.undo()
    assert run(config, "reprocess") == 0
    data = report(config, capsys)
    assert data["failed"] == [] and unit(data, JIXIE)["complete"]
    assert len(outbox(config)) == 1
    assert run(config, "reprocess", "--all") == 0
    assert len(outbox(config)) == 1


def test_learned_address_identifies_later_mail_that_names_no_unit(tmp_path, capsys):
    config = write_config(tmp_path)
    first = mail.build_message(
        sender="9876@qq.com",
        to=DEPT,
        subject="材料学院工作总结",
        style="qq",
        body="请查收",
        date=BEFORE,
        arrived=BEFORE,
        attachments=[("总结.docx", documents.summary_docx(CAILIAO))],
    )
    later = BEFORE + timedelta(hours=2)
    second = mail.build_message(
        sender="9876@qq.com",
        to=DEPT,
        subject="扫描件",
        style="qq",
        body="补发",
        date=later,
        arrived=later,
        attachments=[("扫描件.pdf", scans.scan_pdf("summary_scan", CAILIAO))],
    )
    (tmp_path / "a.eml").write_bytes(first)
    (tmp_path / "b.eml").write_bytes(second)
    run(config, "import", str(tmp_path / "a.eml"), str(tmp_path / "b.eml"))
    items = unit(report(config, capsys), CAILIAO)["items"]
    assert items["summary"]["status"] == "on_time" and items["summary_scan"]["status"] == "on_time"


def test_daily_reply_limit_per_address(tmp_path, capsys):
    config = write_config(tmp_path, replies_per_day=2)
    for number in range(3):
        moment = BEFORE + timedelta(minutes=number)
        (tmp_path / f"{number}.eml").write_bytes(
            mail.build_message(
                sender="jixie@example.edu.cn",
                to=DEPT,
                subject=f"补充{number}",
                body="见附件",
                date=moment,
                arrived=moment,
            )
        )
    run(config, "import", *(str(tmp_path / f"{n}.eml") for n in range(3)))
    assert len(outbox(config)) == 2


def test_assign_with_unknown_names_is_one_line(tmp_path, capsys):
    config = write_config(tmp_path)
    capsys.readouterr()
    assert run(config, "assign", "nope@x", "机械学院") == 2
    assert capsys.readouterr().err.strip() == "intake: 找不到来信 / no such message: nope@x"


def test_import_of_a_missing_path_is_one_line(tmp_path, capsys):
    config = write_config(tmp_path)
    capsys.readouterr()
    assert run(config, "import", str(tmp_path / "nothing")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing" in err


def test_demo_runs_end_to_end_twice_in_a_fresh_folder(tmp_path):
    target = tmp_path / "demo"
    first = subprocess.run(
        ["intake", "demo", str(target)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert first.returncode == 0, first.stderr
    assert "完成 " in first.stdout and "未识别单位的来信" in first.stdout
    replies = sorted((target / "outbox").glob("*.eml"))
    assert len(replies) >= 10
    second = subprocess.run(
        ["intake", "demo", str(target)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert second.returncode == 0 and "本次新处理 0 封邮件" in second.stdout
    assert sorted((target / "outbox").glob("*.eml")) == replies
    done = subprocess.run(
        ["intake", "--config", str(target / "config.toml"), "report", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    data = json.loads(done.stdout)
    assert len(data["subcommittees"]) == 12 and len(data["unassigned"]) == 1
    statuses = {
        u["name"]: {i["status"] for i in u["items"].values()} for u in data["subcommittees"]
    }
    assert statuses["经济管理学院分党委"] == {"late"}
    assert sum(u["complete"] for u in data["subcommittees"]) >= 5
    assert any(p["code"] == "oversize_link" for u in data["subcommittees"] for p in u["problems"])
    assert any(
        p["code"] for u in data["subcommittees"] for i in u["items"].values() for p in i["problems"]
    )


@pytest.mark.parametrize("args", [["poll"], ["report", "--format", "json"]])
def test_commands_without_a_config_file_fail_in_one_line(tmp_path, args):
    done = subprocess.run(["intake", *args], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "config.toml" in done.stderr and "Traceback" not in done.stderr


def test_roster_in_the_config_checks_coverage_of_the_table(tmp_path, capsys):
    from intake.samples.documents import roster_xlsx, sample_rows, table_xlsx

    config = write_config(tmp_path)
    (tmp_path / "branches.xlsx").write_bytes(roster_xlsx())
    config.write_text(
        config.read_text(encoding="utf-8") + '[roster]\nbranches = "branches.xlsx"\n',
        encoding="utf-8",
    )
    rows = sample_rows(10)[:9]  # one branch of the roster has no plan
    eml = tmp_path / "t.eml"
    eml.write_bytes(
        submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=BEFORE,
            attachments=[("汇总表.xlsx", table_xlsx(JIXIE, rows=rows))],
        )
    )
    assert run(config, "import", str(eml)) == 0
    codes = [p["code"] for p in unit(report(config, capsys), JIXIE)["items"]["table"]["problems"]]
    assert "coverage_incomplete" in codes


def test_a_broken_roster_file_is_one_config_line(tmp_path, capsys):
    config = write_config(tmp_path)
    (tmp_path / "branches.xlsx").write_bytes(b"not a workbook")
    config.write_text(
        config.read_text(encoding="utf-8") + '[roster]\nbranches = "branches.xlsx"\n',
        encoding="utf-8",
    )
    capsys.readouterr()
    assert run(config, "report") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "roster.branches" in err


def test_a_failing_assignment_is_parked_and_reprocess_keeps_the_unit(tmp_path, capsys, monkeypatch):

    config = write_config(tmp_path)
    eml = tmp_path / "who.eml"
    eml.write_bytes(
        mail.build_message(
            sender="someone@163.com",
            to=DEPT,
            subject="材料",
            body="见附件",
            date=BEFORE,
            arrived=BEFORE,
            message_id="<who-fails@163.com>",
            attachments=[("扫描件.pdf", scans.scan_pdf("table_scan", CAILIAO))],
        )
    )
    assert run(config, "import", str(eml)) == 0
    from intake.pipeline.pool import ExaminePool

    original = ExaminePool.examine_all

    def broken(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("parser bug")

    monkeypatch.setattr(ExaminePool, "examine_all", broken)
    capsys.readouterr()
    assert run(config, "assign", "who-fails@163.com", "材料学院") == 0
    data = report(config, capsys)
    assert [f["message_id"] for f in data["failed"]] == ["who-fails@163.com"]
    monkeypatch.setattr(ExaminePool, "examine_all", original)
    assert run(config, "reprocess") == 0
    data = report(config, capsys)
    assert data["failed"] == [] and data["unassigned"] == []
    assert unit(data, CAILIAO)["items"]["table_scan"]["status"] == "on_time"


def test_import_without_reply_leaves_mail_waiting_for_its_receipt_alone(tmp_path, capsys):
    from intake.config import load_settings
    from intake.service import open_pipeline

    config = write_config(tmp_path)
    _, pipeline = open_pipeline(load_settings(config))
    waiting = pipeline.ingest(
        submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE),
        received_at=BEFORE,
        source="dept@example.edu.cn@imap.example/INBOX",
        uidvalidity=1,
        uid=7,
    )
    other = tmp_path / "other.eml"
    other.write_bytes(submission(CAILIAO, "cailiao@example.edu.cn", arrived=BEFORE))
    assert run(config, "import", "--no-reply", str(other)) == 0
    assert run(config, "import", str(other)) == 0  # a replying run finishes it, with its receipt
    recipients = sorted(
        p.read_text(encoding="utf-8", errors="replace").split("To: ")[1].split()[0]
        for p in outbox(config)
    )
    assert waiting and recipients == ["jixie@example.edu.cn"]


def test_two_files_of_one_item_in_one_message_are_not_called_a_correction(tmp_path, capsys):
    import email
    from email.policy import default as default_policy

    config = write_config(tmp_path)
    eml = tmp_path / "two.eml"
    eml.write_bytes(
        submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=BEFORE,
            attachments=[
                ("总结.docx", documents.summary_docx(JIXIE)),
                ("总结副本.docx", documents.summary_docx(JIXIE)),
            ],
        )
    )
    assert run(config, "import", str(eml)) == 0
    [reply] = outbox(config)
    text = (
        email.message_from_bytes(reply.read_bytes(), policy=default_policy)
        .get_body(("plain",))
        .get_content()
    )
    assert "更正版本" not in text and "工作总结（电子版）（按时）" in text


def test_a_table_naming_another_configured_unit_is_a_mismatch(tmp_path, capsys):
    config = write_config(tmp_path)
    eml = tmp_path / "t.eml"
    # 计算机学院's registered address sends a table whose 填报单位 is 外国语学院分党委.
    eml.write_bytes(
        submission(
            "计算机学院分党委",
            "jsj@example.edu.cn",
            arrived=BEFORE,
            attachments=[
                (
                    "汇总表.xlsx",
                    documents.table_xlsx("计算机学院分党委", named_unit="外国语学院分党委"),
                )
            ],
        )
    )
    assert run(config, "import", str(eml)) == 0
    problems = unit(report(config, capsys), "计算机学院分党委")["items"]["table"]["problems"]
    assert [p["code"] for p in problems] == ["subcommittee_mismatch"]
    assert "外国语学院分党委" in problems[0]["message"]


def test_a_table_naming_its_own_unit_by_alias_is_no_mismatch(tmp_path, capsys):
    config = write_config(tmp_path)
    eml = tmp_path / "t.eml"
    eml.write_bytes(
        submission(
            "外国语学院分党委",
            "waiyu@example.edu.cn",
            arrived=BEFORE,
            attachments=[
                ("汇总表.xlsx", documents.table_xlsx("外国语学院分党委", named_unit="外语学院"))
            ],
        )
    )
    assert run(config, "import", str(eml)) == 0
    assert unit(report(config, capsys), "外国语学院分党委")["items"]["table"]["problems"] == []
