"""What a new user tripped over (issue 11, point 8): zones, receipts, assign, reference numbers,
the terminal report, import counts, the log lines."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from intake.cli import main
from tests.helpers.campaign import DEADLINE, submission, write_config
from tracker.zones import zone_label

JIXIE = "机械工程与自动化学院分党委"
CAILIAO = "材料科学与工程学院分党委"
BEFORE = DEADLINE - timedelta(days=1)


def run(config: Path, *args: str) -> int:
    return main(["--config", str(config), *args])


def bodies(config: Path) -> list[str]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        .get_body()
        .get_content()
        for p in sorted((config.parent / "outbox").glob("*.eml"))
    ]


@pytest.mark.parametrize(
    "offset,label",
    [(8, "北京时间"), (9, "UTC+09:00"), (0, "UTC+00:00"), (-5.5, "UTC-05:30")],
)
def test_zone_label_names_china_time_only_at_plus_eight(offset, label):
    moment = datetime(2022, 4, 1, 17, tzinfo=timezone(timedelta(hours=offset)))
    assert zone_label(moment) == label


@pytest.mark.parametrize("written", ["2022-04-01T17:00:00+09:00", "2022-04-01T08:00:00Z"])
def test_a_deadline_in_another_zone_is_never_called_china_time(tmp_path, capsys, written):
    deadline = datetime.fromisoformat(written)
    label = "UTC+09:00" if written.endswith("+09:00") else "UTC+00:00"
    config = write_config(tmp_path, deadline=deadline)
    eml = tmp_path / "one.eml"
    eml.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    assert run(config, "import", str(eml)) == 0
    page = tmp_path / "report.html"
    assert run(config, "report", "--format", "html", "--output", str(page)) == 0
    html = page.read_text(encoding="utf-8")
    assert "北京时间" not in html and f"（{label}）" in html
    (receipt,) = bodies(config)
    assert "北京时间" not in receipt and f"{deadline:%H:%M} {label}" in receipt
    capsys.readouterr()
    assert run(config, "report") == 0
    table = capsys.readouterr().out
    assert "北京时间" not in table and label in table


def test_a_china_deadline_is_labelled_china_time(tmp_path, capsys):
    config = write_config(tmp_path)
    eml = tmp_path / "one.eml"
    eml.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    assert run(config, "import", str(eml)) == 0
    page = tmp_path / "report.html"
    assert run(config, "report", "--format", "html", "--output", str(page)) == 0
    assert "（北京时间）" in page.read_text(encoding="utf-8")
    assert "17:00 北京时间" in bodies(config)[0]


def test_a_receipt_that_only_lists_missing_items_asks_for_no_correction(tmp_path):
    from intake.samples import mail
    from tests.helpers.campaign import DEPT, four_items

    config = write_config(tmp_path)
    only_summary = tmp_path / "summary.eml"
    only_summary.write_bytes(
        submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, attachments=four_items(JIXIE)[:1])
    )
    link = tmp_path / "link.eml"
    link.write_bytes(
        mail.qq_big_attachment(
            sender="cailiao@example.edu.cn",
            to=DEPT,
            subject=f"{CAILIAO}立项材料",
            body=f"{CAILIAO}的材料见超大附件",
            files=[("汇总表.xlsx", "60M")],
            date=BEFORE,
            arrived=BEFORE,
        )
    )
    assert run(config, "import", str(only_summary), str(link)) == 0
    receipts = bodies(config)
    assert len(receipts) == 2
    for receipt in receipts:
        assert "目前仍缺少以下材料" in receipt
        assert "更正后" not in receipt and "无需更正" not in receipt
    assert any("超大附件" in receipt for receipt in receipts)


def test_assign_of_a_message_filed_under_another_unit_needs_force(tmp_path, capsys):
    config = write_config(tmp_path)
    eml = tmp_path / "one.eml"
    eml.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    assert run(config, "import", str(eml)) == 0
    capsys.readouterr()
    assert run(config, "assign", "1", "材料学院") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err and JIXIE in err
    assert run(config, "assign", "1", "机械学院") == 0  # the same unit again: no question
    assert run(config, "assign", "1", "材料学院", "--force") == 0
    assert f"归入 {CAILIAO}" in capsys.readouterr().out


def test_the_assign_form_refuses_a_filed_message_unless_confirmed(tmp_path):
    from intake.config import load_settings
    from intake.web.server import dashboard_app
    from tests.helpers.staff_campaign import JIXIE as FILED_UNIT
    from tests.helpers.staff_campaign import JSJ, build_campaign
    from tracker import records

    campaign = build_campaign(tmp_path)
    settings = load_settings(campaign.config)
    app = dashboard_app(settings, "127.0.0.1")
    app.testing = True
    client = app.test_client()
    with _sessions(settings) as db:
        filed = next(m for m in records.messages_in_state(db, "processed") if m.subcommittee_id)
        unit = records.find_subcommittee(db, JSJ)
        assert records.subcommittee_by_id(db, filed.subcommittee_id).name == FILED_UNIT
        form = {"message_id": str(filed.id), "unit_id": str(unit.id)}
    html = client.get("/").get_data(as_text=True)
    assert 'name="confirm"' in html and "确认改归" in html
    form["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    headers = {"Origin": "http://localhost"}
    refused = client.post("/assign", data=form, headers=headers, follow_redirects=True)
    assert f"该来信已归入 {FILED_UNIT}" in refused.get_data(as_text=True)
    done = client.post("/assign", data={**form, "confirm": "1"}, headers=headers)
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/unit/{unit.id}")


def _sessions(settings):  # noqa: ANN001, ANN202
    from tracker.db import open_database

    return open_database(settings.database_url)()


def test_a_reference_number_with_the_wrong_date_is_refused(tmp_path, capsys):
    config = write_config(tmp_path)
    eml = tmp_path / "one.eml"
    eml.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    assert run(config, "import", str(eml)) == 0
    capsys.readouterr()
    assert run(config, "assign", "ZZB20220330-00001", "机械学院") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ZZB20220331-00001" in err and "日期" in err
    assert run(config, "assign", "zzb20220331-00001", "机械学院") == 0
    assert "ZZB" not in capsys.readouterr().err


def test_the_terminal_report_lists_unidentified_mail_by_reference_number(tmp_path, capsys):
    from intake.samples import mail
    from tests.helpers.campaign import DEPT

    config = write_config(tmp_path)
    eml = tmp_path / "stranger.eml"
    eml.write_bytes(
        mail.build_message(
            sender="someone@qq.com",
            to=DEPT,
            subject="材料",
            body="老师好，材料见附件。",
            date=BEFORE,
            arrived=BEFORE,
        )
    )
    assert run(config, "import", str(eml)) == 0
    capsys.readouterr()
    assert run(config, "report") == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "someone@qq.com" in line)
    assert line.split()[0] == "ZZB20220331-00001"
    assert run(config, "assign", "ZZB20220331-00001", "机械学院") == 0


def test_import_says_how_many_files_it_skipped_and_why(tmp_path, capsys, monkeypatch):
    config = write_config(tmp_path)
    folder = tmp_path / "mail"
    folder.mkdir()
    one = submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE)
    (folder / "one.eml").write_bytes(one)
    (folder / "again.eml").write_bytes(one)  # the same bytes once more
    (folder / "说明.txt").write_text("附件说明", encoding="utf-8")
    (folder / "通知.docx").write_bytes(b"PK\x03\x04")
    (folder / "empty.eml").write_bytes(b"")
    (folder / "locked.eml").write_bytes(b"x")
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.eml":
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    capsys.readouterr()
    assert run(config, "import", "--no-reply", str(folder)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("导入 1 封")
    assert set(lines[1:]) == {
        "跳过 2 个文件：不是 .eml 文件",
        "跳过 1 个文件：无法读取",
        "跳过 1 个文件：空文件",
        "跳过 1 个文件：此前已导入过（重复）",
    }


def test_the_line_logged_per_message_is_chinese_with_its_key_values(tmp_path, caplog):
    import logging

    config = write_config(tmp_path)
    eml = tmp_path / "one.eml"
    eml.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    with caplog.at_level(logging.INFO):
        assert run(config, "import", str(eml)) == 0
    lines = [r.getMessage() for r in caplog.records if "outcome=processed" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("来信已处理 id=1 ")
    assert f"unit={JIXIE}" in lines[0] and "items=summary," in lines[0]
    sent = [r.getMessage() for r in caplog.records if r.name == "notifier.outbox"]
    assert sent and all(line.startswith("回执已发送 ") for line in sent)
