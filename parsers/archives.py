"""Unpacking .zip attachments safely, with Chinese member names decoded right (7z and RAR:
``parsers.archives_more``, with the same limits).

Archives made on Chinese Windows store names in GBK without the UTF-8 flag; macOS and
7-Zip use UTF-8 (with or without the flag, sometimes in an Info-ZIP Unicode Path field).
Member names never become paths: only the base name is returned.

A zip bomb is refused before it is decompressed. One ``Budget`` per attachment counts, over every
archive nested in it, the entries listed, the files kept and the bytes they declare; a zip's end
record is read before its listing; each member's ratio, and the ratio of all of them together,
is judged on the declared sizes; a member is read a chunk at a time and never past its declared
size; an archive nested deeper than ``MAX_DEPTH`` is refused. Every refusal is ``too_large``
with a sentence that says which limit, and the first one stops the unpacking of the attachment.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

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


MAX_MEMBERS = 200  # files in one attachment, over every archive nested in it
MAX_TOTAL = 200 * 1024 * 1024  # what one attachment unpacks to, over every level
MAX_RATIO = 200
MAX_LISTED = 2000  # entries of any kind (folders and litter too) listed, over every level
MAX_LISTING_BYTES = 4 * 1024 * 1024  # a zip's central directory, read before it is listed
MAX_DEPTH = 2  # an archive inside an archive is unpacked; one inside that is refused


@dataclass
class Budget:
    """What one attachment may unpack to, summed over every archive nested in it.

    Each archive asks before it is listed (``listed``) and before a byte is decompressed
    (``admit``, with the sizes its members declare). Readers never read a member past its
    declared size, so the bytes unpacked never pass ``max_total``. The first refusal exhausts
    the budget: nothing more of the attachment is unpacked.
    """

    max_members: int = MAX_MEMBERS
    max_total: int = MAX_TOTAL
    max_listed: int = MAX_LISTED
    members: int = 0
    unpacked: int = 0
    entries: int = 0
    top: str | None = None
    exhausted: bool = False

    def _what(self, filename: str) -> str:
        if self.top is None or self.top == filename:
            return f"压缩包《{filename}》"
        return f"压缩包《{self.top}》（连同其中的压缩包）"

    def listed(self, filename: str, entries: int) -> list[Refusal]:
        """Count ``entries`` listed in ``filename``; ``too_large`` once they are too many."""
        self.top = self.top or filename
        self.entries += entries
        if self.entries <= self.max_listed:
            return []
        return self._refuse(
            refusal(
                "too_large",
                what=self._what(filename),
                amount=f"共有 {self.entries} 个条目",
                limit=f"{self.max_listed} 个条目",
            )
        )

    def admit(self, filename: str, sizes: list[int], *, litter: int = 0) -> list[Refusal]:
        """Take the members of ``filename`` (their declared sizes) into the budget, or refuse;
        ``litter``: bytes unpacked along with them but not kept (counted, not as files)."""
        self.top = self.top or filename
        members, total = self.members + len(sizes), self.unpacked + sum(sizes) + litter
        if members > self.max_members:
            return self._refuse(
                refusal(
                    "too_large",
                    what=self._what(filename),
                    amount=f"共有 {members} 个文件",
                    size=human_size(total),
                    limit=f"{self.max_members} 个文件",
                )
            )
        if total > self.max_total:
            return self._refuse(
                refusal(
                    "too_large",
                    what=f"{self._what(filename)}解压后",
                    size=human_size(total),
                    limit=human_size(self.max_total),
                )
            )
        self.members, self.unpacked = members, total
        return []

    def _refuse(self, refused: Refusal) -> list[Refusal]:
        self.exhausted = True
        return [refused]


def check_limits(
    filename: str, sizes: list[int], *, max_members: int = MAX_MEMBERS, max_total: int = MAX_TOTAL
) -> list[Refusal]:
    """``too_large`` when an archive has too many members or unpacks to too much ([] when fine)."""
    return Budget(max_members=max_members, max_total=max_total).admit(filename, sizes)


def ratio_refusal(
    shown: str, size: int, packed: int, max_ratio: int = MAX_RATIO, *, whole: bool = False
) -> Refusal | None:
    """``too_large`` for a member (``whole``: a whole archive) that unpacks to over
    ``max_ratio`` times its packed size."""
    if size > _RATIO_FLOOR and size > max_ratio * max(packed, 1):
        return refusal(
            "too_large",
            what=f"压缩包《{shown}》解压后" if whole else f"压缩包中的《{shown}》解压后",
            size=human_size(size),
            limit=f"压缩比 {max_ratio} 倍",
        )
    return None


def depth_refusal(filename: str) -> Refusal:
    """``too_large`` for an archive nested deeper than ``MAX_DEPTH`` levels."""
    return refusal(
        "too_large",
        what=f"《{filename}》",
        amount=f"是第 {MAX_DEPTH + 1} 层压缩包（压缩包套压缩包）",
        limit=f"{MAX_DEPTH} 层",
        advice="请解压后将文件直接放入一个压缩包发送",
    )


def listing_refusal(filename: str, data: bytes, budget: Budget) -> list[Refusal]:
    """``too_large`` when a zip's end record declares more entries, or a bigger central
    directory, than the budget allows: checked before the zip is listed."""
    declared = declared_listing(data)
    if declared is None:
        return []
    entries, directory = declared
    refused = budget.listed(filename, entries)
    if refused or directory <= MAX_LISTING_BYTES:
        return refused
    return budget._refuse(
        refusal(
            "too_large",
            what=f"{budget._what(filename)}的文件目录",
            size=human_size(directory),
            limit=human_size(MAX_LISTING_BYTES),
        )
    )


def declared_listing(data: bytes) -> tuple[int, int] | None:
    """(entries, central directory bytes) that a zip's end record declares (its Zip64 record
    when it has one); None when no end record is found."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if at < 0 or at + 22 > len(data):
        return None
    entries, directory = struct.unpack_from("<HI", data, at + 10)
    if entries == 0xFFFF or directory == 0xFFFFFFFF:
        record = at - 20 - 56
        if record >= 0 and data[record : record + 4] == b"PK\x06\x06":
            entries, directory = struct.unpack_from("<QQ", data, record + 32)
    return entries, directory


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
    budget: Budget | None = None,
) -> tuple[list[tuple[str, bytes]], list[Refusal]]:
    """The files in a zip as (base name, bytes), and the refusals met (corrupt, encrypted, big).

    ``budget`` is shared by the archives nested in one attachment (a fresh one of ``max_members``
    and ``max_total`` by default). Declared sizes and ratios are judged before anything is
    decompressed; a member is read in chunks and never past its declared size.
    """
    budget = budget or Budget(max_members=max_members, max_total=max_total)
    refused = listing_refusal(filename, data, budget)
    if refused:
        return [], refused
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
        too_many = budget.admit(filename, [info.file_size for _, info in entries])
        if too_many:
            return [], too_many
        refusals: list[Refusal] = []
        readable = []
        for name, info in entries:
            shown = f"{filename}/{name}"
            if info.flag_bits & 0x1:
                refusals.append(refusal("unreadable", filename=shown))
                continue
            too_packed = ratio_refusal(shown, info.file_size, info.compress_size, max_ratio)
            if too_packed:
                refusals.append(too_packed)
                continue
            readable.append((name, info))
        # many small members, each under the floor of the ratio check, together
        unpacked = sum(info.file_size for _, info in readable)
        packed = sum(info.compress_size for _, info in readable)
        too_packed = ratio_refusal(filename, unpacked, packed, max_ratio, whole=True)
        if too_packed:
            budget.exhausted = True
            return [], [*refusals, too_packed]
        members: list[tuple[str, bytes]] = []
        for name, info in readable:
            shown = f"{filename}/{name}"
            content = _read_member(archive, info)
            if content is None:
                refusals.append(refusal("unreadable", filename=shown))
                continue
            members.append((name, content))
        return members, refusals


_CHUNK = 1024 * 1024


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """A member's bytes, read a chunk at a time and never past its declared size (None when it
    is damaged or holds more than it declares)."""
    chunks: list[bytes] = []
    read = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(min(_CHUNK, info.file_size + 1 - read)):
                chunks.append(chunk)
                read += len(chunk)
                if read > info.file_size:
                    return None
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
        RuntimeError,
        NotImplementedError,
        zlib.error,
    ):
        return None
    return b"".join(chunks)
