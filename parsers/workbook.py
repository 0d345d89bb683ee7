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
from dataclasses import dataclass

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


Range = tuple[int, int, int, int]
"""A merged range, 0-based inclusive: (first_row, first_col, last_row, last_col)."""


@dataclass
class Book:
    """What one opening of a workbook gives, per visible sheet (at most ten): its values (a list
    of row tuples), its merged ranges and its hidden columns (0-based). ``merges`` or ``hidden``
    is None when it could not be read (merged cells then give their value in the top-left only;
    every column is visible)."""

    sheets: list[list[tuple]]
    merges: list[list[Range]] | None = None
    hidden: list[set[int]] | None = None


def load_sheets(data: bytes) -> list[list[tuple]]:
    """The values of the visible sheets (at most ten), each a list of row tuples.

    Raises WorkbookError("unsupported_format") for other formats, ("unreadable") for
    damaged, encrypted or hostile files.
    """
    return read_sheets(readable_bytes(data))


def read_sheets(data: bytes) -> list[list[tuple]]:
    """``load_sheets`` of bytes ``readable_bytes`` already gave (not probed a second time)."""
    return read_book(data, layout=False).sheets


def read_book(data: bytes, *, layout: bool = True) -> Book:
    """The values (and with ``layout`` the merged ranges and hidden columns) of the visible sheets
    of bytes ``readable_bytes`` gave, all from one opening of the workbook. Raises WorkbookError
    as ``load_sheets``; a layout that cannot be read is None (logged), not an error."""
    if data[:8] == OLE_MAGIC:
        return _xls_book(data, layout=layout)
    try:
        return _xlsx_book(data, layout=layout)
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


def _xlsx_book(data: bytes, *, layout: bool) -> Book:
    """Values and layout of an .xlsx/.xlsm package, checked for bombs first."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_package(archive, "xl/")
    except (zipfile.BadZipFile, PackageRefused, OSError, EOFError, ValueError) as exc:
        raise WorkbookError("unreadable", str(exc)) from exc
    workbook = load_workbook(io.BytesIO(data), data_only=True)
    try:
        visible = [s for s in workbook.worksheets[:MAX_SHEETS] if s.sheet_state == "visible"]
        sheets = []
        for sheet in visible:
            rows = sheet.iter_rows(
                max_row=min(sheet.max_row, MAX_ROWS),
                max_col=min(sheet.max_column, MAX_COLS),
                values_only=True,
            )
            sheets.append([tuple(row) for row in rows])
        book = Book(sheets)
        if layout:
            book.merges = _layout_part("merged cells", data, lambda: _xlsx_merges(visible))
            book.hidden = _layout_part("hidden columns", data, lambda: _xlsx_hidden(visible))
        return book
    finally:
        workbook.close()


def _layout_part(what: str, data: bytes, read):  # noqa: ANN001, ANN202 - a callable and its result
    """``read()``, or None (logged) when it fails: one part of the layout need not cost both."""
    try:
        return read()
    except Exception:  # noqa: BLE001
        log_failure(f"reading {what}", "", data)
        return None


def _xlsx_merges(sheets: list) -> list[list[Range]]:
    """The merged ranges of openpyxl sheets."""
    return [
        [
            (r.min_row - 1, r.min_col - 1, r.max_row - 1, r.max_col - 1)
            for r in sheet.merged_cells.ranges
        ]
        for sheet in sheets
    ]


def _xlsx_hidden(sheets: list) -> list[set[int]]:
    """The hidden columns (0-based, under MAX_COLS) of openpyxl sheets."""
    from openpyxl.utils import column_index_from_string

    result = []
    for sheet in sheets:
        hidden: set[int] = set()
        for key, dim in sheet.column_dimensions.items():
            if dim.hidden:
                first = column_index_from_string(key) if dim.min is None else dim.min
                last = first if dim.max is None else max(dim.max, first)
                hidden.update(c - 1 for c in range(first, min(last, MAX_COLS) + 1))
        result.append(hidden)
    return result


def _xls_book(data: bytes, *, layout: bool) -> Book:
    """Values (numbers as floats, dates as ISO text) and layout of a BIFF .xls/.et file. The
    layout needs xlrd's formatting_info: when the file opens only without it, its values are
    read with no layout."""
    import xlrd

    if is_encrypted_ole(data):
        raise WorkbookError("unreadable", "encrypted OOXML package")
    book = None
    if layout:
        try:
            book = xlrd.open_workbook(
                file_contents=data, formatting_info=True, on_demand=True, logfile=io.StringIO()
            )
        except Exception:  # noqa: BLE001 - the values may still be read without the layout
            log_failure("reading the layout of the workbook", "", data)
    formatted = book is not None
    if book is None:
        try:
            book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
        except Exception as exc:  # noqa: BLE001 - xlrd raises many kinds on bad or encrypted files
            log_failure("reading the workbook", "", data)
            raise WorkbookError("unreadable", repr(exc)) from exc
    try:
        return _xls_read(book, data, layout=formatted)
    finally:
        book.release_resources()


def _xls_read(book, data: bytes, *, layout: bool) -> Book:  # noqa: ANN001 - an xlrd book
    """The visible sheets of an open xlrd book, and with ``layout`` their merges and hidden
    columns."""
    sheets, merges, hidden = [], [], []
    try:
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
            if layout:
                merges.append(sheet.merged_cells)
                hidden.append(sheet.colinfo_map)
            book.unload_sheet(index)
    except Exception as exc:  # noqa: BLE001
        log_failure("reading the workbook's sheets", "", data)
        raise WorkbookError("unreadable", repr(exc)) from exc
    result = Book(sheets)
    if layout:
        result.merges = _layout_part(
            "merged cells",
            data,
            lambda: [
                [(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in cells] for cells in merges
            ],
        )
        result.hidden = _layout_part(
            "hidden columns",
            data,
            lambda: [
                {c for c, info in columns.items() if info.hidden and c < MAX_COLS}
                for columns in hidden
            ],
        )
    return result


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
