"""The typed results every parser returns: a finding per file, with its problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ITEM_KEYS = ("summary", "summary_scan", "table", "table_scan")


@dataclass(frozen=True)
class Problem:
    """One thing the sender must correct: a problem code of DESIGN.md and its Chinese sentence."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form used by the database and the report."""
        return {"code": self.code, "message": self.message}


@dataclass
class Finding:
    """What one attachment (or archive member) turned out to be.

    ``kind`` is one of ``ITEM_KEYS``, or None when the file is not one of the materials
    (a signature logo, an unreadable file whose kind cannot be told). ``facts`` holds what was
    read from it and must stay JSON-serialisable.
    """

    filename: str
    kind: str | None
    problems: list[Problem] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    size: int = 0
    data: bytes | None = field(default=None, repr=False)
