"""One LibreOffice kept running per process for conversions, instead of one start per file.

Starting a headless LibreOffice costs about a second; a conversion in a running one costs
about a tenth of that. ``OfficeWorker`` runs ``parsers/uno_worker.py`` under a Python that has
LibreOffice's ``uno`` module (``python3-uno``), which starts one ``soffice`` on a private UNO
pipe in its own process group, and hands it one file at a time through a private temp dir (the
input under a fixed name, never a name from mail). The group runs under an address-space, a
file-size and a core-size limit; each conversion has a wall-clock limit, past which the whole
group is killed. Any failed conversion ends the worker too, so the next file gets a fresh office
and nothing a hostile file did lingers. A worker idle for ``IDLE_SECONDS`` stops, giving its
memory back.

``convert_with_worker`` is the entry point; it returns None when no Python with ``uno`` is on
this machine or the worker cannot start, and the caller falls back to one start per file.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import resource
import secrets
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

START_SECONDS = 60
IDLE_SECONDS = 60
MEMORY_LIMIT = 1536 * 1024 * 1024  # address space of each LibreOffice process (it needs ~1 GB)
OUTPUT_LIMIT = 200 * 1024 * 1024  # largest file the office may write
WORKER_SCRIPT = Path(__file__).with_name("uno_worker.py")


class WorkerFailed(Exception):
    """The running office gave no usable answer (it failed, died or ran out of time)."""


class WorkerTimedOut(WorkerFailed):
    """The running office took longer than the file's time limit."""


@cache
def uno_python(soffice: str) -> str | None:
    """A Python interpreter that can ``import uno``: LibreOffice's own, else the system's."""
    program = Path(os.path.realpath(soffice)).parent
    candidates = [str(program / "python"), "/usr/bin/python3", shutil.which("python3")]
    for candidate in dict.fromkeys(c for c in candidates if c):
        if not os.access(candidate, os.X_OK):
            continue
        try:
            probe = subprocess.run(
                [candidate, "-c", "import uno"],
                capture_output=True,
                timeout=20,
                env=office_env(),
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return candidate
    return None


def office_env(home: str | None = None) -> dict[str, str]:
    """The environment LibreOffice runs in (kept or started per file): no PYTHONPATH of ours,
    a private HOME, no display."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "SAL_USE_VCLPLUGIN": "svp",
    }
    if home:
        env["HOME"] = home
    return env


def limit_office() -> None:
    """Resource limits of any LibreOffice process and its helpers (run in the child before
    exec). A file started on its own adds a CPU limit, which a kept office would outgrow."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT, OUTPUT_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class OfficeWorker:
    """A running ``uno_worker.py`` and its office; one conversion at a time."""

    def __init__(self, soffice: str, python: str) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="intake-office-"))
        pipe = f"intake-{os.getpid()}-{secrets.token_hex(8)}"
        profile = (self.folder / "profile").as_uri()
        self.process = subprocess.Popen(
            [python, str(WORKER_SCRIPT), soffice, profile, pipe],
            cwd=self.folder,
            env=office_env(str(self.folder)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            preexec_fn=limit_office,
            start_new_session=True,
        )
        self._buffer = b""
        try:
            if not self._answer(START_SECONDS).get("ready"):
                raise WorkerFailed("the office did not start")
        except WorkerFailed:
            self.close()
            raise

    def convert(
        self, data: bytes, suffix: str, target: str, out_suffix: str, infilter: str | None, timeout
    ) -> bytes:
        """The bytes of ``data`` (a .<suffix> file) stored with export filter ``target``."""
        source = self.folder / f"input.{suffix}"
        result = self.folder / f"output.{out_suffix}"
        source.write_bytes(data)
        result.unlink(missing_ok=True)
        job = {"source": str(source), "target": str(result), "filter": target}
        job["infilter"] = infilter
        try:
            self.process.stdin.write(json.dumps(job).encode() + b"\n")
            self.process.stdin.flush()
            answer = self._answer(timeout)
            if not answer.get("ok"):
                raise WorkerFailed(str(answer.get("error", "conversion failed")))
            if not result.is_file() or result.stat().st_size == 0:
                raise WorkerFailed("the office wrote nothing")
            return result.read_bytes()
        finally:
            source.unlink(missing_ok=True)
            result.unlink(missing_ok=True)

    def _answer(self, timeout: float) -> dict:
        """The next JSON line the worker writes, waiting at most ``timeout`` seconds."""
        stream = self.process.stdout
        with selectors.DefaultSelector() as selector:
            selector.register(stream, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                if not selector.select(timeout):
                    raise WorkerTimedOut("the office timed out")
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    raise WorkerFailed("the office ended")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError as exc:
            raise WorkerFailed("the office answered nonsense") from exc

    def close(self) -> None:
        """End the worker's whole process group and remove its temp dir."""
        kill_group(self.process)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


def kill_group(process: subprocess.Popen) -> None:
    """End the process group a LibreOffice was started in (a new session), if still there, and
    reap its leader: soffice may leave children behind."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if process.poll() is None:
        process.wait()


_lock = threading.Lock()
_worker: OfficeWorker | None = None
_idle_timer: threading.Timer | None = None
_generation = 0  # bumped at each use: an idle timer set before it no longer applies
_unavailable = False


def convert_with_worker(
    soffice: str,
    data: bytes,
    suffix: str,
    target: str,
    out_suffix: str,
    *,
    infilter: str | None,
    timeout: float,
) -> bytes | None:
    """Convert through this process's running office, starting it when needed. None when no
    office worker can run here (the caller starts LibreOffice once for the file instead);
    ``WorkerFailed`` when the office could not convert this file."""
    global _worker, _unavailable
    with _lock:
        _cancel_idle_stop()
        if _unavailable:
            return None
        if _worker is None:
            python = uno_python(soffice)
            if python is None:
                _unavailable = True
                return None
            try:
                _worker = OfficeWorker(soffice, python)
            except (OSError, WorkerFailed) as exc:
                log.warning("LibreOffice 常驻转换进程无法启动（%s），改为逐个文件启动", exc)
                _unavailable = True
                return None
        try:
            return _worker.convert(data, suffix, target, out_suffix, infilter, timeout)
        except (OSError, WorkerFailed) as exc:
            _stop_worker()
            failure = WorkerTimedOut if isinstance(exc, WorkerTimedOut) else WorkerFailed
            raise failure("conversion failed") from None
        finally:
            _schedule_idle_stop()


def stop_worker() -> None:
    """End this process's office, if one is running (at exit, and after it idled)."""
    with _lock:
        _cancel_idle_stop()
        _stop_worker()


def _stop_if_still_idle(timer_generation: int) -> None:
    """The idle timer's action: stop the office unless it was used since the timer was set."""
    with _lock:
        if timer_generation == _generation:
            _stop_worker()


def _stop_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.close()
        _worker = None


def _schedule_idle_stop() -> None:
    global _idle_timer
    if _worker is not None:
        _idle_timer = threading.Timer(IDLE_SECONDS, _stop_if_still_idle, (_generation,))
        _idle_timer.daemon = True
        _idle_timer.start()


def _cancel_idle_stop() -> None:
    global _idle_timer, _generation
    _generation += 1
    if _idle_timer is not None:
        _idle_timer.cancel()
        _idle_timer = None


atexit.register(stop_worker)
