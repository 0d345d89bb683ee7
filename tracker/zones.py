"""How a time's zone is named to staff and senders: 北京时间 for +08:00, else its UTC offset."""

from __future__ import annotations

from datetime import datetime, timedelta

CHINA_OFFSET = timedelta(hours=8)


def zone_label(moment: datetime) -> str:
    """``北京时间`` when ``moment`` is at +08:00, else its offset such as ``UTC+09:00``."""
    offset = moment.utcoffset()
    if offset is None:
        return ""
    if offset == CHINA_OFFSET:
        return "北京时间"
    seconds = int(offset.total_seconds())
    sign, seconds = ("+" if seconds >= 0 else "-"), abs(seconds)
    return f"UTC{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
