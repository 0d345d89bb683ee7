"""Every unit's files in one zip (``intake export-files``, the dashboard's 下载全部文件).

One folder per unit (its full name); each file renamed by the campaign's ``[export] file_name``
pattern (default ``{unit}-{item}{ext}``: 机械学院-工作总结.docx); with ``all_versions`` every
version received, numbered in order of arrival (机械学院-工作总结-第1版.docx), else only each
item's current version. A 清单.xlsx at the top lists every file: unit, item, its name in the zip,
the name it was sent under, when it arrived (campaign time zone), on time or late, problems and
doubts.

Names come from mail and from the configuration, so every folder and file name is made safe for
Windows (``safe_name``) and de-duplicated inside its folder, case-insensitively.

The zip is written entry by entry: each stored file is copied through in blocks from the file
object ``open_file(sha256)`` returns (``tracker`` does not know where ``intake`` stores files), so a
1 GB campaign never sits in memory. Item status comes from ``status_of``: by default
``standing.unit_standing``, the statuses with staff decisions applied, as the report reads them.
"""

from __future__ import annotations

import io
import re
import shutil
import string
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from parsers.rules import CampaignRules
from parsers.text_safety import shown_line
from parsers.vocabulary import ITEM_KEYS, STATUS_LABELS, short_label

from . import records, standing
from .exports import cell_value, keep_text
from .models import ItemVersion, SubCommittee
from .status import ItemStatus, counted
from .xlsx_report import BORDER, WRAP, fit_columns, write_header

DEFAULT_FILE_NAME = "{unit}-{item}{ext}"
FILE_NAME_FIELDS = {
    "unit": "单位简称（第一个别名，没有时为全称）",
    "unit_name": "单位全称",
    "item": "材料名称（如 工作总结、立项结果汇总表（盖章扫描件））",
    "ext": "原文件的扩展名（如 .docx）",
}
MANIFEST_NAME = "清单.xlsx"
MANIFEST_HEADER = (
    "分党委（直属党总支）",
    "材料",
    "版本",
    "压缩包中的文件名",
    "原文件名",
    "收到时间",
    "是否按时",
    "问题",
    "待核对",
)
MAX_NAME = 80
"""The longest folder or file name written (characters; Windows allows 255 per component, 260
per path unless long paths are on)."""
BLOCK = 1024 * 1024
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in "123456789"}
_STORED_SUFFIXES = {".docx", ".xlsx", ".pptx", ".pdf", ".jpg", ".jpeg", ".png", ".zip", ".7z"}
_ELECTRONIC = re.compile(r"[（(]电子版[）)]$")

Opener = Callable[[str], IO[bytes]]
StatusOf = Callable[[Session, SubCommittee, list[ItemVersion]], dict[str, ItemStatus]]


class FileNameError(ValueError):
    """A ``file_name`` pattern that cannot be used (unknown placeholder, bad braces)."""


@dataclass
class ExportedFile:
    """One file of the zip, as its 清单 row shows it."""

    unit: str
    item: str
    version: str
    arcname: str
    original: str
    received_at: datetime
    status: str
    problems: list[str] = field(default_factory=list)
    doubts: list[str] = field(default_factory=list)
    sha256: str = ""
    size: int = 0


@dataclass
class FileExport:
    """What went into the zip: its files, and the required items no unit sent yet."""

    files: list[ExportedFile] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[ExportedFile] = field(default_factory=list)

    @property
    def total_size(self) -> int:
        """The bytes of every file written (before compression)."""
        return sum(f.size for f in self.files if f not in self.unreadable)


def check_file_name(pattern: str) -> str:
    """``pattern`` if every placeholder in it is known and its braces pair, else FileNameError."""
    try:
        parsed = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(pattern)]
    except ValueError as exc:
        raise FileNameError(f"花括号不成对 / unbalanced braces: {exc}") from None
    fields = [name for name, _, _ in parsed if name is not None]
    for name in fields:
        if name not in FILE_NAME_FIELDS:
            known = "、".join("{" + key + "}" for key in FILE_NAME_FIELDS)
            raise FileNameError(
                f"未知的占位符 / unknown placeholder {{{name}}}（可用 / known: {known}）"
            )
    if any(spec or conv for name, spec, conv in parsed if name is not None):
        raise FileNameError("占位符不能带格式 / placeholders take no format or conversion")
    if not any(name in ("unit", "unit_name", "item") for name in fields):
        raise FileNameError("须含 {item} 或 {unit} / must contain {item} or {unit}")
    return pattern


def unit_short_name(unit: SubCommittee) -> str:
    """The unit's short name: its first alias, else its name."""
    aliases = [a for a in (unit.aliases or []) if isinstance(a, str) and a.strip()]
    return aliases[0].strip() if aliases else unit.name


def item_name(rules: CampaignRules, key: str) -> str:
    """The item's label for a file name: the campaign label without a closing （电子版）, which
    the extension already says (工作总结, 立项结果汇总表（盖章扫描件）)."""
    label = rules.label(key)
    return _ELECTRONIC.sub("", label).strip() or label


def safe_name(text: str, *, limit: int = MAX_NAME, fallback: str = "未命名") -> str:
    """``text`` as a name Windows accepts: no ``<>:"/\\|?*`` or control characters (they become
    ``_``), no invisible format characters, no lone surrogates or C1 controls (U+FFFD), no
    trailing dot or space, not a reserved device name
    (CON, PRN, AUX, NUL, COM1…, LPT1…, with or without an extension), at most ``limit``
    characters with the extension kept."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = shown_line(_UNSAFE.sub("_", text)).strip().rstrip(". ")
    if not text.strip("_ ."):
        text = fallback
    stem, dot, suffix = text.rpartition(".")
    if not dot or not stem or len(suffix) > 10:
        stem, suffix = text, ""
    if len(text) > limit:
        keep = limit - (len(suffix) + 1 if suffix else 0)
        stem = stem[:keep].rstrip(". ")
        text = f"{stem}.{suffix}" if suffix else stem
    base = text.split(".", 1)[0].rstrip(" ")
    if base.upper() in _RESERVED:
        text = base + "_" + text[len(base) :]
    return text


def build_file_export(
    session: Session,
    target: str | IO[bytes] | Any,
    *,
    open_file: Opener,
    rules: CampaignRules,
    deadline: datetime,
    file_name: str = DEFAULT_FILE_NAME,
    all_versions: bool = False,
    campaign: str = "",
    status_of: StatusOf | None = None,
) -> FileExport:
    """Write the zip to ``target`` (a path or a writable binary file) and return what is in it.

    A file that cannot be read from the store is left out and its 清单 row says so; nothing in a
    name can stop the export."""
    check_file_name(file_name)
    status_of = status_of or _default_status(deadline, rules)
    zone = deadline.tzinfo
    result = FileExport()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        taken: set[str] = {MANIFEST_NAME.casefold()}
        for unit in records.all_subcommittees(session):
            versions = records.unit_versions(session, unit.id)
            statuses = status_of(session, unit, versions)
            folder = _unique(safe_name(unit.name, limit=60), taken)
            names: set[str] = set()
            for key in ITEM_KEYS:
                status = statuses[key]
                chosen = _versions_of(versions, key, status, all_versions)
                if not chosen and status.required and status.status == "missing":
                    result.missing.append((unit.name, rules.label(key)))
                for number, version, current in chosen:
                    entry = _entry(unit, key, version, status, current, rules, zone)
                    entry.version = f"第{number}版" + ("（当前）" if current else "")
                    label = f"第{number}版" if all_versions else ""
                    name = _file_name(file_name, unit, key, version, rules, label)
                    entry.arcname = f"{folder}/{_unique(name, names)}"
                    result.files.append(entry)
                    if not _copy(archive, entry, version, open_file, zone):
                        result.unreadable.append(entry)
                        entry.problems.append("存储中找不到原文件，未导出")
        archive.writestr(
            _info(MANIFEST_NAME, datetime.now(zone), stored=False),
            _manifest(result, campaign),
        )
    return result


def _default_status(deadline: datetime, rules: CampaignRules) -> StatusOf:
    """Each unit's standing with its staff decisions applied, as the report reads it."""

    def status_of(session: Session, unit: SubCommittee, _: list[ItemVersion]):  # noqa: ANN202
        return standing.unit_standing(session, unit.id, deadline, rules)

    return status_of


def _versions_of(
    versions: Iterable[ItemVersion], key: str, status: ItemStatus, all_versions: bool
) -> list[tuple[int, ItemVersion, bool]]:
    """The versions of one item to export, oldest first: (its number in order of arrival, the
    version, whether it is the current one: the newest counted version the status names by its
    arrival time and file name)."""
    mine = sorted((v for v in versions if v.item == key), key=lambda v: (v.received_at, v.id))
    current = None
    if status.status != "missing":
        matching = [
            v for v in mine if v.received_at == status.updated_at and v.filename == status.filename
        ]
        current = matching[-1] if matching else None  # None: handed in on paper
    numbered = [(number, v, v is current) for number, v in enumerate(mine, start=1)]
    return [row for row in numbered if all_versions or row[2]]


def _entry(
    unit: SubCommittee,
    key: str,
    version: ItemVersion,
    status: ItemStatus,
    current: bool,
    rules: CampaignRules,
    zone: Any,
) -> ExportedFile:
    problems = status.problems if current else list(version.problems or [])
    doubts = status.doubts if current else list(version.doubts or [])
    labels = [short_label(p.get("code", ""), best_share=rules.best_share) for p in problems]
    doubt_labels = [short_label(d.get("code", ""), best_share=rules.best_share) for d in doubts]
    return ExportedFile(
        unit=unit.name,
        item=rules.label(key),
        version="",
        arcname="",
        original=version.filename or "",
        received_at=version.received_at.astimezone(zone),
        status=STATUS_LABELS.get(status.status, status.status)
        if current or counted(version)
        else "未计入（类型待核对）",
        problems=list(dict.fromkeys(labels)),
        doubts=list(dict.fromkeys(doubt_labels)),
        sha256=version.sha256,
        size=version.size or 0,
    )


def _file_name(
    pattern: str,
    unit: SubCommittee,
    key: str,
    version: ItemVersion,
    rules: CampaignRules,
    numbered: str,
) -> str:
    """The pattern filled in; a version label goes before the extension (…-第2版.docx)."""
    ext = _extension(version.filename or "")
    tail = (f"-{numbered}" if numbered else "") + ext
    values = {
        "unit": unit_short_name(unit),
        "unit_name": unit.name,
        "item": item_name(rules, key),
        "ext": tail,
    }
    name = pattern.format(**values)
    if "{ext}" not in pattern:
        name += tail
    return safe_name(name)


def _extension(filename: str) -> str:
    """The original file's extension, lower case, if it is a plain one (.docx, .pdf, .jpg)."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name（2）``… if the folder already holds it (Windows ignores case)."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        candidate = f"{stem}（{number}）" + (f".{suffix}" if suffix else "")
    taken.add(candidate.casefold())
    return candidate


def _info(arcname: str, when: datetime, *, stored: bool) -> zipfile.ZipInfo:
    moment = max(when.replace(tzinfo=None), datetime(1980, 1, 1))
    info = zipfile.ZipInfo(arcname, date_time=moment.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _copy(
    archive: zipfile.ZipFile,
    entry: ExportedFile,
    version: ItemVersion,
    open_file: Opener,
    zone: Any,
) -> bool:
    """Copy one stored file into the archive in blocks; False when the store cannot give it."""
    try:
        source = open_file(version.sha256)
    except (OSError, ValueError):
        return False
    stored = PurePosixPath(entry.arcname).suffix.lower() in _STORED_SUFFIXES
    with (
        source,
        archive.open(
            _info(entry.arcname, entry.received_at.astimezone(zone), stored=stored),
            "w",
            force_zip64=entry.size >= zipfile.ZIP64_LIMIT,
        ) as target,
    ):
        shutil.copyfileobj(source, target, BLOCK)
    return True


def _manifest(result: FileExport, campaign: str) -> bytes:
    """The 清单.xlsx: every file of the zip; a second sheet, the required items not received."""
    book = Workbook()
    sheet = book.active
    sheet.title = "文件清单"
    title = f"{campaign} 材料文件清单（共 {len(result.files)} 个文件）".strip()
    sheet.cell(1, 1, cell_value(title)).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(MANIFEST_HEADER))
    write_header(sheet, MANIFEST_HEADER)
    for row, entry in enumerate(result.files, start=3):
        values = (
            entry.unit,
            entry.item,
            entry.version,
            entry.arcname,
            entry.original,
            entry.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.status,
            "；".join(entry.problems),
            "；".join(entry.doubts),
        )
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row, col, cell_value(value))
            keep_text(cell)
            cell.border, cell.alignment = BORDER, WRAP
    sheet.freeze_panes = "A3"
    sheet.auto_filter.ref = f"A2:I{max(2, len(result.files) + 2)}"
    fit_columns(sheet, len(MANIFEST_HEADER), first_row=2, max_width=60)
    missing = book.create_sheet("尚未收到")
    missing.cell(1, 1, "尚未收到的必交材料").font = Font(bold=True, size=14)
    write_header(missing, ("分党委（直属党总支）", "材料"))
    for row, (unit, item) in enumerate(result.missing, start=3):
        missing.cell(row, 1, cell_value(unit)).border = BORDER
        missing.cell(row, 2, cell_value(item)).border = BORDER
    fit_columns(missing, 2, first_row=2)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
