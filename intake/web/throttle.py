"""Login throttling: per client address and for the whole dashboard, without sleeping.

A throttled attempt is answered at once (429 and the time to retry); only an allowed attempt runs
the (deliberately slow) password check, so a guessing flood never holds waitress's worker threads
and staff pages stay fast.

- Per address (``REMOTE_ADDR``): after the k-th failure in a row the address waits
  ``first_delay * 2**(k-1)`` seconds (at most ``max_delay``) before its next attempt; after
  ``lock_after`` failures it is locked for ``lock_seconds``, and each further failure locks it
  again, until ``forget_seconds`` pass without a failure or a login succeeds.
- Overall: one password check at a time, and after any failed check no check anywhere for
  ``overall_pause`` seconds: guesses stay under one a second whatever the number of addresses.

The state lives in memory (one ``intake serve`` process); the clock is injected (tests).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may check its password now; if not, in how many seconds to retry."""

    allowed: bool
    retry_after: float = 0.0
    locked: bool = False
    """This address is locked after repeated failures."""
    overall: bool = False
    """The dashboard-wide limit (not this address) holds the attempt back."""


@dataclass
class _Address:
    failures: int = 0
    last_failure: float = 0.0
    next_allowed: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """Decides which login attempts may check a password (``begin``) and learns how they ended
    (``end``); thread-safe."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        first_delay: float = 1.0,
        max_delay: float = 60.0,
        lock_after: int = 10,
        lock_seconds: float = 900.0,
        forget_seconds: float = 3600.0,
        overall_pause: float = 1.0,
        max_addresses: int = 10_000,
    ) -> None:
        self.clock = clock
        self.first_delay, self.max_delay = first_delay, max_delay
        self.lock_after, self.lock_seconds = lock_after, lock_seconds
        self.forget_seconds, self.overall_pause = forget_seconds, overall_pause
        self.max_addresses = max_addresses
        self._lock = threading.Lock()
        self._addresses: dict[str, _Address] = {}
        self._checking = False
        self._overall_next = 0.0
        self._held_back = 0
        self._last_report = float("-inf")

    def begin(self, address: str) -> Verdict:
        """May ``address`` check a password now? An allowed attempt must be followed by ``end``."""
        with self._lock:
            now = self.clock()
            entry = self._entry(address, now)
            if entry.locked_until > now:
                return self._held(Verdict(False, entry.locked_until - now, locked=True), now)
            if entry.next_allowed > now:
                return self._held(Verdict(False, entry.next_allowed - now), now)
            if self._checking or self._overall_next > now:
                wait = max(self._overall_next - now, min(self.overall_pause, 1.0))
                return self._held(Verdict(False, wait, overall=True), now)
            self._checking = True
            # until this attempt ends, the address waits as if it had failed once more
            entry.next_allowed = now + self._delay(entry.failures + 1)
            return Verdict(True)

    def end(self, address: str, *, succeeded: bool) -> int:
        """Record how an allowed attempt ended; the address's failures in a row (0 on success)."""
        with self._lock:
            now = self.clock()
            self._checking = False
            entry = self._addresses.setdefault(address, _Address())
            if succeeded:
                self._addresses.pop(address, None)
                return 0
            self._overall_next = now + self.overall_pause
            entry.failures += 1
            entry.last_failure = now
            entry.next_allowed = now + self._delay(entry.failures)
            if entry.failures >= self.lock_after:
                entry.locked_until = now + self.lock_seconds
                log.warning(
                    "登录已锁定：该地址连续 %d 次登录失败，%d 分钟内不再受理 address=%s "
                    "failures=%d minutes=%d",
                    entry.failures,
                    round(self.lock_seconds / 60),
                    address,
                    entry.failures,
                    round(self.lock_seconds / 60),
                )
            return entry.failures

    def abandon(self) -> None:
        """An allowed attempt ended without a verdict (an error): free the check."""
        with self._lock:
            self._checking = False

    def _delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        return min(self.first_delay * 2 ** min(failures - 1, 30), self.max_delay)

    def _entry(self, address: str, now: float) -> _Address:
        entry = self._addresses.get(address)
        if entry is not None and entry.failures and now - entry.last_failure > self.forget_seconds:
            entry = None  # forgotten: a fresh start
            del self._addresses[address]
        if entry is None:
            if len(self._addresses) >= self.max_addresses:
                self._prune(now)
            entry = self._addresses[address] = _Address()
        return entry

    def _prune(self, now: float) -> None:
        """Drop forgotten addresses; if still too many, the half whose last failure is oldest."""
        for address, entry in list(self._addresses.items()):
            if now - entry.last_failure > self.forget_seconds and entry.locked_until <= now:
                del self._addresses[address]
        if len(self._addresses) >= self.max_addresses:
            oldest = sorted(self._addresses, key=lambda a: self._addresses[a].last_failure)
            for address in oldest[: len(oldest) // 2]:
                del self._addresses[address]

    def _held(self, verdict: Verdict, now: float) -> Verdict:
        """Count held-back attempts; log their number at most once a minute."""
        self._held_back += 1
        if now - self._last_report >= 60:
            log.warning(
                "登录尝试过于频繁，已暂缓受理 %d 次（疑似猜测密码）held=%d",
                self._held_back,
                self._held_back,
            )
            self._held_back, self._last_report = 0, now
        return verdict
