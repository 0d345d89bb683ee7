"""The LibreOffice kept running per process (parsers.office): reused from file to file, replaced
after a failure, killed with its whole group on a time-out, stopped when idle, and not needed
where no Python has ``uno`` (one start per file then)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from parsers import convert, office
from tests.parsers.test_legacy import UNIT, legacy

soffice = convert.converter_path()
needs_office_worker = pytest.mark.skipif(
    soffice is None or office.uno_python(soffice) is None,
    reason="LibreOffice or its python3-uno is not installed",
)


@pytest.fixture(autouse=True)
def fresh_worker():
    """Each test starts without a running office and leaves none behind."""
    office.stop_worker()
    office._unavailable = False
    yield
    office.stop_worker()
    office._unavailable = False


def group_members(pgid: int) -> list[tuple[int, bytes]]:
    """(pid, command line) of each running process of process group ``pgid`` (no zombies)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append((int(stat.parent.name), (stat.parent / "cmdline").read_bytes()))
        except (OSError, IndexError, ValueError):
            continue
    return found


def group_alive(pgid: int) -> bool:
    """Whether any process of process group ``pgid`` is still running."""
    return bool(group_members(pgid))


def wait_until_gone(pgid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return True
        time.sleep(0.05)
    return False


@needs_office_worker
def test_one_office_converts_file_after_file():
    data = legacy("doc")
    first = convert.doc_to_docx(data)
    worker = office._worker
    assert worker is not None and worker.process.poll() is None
    second = convert.doc_to_docx(data)
    assert office._worker is worker  # the same office, not a new start
    assert first[:2] == second[:2] == b"PK"


@needs_office_worker
def test_a_failed_conversion_replaces_the_office():
    convert.doc_to_docx(legacy("doc"))
    worker = office._worker
    pgid = worker.process.pid
    with pytest.raises(convert.ConversionFailed):
        convert.doc_to_docx(legacy("doc"), timeout=0.001)  # no office converts in a millisecond
    assert office._worker is None
    assert wait_until_gone(pgid), "the timed-out office's process group is still running"
    again = convert.doc_to_docx(legacy("doc"))  # a fresh office takes the next file
    assert again[:2] == b"PK" and office._worker is not worker


@needs_office_worker
def test_an_idle_office_stops(monkeypatch):
    monkeypatch.setattr(office, "IDLE_SECONDS", 0.5)
    convert.doc_to_docx(legacy("doc"))
    pgid, folder = office._worker.process.pid, office._worker.folder
    assert wait_until_gone(pgid), "the idle office did not stop"
    with office._lock:  # the idle timer holds it from killing the office to forgetting it
        assert office._worker is None and not folder.exists()


@pytest.mark.skipif(soffice is None, reason="LibreOffice is not installed")
def test_without_uno_each_file_starts_libreoffice(monkeypatch):
    monkeypatch.setattr(office, "uno_python", lambda _soffice: None)
    from tests.helpers.judging import examine

    [finding] = examine("总结.doc", legacy("doc"), expected_unit=UNIT)
    assert (finding.kind, finding.problems) == ("summary", [])
    assert office._worker is None and office._unavailable


@needs_office_worker
def test_a_valid_file_is_never_unreadable_because_the_kept_office_broke():
    convert.doc_to_docx(legacy("doc"))
    members = group_members(office._worker.process.pid)
    offices = [pid for pid, command in members if b"soffice" in command]
    assert offices, "no soffice in the worker's process group"
    for pid in offices:
        os.kill(pid, signal.SIGKILL)  # the office dies between two files
    converted = convert.doc_to_docx(legacy("doc"))  # a LibreOffice of its own for this file
    assert converted[:2] == b"PK"
