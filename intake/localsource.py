"""Local sources for ``intake import``: .eml files, Maildir folders and mbox files.

An imported message's arrival time is the newest ``Received:`` header's date, else ``Date:``,
else the file's modification time.

Messages over ``max_message_bytes`` are treated as IMAP treats them: never loaded whole. Only
their header block (at most ``HEADER_LIMIT`` bytes) is read and stored, the message is marked
truncated with its real size, and the pipeline answers it with ``too_large``. An mbox is scanned
in blocks for its "From " lines (the boundaries ``mailbox.mbox`` finds), so a message is read
only once its size is known to be within the limit.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import BinaryIO

from parsers.mail import parse_date, topmost_received_date


class SourceError(Exception):
    """A path that cannot be read as mail, worded for the command line."""


SKIP_REASONS = {
    "not_eml": "不是 .eml 文件",
    "unreadable": "无法读取",
    "empty": "空文件",
    "duplicate": "此前已导入过（重复）",
}
"""Why ``intake import`` left a file out, as the command says it (one line per reason)."""

HEADER_LIMIT = 256 * 1024
"""The most of a message read to find its header block (and its arrival time)."""
_BLOCK = 1 << 20  # bytes of an mbox scanned at a time


@dataclass(frozen=True)
class LocalMessage:
    """One message read from a local file, with where it came from.

    ``truncated`` marks a message over the size limit of which ``raw`` holds only the header
    block; ``size`` is then the message's real size (None: ``len(raw)``).
    """

    origin: str
    raw: bytes
    received_at: datetime
    size: int | None = None
    truncated: bool = False


def header_block(data: bytes) -> bytes:
    """The header block at the start of ``data``, with the blank line that ends it; lacking
    one within ``HEADER_LIMIT`` bytes, the whole lines of that much."""
    head = data[:HEADER_LIMIT]
    ends = [at + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (at := head.find(sep)) >= 0]
    if ends:
        return head[: min(ends)]
    cut = head.rfind(b"\n")
    return head[: cut + 1] if cut >= 0 and len(data) > len(head) else head


def within_limit(message: LocalMessage, limit: int | None) -> LocalMessage:
    """``message`` as the pipeline takes it: over ``limit`` bytes, only its header block."""
    if limit is None or message.truncated or len(message.raw) <= limit:
        return message
    return replace(message, raw=header_block(message.raw), size=len(message.raw), truncated=True)


def iter_messages(
    paths: list[Path], skipped: Counter | None = None, *, max_message_bytes: int | None = None
) -> Iterator[LocalMessage]:
    """Every message under ``paths`` (files .eml, Maildir folders, mbox files), in order.

    Files left out are counted in ``skipped`` by reason (a key of ``SKIP_REASONS``): in a
    folder, a file that is not .eml; anywhere, a file that cannot be read or is empty. A
    message over ``max_message_bytes`` comes as its header block only (``truncated``).
    """
    skipped = Counter() if skipped is None else skipped
    for path in paths:
        if not path.exists():
            raise SourceError(f"路径不存在 / no such file or folder: {path}")
        if path.is_dir():
            yield from _maildir_or_folder(path, skipped, max_message_bytes)
        elif _looks_like_mbox(path):
            yield from _mbox(path, max_message_bytes)
        else:
            message = _read(path, skipped, max_message_bytes)
            if message is not None:
                yield message


def arrival_time(raw: bytes, fallback: datetime) -> datetime:
    """The newest Received: header's date, else Date:, else ``fallback`` (aware)."""
    headers = BytesHeaderParser().parsebytes(raw[:HEADER_LIMIT])
    received = [str(value) for value in headers.get_all("Received") or []]
    return topmost_received_date(received) or parse_date(str(headers.get("Date", ""))) or fallback


def _maildir_or_folder(path: Path, skipped: Counter, limit: int | None) -> Iterator[LocalMessage]:
    """Files of a Maildir (cur/ and new/) or a folder of .eml files, oldest arrival first.

    Only the head of each file is read to sort them; each message is read when its turn comes.
    """
    if (path / "cur").is_dir() and (path / "new").is_dir():
        files = [p for sub in ("new", "cur") for p in (path / sub).iterdir() if p.is_file()]
    else:
        everything = [p for p in path.rglob("*") if p.is_file()]
        files = [p for p in everything if p.suffix.lower() == ".eml"]
        skipped["not_eml"] += len(everything) - len(files)
    if not files:
        raise SourceError(
            f"文件夹中没有邮件（不是 Maildir，也没有 .eml 文件）/ no mail found in: {path}"
        )
    arrivals = []
    for file in files:
        try:
            with file.open("rb") as handle:
                head = handle.read(HEADER_LIMIT)
            arrivals.append((arrival_time(head, _mtime(file)), str(file), file))
        except OSError:
            skipped["unreadable"] += 1
    for received_at, _origin, file in sorted(arrivals, key=lambda a: (a[0], a[1])):
        message = _read(file, skipped, limit, received_at)
        if message is not None:
            yield message


def _read(
    path: Path, skipped: Counter, limit: int | None, received_at: datetime | None = None
) -> LocalMessage | None:
    """The message in the file (its header block alone when over ``limit``); None (counted in
    ``skipped``) when it cannot be read or is empty."""
    try:
        size = path.stat().st_size
        if limit is not None and size > limit:
            with path.open("rb") as handle:
                raw = header_block(handle.read(HEADER_LIMIT))
        else:
            raw = path.read_bytes()
            size = len(raw)
    except OSError:
        skipped["unreadable"] += 1
        return None
    if not raw.strip():
        skipped["empty"] += 1
        return None
    received_at = received_at or arrival_time(raw, _mtime(path))
    message = LocalMessage(str(path), raw, received_at)
    if len(raw) < size:  # over the limit: the header block only
        return replace(message, size=size, truncated=True)
    return within_limit(message, limit)  # a file that grew past the limit since its stat


def _mbox(path: Path, limit: int | None) -> Iterator[LocalMessage]:
    """The messages of an mbox file, split where ``mailbox.mbox`` splits them, each read only
    when within ``limit`` (else its header block)."""
    fallback = _mtime(path)
    with path.open("rb") as scan, path.open("rb") as reader:
        for key, (start, stop) in enumerate(_mbox_spans(scan, reader)):
            size = max(stop - start, 0)
            reader.seek(start)
            if limit is not None and size > limit:
                raw = header_block(reader.read(min(size, HEADER_LIMIT)))
            else:
                raw = reader.read(size)
            message = LocalMessage(f"{path}#{key}", raw, arrival_time(raw, fallback))
            yield replace(message, size=size, truncated=True) if len(raw) < size else message


def _mbox_spans(scan: BinaryIO, reader: BinaryIO) -> Iterator[tuple[int, int]]:
    """(start, stop) of each message of an mbox: from after its "From " line up to the next
    one, less the blank line before it (as ``mailbox.mbox`` does); the file starts with one."""
    previous: int | None = None
    for at, blank_before in _from_lines(scan):
        if previous is not None:
            yield _line_end(reader, previous, at), at - 1 if blank_before else at
        previous = at
    end = scan.seek(0, os.SEEK_END)
    if previous is not None:
        scan.seek(max(end - 2, 0))
        stop = end - 1 if scan.read(2) == b"\n\n" else end  # a last empty line is left out too
        yield _line_end(reader, previous, stop), stop


def _from_lines(scan: BinaryIO) -> Iterator[tuple[int, bool]]:
    """Offsets of the lines that start with "From ", and whether the line before is empty."""
    scan.seek(0)
    first = scan.read(5)
    if first != b"From ":
        return
    yield 0, False
    buf, buf_at = first, 0
    while block := scan.read(_BLOCK):
        keep = buf[-6:]
        buf, buf_at = keep + block, buf_at + len(buf) - len(keep)
        at = buf.find(b"\nFrom ", 1)  # a match at 0 lay wholly in the kept bytes: seen before
        while at >= 0:
            yield buf_at + at + 1, buf[at - 1 : at] == b"\n"
            at = buf.find(b"\nFrom ", at + 1)


def _line_end(reader: BinaryIO, at: int, stop: int) -> int:
    """The offset after the line that starts at ``at`` (``stop`` when it runs on to it)."""
    reader.seek(at)
    while at < stop:
        chunk = reader.read(min(64 * 1024, stop - at))
        if not chunk:
            return stop
        newline = chunk.find(b"\n")
        if newline >= 0:
            return min(at + newline + 1, stop)
        at += len(chunk)
    return stop


def _looks_like_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
