"""Attachments examined in worker processes: the same findings as in the process itself, and a
worker that dies breaks only the message in hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from intake.pipeline.pool import KEPT_BATCHES, ExaminePool, WorkerCrashed
from intake.samples import documents, scans
from parsers.checks.registry import CheckContext

UNIT = "机械工程与自动化学院分党委"


def four_files() -> list[tuple[str, bytes]]:
    return [
        ("总结.docx", documents.summary_docx(UNIT)),
        ("总结扫描件.pdf", scans.scan_pdf("summary_scan", UNIT)),
        ("汇总表.xlsx", documents.table_xlsx(UNIT, best=6)),
        ("损坏.pdf", b"%PDF-1.4 broken"),
    ]


def kill_workers(pool: ExaminePool) -> None:
    """SIGKILL every worker of ``pool`` (a crash in a native library), and let the pool see it."""
    for pid in list(pool.worker_pids()):  # noqa: SLF001 - the test kills the workers
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)


def summary(findings) -> list[tuple]:  # noqa: ANN001
    return [
        (f.filename, f.kind, [p.code for p in f.problems], [d.code for d in f.doubts])
        for found in findings
        for f in found
    ]


def test_workers_give_the_findings_of_the_process_itself():
    files, ctx = four_files(), CheckContext()
    inline = ExaminePool(1).examine_all(files, max_bytes=30 * 2**20, ctx=ctx)
    pool = ExaminePool(2)
    try:
        assert summary(pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)) == summary(inline)
    finally:
        pool.close()
    kinds = [f.kind for found in inline for f in found]
    assert kinds[:3] == ["summary", "summary_scan", "table"]


def test_a_dead_worker_breaks_only_the_message_in_hand():
    files, ctx = four_files(), CheckContext()
    pool = ExaminePool(2)
    try:
        pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)
        kill_workers(pool)
        with pytest.raises(WorkerCrashed):
            pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)
        assert len(pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)) == 4  # a fresh pool
    finally:
        pool.close()


def test_files_started_ahead_are_picked_up_not_examined_again():
    files, ctx = four_files(), CheckContext()
    inline = ExaminePool(1).examine_all(files, max_bytes=30 * 2**20, ctx=ctx)
    pool = ExaminePool(2)
    try:
        pool.start(files, max_bytes=30 * 2**20, ctx=ctx)
        started = dict(pool._ahead)  # noqa: SLF001 - the test looks at the work started ahead
        assert len(started) == 4
        assert summary(pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)) == summary(inline)
        assert pool._ahead == {}  # noqa: SLF001
        assert all(future.done() for _batch, future in started.values())
        # a different limit is a different examination: nothing started ahead is used for it
        pool.start(files, max_bytes=30 * 2**20, ctx=ctx)
        small = pool.examine_all(files[:1], max_bytes=1024, ctx=ctx)
        assert [p.code for f in small[0] for p in f.problems] == ["too_large"]
        assert len(pool._ahead) == 4  # noqa: SLF001
    finally:
        pool.close()


def test_a_file_started_ahead_is_hashed_once(monkeypatch):
    from intake.pipeline import pool as pool_module

    hashed: list[int] = []
    digest = pool_module._digest  # noqa: SLF001 - the test counts its calls

    def counted(data: bytes) -> bytes:
        hashed.append(len(data))
        return digest(data)

    monkeypatch.setattr(pool_module, "_digest", counted)
    files, ctx = four_files(), CheckContext()
    pool = ExaminePool(2)
    try:
        pool.start(files, max_bytes=30 * 2**20, ctx=ctx)
        assert len(pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)) == 4
        assert sorted(hashed) == sorted(len(data) for _name, data in files)
        assert pool._digests == {}  # noqa: SLF001 - nothing kept once asked for
        copies = [(name, bytes(bytearray(data))) for name, data in files]  # equal, not the same
        assert len(pool.examine_all(copies, max_bytes=30 * 2**20, ctx=ctx)) == 4
        assert len(hashed) == 8
    finally:
        pool.close()


def test_a_crash_during_work_ahead_does_not_fail_the_message_in_hand():
    files, ctx = four_files(), CheckContext()
    following = [("下一封总结.docx", documents.summary_docx(UNIT, basic_chars=300))]
    pool = ExaminePool(2)
    try:
        pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)  # the workers are running
        pool.start(following, max_bytes=30 * 2**20, ctx=ctx)  # the next message, started ahead
        kill_workers(pool)
        # the pool broke while work of another message was in it: this one is examined again,
        # alone, on a fresh pool, and not parked as crashed
        assert len(pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)) == 4
        assert len(pool.examine_all(following, max_bytes=30 * 2**20, ctx=ctx)) == 1
    finally:
        pool.close()


OWNER = """
import os, signal, sys
from intake.pipeline.pool import ExaminePool
from parsers.checks.registry import CheckContext
from tests.intake.test_pool import four_files
pool = ExaminePool(2)
pool.examine_all(four_files(), max_bytes=30 * 2**20, ctx=CheckContext())
pool.start(four_files() * 3, max_bytes=30 * 2**20, ctx=CheckContext())  # work in flight
print(" ".join(str(pid) for pid in pool.worker_pids()), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_workers_end_when_their_owner_is_killed():
    from tests.helpers.campaign import INTAKE_ENV

    owner = subprocess.run(
        [sys.executable, "-c", OWNER], capture_output=True, text=True, env=INTAKE_ENV, timeout=120
    )
    assert owner.returncode == -signal.SIGKILL, owner.stderr
    workers = [int(pid) for pid in owner.stdout.split()]
    assert len(workers) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "orphaned workers remain"


PAGE_LIBRARIES = ("cv2", "pdfium")  # shared objects only the pages' libraries map


def mapped(pid: int, *names: str) -> list[bool]:
    """Whether each of ``names`` appears among the files the process has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name in maps for name in names]


def test_warm_workers_have_their_familys_libraries_loaded_before_any_file():
    pool = ExaminePool(2)
    try:
        pool.warm()
        deadline = time.monotonic() + 60

        def warmed() -> bool:
            roles = pool.worker_families()
            return sorted(roles.values()) == ["office", "pages"] and all(
                all(mapped(pid, "_imaging", "_multiarray_umath"))  # PIL and numpy: both families
                and mapped(pid, *PAGE_LIBRARIES) == [family == "pages"] * 2
                for pid, family in roles.items()
            )

        while time.monotonic() < deadline and not warmed():
            time.sleep(0.2)
        assert warmed()
    finally:
        pool.close()


def test_each_file_goes_to_the_worker_of_its_family(monkeypatch):
    """The Office worker never loads OpenCV or pdfium for a message of both kinds (however
    slow this machine is: no file waits long enough to be taken by the other worker)."""
    from intake.pipeline import workers

    monkeypatch.setattr(workers, "STEAL_AFTER", 600.0)
    files, ctx = four_files(), CheckContext()
    pool = ExaminePool(2)
    try:
        for _ in range(3):
            pool.start(files, max_bytes=30 * 2**20, ctx=ctx)
            assert len(pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)) == 4
        roles = {family: pid for pid, family in pool.worker_families().items()}
        assert mapped(roles["pages"], *PAGE_LIBRARIES) == [True, True]
        assert mapped(roles["office"], *PAGE_LIBRARIES) == [False, False]
    finally:
        pool.close()


def test_files_of_one_family_that_wait_are_taken_by_the_other_worker(monkeypatch):
    """With the pages' worker busy, a PDF that has waited ``STEAL_AFTER`` goes to the idle
    Office worker, which loads the pages' libraries for it."""
    from intake.pipeline import workers

    monkeypatch.setattr(workers, "STEAL_AFTER", 0.0)
    scans_only = [(f"扫描件{n}.pdf", scans.scan_pdf("summary_scan", UNIT)) for n in range(6)]
    pool = ExaminePool(2)
    try:
        found = pool.examine_all(scans_only, max_bytes=30 * 2**20, ctx=CheckContext())
        assert [f.kind for found_ in found for f in found_] == ["summary_scan"] * 6
        roles = {family: pid for pid, family in pool.worker_families().items()}
        assert mapped(roles["office"], *PAGE_LIBRARIES) == [True, True]
    finally:
        pool.close()


def test_work_ahead_nobody_asks_for_is_dropped_after_the_kept_messages():
    ctx = CheckContext()
    messages = [
        [(f"第{n}封总结.docx", documents.summary_docx(UNIT, basic_chars=300 + n))]
        for n in range(KEPT_BATCHES + 2)
    ]
    pool = ExaminePool(2)
    try:
        for files in messages:  # messages started ahead, none asked for (duplicates)
            pool.start(files, max_bytes=30 * 2**20, ctx=ctx)
        kept = {key[0] for key in pool._ahead}  # noqa: SLF001 - the test looks at what waits
        assert kept == {f"第{n}封总结.docx" for n in range(2, KEPT_BATCHES + 2)}
    finally:
        pool.close()


def test_findings_from_the_workers_carry_their_own_files():
    """A file travels to a worker and not back; an archive's members come back with their
    own bytes."""
    import io
    import zipfile

    member = documents.summary_docx(UNIT, basic_chars=320)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("2021年工作总结.docx", member)
    files = [("总结.docx", documents.summary_docx(UNIT)), ("材料.zip", packed.getvalue())]
    pool = ExaminePool(2)
    try:
        pool.start(files, max_bytes=30 * 2**20, ctx=CheckContext())  # as the pipeline does
        own, unpacked = pool.examine_all(files, max_bytes=30 * 2**20, ctx=CheckContext())
    finally:
        pool.close()
    assert [f.data for f in own] == [files[0][1]]
    summaries = [f for f in unpacked if f.kind == "summary"]
    assert summaries and all(f.data == member for f in summaries)


COMMAND_SCRIPT = """
import sys
from {module} import main  # the one import of the script pip writes for the command
if __name__ == "__main__":
    from pathlib import Path
    from intake.pipeline.pool import ExaminePool
    from parsers.checks.registry import CheckContext
    from tests.intake.test_pool import four_files
    pool = ExaminePool(2)
    pool.examine_all(four_files(), max_bytes=30 * 2**20, ctx=CheckContext())
    maps = [Path(f"/proc/{{pid}}/maps").read_text() for pid in pool.worker_pids()]
    print(sum("sqlalchemy" in text for text in maps), len(maps))
    pool.close()
"""


@pytest.mark.parametrize("module", ["intake.launcher", "intake.cli"])
def test_workers_of_the_intake_command_load_no_service(module, tmp_path):
    """A worker is ``python -m parsers.worker``, never a re-import of the script that started
    the service: whatever that script imports (``intake.cli`` brings SQLAlchemy), no worker
    loads the service."""
    from tests.helpers.campaign import INTAKE_ENV

    script = tmp_path / "intake"
    script.write_text(COMMAND_SCRIPT.format(module=module), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=INTAKE_ENV, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["0", "2"]


def test_the_intake_command_is_the_launcher():
    from importlib.metadata import entry_points

    (command,) = entry_points(group="console_scripts", name="intake")
    assert command.value == "intake.launcher:main"


def test_the_workers_are_the_only_processes_the_pool_starts():
    """No fork server, no resource tracker: the pool's processes are its workers."""

    def children() -> dict[int, str]:
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found[int(stat.parent.name)] = cmdline
        return found

    before = children()
    pool = ExaminePool(2)
    try:
        pool.examine_all(four_files(), max_bytes=30 * 2**20, ctx=CheckContext())
        started = {pid: cmd for pid, cmd in children().items() if pid not in before}
        assert sorted(started) == sorted(pool.worker_pids())
        assert all("-m parsers.worker" in cmd for cmd in started.values())
    finally:
        pool.close()
