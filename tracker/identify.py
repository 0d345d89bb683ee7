"""Which sub-committee sent a message: registered address, names in the content, learned address."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

_SUFFIXES = ("直属党总支", "党总支", "分党委", "党委", "总支")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class UnitNames:
    """The names by which one sub-committee can be recognised."""

    unit_id: int
    name: str
    aliases: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()

    def patterns(self) -> list[str]:
        """The name, its aliases, and the name without its 分党委/党总支 suffix."""
        names = [self.name, *self.aliases]
        for suffix in _SUFFIXES:
            if self.name.endswith(suffix) and len(self.name) - len(suffix) >= 3:
                names.append(self.name[: -len(suffix)])
                break
        return sorted({_SPACE.sub("", n) for n in names if n.strip()}, key=len, reverse=True)


@dataclass
class Identification:
    """The result: a unit id (or None), how it was found, and the candidates seen in the content."""

    unit_id: int | None
    method: str | None
    candidates: set[int] = field(default_factory=set)

    @property
    def conflict(self) -> bool:
        """True when the content names more than one sub-committee."""
        return len(self.candidates) > 1


def units_named_in(text: str, units: Sequence[UnitNames]) -> set[int]:
    """The sub-committees whose name or alias occurs in ``text``.

    A match lying inside a longer match of another unit (an alias that is part of another
    unit's full name) does not count.
    """
    compact = _SPACE.sub("", text or "")
    if not compact:
        return set()
    spans: list[tuple[int, int, int]] = []
    for unit in units:
        for pattern in unit.patterns():
            start = compact.find(pattern)
            while start != -1:
                spans.append((start, start + len(pattern), unit.unit_id))
                start = compact.find(pattern, start + 1)
    found = set()
    for start, end, unit_id in spans:
        inside_other = any(
            s <= start and end <= e and (e - s) > (end - start) and u != unit_id
            for s, e, u in spans
        )
        if not inside_other:
            found.add(unit_id)
    return found


def identify(
    units: Sequence[UnitNames], *, sender: str, texts: Iterable[str], learned: Mapping[str, int]
) -> Identification:
    """Decide the sub-committee of a message from its sender and the texts it carries.

    ``texts`` are the subject, the attachment names, the body and the units named inside the
    documents. Registered addresses win; then a single unit named in the texts; then an address
    learned from earlier mail. Two units named, or none, leave the message unassigned.
    """
    sender = (sender or "").lower()
    for unit in units:
        if sender and sender in unit.emails:
            return Identification(unit.unit_id, "registered_address", {unit.unit_id})
    candidates: set[int] = set()
    for text in texts:
        candidates |= units_named_in(text, units)
    if len(candidates) == 1:
        return Identification(next(iter(candidates)), "content", candidates)
    if candidates:
        return Identification(None, None, candidates)
    if sender in learned:
        return Identification(learned[sender], "learned_address", {learned[sender]})
    return Identification(None, None, candidates)
