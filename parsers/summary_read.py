"""Reading a summary file into blocks: paragraphs (or PDF lines) in document order with their photos.

A .docx is read with python-docx after ``parsers.packages`` has checked every XML part with
defusedxml (no DTD, no entity, no external reference) and bounded its sizes; a legacy
.doc (or a WPS file in Word's binary format) is first converted to .docx by LibreOffice
(``parsers.convert``); a text PDF is read with pdfplumber, photos and captions placed by their
position on the page.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from lxml import etree

from . import convert
from .packages import PackageRefused, check_package
from .wordcount import count_zi

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_PDF_PAGES = 50

_NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "v": "urn:schemas-microsoft-com:vml",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
}
_W = "{%s}" % _NS["w"]


@dataclass
class Block:
    """One paragraph (or PDF line) in document order, with the photos anchored in it."""

    text: str
    photos: int = 0
    style: str = ""
    centered: bool = False

    @property
    def chars(self) -> int:
        """The 字 count of the block's text."""
        return count_zi(self.text)


class Unreadable(Exception):
    """A file that cannot be opened as a summary; its text is the problem code to give."""


def read_blocks(data: bytes) -> tuple[list[Block], str]:
    """The blocks of a summary file and the format read ("docx", "doc" or "pdf"); raises Unreadable."""
    if data[:1024].find(b"%PDF") >= 0:
        return pdf_blocks(data), "pdf"
    if data[:8] == OLE_MAGIC or data.startswith(b"{\\rtf"):
        return docx_blocks(legacy_to_docx(data)), "doc"
    return docx_blocks(data), "docx"


def legacy_to_docx(data: bytes) -> bytes:
    """A binary Word file converted to .docx; Unreadable("unsupported_format") without a converter."""
    if is_encrypted_ole(data):
        raise Unreadable("unreadable")
    try:
        return convert.doc_to_docx(data)
    except convert.ConverterMissing as exc:
        raise Unreadable("unsupported_format") from exc
    except (convert.ConversionFailed, OSError) as exc:
        raise Unreadable("unreadable") from exc


def is_encrypted_ole(data: bytes) -> bool:
    """An OLE file that is a password-protected Office document (OOXML in an EncryptedPackage)."""
    return b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data


# ---------------------------------------------------------------- reading .docx

def docx_blocks(data: bytes) -> list[Block]:
    """The body of a .docx as blocks, after checking the package is safe to parse."""
    from docx import Document  # local: python-docx is heavy to import

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise Unreadable("unreadable") from exc
    with archive:
        try:
            check_package(archive, "word/document.xml")
        except PackageRefused as exc:
            raise Unreadable("unreadable") from exc
    try:
        document = Document(io.BytesIO(data))
    except ValueError as exc:  # a macro document or template: another content type
        raise Unreadable("unsupported_format") from exc
    styles = {s.style_id: (s.name or "") for s in document.styles}
    body = document.element.body
    owners: dict[object, Block] = {}
    blocks: list[Block] = []
    for p in _xpath(body, ".//w:p[not(ancestor::mc:Fallback)]"):
        style_id = _xpath(p, "string(./w:pPr/w:pStyle/@w:val)")
        jc = _xpath(p, "string(./w:pPr/w:jc/@w:val)")
        block = Block(text="", style=styles.get(style_id, style_id), centered=jc == "center")
        owners[p] = block
        blocks.append(block)
    texts: dict[int, list[str]] = {}
    for t in _xpath(body, ".//w:t[not(ancestor::mc:Fallback)]"):
        owner = _owner(t)
        if owner in owners:
            texts.setdefault(id(owners[owner]), []).append(t.text or "")
    for pic in _xpath(body, ".//a:blip[not(ancestor::mc:Fallback)] | .//v:imagedata[not(ancestor::mc:Fallback)]"):
        owner = _owner(pic)
        if owner in owners:
            owners[owner].photos += 1
    for block in blocks:
        block.text = "".join(texts.get(id(block), [])).strip()
    return blocks


def _xpath(element, expression: str):
    """Evaluate XPath with this module's namespaces (python-docx's own map lacks v: and mc:)."""
    return etree._Element.xpath(element, expression, namespaces=_NS)


def _owner(element):
    """The nearest enclosing w:p of an element."""
    node = element.getparent()
    while node is not None and node.tag != _W + "p":
        node = node.getparent()
    return node


# ---------------------------------------------------------------- reading text PDF

def pdf_blocks(data: bytes) -> list[Block]:
    """The lines and images of a text PDF as blocks, in reading order page by page."""
    import pdfplumber

    blocks: list[Block] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages[:MAX_PDF_PAGES]:
            items: list[tuple[float, Block]] = []
            for line in page.extract_text_lines():
                mid = (line["x0"] + line["x1"]) / 2
                centered = abs(mid - page.width / 2) < page.width * 0.05 and line["x1"] - line["x0"] < page.width * 0.6
                items.append((line["top"], Block(text=line["text"].strip(), centered=centered)))
            for image in page.images:
                if image["width"] > 40 and image["height"] > 40:
                    items.append((image["top"], Block(text="", photos=1)))
            items.sort(key=lambda item: item[0])
            blocks.extend(block for _, block in items)
            page.flush_cache()
    return blocks


