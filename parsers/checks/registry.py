"""The registry of checks: each problem or doubt code is one small named rule.

A rule is a function of the facts a parser read and a ``CheckContext`` (the campaign's rules, the
sender's unit once known, the branch roster). It returns nothing when the file passes, or the
values of its sentence (a dict, or a list of dicts for several hits); ``run_checks`` turns those
into ``Problem`` objects, a problem or a doubt as the code's table in ``parsers.vocabulary`` says.
Adding a rule is adding one decorated function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..findings import Problem
from ..rules import DEFAULT_RULES, CampaignRules
from ..vocabulary import ITEM_KEYS, SCAN_ITEMS, sentence, verdict_of

if TYPE_CHECKING:
    from ..roster import Roster

FILE = "file"  # checks on any file, whatever item it is
MESSAGE = "message"  # checks on the message itself (its size, links, sender)
SCOPES = (*ITEM_KEYS, FILE, MESSAGE)

Values = dict[str, Any]
RuleResult = Values | Iterable[Values] | None


@dataclass(frozen=True)
class CheckContext:
    """What a rule judges the facts by, besides the facts themselves.

    ``unit`` is the sender's sub-committee once it is known; ``names_other_unit`` tells whether a
    text names a configured sub-committee other than ``unit`` (the tracker knows the units).
    """

    filename: str = ""
    rules: CampaignRules = DEFAULT_RULES
    unit: str | None = None
    roster: Roster | None = None
    names_other_unit: Callable[[str], bool] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Check:
    """One registered rule: its code, the items it applies to, its verdict and its function."""

    code: str
    scopes: tuple[str, ...]
    verdict: str
    func: Callable[[dict[str, Any], CheckContext], RuleResult]

    @property
    def description(self) -> str:
        """What the rule looks for (its docstring's first line)."""
        return (self.func.__doc__ or "").strip().splitlines()[0] if self.func.__doc__ else ""


CHECKS: dict[str, Check] = {}


def check(code: str, *, item: str | Iterable[str]) -> Callable:
    """Register the decorated function as the rule of ``code`` for ``item`` (a scope or several)."""
    scopes = (item,) if isinstance(item, str) else tuple(item)
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or code in CHECKS:
        raise ValueError(f"check {code!r}: unknown scope {unknown} or registered twice")

    def register(func: Callable) -> Callable:
        CHECKS[code] = Check(code, scopes, verdict_of(code), func)
        return func

    return register


def checks_for(scope: str) -> list[Check]:
    """The rules that apply to one scope, in registration order."""
    return [c for c in CHECKS.values() if scope in c.scopes]


def run_checks(
    scope: str, facts: dict[str, Any], ctx: CheckContext
) -> tuple[list[Problem], list[Problem]]:
    """Apply every rule of ``scope`` to ``facts``: (problems, doubts), in registration order."""
    problems: list[Problem] = []
    doubts: list[Problem] = []
    for rule in checks_for(scope):
        for values in _hits(rule.func(facts, ctx)):
            found = Problem(rule.code, sentence(rule.code, **{"filename": ctx.filename, **values}))
            (problems if rule.verdict == "problem" else doubts).append(found)
    return problems, doubts


def _hits(result: RuleResult) -> list[Values]:
    """A rule's result as a list of sentence values (empty for a pass)."""
    if result is None:
        return []
    if isinstance(result, dict):
        return [result]
    return list(result)


__all__ = [
    "CHECKS",
    "FILE",
    "MESSAGE",
    "SCAN_ITEMS",
    "Check",
    "CheckContext",
    "check",
    "checks_for",
    "run_checks",
]
