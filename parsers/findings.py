"""The typed results every parser returns: a finding per file, with the facts read from it and the
verdicts the checks gave on those facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .vocabulary import sentence


@dataclass(frozen=True)
class Problem:
    """One verdict of a check: a problem or doubt code of DESIGN.md and its Chinese sentence."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form used by the database and the report."""
        return {"code": self.code, "message": self.message}


@dataclass
class Finding:
    """What one attachment (or archive member) turned out to be.

    ``kind`` is one of ``parsers.vocabulary.ITEM_KEYS``, or None when the file is not one of the
    materials (a signature logo, an unreadable file whose kind cannot be told). ``facts`` holds
    what was read from it and must stay JSON-serialisable; ``refusals`` say what could not be read
    and why. ``problems`` (需更正) and ``doubts`` (待工作人员核对) are what the rules of
    ``parsers.checks`` concluded from both.
    """

    filename: str
    kind: str | None
    problems: list[Problem] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    size: int = 0
    data: bytes | None = field(default=None, repr=False)
    doubts: list[Problem] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, code: str, **values: Any) -> Finding:
        """Record that (part of) the file could not be read: ``unreadable``, ``unsupported_format``
        or ``too_large`` with the values of its sentence; the checks turn it into a problem."""
        return self.add_refusals([refusal(code, **values)])

    def add_refusals(self, refusals: list[Refusal]) -> Finding:
        """Record refusals met while reading (an archive's members, for instance)."""
        self.refusals.extend(r.as_fact() for r in refusals)
        return self

    @property
    def kind_in_doubt(self) -> bool:
        """True when the file may not be the item it was taken for (a ``kind_unsure`` doubt):
        not judged by that item's rules, not counted as it."""
        return bool(self.facts.get("kind_doubt"))

    @property
    def refused(self) -> bool:
        """True when the file (or an archive member) could not be read."""
        return bool(self.refusals)


@dataclass(frozen=True)
class Refusal:
    """That a file or archive member was not read, and why: ``unreadable``,
    ``unsupported_format`` or ``too_large``, with the values of its sentence."""

    code: str
    values: dict[str, Any]

    @property
    def message(self) -> str:
        """The Chinese sentence the reply will carry."""
        return sentence(self.code, **self.values)

    def as_fact(self) -> dict[str, Any]:
        """The JSON form kept in a finding's ``refusals`` fact."""
        return {"code": self.code, **self.values}


def refusal(code: str, **values: Any) -> Refusal:
    """A ``Refusal`` of ``code`` with its sentence's values."""
    return Refusal(code, values)
