"""Tests of the legacy formats: .doc (through LibreOffice), .xls/.et (xlrd), .wps, RTF."""

import subprocess
import tempfile
from functools import cache
from pathlib import Path

import pytest

from intake.samples import documents
from parsers import convert
from tests.helpers.judging import examine, parse_summary, parse_table

UNIT = "机械工程与自动化学院分党委"
needs_libreoffice = pytest.mark.skipif(
    convert.converter_path() is None, reason="LibreOffice is not installed"
)


def codes(finding):
    return [p.code for p in finding.problems]


@cache
def legacy(fmt, **kwargs):
    """The sample summary saved by LibreOffice as ``fmt`` (doc, rtf): a real Word 97 file."""
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "s.docx"
        source.write_bytes(documents.summary_docx(UNIT, **kwargs))
        subprocess.run(
            [
                convert.converter_path(),
                "--headless",
                f"-env:UserInstallation=file://{work}/p",
                "--convert-to",
                fmt,
                "--outdir",
                work,
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return (Path(work) / f"s.{fmt}").read_bytes()


@needs_libreoffice
def test_doc_summary_gives_the_same_facts_as_the_docx():
    data = legacy("doc")
    assert data[:8] == convert.__dict__.get("OLE_MAGIC", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    [finding] = examine("2021年工作总结.doc", data, expected_unit=UNIT)
    assert (finding.kind, finding.problems) == ("summary", [])
    assert finding.facts["format"] == "doc"
    assert finding.facts["unit"] == UNIT and finding.facts["basic_chars"] == 600
    assert [(c["chars"], c["photos"], c["captions"]) for c in finding.facts["cases"]] == [
        (420, 2, 2),
        (380, 3, 3),
    ]


@needs_libreoffice
def test_doc_summary_problems_are_found_too():
    data = legacy("doc", basic_chars=1001)
    assert codes(parse_summary("总结.doc", data)) == ["basic_too_long"]


@needs_libreoffice
def test_wps_and_rtf_in_word_format():
    [wps] = examine("总结.wps", legacy("doc"))
    assert (wps.kind, wps.problems) == ("summary", [])
    [rtf] = examine("总结.doc", legacy("rtf"))
    assert rtf.kind == "summary" and rtf.facts["basic_chars"] == 600


def test_converter_missing_is_unsupported_format(monkeypatch):
    monkeypatch.setattr(convert, "converter_path", lambda: None)
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 512
        + "WordDocument".encode("utf-16-le")
        + b"\0" * 512
    )
    [finding] = examine("总结.doc", ole)
    assert (finding.kind, codes(finding)) == ("summary", ["unsupported_format"])
    assert ".docx" in finding.problems[0].message and ".xls" in finding.problems[0].message


@needs_libreoffice
def test_damaged_doc_is_unreadable_and_damaged_wps_unsupported():
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 512
        + "WordDocument".encode("utf-16-le")
        + b"\x07" * 4096
    )
    assert codes(examine("总结.doc", ole)[0]) == ["unreadable"]
    assert codes(examine("总结.wps", ole)[0]) == ["unsupported_format"]
    truncated = legacy("doc")[:3000]
    assert codes(examine("总结.doc", truncated)[0]) in (
        ["unreadable"],
        ["case_photos", "case_photos"],
        [],
    )


def test_encrypted_office_files_are_unreadable():
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 512
        + "EncryptedPackage".encode("utf-16-le")
        + b"\0" * 512
    )
    for name in ("总结.docx", "汇总表.xlsx", "总结.doc"):
        assert codes(examine(name, ole)[0]) == ["unreadable"], name


def test_xls_table_is_read_like_the_xlsx():
    data = documents.table_xls(UNIT)
    finding = parse_table("汇总表.xls", data, expected_unit=UNIT)
    assert finding.problems == []
    assert (
        finding.facts["unit"] == UNIT
        and finding.facts["plans"] == 10
        and finding.facts["best"] == 3
    )
    first = finding.facts["rows"][0]
    assert (first["branch"], first["grade"], first["row"]) == ("教工第一党支部", "最佳", 4)
    assert isinstance(first["budget"], int)  # stored as text, read as a number


@pytest.mark.parametrize("name", ["汇总表.xls", "汇总表.et", "附件2"])
def test_xls_routed_by_content_and_checked(name):
    [finding] = examine(name, documents.table_xls(UNIT, plans=5, best=3), expected_unit=UNIT)
    assert (finding.kind, codes(finding)) == ("table", ["best_ratio_exceeded"])
    [other] = examine(
        name, documents.table_xls(UNIT, named_unit="计算机学院分党委"), expected_unit=UNIT
    )
    assert codes(other) == ["subcommittee_mismatch"]


def test_truncated_xls_is_unreadable():
    data = documents.table_xls(UNIT)
    assert codes(parse_table("汇总表.xls", data[:2000])) == ["unreadable"]
