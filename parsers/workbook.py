"""Reading the cell values of a workbook, whatever its format: .xlsx/.xlsm, or BIFF .xls/.et.

The format is told by the magic bytes, never by the name: a zip package is read with openpyxl
(after ``parsers.packages`` has checked it for bombs; openpyxl itself parses through
defusedxml), an OLE file with xlrd. xlrd reads BIFF5/BIFF8 .xls, which is also what WPS
Spreadsheets writes in an .et file; it is pure Python, needs no converter process and reads
the merged-cell table, so it was chosen over a LibreOffice conversion (about a second and
200 MB per file). Merged cells give their value in the top-left cell only, as in openpyxl.
"""

from __future__ import annotations

import io
import zipfile

from .packages import OLE_MAGIC, PackageRefused, check_package, is_encrypted_ole

MAX_SHEETS = 10
MAX_ROWS = 2000
MAX_COLS = 40


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
    if data[:8] == OLE_MAGIC:
        return _xls_sheets(data)
    if data[:2] != b"PK":
        raise WorkbookError("unsupported_format")
    try:
        return _xlsx_sheets(data)
    except WorkbookError:
        raise
    except Exception as exc:  # noqa: BLE001 - any library failure on a bad file
        raise WorkbookError("unreadable", repr(exc)) from exc


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
                rows = sheet.iter_rows(max_row=min(sheet.max_row, MAX_ROWS), max_col=min(sheet.max_column, MAX_COLS),
                                       values_only=True)
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
        raise WorkbookError("unreadable", repr(exc)) from exc
    try:
        sheets = []
        for index in range(min(book.nsheets, MAX_SHEETS)):
            sheet = book.sheet_by_index(index)
            if getattr(sheet, "visibility", 0) != 0:
                continue
            rows = []
            for r in range(min(sheet.nrows, MAX_ROWS)):
                rows.append(tuple(_xls_value(sheet.cell(r, c), book.datemode)
                                  for c in range(min(sheet.ncols, MAX_COLS))))
            sheets.append(rows)
            book.unload_sheet(index)
        return sheets
    except Exception as exc:  # noqa: BLE001
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
