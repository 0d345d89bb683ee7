"""Parsers read facts and the checks judge them; tests of one parser want both at once.

``parse_summary``, ``parse_table``, ``parse_scan`` and ``examine`` here read a file as the parser
does and then apply every registered rule, with the sender's unit, a branch roster and the
campaign's rules when a test gives them.
"""

from __future__ import annotations

from parsers import registry, scan, summary, table
from parsers.checks import CheckContext, judge
from parsers.findings import Finding
from parsers.rules import DEFAULT_RULES, CampaignRules


def context(
    expected_unit: str | None = None, roster=None, rules: CampaignRules = DEFAULT_RULES
) -> CheckContext:  # noqa: ANN001
    """The check context a test asks for."""
    return CheckContext(rules=rules, unit=expected_unit, roster=roster)


def parse_summary(filename: str, data: bytes, **ctx) -> Finding:  # noqa: ANN003
    """A summary read and judged."""
    return judge(summary.parse_summary(filename, data), context(**ctx))


def parse_table(filename: str, data: bytes, **ctx) -> Finding:  # noqa: ANN003
    """A results table read and judged."""
    rules = ctx.get("rules", DEFAULT_RULES)
    return judge(table.parse_table(filename, data, grades=rules.grades), context(**ctx))


def parse_scan(filename: str, data: bytes, **ctx) -> Finding:  # noqa: ANN003
    """A scan read and judged."""
    return judge(scan.parse_scan(filename, data), context(**ctx))


def examine(
    filename: str, data: bytes, *, max_bytes: int = 30 * 1024 * 1024, **ctx
) -> list[Finding]:  # noqa: ANN003
    """The registry's judged findings for one attachment."""
    return registry.examine(filename, data, max_bytes=max_bytes, ctx=context(**ctx))
