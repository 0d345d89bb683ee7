"""The zip of every unit's files (``tracker.file_export``) over a real SQLite database whose units,
messages and item versions are built in code, the files kept in a dictionary by SHA-256."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from parsers.rules import DEFAULT_RULES
from tests.helpers.campaign import DEADLINE
from tests.helpers.versions import add_version
from tracker import records
from tracker.db import open_database
from tracker.file_export import (
    MANIFEST_HEADER,
    MANIFEST_NAME,
    FileNameError,
    build_file_export,
    check_file_name,
    safe_name,
)

BEFORE = DEADLINE - timedelta(days=1)


class Campaign:
    """A database of units and their versions, and the stored bytes of every file."""

    def __init__(self, tmp_path, units) -> None:  # noqa: ANN001
        self.sessions = open_database(f"sqlite:///{tmp_path / 'export.db'}")
        self.files: dict[str, bytes] = {}
        with self.sessions.begin() as session:
            records.sync_subcommittees(session, units)

    def send(self, unit: str, item: str, filename: str, data: bytes, *, at, **verdicts) -> str:  # noqa: ANN001, ANN003
        digest = hashlib.sha256(data).hexdigest()
        self.files[digest] = data
        with self.sessions.begin() as session:
            found = records.find_subcommittee(session, unit)
            add_version(session, found.id, item, filename, digest, len(data), at, **verdicts)
        return digest

    def open_file(self, digest: str) -> io.BytesIO:
        return io.BytesIO(self.files[digest])

    def export(self, path, **options):  # noqa: ANN001, ANN003, ANN201
        with self.sessions() as session:
            return build_file_export(
                session,
                path,
                open_file=options.pop("open_file", self.open_file),
                rules=DEFAULT_RULES,
                deadline=DEADLINE,
                campaign="测试活动",
                **options,
            )


def manifest_rows(archive: zipfile.ZipFile) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(archive.read(MANIFEST_NAME)))["文件清单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == MANIFEST_HEADER
    return rows[2:]


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("机械学院:分党委", "机械学院_分党委"),
        ('a<b>c"d/e\\f|g?h*i', "a_b_c_d_e_f_g_h_i"),
        ("CON", "CON_"),
        ("con.docx", "con_.docx"),
        ("Com1 .pdf", "Com1_ .pdf"),
        ("LPT9", "LPT9_"),
        ("CONSOLE.docx", "CONSOLE.docx"),
        ("汇总表. . ", "汇总表"),
        ("tab\there\x07\x7f", "tab_here__"),
        ("invisible\u202eexe.docx", "invisibleexe.docx"),
        ("...", "未命名"),
        ("", "未命名"),
    ],
)
def test_safe_name_gives_names_windows_accepts(given, safe):
    assert safe_name(given) == safe


def test_safe_name_bounds_the_length_and_keeps_the_extension():
    name = safe_name("很长的名字" * 40 + ".docx")
    assert len(name) == 80 and name.endswith("很长的名字.docx"[-7:])
    assert safe_name("x" * 200, limit=60) == "x" * 60


@pytest.mark.parametrize(
    "pattern", ["{unit}-{title}{ext}", "{unit}-{item{ext}", "{unit!r}{ext}", "{unit:>9}", "{ext}"]
)
def test_bad_file_name_patterns_are_refused(pattern):
    with pytest.raises(FileNameError):
        check_file_name(pattern)


def test_good_file_name_patterns_pass():
    for pattern in ("{unit}-{item}{ext}", "{unit_name}_{item}", "{{2022}}{item}{ext}"):
        assert check_file_name(pattern) == pattern


def test_one_folder_per_unit_current_versions_renamed(tmp_path):
    campaign = Campaign(
        tmp_path,
        [("机械工程与自动化学院分党委", ["机械学院"], []), ("外国语学院分党委", [], [])],
    )
    campaign.send("机械学院", "summary", "总结初稿.DOCX", b"first", at=BEFORE)
    campaign.send(
        "机械学院", "summary", "总结（改）.docx", b"second", at=DEADLINE + timedelta(hours=1)
    )
    campaign.send("机械学院", "table_scan", "扫描.pdf", b"%PDF scan", at=BEFORE)
    campaign.send(
        "外国语学院分党委",
        "table",
        "表.xlsx",
        b"table",
        at=DEADLINE + timedelta(hours=2),
        problems=[{"code": "best_ratio_exceeded", "message": "……"}],
    )
    path = tmp_path / "out.zip"
    export = campaign.export(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == [
            "机械工程与自动化学院分党委/机械学院-工作总结.docx",
            "机械工程与自动化学院分党委/机械学院-立项结果汇总表（盖章扫描件）.pdf",
            "外国语学院分党委/外国语学院分党委-立项结果汇总表.xlsx",
            MANIFEST_NAME,
        ]
        assert all(info.flag_bits & 0x800 for info in archive.infolist())  # UTF-8 names
        assert archive.read(names[0]) == b"second"
        rows = manifest_rows(archive)
    assert [row[3] for row in rows] == names[:-1]
    assert rows[0] == (
        "机械工程与自动化学院分党委",
        "工作总结（电子版）",
        "第2版（当前）",
        names[0],
        "总结（改）.docx",
        "2022-04-01 18:00:00",
        "按时",  # the first version came in time
        None,
        None,
    )
    assert rows[2][5:8] == ("2022-04-01 19:00:00", "逾期", "最佳超30%")
    assert len(export.files) == 3 and ("外国语学院分党委", "工作总结（电子版）") in export.missing


def test_all_versions_are_numbered_in_order_of_arrival(tmp_path):
    campaign = Campaign(tmp_path, [("机械工程与自动化学院分党委", ["机械学院"], [])])
    for number in range(3):
        campaign.send(
            "机械学院",
            "summary",
            f"总结{number}.docx",
            f"v{number}".encode(),
            at=BEFORE + timedelta(hours=number),
        )
    campaign.send(
        "机械学院",
        "summary_scan",
        "IMG_1.jpg",
        b"photo",
        at=BEFORE,
        doubts=[{"code": "kind_unsure", "message": "……"}],
    )
    path = tmp_path / "all.zip"
    campaign.export(path, all_versions=True)
    with zipfile.ZipFile(path) as archive:
        folder = "机械工程与自动化学院分党委/"
        assert archive.namelist() == [
            folder + "机械学院-工作总结-第1版.docx",
            folder + "机械学院-工作总结-第2版.docx",
            folder + "机械学院-工作总结-第3版.docx",
            folder + "机械学院-工作总结（盖章扫描件）-第1版.jpg",
            MANIFEST_NAME,
        ]
        assert archive.read(folder + "机械学院-工作总结-第2版.docx") == b"v1"
        rows = manifest_rows(archive)
    assert [row[2] for row in rows] == ["第1版", "第2版", "第3版（当前）", "第1版"]
    assert rows[3][6:] == ("未计入（类型待核对）", None, "材料类型待核对")
    current = tmp_path / "current.zip"
    campaign.export(current)
    with zipfile.ZipFile(current) as archive:
        assert archive.namelist() == [folder + "机械学院-工作总结.docx", MANIFEST_NAME]


def test_unsafe_unit_names_and_colliding_file_names(tmp_path):
    campaign = Campaign(
        tmp_path,
        [("AUX", ["CON"], []), ("理学院: 物理/化学?", [" "], []), ("清单.xlsx", [], [])],
    )
    campaign.send("AUX", "summary", "a:b?.docx", b"1", at=BEFORE)
    campaign.send("AUX", "table", "CON.xlsx", b"2", at=BEFORE)
    campaign.send("理学院: 物理/化学?", "summary", "总结", b"3", at=BEFORE)
    campaign.send("理学院: 物理/化学?", "table", "汇总表.ex<e>", b"4", at=BEFORE)
    campaign.send("清单.xlsx", "summary", "x.docx", b"5", at=BEFORE)
    campaign.send("清单.xlsx", "table", "y.docx", b"6", at=BEFORE)
    path = tmp_path / "unsafe.zip"
    campaign.export(path, file_name="{unit}{ext}")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == [
            "AUX_/CON_.docx",
            "AUX_/CON_.xlsx",
            "理学院_ 物理_化学_/理学院_ 物理_化学_",
            "理学院_ 物理_化学_/理学院_ 物理_化学_（2）",
            "清单（2）.xlsx/清单.xlsx.docx",
            "清单（2）.xlsx/清单.xlsx（2）.docx",
            MANIFEST_NAME,
        ]
        assert [archive.read(name) for name in names[:-1]] == [b"1", b"2", b"3", b"4", b"5", b"6"]
        assert len(manifest_rows(archive)) == 6


def test_a_file_missing_from_the_store_is_listed_not_fatal(tmp_path):
    campaign = Campaign(tmp_path, [("机械工程与自动化学院分党委", ["机械学院"], [])])
    lost = campaign.send("机械学院", "summary", "总结.docx", b"gone", at=BEFORE)
    campaign.send("机械学院", "table", "表.xlsx", b"here", at=BEFORE)
    del campaign.files[lost]

    def open_file(digest: str) -> io.BytesIO:
        if digest not in campaign.files:
            raise FileNotFoundError(digest)
        return io.BytesIO(campaign.files[digest])

    path = tmp_path / "lost.zip"
    export = campaign.export(path, open_file=open_file)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [
            "机械工程与自动化学院分党委/机械学院-立项结果汇总表.xlsx",
            MANIFEST_NAME,
        ]
        rows = manifest_rows(archive)
    assert rows[0][7] == "存储中找不到原文件，未导出"
    assert [entry.original for entry in export.unreadable] == ["总结.docx"]


def test_the_zip_can_go_to_an_open_file(tmp_path):
    campaign = Campaign(tmp_path, [("机械工程与自动化学院分党委", ["机械学院"], [])])
    campaign.send("机械学院", "summary", "总结.docx", b"x" * 100_000, at=BEFORE)
    buffer = io.BytesIO()
    campaign.export(buffer, file_name="{unit_name}_{item}")
    with zipfile.ZipFile(buffer) as archive:
        assert archive.namelist()[0] == (
            "机械工程与自动化学院分党委/机械工程与自动化学院分党委_工作总结.docx"
        )
        assert archive.getinfo(archive.namelist()[0]).compress_type == zipfile.ZIP_STORED
