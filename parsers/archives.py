"""Unpacking .zip attachments safely, with Chinese member names decoded right (7z and RAR:
``parsers.archives_more``, with the same limits).

Archives made on Chinese Windows store names in GBK without the UTF-8 flag; macOS and
7-Zip use UTF-8 (with or without the flag, sometimes in an Info-ZIP Unicode Path field).
Member names never become paths: only the base name is returned. Limits on member count,
total size and compression ratio keep a zip bomb from being loaded.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from .findings import Refusal, refusal
from .vocabulary import human_size

_SKIP_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_RATIO_FLOOR = 1024 * 1024  # members smaller than this are never judged by their ratio


def decode_member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as the sender saw it: UTF-8 when flagged or valid, else GBK (GB18030)."""
    if info.flag_bits & 0x800:
        return info.filename
    unicode_path = _unicode_path_field(info)
    if unicode_path:
        return unicode_path
    raw = info.orig_filename.encode("cp437", errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _unicode_path_field(info: zipfile.ZipInfo) -> str | None:
    """The Info-ZIP Unicode Path extra field (0x7075) when it matches the stored name."""
    extra = info.extra or b""
    at = 0
    while at + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4 : at + 4 + size]
        if tag == 0x7075 and len(body) > 5 and body[0] == 1:
            crc = struct.unpack_from("<I", body, 1)[0]
            raw = info.orig_filename.encode("cp437", errors="replace")
            if crc == zlib.crc32(raw):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
        at += 4 + size
    return None


def base_name(name: str) -> str:
    """The last part of a member path ('' for directories, '.' or '..')."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return parts[-1].strip() if parts else ""


MAX_MEMBERS = 200
MAX_TOTAL = 200 * 1024 * 1024
MAX_RATIO = 200


def check_limits(
    filename: str, sizes: list[int], *, max_members: int = MAX_MEMBERS, max_total: int = MAX_TOTAL
) -> list[Refusal]:
    """``too_large`` when an archive has too many members or unpacks to too much ([] when fine)."""
    total = sum(sizes)
    if len(sizes) > max_members:
        return [
            refusal(
                "too_large",
                what=f"压缩包《{filename}》（共 {len(sizes)} 个文件）",
                size=human_size(total),
                limit=f"{max_members} 个文件",
            )
        ]
    if total > max_total:
        return [
            refusal(
                "too_large",
                what=f"压缩包《{filename}》解压后",
                size=human_size(total),
                limit=human_size(max_total),
            )
        ]
    return []


def ratio_refusal(shown: str, size: int, packed: int, max_ratio: int = MAX_RATIO) -> Refusal | None:
    """``too_large`` for a member that unpacks to over ``max_ratio`` times its packed size."""
    if size > _RATIO_FLOOR and size > max_ratio * max(packed, 1):
        return refusal(
            "too_large",
            what=f"压缩包中的《{shown}》解压后",
            size=human_size(size),
            limit=f"压缩比 {max_ratio} 倍",
        )
    return None


def skipped_name(name: str, is_dir: bool = False) -> bool:
    """Directories and the litter of macOS and Windows, by a member's full name."""
    parts = name.replace("\\", "/").split("/")
    base = base_name(name)
    return (
        is_dir
        or name.endswith(("/", "\\"))
        or not base
        or "__MACOSX" in parts
        or base.lower() in _SKIP_NAMES
        or base.startswith("._")
        or base.startswith("~$")
    )


def unpack_zip(
    filename: str,
    data: bytes,
    *,
    max_members: int = MAX_MEMBERS,
    max_total: int = MAX_TOTAL,
    max_ratio: int = MAX_RATIO,
) -> tuple[list[tuple[str, bytes]], list[Refusal]]:
    """The files in a zip as (base name, bytes), and the refusals met (corrupt, encrypted, big)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return [], [refusal("unreadable", filename=filename)]
    with archive:
        entries = []
        for info in archive.infolist():
            name = decode_member_name(info)
            if not skipped_name(name, info.is_dir()):
                entries.append((base_name(name), info))
        too_many = check_limits(
            filename,
            [info.file_size for _, info in entries],
            max_members=max_members,
            max_total=max_total,
        )
        if too_many:
            return [], too_many
        members: list[tuple[str, bytes]] = []
        refusals: list[Refusal] = []
        for name, info in entries:
            shown = f"{filename}/{name}"
            if info.flag_bits & 0x1:
                refusals.append(refusal("unreadable", filename=shown))
                continue
            too_packed = ratio_refusal(shown, info.file_size, info.compress_size, max_ratio)
            if too_packed:
                refusals.append(too_packed)
                continue
            try:
                with archive.open(info) as stream:
                    content = stream.read(info.file_size + 1)
            except (
                zipfile.BadZipFile,
                OSError,
                ValueError,
                EOFError,
                RuntimeError,
                NotImplementedError,
                zlib.error,
            ):
                refusals.append(refusal("unreadable", filename=shown))
                continue
            if len(content) > info.file_size:
                refusals.append(refusal("unreadable", filename=shown))
                continue
            members.append((name, content))
        return members, refusals
