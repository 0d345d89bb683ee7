"""Hostile-input benchmark: bombs and floods, each through the real entry point.

Run ``python benchmarks/hostile.py`` (``--only CASE`` for one; ``--work DIR`` keeps the built
files for the next run). Every case is built in code into a file on disk, then read by a fresh
child process: ``intake import --no-reply`` for mail files (a 90 MB .eml, a 300 MB mbox),
``parsers.registry.examine`` for attachments (zip bombs nested and flat, 100 000 entries, a 7z
bomb, an xlsx with a huge sharedStrings, PNG bombs alone and inside a PDF, docx bombs). For each
it prints the seconds the child ran, the child's peak resident memory (``os.wait4``: that child
alone) and the verdict (the problem codes). Targets: every bomb refused in <= 5 s with a peak
RSS <= 300 MB.

Bombs are true to their declared sizes: their deflate streams are one flushed block repeated
(``intake.samples.archives.repeated_deflate``), so a 4 GB member costs 4 MB and a second to build.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intake.samples import scans  # noqa: E402
from intake.samples.archives import packed_zip, repeated_deflate, zeros_entry  # noqa: E402

UNIT = "机械工程与自动化学院分党委"
MB = 1024 * 1024
TARGET_SECONDS = 5.0
TARGET_MB = 300.0
BILLION_LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10))
    + b"]>"
)

# --------------------------------------------------------------------------- building blocks


def _zip_of(members: list[tuple[str, bytes]]) -> bytes:
    """An ordinary deflated zip of ``members``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buf.getvalue()


def _png(width: int, height: int, value: int = 255) -> bytes:
    """A grey PNG of ``width`` x ``height`` pixels of one value, built without its pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = 256
    assert height % rows == 0
    row = b"\0" + bytes([value]) * width
    idat, _, _ = repeated_deflate(row * rows, height // rows, wrapper="zlib")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _pdf_with_image(width: int, height: int) -> bytes:
    """A one-page PDF drawing one grey image of ``width`` x ``height`` (FlateDecode)."""
    rows = 256
    assert height % rows == 0
    band = (b"\xff" * (width // 2) + b"\x20" * (width - width // 2)) * 8  # ink: not a blank page
    unit = b"\xff" * width * (rows - 8) + band
    image, _, _ = repeated_deflate(unit, height // rows, wrapper="zlib")
    return scans.pdf_drawing_image(width, height, image)


def _rezip(data: bytes, change) -> bytes:  # noqa: ANN001 - a function of (name, bytes)
    """An OOXML package with its parts passed through ``change`` (None drops a part)."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = change(info.filename, src.read(info.filename))
            if body is not None:
                dst.writestr(info.filename, body)
    return out.getvalue()


def _with_bomb(body: bytes) -> bytes:
    end = body.index(b"?>") + 2 if body.startswith(b"<?xml") else 0
    return (body[:end] + BILLION_LAUGHS + body[end:]).replace(b"<w:t>", b"<w:t>&lol9;", 1)


def _docx_with_big_member(size_mb: int) -> bytes:
    """The sample summary with one more part, word/media/image9.png, of ``size_mb`` MB."""
    from intake.samples import documents

    src = zipfile.ZipFile(io.BytesIO(documents.summary_docx(UNIT)))
    entries = []
    for info in src.infolist():
        body = src.read(info.filename)
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = compressor.compress(body) + compressor.flush()
        entries.append((info.filename, zlib.crc32(body), len(body), packed, 8))
    entries.append(zeros_entry("word/media/image9.png", size_mb))
    return packed_zip(entries)


def _xlsx_with_shared_strings(count: int) -> bytes:
    """The sample table with a sharedStrings.xml of ``count`` strings (highly packed), declared
    in the content types and the workbook's relationships, as a spreadsheet program writes it."""
    from intake.samples import documents

    strings = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" '
        b'uniqueCount="%d">'
        % (count, count)
        + b"<si><t>\xe7\xab\x8b\xe9\xa1\xb9</t></si>" * count
        + b"</sst>"
    )
    kind = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    relation = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"

    def change(name: str, body: bytes) -> bytes | None:
        if name == "[Content_Types].xml":
            override = b'<Override PartName="/xl/sharedStrings.xml" ContentType="%s"/>' % kind
            return body.replace(b"</Types>", override + b"</Types>")
        if name == "xl/_rels/workbook.xml.rels":
            link = b'<Relationship Id="rIdSS" Type="%s" Target="sharedStrings.xml"/>' % relation
            return body.replace(b"</Relationships>", link + b"</Relationships>")
        return None if name == "xl/sharedStrings.xml" else body

    data = _rezip(documents.table_xlsx(UNIT), change)
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", strings)
    return buf.getvalue()


def _message_file(path: Path, *, attachment_mb: int, message_id: str) -> None:
    """A .eml of one base64 attachment of ``attachment_mb`` MB, written a line at a time."""
    import base64

    head = (
        "From: 机械学院 <jixie@example.edu.cn>\r\nTo: zzb@example.edu.cn\r\n"
        f"Subject: =?utf-8?b?{base64.b64encode('立项材料（大附件）'.encode()).decode()}?=\r\n"
        f"Message-ID: <{message_id}>\r\nDate: Thu, 31 Mar 2022 10:00:00 +0800\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n附件是材料。\r\n"
        '--b\r\nContent-Type: application/zip; name="cailiao.zip"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="cailiao.zip"\r\n\r\n'
    ).encode()
    line = base64.b64encode(os.urandom(57)) + b"\r\n"
    block = line * 16384  # ~1.3 MB of base64 lines, for ~1 MB of attachment
    with path.open("ab") as out:
        out.write(head)
        for _ in range(attachment_mb):
            out.write(block)
        out.write(b"--b--\r\n")


def _broken_runs_file(path: Path, size_mb: int) -> None:
    """A .eml whose 7bit body is ``size_mb`` MB of base64-like lines broken every 63 lines, one
    short of a run set aside before the MIME parse (``parsers.base64_aside``): a scan that read
    a run again from each of its lines took 1.3 s per 5 MB of it."""
    head = (
        "From: 机械学院 <jixie@example.edu.cn>\r\nTo: zzb@example.edu.cn\r\n"
        "Subject: base64\r\nMessage-ID: <broken-runs@example.edu.cn>\r\n"
        "Date: Thu, 31 Mar 2022 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
    ).encode()
    region = (b"QUJD" * 19 + b"\r\n") * 63 + b"-\r\n"
    with path.open("wb") as out:
        out.write(head)
        out.write(region * (size_mb * MB // len(region)))


def _small_message(index: int) -> bytes:
    from intake.samples import mail

    return mail.build_message(
        sender="jixie@example.edu.cn",
        to="zzb@example.edu.cn",
        subject=f"机械学院材料 {index}",
        body="组织部老师：您好！请查收。",
        date=datetime(2022, 3, 31, 10, index, tzinfo=timezone(timedelta(hours=8))),
        message_id=f"<small-{index}@example.edu.cn>",
        attachments=[],
    )


# --------------------------------------------------------------------------- the cases

IMPORTS = ("eml_small", "eml_45mb", "eml_90mb", "mbox_300mb", "eml_broken_base64_runs")
ATTACHMENTS = (
    "zip_nested_64gb",
    "zip_nested_wide_40gb",
    "zip_flat_24gb",
    "zip_100000_entries",
    "7z_bomb_1gb",
    "xlsx_shared_strings",
    "png_bomb",
    "png_144mp",
    "pdf_png_bomb",
    "docx_billion_laughs",
    "docx_2gb_member",
)
CASES = IMPORTS + ATTACHMENTS
DESCRIPTIONS = {
    "eml_small": "not a bomb: a 1 KB .eml, `intake import` (what starting the command costs)",
    "eml_45mb": "not a bomb: .eml of 45 MB, a 33 MB attachment (under the limit), `intake import`",
    "eml_90mb": ".eml with a 90 MB attachment, `intake import` (limit 50 MB)",
    "mbox_300mb": "300 MB mbox: 3 normal messages and one of 300 MB, `intake import`",
    "eml_broken_base64_runs": ".eml, 45 MB of base64-like lines broken every 63, `intake import`",
    "zip_nested_64gb": "zip of 16 zips of 16 zips of 16 x 16 MB zeros (64 GB, 42.zip-like)",
    "zip_nested_wide_40gb": "zip of 200 zips of 200 x 1 MB zeros (40 GB)",
    "zip_flat_24gb": "flat zip (42.zip's last layer): 6 members of 4080 MB zeros (24 GB)",
    "zip_100000_entries": "zip with 100 000 one-byte entries",
    "7z_bomb_1gb": "7z of 1 GB zeros (LZMA2)",
    "xlsx_shared_strings": "xlsx, sharedStrings.xml of 2.3 million strings (48 MB in 0.1 MB)",
    "png_bomb": "PNG attachment, 30000 x 30720 pixels (921 MP)",
    "png_144mp": "PNG attachment, 12000 x 12032 pixels (144 MP, under Pillow's own refusal)",
    "pdf_png_bomb": "PDF page drawing a 30000 x 30720 image (921 MP)",
    "docx_billion_laughs": "docx whose document.xml is a billion laughs",
    "docx_2gb_member": "docx with a 2 GB member (word/media)",
}


def build(case: str, path: Path) -> str:
    """Write the case's file at ``path``; return the attachment's file name (or the mail path)."""
    if case == "eml_small":
        path.write_bytes(_small_message(9))
        return path.name
    if case == "eml_45mb":
        path.unlink(missing_ok=True)
        _message_file(path, attachment_mb=33, message_id="45mb-eml@example.edu.cn")
        return path.name
    if case == "eml_90mb":
        path.unlink(missing_ok=True)
        _message_file(path, attachment_mb=74, message_id="big-eml@example.edu.cn")  # 90 MB base64
        return path.name
    if case == "mbox_300mb":
        with path.open("wb") as out:
            for index in range(3):
                out.write(b"From jixie@example.edu.cn Thu Mar 31 10:00:00 2022\n")
                out.write(_small_message(index).replace(b"\r\n", b"\n") + b"\n")
            out.write(b"From jixie@example.edu.cn Thu Mar 31 11:00:00 2022\n")
        _message_file(path, attachment_mb=245, message_id="big-mbox@example.edu.cn")
        return path.name
    if case == "eml_broken_base64_runs":
        _broken_runs_file(path, 45)
        return path.name
    name, data = _attachment(case)
    path.write_bytes(data)
    return name


def _attachment(case: str) -> tuple[str, bytes]:
    from intake.samples import documents

    if case == "zip_nested_64gb":
        bottom = packed_zip([zeros_entry(f"{i:02d}.bin", 16) for i in range(16)])
        middle = _zip_of([(f"{i:02d}.zip", bottom) for i in range(16)])
        return "材料.zip", _zip_of([(f"{i:02d}.zip", middle) for i in range(16)])
    if case == "zip_nested_wide_40gb":
        bottom = packed_zip([zeros_entry(f"{i:03d}.txt", 1) for i in range(200)])
        return "材料.zip", _zip_of([(f"{i:03d}.zip", bottom) for i in range(200)])
    if case == "zip_flat_24gb":
        member = zeros_entry("x", 4080)  # 4 MB each: six stay under the attachment limit
        return "材料.zip", packed_zip([(f"{i:02d}.bin", *member[1:]) for i in range(6)])
    if case == "zip_100000_entries":
        one = (0, zlib.crc32(b"x"), 1, b"x", 0)
        return "材料.zip", packed_zip([(f"{i:06d}.txt", *one[1:]) for i in range(100_000)])
    if case == "7z_bomb_1gb":
        return "材料.7z", _sevenzip_zeros(1024)
    if case == "xlsx_shared_strings":
        return "汇总表.xlsx", _xlsx_with_shared_strings(2_300_000)
    if case == "png_bomb":
        return "汇总表扫描件.png", _png(30000, 30720)
    if case == "png_144mp":
        return "汇总表扫描件.png", _png(12000, 12032)
    if case == "pdf_png_bomb":
        return "总结盖章扫描件.pdf", _pdf_with_image(30000, 30720)
    if case == "docx_billion_laughs":
        summary = documents.summary_docx(UNIT)
        return "总结.docx", _rezip(
            summary, lambda n, b: _with_bomb(b) if n == "word/document.xml" else b
        )
    if case == "docx_2gb_member":
        return "总结.docx", _docx_with_big_member(2048)
    raise ValueError(case)


def _sevenzip_zeros(size_mb: int) -> bytes:
    """A .7z of ``size_mb`` MB of zeros, by bsdtar from a sparse file (py7zr is slower)."""
    import shutil

    binary = shutil.which("bsdtar")
    with tempfile.TemporaryDirectory() as work:
        zeros = Path(work) / "zeros.bin"
        with zeros.open("wb") as handle:
            handle.truncate(size_mb * MB)
        if binary is None:
            import py7zr

            with py7zr.SevenZipFile(Path(work) / "a.7z", "w") as archive:
                archive.write(zeros, "zeros.bin")
        else:
            subprocess.run(
                [
                    binary,
                    "--format",
                    "7zip",
                    "--options",
                    "7zip:compression=lzma2",
                    "-cf",
                    "a.7z",
                    "zeros.bin",
                ],
                cwd=work,
                check=True,
            )
        return (Path(work) / "a.7z").read_bytes()


# --------------------------------------------------------------------------- running


def examine_file(name: str, path: str) -> None:
    """In the child: examine one attachment as the pipeline does; print the verdicts."""
    from parsers.registry import examine

    data = Path(path).read_bytes()
    findings = examine(name, data)
    codes = sorted({p.code for f in findings for p in f.problems + f.doubts})
    print(
        json.dumps(
            {
                "findings": len(findings),
                "codes": codes,
                "first": next((p.message for f in findings for p in f.problems), ""),
            }
        )
    )


def _config(work: Path) -> Path:
    path = work / "config.toml"
    path.write_text(
        '[campaign]\nname = "2022年基层党组织活动方案立项"\n'
        "deadline = 2022-04-01T17:00:00+08:00\n"
        '[database]\nurl = "sqlite:///intake.db"\n[storage]\ndir = "data"\n'
        '[smtp]\nfrom = "党委组织部 <zzb@example.edu.cn>"\noutbox_dir = "outbox"\n'
        '[[subcommittees]]\nname = "机械工程与自动化学院分党委"\naliases = ["机械学院"]\n'
        'emails = ["jixie@example.edu.cn"]\n',
        encoding="utf-8",
    )
    return path


def _measured(command: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """Run ``command``; its seconds, its own peak RSS in MB (wait4), exit code and stdout."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return elapsed, usage.ru_maxrss / 1024, child.returncode, out.read().decode()


def run(case: str, work: Path) -> dict:
    """Build the case (if not built yet) and run it in a measured child."""
    suffix = {"mbox_300mb": ".mbox"}.get(case, ".eml" if case.startswith("eml_") else ".bin")
    path = work / f"{case}{suffix}"
    meta = path.with_suffix(".json")
    if not (path.exists() and meta.exists()):
        started = time.perf_counter()
        name = build(case, path)
        meta.write_text(json.dumps({"name": name, "build_s": time.perf_counter() - started}))
    name = json.loads(meta.read_text())["name"]
    size = path.stat().st_size
    if case in IMPORTS:
        home = work / f"{case}-campaign"
        home.mkdir(exist_ok=True)
        for old in home.glob("intake.db*"):
            old.unlink()
        config = _config(home)
        seconds, peak, code, _ = _measured(
            [
                sys.executable,
                "-m",
                "intake",
                "--config",
                str(config),
                "import",
                "--no-reply",
                str(path),
            ],
            home,
        )
        verdict = _import_verdict(home / "intake.db") if code == 0 else f"exit {code}"
    else:
        seconds, peak, code, out = _measured(
            [sys.executable, __file__, "--examine", name, str(path)], ROOT
        )
        verdict = (
            ",".join(json.loads(out.splitlines()[-1])["codes"]) if code == 0 else f"exit {code}"
        )
    return {"case": case, "size": size, "seconds": seconds, "peak_mb": peak, "verdict": verdict}


def _import_verdict(database: Path) -> str:
    """What import recorded: messages, how many were over the limit, their problem codes."""
    with sqlite3.connect(database) as db:
        rows = db.execute("select truncated, state, problems from messages").fetchall()
    codes = sorted({p["code"] for _, _, problems in rows for p in json.loads(problems or "[]")})
    truncated = sum(1 for t, _, _ in rows if t)
    return f"{len(rows)} stored, {truncated} truncated: {','.join(codes) or 'none'}"


def main() -> None:
    """Run the cases and print one line each."""
    if len(sys.argv) == 4 and sys.argv[1] == "--examine":
        examine_file(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=CASES)
    parser.add_argument("--work", type=Path, help="keep the built files here between runs")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="intake-hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    for case in args.only or CASES:
        print(f"{case:22} {DESCRIPTIONS[case]}")
    print(f"\n{'case':22} {'size':>9} {'s':>6} {'peak MB':>8}  target  verdict")
    for case in args.only or CASES:
        r = run(case, work)
        met = r["seconds"] <= TARGET_SECONDS and r["peak_mb"] <= TARGET_MB
        print(
            f"{case:22} {r['size'] / MB:>7.1f}MB {r['seconds']:>6.2f} {r['peak_mb']:>8.0f}  "
            f"{'met   ' if met else 'MISSED'}  {r['verdict']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
