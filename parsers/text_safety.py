"""Sender-controlled text made safe for every place it goes: one step, applied at the boundaries.

Everything a sender writes (Subject, display names, addresses, Message-ID, file names, sheet
names, document text) passes ``shown`` (or ``shown_data`` for the facts JSON) on its way into the
database, the reports (table, JSON, CSV, xlsx, HTML), the exports (汇总表, 案例 docx, the files zip
and its 清单.xlsx), the digest, the receipts, the dashboard and the log lines. The raw message
itself is never touched: the store keeps its bytes as they came.

What ``shown`` does, so that a person sees what was sent and no writer can refuse it:

- C0 control characters become their visible Control Pictures (U+2400 + code: NUL → ␀, ESC → ␛)
  and DEL becomes ␡; tab, line feed and carriage return are kept in multi-line text
  (``line=False``) and shown as ␉ ␊ ␍ in one-line text (subjects, names, file names, log lines).
  PostgreSQL refuses NUL, openpyxl and python-docx (XML 1.0) refuse the rest, terminals obey ESC.
- C1 control characters (U+0080–U+009F, an 8-bit terminal escape among them), lone surrogates
  (undecodable bytes) and the XML non-characters U+FFFE/U+FFFF become U+FFFD.
- Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which make a
  name read backwards ("报告\u202excod.exe"), become U+FFFD as well: shown, never obeyed.
- ``limit`` bounds the length (an Excel cell holds at most ``EXCEL_CELL`` characters; database
  columns and log lines have their own): a longer text is cut and ends in "…".

The function is idempotent (``shown(shown(x)) == shown(x)``) and returns non-strings unchanged,
so applying it at both ends of a path (database and output) costs nothing and changes nothing.
"""

from __future__ import annotations

import logging
import re
from typing import Any

EXCEL_CELL = 32767
"""The most characters an Excel cell holds."""
LOG_LINE = 4000
"""The most characters of one log message."""
ELLIPSIS = "…"

_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ONE_LINE = re.compile("[\x00-\x1f\x7f]")
_REPLACED = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return "\u2421" if code == 0x7F else chr(0x2400 + code)


def shown(value: Any, limit: int | None = None, *, line: bool = False) -> Any:
    """``value`` (a str) with control characters made visible, lone surrogates, C1 controls and
    bidi controls replaced, and at most ``limit`` characters; ``line`` also shows tab and line
    breaks. Anything that is not a string comes back as it is (None stays None)."""
    if not isinstance(value, str):
        return value
    text = (_ONE_LINE if line else _MULTI_LINE).sub(_picture, value)
    text = _REPLACED.sub("\ufffd", text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS[: max(limit, 0)]
    return text


def shown_line(value: Any, limit: int | None = None) -> Any:
    """``shown`` for one-line text: a subject, a name, an address, a file name."""
    return shown(value, limit, line=True)


def shown_data(value: Any, limit: int | None = None) -> Any:
    """Every string in a JSON-like structure (dictionary keys included) passed through ``shown``:
    the facts and problems a parser read from a sender's document."""
    if isinstance(value, str):
        return shown(value, limit)
    if isinstance(value, dict):
        return {
            shown(k, limit) if isinstance(k, str) else k: shown_data(v, limit)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [shown_data(v, limit) for v in value]
    return value


def is_shown(value: str, *, line: bool = False) -> bool:
    """Whether ``value`` needs no change by ``shown`` (length aside)."""
    return shown(value, line=line) == value


class LogFilter(logging.Filter):
    """Makes each log record's message one visible line of at most ``LOG_LINE`` characters, so
    that a sender's subject or file name can neither forge a log line nor drive the terminal."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging's name
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logged as it stands
            message = str(record.msg)
        record.msg, record.args = shown_line(message, LOG_LINE), None
        return True
