"""Rules on the work summary: the 基本情况 part, the featured cases, their photos and captions.

The parser reads the parts it can find (``parsers.summary``); when they cannot be found with
confidence, ``structure_unsure`` asks staff to look and the length and photo rules stay silent:
a false correction request is worse than a missed one.
"""

from __future__ import annotations

from .registry import check


def structure_clear(facts: dict) -> bool:
    """Whether the basic part and the cases were told apart well enough to count them."""
    cases = facts.get("cases") or []
    if facts.get("cases_structure") == "unclear":
        return False  # a cases section whose cases could not be separated
    if not cases and not facts.get("section_found") and facts.get("case_words"):
        return False  # headings speak of 案例, but none could be read as a case
    if facts.get("basic_chars") is None and not cases and not facts.get("section_found"):
        return False  # neither part found: perhaps headings of another form
    return True


@check("structure_unsure", item="summary")
def structure_unsure(facts, ctx):
    """The 基本情况 / 特色案例 parts cannot be found with confidence."""
    return None if structure_clear(facts) else {}


@check("basic_missing", item="summary")
def basic_missing(facts, ctx):
    """No 基本情况 part found."""
    return {} if facts.get("basic_chars") is None and structure_clear(facts) else None


@check("basic_too_long", item="summary")
def basic_too_long(facts, ctx):
    """The 基本情况 part is over the campaign's limit of 字."""
    count, limit = facts.get("basic_chars"), ctx.rules.basic_max_zi
    return {"count": count, "max_zi": limit} if count is not None and count > limit else None


@check("cases_count", item="summary")
def cases_count(facts, ctx):
    """Not the number of featured cases the notice asks for."""
    low, high = ctx.rules.cases
    count = len(facts.get("cases") or [])
    if structure_clear(facts) and not low <= count <= high:
        return {"count": count, "low": low, "high": high}
    return None


@check("case_length", item="summary")
def case_length(facts, ctx):
    """A case outside the range of 字 the notice sets."""
    if not structure_clear(facts):
        return None
    low, high = ctx.rules.case_zi
    return [
        {"case": c["title"], "count": c["chars"], "low": low, "high": high}
        for c in facts.get("cases") or []
        if not low <= c["chars"] <= high
    ]


@check("case_photos", item="summary")
def case_photos(facts, ctx):
    """A case with fewer or more photos than the notice sets."""
    if not structure_clear(facts):
        return None
    low, high = ctx.rules.photos_per_case
    return [
        {"case": c["title"], "count": c["photos"], "low": low, "high": high}
        for c in facts.get("cases") or []
        if not low <= c["photos"] <= high
    ]


@check("photo_caption_missing", item="summary")
def photo_caption_missing(facts, ctx):
    """A photo in a case without a caption."""
    return [
        {"case": c["title"], "index": index}
        for c in facts.get("cases") or []
        for index in c.get("uncaptioned", ())
    ]
