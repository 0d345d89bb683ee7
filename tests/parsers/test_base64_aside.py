"""Base64 bodies set aside before the MIME parse (parsers.base64_aside): every message reads
exactly as the email parser alone reads it, attachments, body text and defects alike."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime

import pytest

from intake.samples import documents, mail, scans
from parsers import mail as parsers_mail
from parsers.base64_aside import MIN_LINES, set_aside
from parsers.mail import parse_message

UNIT = "机械工程与自动化学院分党委"
DATE = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _unaided(raw: bytes, monkeypatch: pytest.MonkeyPatch):
    """What the email parser alone makes of ``raw``."""
    with monkeypatch.context() as patch:
        patch.setattr(parsers_mail, "set_aside", lambda data: (data, None))
        return parse_message(raw)


def _lines(data: bytes, width: int = 76, eol: bytes = b"\r\n") -> bytes:
    encoded = base64.b64encode(data)
    return eol.join(encoded[i : i + width] for i in range(0, len(encoded), width)) + eol


def _leaf(ctype: str, encoding: str, body: bytes, name: str = "") -> bytes:
    headers = [("Content-Type", ctype), ("Content-Transfer-Encoding", encoding)]
    if name:
        headers.append(("Content-Disposition", f'attachment; filename="{name}"'))
    return mail.entity(headers, body)


def _message(content: bytes, style: str = "outlook") -> bytes:
    return mail.compose(
        style=style,
        sender="jixie@example.edu.cn",
        to="zzb@example.edu.cn",
        subject=f"{UNIT}立项工作材料",
        content=content,
        date=DATE,
        arrived=DATE,
        message_id=None,
        extra_headers=None,
    )


def _odd_messages() -> list[tuple[str, bytes]]:
    noise = random.Random(5).randbytes(90_000)
    nested = mail.build_message(
        sender="a@example.edu.cn",
        to="b@example.edu.cn",
        subject="转发：材料",
        body="转发的材料",
        attachments=[("总结.docx", documents.summary_docx(UNIT))],
        date=DATE,
    )
    cases = {
        "LF line endings, 64-character lines": _message(
            mail.multipart(
                "mixed",
                [
                    mail.text_part("请查收。", "outlook"),
                    _leaf("application/pdf", "base64", _lines(noise, 64, b"\n"), "扫描件.pdf"),
                ],
                "lf",
            ).replace(b"\r\n", b"\n")
        ),
        "a run that is not whole base64 quanta": _message(
            mail.multipart(
                "mixed",
                [_leaf("application/pdf", "base64", _lines(noise)[:-3] + b"\r\n", "坏.pdf")],
                "pad",
            )
        ),
        "a run ending at the boundary, no line ending": _message(
            mail.multipart(
                "mixed", [_leaf("application/zip", "base64", _lines(noise)[:-2], "材料.zip")], "end"
            )
        ),
        "long unbroken lines in a 7bit text body": _message(
            _leaf("text/plain; charset=us-ascii", "7bit", (b"A" * 76 + b"\r\n") * 200)
        ),
        "base64-looking lines in a quoted-printable attachment": _message(
            mail.multipart(
                "mixed",
                [_leaf("text/csv", "quoted-printable", (b"Zm9v" * 19 + b"\r\n") * 100, "表.csv")],
                "qp",
            )
        ),
        "text after the run in the same part": _message(
            mail.multipart(
                "mixed",
                [_leaf("application/pdf", "base64", _lines(noise) + b"trailer!\r\n", "尾.pdf")],
                "tail",
            )
        ),
        "runs one line short of being set aside, between long ones": _message(
            mail.multipart(
                "mixed",
                [
                    _leaf(
                        "text/plain; charset=us-ascii",
                        "7bit",
                        ((b"QUJD" * 19 + b"\r\n") * 63 + b"-\r\n") * 3 + _lines(noise),
                    )
                ],
                "short",
            )
        ),
        "a forwarded message inside": _message(
            mail.multipart(
                "mixed",
                [
                    mail.text_part("见附件。", "foxmail"),
                    mail.entity([("Content-Type", "message/rfc822")], nested),
                ],
                "fwd",
            ),
            "foxmail",
        ),
    }
    return list(cases.items())


@pytest.mark.parametrize("style", mail.STYLES)
def test_four_items_read_as_the_email_parser_reads_them(style, monkeypatch):
    raw = mail.build_message(
        sender="jixie@example.edu.cn",
        to="zzb@example.edu.cn",
        subject=f"{UNIT}立项工作材料",
        body="老师好，材料见附件。",
        attachments=[
            ("总结.docx", documents.summary_docx(UNIT)),
            ("总结（盖章扫描件）.pdf", scans.scan_pdf("summary_scan", UNIT)),
            ("汇总表.xlsx", documents.table_xlsx(UNIT)),
        ],
        style=style,
        date=DATE,
        arrived=DATE,
    )
    _reduced, aside = set_aside(raw)
    assert aside is not None and len(aside.runs) >= 2  # the docx and the scan at least
    assert parse_message(raw) == _unaided(raw, monkeypatch)


@pytest.mark.parametrize("case", _odd_messages(), ids=lambda case: case[0])
def test_odd_bodies_read_as_the_email_parser_reads_them(case, monkeypatch):
    _name, raw = case
    assert set_aside(raw)[1] is not None  # each case has a run to set aside
    assert parse_message(raw) == _unaided(raw, monkeypatch)


def test_only_runs_of_min_lines_or_more_are_set_aside():
    short = (b"QUJD" * 19 + b"\r\n") * (MIN_LINES - 1)
    raw = _message(_leaf("text/plain", "7bit", short + b"-\r\n" + short))
    assert set_aside(raw)[1] is None  # two runs of 63 lines, a break between them
    line = b"QUJD" * 19 + b"\r\n"
    _reduced, aside = set_aside(
        _message(_leaf("text/plain", "7bit", short + b"-\r\n" + short + line))
    )
    assert aside is not None and len(aside.runs) == 1  # the second run has 64 lines


def test_a_message_without_long_base64_is_parsed_as_it_is():
    raw = _message(mail.text_part("请查收。", "outlook"))
    assert set_aside(raw) == (raw, None)


def test_a_large_message_is_parsed_without_a_copy_of_itself():
    """Parsing holds the message and its decoded attachment, nothing of their size besides (the
    emptiness check once made a stripped copy of the whole message)."""
    import tracemalloc

    attachment = random.Random(7).randbytes(8 * 2**20)
    raw = _message(
        _leaf("application/pdf", "base64", _lines(attachment), name="扫描件.pdf"), "foxmail"
    )
    tracemalloc.start()
    try:
        parsed = parse_message(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [a.data for a in parsed.attachments] == [attachment]
    assert peak < len(attachment) + 2 * 2**20
