"""Unpacking .7z and .rar attachments with the same limits as zip (``parsers.archives``).

7z is read with py7zr (pure Python), member by member into a writer that stops at the size the
archive declares, so an archive lying about its sizes cannot fill the memory. RAR is listed with
rarfile, which parses the headers itself (names, sizes, CRCs, encryption) and reads stored
members directly; compressed members come from one run of Debian's ``bsdtar`` (libarchive-tools,
reads RAR 4 and RAR 5) that writes all members to stdout, cut by the declared sizes and checked
by CRC. (rarfile's own bsdtar call passes ``-f --`` which bsdtar 3.6 takes for the archive name.)
The tool runs with a timeout and resource limits on a file in a private temp dir, named by us. Names
come back as base names only; RAR 4 names without the Unicode flag are decoded as UTF-8, else
GB18030 (as WinRAR on Chinese Windows wrote them).
"""

from __future__ import annotations

import io
import resource
import shutil
import subprocess
import tempfile
import threading
import zlib
from pathlib import Path

from .archives import (
    MAX_MEMBERS,
    MAX_TOTAL,
    Budget,
    base_name,
    ratio_refusal,
    skipped_name,
)
from .findings import Refusal, refusal

SEVENZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
RAR_MAGICS = (b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00")
_RAR_UNICODE = 0x200

Members = list[tuple[str, bytes]]


def unpack_7z(
    filename: str,
    data: bytes,
    *,
    max_members: int = MAX_MEMBERS,
    max_total: int = MAX_TOTAL,
    budget: Budget | None = None,
) -> tuple[Members, list[Refusal]]:
    """The files in a .7z as (base name, bytes) and the refusals met (``budget``: shared by the
    archives nested in one attachment, as for zip)."""
    import py7zr

    budget = budget or Budget(max_members=max_members, max_total=max_total)

    try:
        archive = py7zr.SevenZipFile(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - py7zr raises many kinds on bad or encrypted-header archives
        return [], [refusal("unreadable", filename=filename)]
    with archive:
        try:
            listing = archive.list()
            infos = [i for i in listing if not skipped_name(i.filename, i.is_directory)]
            encrypted = archive.needs_password()
        except Exception:  # noqa: BLE001
            return [], [refusal("unreadable", filename=filename)]
        if encrypted:
            return [], [refusal("unreadable", filename=filename)]
        # solid blocks are decompressed whole, litter too: judge everything the archive holds
        total = sum(i.uncompressed or 0 for i in listing)
        too_packed = ratio_refusal(filename, total, len(data), whole=True)
        if too_packed:
            budget.exhausted = True
            return [], [too_packed]
        too_many = budget.listed(filename, len(listing)) or budget.admit(
            filename, [i.uncompressed for i in infos]
        )
        if too_many:
            return [], too_many
        factory = _CappedFactory({i.filename: i.uncompressed for i in infos})
        try:
            archive.extract(targets=[i.filename for i in infos], factory=factory)
        except Exception:  # noqa: BLE001 - corrupt data, CRC error, size over its declaration
            return [], [refusal("unreadable", filename=filename)]
    members = [(base_name(i.filename), factory.content(i.filename)) for i in infos]
    return members, []


def _capped_writer(limit: int):
    """A py7zr writer (a Py7zIO) that refuses to grow past ``limit`` bytes."""
    from py7zr.io import Py7zIO

    class CappedWriter(_CappedWriter, Py7zIO):
        """_CappedWriter with py7zr's base class."""

    return CappedWriter(limit)


class _CappedWriter:
    """An in-memory writer that refuses to grow past the member's declared size."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buffer = io.BytesIO()

    def write(self, chunk) -> int:
        """Append a chunk, raising when the member outgrows its declared size."""
        if self.buffer.tell() + len(chunk) > self.limit:
            raise ValueError("member larger than declared")
        return self.buffer.write(chunk)

    def read(self, size: int | None = None) -> bytes:
        """Read back (py7zr's interface)."""
        return self.buffer.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Seek (py7zr's interface)."""
        return self.buffer.seek(offset, whence)

    def flush(self) -> None:
        """Nothing to flush in memory."""

    def close(self) -> None:
        """Kept open: the bytes are read after extraction."""

    def size(self) -> int:
        """Bytes written so far."""
        return self.buffer.getbuffer().nbytes


class _CappedFactory:
    """py7zr's WriterFactory: one capped writer per member, by its declared size."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes
        self.writers: dict[str, _CappedWriter] = {}

    def create(self, name: str) -> _CappedWriter:
        """The writer for member ``name`` (members we did not ask for get no room)."""
        writer = _capped_writer(self.sizes.get(name, 0))
        self.writers[name] = writer
        return writer

    def content(self, name: str) -> bytes:
        """What was written for member ``name``."""
        writer = self.writers.get(name)
        return writer.buffer.getvalue() if writer else b""


def unpack_rar(
    filename: str,
    data: bytes,
    *,
    max_members: int = MAX_MEMBERS,
    max_total: int = MAX_TOTAL,
    budget: Budget | None = None,
) -> tuple[Members, list[Refusal]]:
    """The files in a .rar as (base name, bytes) and the refusals met (``budget``: shared by the
    archives nested in one attachment, as for zip)."""
    import rarfile

    budget = budget or Budget(max_members=max_members, max_total=max_total)

    with tempfile.TemporaryDirectory(prefix="intake-rar-") as work:
        path = Path(work) / "archive.rar"
        path.write_bytes(data)
        try:
            archive = rarfile.RarFile(str(path))
            infos = [i for i in archive.infolist() if not i.is_dir()]
        except Exception:  # noqa: BLE001 - bad, truncated or header-encrypted archives
            return [], [refusal("unreadable", filename=filename)]
        if not infos:  # a truncated archive: its headers stop before any member
            return [], [refusal("unreadable", filename=filename)]
        entries = [
            (i, base_name(_rar_name(info)), info)
            for i, info in enumerate(infos)
            if not skipped_name(_rar_name(info))
        ]
        # the tool writes out every member, litter too: all of it counts against the budget
        kept = [info.file_size for _, _, info in entries]
        everything = sum(info.file_size for info in infos)
        too_many = budget.listed(filename, len(infos)) or budget.admit(
            filename, kept, litter=everything - sum(kept)
        )
        if too_many:
            return [], too_many
        too_packed = ratio_refusal(filename, everything, len(data), whole=True)
        if too_packed:
            budget.exhausted = True
            return [], [too_packed]
        piped = None
        if FORCE_TOOL or any(not _stored(info) for info in infos):
            piped = _bsdtar_members(path, infos)
        members: Members = []
        refusals: list[Refusal] = []
        for index, name, info in entries:
            shown = f"{filename}/{name}"
            too_packed = ratio_refusal(shown, info.file_size, info.compress_size or 0)
            if too_packed:
                refusals.append(too_packed)
                continue
            if info.needs_password():
                content = None
            elif piped is not None:
                content = piped[index] if index < len(piped) else None
            else:
                content = _read_member(archive, info)
            if content is None or (info.CRC is not None and zlib.crc32(content) != info.CRC):
                refusals.append(refusal("unreadable", filename=shown))
            else:
                members.append((name, content))
        archive.close()
        return members, refusals


FORCE_TOOL = False  # tests set it to read stored members through the tool as well
TOOL_TIMEOUT = 60


def _stored(info) -> bool:
    """A member kept without compression (rarfile reads it itself, no tool needed)."""
    return info.compress_type == 0x30 and info.file_size == info.compress_size


def _bsdtar_members(path: Path, infos: list) -> list[bytes | None] | None:
    """Every file member's bytes, from one ``bsdtar -x -O`` run that writes them all to stdout in
    archive order, cut by their declared sizes (so no member name goes on a command line)."""
    binary = shutil.which("bsdtar")
    if binary is None:
        return None
    total = sum(info.file_size for info in infos)
    out = _tool_output([binary, "-x", "-O", "-f", str(path)], cwd=path.parent, limit=total)
    if out is None or len(out) != total:
        return None  # an encrypted or damaged member broke the stream, or it outgrew the sizes
    pieces: list[bytes | None] = []
    at = 0
    for info in infos:
        pieces.append(out[at : at + info.file_size])
        at += info.file_size
    return pieces


def _tool_output(command: list[str], *, cwd: Path, limit: int) -> bytes | None:
    """The tool's standard output, read a chunk at a time: None when it writes more than
    ``limit`` bytes (members larger than declared: the tool is stopped there), fails to start
    or outlives ``TOOL_TIMEOUT``."""
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            preexec_fn=_tool_limits,
        )
    except OSError:
        return None
    timer = threading.Timer(TOOL_TIMEOUT, process.kill)
    timer.start()
    chunks: list[bytes] = []
    read = 0
    try:
        while chunk := process.stdout.read(min(1 << 20, limit + 1 - read) or 1):
            chunks.append(chunk)
            read += len(chunk)
            if read > limit:
                return None
        return b"".join(chunks)
    finally:
        timer.cancel()
        process.kill()
        process.stdout.close()
        process.wait()


def _tool_limits() -> None:
    """Limits for the archive tool (in the child): memory, CPU time, no files written."""
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (TOOL_TIMEOUT, TOOL_TIMEOUT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _read_member(archive, info) -> bytes | None:
    """A stored member's bytes (at most its declared size), None when it cannot be read."""
    try:
        with archive.open(info) as stream:
            content = stream.read(info.file_size + 1)
    except Exception:  # noqa: BLE001 - CRC error, truncated data
        return None
    return content if len(content) == info.file_size else None


def _rar_name(info) -> str:
    """A RAR member's name: as flagged Unicode, else its raw bytes as UTF-8 or GB18030."""
    raw = info.orig_filename
    if info.flags & _RAR_UNICODE or not isinstance(raw, bytes):
        return info.filename
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding).replace("\\", "/")
        except UnicodeDecodeError:
            continue
    return info.filename
