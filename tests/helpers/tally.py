"""Counts that the fault and fuzz tests report; conftest prints them at the end of the run."""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()


def add(what: str, count: int = 1) -> None:
    """Count ``count`` more of ``what`` (e.g. "kill points", "damaged files")."""
    COUNTS[what] += count
