"""Parser benchmark: files per second and peak memory per parser on a realistic set.

Run ``python benchmarks/parsers.py``. Each case is built in one subprocess and parsed in another,
so that the peak resident memory (ru_maxrss, minus the process's size with the file loaded and
the parsers imported) belongs to the parsing alone; a converter's own peak (the largest sum of
the resident memory of the processes it started, sampled from /proc) is shown apart.
files/s and s/file are over the repetitions after the first file; "first s" is the first file
alone, which for a .doc includes starting the LibreOffice that the process then keeps.
Cases: a 2 MB .docx summary with 6 photos, a 10-page 150-dpi scan, a 40-row table (.xlsx and
.xls), a .doc summary (LibreOffice conversion, when installed) and a 200-page scan.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _servers import TreeRss  # noqa: E402 - after the path is set

UNIT = "机械工程与自动化学院分党委"
CASES = (
    "summary_docx_2mb",
    "summary_doc",
    "table_xlsx_40",
    "table_xls_40",
    "scan_pdf_10p_150dpi",
    "scan_pdf_200p",
)


def _big_photo(seed: int) -> bytes:
    """A ~330 KB photo (noisy PNG), so six of them make a 2 MB document as real photos do."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (400, 300), rng.randbytes(400 * 300 * 3))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def build(case: str) -> tuple[str, bytes, int]:
    """The file name, bytes and repetitions of a case."""
    from intake.samples import documents, scans

    if case in ("summary_docx_2mb", "summary_doc"):
        original = documents.photo_png
        documents.photo_png = lambda index=0, size=None: _big_photo(index)
        try:
            data = documents.summary_docx(
                UNIT,
                cases=[
                    {"title": "甲", "chars": 420, "photos": 3},
                    {"title": "乙", "chars": 380, "photos": 3},
                ],
            )
        finally:
            documents.photo_png = original
        if case == "summary_doc":
            return "总结.doc", _to_doc(data), 10
        return "总结.docx", data, 10
    if case == "table_xlsx_40":
        return "汇总表.xlsx", documents.table_xlsx(UNIT, plans=40), 30
    if case == "table_xls_40":
        return "汇总表.xls", documents.table_xls(UNIT, plans=40), 30
    if case == "scan_pdf_10p_150dpi":
        return "总结盖章.pdf", scans.scan_pdf("summary_scan", UNIT, pages=10, dpi=150), 3
    return "总结盖章.pdf", scans.scan_pdf("summary_scan", UNIT, pages=200, dpi=100), 1


def _to_doc(docx: bytes) -> bytes:
    """The .docx saved as .doc by LibreOffice."""
    import tempfile

    from parsers.convert import converter_path

    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "s.docx").write_bytes(docx)
        subprocess.run(
            [
                converter_path(),
                "--headless",
                f"-env:UserInstallation=file://{work}/p",
                "--convert-to",
                "doc",
                "--outdir",
                work,
                f"{work}/s.docx",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return (Path(work) / "s.doc").read_bytes()


def run_case(case: str, path: str) -> dict:
    """Parse the case's file (built beforehand into ``path``) ``repeat`` times; time and peak
    memory."""
    from parsers.registry import examine

    name, repeat = json.loads(Path(path + ".json").read_text())
    data = Path(path).read_bytes()
    examine("warm-up.txt", b"x")
    import parsers.scan
    import parsers.summary  # noqa: F401,E401 - imports out of the measure

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with TreeRss(os.getpid(), descendants_only=True) as converters:
        started = time.perf_counter()
        findings = examine(name, data, max_bytes=100 * 1024 * 1024)
        first = time.perf_counter() - started  # a .doc's first file includes starting the office
        started = time.perf_counter()
        for _ in range(repeat):
            findings = examine(name, data, max_bytes=100 * 1024 * 1024)
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, converters.peak / 1024)
    return {
        "case": case,
        "file": name,
        "size": len(data),
        "kind": findings[0].kind,
        "problems": [p.code for f in findings for p in f.problems],
        "files_per_s": repeat / elapsed,
        "seconds_per_file": elapsed / repeat,
        "first_file_s": first,
        "peak_mb": max(peak - before, 0) / 1024,
        "child_peak_mb": children / 1024,
    }


def main() -> None:
    """Run every case in a fresh interpreter and print a table."""
    if len(sys.argv) == 4 and sys.argv[1] == "--build":
        name, data, repeat = build(sys.argv[2])
        Path(sys.argv[3]).write_bytes(data)
        Path(sys.argv[3] + ".json").write_text(json.dumps([name, repeat]))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2], sys.argv[3])))
        return
    import tempfile

    work = tempfile.mkdtemp(prefix="intake-bench-")
    print(
        f"{'case':22} {'size':>9} {'files/s':>8} {'s/file':>7} {'first s':>7} {'peak MB':>8} "
        f"{'converter MB':>12}  problems"
    )
    for case in CASES:
        if case == "summary_doc":
            from parsers.convert import converter_path

            if converter_path() is None:
                print(f"{case:22} skipped: LibreOffice is not installed")
                continue
        path = f"{work}/{case}"
        subprocess.run([sys.executable, __file__, "--build", case, path], check=True, cwd=ROOT)
        out = subprocess.run(
            [sys.executable, __file__, "--case", case, path],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if out.returncode != 0:
            print(f"{case:22} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        child = f"{r['child_peak_mb']:.0f}" if case == "summary_doc" else "-"
        print(
            f"{case:22} {r['size'] / 1024:>7.0f}KB {r['files_per_s']:>8.2f} "
            f"{r['seconds_per_file']:>7.2f} {r['first_file_s']:>7.2f} "
            f"{r['peak_mb']:>8.1f} {child:>12}  {r['problems'] or 'none'}"
        )


if __name__ == "__main__":
    main()
