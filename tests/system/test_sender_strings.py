"""Nothing a sender writes can stop an output (DESIGN.md, Guarantees; issue 12, points 1 and 2).

Arbitrary strings — control characters, NUL, lone surrogates, bidi overrides, 100 000
characters — go into every sender-controlled field of real mail: the Subject, the display
names, the addresses, the file names, the document text (a summary's case title, a table's
branch, plan and secretary) and the table's sheet name. Each example runs a fresh campaign
through the pipeline and produces every output: the report in every format, the 汇总表, the
cases document, the files zip, the receipts, the digest and the dashboard pages, on SQLite and
on PostgreSQL. Nothing may fail, no message may be parked as failed, and what a person reads
shows the control characters (U+2400…) rather than obeying them. The raw message stays as sent.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from intake.cli.report_output import REPORT_FORMATS, print_report
from intake.file_export import export_files
from intake.jobs import _workbook_bytes
from intake.localsource import LocalMessage
from intake.reporting import report_data
from intake.samples import documents
from intake.service import import_messages, open_pipeline
from intake.store import RawStore
from intake.web.app import create_app
from notifier.digest import queue_digest
from parsers.text_safety import EXCEL_CELL, LogFilter, shown, shown_data, shown_line
from tests.helpers.campaign import (
    DEADLINE,
    DEPT,
    INTAKE,
    INTAKE_ENV,
    make_settings,
    write_config,
)
from tests.system import test_postgres
from tracker import records
from tracker.cases_doc import write_cases
from tracker.consolidated import write_consolidated
from tracker.exports import report_csv
from tracker.summary_doc import write_summary
from tracker.xlsx_report import report_workbook

BEFORE = DEADLINE - timedelta(days=1)
JIXIE = "机械工程与自动化学院分党委"
_databases = itertools.count()
postgres = test_postgres.postgres  # the private PostgreSQL server, one for this module

HOSTILE = [
    "\x00",
    "\x1b[31m",
    "\x01",
    "\x07",
    "\x7f",
    "\x85",
    "\x9b",
    "\ud800",
    "\udfff",
    "\udc80",
    "\u202e",
    "\u2066",
    "\u2069",
    "\r\n",
    "\t",
    "\ufffe",
    "\uffff",
    '"',
    "<script>",
    '=HYPERLINK("http://x")',
    "=?utf-8?B?AA==?=",
    "机械学院",
    "𠀀",
]


def _joined(parts: list[str]) -> str:
    return "".join(parts)


_SHORT = (
    st.text(max_size=30),
    st.text(st.characters(exclude_categories=()), max_size=30),  # lone surrogates included
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=4)), max_size=12).map(_joined),
)
HOSTILE_TEXT = st.one_of(
    *_SHORT,
    *_SHORT,  # short strings twice as likely: a campaign with a 100 000-character field is slow
    st.sampled_from(HOSTILE).map(lambda piece: (piece + "字")[:2] * 50_000),  # 100 000 characters
)


# -- mail built from arbitrary strings ------------------------------------------------------------


def _words(text: str) -> bytes:
    """``text`` as RFC 2047 UTF-8 encoded-words (a lone surrogate as the bytes it stands for)."""
    data = text.encode("utf-8", "surrogatepass")
    if not data:
        return b""
    chunks = [data[i : i + 45] for i in range(0, len(data), 45)]
    return b"\r\n ".join(b"=?utf-8?B?" + base64.b64encode(c) + b"?=" for c in chunks)


def _raw_bytes(text: str) -> bytes:
    """``text`` as raw 8-bit header bytes (no line breaks, no angle brackets)."""
    data = text.encode("utf-8", "surrogatepass")
    return re.sub(rb"[\r\n<>]", b"", data)


def _attachment(name: str, data: bytes, boundary: bytes) -> bytes:
    encoded = quote_from_bytes(name.encode("utf-8", "surrogatepass"), safe="").encode()
    return (
        b"--" + boundary + b"\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''"
        + encoded
        + b"\r\n\r\n"
        + base64.encodebytes(data).replace(b"\n", b"\r\n")
    )


def hostile_message(
    *,
    subject: str,
    name: str,
    address: bytes,
    message_id: str,
    attachments: list[tuple[str, bytes]],
    arrived: datetime = BEFORE,
) -> bytes:
    """A message whose Subject, From name and address, Message-ID and file names carry ``…``."""
    boundary = b"=_hostile_boundary_="
    head = (
        b"Received: from mx.example.edu.cn by mx.example.edu.cn; "
        + format_datetime(arrived).encode()
        + b"\r\n"
        + b"From: "
        + _words(name)
        + b" <"
        + address
        + b">\r\nTo: "
        + DEPT.encode()
        + b"\r\nSubject: "
        + _words(subject)
        + b"\r\nMessage-ID: <"
        + message_id.encode()
        + b">\r\nDate: "
        + format_datetime(arrived).encode()
        + b"\r\nMIME-Version: 1.0\r\n"
        + b'Content-Type: multipart/mixed; boundary="'
        + boundary
        + b'"\r\n\r\n'
    )
    body = (
        b"--"
        + boundary
        + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "组织部老师：附件是材料，请查收。".encode()
        + b"\r\n"
    )
    parts = b"".join(_attachment(n, d, boundary) for n, d in attachments)
    return head + body + parts + b"--" + boundary + b"--\r\n"


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """What a .docx can hold of ``text`` (XML 1.0 refuses C0 controls and lone surrogates)."""
    return _XML_ILLEGAL.sub("", text)


def _sheet_name(text: str) -> str:
    cleaned = re.sub(r"[\[\]:\\?/*\x00\ud800-\udfff]", "", text)[:31].strip("'")
    return cleaned or "汇总表"


def table_xls(sheet: str, branch: str, plan: str, secretary: str) -> bytes:
    """A results table (.xls, BIFF8 holds control characters) with sender text in its cells."""
    import xlwt

    def cell(text: str) -> str:
        return re.sub("[\ud800-\udfff]", "?", text)[:30_000]

    book = xlwt.Workbook(encoding="utf-8")
    sheet_ = book.add_sheet(_sheet_name(sheet))
    sheet_.write(0, 0, documents._TABLE_TITLE)
    sheet_.write(1, 0, f"填报单位：{JIXIE}")
    for col, name in enumerate(documents._TABLE_HEADER):
        sheet_.write(2, col, name)
    rows = [
        (1, cell(branch) or "机械学院教工第一党支部", "教工", cell(secretary), cell(plan), "优秀"),
        (2, "机械学院学生第一党支部", "学生", "李四", "红色经典诵读", "最佳"),
        (3, "机械学院教工第二党支部", "教工", "王五", "党员先锋岗", "培育"),
    ]
    for number, row in enumerate(rows, start=3):
        for col, value in enumerate((*row, "1000")):
            sheet_.write(number, col, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def campaign_mail(s: dict[str, str], tag: str) -> list[LocalMessage]:
    """A stranger's message (unassigned) and the unit's own (a summary and a table), both made
    of the example's strings."""
    summary = documents.summary_docx(
        JIXIE, cases=[{"title": _xml_text(s["doc"])[:2000] or "案例", "chars": 320, "photos": 2}]
    )
    stranger = hostile_message(
        subject=s["subject"],
        name=s["name"],
        address=_raw_bytes(s["address"])[:2000] + b"@stranger.example",
        message_id=f"stranger-{tag}@x",
        attachments=[
            (s["filename"], b"not a document " + s["doc"][:100].encode("utf-8", "replace"))
        ],
    )
    unit = hostile_message(
        subject=s["subject"] + "机械学院",
        name=s["name"],
        address=b"jixie@example.edu.cn",
        message_id=f"unit-{tag}@x",
        attachments=[
            (s["filename"] + "工作总结.docx", summary),
            (s["filename"] + "汇总表.xls", table_xls(s["sheet"], s["doc"], s["doc"], s["name"])),
        ],
    )
    return [
        LocalMessage("stranger.eml", stranger, BEFORE),
        LocalMessage("unit.eml", unit, BEFORE + timedelta(minutes=5)),
    ]


# -- every output -------------------------------------------------------------------------------


def digest(session, settings_, report: dict) -> int:  # noqa: ANN001
    """Queue today's digest (with its xlsx report) as ``intake run`` does."""
    return queue_digest(
        session,
        report=report,
        staff=["staff@example.edu.cn"],
        sender=settings_.smtp.sender,
        now=datetime.now(UTC),
        deadline=settings_.deadline,
        xlsx=_workbook_bytes(report),
    )


def every_output(tmp_path, settings_, sessions, pipeline) -> None:  # noqa: ANN001
    """Produce every output of the campaign; each must succeed."""
    for fmt in REPORT_FORMATS:
        print_report(settings_, sessions, fmt, tmp_path / f"report.{fmt}")
    load_workbook(tmp_path / "report.xlsx")  # Excel (openpyxl) can read what was written
    json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    with sessions() as session:
        write_consolidated(session, tmp_path / "汇总表.xlsx")
        store = RawStore(settings_.storage_dir)
        write_cases(
            session, tmp_path / "案例.docx", lambda digest: store.get(digest, "attachments")
        )
    load_workbook(tmp_path / "汇总表.xlsx")
    with sessions() as session:  # export-summary: the one page for the leadership
        write_summary(
            session,
            report_data(settings_, sessions),
            tmp_path / "简报.docx",
            lambda digest: store.get(digest, "attachments"),
            settings_.rules,
        )
    export_files(settings_, sessions, tmp_path / "材料.zip", all_versions=True)
    with zipfile.ZipFile(tmp_path / "材料.zip") as archive:
        assert archive.testzip() is None
        load_workbook(io.BytesIO(archive.read("清单.xlsx")))
    with sessions() as session:
        assert digest(session, settings_, report_data(settings_, sessions)) == 1
        session.commit()
        units = [u.id for u in records.all_subcommittees(session)]
        messages = [m.id for m in records.messages_in_state(session, "processed")]
        versions = [v.id for u in units for v in records.unit_versions(session, u)]
        replies = [e.id for e in records.queued_replies(session)]
    client = create_app(settings_, sessions, pipeline).test_client()
    pages = ["/", "/?only=incomplete", "/held", "/log", "/remind", "/report.xlsx", "/report.csv"]
    pages += ["/export/files.zip"] + [f"/unit/{u}" for u in units]
    pages += [f"/message/{m}/raw" for m in messages] + [f"/version/{v}/file" for v in versions]
    pages += [f"/reply/{r}/eml" for r in replies]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        if response.mimetype == "text/html":
            text = response.get_data(as_text=True)
            assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text


def check_campaign(tmp_path, database_url: str, strings: dict[str, str], tag: str) -> None:  # noqa: ANN001
    settings_ = make_settings(tmp_path, database_url=database_url)
    sessions, pipeline = open_pipeline(settings_)
    mail = campaign_mail(strings, tag)
    import_messages(settings_, pipeline, sessions, mail)
    with sessions() as session:
        failed = records.messages_in_state(session, "failed", "stored")
        assert not failed, [m.error for m in failed]
        stored = records.messages_in_state(session, "processed", "duplicate")
        assert len(stored) == 2
        store = RawStore(settings_.storage_dir)
        assert {store.get(m.raw_sha256) for m in stored} == {m.raw for m in mail}  # byte for byte
        for message in stored:
            for text in (message.subject, message.from_name, message.from_addr):
                assert text == shown_line(text)  # stored as shown: no control character left
    every_output(tmp_path, settings_, sessions, pipeline)
    for reply in (tmp_path / "outbox").glob("*.eml"):
        assert b"\x1b" not in reply.read_bytes()


STRINGS = st.fixed_dictionaries(
    {key: HOSTILE_TEXT for key in ("subject", "name", "address", "filename", "doc", "sheet")}
)
EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@EXAMPLES
@given(strings=STRINGS)
def test_arbitrary_sender_strings_stop_no_output_on_sqlite(tmp_path_factory, strings):
    tmp_path = tmp_path_factory.mktemp("sqlite")
    check_campaign(tmp_path, f"sqlite:///{tmp_path / 'intake.db'}", strings, "s")


@EXAMPLES
@given(strings=STRINGS)
def test_arbitrary_sender_strings_stop_no_output_on_postgresql(tmp_path_factory, postgres, strings):
    tmp_path = tmp_path_factory.mktemp("pg")
    url = postgres.create_database(f"intake_strings_{next(_databases)}")
    check_campaign(tmp_path, url, strings, "p")


# -- the reported failures, one by one ------------------------------------------------------------

CONTROL_SUBJECTS = {
    "raw ESC": b"Subject: \x1b[2J\x01 \xe6\x9d\x90\xe6\x96\x99\r\n",
    "RFC 2047 NUL": b"Subject: " + _words("材料\x00\x1b\x01") + b"\r\n",
}


def stranger_with(subject_header: bytes, message_id: str, name: str = "陌生人") -> bytes:
    raw = hostile_message(
        subject="x",
        name=name,
        address=b"stranger@elsewhere.example",
        message_id=message_id,
        attachments=[("a.txt", b"hello")],
    )
    return re.sub(rb"Subject: [^\r]*\r\n", lambda _: subject_header, raw, count=1)


def intake(config, *args: str) -> subprocess.CompletedProcess:  # noqa: ANN001
    return subprocess.run(
        [*INTAKE, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=INTAKE_ENV,
    )


@pytest.mark.parametrize("kind", sorted(CONTROL_SUBJECTS))
def test_a_control_character_in_a_strangers_subject_stops_no_report(tmp_path, kind):
    config = write_config(tmp_path)
    eml = tmp_path / "stranger.eml"
    eml.write_bytes(stranger_with(CONTROL_SUBJECTS[kind], f"ctl-{kind.split()[1]}@x"))
    done = intake(config, "import", str(eml))
    assert done.returncode == 0, done.stderr
    done = intake(config, "report", "--format", "xlsx", "--output", str(tmp_path / "report.xlsx"))
    assert done.returncode == 0, done.stderr  # it exited 1: openpyxl's IllegalCharacterError
    book = load_workbook(tmp_path / "report.xlsx")
    subjects = [row[2] for row in book["未识别来信"].iter_rows(min_row=3, values_only=True)]
    assert len(subjects) == 1 and ("\u241b" in subjects[0] or "\u2400" in subjects[0])

    from intake.config import load_settings

    settings_ = load_settings(config)
    sessions, pipeline = open_pipeline(settings_, reply=False)
    for fmt in REPORT_FORMATS:
        print_report(settings_, sessions, fmt, tmp_path / f"report.{fmt}")
    client = create_app(settings_, sessions, pipeline).test_client()
    [unassigned] = json.loads((tmp_path / "report.json").read_text("utf-8"))["unassigned"]
    assert unassigned["subject"] == subjects[0]  # one sanitising step: every format agrees
    assert client.get("/report.xlsx").status_code == 200  # it was a 500
    page = client.get("/").get_data(as_text=True)
    assert "\x1b" not in page and "\x00" not in page and subjects[0] in page
    report = report_data(settings_, sessions)
    with sessions() as session:
        assert digest(session, settings_, report) == 1  # it failed on the xlsx it attaches
    assert report_csv(report) and report_workbook(report)


def test_nul_in_subject_and_from_name_is_processed_on_postgresql(tmp_path, postgres):
    url = postgres.create_database(f"intake_nul_{next(_databases)}")
    config = write_config(tmp_path, database_url=url)
    eml = tmp_path / "nul.eml"
    raw = stranger_with(b"Subject: " + _words("机械学院\x00材料") + b"\r\n", "nul@x", "张\x00三")
    eml.write_bytes(raw)
    done = intake(config, "import", str(eml))
    assert done.returncode == 0, done.stderr
    from intake.config import load_settings

    settings_ = load_settings(config)
    sessions, _ = open_pipeline(settings_, reply=False)
    with sessions() as session:
        [message] = records.messages_in_state(session, "processed", "failed")
        assert message.state == "processed", message.error
        assert message.subject == "机械学院\u2400材料" and message.from_name == "张\u2400三"
        assert RawStore(settings_.storage_dir).get(message.raw_sha256) == raw
    done = intake(config, "reprocess", "--all")
    assert done.returncode == 0, done.stderr
    with sessions() as session:
        assert [m.state for m in records.messages_in_state(session, "processed")] == ["processed"]
        assert not records.messages_in_state(session, "failed")


# -- the sanitising step itself -----------------------------------------------------------------


def test_shown_makes_control_characters_visible_and_bounds_the_length():
    assert shown("a\x1bb\x00c\x7f") == "a\u241bb\u2400c\u2421"
    assert shown("line\nnext\ttab") == "line\nnext\ttab"
    assert shown_line("line\r\nnext") == "line\u240d\u240anext"
    assert shown("\ud800x\u202ey\u2066\x9b\ufffe") == "\ufffdx\ufffdy\ufffd\ufffd\ufffd"
    assert shown("字" * 40_000, EXCEL_CELL) == "字" * (EXCEL_CELL - 1) + "…"
    assert shown(None) is None and shown(3) == 3
    assert shown_data({"k\x00": ["\x01", 2, {"t": "\x1b"}]}) == {
        "k\u2400": ["\u2401", 2, {"t": "\u241b"}]
    }


@settings(max_examples=200, deadline=None)
@given(text=HOSTILE_TEXT, limit=st.none() | st.integers(1, 50_000), line=st.booleans())
def test_shown_is_idempotent_and_leaves_nothing_a_writer_refuses(text, limit, line):
    once = shown(text, limit, line=line)
    assert shown(once, limit, line=line) == once
    assert limit is None or len(once) <= limit
    once.encode("utf-8")  # no lone surrogate
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", once)
    if line:
        assert "\n" not in once and "\r" not in once


def test_a_log_line_shows_what_a_sender_wrote_on_one_line():
    import logging

    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "主题 %s", ("a\x1b[2J\nforged",), None
    )
    assert LogFilter().filter(record)
    assert record.getMessage() == "主题 a\u241b[2J\u240aforged"
