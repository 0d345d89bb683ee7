"""The reference number (回执编号) a receipt gives and staff type back: ZZB + arrival date + id.

``ZZB20220331-00012`` is message 12, which arrived on 31 March 2022 in the campaign's zone (the
deadline's). The id finds the message; the date is there to catch a mistyped id.
"""

from __future__ import annotations

import re
from datetime import tzinfo

from .models import Message

_REFERENCE = re.compile(r"ZZB(\d{8})-(\d+)", re.IGNORECASE)


def reference_number(message: Message, zone: tzinfo) -> str:
    """The number a sender quotes when asking about ``message``."""
    day = message.received_at.astimezone(zone)
    return f"ZZB{day:%Y%m%d}-{message.id:05d}"


def reference_mismatch(key: str, message: Message, zone: tzinfo) -> str | None:
    """When ``key`` is a reference number whose date is not ``message``'s arrival date, a
    one-line Chinese sentence saying so; else None."""
    match = _REFERENCE.fullmatch(key.strip().strip("<>"))
    if match is None:
        return None
    actual = reference_number(message, zone)
    if match.group(1) == actual[3:11]:
        return None
    return (
        f"回执编号 {key.strip()} 的日期与来信 {message.id} 不符"
        f"（该来信于 {actual[3:7]}-{actual[7:9]}-{actual[9:11]} 收到，回执编号为 {actual}），"
        "请核对回执编号"
    )
