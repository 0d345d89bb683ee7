"""The parser registry: what an attachment is, and which parser reads it.

The file's own bytes decide first (zip package, PDF, image, OLE, 7z, RAR), its name second.
Archives (.zip, .7z, .rar) are unpacked and each member examined (an archive inside an
archive once more; deeper is ``too_large``), all within one ``parsers.archives.Budget`` per
attachment. Legacy Word files go to the summary parser (converted by
LibreOffice), legacy workbooks (.xls/.et) to the table parser. A picture is a scan only when it
looks like a page (``parsers.pagelike``): a photo is ignored, an uncertain one is a scan in
doubt; a PDF with nothing on its pages is ``unreadable``. Nothing here raises for bad input: any
failure of a parser becomes an ``unreadable`` refusal, logged once at warning with the file's
sha256. Every finding is then judged by the rules of ``parsers.checks``.
"""

from __future__ import annotations

import io
import logging
import zipfile

from . import pagelike
from .archives import MAX_DEPTH, Budget, depth_refusal, listing_refusal, unpack_zip
from .archives_more import RAR_MAGICS, SEVENZIP_MAGIC, unpack_7z, unpack_rar
from .checks import CheckContext, judge
from .failures import log_failure
from .families import ZIP_MAGICS, extension_of, is_image, is_pdf
from .findings import Finding
from .packages import OLE_MAGIC, is_encrypted_ole
from .rules import CampaignRules
from .scan import DrawnPage, draw_first_page, drawn_pages, inspect_pdf, parse_scan
from .summary import parse_summary
from .table import parse_table
from .vocabulary import (
    BLANK_PDF_REASON,
    MATERIAL_HINTS,
    SCAN_HINTS,
    SUMMARY_HINTS,
    TABLE_HINTS,
    human_size,
)

log = logging.getLogger(__name__)

OTHER_ARCHIVES = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")  # gzip, bzip2, xz: not taken
TINY_BYTES = 20 * 1024
TINY_SIDE = 300
BLANK_INK_SHARE = 0.0002  # a blank page may carry a few specks of dust, no more
BLANK_CONTRAST = 30  # grey levels off the sheet's own that count as something drawn
MAX_NESTING = MAX_DEPTH - 1  # an archive inside an archive is unpacked once more, not deeper


def examine(
    filename: str,
    data: bytes,
    *,
    max_bytes: int = 30 * 1024 * 1024,
    ctx: CheckContext | None = None,
) -> list[Finding]:
    """The judged findings for one attachment (several for an archive), never raising for bad input.

    ``ctx`` carries the campaign's rules, the branch roster and, once known, the sender's unit;
    the pipeline judges the findings again (``parsers.checks.judge``) when it learns the unit.
    ``filename`` is only shown, never used as a path.
    """
    ctx = ctx or CheckContext()
    return [
        judge(finding, ctx)
        for finding in _examine(filename, data, _Context(max_bytes, ctx.rules, Budget()), depth=0)
    ]


class _Context:
    """What every file of one attachment is read with."""

    def __init__(self, max_bytes: int, rules: CampaignRules, budget: Budget) -> None:
        self.max_bytes = max_bytes
        self.rules = rules
        self.budget = budget  # what the archives of this attachment may unpack, all levels


def _examine(filename: str, data: bytes, context: _Context, *, depth: int) -> list[Finding]:
    """examine() at a nesting depth of archives, before judging."""
    if len(data) > context.max_bytes:
        return [
            _refused(
                filename,
                data,
                kind_by_name(filename),
                "too_large",
                what=f"附件《{filename}》",
                size=human_size(len(data)),
                limit=human_size(context.max_bytes),
            )
        ]
    try:
        findings = _dispatch(filename, data, context, depth=depth)
    except Exception:  # noqa: BLE001 - the promise: bad input never stops the pipeline
        log_failure("examining", filename, data)
        findings = [_refused(filename, data, kind_by_name(filename), "unreadable")]
    for finding in findings:
        if finding.data is None:
            finding.data = data
        if not finding.size:
            finding.size = len(finding.data)
    return findings


def _dispatch(filename: str, data: bytes, context: _Context, *, depth: int) -> list[Finding]:
    """Route by magic bytes first, by the name's extension second."""
    ext = extension_of(filename)
    if data.startswith(ZIP_MAGICS):
        return _zip(filename, data, context, depth=depth)
    if data.startswith(SEVENZIP_MAGIC):
        return _archive(filename, data, context, depth, unpack_7z)
    if data.startswith(RAR_MAGICS):
        return _archive(filename, data, context, depth, unpack_rar)
    if is_pdf(data):
        return [_pdf(filename, data)]
    if is_image(data):
        return [_image(filename, data)]
    if data[:8] == OLE_MAGIC:
        return [_ole(filename, data, ext, context)]
    if data.startswith(b"{\\rtf") and ext in ("doc", "rtf", "wps"):
        return [_legacy_word(filename, data, ext)]
    if data.startswith(OTHER_ARCHIVES) or ext in ("gz", "tar", "tgz", "bz2", "xz"):
        return [_refused(filename, data, None, "unsupported_format")]
    if ext in (
        "docx",
        "xlsx",
        "xlsm",
        "pdf",
        "doc",
        "xls",
        "jpg",
        "jpeg",
        "png",
        "tif",
        "tiff",
        "zip",
        "7z",
        "rar",
    ):
        # the name promises a format the bytes do not have: a damaged or truncated file
        return [_refused(filename, data, kind_by_name(filename), "unreadable")]
    if looks_like_material(filename):
        return [_refused(filename, data, kind_by_name(filename), "unsupported_format")]
    return [_finding(filename, data, None)]


def _zip(filename: str, data: bytes, context: _Context, *, depth: int) -> list[Finding]:
    """An OOXML package (docx/xlsx) goes to its parser; any other zip is unpacked."""
    # this zip alone, before zipfile lists it (an archive's entries are counted when unpacked;
    # a document's parts are not)
    refused = listing_refusal(filename, data, Budget())
    if refused:
        context.budget.exhausted = True
        return [_archive_finding(filename, data, 0, refused)]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        log_failure("opening the zip package", filename, data)
        return [_refused(filename, data, kind_by_name(filename), "unreadable")]
    if "word/document.xml" in names:
        return [parse_summary(filename, data)]
    if any(name.startswith("xl/") for name in names):
        return [parse_table(filename, data, grades=context.rules.grades)]
    if "mimetype" in names or "content.xml" in names:  # OpenDocument (.odt/.ods)
        kind = kind_by_name(filename)
        return [_refused(filename, data, kind, "unsupported_format")]
    return _archive(filename, data, context, depth, unpack_zip)


def _archive(filename: str, data: bytes, context: _Context, depth: int, unpack) -> list[Finding]:
    """An archive's members, each examined, after a finding for the archive's own problems."""
    budget = context.budget
    if depth > MAX_NESTING:
        budget.exhausted = True
        return [_archive_finding(filename, data, 0, [depth_refusal(filename)])]
    if budget.exhausted:  # the attachment's limits were met already: unpack nothing more
        return []
    members, refusals = unpack(filename, data, budget=budget)
    findings: list[Finding] = []
    if refusals or not members:
        findings.append(_archive_finding(filename, data, len(members), refusals))
    members.reverse()
    while members and not budget.exhausted:
        name, content = members.pop()  # each member's bytes go once it is examined
        findings.extend(_examine(f"{filename}/{name}", content, context, depth=depth + 1))
    return findings


def _archive_finding(filename: str, data: bytes, members: int, refusals: list) -> Finding:
    """The finding for an archive's own problems (refused, or holding nothing)."""
    return Finding(
        filename=filename,
        kind=None,
        facts={"archive": True, "members": members},
        size=len(data),
        data=data,
    ).add_refusals(refusals)


def _pdf(filename: str, data: bytes) -> Finding:
    """A text PDF is a summary (or a scan that is not one); an image PDF is a scan."""
    try:
        profile = inspect_pdf(data)
    except Exception:  # noqa: BLE001 - encrypted or damaged PDF
        log_failure("opening the PDF", filename, data)
        return _refused(filename, data, kind_by_name(filename), "unreadable")
    if profile.image_too_large:  # a decompression bomb: refused before any page is drawn
        log_failure("an image too large in the PDF", filename, data)
        return _refused(filename, data, kind_by_name(filename), "unreadable")
    if not profile.is_text:
        try:
            first = draw_first_page(data)  # drawn once: the blank test, the seal, the page's look
        except Exception:  # noqa: BLE001 - the scan reader tries again and calls it unreadable
            return parse_scan(filename, data, profile=profile)
        if profile.text_chars == 0 and _blank_pdf(data, first):
            return _finding(filename, data, kind_by_name(filename)).refuse(
                "unreadable", filename=filename, reason=BLANK_PDF_REASON
            )
        finding = parse_scan(filename, data, profile=profile, first_page=first)
        return _photo_pdf_doubt(filename, data, finding, first)
    if _has_scan_hint(filename):
        return parse_scan(filename, data, profile=profile)  # named as a scan: not_a_scan
    if _table_hint(filename) and not _summary_hint(filename):
        # a table printed to PDF: we can only read the table as a workbook
        return _refused(filename, data, "table", "unsupported_format")
    return parse_summary(filename, data)


def _image(filename: str, data: bytes) -> Finding:
    """A picture: a scanned page only when it looks like one (``parsers.pagelike``). A tiny logo or
    emoji from a signature is ignored, and so is a photo (people, a landscape, a screenshot of
    neither text nor table) unless its name says it is one of the materials or a seal is seen on
    it; a picture that cannot be told is a scan whose kind is in doubt."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
        long_side = max(width, height)
        if long_side < TINY_SIDE or (len(data) < TINY_BYTES and long_side < 1000):
            facts = {"ignored": "small_image", "width": width, "height": height}
            return Finding(filename=filename, kind=None, facts=facts, size=len(data), data=data)
        if width * height > pagelike.MAX_PIXELS:
            return parse_scan(filename, data)  # refused there, as too large to inspect
        side = pagelike.MEASURE_SIDE * 2
        img.draft("RGB", (side, side))  # a JPEG is decoded smaller: faster, same measures
        try:
            look = pagelike.look(ImageOps.exif_transpose(img))
        except Exception:  # noqa: BLE001 - an odd mode or a damaged frame: the scan reader decides
            log_failure("measuring the picture", filename, data)
            return parse_scan(filename, data)
    finding = parse_scan(filename, data, page_look=look.as_fact())
    hinted = looks_like_material(filename)
    sealed = finding.facts.get("seal") == "found"
    if look.verdict == "photo" and not hinted and not sealed and not finding.refused:
        facts = {"ignored": "photo", "width": width, "height": height, "page_look": look.as_fact()}
        return Finding(filename=filename, kind=None, facts=facts, size=len(data), data=data)
    return finding


def _photo_pdf_doubt(
    filename: str, data: bytes, finding: Finding, first: DrawnPage | None
) -> Finding:
    """An image PDF without a seal seen whose first page (``first``, drawn by the caller) is a
    photo (people, a landscape), not a page, is a scan whose kind is in doubt: never ignored (a
    PDF is sent on purpose), not judged."""
    if first is None or finding.refused or finding.facts.get("seal") == "found":
        return finding
    if finding.facts.get("kind_doubt"):
        return finding
    try:
        look = pagelike.look(first.image)
    except Exception:  # noqa: BLE001 - the scan was read; its first page could not be measured
        log_failure("measuring the first page of", filename, data)
        return finding
    finding.facts["page_look"] = look.as_fact()
    if look.verdict == "photo":
        named = looks_like_material(filename)
        finding.facts["kind_doubt"] = "name_and_content" if named else "photo_or_scan"
    return finding


def _blank_pdf(data: bytes, first: DrawnPage | None) -> bool:
    """A PDF without text whose pages (the first 20) render as bare paper: nothing drawn on them,
    or only a scan of an empty sheet. ``first`` is its first page, drawn by the caller (None: the
    PDF has no pages)."""
    if first is None:
        return True
    pages = drawn_pages(data, lambda count: range(min(count, 20)), first)
    return all(_bare_paper(drawn.image) for _index, drawn in pages)


def _bare_paper(image) -> bool:  # noqa: ANN001 - a PIL image
    """Whether a drawn page shows nothing but the sheet (a few specks of dust at most)."""
    grey = image.convert("L")
    histogram = grey.histogram()
    paper = max(range(256), key=histogram.__getitem__)  # the commonest grey: the sheet
    darker = sum(histogram[: max(0, paper - BLANK_CONTRAST)])
    marked = darker + sum(histogram[paper + BLANK_CONTRAST + 1 :])
    # something drawn (text, faint too, art, a form), or no paper
    return marked <= BLANK_INK_SHARE * grey.width * grey.height and paper >= 160


def _ole(filename: str, data: bytes, ext: str, context: _Context) -> Finding:
    """Legacy Office/WPS files (OLE): Word to the summary parser, workbooks to the table parser."""
    if is_encrypted_ole(data):
        return _refused(filename, data, kind_by_name(filename), "unreadable")
    word = b"W\x00o\x00r\x00d\x00D\x00o\x00c\x00u\x00m\x00e\x00n\x00t" in data
    book = b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in data or b"B\x00o\x00o\x00k\x00" in data
    if word and not (book and ext in ("xls", "et", "xlt")):
        return _legacy_word(filename, data, ext)
    if book or ext in ("xls", "et", "xlt"):  # a truncated file may have lost its stream directory
        return parse_table(filename, data, grades=context.rules.grades)
    if ext in ("doc", "wps", "dot"):
        return _legacy_word(filename, data, ext)
    return _refused(filename, data, kind_by_name(filename), "unsupported_format")


def _legacy_word(filename: str, data: bytes, ext: str) -> Finding:
    """A .doc (or RTF, or WPS in Word's format) through the converter; a .wps it cannot read is
    unsupported rather than unreadable (the sender can save it as .docx)."""
    finding = parse_summary(filename, data)
    if ext == "wps":
        for refused in finding.refusals:
            if refused["code"] == "unreadable":
                refused["code"] = "unsupported_format"
    return finding


def _finding(filename: str, data: bytes, kind: str | None) -> Finding:
    """A finding with no facts."""
    return Finding(filename=filename, kind=kind, size=len(data), data=data)


def _refused(filename: str, data: bytes, kind: str | None, code: str, **values: object) -> Finding:
    """A finding for a file not read, and why (``values`` default to the file's name)."""
    return _finding(filename, data, kind).refuse(code, **(values or {"filename": filename}))


def _has_scan_hint(filename: str) -> bool:
    """The name says it is a stamped scan."""
    base = filename.rsplit("/", 1)[-1].lower()
    return any(hint in base for hint in SCAN_HINTS)


def _summary_hint(filename: str) -> bool:
    """The name says it is the work summary."""
    base = filename.rsplit("/", 1)[-1]
    return any(hint in base for hint in SUMMARY_HINTS)


def _table_hint(filename: str) -> bool:
    """The name says it is the results table."""
    base = filename.rsplit("/", 1)[-1]
    return any(hint in base for hint in TABLE_HINTS)


def looks_like_material(filename: str) -> bool:
    """The name suggests one of the four materials (so an unreadable format deserves a reply)."""
    base = filename.rsplit("/", 1)[-1].lower()
    return any(hint in base for hint in MATERIAL_HINTS)


def kind_by_name(filename: str) -> str | None:
    """The item a file name suggests, for files whose content cannot tell (None when unclear)."""
    ext = extension_of(filename)
    scan = _has_scan_hint(filename) or ext in ("jpg", "jpeg", "png", "tif", "tiff")
    base = filename.rsplit("/", 1)[-1]
    if ext in ("docx", "doc", "wps", "docm") and not scan:
        return "summary"
    if ext in ("xlsx", "xls", "et", "xlsm") and not scan:
        return "table"
    summary = _summary_hint(filename)
    table = _table_hint(filename) or ("表" in base and not summary)
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
