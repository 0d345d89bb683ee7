"""Rules on the stamped scans: a text document where a scan is required, and the official seal.

``seal_not_found`` is a correction request, so it needs certainty: the parser says ``absent``
only for a colour scan with every page inspected and no red ink but red that is certainly no seal
(a rule, a letterhead emblem, a red title line, a pen circle; ``parsers.seal``). Anything the
parser could not decide (``unknown``, with its reason) is ``seal_unsure`` for staff, never 检查通过.
"""

from __future__ import annotations

from ..vocabulary import SCAN_ITEMS, SEAL_UNSURE_REASONS
from .registry import check


@check("not_a_scan", item=SCAN_ITEMS)
def not_a_scan(facts, ctx):
    """A text PDF where a stamped scan is required."""
    return {} if facts.get("text_pdf") else None


@check("seal_not_found", item=SCAN_ITEMS)
def seal_not_found(facts, ctx):
    """A colour scan, every page inspected, certainly without an official seal."""
    return {} if facts.get("seal") == "absent" and not facts.get("text_pdf") else None


@check("seal_unsure", item=SCAN_ITEMS)
def seal_unsure(facts, ctx):
    """A seal can be neither confirmed nor ruled out."""
    if facts.get("text_pdf") or facts.get("seal") not in (None, "unknown"):
        return None
    reason = facts.get("seal_reason") or "undecided"
    return {"reason": SEAL_UNSURE_REASONS.get(reason, SEAL_UNSURE_REASONS["undecided"])}
