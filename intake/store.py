"""The content-addressed store of raw messages and attachments under ``storage.dir``.

Bytes are written to ``<dir>/<kind>/<aa>/<sha256>`` through a temporary file, flushed and
renamed, so a file that exists is whole. Names from mail never become paths here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class RawStore:
    """Stores and reads back bytes by their SHA-256."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, data: bytes, kind: str = "messages") -> str:
        """Store ``data`` durably (idempotent) and return its SHA-256 hex digest."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path(digest, kind)
        if path.exists() and path.stat().st_size == len(data):
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str, kind: str = "messages") -> bytes:
        """The bytes stored under ``digest``."""
        return self.path(digest, kind).read_bytes()

    def path(self, digest: str, kind: str = "messages") -> Path:
        """Where ``digest`` lives (whether or not it is there yet)."""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.directory / kind / digest[:2] / digest
