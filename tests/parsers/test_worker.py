"""``python -m parsers.worker``: requests in on standard input, replies out on standard output,
a file's bytes in a frame of their own, and an end when its input ends."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from intake.samples import documents
from parsers.entry import examine
from parsers.worker import read_frame, request, write_frame

UNIT = "机械工程与自动化学院分党委"


def start_worker() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "parsers.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )


def ask(worker: subprocess.Popen | SimpleNamespace, name: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
    call, blob = request(name, args, kwargs)
    write_frame(worker.stdin, call)
    if blob is not None:
        write_frame(worker.stdin, blob)
    worker.stdin.flush()
    return pickle.loads(read_frame(worker.stdout))


def test_frames_round_trip_and_a_cut_frame_is_an_error():
    stream = io.BytesIO()
    write_frame(stream, b"abc")
    write_frame(stream, b"")
    stream.seek(0)
    assert read_frame(stream) == b"abc" and read_frame(stream) == b"" and read_frame(stream) is None
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(stream.getvalue()[:5]))
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(stream.getvalue()[:9]))


def test_the_file_travels_beside_the_call_not_inside_it():
    data = documents.summary_docx(UNIT)
    call, blob = request("examine", ("总结.docx", data), {"max_bytes": 2**20})
    assert blob is data and len(call) < 500  # the pickle holds the name, not the bytes


def test_a_worker_examines_as_this_process_does_and_ends_with_its_input():
    data = documents.summary_docx(UNIT)
    worker = start_worker()
    try:
        ok, (findings, carried) = ask(worker, "examine", "总结.docx", data, max_bytes=2**20)
        assert ok and carried == [0] and findings[0].data is None
        expected = examine("总结.docx", data, max_bytes=2**20)
        assert [(f.kind, f.facts) for f in findings] == [(f.kind, f.facts) for f in expected]
        ok, error = ask(worker, "examine", "总结.docx", data, bogus_option=1)
        assert not ok and isinstance(error, TypeError)  # raised where the result is asked for
        # what a native library would print goes to the log, not into the replies
        fds = Path(f"/proc/{worker.pid}/fd")
        assert os.readlink(fds / "1") == os.readlink(fds / "2")
        worker.stdin.close()
        assert worker.wait(timeout=30) == 0
    finally:
        worker.kill()
        worker.wait()


def test_a_worker_whose_owner_closes_mid_request_ends():
    worker = start_worker()
    try:
        call, _blob = request("examine", ("a.pdf", b"%PDF-1.4"), {})
        write_frame(worker.stdin, call)  # the file's frame never comes
        worker.stdin.close()
        deadline = time.monotonic() + 30
        while worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.poll() is not None
    finally:
        worker.kill()
        worker.wait()


def _serving(monkeypatch, idle: float):  # noqa: ANN001, ANN202
    """``_serve`` in a thread over two pipes, with ``release_free_memory`` counted."""
    import threading

    from parsers import worker

    released = []
    monkeypatch.setattr(worker, "IDLE_BEFORE_RELEASE", idle)
    monkeypatch.setattr(worker, "release_free_memory", lambda: released.append(1))
    monkeypatch.setitem(worker.FUNCTIONS, "double", lambda value: value * 2)
    ours_in, theirs_out = os.pipe()
    theirs_in, ours_out = os.pipe()
    requests, replies = os.fdopen(theirs_in, "rb"), os.fdopen(theirs_out, "wb")
    thread = threading.Thread(target=worker._serve, args=(requests, replies), daemon=True)
    thread.start()
    owner = SimpleNamespace(stdin=os.fdopen(ours_out, "wb"), stdout=os.fdopen(ours_in, "rb"))

    def call(value: int) -> int:
        ok, result = ask(owner, "double", value)
        assert ok
        return result

    def end() -> None:
        owner.stdin.close()
        thread.join(timeout=10)
        for stream in (owner.stdout, requests, replies):
            stream.close()

    return call, released, end, thread


def test_a_busy_worker_keeps_its_free_memory_for_the_next_file(monkeypatch):
    call, released, end, thread = _serving(monkeypatch, idle=5.0)
    assert [call(1), call(2), call(3)] == [2, 4, 6]  # each asked for within 5 s of the last reply
    end()
    assert not thread.is_alive() and released == []


def test_an_idle_worker_hands_its_free_memory_back(monkeypatch):
    call, released, end, thread = _serving(monkeypatch, idle=0.01)
    assert call(21) == 42
    deadline = time.monotonic() + 10
    while not released and time.monotonic() < deadline:
        time.sleep(0.01)
    assert released == [1]  # once, not again while it waits
    time.sleep(0.1)
    assert released == [1]
    end()
    assert not thread.is_alive()


FREED_AND_ASKED_AGAIN = """
import resource, sys
from parsers.entry import keep_freed_memory
if sys.argv[1] == "keep":
    keep_freed_memory()  # as a worker does when it starts
def one_file():  # three 20 MB page images, made and dropped
    pages = [b"\\x01" * (20 * 2**20) for _ in range(3)]
    del pages
one_file()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    one_file()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_a_worker_keeps_freed_page_images_for_the_next_file():
    """What a file freed is there for the next one (until the worker is idle and hands it back):
    no page of it is faulted in again."""

    def faults(mode: str) -> int:
        run = subprocess.run(
            [sys.executable, "-c", FREED_AND_ASKED_AGAIN, mode],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(run.stdout)

    touched = 3 * 3 * 20 * 2**20 // os.sysconf("SC_PAGE_SIZE")
    assert faults("keep") < touched / 100
    assert faults("glibc's default") > touched / 2  # what the worker did before: trimmed on free
