"""Rules on the results table: its columns and grades, the share of the top grade, duplicates, the
unit it names, and (with a branch roster) coverage, graduating-year and model branches."""

from __future__ import annotations

import re
from collections import Counter

from ..roster import match_rows
from ..table import COLUMN_LABELS, REQUIRED, units_match
from ..vocabulary import percent
from .registry import check


def _readable(facts: dict) -> bool:
    """The header was found with every required column: the rows mean what they say."""
    return bool(facts.get("header_found")) and not facts.get("missing_columns")


@check("columns_missing", item="table")
def columns_missing(facts, ctx):
    """A required column (branch, plan name, grade) is not found."""
    if not facts.get("header_found"):
        return {"columns": "、".join(COLUMN_LABELS[k] for k in REQUIRED)}
    missing = facts.get("missing_columns") or []
    return {"columns": "、".join(missing)} if missing else None


@check("grade_invalid", item="table")
def grade_invalid(facts, ctx):
    """A grade other than the campaign's grades."""
    if not facts.get("header_found") or not facts.get("grade_column"):
        return None
    allowed = "或".join(f"“{g}”" for g in ctx.rules.grades)
    return [
        {"row": r["row"], "grade": r["grade"], "allowed": allowed}
        for r in facts.get("rows") or []
        if r["grade"] not in ctx.rules.grades
    ]


@check("best_ratio_exceeded", item="table")
def best_ratio_exceeded(facts, ctx):
    """More top-graded plans than round-half-up(best_share × plans), at least 1."""
    rows = facts.get("rows") or []
    if not facts.get("grade_column") or not rows:
        return None
    best = sum(1 for r in rows if r["grade"] == ctx.rules.best_grade)
    limit = ctx.rules.best_limit(len(rows))
    if best <= limit:
        return None
    return {
        "total": len(rows),
        "best": best,
        "limit": limit,
        "best_grade": ctx.rules.best_grade,
        "share": percent(ctx.rules.best_share),
    }


@check("subcommittee_mismatch", item="table")
def subcommittee_mismatch(facts, ctx):
    """The table's 填报单位 names another sub-committee than the sender's."""
    named = facts.get("unit")
    if not named or not ctx.unit:
        return None
    other = not units_match(named, ctx.unit) or bool(
        ctx.names_other_unit and ctx.names_other_unit(named)
    )
    return {"named": named, "unit": ctx.unit} if other else None


@check("duplicate_branch", item="table")
def duplicate_branch(facts, ctx):
    """A branch listed twice (a branch cell merged over several plans is one branch)."""
    counts = Counter(
        re.sub(r"\s+", "", r["branch"])
        for r in facts.get("rows") or []
        if r["branch"] and not r.get("branch_merged")
    )
    return [{"branch": branch, "count": count} for branch, count in counts.items() if count > 1]


def _roster_match(facts: dict, ctx):
    """The rows matched against the roster's branches of the unit, or None without a roster."""
    if ctx.roster is None or not _readable(facts):
        return None
    return match_rows(ctx.roster, facts.get("rows") or [], ctx.unit or facts.get("unit"))


@check("model_branch_not_best", item="table")
def model_branch_not_best(facts, ctx):
    """A model branch (样板党支部, from the roster) not given the top grade."""
    match = _roster_match(facts, ctx)
    if match is None:
        return None
    best = ctx.rules.best_grade
    return [
        {"branch": row["branch"], "grade": row["grade"], "best_grade": best}
        for row, branch in match.matched
        if branch.model
        and not branch.graduating
        and row.get("grade") in ctx.rules.grades
        and row["grade"] != best
    ]


@check("coverage_incomplete", item="table")
def coverage_incomplete(facts, ctx):
    """A non-graduating branch of the roster has no plan."""
    match = _roster_match(facts, ctx)
    return {"branches": "、".join(match.missing)} if match and match.missing else None


@check("graduating_branch_listed", item="table")
def graduating_branch_listed(facts, ctx):
    """A graduating-year branch of the roster is listed."""
    match = _roster_match(facts, ctx)
    if match is None:
        return None
    return [{"branch": row["branch"]} for row, branch in match.matched if branch.graduating]


def roster_facts(facts: dict, ctx) -> dict:
    """What the roster says of the table, for staff: the unit, its branches and those covered."""
    match = _roster_match(facts, ctx)
    if match is None:
        return {"roster_unit": None} if ctx.roster is not None else {}
    return {
        "roster_unit": match.unit,
        "roster_branches": match.expected,
        "roster_covered": match.expected - len(match.missing),
        "roster_missing": list(match.missing),
    }
