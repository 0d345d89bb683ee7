"""Parsing worker processes (``python -m parsers.worker``) and futures for their results.

Each worker is a new interpreter started with ``subprocess`` (never a fork of the service,
which runs threads and holds its memory) that imports only the parsers. It talks to this
process over its own standard input and output (``parsers.worker``), so no semaphores, no
resource-tracker process and no feeder threads come with it. One thread here serves each
worker: it takes the next job (of its family of files first), sends it, and waits for the
reply. A worker that dies (a crash in a native library) breaks the whole set, as a broken
``ProcessPoolExecutor`` does: the job in hand and every job waiting fail with
``BrokenProcessPool``, and the other workers are stopped. A worker whose owner dies sees the end
of its input and ends.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, NamedTuple

import parsers
from parsers.families import FAMILIES
from parsers.worker import read_frame, request, write_frame

_PARSERS_ROOT = str(Path(parsers.__file__).resolve().parents[1])


STEAL_AFTER = 3.0
"""Seconds a file may wait for the workers of its family, all busy, before a free worker of the
other family takes it. That worker then loads the family's libraries (about 0.5 s and 25 MB,
kept while it lives): worth it for a backlog, not for the second scan of a message whose first
is a 30 MB PDF."""


class _Job(NamedTuple):
    future: Future
    name: str
    args: tuple
    kwargs: dict[str, Any]
    queued_at: float


class WorkerProcesses:
    """``count`` parsing workers taking jobs from one queue per family of files.

    With more than one worker, each reads one family (``parsers.families``: pages or Office, in
    turn) and so loads only that family's libraries. A worker takes the jobs of its own family
    first, then those of no family; a job of another family only once it has waited
    ``STEAL_AFTER`` seconds (one family's files keep both cores busy, at the price of the
    libraries in memory twice), after which that family is as good as its own."""

    def __init__(self, count: int) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._waiting: dict[str | None, deque[_Job]] = {None: deque()}
        self._waiting.update((family, deque()) for family in FAMILIES)
        self._broken = self._closed = self._stopping = False
        count = max(1, count)
        self.families = [FAMILIES[i % len(FAMILIES)] for i in range(count)] if count > 1 else [None]
        """The family each worker reads (None: every family), in the order of ``pids``."""
        self._processes = [self._start() for _ in self.families]
        for process, family in zip(self._processes, self.families, strict=True):
            threading.Thread(
                target=self._serve, args=(process, family), name="parsing-worker", daemon=True
            ).start()

    @property
    def pids(self) -> list[int]:
        """The process ids of the workers."""
        return [process.pid for process in self._processes]

    def submit(self, name: str, *args: Any, **kwargs: Any) -> Future:
        """``submit_for`` a file of no family."""
        return self.submit_for(None, name, *args, **kwargs)

    def submit_for(self, family: str | None, name: str, *args: Any, **kwargs: Any) -> Future:
        """Have a worker (of ``family`` first) run ``parsers.worker.FUNCTIONS[name](*args,
        **kwargs)``; its future. Raises BrokenProcessPool once a worker has died, RuntimeError
        once closed."""
        with self._changed:
            if self._broken:
                raise BrokenProcessPool("a parsing worker died")
            if self._closed:
                raise RuntimeError("the parsing workers are closed")
            future: Future = Future()
            self._waiting[family].append(_Job(future, name, args, kwargs, time.monotonic()))
            self._changed.notify_all()
        return future

    def close(self) -> None:
        """Cancel the jobs not yet sent and end the workers once their job in hand is done
        (without waiting for them)."""
        with self._changed:
            self._closed = self._stopping = True
            self._cancel_waiting()
            self._changed.notify_all()

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PARSERS_ROOT, env.get("PYTHONPATH")]))
        return subprocess.Popen(
            [sys.executable, "-m", "parsers.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )

    def _next_job(self, family: str | None, loaded: set[str | None]) -> _Job | None:
        """The job a worker of ``family``, holding the libraries of ``loaded``, takes next;
        None once the workers stop."""
        with self._changed:
            while not self._stopping:
                for key in (family, None, *loaded):
                    if self._waiting[key]:
                        return self._waiting[key].popleft()
                wait = None
                for key, jobs in self._waiting.items():
                    while jobs and jobs[0].future.cancelled():  # dropped work ahead
                        jobs.popleft()
                    if key in loaded or not jobs:
                        continue
                    due = jobs[0].queued_at + STEAL_AFTER - time.monotonic()
                    if due <= 0:
                        loaded.add(key)
                        return jobs.popleft()
                    wait = due if wait is None else min(wait, due)
                self._changed.wait(wait)
            return None

    def _serve(self, process: subprocess.Popen, family: str | None) -> None:
        loaded: set[str | None] = {family} if family is not None else set(FAMILIES)
        try:
            while (job := self._next_job(family, loaded)) is not None:
                future, name, args, kwargs, _queued_at = job
                del job
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    call, blob = request(name, args, kwargs)
                except Exception as exc:  # noqa: BLE001 - an argument that cannot be pickled
                    future.set_exception(exc)
                    continue
                del args, kwargs
                try:
                    write_frame(process.stdin, call)
                    if blob is not None:
                        write_frame(process.stdin, blob)
                    process.stdin.flush()
                    del blob
                    frame = read_frame(process.stdout)
                    if frame is None:
                        raise EOFError("the worker ended")
                    ok, value = pickle.loads(frame)
                except (OSError, EOFError, pickle.UnpicklingError) as exc:
                    future.set_exception(BrokenProcessPool("a parsing worker died"))
                    self._break(exc)
                    return
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
                del future, value
        finally:
            _end(process)

    def _break(self, _cause: BaseException) -> None:
        """A worker died: fail what waits, stop the others (their serving threads then fail
        their job in hand)."""
        with self._changed:
            self._broken = self._stopping = True
            self._cancel_waiting(BrokenProcessPool("a parsing worker died"))
            for process in self._processes:
                process.kill()
            self._changed.notify_all()

    def _cancel_waiting(self, error: BaseException | None = None) -> None:
        for jobs in self._waiting.values():
            while jobs:
                future = jobs.popleft().future
                if error is not None and future.set_running_or_notify_cancel():
                    future.set_exception(error)
                else:
                    future.cancel()


def _end(process: subprocess.Popen) -> None:
    """Close the worker's input (it then ends) and reap it."""
    try:
        process.stdin.close()
    except OSError:
        pass
    process.stdout.close()
    process.wait()
