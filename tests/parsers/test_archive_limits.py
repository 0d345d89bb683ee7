"""Archive limits over a whole attachment: bombs nested and flat, entry counts across levels,
nesting depth, listings checked before they are read. Bombs are built in code, true to their
declared sizes (one flushed deflate block repeated), so a 4 GB member costs 4 MB."""

from __future__ import annotations

import io
import sys
import zipfile
import zlib

import pytest

from intake.samples import archives, documents
from intake.samples.archives import packed_zip, zeros_entry
from parsers import archives as archive_limits
from parsers.archives import Budget, unpack_zip
from parsers.archives_more import _tool_output, unpack_7z
from tests.helpers.judging import examine

MB = 1024 * 1024
UNIT = "机械工程与自动化学院分党委"


def zip_of(members: list[tuple[str, bytes]]) -> bytes:
    return archives.zip_archive(members)


def codes(findings):
    return [(f.filename, [p.code for p in f.problems]) for f in findings]


def test_a_nested_zip_bomb_is_refused_once_before_anything_is_unpacked(monkeypatch):
    # 200 zips of 200 x 1 MB of zeros: 40 GB, each zip on its own within the per-archive limits
    bottom = packed_zip([zeros_entry(f"{i:03d}.txt", 1) for i in range(200)])
    bomb = zip_of([(f"{i:03d}.zip", bottom) for i in range(200)])
    assert len(bomb) < 2 * MB
    opened = []
    real_open = zipfile.ZipFile.open

    def counted_open(self, info, *args, **kwargs):
        opened.append(info)
        return real_open(self, info, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counted_open)
    findings = examine("材料.zip", bomb)
    assert codes(findings) == [("材料.zip/000.zip", ["too_large"])]
    assert "连同其中的压缩包" in findings[0].problems[0].message
    assert len(opened) == 200  # the outer members; not one byte of the bottom zips' members


def test_a_42_zip_like_bomb_of_three_levels_is_refused():
    bottom = packed_zip([zeros_entry(f"{i:02d}.bin", 16) for i in range(16)])
    middle = zip_of([(f"{i:02d}.zip", bottom) for i in range(16)])
    bomb = zip_of([(f"{i:02d}.zip", middle) for i in range(16)])  # 64 GB in a few KB
    findings = examine("材料.zip", bomb)
    assert len(findings) == 1 and [p.code for p in findings[0].problems] == ["too_large"]


def test_a_flat_bomb_is_refused_by_its_declared_sizes():
    member = zeros_entry("x", 4080)
    bomb = packed_zip([(f"{i}.bin", *member[1:]) for i in range(4)])  # 16 GB in 16 MB
    members, refusals = unpack_zip("材料.zip", bomb)
    assert members == [] and [r.code for r in refusals] == ["too_large"]
    assert "解压后" in refusals[0].message and "200.0 MB" in refusals[0].message


def test_many_small_members_are_judged_by_the_ratio_of_the_whole_archive():
    bomb = packed_zip(
        [zeros_entry(f"{i:02d}.txt", 1) for i in range(50)]
    )  # each at the floor, 1 MB
    members, refusals = unpack_zip("材料.zip", bomb)
    assert members == [] and [r.code for r in refusals] == ["too_large"]
    assert "压缩比 200 倍" in refusals[0].message


def test_entries_are_counted_across_nesting_levels():
    inner = zip_of([(f"inner{i:03d}.txt", b"x") for i in range(120)])
    outer = zip_of([(f"outer{i:03d}.txt", b"y") for i in range(100)] + [("more.zip", inner)])
    assert len(unpack_zip("a.zip", inner)[0]) == 120  # each level alone is within the limit
    assert len(unpack_zip("a.zip", outer)[0]) == 101
    findings = examine("a.zip", outer)
    refused = [f for f in findings if f.problems and f.problems[0].code == "too_large"]
    assert [f.filename for f in refused] == ["a.zip/more.zip"]
    assert "共有 221 个文件" in refused[0].problems[0].message
    assert not any(f.filename.startswith("a.zip/more.zip/") for f in findings)


def test_a_huge_listing_is_refused_before_the_zip_is_read(monkeypatch):
    one = (zlib.crc32(b"x"), 1, b"x", 0)
    flood = packed_zip([(f"{i:06d}.txt", *one) for i in range(60_000)])
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("the listing was read"))
    members, refusals = unpack_zip("材料.zip", flood)
    assert members == [] and [r.code for r in refusals] == ["too_large"]
    assert "60000 个条目" in refusals[0].message
    [finding] = examine("材料.zip", flood)
    assert [p.code for p in finding.problems] == ["too_large"]


def test_a_central_directory_bigger_than_it_may_be_is_refused():
    long = "长" * 300  # 900 bytes a name: 6000 entries make a 5.7 MB directory
    one = (zlib.crc32(b"x"), 1, b"x", 0)
    data = packed_zip([(f"{i:05d}{long}.txt", *one) for i in range(6000)])
    budget = Budget(max_listed=10_000)
    refused = archive_limits.listing_refusal("a.zip", data, budget)
    assert [r.code for r in refused] == ["too_large"] and "文件目录" in refused[0].message


def test_nesting_is_bounded_and_answered_with_too_large():
    summary = documents.summary_docx(UNIT)
    two = zip_of([("b.zip", zip_of([("总结.docx", summary)]))])
    assert [(f.kind, [p.code for p in f.problems]) for f in examine("a.zip", two)] == [
        ("summary", [])
    ]
    three = zip_of([("b.zip", zip_of([("c.zip", zip_of([("总结.docx", summary)]))]))])
    findings = examine("a.zip", three)
    assert codes(findings) == [("a.zip/b.zip/c.zip", ["too_large"])]
    message = findings[0].problems[0].message
    assert "第 3 层压缩包" in message and "上限 2 层" in message


def test_a_7z_bomb_is_refused_by_its_ratio_before_it_is_decompressed():
    bomb = archives.sevenzip_archive([("zeros.bin", b"\0" * (30 * MB))])
    members, refusals = unpack_7z("材料.7z", bomb)
    assert members == [] and [r.code for r in refusals] == ["too_large"]
    assert "压缩比" in refusals[0].message


def test_7z_and_zip_share_one_budget():
    inner = zip_of([(f"{i:03d}.txt", b"x") for i in range(150)])
    outer = archives.sevenzip_archive(
        [(f"{i:03d}.txt", b"y") for i in range(60)] + [("in.zip", inner)]
    )
    findings = examine("a.7z", outer)
    assert [f.filename for f in findings if f.problems] == ["a.7z/in.zip"]


def test_an_archive_tool_writing_more_than_declared_is_stopped(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"z" * 5000)
    assert _tool_output(["/bin/cat", str(path)], cwd=tmp_path, limit=5000) == b"z" * 5000
    assert _tool_output(["/bin/cat", str(path)], cwd=tmp_path, limit=100) is None
    assert _tool_output(["/nonexistent/tool"], cwd=tmp_path, limit=100) is None


def test_old_refusal_sentences_still_read_as_before():
    from parsers.vocabulary import sentence

    stored = {"what": "来信", "size": "90.0 MB", "limit": "50.0 MB"}  # a fact kept in the database
    assert sentence("too_large", **stored) == (
        "来信大小为 90.0 MB，超过系统上限 50.0 MB，未能接收，请压缩或分开发送。"
    )


def test_a_workbook_with_too_many_shared_strings_is_refused_without_a_tree():
    from parsers import packages

    table = documents.table_xlsx(UNIT)
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(table)) as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            if info.filename != "xl/sharedStrings.xml":
                dst.writestr(info.filename, src.read(info.filename))
        count = packages.MAX_SHARED_STRINGS + 1
        dst.writestr(
            "xl/sharedStrings.xml",
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + b"<si><t>x</t></si>" * count
            + b"</sst>",
        )
    [finding] = examine("汇总表.xlsx", buf.getvalue())
    assert finding.kind == "table" and [p.code for p in finding.problems] == ["unreadable"]


@pytest.mark.skipif(sys.platform != "linux", reason="bsdtar and /bin/cat as on the server")
def test_a_stored_rar_within_the_budget_still_unpacks():
    rar = archives.rar_archive([("总结.txt", b"a" * 100), ("表.txt", b"b" * 100)])
    findings = examine("a.rar", rar)
    assert [f.filename for f in findings] == ["a.rar/总结.txt", "a.rar/表.txt"]
