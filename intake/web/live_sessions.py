"""Server-side revocation of dashboard logins.

The Flask session is a signed cookie: by itself it stays valid wherever it is copied. So each login
gets a random session id, kept in the cookie and in this registry of live ids; logging out removes
the id (a copy of the cookie taken before is refused from then on), and each login remembers a
fingerprint of the account's ``password_hash``: when the configured hash differs (the password was
changed), the session no longer counts. A login lasts at most ``max_age`` seconds.

The registry lives in the memory of the one ``intake serve`` process: restarting it logs everybody
out (as the per-process secret key that signs the cookies does already).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_AGE = 12 * 3600


def fingerprint(password_hash: str) -> str:
    """A short digest standing for an account's configured ``password_hash``."""
    return hashlib.sha256(password_hash.strip().encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class _Live:
    name: str
    fingerprint: str
    started: float


class LiveSessions:
    """The ids of the logins that count; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_age: float = MAX_AGE):
        self.clock, self.max_age = clock, max_age
        self._lock = threading.Lock()
        self._live: dict[str, _Live] = {}

    def start(self, name: str, password_hash: str) -> str:
        """A new session id for ``name`` logged in with the account's current ``password_hash``."""
        sid = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            for old, live in list(self._live.items()):
                if now - live.started > self.max_age:
                    del self._live[old]
            self._live[sid] = _Live(name, fingerprint(password_hash), now)
        return sid

    def valid(self, sid: object, name: str, password_hash: str) -> bool:
        """Whether ``sid`` is a live login of ``name`` made with ``password_hash``."""
        if not isinstance(sid, str):
            return False
        with self._lock:
            live = self._live.get(sid)
            if live is None:
                return False
            if self.clock() - live.started > self.max_age:
                del self._live[sid]
                return False
        return live.name == name and secrets.compare_digest(
            live.fingerprint, fingerprint(password_hash)
        )

    def end(self, sid: object) -> None:
        """Log ``sid`` out: its cookie, wherever copied, counts no more."""
        if isinstance(sid, str):
            with self._lock:
                self._live.pop(sid, None)

    def __len__(self) -> int:
        return len(self._live)
