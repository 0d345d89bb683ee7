"""Reading a summary file into blocks: paragraphs (or PDF lines) in order, with their photos.

A .docx is read with python-docx after ``parsers.packages`` has checked every XML part (no DTD,
no entity, no external reference) and bounded its sizes; a legacy
.doc (or a WPS file in Word's binary format) is first converted to .docx by LibreOffice
(``parsers.convert``); a text PDF is read with pdfplumber, photos and captions placed by their
position on the page.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from . import convert
from .packages import OLE_MAGIC, PackageRefused, check_package, is_encrypted_ole
from .wordcount import count_zi

MAX_PDF_PAGES = 50

_NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "v": "urn:schemas-microsoft-com:vml",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
_W = f"{{{_NS['w']}}}"
_EMU_PER_CM = 360000
_CSS_CM = {"pt": 2.54 / 72, "in": 2.54, "cm": 1.0, "mm": 0.1, "px": 2.54 / 96, "pc": 2.54 / 6}
MAX_STAMP_CHECKS = 40  # pictures looked at for a red-stamp content, per document
MAX_STAMP_BYTES = 8 * 1024 * 1024
SEAL_MAX_CM = 6.0  # an official seal is 4.2 cm across; its image is placed at 3-6 cm


@dataclass
class Picture:
    """One picture placed in the text: its size on the page (cm, None when unknown), whether it
    floats (wp:anchor), and whether its pixels look like a red stamp on white (an e-seal)."""

    width: float | None = None
    height: float | None = None
    floating: bool = False
    stamp: bool = False
    blob: bytes | None = field(default=None, repr=False, compare=False)  # only while reading

    @property
    def small_square(self) -> bool:
        """Seal-sized and roughly square: the shape of an electronic seal image."""
        if not self.width or not self.height:
            return False
        return (
            max(self.width, self.height) <= SEAL_MAX_CM and 0.8 <= self.width / self.height <= 1.25
        )


@dataclass
class Block:
    """One paragraph (or PDF line) in document order, with the photos anchored in it.

    ``pictures`` describes the photos one by one when known; ``table`` and ``row`` number the
    table and table row a paragraph is in (None outside tables)."""

    text: str
    photos: int = 0
    style: str = ""
    centered: bool = False
    pictures: list[Picture] = field(default_factory=list)
    table: int | None = None
    row: int | None = None

    @property
    def chars(self) -> int:
        """The 字 count of the block's text."""
        return count_zi(self.text)


class Unreadable(Exception):
    """A file that cannot be opened as a summary; its text is the problem code to give."""


def read_blocks(data: bytes) -> tuple[list[Block], str]:
    """The blocks of a summary file and its format ("docx", "doc" or "pdf"); raises Unreadable."""
    if data[:1024].find(b"%PDF") >= 0:
        return pdf_blocks(data), "pdf"
    if data[:8] == OLE_MAGIC or data.startswith(b"{\\rtf"):
        return docx_blocks(legacy_to_docx(data)), "doc"
    return docx_blocks(data), "docx"


def legacy_to_docx(data: bytes) -> bytes:
    """A binary Word file as .docx; Unreadable("unsupported_format") without a converter."""
    if is_encrypted_ole(data):
        raise Unreadable("unreadable")
    try:
        return convert.doc_to_docx(data)
    except convert.ConverterMissing as exc:
        raise Unreadable("unsupported_format") from exc
    except (convert.ConversionFailed, OSError) as exc:
        raise Unreadable("unreadable") from exc


# ---------------------------------------------------------------- reading .docx


def _style_names(document) -> dict[str, str]:
    """Style id -> UI name, read from the style elements themselves: python-docx's own style
    objects need a ``w:type``, which some writers leave out (``KeyError: None``)."""
    from docx.styles import BabelFish

    names: dict[str, str] = {}
    for element in document.styles.element.xpath("./w:style"):
        style_id = element.get(_W + "styleId")
        if style_id is None:
            continue
        name = element.name_val
        names[style_id] = BabelFish.internal2ui(name) if name else ""
    return names


def docx_blocks(data: bytes, *, blobs: bool = False) -> list[Block]:
    """The body of a .docx as blocks, after checking the package is safe to parse; with ``blobs``
    every picture keeps its image bytes (``Picture.blob``, None for one over MAX_STAMP_BYTES or
    missing), for showing it."""
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
    styles = _style_names(document)
    body = document.element.body
    owners: dict[object, Block] = {}
    blocks: list[Block] = []
    tables: dict[object, int] = {}
    for p in _xpath(body, ".//w:p[not(ancestor::mc:Fallback)]"):
        style_id = _xpath(p, "string(./w:pPr/w:pStyle/@w:val)")
        jc = _xpath(p, "string(./w:pPr/w:jc/@w:val)")
        block = Block(text="", style=styles.get(style_id, style_id), centered=jc == "center")
        row = _xpath(p, "ancestor::w:tr[1]")
        if row:
            table = _xpath(row[0], "ancestor::w:tbl[last()]")
            block.row = tables.setdefault(row[0], len(tables))
            block.table = tables.setdefault(table[0], len(tables)) if table else None
        owners[p] = block
        blocks.append(block)
    texts: dict[int, list[str]] = {}
    for t in _xpath(body, ".//w:t[not(ancestor::mc:Fallback)]"):
        owner = _owner(t)
        if owner in owners:
            texts.setdefault(id(owners[owner]), []).append(t.text or "")
    for pic in _xpath(
        body, ".//a:blip[not(ancestor::mc:Fallback)] | .//v:imagedata[not(ancestor::mc:Fallback)]"
    ):
        owner = _owner(pic)
        if owner in owners:
            owners[owner].photos += 1
            owners[owner].pictures.append(_picture(pic, document.part, keep=blobs))
    checks = 0
    for block in blocks:
        for picture in block.pictures:
            if picture.stamp is None:  # to be looked at: a seal-sized or unsized picture
                picture.stamp = checks < MAX_STAMP_CHECKS and _looks_like_stamp(picture.blob)
                checks += 1
            if not blobs:
                picture.blob = None
    for block in blocks:
        block.text = "".join(texts.get(id(block), [])).strip()
    return blocks


def _picture(element, part, *, keep: bool = False) -> Picture:
    """Size, placement and (for seal-sized pictures, or all with ``keep``) the image bytes of an
    a:blip or v:imagedata."""
    picture = Picture()
    if element.tag.endswith("}blip"):
        holder = _xpath(element, "ancestor::wp:inline[1] | ancestor::wp:anchor[1]")
        if holder:
            picture.floating = holder[-1].tag.endswith("}anchor")
            extent = _xpath(holder[-1], "./wp:extent")
            if extent:
                try:
                    picture.width = int(extent[0].get("cx")) / _EMU_PER_CM
                    picture.height = int(extent[0].get("cy")) / _EMU_PER_CM
                except (TypeError, ValueError):
                    pass
        rid = element.get(f"{{{_NS['r']}}}embed")
    else:
        shape = element.getparent()
        style = (shape.get("style") if shape is not None else None) or ""
        picture.width, picture.height = _css_size(style, "width"), _css_size(style, "height")
        picture.floating = "position:absolute" in style.replace(" ", "")
        rid = element.get(f"{{{_NS['r']}}}id")
    picture.stamp = False
    picture.blob = None
    unsized = not picture.width or not picture.height
    seal_sized = unsized or max(picture.width, picture.height) <= SEAL_MAX_CM * 1.5
    if seal_sized or keep:
        try:
            blob = part.related_parts[rid].blob if rid else None
        except (KeyError, AttributeError):
            blob = None
        if blob and len(blob) <= MAX_STAMP_BYTES:
            picture.blob = blob
            picture.stamp = None if seal_sized else False
    return picture


def _css_size(style: str, name: str) -> float | None:
    """A VML style length (``width:120pt``) in centimetres, None when absent."""
    match = re.search(rf"(?:^|;)\s*{re.escape(name)}\s*:\s*([\d.]+)\s*(pt|in|cm|mm|px|pc)?", style)
    if not match:
        return None
    try:
        return float(match.group(1)) * _CSS_CM[match.group(2) or "px"]
    except ValueError:
        return None


def _looks_like_stamp(blob: bytes | None) -> bool:
    """Pixels of a red seal on white or transparent: mostly blank, the ink nearly all red."""
    if not blob:
        return False
    try:
        import numpy as np
        from PIL import Image

        with Image.open(io.BytesIO(blob)) as img:
            if img.width * img.height > 60_000_000:
                return False
            img.draft("RGB", (256, 256))
            img.thumbnail((160, 160))
            rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        pixels = np.asarray(white.convert("RGB"), dtype=np.int16).reshape(-1, 3)
    except Exception:  # noqa: BLE001 - an undecodable picture (EMF, damaged): not a stamp
        return False
    r, g, b = pixels[:, 0], pixels[:, 1], pixels[:, 2]
    blank = (r > 215) & (g > 215) & (b > 215)
    ink = int(np.count_nonzero(~blank))
    red = int(np.count_nonzero(~blank & (r > 130) & (r - g > 60) & (r - b > 50)))
    total = len(pixels)
    return bool(total) and total - ink >= 0.4 * total and ink >= 0.02 * total and red >= 0.6 * ink


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
                centered = (
                    abs(mid - page.width / 2) < page.width * 0.05
                    and line["x1"] - line["x0"] < page.width * 0.6
                )
                items.append((line["top"], Block(text=line["text"].strip(), centered=centered)))
            for image in page.images:
                if image["width"] > 40 and image["height"] > 40:
                    size = Picture(
                        width=image["width"] * 2.54 / 72, height=image["height"] * 2.54 / 72
                    )
                    items.append((image["top"], Block(text="", photos=1, pictures=[size])))
            items.sort(key=lambda item: item[0])
            blocks.extend(block for _, block in items)
            page.flush_cache()
    return blocks
