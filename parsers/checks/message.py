"""Rules on a message as a whole: over the size limit, 超大附件 links, a forged registered sender.

Their facts are the message's own: ``big_attachments``, ``forged`` (the address and the unit it
claims) and ``refusals`` (a message over the size limit, which ``too_large`` in
``parsers.checks.files`` judges for messages as for files).
"""

from __future__ import annotations

from .registry import MESSAGE, check


@check("oversize_link", item=MESSAGE)
def oversize_link(facts, ctx):
    """A "超大附件" download link instead of an attachment."""
    return [
        {"filename": link.get("filename") or link.get("url")}
        for link in facts.get("big_attachments", ())
    ]


@check("sender_unverified", item=MESSAGE)
def sender_unverified(facts, ctx):
    """Our receiving server says the registered sender's mail failed SPF/DKIM."""
    forged = facts.get("forged")
    return {"address": forged["address"], "unit": forged["unit"]} if forged else None
