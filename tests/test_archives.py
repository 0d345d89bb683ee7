"""Tests of zip unpacking: names in any encoding, litter skipped, limits kept."""

import io
import zipfile

from intake import sampledocs
from parsers.archives import base_name, unpack_zip


def codes(problems):
    return [p.code for p in problems]


def test_gbk_names_without_utf8_flag():
    data = sampledocs.zip_archive([("材料/2021年工作总结.docx", b"one"), ("汇总表（盖章）.pdf", b"two")],
                                  encoding="gbk")
    assert all(not info.flag_bits & 0x800 for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    members, problems = unpack_zip("材料.zip", data)
    assert problems == []
    assert members == [("2021年工作总结.docx", b"one"), ("汇总表（盖章）.pdf", b"two")]


def test_utf8_names_with_flag():
    data = sampledocs.zip_archive([("总结.docx", b"a"), ("dir/汇总表.xlsx", b"b")])
    members, _ = unpack_zip("a.zip", data)
    assert [name for name, _ in members] == ["总结.docx", "汇总表.xlsx"]


def test_utf8_names_without_flag():
    data = sampledocs.zip_archive([("立项结果汇总表.xlsx", b"b")], utf8_flag=False)
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
    data = bytearray(sampledocs.zip_archive([("总结.docx", b"secret")]))
    # set the "encrypted" bit in the local and central headers
    for at in (6, data.find(b"PK\x01\x02") + 8):
        data[at] |= 1
    members, problems = unpack_zip("a.zip", bytes(data))
    assert members == []
    assert codes(problems) == ["unreadable"]
    assert "a.zip/总结.docx" in problems[0].message


def test_limits():
    many = sampledocs.zip_archive([(f"file{i:03d}.txt", b"x") for i in range(5)])
    members, problems = unpack_zip("a.zip", many, max_members=4)
    assert members == [] and codes(problems) == ["too_large"]
    members, problems = unpack_zip("a.zip", many, max_total=4)
    assert members == [] and codes(problems) == ["too_large"]
    assert "4 B" in problems[0].message
    bomb = sampledocs.zip_archive([("zeros.bin", b"\0" * (3 * 1024 * 1024)), ("ok.txt", b"fine")])
    members, problems = unpack_zip("bomb.zip", bomb)
    assert members == [("ok.txt", b"fine")]
    assert codes(problems) == ["too_large"]
    assert len(unpack_zip("a.zip", many)[0]) == 5
