"""The parser registry: what an attachment is, and which parser reads it.

The file's own bytes decide first (zip package, PDF, image, OLE), its name second. Archives
are unpacked and each member examined (a zip inside a zip once more, no deeper). Nothing
here raises for bad input: any failure of a parser becomes an ``unreadable`` problem.
"""

from __future__ import annotations

import io
import logging
import zipfile

from .archives import unpack_zip
from .findings import Finding
from .messages import human_size, problem
from .scan import inspect_pdf, parse_scan
from .summary import parse_summary
from .table import parse_table

log = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"GIF8", b"BM")
OTHER_ARCHIVES = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")
SCAN_HINTS = ("扫描", "盖章", "scan")
MATERIAL_HINTS = ("总结", "汇总表", "立项", "扫描", "盖章")
TINY_BYTES = 20 * 1024
TINY_SIDE = 300
MAX_NESTING = 1  # a zip inside a zip is unpacked once more, not deeper


def examine(filename: str, data: bytes, *, content_type: str | None = None, expected_unit: str | None = None,
            max_bytes: int = 30 * 1024 * 1024) -> list[Finding]:
    """The findings for one attachment (several for an archive), never raising for bad input."""
    return _examine(filename, data, expected_unit=expected_unit, max_bytes=max_bytes, depth=0)


def _examine(filename: str, data: bytes, *, expected_unit: str | None, max_bytes: int, depth: int) -> list[Finding]:
    """examine() at a nesting depth of archives."""
    if len(data) > max_bytes:
        return [_finding(filename, data, kind_by_name(filename),
                         problem("too_large", what=f"附件《{filename}》", size=human_size(len(data)),
                                 limit=human_size(max_bytes)))]
    try:
        findings = _dispatch(filename, data, expected_unit=expected_unit, max_bytes=max_bytes, depth=depth)
    except Exception:  # noqa: BLE001 - the promise: bad input never stops the pipeline
        log.debug("examining %s failed", filename, exc_info=True)
        findings = [_finding(filename, data, kind_by_name(filename), problem("unreadable", filename=filename))]
    for finding in findings:
        if finding.data is None:
            finding.data = data
        if not finding.size:
            finding.size = len(finding.data)
    return findings


def _dispatch(filename: str, data: bytes, *, expected_unit: str | None, max_bytes: int, depth: int) -> list[Finding]:
    """Route by magic bytes first, by the name's extension second."""
    ext = _extension(filename)
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return _zip(filename, data, expected_unit=expected_unit, max_bytes=max_bytes, depth=depth)
    if data[:1024].find(b"%PDF") >= 0:
        return [_pdf(filename, data)]
    if data.startswith(IMAGE_MAGIC) or data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return [_image(filename, data)]
    if data[:8] == OLE_MAGIC:
        return [_ole(filename, data, ext)]
    if data.startswith(OTHER_ARCHIVES) or ext in ("rar", "7z", "gz", "tar"):
        return [_finding(filename, data, None, problem("unsupported_format", filename=filename))]
    if ext in ("docx", "xlsx", "xlsm", "pdf", "doc", "xls", "jpg", "jpeg", "png", "tif", "tiff", "zip"):
        # the name promises a format the bytes do not have: a damaged or truncated file
        return [_finding(filename, data, kind_by_name(filename), problem("unreadable", filename=filename))]
    if looks_like_material(filename):
        return [_finding(filename, data, kind_by_name(filename), problem("unsupported_format", filename=filename))]
    return [_finding(filename, data, None)]


def _zip(filename: str, data: bytes, *, expected_unit: str | None, max_bytes: int, depth: int) -> list[Finding]:
    """An OOXML package (docx/xlsx) goes to its parser; any other zip is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return [_finding(filename, data, kind_by_name(filename), problem("unreadable", filename=filename))]
    if "word/document.xml" in names:
        return [parse_summary(filename, data)]
    if any(name.startswith("xl/") for name in names):
        return [parse_table(filename, data, expected_unit=expected_unit)]
    if "mimetype" in names or "content.xml" in names:  # OpenDocument (.odt/.ods)
        kind = kind_by_name(filename)
        return [_finding(filename, data, kind, problem("unsupported_format", filename=filename))]
    if depth > MAX_NESTING:
        return [_finding(filename, data, None, problem("unsupported_format", filename=filename))]
    members, problems = unpack_zip(filename, data)
    findings: list[Finding] = []
    if problems or not members:
        findings.append(Finding(filename=filename, kind=None, problems=list(problems),
                                facts={"archive": True, "members": len(members)}, size=len(data), data=data))
    for name, content in members:
        findings.extend(_examine(f"{filename}/{name}", content, expected_unit=expected_unit,
                                 max_bytes=max_bytes, depth=depth + 1))
    return findings


def _pdf(filename: str, data: bytes) -> Finding:
    """A text PDF is a summary (or a scan that is not one); an image PDF is a scan."""
    try:
        profile = inspect_pdf(data)
    except Exception:  # noqa: BLE001 - encrypted or damaged PDF
        return _finding(filename, data, kind_by_name(filename), problem("unreadable", filename=filename))
    if not profile.is_text:
        return parse_scan(filename, data)
    if _has_scan_hint(filename):
        return parse_scan(filename, data)  # a text PDF named as a scan: not_a_scan
    if _table_hint(filename) and "总结" not in filename:
        # a table printed to PDF: we can only read the table as a workbook
        return _finding(filename, data, "table", problem("unsupported_format", filename=filename))
    return parse_summary(filename, data)


def _image(filename: str, data: bytes) -> Finding:
    """A picture: a scanned page, unless it is a tiny logo or emoji from a signature."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
    long_side = max(width, height)
    if long_side < TINY_SIDE or (len(data) < TINY_BYTES and long_side < 1000):
        return Finding(filename=filename, kind=None, facts={"ignored": "small_image", "width": width,
                                                            "height": height}, size=len(data), data=data)
    return parse_scan(filename, data)


def _ole(filename: str, data: bytes, ext: str) -> Finding:
    """Legacy Office/WPS files (OLE): not readable yet, so unsupported_format on the right item."""
    head = data[:512 * 1024]
    if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in head:
        return _finding(filename, data, kind_by_name(filename), problem("unreadable", filename=filename))
    if ext in ("doc", "wps", "dot"):
        kind = "summary"
    elif ext in ("xls", "et", "xlt"):
        kind = "table"
    elif b"W\x00o\x00r\x00d\x00D\x00o\x00c\x00u\x00m\x00e\x00n\x00t" in head:
        kind = "summary"
    elif b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in head or b"B\x00o\x00o\x00k\x00" in head:
        kind = "table"
    else:
        kind = kind_by_name(filename)
    return _finding(filename, data, kind, problem("unsupported_format", filename=filename))


def _finding(filename: str, data: bytes, kind: str | None, *problems) -> Finding:
    """A finding with the given problems and no facts."""
    return Finding(filename=filename, kind=kind, problems=list(problems), size=len(data), data=data)


def _extension(filename: str) -> str:
    """The lower-case extension of the last part of a name ('' if none)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _has_scan_hint(filename: str) -> bool:
    """The name says it is a stamped scan."""
    base = filename.rsplit("/", 1)[-1].lower()
    return any(hint in base for hint in SCAN_HINTS)


def _table_hint(filename: str) -> bool:
    """The name says it is the results table."""
    base = filename.rsplit("/", 1)[-1]
    return any(hint in base for hint in ("汇总表", "立项结果", "结果表"))


def looks_like_material(filename: str) -> bool:
    """The name suggests one of the four materials (so an unreadable format deserves a reply)."""
    base = filename.rsplit("/", 1)[-1].lower()
    return any(hint in base for hint in MATERIAL_HINTS)


def kind_by_name(filename: str) -> str | None:
    """The item a file name suggests, for files whose content cannot tell (None when unclear)."""
    ext = _extension(filename)
    scan = _has_scan_hint(filename) or ext in ("jpg", "jpeg", "png", "tif", "tiff")
    base = filename.rsplit("/", 1)[-1]
    if ext in ("docx", "doc", "wps", "docm") and not scan:
        return "summary"
    if ext in ("xlsx", "xls", "et", "xlsm") and not scan:
        return "table"
    summary, table = "总结" in base, _table_hint(filename) or ("表" in base and "总结" not in base)
    if scan or ext == "pdf":
        if summary and not table:
            return "summary_scan" if scan else "summary"
        if table and not summary:
            return "table_scan"
        return None
    if summary and not table:
        return "summary"
    if table and not summary:
        return "table"
    return None
