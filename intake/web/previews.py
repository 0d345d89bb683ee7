"""What the unit page shows of a version's content, beside its problems and doubts: a scan's page
images (by URL, ``preview_routes``) or a summary's paragraphs with its photos.

The outline (how many pages, the paragraphs) is read from the stored bytes once per file and kept
in a small cache by digest: the page reloads every minute, and a stored file never changes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from parsers import preview
from parsers.vocabulary import SCAN_ITEMS

from ..config import Settings
from ..store import RawStore

MISSING = "原文件未找到，无法预览。"


def version_preview(settings: Settings, version) -> dict[str, Any] | None:  # noqa: ANN001
    """The preview of an ItemVersion for the template: ``kind`` "scan" (``shown`` page images of
    ``total``, ``left_out``) or "summary" (``paragraphs`` of text, heading level and photo
    numbers, 1-based), with ``reason`` when nothing can be shown and ``note``; None for an item
    that has no preview (a table is a workbook)."""
    if version.item in SCAN_ITEMS:
        kind = "scan"
    elif version.item == "summary":
        kind = "summary"
    else:
        return None
    return _outline(str(settings.storage_dir), version.sha256, version.filename, kind)


@lru_cache(maxsize=256)
def _outline(storage: str, digest: str, filename: str, kind: str) -> dict[str, Any]:
    try:
        data = RawStore(Path(storage)).get(digest, "attachments")
    except (OSError, ValueError):
        return {"kind": kind, "reason": MISSING, "note": "", "shown": 0, "paragraphs": []}
    if kind == "scan":
        pages = preview.scan_pages(filename, data, max_pages=0)
        shown = min(pages.total, preview.MAX_PAGES)
        return {
            "kind": kind,
            "total": pages.total,
            "shown": shown,
            "left_out": pages.total - shown,
            "reason": pages.reason,
            "note": "",
        }
    summary = preview.summary_preview(filename, data, photos=False)
    return {
        "kind": kind,
        "paragraphs": [
            {"text": p.text, "heading": p.heading, "photos": [n + 1 for n in p.photos]}
            for p in summary.paragraphs
        ],
        "photo_count": summary.photo_count,
        "left_out": max(0, summary.photo_count - preview.MAX_PHOTOS) if not summary.note else 0,
        "reason": summary.reason,
        "note": summary.note,
    }
