"""``examine`` by name only: the registry (and with it OpenCV, pdfium, openpyxl) is imported
when it is first called. A process that hands its files to parsing workers
(``intake.pipeline.pool``) passes ``examine_remotely`` to them and never loads the parsing
libraries itself."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from .findings import Finding


def examine(filename: str, data: bytes, **options: Any) -> list[Finding]:
    """``parsers.registry.examine``, imported on first use."""
    from .registry import examine as examine_now

    return examine_now(filename, data, **options)


def examine_remotely(filename: str, data: bytes, **options: Any) -> tuple[list[Finding], list[int]]:
    """``examine`` in a parsing worker: the findings, and which of them carried ``data`` itself,
    sent back without it (the sender has the file; only an archive's members travel back)."""
    findings = examine(filename, data, **options)
    carried = [index for index, finding in enumerate(findings) if finding.data is data]
    for index in carried:
        findings[index].data = None
    return findings, carried


def release_free_memory() -> None:
    """glibc's ``malloc_trim``: free heap pages go back to the system (elsewhere: nothing), so
    that an idle worker does not keep the peak of its largest file. Not after every file: the
    next file would fault the same pages in again (a fifth of the parse time of a sample
    message)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


KEPT_BLOCK_BYTES = 32 * 2**20
"""The largest block ``keep_freed_memory`` has glibc serve from its heap (a 300 dpi A4 page image
is 26 MB)."""


def keep_freed_memory() -> None:
    """glibc's ``mallopt``: what a parser frees stays in the heap for the next file, until
    ``release_free_memory``. By default glibc maps each block over its (sliding) threshold
    afresh and trims the heap's top on ``free``, so a worker reading only pages faulted every
    page image in again: 670 thousand page faults and a tenth of its time on 200 messages."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # not glibc
        return
    mallopt(_M_TRIM_THRESHOLD, 4 * KEPT_BLOCK_BYTES)
    mallopt(_M_MMAP_THRESHOLD, KEPT_BLOCK_BYTES)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once; None where the C library has none."""
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None


def load_parsers(family: str | None = None) -> None:
    """Import the registry and the libraries its parsers load on first use: those of one
    family (``parsers.families``), or of every family (a parsing worker warming up, so that the
    first message does not wait for the imports)."""
    import importlib

    from . import registry  # noqa: F401 - imported for its side effect: loaded
    from .families import LIBRARIES

    names = LIBRARIES[family] if family is not None else sum(LIBRARIES.values(), ())
    for name in dict.fromkeys(names):
        try:
            importlib.import_module(name)
        except ImportError:  # an optional library: its parser says so when it is needed
            pass
