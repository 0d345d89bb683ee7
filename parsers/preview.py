"""Previews of a received file for staff: a scan's pages as images, a summary's text with photos.

Pure functions of the file's bytes (no database, no network). A scanned PDF is rendered with
pypdfium2 and a JPG/PNG/TIFF/BMP page decoded with Pillow by the helpers ``parsers.scan`` reads
pages with (EXIF rotation applied, a JPEG decoded reduced, decompression bombs refused); a page is
drawn straight at about WIDTH pixels wide, never at full size first. A summary is read into
blocks by ``parsers.summary_read``: a .docx with its photos, a .doc/.wps (through LibreOffice)
or a text PDF as text only. Bad input gives an empty preview with a Chinese reason, never an
exception.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from .scan import PDFIUM, decoded_frame, render_page, shrunk
from .summary_read import Block, Unreadable, docx_blocks, read_blocks

MAX_PAGES = 10  # pages of a scan shown; the rest are counted as left out
WIDTH = 900  # pixels: a page image's width
MAX_LONG_SIDE = 3 * WIDTH  # a very long page is shown narrower rather than drawn huge
PHOTO_SIDE = 640  # pixels: a summary photo fits in a square this size
MAX_PHOTOS = 40  # photos of a summary shown
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")

UNREADABLE = "文件无法打开（可能已损坏或格式不符），无法预览，请下载后查看。"
TOO_LARGE = "图片尺寸过大，为安全起见不予预览，请下载后查看。"
UNSUPPORTED = "该格式暂不支持预览，请下载后查看。"
NO_CONVERTER = "该格式需转换后才能预览，本机未安装转换程序，请下载后查看。"
EMPTY = "文件中没有可显示的内容。"
TEXT_ONLY = "此格式仅显示文字，图片请下载后查看。"


@dataclass
class ScanPreview:
    """The page images of a scan (PNG bytes, in page order), how many pages it has, and why
    nothing is shown when ``pages`` is empty."""

    pages: list[bytes] = field(default_factory=list)
    total: int = 0
    reason: str = ""

    @property
    def left_out(self) -> int:
        """Pages of the file that are not in ``pages`` (over the page limit)."""
        return max(0, self.total - len(self.pages))


@dataclass
class Paragraph:
    """One paragraph of a summary: its text, its heading level (0 for body text, 1 for the title,
    2 and on for headings) and the numbers (0-based) of the photos placed in it."""

    text: str
    heading: int = 0
    photos: list[int] = field(default_factory=list)


@dataclass
class SummaryPreview:
    """A summary's paragraphs in order and its photos (JPEG bytes, None for one that cannot be
    shown; empty when photos were not asked for), with a note (text only) or the reason nothing is
    shown."""

    paragraphs: list[Paragraph] = field(default_factory=list)
    photos: list[bytes | None] = field(default_factory=list)
    photo_count: int = 0
    reason: str = ""
    note: str = ""


# ---------------------------------------------------------------- scans


def scan_pages(
    filename: str, data: bytes, *, max_pages: int = MAX_PAGES, width: int = WIDTH
) -> ScanPreview:
    """The first ``max_pages`` pages of a scanned PDF or image file as PNG images ``width`` pixels
    wide (narrower for a very long page; a small image is not enlarged), with the page count.
    ``max_pages=0`` only counts the pages."""
    try:
        total = _page_count(data)
        pages = _render(data, range(min(total, max(max_pages, 0))), width) if total else []
    except Exception as exc:  # noqa: BLE001 - a bad file is an empty preview, not a crash
        return ScanPreview(reason=_reason(filename, exc))
    return ScanPreview(pages=pages, total=total, reason="" if total else EMPTY)


def scan_page(filename: str, data: bytes, number: int, *, width: int = WIDTH) -> bytes | None:
    """Page ``number`` (1-based) of a scan as a PNG image, None when there is no such page or it
    cannot be shown (see ``scan_pages``)."""
    if number < 1:
        return None
    try:
        pages = _render(data, range(number - 1, number), width)
    except Exception:  # noqa: BLE001 - a bad file or page shows no image
        return None
    return pages[0] if pages else None


def _is_pdf(data: bytes) -> bool:
    return data[:1024].find(b"%PDF") >= 0


def _page_count(data: bytes) -> int:
    """The pages of a PDF, or the frames of an image (whose first frame must not be a bomb)."""
    if _is_pdf(data):
        import pypdfium2 as pdfium

        with PDFIUM:
            pdf = pdfium.PdfDocument(data)
            try:
                return len(pdf)
            finally:
                pdf.close()
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        _check_pixels(img)
        return getattr(img, "n_frames", 1)


def _render(data: bytes, indices: range, width: int) -> list[bytes]:
    """The pages at ``indices`` (those that exist) as PNG bytes, each encoded once drawn."""
    pages: list[bytes] = []
    if _is_pdf(data):
        import pypdfium2 as pdfium

        with PDFIUM:
            pdf = pdfium.PdfDocument(data)
            try:
                for index in indices[: max(0, len(pdf) - indices.start)]:
                    page = pdf[index]
                    try:
                        w, h = page.get_size()
                        scale = min(width / w, MAX_LONG_SIDE / max(w, h))
                        pages.append(_png(render_page(page, scale)))
                    finally:
                        page.close()
            finally:
                pdf.close()
        return pages
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        for index in indices[: max(0, getattr(img, "n_frames", 1) - indices.start)]:
            img.seek(index)
            pages.append(_png(_fit(img, width, MAX_LONG_SIDE)))
    return pages


def _fit(img, width: int, height: int):  # noqa: ANN001, ANN202 - PIL images
    """The open image's current frame, upright and as RGB, no wider than ``width`` and no taller
    than ``height`` (decoded reduced when it is a large JPEG; transparency made white)."""
    w, h = img.size
    if _orientation(img) in (5, 6, 7, 8):  # shown turned by a quarter
        w, h = h, w
    frame, _ = decoded_frame(img, min(1.0, width / w, height / h), flatten=True)
    return shrunk(frame, min(width / frame.width, height / frame.height))


def _orientation(img) -> int:  # noqa: ANN001 - a PIL image
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a damaged EXIF block: shown as stored
        return 1


def _check_pixels(img) -> None:  # noqa: ANN001 - a PIL image
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    if limit and img.width * img.height > limit:
        raise ValueError("image too large to show")


def _png(image) -> bytes:  # noqa: ANN001 - a PIL image
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(image) -> bytes:  # noqa: ANN001 - a PIL image
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _reason(filename: str, exc: Exception) -> str:
    """The Chinese reason a file shows no preview."""
    from PIL import Image, UnidentifiedImageError

    text = str(exc)
    if isinstance(exc, Image.DecompressionBombError) or "too large" in text:
        return TOO_LARGE
    if isinstance(exc, UnidentifiedImageError) and not filename.lower().endswith(IMAGE_SUFFIXES):
        return UNSUPPORTED
    return UNREADABLE


# ---------------------------------------------------------------- summaries


def summary_preview(
    filename: str, data: bytes, *, photos: bool = True, side: int = PHOTO_SIDE
) -> SummaryPreview:
    """A summary's paragraphs in order (headings marked) and, from a .docx and when ``photos``,
    its photos (the first MAX_PHOTOS) as JPEG images that fit in ``side`` x ``side`` pixels.
    A .doc/.wps or a text PDF gives its text only (with a note); bad input an empty preview with
    the reason."""
    try:
        blocks, source = _summary_blocks(data, keep_photos=photos)
    except Unreadable as exc:
        code = str(exc)
        return SummaryPreview(reason=NO_CONVERTER if code == "unsupported_format" else UNREADABLE)
    except Exception as exc:  # noqa: BLE001 - a bad file is an empty preview, not a crash
        return SummaryPreview(reason=_reason(filename, exc))
    preview = SummaryPreview()
    for block, numbers in _numbered(blocks, source):
        if photos:
            preview.photos += [_photo(block.pictures[i].blob, side) for i in numbers.values()]
        preview.photo_count += block.photos
        if block.text or numbers:
            preview.paragraphs.append(Paragraph(block.text, _heading(block), list(numbers)))
    if source != "docx" and preview.photo_count:
        preview.note = TEXT_ONLY
    if not preview.paragraphs:
        preview.reason = EMPTY
    return preview


def summary_photo(
    filename: str, data: bytes, number: int, *, side: int = PHOTO_SIDE
) -> bytes | None:
    """Photo ``number`` (1-based) of a .docx summary as a JPEG image, None when there is no such
    photo or it cannot be shown (a .doc is never converted for it: its preview is text only)."""
    if data[:2] != b"PK":
        return None
    try:
        blocks, source = _summary_blocks(data, keep_photos=True)
    except Exception:  # noqa: BLE001 - a bad file shows no photo
        return None
    for block, numbers in _numbered(blocks, source):
        if number - 1 in numbers:
            return _photo(block.pictures[numbers[number - 1]].blob, side)
    return None


def _numbered(blocks: list[Block], source: str):  # noqa: ANN202 - (block, {number: picture})
    """Each block with the photos shown of it: photo number (0-based, in document order) -> the
    index of its picture in the block; only a .docx's photos are shown, the first MAX_PHOTOS."""
    count = 0
    for block in blocks:
        numbers = {}
        for index in range(len(block.pictures)) if source == "docx" else ():
            if count < MAX_PHOTOS:
                numbers[count] = index
            count += 1
        yield block, numbers


def _summary_blocks(data: bytes, *, keep_photos: bool) -> tuple[list[Block], str]:
    """The blocks of a summary and its format; a .docx keeps its pictures' bytes when asked."""
    if data[:2] == b"PK":
        return docx_blocks(data, blobs=keep_photos), "docx"
    return read_blocks(data)


def _photo(blob: bytes | None, side: int) -> bytes | None:
    """A picture's bytes as a downscaled JPEG; None for one Pillow cannot read (EMF, damaged) or
    a decompression bomb."""
    if not blob:
        return None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(blob)) as img:
            return _jpeg(_fit(img, side, side))
    except Exception:  # noqa: BLE001 - one bad picture leaves its place empty
        return None


_HEADING = re.compile(r"^(?:heading|标题)\s*(\d)", re.IGNORECASE)


def _heading(block: Block) -> int:
    """The heading level of a block by its style: 1 for the title, 2 and on for headings."""
    style = block.style.strip().lower()
    if style in ("title", "标题"):
        return 1
    if style in ("subtitle", "副标题"):
        return 2
    match = _HEADING.match(style)
    return int(match.group(1)) + 1 if match else 0


def mimetype(image: bytes) -> str:
    """The type of image bytes this module makes."""
    return "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
