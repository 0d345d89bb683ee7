"""Reading the cell values of a workbook, whatever its format: .xlsx/.xlsm, or BIFF .xls/.et.

The format is told by the magic bytes, never by the name: a zip package is read with openpyxl
(after ``parsers.packages`` has checked it for bombs; openpyxl itself parses through
defusedxml), an OLE file with xlrd. xlrd reads BIFF5/BIFF8 .xls, which is also what WPS
Spreadsheets writes in an .et file; it is pure Python, needs no converter process and reads
the merged-cell table, so it was chosen over a LibreOffice conversion (about a second and
200 MB per file). Merged cells give their value in the top-left cell only, as in openpyxl.

Where xlrd cannot fully read a valid BIFF file (a NAME formula it cannot evaluate, an assertion
in its record parser), the file is converted to .xlsx by LibreOffice Calc
(``parsers.convert.xls_to_xlsx``, package ``libreoffice-calc-nogui``) and read as one; only when
that fails too is it ``unreadable``. An .xlsb (binary OOXML: a zip with ``xl/workbook.bin``) is
``unsupported_format``. Every exception caught here is logged once, at warning, with the file's
sha256.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile

from .failures import log_failure
from .packages import OLE_MAGIC, PackageRefused, check_package, is_encrypted_ole

MAX_SHEETS = 10
MAX_ROWS = 2000
MAX_COLS = 40
log = logging.getLogger(__name__)


class WorkbookError(Exception):
    """The bytes are not a workbook we can read; ``code`` is the problem code to give."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


def load_sheets(data: bytes) -> list[list[tuple]]:
    """The values of the visible sheets (at most ten), each a list of row tuples.

    Raises WorkbookError("unsupported_format") for other formats, ("unreadable") for
    damaged, encrypted or hostile files.
    """
    return read_sheets(readable_bytes(data))


def read_sheets(data: bytes) -> list[list[tuple]]:
    """``load_sheets`` of bytes ``readable_bytes`` already gave (not probed a second time)."""
    if data[:8] == OLE_MAGIC:
        return _xls_sheets(data)
    try:
        return _xlsx_sheets(data)
    except WorkbookError:
        raise
    except Exception as exc:  # noqa: BLE001 - any library failure on a bad file
        log_failure("reading the workbook", "", data)
        raise WorkbookError("unreadable", repr(exc)) from exc


def readable_bytes(data: bytes) -> bytes:
    """The bytes to read a workbook from: ``data`` itself, or for a BIFF file xlrd cannot open
    the .xlsx LibreOffice makes of it. Raises WorkbookError for other formats (.xlsb included:
    ``unsupported_format``), encrypted files and files neither reader can open (``unreadable``)."""
    if data[:2] == b"PK":
        if _is_xlsb(data):
            raise WorkbookError("unsupported_format", "binary workbook (.xlsb)")
        return data
    if data[:8] != OLE_MAGIC:
        raise WorkbookError("unsupported_format")
    if is_encrypted_ole(data):
        raise WorkbookError("unreadable", "encrypted OOXML package")
    import xlrd

    try:
        xlrd.open_workbook(
            file_contents=data, on_demand=True, logfile=io.StringIO()
        ).release_resources()
        xlrd.open_workbook(
            file_contents=data, formatting_info=True, on_demand=True, logfile=io.StringIO()
        ).release_resources()
        return data
    except Exception as exc:  # noqa: BLE001 - xlrd raises many kinds (asserts too) on files it cannot read
        if not _xlrd_limit(exc):
            return data  # a damaged file: the reader below tells it unreadable (and logs it)
        log_failure("xlrd reading the workbook (converting it with LibreOffice)", "", data)
    return _converted(data)


def _xlrd_limit(exc: Exception) -> bool:
    """Whether xlrd failed on something of a valid file it does not support (a NAME formula it
    cannot evaluate, an assertion in its record parser) rather than on damaged bytes: only then
    is a LibreOffice conversion worth its second."""
    from xlrd.biffh import XLRDError
    from xlrd.formula import FormulaError

    if isinstance(exc, (AssertionError, FormulaError)):
        return True
    return isinstance(exc, XLRDError) and any(
        word in str(exc) for word in ("NAME", "formula", "Formula")
    )


def _converted(data: bytes) -> bytes:
    """The .xlsx LibreOffice makes of a BIFF workbook, or WorkbookError."""
    from .convert import ConversionFailed, ConverterMissing, xls_to_xlsx

    try:
        converted = xls_to_xlsx(data)
    except ConverterMissing as exc:
        log.warning(
            "no LibreOffice to convert a workbook xlrd cannot read (sha256 %s)",
            hashlib.sha256(data).hexdigest(),
        )
        raise WorkbookError("unreadable", str(exc)) from exc
    except (ConversionFailed, OSError) as exc:
        log_failure("converting the workbook with LibreOffice", "", data)
        raise WorkbookError("unreadable", str(exc)) from exc
    if converted[:2] != b"PK" or _is_xlsb(converted):
        raise WorkbookError("unreadable", "the converter gave no .xlsx")
    return converted


def _is_xlsb(data: bytes) -> bool:
    """Whether a zip package is a binary workbook (.xlsb: xl/workbook.bin, no workbook.xml)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except Exception:  # noqa: BLE001 - not a readable zip: told by the reader later
        return False
    return "xl/workbook.bin" in names and "xl/workbook.xml" not in names


def _xlsx_sheets(data: bytes) -> list[list[tuple]]:
    """Sheets of an .xlsx/.xlsm package."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_package(archive, "xl/")
    except (zipfile.BadZipFile, PackageRefused, OSError, EOFError, ValueError) as exc:
        raise WorkbookError("unreadable", str(exc)) from exc
    workbook = load_workbook(io.BytesIO(data), data_only=True)
    try:
        sheets = []
        for sheet in workbook.worksheets[:MAX_SHEETS]:
            if sheet.sheet_state == "visible":
                rows = sheet.iter_rows(
                    max_row=min(sheet.max_row, MAX_ROWS),
                    max_col=min(sheet.max_column, MAX_COLS),
                    values_only=True,
                )
                sheets.append([tuple(row) for row in rows])
        return sheets
    finally:
        workbook.close()


def _xls_sheets(data: bytes) -> list[list[tuple]]:
    """Sheets of a BIFF .xls/.et file (numbers as floats, dates as ISO text)."""
    import xlrd

    if is_encrypted_ole(data):
        raise WorkbookError("unreadable", "encrypted OOXML package")
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
    except Exception as exc:  # noqa: BLE001 - xlrd raises many kinds on bad or encrypted files
        log_failure("reading the workbook", "", data)
        raise WorkbookError("unreadable", repr(exc)) from exc
    try:
        sheets = []
        for index in range(min(book.nsheets, MAX_SHEETS)):
            sheet = book.sheet_by_index(index)
            if getattr(sheet, "visibility", 0) != 0:
                continue
            rows = []
            for r in range(min(sheet.nrows, MAX_ROWS)):
                rows.append(
                    tuple(
                        _xls_value(sheet.cell(r, c), book.datemode)
                        for c in range(min(sheet.ncols, MAX_COLS))
                    )
                )
            sheets.append(rows)
            book.unload_sheet(index)
        return sheets
    except Exception as exc:  # noqa: BLE001
        log_failure("reading the workbook's sheets", "", data)
        raise WorkbookError("unreadable", repr(exc)) from exc
    finally:
        book.release_resources()


def _xls_value(cell, datemode: int):
    """One xlrd cell as openpyxl would give it (None for empty, text, number or date text)."""
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, datemode).isoformat()
        except Exception:  # noqa: BLE001 - a date out of range: keep the number
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return cell.value
