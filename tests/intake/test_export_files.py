"""``intake export-files`` and the dashboard's 下载全部文件: campaigns through the real pipeline
(``intake import`` of sample mail), the zips opened with zipfile and their 清单.xlsx with openpyxl;
a bad ``[export] file_name`` is one line; a 60 MB campaign is exported without sitting in memory."""

from __future__ import annotations

import io
import os
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from intake.cli import main
from intake.config import load_settings
from intake.file_export import export_files
from intake.samples import documents
from intake.store import RawStore
from intake.web.server import dashboard_app
from tests.helpers import campaign as campaign_helpers
from tests.helpers.campaign import DEADLINE, submission, write_config
from tests.helpers.staff_campaign import CAILIAO, JINGGUAN, JIXIE, JSJ, WAIYU, build_campaign
from tests.helpers.versions import add_version
from tracker import records
from tracker.db import open_database
from tracker.file_export import MANIFEST_NAME

BEFORE = DEADLINE - timedelta(days=1)


def run(config: Path, *args: str) -> int:
    return main(["--config", str(config), *args])


def manifest(archive: zipfile.ZipFile) -> list[tuple]:
    return list(
        load_workbook(io.BytesIO(archive.read(MANIFEST_NAME)))["文件清单"].iter_rows(
            min_row=3, values_only=True
        )
    )


def test_export_files_one_folder_per_unit_with_renamed_files_and_a_manifest(tmp_path, capsys):
    config = build_campaign(tmp_path).config
    output = tmp_path / "材料.zip"
    capsys.readouterr()
    assert run(config, "export-files", "--output", str(output)) == 0
    assert capsys.readouterr().out.startswith(f"已写入 {output}：4 个单位、11 个文件")
    with zipfile.ZipFile(output) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        rows = manifest(archive)
    folders = {name.split("/")[0] for name in names if "/" in name}
    assert folders == {JIXIE, CAILIAO, JINGGUAN, WAIYU} and JSJ not in folders
    assert f"{JIXIE}/机械学院-工作总结.docx" in names
    assert f"{JIXIE}/机械学院-立项结果汇总表（盖章扫描件）.pdf" in names
    assert f"{CAILIAO}/材料学院-工作总结（盖章扫描件）.pdf" in names
    assert names[-1] == MANIFEST_NAME and len(names) == 12
    assert [row[3] for row in rows] == names[:-1]
    by_name = {row[3]: row for row in rows}
    jixie_table = by_name[f"{JIXIE}/机械学院-立项结果汇总表.xlsx"]
    assert jixie_table[:2] == (JIXIE, "立项结果汇总表（电子版）")
    assert jixie_table[4:7] == ("2022年汇总表.xlsx", "2022-03-31 17:00:00", "按时")
    assert by_name[f"{CAILIAO}/材料学院-工作总结.docx"][6] == "逾期"
    assert by_name[f"{JINGGUAN}/经管学院-立项结果汇总表.xlsx"][7] == "最佳超30%"
    assert not (tmp_path / ".材料.zip.part").exists()


def test_all_versions_are_numbered_and_the_current_one_is_marked(tmp_path):
    config = write_config(tmp_path)
    first = tmp_path / "first.eml"
    first.write_bytes(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    again = tmp_path / "again.eml"
    corrected = documents.summary_docx(JIXIE)
    again.write_bytes(
        submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=DEADLINE + timedelta(hours=1),
            subject="机械学院更正后的工作总结",
            attachments=[(f"2021年{JIXIE}开展支部立项工作总结（修改）.docx", corrected)],
        )
    )
    assert run(config, "import", "--no-reply", str(first), str(again)) == 0
    output = tmp_path / "all.zip"
    assert run(config, "export-files", "--output", str(output), "--all-versions") == 0
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
        rows = manifest(archive)
        assert archive.read(f"{JIXIE}/机械学院-工作总结-第2版.docx") == corrected
    assert names[:3] == [
        f"{JIXIE}/机械学院-工作总结-第1版.docx",
        f"{JIXIE}/机械学院-工作总结-第2版.docx",
        f"{JIXIE}/机械学院-工作总结（盖章扫描件）-第1版.pdf",
    ]
    assert [row[2] for row in rows[:2]] == ["第1版", "第2版（当前）"]
    assert rows[1][5:7] == ("2022-04-01 18:00:00", "按时")  # the first version was on time
    current = tmp_path / "current.zip"
    assert run(config, "export-files", "--output", str(current)) == 0
    with zipfile.ZipFile(current) as archive:
        assert archive.read(f"{JIXIE}/机械学院-工作总结.docx") == corrected
        assert len(archive.namelist()) == 5


def test_windows_unsafe_aliases_and_file_names_are_made_safe(tmp_path, monkeypatch):
    monkeypatch.setattr(
        campaign_helpers,
        "UNITS",
        [
            (JIXIE, ["CON"], ["jixie@example.edu.cn"]),
            (CAILIAO, ["材料:学院?"], ["cailiao@example.edu.cn"]),
        ],
    )
    config = write_config(tmp_path, extra='[export]\nfile_name = "{unit}{ext}"')
    paths = []
    for unit, sender in ((JIXIE, "jixie@example.edu.cn"), (CAILIAO, "cailiao@example.edu.cn")):
        path = tmp_path / f"{sender}.eml"
        path.write_bytes(submission(unit, sender, arrived=BEFORE))
        paths.append(str(path))
    assert run(config, "import", "--no-reply", *paths) == 0
    output = tmp_path / "unsafe.zip"
    assert run(config, "export-files", "--output", str(output)) == 0
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
    assert names[:4] == [
        f"{JIXIE}/CON_.docx",
        f"{JIXIE}/CON_.pdf",
        f"{JIXIE}/CON_.xlsx",
        f"{JIXIE}/CON_（2）.pdf",
    ]
    assert names[4:8] == [
        f"{CAILIAO}/材料_学院_.docx",
        f"{CAILIAO}/材料_学院_.pdf",
        f"{CAILIAO}/材料_学院_.xlsx",
        f"{CAILIAO}/材料_学院_（2）.pdf",
    ]


def test_the_manifest_follows_staff_decisions(tmp_path):
    config = build_campaign(tmp_path).config
    waive = "decide 经管学院 table --accept best_ratio_exceeded --reason 党委特批 --by 张老师"
    extend = "extend 材料学院 --until 2022-04-02T17:00 --reason 请假 --by 张老师"
    assert run(config, *waive.split()) == 0 and run(config, *extend.split()) == 0
    output = tmp_path / "decided.zip"
    assert run(config, "export-files", "--output", str(output)) == 0
    with zipfile.ZipFile(output) as archive:
        by_name = {row[3]: row for row in manifest(archive)}
    assert by_name[f"{JINGGUAN}/经管学院-立项结果汇总表.xlsx"][7] is None
    assert by_name[f"{CAILIAO}/材料学院-工作总结.docx"][6] == "按时"


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("{unit}-{title}{ext}", "{title}"),
        ("{unit}-{item{ext}", "花括号"),
        ("{ext}", "{item}"),
    ],
)
def test_a_bad_file_name_pattern_is_one_config_line(tmp_path, capsys, pattern, words):
    config = write_config(tmp_path, extra=f'[export]\nfile_name = "{pattern}"')
    capsys.readouterr()
    assert run(config, "export-files", "--output", str(tmp_path / "x.zip")) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "export.file_name" in err and words in err
    assert not (tmp_path / "x.zip").exists()


def test_an_unknown_export_key_and_a_wrong_suffix_are_one_line(tmp_path, capsys):
    config = write_config(tmp_path, extra='[export]\nfilename = "{unit}{ext}"')
    capsys.readouterr()
    assert run(config, "export-files", "--output", str(tmp_path / "x.zip")) == 2
    assert "export.filename" in capsys.readouterr().err
    config = write_config(tmp_path)
    assert run(config, "export-files", "--output", str(tmp_path / "x.rar")) == 2
    assert ".zip" in capsys.readouterr().err


def test_dashboard_download_is_a_valid_zip(tmp_path):
    settings = load_settings(build_campaign(tmp_path).config)
    app = dashboard_app(settings, "127.0.0.1")
    app.testing = True
    client = app.test_client()
    assert 'href="/export/files.zip"' in client.get("/").get_data(as_text=True)
    response = client.get("/export/files.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert int(response.headers["Content-Length"]) == len(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert f"{JIXIE}/机械学院-工作总结.docx" in archive.namelist()
        assert len(manifest(archive)) == 11
    every = client.get("/export/files.zip?all=1")
    with zipfile.ZipFile(io.BytesIO(every.get_data())) as archive:
        assert f"{JIXIE}/机械学院-工作总结-第1版.docx" in archive.namelist()
    assert not [p for p in settings.storage_dir.iterdir() if p.name.startswith(".export-")]


def test_exporting_60_mb_keeps_python_memory_far_below_the_total(tmp_path):
    settings = load_settings(write_config(tmp_path))
    sessions = open_database(settings.database_url)
    store = RawStore(settings.storage_dir)
    file_size, total = 10 * 1024 * 1024, 0
    with sessions.begin() as session:
        records.sync_subcommittees(
            session, [(u.name, u.aliases, u.emails) for u in settings.subcommittees]
        )
        units = records.all_subcommittees(session)
        for number in range(6):
            data = os.urandom(file_size)
            digest = store.put(data, "attachments")
            item = ("summary", "summary_scan", "table", "table_scan")[number // len(units) * 2]
            name = "总结.doc" if number % 2 else "扫描件.pdf"  # compressed and stored entries
            unit = units[number % len(units)].id
            add_version(session, unit, item, name, digest, file_size, BEFORE)
            total += file_size
            del data
    output = tmp_path / "big.zip"
    tracemalloc.start()
    try:
        export = export_files(settings, sessions, output)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert export.total_size == total == 60 * 1024 * 1024
    assert peak < total / 8, f"peak {peak / 1e6:.1f} MB for {total / 1e6:.0f} MB of files"
    with zipfile.ZipFile(output) as archive:
        assert archive.testzip() is None
        assert sum(info.file_size for info in archive.infolist() if "/" in info.filename) == total
