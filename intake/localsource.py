"""Local sources for ``intake import``: .eml files, Maildir folders and mbox files.

An imported message's arrival time is the newest ``Received:`` header's date, else ``Date:``,
else the file's modification time.
"""

from __future__ import annotations

import mailbox
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

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


@dataclass(frozen=True)
class LocalMessage:
    """One message read from a local file, with where it came from."""

    origin: str
    raw: bytes
    received_at: datetime


def iter_messages(paths: list[Path], skipped: Counter | None = None) -> Iterator[LocalMessage]:
    """Every message under ``paths`` (files .eml, Maildir folders, mbox files), in order.

    Files left out are counted in ``skipped`` by reason (a key of ``SKIP_REASONS``): in a
    folder, a file that is not .eml; anywhere, a file that cannot be read or is empty.
    """
    skipped = Counter() if skipped is None else skipped
    for path in paths:
        if not path.exists():
            raise SourceError(f"路径不存在 / no such file or folder: {path}")
        if path.is_dir():
            yield from _maildir_or_folder(path, skipped)
        elif _looks_like_mbox(path):
            box = mailbox.mbox(path, create=False)
            for key in box.keys():
                yield _local(f"{path}#{key}", box.get_bytes(key), path)
        else:
            raw = _read(path, skipped)
            if raw is not None:
                yield _local(str(path), raw, path)


def arrival_time(raw: bytes, fallback: datetime) -> datetime:
    """The newest Received: header's date, else Date:, else ``fallback`` (aware)."""
    headers = BytesHeaderParser().parsebytes(raw[: 256 * 1024])
    received = [str(value) for value in headers.get_all("Received") or []]
    return topmost_received_date(received) or parse_date(str(headers.get("Date", ""))) or fallback


def _maildir_or_folder(path: Path, skipped: Counter) -> Iterator[LocalMessage]:
    """Files of a Maildir (cur/ and new/) or a folder of .eml files, oldest arrival first."""
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
    read = ((file, _read(file, skipped)) for file in files)
    messages = [_local(str(file), raw, file) for file, raw in read if raw is not None]
    yield from sorted(messages, key=lambda m: (m.received_at, m.origin))


def _read(path: Path, skipped: Counter) -> bytes | None:
    """The file's bytes; None (counted in ``skipped``) when it cannot be read or is empty."""
    try:
        raw = path.read_bytes()
    except OSError:
        skipped["unreadable"] += 1
        return None
    if not raw.strip():
        skipped["empty"] += 1
        return None
    return raw


def _looks_like_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def _local(origin: str, raw: bytes, path: Path) -> LocalMessage:
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return LocalMessage(origin=origin, raw=raw, received_at=arrival_time(raw, mtime))
