"""Logging a failure a parser caught: once, at warning, with the file's sha256 (never its content),
so staff can report it and find the file again."""

from __future__ import annotations

import hashlib
import logging

log = logging.getLogger("parsers")


def log_failure(what: str, filename: str, data: bytes) -> None:
    """Log the exception being handled: what failed, on which file ('' when the caller does not
    know the name), and the file's sha256."""
    log.warning(
        "%s failed (sha256 %s, %d bytes)",
        f"{what} {filename}" if filename else what,
        hashlib.sha256(data).hexdigest(),
        len(data),
        exc_info=True,
    )
