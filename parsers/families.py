"""Which libraries a file needs: its family, told from its first bytes without loading any.

Pages (PDFs and pictures) need OpenCV and pdfium; Office files (OOXML packages, OLE and RTF
documents) need openpyxl, python-docx and xlrd. A parsing worker that reads one family only
loads that family's libraries (``LIBRARIES``), so two workers dividing the families hold about
half the memory of two that read everything (``intake.pipeline.workers``). An archive may hold
either, and a file of no family is read by whichever worker is free.
"""

from __future__ import annotations

from .archives_more import RAR_MAGICS, SEVENZIP_MAGIC
from .packages import OLE_MAGIC

PAGES, OFFICE = "pages", "office"
FAMILIES = (PAGES, OFFICE)

IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"GIF8", b"BM")
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OOXML_EXTENSIONS = ("docx", "docm", "dotx", "xlsx", "xlsm", "xltx")

LIBRARIES = {
    PAGES: ("numpy", "cv2", "PIL.Image", "pypdfium2"),
    OFFICE: ("numpy", "PIL.Image", "openpyxl", "docx", "xlrd"),
}
"""What a warming worker of each family imports (pdfplumber is left to load on the first text
PDF: 14 MB)."""


def extension_of(filename: str) -> str:
    """The lower-case extension of the last part of a name ('' if none)."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def is_pdf(data: bytes) -> bool:
    """A PDF, as readers take one: the marker anywhere in the first kilobyte."""
    return data[:1024].find(b"%PDF") >= 0


def is_image(data: bytes) -> bool:
    """A JPEG, PNG, TIFF, GIF, BMP or WebP picture, by its signature."""
    return data.startswith(IMAGE_MAGIC) or data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def family_of(filename: str, data: bytes) -> str | None:
    """``PAGES``, ``OFFICE``, or None for an archive or a file of neither (the same first-bytes
    order as ``parsers.registry``: a zip package counts as Office only when named as one)."""
    if data.startswith(ZIP_MAGICS):
        return OFFICE if extension_of(filename) in OOXML_EXTENSIONS else None
    if data.startswith((SEVENZIP_MAGIC, *RAR_MAGICS)):
        return None
    if is_pdf(data) or is_image(data):
        return PAGES
    if data[:8] == OLE_MAGIC or data.startswith(b"{\\rtf"):
        return OFFICE
    return None
