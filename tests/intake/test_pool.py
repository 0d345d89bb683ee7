"""Attachments examined in worker processes: the same findings as in the process itself, and a
worker that dies breaks only the message in hand."""

from __future__ import annotations

import os
import signal
import time

import pytest

from intake.pipeline.pool import ExaminePool, WorkerCrashed
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
        for pid in list(pool._executor._processes):  # noqa: SLF001 - the test kills the workers
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        with pytest.raises(WorkerCrashed):
            pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)
        assert len(pool.examine_all(files, max_bytes=30 * 2**20, ctx=ctx)) == 4  # a fresh pool
    finally:
        pool.close()
