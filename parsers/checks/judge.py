"""Applying the rules to a finding: the file rules, then those of its item."""

from __future__ import annotations

from dataclasses import replace

from ..findings import Finding
from .registry import FILE, CheckContext, run_checks
from .table import roster_facts


def judge(finding: Finding, ctx: CheckContext) -> Finding:
    """Set a finding's problems and doubts from its facts: the file rules, then (for a file that
    was read and whose item is not in doubt) the rules of its item. Run again with a fuller
    context (the sender's unit known), it replaces them: the facts are read once, the verdicts
    given as often as needed."""
    ctx = replace(ctx, filename=finding.filename)
    problems, doubts = run_checks(FILE, {**finding.facts, "refusals": finding.refusals}, ctx)
    if finding.kind and not finding.refused and not finding.kind_in_doubt:
        item_problems, item_doubts = run_checks(finding.kind, finding.facts, ctx)
        problems += item_problems
        doubts += item_doubts
        if finding.kind == "table":
            finding.facts.update(roster_facts(finding.facts, ctx))
    finding.problems, finding.doubts = problems, doubts
    return finding
