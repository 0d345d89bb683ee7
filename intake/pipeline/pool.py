"""The attachments of a message examined in worker processes, so parsing uses every core.

Only the pure parsing runs in the workers (``parsers.registry.examine``: bytes in, findings
out); the database writes, the claims and the fault points stay in the pipeline's process. The
workers are new interpreters (``intake.pipeline.workers``: never forked from the service, which
runs threads), started on first use and kept, one pool per process (``shared_pool``);
``[service] workers`` sizes it (1: parse in the process itself). Even a message with one
attachment is parsed in a worker: a crash in a native library never takes the service down, and
the service's process never loads the parsing libraries (OpenCV, pdfium, openpyxl). Each file
goes to the workers of its family (``parsers.families``: pages or Office), so that a worker
loads about half the libraries. A worker that dies (a crash in a native library) breaks only
the message being examined: ``WorkerCrashed`` parks it as failed, and the next message gets a
fresh pool.

``start`` lets the pipeline hand the attachments of the next messages (``LOOK_AHEAD`` of them)
to the workers while its own process still records an earlier one (parsing is pure: bytes in,
findings out, so a result nobody asks for is simply dropped). A file travels to a worker and not
back: the findings that carried it get it again here (``parsers.entry.examine_remotely``). A
crash while such look-ahead work was in the pool may not be this message's fault: its files are
examined once more on a fresh pool, alone, before it is called crashed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

from parsers.checks.registry import CheckContext
from parsers.entry import examine
from parsers.families import family_of
from parsers.findings import Finding

from .workers import WorkerProcesses

log = logging.getLogger(__name__)


class WorkerCrashed(RuntimeError):
    """A parsing worker died while examining this message's attachments."""


LOOK_AHEAD = 2  # messages handed to the workers while the one before them is recorded
KEPT_BATCHES = LOOK_AHEAD + 1  # work started for older messages, never asked for, is dropped


def _key(name: str, digest: bytes, max_bytes: int, ctx: CheckContext) -> tuple:
    """What makes two examinations the same: the file, its name, the limit and the context."""
    return (name, digest, max_bytes, ctx)


def _digest(data: bytes) -> bytes:
    """The file's part of an examination's key."""
    return hashlib.blake2b(data, digest_size=16).digest()


def _submit(
    executor: WorkerProcesses, name: str, data: bytes, max_bytes: int, ctx: CheckContext
) -> Future:
    """The examination of one file, queued for the workers of its family."""
    return executor.submit_for(
        family_of(name, data), "examine", name, data, max_bytes=max_bytes, ctx=ctx
    )


def _with_data(findings: list[Finding], carried: list[int], data: bytes) -> list[Finding]:
    """A worker's findings with the file put back into those that carried it
    (``parsers.entry.examine_remotely``)."""
    for index in carried:
        findings[index].data = data
    return findings


class ExaminePool:
    """Examines (file name, bytes) pairs, in ``workers`` processes when there is more than one."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: WorkerProcesses | None = None
        self._ahead: dict[tuple, tuple[int, Future]] = {}  # key: (batch, examination)
        self._digests: dict[int, tuple[bytes, bytes]] = {}  # id: (file started ahead, digest)
        self._batch = 0

    def start(
        self, files: Sequence[tuple[str, bytes]], *, max_bytes: int, ctx: CheckContext
    ) -> None:
        """Begin examining ``files`` (one message's) in the workers for a later ``examine_all``
        of the same files (no-op with one worker). Work started for messages before the last
        ``KEPT_BATCHES`` that nobody asked for (a duplicate, a machine mail) is dropped, so what
        waits in memory is bounded. Never raises: a failure shows when the files are asked for."""
        if self.workers == 1:
            return
        self._batch += 1
        for key in [
            k for k, (batch, _f) in self._ahead.items() if batch <= self._batch - KEPT_BATCHES
        ]:
            self._ahead.pop(key)[1].cancel()
        live = {key[1] for key in self._ahead}
        self._digests = {ident: known for ident, known in self._digests.items() if known[1] in live}
        try:
            executor = self._pool()
            for name, data in files:
                digest = _digest(data)
                self._digests[id(data)] = (data, digest)
                key = _key(name, digest, max_bytes, ctx)
                if key not in self._ahead:
                    future = _submit(executor, name, data, max_bytes, ctx)
                    self._ahead[key] = (self._batch, future)
        except (BrokenProcessPool, RuntimeError, TypeError):  # a broken pool, an unhashable ctx
            return

    def warm(self) -> None:
        """Start the workers now and have each load the parsers of its family of files, without
        waiting for them (``intake run`` at start: the first message then finds them ready, not
        ~1.3 s later)."""
        if self.workers == 1:
            return
        executor = self._pool()
        for family in executor.families:
            executor.submit_for(family, "load", family)

    def examine_all(
        self, files: Sequence[tuple[str, bytes]], *, max_bytes: int, ctx: CheckContext
    ) -> list[list[Finding]]:
        """The findings of each file, in order (as ``examine`` gives them)."""
        if not files:
            return []
        if self.workers == 1:
            return [examine(name, data, max_bytes=max_bytes, ctx=ctx) for name, data in files]
        shared = bool(self._ahead)  # work started ahead was in the pool beside this message's
        try:
            futures = [self._future(name, data, max_bytes, ctx) for name, data in files]
            return [
                _with_data(*future.result(), data)
                for future, (_name, data) in zip(futures, files, strict=True)
            ]
        except BrokenProcessPool as exc:
            self.close()
            if shared:  # look-ahead work may have crashed it: try this message alone
                return self.examine_all(files, max_bytes=max_bytes, ctx=ctx)
            log.error("解析进程意外退出，本封来信记为处理失败")
            raise WorkerCrashed("a parsing worker died while examining the attachments") from exc

    def _future(self, name: str, data: bytes, max_bytes: int, ctx: CheckContext) -> Future:
        """The examination of one file: the one started ahead, else a new one."""
        try:
            key = _key(name, self._digest_once(data), max_bytes, ctx)
            _batch, started = self._ahead.pop(key, (0, None))
        except TypeError:  # a context that cannot be hashed is never started ahead
            started = None
        if started is not None and not started.cancelled():
            return started
        return _submit(self._pool(), name, data, max_bytes, ctx)

    def _digest_once(self, data: bytes) -> bytes:
        """The digest of ``data``, computed once: a file started ahead is the same object when
        its examination is asked for (the parse ``look_ahead`` made)."""
        known = self._digests.pop(id(data), None)
        return known[1] if known is not None and known[0] is data else _digest(data)

    def worker_pids(self) -> list[int]:
        """The process ids of the running workers (none before the first use)."""
        return self._executor.pids if self._executor is not None else []

    def worker_families(self) -> dict[int, str | None]:
        """The family of files (``parsers.families``) each running worker reads, by its id."""
        if self._executor is None:
            return {}
        return dict(zip(self._executor.pids, self._executor.families, strict=True))

    def _pool(self) -> WorkerProcesses:
        if self._executor is None:
            self._executor = WorkerProcesses(self.workers)
        return self._executor

    def close(self) -> None:
        """Stop the workers (they are started again when needed) and drop the work ahead."""
        for _batch, future in self._ahead.values():
            future.cancel()
        self._ahead.clear()
        self._digests.clear()
        if self._executor is not None:
            self._executor.close()
            self._executor = None


_POOLS: dict[int, ExaminePool] = {}


def shared_pool(workers: int) -> ExaminePool:
    """The process's pool of ``workers`` parsing processes (every pipeline shares it)."""
    workers = max(1, workers)
    if workers not in _POOLS:
        _POOLS[workers] = ExaminePool(workers)
    return _POOLS[workers]
