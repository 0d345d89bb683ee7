"""Valid workbooks xlrd cannot fully read go through LibreOffice (xls→xlsx); .xlsb is
unsupported_format; every caught failure is logged once at warning with the file's sha256."""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest

from parsers import convert
from parsers.workbook import WorkbookError, load_sheets
from tests.helpers.judging import examine, parse_table
from tests.parsers.test_table_template import GRADES, UNIT, check_template, template_xlsx

needs_calc = pytest.mark.skipif(
    convert.converter_path() is None, reason="LibreOffice is not installed"
)


def _with_circular_names(xlsx: bytes) -> bytes:
    """The workbook with two defined names referring to each other (na = nb+1, nb = na+1):
    valid for Excel and LibreOffice, but xlrd gives up on the NAME formula."""
    from openpyxl import load_workbook
    from openpyxl.workbook.defined_name import DefinedName

    wb = load_workbook(io.BytesIO(xlsx))
    for name, text in (("na", "nb+1"), ("nb", "na+1")):
        defined = DefinedName(name, attr_text=text)
        try:
            wb.defined_names[name] = defined
        except TypeError:  # older openpyxl
            wb.defined_names.append(defined)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _to_xls(xlsx: bytes) -> bytes:
    """A BIFF8 .xls made by LibreOffice Calc from ``xlsx`` (generated, not copied)."""
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "in.xlsx"
        source.write_bytes(xlsx)
        subprocess.run(
            [
                convert.converter_path(),
                "--headless",
                "--norestore",
                f"-env:UserInstallation={(Path(work) / 'profile').as_uri()}",
                "--convert-to",
                "xls:MS Excel 97",
                "--outdir",
                work,
                str(source),
            ],
            check=False,
            capture_output=True,
            timeout=120,
        )
        result = Path(work) / "in.xls"
        if not result.is_file():
            pytest.skip("LibreOffice Calc (libreoffice-calc-nogui) is not installed")
        return result.read_bytes()


@pytest.fixture(scope="module")
def name_formula_xls() -> bytes:
    if convert.converter_path() is None:
        pytest.skip("LibreOffice is not installed")
    data = _to_xls(_with_circular_names(template_xlsx()))
    import xlrd

    with pytest.raises(xlrd.XLRDError, match="NAME formula"):
        xlrd.open_workbook(file_contents=data, logfile=io.StringIO())
    return data


@needs_calc
def test_xls_xlrd_cannot_read_is_read_through_libreoffice(name_formula_xls, caplog):
    caplog.set_level(logging.WARNING)
    finding = parse_table("汇总表.xls", name_formula_xls, expected_unit=UNIT)
    check_template(finding)
    digest = hashlib.sha256(name_formula_xls).hexdigest()
    logged = [r for r in caplog.records if digest in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING and logged[0].exc_info


@needs_calc
def test_registry_reads_it_too(name_formula_xls):
    [finding] = examine(
        "2022年基层党组织活动方案立项结果汇总表.xls", name_formula_xls, expected_unit=UNIT
    )
    assert finding.kind == "table"
    assert [p.code for p in finding.problems] == []
    assert [r["grade"] for r in finding.facts["rows"]] == GRADES


def test_converter_missing_means_unreadable(name_formula_xls, monkeypatch, caplog):
    monkeypatch.setattr(convert, "converter_path", lambda: None)
    caplog.set_level(logging.WARNING)
    finding = parse_table("汇总表.xls", name_formula_xls)
    assert [p.code for p in finding.problems] == ["unreadable"]
    assert hashlib.sha256(name_formula_xls).hexdigest() in caplog.text


def test_damaged_xls_is_not_sent_to_libreoffice(monkeypatch):
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    wb.add_sheet("s").write(0, 0, "党支部名称")
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()[:1536]  # cut short: damaged, not a limit of xlrd

    def refuse(*_args, **_kwargs):
        raise AssertionError("a damaged file must not be converted")

    monkeypatch.setattr(convert, "xls_to_xlsx", refuse)
    with pytest.raises(WorkbookError) as caught:
        load_sheets(data)
    assert caught.value.code == "unreadable"


def _xlsb() -> bytes:
    """A minimal .xlsb package: OOXML parts, the workbook in binary (xl/workbook.bin)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Override PartName="/xl/workbook.bin" ContentType='
            '"application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00\x80\x01\x00")
        archive.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00\x82\x01\x00")
    return buf.getvalue()


def test_xlsb_is_unsupported_format():
    finding = parse_table("汇总表.xlsb", _xlsb())
    assert [p.code for p in finding.problems] == ["unsupported_format"]
    [found] = examine("2022年立项结果汇总表.xlsb", _xlsb())
    assert [p.code for p in found.problems] == ["unsupported_format"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_xls_to_xlsx_gives_an_xlsx(name_formula_xls):
    converted = convert.xls_to_xlsx(name_formula_xls)
    assert converted[:2] == b"PK"
    assert load_sheets(converted)[0][0][0].startswith("2022年")
