"""A file's family (which libraries reading it needs), told from its first bytes."""

from __future__ import annotations

import io
import zipfile

import pytest

from intake.samples import documents, scans
from parsers.families import OFFICE, PAGES, family_of

UNIT = "机械工程与自动化学院分党委"


def zipped(name: str, data: bytes) -> bytes:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr(name, data)
    return packed.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "family"),
    [
        ("总结扫描件.pdf", scans.scan_pdf("summary_scan", UNIT), PAGES),
        ("盖章页.JPG", b"\xff\xd8\xff\xe0\x00\x10JFIF", PAGES),
        ("盖章页.png", b"\x89PNG\r\n\x1a\n\x00\x00", PAGES),
        ("扫描件.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 ", PAGES),
        ("一份PDF却叫.docx", b"\r\n%PDF-1.7\n", PAGES),  # the bytes decide, as the registry does
        ("总结.docx", documents.summary_docx(UNIT), OFFICE),
        ("汇总表.XLSX", documents.table_xlsx(UNIT), OFFICE),
        ("总结.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, OFFICE),
        ("总结.doc", b"{\\rtf1\\ansi\\ansicpg936 \\'d7\\'dc}", OFFICE),
        # an archive may hold either family: whichever worker is free reads it
        ("材料.zip", zipped("总结扫描件.pdf", b"%PDF-1.4"), None),
        ("材料.rar", b"Rar!\x1a\x07\x00" + b"%PDF-1.4 stored member", None),
        ("材料.7z", b"7z\xbc\xaf\x27\x1c" + b"%PDF-1.4", None),
        ("说明.txt", "请查收".encode(), None),
        ("空.pdf", b"", None),
    ],
)
def test_the_family_of_a_file(filename, data, family):
    assert family_of(filename, data) == family


def test_telling_the_family_loads_no_parsing_library():
    import subprocess
    import sys

    probe = (
        "import sys, parsers.families; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'numpy', 'cv2', 'PIL', 'pypdfium2', 'openpyxl', 'docx', 'lxml', 'xlrd'}))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
