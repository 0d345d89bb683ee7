"""Fuzzing: thousands of damaged files through every parser; only typed findings may come back.

Hypothesis mutates real fixtures (flipped bytes, cut, spliced, inserted junk) and, for the
zip-based formats, members of the package. The budget is bounded (``max_examples`` per
parser, no deadline); the count of files tried is printed by a module finaliser (shown with -s)
and asserted.
"""

import io
import zipfile
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.samples import archives, documents, scans
from parsers.findings import Finding
from parsers.vocabulary import CODES as MESSAGES
from tests.helpers import tally
from tests.helpers.judging import examine

UNIT = "机械工程与自动化学院分党委"
EXAMPLES = 250  # per fixture and strategy: ~2,000 files in all
TRIED = {"count": 0}


@cache
def fixtures():
    return {
        "summary.docx": documents.summary_docx(
            UNIT, cases=[{"title": "甲", "chars": 320, "photos": 2}]
        ),
        "table.xlsx": documents.table_xlsx(UNIT, plans=4),
        "table.xls": documents.table_xls(UNIT, plans=4),
        "scan.pdf": scans.scan_pdf("summary_scan", UNIT, dpi=30),
        "scan.jpg": scans.scan_image("table_scan", UNIT, dpi=30),
        "text.pdf": scans.text_pdf(["2021年工作总结", "一、基本情况", documents.prose(30)]),
        "a.zip": archives.zip_archive(
            [("总结.txt", b"x" * 300), ("表.csv", b"y" * 200)], encoding="gbk"
        ),
        "a.7z": archives.sevenzip_archive([("总结.txt", b"x" * 300)]),
        "a.rar": archives.rar_archive([("总结.txt", b"x" * 300)]),
    }


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print(f"\nfuzz: {TRIED['count']} damaged files examined")
    assert TRIED["count"] >= 1000


def check(name, data):
    TRIED["count"] += 1
    tally.add("damaged files fed to the parsers")
    findings = examine(name, data, expected_unit=UNIT)
    assert findings and all(isinstance(f, Finding) for f in findings)
    for finding in findings:
        assert finding.kind in (None, "summary", "summary_scan", "table", "table_scan")
        assert all(p.code in MESSAGES and p.message for p in finding.problems)


@st.composite
def mutated(draw, data):
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "splice", "zero"]))
        at = draw(st.integers(0, max(0, len(out) - 1)))
        if op == "flip" and out:
            out[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del out[at : at + draw(st.integers(1, 4096))]
        elif op == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "splice":
            out = out[:at] if draw(st.booleans()) else out[at:]
        else:
            out[at : at + draw(st.integers(1, 512))] = b"\0" * min(512, len(out) - at)
    return bytes(out)


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize(
    "name",
    [
        "summary.docx",
        "table.xlsx",
        "table.xls",
        "scan.pdf",
        "scan.jpg",
        "text.pdf",
        "a.zip",
        "a.7z",
        "a.rar",
    ],
)
def test_damaged_bytes(name):
    @FUZZ
    @given(st.data())
    def run(data):
        check(name, data.draw(mutated(fixtures()[name])))

    run()


@st.composite
def damaged_member(draw, data):
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    target = draw(st.sampled_from(names))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in names:
            body = src.read(name)
            if name == target:
                body = draw(mutated(body)) if body else draw(st.binary(max_size=64))
            dst.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize("name", ["summary.docx", "table.xlsx"])
def test_damaged_package_members(name):
    @FUZZ
    @given(st.data())
    def run(data):
        check(name, data.draw(damaged_member(fixtures()[name])))

    run()
