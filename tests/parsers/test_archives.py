"""Tests of zip unpacking: names in any encoding, litter skipped, limits kept."""

import io
import zipfile

from intake.samples import archives
from parsers.archives import base_name, unpack_zip


def codes(problems):
    return [p.code for p in problems]


def test_gbk_names_without_utf8_flag():
    data = archives.zip_archive(
        [("材料/2021年工作总结.docx", b"one"), ("汇总表（盖章）.pdf", b"two")], encoding="gbk"
    )
    assert all(not info.flag_bits & 0x800 for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    members, problems = unpack_zip("材料.zip", data)
    assert problems == []
    assert members == [("2021年工作总结.docx", b"one"), ("汇总表（盖章）.pdf", b"two")]


def test_utf8_names_with_flag():
    data = archives.zip_archive([("总结.docx", b"a"), ("dir/汇总表.xlsx", b"b")])
    members, _ = unpack_zip("a.zip", data)
    assert [name for name, _ in members] == ["总结.docx", "汇总表.xlsx"]


def test_utf8_names_without_flag():
    data = archives.zip_archive([("立项结果汇总表.xlsx", b"b")], utf8_flag=False)
    members, _ = unpack_zip("a.zip", data)
    assert members == [("立项结果汇总表.xlsx", b"b")]


def test_paths_stripped_and_litter_skipped():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("../../etc/总结.docx", b"x")
        archive.writestr("a\\b\\表.xlsx", b"y")
        archive.writestr("__MACOSX/._总结.docx", b"junk")
        archive.writestr("sub/.DS_Store", b"junk")
        archive.writestr("sub/", b"")
    members, problems = unpack_zip("a.zip", buf.getvalue())
    assert problems == []
    assert members == [("总结.docx", b"x"), ("表.xlsx", b"y")]
    assert base_name("../..") == ""


def test_corrupt_and_encrypted():
    assert codes(unpack_zip("a.zip", b"PK\x03\x04 nonsense")[1]) == ["unreadable"]
    data = bytearray(archives.zip_archive([("总结.docx", b"secret")]))
    # set the "encrypted" bit in the local and central headers
    for at in (6, data.find(b"PK\x01\x02") + 8):
        data[at] |= 1
    members, problems = unpack_zip("a.zip", bytes(data))
    assert members == []
    assert codes(problems) == ["unreadable"]
    assert "a.zip/总结.docx" in problems[0].message


def test_limits():
    many = archives.zip_archive([(f"file{i:03d}.txt", b"x") for i in range(5)])
    members, problems = unpack_zip("a.zip", many, max_members=4)
    assert members == [] and codes(problems) == ["too_large"]
    members, problems = unpack_zip("a.zip", many, max_total=4)
    assert members == [] and codes(problems) == ["too_large"]
    assert "4 B" in problems[0].message
    bomb = archives.zip_archive([("zeros.bin", b"\0" * (3 * 1024 * 1024)), ("ok.txt", b"fine")])
    members, problems = unpack_zip("bomb.zip", bomb)
    assert members == [("ok.txt", b"fine")]
    assert codes(problems) == ["too_large"]
    assert len(unpack_zip("a.zip", many)[0]) == 5


# ---------------------------------------------------------------- 7z and RAR

from parsers.archives_more import unpack_7z, unpack_rar  # noqa: E402


def test_7z_members_and_limits():
    data = archives.sevenzip_archive(
        [("材料/总结.docx", b"one"), ("__MACOSX/._x", b"junk"), ("表.xlsx", b"two")]
    )
    members, problems = unpack_7z("a.7z", data)
    assert problems == [] and members == [("总结.docx", b"one"), ("表.xlsx", b"two")]
    assert codes(unpack_7z("a.7z", data, max_members=1)[1]) == ["too_large"]
    bomb = archives.sevenzip_archive([("zeros.bin", b"\0" * (4 * 1024 * 1024))])
    members, problems = unpack_7z("bomb.7z", bomb)
    assert members == [] and codes(problems) == ["too_large"] and "压缩比" in problems[0].message
    assert codes(unpack_7z("a.7z", data[:40])[1]) == ["unreadable"]


def test_rar_members_gbk_names_and_limits():
    for encoding in ("utf-8", "gbk"):
        data = archives.rar_archive(
            [("材料/2021年工作总结.docx", b"one"), ("汇总表.xlsx", b"two")], encoding=encoding
        )
        members, problems = unpack_rar("a.rar", data)
        assert problems == [] and members == [
            ("2021年工作总结.docx", b"one"),
            ("汇总表.xlsx", b"two"),
        ], encoding
    data = archives.rar_archive([(f"f{i}.txt", b"x") for i in range(3)])
    assert codes(unpack_rar("a.rar", data, max_members=2)[1]) == ["too_large"]
    assert codes(unpack_rar("a.rar", data, max_total=2)[1]) == ["too_large"]
    assert codes(unpack_rar("a.rar", b"Rar!\x1a\x07\x00")[1]) == ["unreadable"]


def test_rar_read_through_the_debian_tool(monkeypatch):
    import shutil

    from parsers import archives_more

    if not shutil.which("bsdtar"):
        import pytest

        pytest.skip("bsdtar (libarchive-tools) is not installed")
    monkeypatch.setattr(archives_more, "FORCE_TOOL", True)
    data = archives.rar_archive(
        [("总结.docx", b"hello world"), ("材料/表.xlsx", b"x" * 5000), ("b.txt", b"")],
        encoding="gbk",
    )
    assert unpack_rar("a.rar", data) == (
        [("总结.docx", b"hello world"), ("表.xlsx", b"x" * 5000), ("b.txt", b"")],
        [],
    )
    broken = data.replace(b"hello world", b"hello WORLD")
    members, problems = unpack_rar("a.rar", broken)
    assert codes(problems) == ["unreadable"] and len(members) == 2
