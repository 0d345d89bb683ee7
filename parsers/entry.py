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


LIBRARIES = ("cv2", "numpy", "PIL.Image", "pypdfium2", "pdfplumber", "openpyxl", "docx", "xlrd")


def load_parsers() -> None:
    """Import the registry and the libraries its parsers load on first use (a parsing worker
    warming up, so that the first message does not wait for the imports)."""
    import importlib

    from . import registry  # noqa: F401 - imported for its side effect: loaded

    for name in LIBRARIES:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional library: its parser says so when it is needed
            pass
