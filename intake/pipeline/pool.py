"""The attachments of a message examined in worker processes, so parsing uses every core.

Only the pure parsing runs in the workers (``parsers.registry.examine``: bytes in, findings
out); the database writes, the claims and the fault points stay in the pipeline's process. The
workers are started by a fork server (never forked from a process running threads) on first
use and kept, one pool per process (``shared_pool``); ``[service] workers`` sizes it (1: parse
in the process itself). A worker that
dies (a crash in a native library) breaks only the message being examined: ``WorkerCrashed``
parks it as failed, and the next message gets a fresh pool.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from parsers.checks.registry import CheckContext
from parsers.findings import Finding
from parsers.registry import examine

log = logging.getLogger(__name__)


class WorkerCrashed(RuntimeError):
    """A parsing worker died while examining this message's attachments."""


class ExaminePool:
    """Examines (file name, bytes) pairs, in ``workers`` processes when there is more than one."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ProcessPoolExecutor | None = None

    def examine_all(
        self, files: Sequence[tuple[str, bytes]], *, max_bytes: int, ctx: CheckContext
    ) -> list[list[Finding]]:
        """The findings of each file, in order (as ``examine`` gives them)."""
        if self.workers == 1 or len(files) < 2:
            return [examine(name, data, max_bytes=max_bytes, ctx=ctx) for name, data in files]
        try:
            executor = self._pool()
            futures = [
                executor.submit(examine, name, data, max_bytes=max_bytes, ctx=ctx)
                for name, data in files
            ]
            return [future.result() for future in futures]
        except BrokenProcessPool as exc:
            self.close()
            log.error("解析进程意外退出，本封来信记为处理失败")
            raise WorkerCrashed("a parsing worker died while examining the attachments") from exc

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._executor

    def close(self) -> None:
        """Stop the workers (they are started again when needed)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


_POOLS: dict[int, ExaminePool] = {}


def shared_pool(workers: int) -> ExaminePool:
    """The process's pool of ``workers`` parsing processes (every pipeline shares it)."""
    workers = max(1, workers)
    if workers not in _POOLS:
        _POOLS[workers] = ExaminePool(workers)
    return _POOLS[workers]
