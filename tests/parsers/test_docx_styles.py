"""A .docx whose style table has a style element without ``w:type`` (python-docx opens it, but its
style objects raise ``KeyError: None``) is read like any other summary."""

import hashlib
import io
import logging
import re
import zipfile
from functools import cache

try:
    from intake.samples import documents
except ImportError:  # the sample builders before their move
    from intake import sampledocs as documents
from parsers import registry
from tests.helpers.judging import examine, parse_summary

UNIT = "机械工程与自动化学院分党委"


def _rewrite_styles(data: bytes, edit) -> bytes:
    """``data`` with word/styles.xml passed through ``edit``."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "word/styles.xml":
                content = edit(content.decode("utf-8")).encode("utf-8")
            dst.writestr(info, content)
    return out.getvalue()


@cache
def _plain() -> bytes:
    return documents.summary_docx(UNIT)


def _untyped(text: str) -> str:
    """Drop w:type from the headings' styles and add a typeless style a converter left behind."""
    text = re.sub(r'(<w:style )w:type="paragraph" (w:styleId="Heading[12]")', r"\1\2", text)
    extra = '<w:style w:styleId="WPSOffice1"><w:name w:val="WPS Office手动目录 1"/></w:style>'
    return text.replace("</w:styles>", extra + "</w:styles>")


def test_typeless_styles_are_read_like_the_original():
    data = _rewrite_styles(_plain(), _untyped)
    styles = zipfile.ZipFile(io.BytesIO(data)).read("word/styles.xml")
    assert b'<w:style w:styleId="Heading1">' in styles and b"WPSOffice1" in styles
    original, untyped = parse_summary("总结.docx", _plain()), parse_summary("总结.docx", data)
    assert untyped.refusals == []
    assert untyped.kind == "summary"
    assert [p.code for p in untyped.problems] == [p.code for p in original.problems] == []
    assert untyped.facts["basic_chars"] == original.facts["basic_chars"] == 600
    assert [c["title"] for c in untyped.facts["cases"]] == [
        c["title"] for c in original.facts["cases"]
    ]


def test_typeless_style_through_the_registry_is_not_unreadable():
    (finding,) = examine("机关党委工作总结.docx", _rewrite_styles(_plain(), _untyped))
    assert finding.kind == "summary"
    assert "unreadable" not in [p.code for p in finding.problems]


def test_style_without_name_or_id_is_tolerated():
    def edit(text: str) -> str:
        extra = '<w:style w:type="paragraph"/><w:style w:styleId="NoName"/>'
        return text.replace("</w:styles>", extra + "</w:styles>")

    finding = parse_summary("总结.docx", _rewrite_styles(_plain(), edit))
    assert finding.refusals == [] and finding.facts["basic_chars"] == 600


def test_a_failure_while_examining_is_logged_once_at_warning_with_the_sha256(caplog, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError(None)

    monkeypatch.setattr(registry, "_dispatch", broken)
    data = _plain()
    with caplog.at_level(logging.DEBUG, logger="parsers"):
        [finding] = examine("机关党委工作总结.docx", data)
    assert [p.code for p in finding.problems] == ["unreadable"]
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert hashlib.sha256(data).hexdigest() in warned[0].getMessage() and warned[0].exc_info
