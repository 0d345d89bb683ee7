"""Staff decisions from the command line over a campaign processed by the real pipeline: each
changes the report at once, is logged with who and why, survives reprocessing and can be undone;
a rejected doubt sends one correction request threaded to the unit's message."""

from __future__ import annotations

import email
import getpass
import json
from email.policy import default as default_policy
from pathlib import Path

from openpyxl import load_workbook

from intake.cli import main
from intake.config import load_settings
from intake.service import open_database, send_replies
from tests.helpers.decision_campaign import CAILIAO, JINGGUAN, JIXIE, decision_campaign


def run(config: Path, *args: str) -> int:
    return main(["--config", str(config), *args])


def report(config: Path, capsys) -> dict:  # noqa: ANN001
    capsys.readouterr()
    assert run(config, "report", "--format", "json") == 0
    return {u["name"]: u for u in json.loads(capsys.readouterr().out)["subcommittees"]}


def campaign(tmp_path: Path, extra: str = "") -> Path:
    return decision_campaign(tmp_path, extra)


def outbox_mails(config: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=default_policy)
        for p in sorted((config.parent / "outbox").glob("*.eml"))
    ]


def flush(config: Path) -> None:
    settings = load_settings(config)
    send_replies(settings, open_database(settings.database_url))


def test_reject_undo_accept_a_doubt_with_one_threaded_correction(tmp_path, capsys):
    config = campaign(tmp_path)
    units = report(config, capsys)
    scan = units[JIXIE]["items"]["table_scan"]
    assert [d["code"] for d in scan["doubts"]] == ["seal_unsure"] and scan["problems"] == []
    receipts = len(outbox_mails(config))

    assert (
        run(
            config,
            "decide",
            "机械学院",
            "汇总表扫描件",
            "--reject",
            "seal_unsure",
            "--reason",
            "扫描件上没有公章",
            "--by",
            "张老师",
        )
        == 0
    )
    scan = report(config, capsys)[JIXIE]["items"]["table_scan"]
    assert scan["doubts"] == [] and [p["code"] for p in scan["problems"]] == ["seal_unsure"]
    assert "扫描件上没有公章" in scan["problems"][0]["message"]
    assert [(d["action"], d["by"]) for d in scan["decisions"]] == [("reject", "张老师")]
    assert report(config, capsys)[JIXIE]["complete"] is False

    flush(config)
    mails = outbox_mails(config)
    assert len(mails) == receipts + 1
    correction = next(m for m in mails if m["Subject"].startswith("【需更正】"))
    assert correction["To"] == "jixie@example.edu.cn"
    assert correction["In-Reply-To"] == "<jixie-1@example.edu.cn>"
    assert correction["Auto-Submitted"] == "auto-replied"
    text = correction.get_body(("plain",)).get_content()
    assert "汇总表盖章扫描件.png" in text and "扫描件上没有公章" in text

    capsys.readouterr()
    assert run(config, "log") == 0
    line = capsys.readouterr().out
    assert "张老师" in line and "核对后需更正" in line and "扫描件上没有公章" in line
    decision_id = line.split()[0].lstrip("#")
    assert run(config, "undo", decision_id, "--by", "李老师") == 0
    scan = report(config, capsys)[JIXIE]["items"]["table_scan"]
    assert [d["code"] for d in scan["doubts"]] == ["seal_unsure"] and scan["decisions"] == []
    capsys.readouterr()
    run(config, "log")
    assert "由 李老师 撤销" in capsys.readouterr().out

    assert (
        run(
            config,
            "decide",
            JIXIE,
            "table_scan",
            "--accept",
            "seal_unsure",
            "--reason",
            "电话确认已盖章",
        )
        == 0
    )
    unit = report(config, capsys)[JIXIE]
    assert unit["complete"] is True and unit["items"]["table_scan"]["doubts"] == []
    flush(config)
    assert len(outbox_mails(config)) == receipts + 1  # accepting sends nothing


def test_waive_mark_exempt_extend_and_reprocess_keeps_them(tmp_path, capsys):
    config = campaign(tmp_path)
    assert report(config, capsys)[JINGGUAN]["complete"] is False
    assert (
        run(
            config,
            "decide",
            "经管学院",
            "table",
            "--accept",
            "best_ratio_exceeded",
            "--reason",
            "党委会议同意本年度放宽",
            "--by",
            "王老师",
        )
        == 0
    )
    assert (
        run(
            config,
            "mark",
            JINGGUAN,
            "工作总结（盖章扫描件）",
            "--received-at",
            "2022-04-01T16:00",
            "--reason",
            "纸质版当面交来",
        )
        == 0
    )
    assert run(config, "exempt", JINGGUAN, "table_scan", "--reason", "已随纸质总结一并盖章") == 0
    assert (
        run(
            config,
            "extend",
            CAILIAO,
            "--until",
            "2022-04-02T17:00:00+08:00",
            "--reason",
            "学院换届",
        )
        == 0
    )

    def check(units: dict) -> None:
        jg = units[JINGGUAN]
        assert jg["complete"] is True
        assert jg["items"]["table"]["problems"] == []
        assert jg["items"]["table"]["decisions"][0]["label"] == "免于更正"
        paper = jg["items"]["summary_scan"]
        assert paper["status"] == "on_time" and paper["received_at"] == "2022-04-01T16:00:00+08:00"
        assert jg["items"]["table_scan"]["status"] == "exempt"
        cl = units[CAILIAO]
        assert cl["deadline"] == "2022-04-02T17:00:00+08:00"
        assert {i["status"] for i in cl["items"].values()} == {"on_time"}

    check(report(config, capsys))
    assert run(config, "reprocess", "--all") == 0
    check(report(config, capsys))

    xlsx = tmp_path / "报送情况.xlsx"
    assert run(config, "report", "--format", "xlsx", "--output", str(xlsx)) == 0
    sheet = load_workbook(xlsx)["工作人员决定"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [(r[1], r[3], r[6]) for r in rows] == [
        (JINGGUAN, "免于更正", "王老师"),
        (JINGGUAN, "线下收到（2022-04-01 16:00）", getpass.getuser()),
        (JINGGUAN, "免交", getpass.getuser()),
        (CAILIAO, "延长截止时间（2022-04-02 17:00）", getpass.getuser()),
    ]
    assert rows[0][7] == "党委会议同意本年度放宽" and rows[3][2] == "全部材料"


def test_mistakes_are_one_line_errors(tmp_path, capsys):
    config = campaign(tmp_path)
    cases = [
        (
            ["decide", "不存在学院", "table", "--accept", "best_ratio_exceeded", "--reason", "x"],
            "找不到",
        ),
        (
            ["decide", JINGGUAN, "table", "--reject", "best_ratio_exceeded", "--reason", "x"],
            "只能 --accept",
        ),
        (
            ["decide", JINGGUAN, "照片", "--accept", "best_ratio_exceeded", "--reason", "x"],
            "未知的材料项",
        ),
        (
            ["decide", JINGGUAN, "table", "--accept", "no_such_code", "--reason", "x"],
            "未知的问题代码",
        ),
        (
            ["decide", JIXIE, "table", "--accept", "best_ratio_exceeded", "--reason", "x"],
            "目前没有",
        ),
        (
            ["decide", JINGGUAN, "table", "--accept", "best_ratio_exceeded", "--reason", "  "],
            "理由",
        ),
        (["mark", JINGGUAN, "table_scan", "--received-at", "4月1日", "--reason", "x"], "无法识别"),
        (["extend", JINGGUAN, "--until", "2022-04-03", "--reason", "x"], "无法识别"),
        (["undo", "999"], "找不到"),
        (["undo", "abc"], "应为数字"),
    ]
    for args, expected in cases:
        capsys.readouterr()
        assert run(config, *args) == 2, args
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1 and "Traceback" not in err, (args, err)


def test_remind_now_previews_sends_and_waits_an_hour(tmp_path, capsys):
    config = campaign(tmp_path)
    before = len(outbox_mails(config))
    capsys.readouterr()
    assert run(config, "remind", "--dry-run", "经管学院") == 0
    out = capsys.readouterr().out
    assert "经济管理学院分党委" in out and "工作总结（盖章扫描件）" in out and "未发送" in out
    assert len(outbox_mails(config)) == before

    assert run(config, "remind", "经管学院", JIXIE) == 0
    out = capsys.readouterr().out
    assert "不提醒 机械工程与自动化学院分党委：材料已齐" in out
    mails = outbox_mails(config)
    reminders = [m for m in mails if "提醒" in m["Subject"]]
    assert len(mails) == before + 1 and [m["To"] for m in reminders] == ["jingguan@example.edu.cn"]
    assert "尚缺2项材料" in reminders[0]["Subject"]

    assert run(config, "remind", "经管学院") == 0
    assert "一小时内已催交过" in capsys.readouterr().out
    assert len(outbox_mails(config)) == before + 1


def test_remind_is_logged_under_its_sender_and_cannot_be_undone(tmp_path, capsys):
    config = campaign(tmp_path)
    capsys.readouterr()
    assert run(config, "remind", "经管学院") == 0
    capsys.readouterr()
    assert run(config, "log") == 0
    [line] = [entry for entry in capsys.readouterr().out.splitlines() if "催交提醒" in entry]
    assert JINGGUAN in line and getpass.getuser() in line
    assert run(config, "undo", line.split()[0].lstrip("#")) == 2
    assert "不能撤销" in capsys.readouterr().err
