"""Local sources for ``intake import``: .eml files, Maildir folders and mbox files.

An imported message's arrival time is the newest ``Received:`` header's date, else ``Date:``,
else the file's modification time.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from parsers.mail import parse_date, topmost_received_date


class SourceError(Exception):
    """A path that cannot be read as mail, worded for the command line."""


@dataclass(frozen=True)
class LocalMessage:
    """One message read from a local file, with where it came from."""

    origin: str
    raw: bytes
    received_at: datetime


def iter_messages(paths: list[Path]) -> Iterator[LocalMessage]:
    """Every message under ``paths`` (files .eml, Maildir folders, mbox files), in order."""
    for path in paths:
        if not path.exists():
            raise SourceError(f"路径不存在 / no such file or folder: {path}")
        if path.is_dir():
            yield from _maildir_or_folder(path)
        elif _looks_like_mbox(path):
            box = mailbox.mbox(path, create=False)
            for key in box.keys():
                yield _local(f"{path}#{key}", box.get_bytes(key), path)
        else:
            yield _local(str(path), path.read_bytes(), path)


def arrival_time(raw: bytes, fallback: datetime) -> datetime:
    """The newest Received: header's date, else Date:, else ``fallback`` (aware)."""
    headers = BytesHeaderParser().parsebytes(raw[: 256 * 1024])
    received = [str(value) for value in headers.get_all("Received") or []]
    return topmost_received_date(received) or parse_date(str(headers.get("Date", ""))) or fallback


def _maildir_or_folder(path: Path) -> Iterator[LocalMessage]:
    """Files of a Maildir (cur/ and new/) or a folder of .eml files, oldest arrival first."""
    if (path / "cur").is_dir() and (path / "new").is_dir():
        files = [p for sub in ("new", "cur") for p in (path / sub).iterdir() if p.is_file()]
    else:
        files = [p for p in path.rglob("*.eml") if p.is_file()]
    if not files:
        raise SourceError(
            f"文件夹中没有邮件（不是 Maildir，也没有 .eml 文件）/ no mail found in: {path}"
        )
    messages = [_local(str(file), file.read_bytes(), file) for file in files]
    yield from sorted(messages, key=lambda m: (m.received_at, m.origin))


def _looks_like_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def _local(origin: str, raw: bytes, path: Path) -> LocalMessage:
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return LocalMessage(origin=origin, raw=raw, received_at=arrival_time(raw, mtime))
