"""Counting 字 the way a sender's word processor shows it.

Every CJK character and full-width punctuation mark counts one, every run of Latin letters
or digits counts one, white space counts nothing, and any other half-width punctuation mark
counts one.
"""

from __future__ import annotations

import re

# A run of Latin letters (with accents) or ASCII digits is one word; any other visible
# character (CJK, full-width forms, punctuation of any width) is one on its own.
_TOKEN = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+|[^\s]")


def count_zi(text: str) -> int:
    """Count the 字 of ``text`` by DESIGN.md's rule (white space, including U+3000, is free)."""
    if not text:
        return 0
    return len(_TOKEN.findall(text))
