"""Parsing worker processes (``python -m parsers.worker``) and futures for their results.

Each worker is a new interpreter started with ``subprocess`` (never a fork of the service,
which runs threads and holds its memory) that imports only the parsers. It talks to this
process over its own standard input and output (``parsers.worker``), so no semaphores, no
resource-tracker process and no feeder threads come with it. One thread here serves each
worker: it takes the next job from the shared queue, sends it, and waits for the reply. A
worker that dies (a crash in a native library) breaks the whole set, as a broken
``ProcessPoolExecutor`` does: the job in hand and every job waiting fail with
``BrokenProcessPool``, and the other workers are stopped. A worker whose owner dies sees the end
of its input and ends.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import parsers
from parsers.worker import read_frame, request, write_frame

_PARSERS_ROOT = str(Path(parsers.__file__).resolve().parents[1])


class WorkerProcesses:
    """``count`` parsing workers sharing one queue of jobs."""

    def __init__(self, count: int) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future, str, tuple, dict] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._broken = self._closed = False
        self._processes = [self._start() for _ in range(max(1, count))]
        for process in self._processes:
            threading.Thread(
                target=self._serve, args=(process,), name="parsing-worker", daemon=True
            ).start()

    @property
    def pids(self) -> list[int]:
        """The process ids of the workers."""
        return [process.pid for process in self._processes]

    def submit(self, name: str, *args: Any, **kwargs: Any) -> Future:
        """Have a worker run ``parsers.worker.FUNCTIONS[name](*args, **kwargs)``; its future.
        Raises BrokenProcessPool once a worker has died, RuntimeError once closed."""
        with self._lock:
            if self._broken:
                raise BrokenProcessPool("a parsing worker died")
            if self._closed:
                raise RuntimeError("the parsing workers are closed")
            future: Future = Future()
            self._jobs.put((future, name, args, kwargs))
        return future

    def close(self) -> None:
        """Cancel the jobs not yet sent and end the workers once their job in hand is done
        (without waiting for them)."""
        with self._lock:
            self._closed = True
            self._cancel_waiting()
            for _ in self._processes:
                self._jobs.put(None)

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PARSERS_ROOT, env.get("PYTHONPATH")]))
        return subprocess.Popen(
            [sys.executable, "-m", "parsers.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )

    def _serve(self, process: subprocess.Popen) -> None:
        try:
            while (job := self._jobs.get()) is not None:
                future, name, args, kwargs = job
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
        with self._lock:
            self._broken = True
            self._cancel_waiting(BrokenProcessPool("a parsing worker died"))
            for process in self._processes:
                process.kill()
            for _ in self._processes:
                self._jobs.put(None)

    def _cancel_waiting(self, error: BaseException | None = None) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is None:
                continue
            future = job[0]
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
