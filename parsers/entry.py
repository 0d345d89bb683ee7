"""``examine`` by name only: the registry (and with it OpenCV, pdfium, openpyxl) is imported
when it is first called. A process that hands its files to parsing workers
(``intake.pipeline.pool``) passes this function to them and never loads the parsing libraries
itself."""

from __future__ import annotations

from typing import Any

from .findings import Finding


def examine(filename: str, data: bytes, **options: Any) -> list[Finding]:
    """``parsers.registry.examine``, imported on first use."""
    from .registry import examine as examine_now

    return examine_now(filename, data, **options)
