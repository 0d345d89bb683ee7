"""Rules on any file: it could not be read, its format is not taken, it is too large, or its item
cannot be told."""

from __future__ import annotations

from ..vocabulary import KIND_UNSURE_REASONS
from .registry import FILE, MESSAGE, check


def _refusals(facts: dict, code: str) -> list[dict]:
    return [
        {k: v for k, v in r.items() if k != "code"}
        for r in facts.get("refusals", ())
        if r["code"] == code
    ]


@check("unreadable", item=FILE)
def unreadable(facts, ctx):
    """The file (or an archive member) is corrupt, encrypted, empty or cannot be opened (the
    refusal's own ``reason``, e.g. a blank PDF's; the sentence gives the usual one otherwise)."""
    return _refusals(facts, "unreadable")


@check("unsupported_format", item=FILE)
def unsupported_format(facts, ctx):
    """A format we cannot read."""
    return _refusals(facts, "unsupported_format")


@check("too_large", item=(FILE, MESSAGE))
def too_large(facts, ctx):
    """The message, the file or what an archive unpacks to is over the configured size limit."""
    return _refusals(facts, "too_large")


@check("kind_unsure", item=FILE)
def kind_unsure(facts, ctx):
    """The file may be one of the items, but which one (or whether at all) cannot be told."""
    reason = facts.get("kind_doubt")
    return {"reason": KIND_UNSURE_REASONS[reason]} if reason else None
