"""Shared by the service benchmarks: real Dovecot and aiosmtpd from the test machinery, and a
config."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # a benchmark runs as a script from benchmarks/
    sys.path.insert(0, str(ROOT))

from tests.helpers.campaign import (  # noqa: E402
    DEADLINE,
    INTAKE,
    INTAKE_ENV,
    UNITS,
    four_items,
    submission,
    write_config,
)
from tests.helpers.servers import DovecotServer  # noqa: E402
from tests.helpers.smtpserver import SmtpServer  # noqa: E402

__all__ = [
    "DEADLINE",
    "INTAKE",
    "INTAKE_ENV",
    "DovecotServer",
    "SmtpServer",
    "UNITS",
    "four_items",
    "submission",
    "write_config",
    "byte_compiled",
    "percentile",
    "TreeRss",
]


def byte_compiled() -> None:
    """Byte-compile the checkout's packages into their ``__pycache__``, as ``pip install``
    does for an installed package (and Debian for getmail6): a process started by the benchmark
    then loads them instead of compiling every module anew. Without this, where
    PYTHONDONTWRITEBYTECODE is set, each ``intake`` process and each parsing worker compiles
    the project's sources at every start (about 0.8 s of CPU for the service's process)."""
    import compileall

    for package in ("intake", "parsers", "tracker", "notifier"):
        compileall.compile_dir(ROOT / package, quiet=1)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (0 < fraction <= 1)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


class TreeRss:
    """Samples the resident memory of a process and all its descendants (from /proc) in a thread;
    ``peak`` is the largest sum seen, in bytes. With ``descendants_only`` the process itself is
    left out (a benchmark measuring the converters its own process starts)."""

    def __init__(self, pid: int, interval: float = 0.05, *, descendants_only: bool = False) -> None:
        import threading

        self.pid, self.interval, self.peak = pid, interval, 0
        self.skip = 1 if descendants_only else 0
        self.at_peak: list[tuple[str, int]] = []  # (process, RSS) when the sum peaked
        self.pss_peak = 0  # the largest sum of proportional set sizes (shared pages split)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.pid)[self.skip :]
            sizes = [(_name(pid), _rss(pid)) for pid in pids]
            total = sum(size for _name_, size in sizes)
            if total > self.peak:
                self.peak, self.at_peak = total, sorted(sizes, key=lambda s: -s[1])
            self.pss_peak = max(self.pss_peak, sum(_pss(pid) for pid in pids))
            self._stop.wait(self.interval)

    def composition(self) -> str:
        """The processes at the peak, largest first: ``name 123 MB, …``."""
        return ", ".join(f"{name} {size / 2**20:.0f} MB" for name, size in self.at_peak)


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(c) for c in task.read_text().split())
            except OSError:
                pass
    return found


def _name(pid: int) -> str:
    """A short name of a process: its command line's program and first argument."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    shown = [Path(w.decode(errors="replace")).name for w in words[:3] if w]
    return " ".join(shown)[:60]


def _pss(pid: int) -> int:
    return _kilobytes(f"/proc/{pid}/smaps_rollup", "Pss:")


def _rss(pid: int) -> int:
    return _kilobytes(f"/proc/{pid}/status", "VmRSS:")


def _kilobytes(path: str, field: str) -> int:
    """A ``field: N kB`` line of a /proc file, in bytes (0 when the process is gone)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
