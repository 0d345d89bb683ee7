"""Stamped scans (盖章扫描件): image-only PDFs or JPG/PNG/TIFF pages.

A PDF page counts as scanned when images cover nearly all of it (pypdfium2 reads the page
objects). Which item a scan is comes from the file name first, then from the page itself
(a ruled grid or a landscape page means the table). The seal is looked for by ``parsers.seal``
(OpenCV): seal-coloured ink by hue, an ellipse of seal size fitted to its ring, and a seal's
inside (ring text, star, a stamp's ink density); the page's physical size is taken from its dpi
header (or PDF page size) unless that makes it larger than A3 or smaller than A6 (then A4).
The seal is 'absent' only when the scan is in colour (so a red seal would show red), carries no
red ink but red that is certainly no seal (a rule, a letterhead emblem, a red title line, a pen
circle), and every page was inspected; any other case is an 'unknown' with its reason,
which the checks make a ``seal_unsure`` doubt for staff. A long scan is inspected on its first
MAX_PAGES pages and its last LAST_PAGES pages (a seal is usually on the last page); when pages
were left out, "no seal seen" is "unknown", never "absent".
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .failures import log_failure
from .findings import Finding
from .vocabulary import MATERIAL_HINTS, SCAN_HINTS, SUMMARY_HINTS, TABLE_HINTS

log = logging.getLogger(__name__)

MAX_PAGES = 20
LAST_PAGES = 2  # the last pages are always inspected too: the seal is usually there
RENDER_LONG_SIDE = 900  # pixels: pages are inspected downscaled
COVERED = 0.85  # share of a page that images must cover for a scanned page
SEAL_MM = (28.0, 60.0)  # diameter range of an official seal
MAX_PIXELS = 80_000_000  # an A4 page at 1200 dpi is 140 MP; real scans are far below this
COLOUR_EVIDENCE = 0.005  # share of coloured ink (e.g. a blue signature) proving a colour scan
PAGE_MM = (140.0, 440.0)  # long side of a sane page, A6 to A3 (with a scanner's margin)
PDFIUM = threading.RLock()
"""PDFium is not thread-safe: every pypdfium2 call holds this lock (the dashboard serves its
page previews on several threads)."""


@dataclass
class PdfProfile:
    """What a PDF is made of, page by page (at most the first MAX_PAGES)."""

    pages: int = 0
    scan_pages: int = 0
    text_chars: int = 0
    landscape: bool = False
    largest_image: int = 0  # pixels of the biggest image drawn on an inspected page

    @property
    def image_too_large(self) -> bool:
        """An image no scan needs (over MAX_PIXELS): a decompression bomb, refused unrendered."""
        return self.largest_image > MAX_PIXELS

    @property
    def is_text(self) -> bool:
        """A born-digital document: it has text and no page-covering images."""
        return self.text_chars > 0 and self.scan_pages == 0


def inspect_pdf(data: bytes) -> PdfProfile:
    """Count pages, scanned pages and text characters of a PDF (raises on unreadable PDFs)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    with PDFIUM:
        return _inspect(pdfium.PdfDocument(data), pdfium_c)


def _inspect(pdf, pdfium_c) -> PdfProfile:  # noqa: ANN001 - a pypdfium2 document, its raw module
    try:
        profile = PdfProfile(pages=len(pdf))
        for index in range(min(len(pdf), MAX_PAGES)):
            page = pdf[index]
            width, height = page.get_size()
            if index == 0:
                rotated = page.get_rotation() in (90, 270)
                profile.landscape = (height > width) if rotated else (width > height)
            covered = 0.0
            for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
                pixels = _image_pixels(obj)
                profile.largest_image = max(profile.largest_image, pixels)
                bounds = getattr(obj, "get_bounds", None) or obj.get_pos  # pypdfium2 5 / 4
                left, bottom, right, top = bounds()
                w = max(0.0, min(right, width) - max(left, 0.0))
                h = max(0.0, min(top, height) - max(bottom, 0.0))
                covered = max(covered, w * h / (width * height))
            if covered >= COVERED:
                profile.scan_pages += 1
            textpage = page.get_textpage()
            profile.text_chars += len(textpage.get_text_range().strip())
            textpage.close()
            page.close()
        return profile
    finally:
        pdf.close()


def _image_pixels(obj) -> int:  # noqa: ANN001 - a pypdfium2 image object
    """The pixel count an image object declares (read from its dictionary, not decoded)."""
    try:
        size = getattr(obj, "get_px_size", None) or obj.get_size  # pypdfium2 5 / 4
        width, height = size()
    except Exception:  # noqa: BLE001 - an image whose size cannot be read is judged by rendering
        return 0
    return int(width) * int(height)


def page_indices(total: int) -> list[int]:
    """The pages to inspect, in the order to inspect them: the first, then the last LAST_PAGES
    (where a seal usually is), then the rest of the first MAX_PAGES."""
    first = list(range(min(total, MAX_PAGES)))
    last = range(total - 1, max(total - LAST_PAGES, 0) - 1, -1)
    order = first[:1] + [i for i in last if i != 0]
    return order + [i for i in first if i not in order]


@dataclass
class DrawnPage:
    """A PDF page drawn at the inspection size (long side RENDER_LONG_SIDE pixels), RGB."""

    image: Any  # a PIL image
    scale: float  # pixels per PDF point

    @property
    def ppm(self) -> float:
        """Pixels per millimetre of the page image (``page_ppm``)."""
        return page_ppm(max(self.image.size), self.scale * 72 / 25.4)


def draw_first_page(data: bytes) -> DrawnPage | None:
    """The PDF's first page drawn once, for every reader of it (the blank-page test, the page's
    look, the seal); None for a PDF without pages. Raises on a PDF that cannot be drawn."""
    import pypdfium2 as pdfium

    with PDFIUM:
        pdf = pdfium.PdfDocument(data)
        try:
            return _draw(pdf, 0) if len(pdf) else None
        finally:
            pdf.close()


def _draw(pdf, index: int) -> DrawnPage:  # noqa: ANN001 - a pypdfium2 document
    with PDFIUM:
        page = pdf[index]
        try:
            width, height = page.get_size()
            scale = RENDER_LONG_SIDE / max(width, height, 1)
            return DrawnPage(render_page(page, scale), scale)
        finally:
            page.close()


def drawn_pages(
    data: bytes, indices: Callable[[int], Iterable[int]], first: DrawnPage | None = None
) -> Iterator[tuple[int, DrawnPage]]:
    """The pages ``indices(page count)`` of a PDF, each drawn as it is reached; the first page is
    ``first`` when the caller drew it already (``draw_first_page``)."""
    import pypdfium2 as pdfium

    with PDFIUM:
        pdf = pdfium.PdfDocument(data)
    try:
        for index in indices(len(pdf)):
            yield index, first if index == 0 and first is not None else _draw(pdf, index)
    finally:
        with PDFIUM:
            pdf.close()


def _pdf_pages(data: bytes, first: DrawnPage | None = None):
    """Each inspected PDF page as (index, downscaled RGB image, pixels per millimetre)."""
    for index, drawn in drawn_pages(data, page_indices, first):
        yield index, drawn.image, drawn.ppm


def render_page(page, scale: float):  # noqa: ANN001, ANN201 - a pypdfium2 page, a PIL image
    """A PDF page rendered straight at ``scale`` pixels per point (a huge page is never drawn at
    full size first), as an RGB image (pdfium's BGR pixels are copied into it once)."""
    with PDFIUM:
        image = page.render(scale=scale, rotation=0).to_pil()
    return image if image.mode == "RGB" else image.convert("RGB")


def _image_pages(data: bytes):
    """Each inspected frame of a JPG/PNG/TIFF as (index, downscaled RGB image, pixels per mm)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        for index in page_indices(getattr(img, "n_frames", 1)):
            img.seek(index)
            dpi = img.info.get("dpi")
            frame, scaled = decoded_frame(img, RENDER_LONG_SIDE / max(img.size))
            dpi = frame.info.get("dpi") or dpi
            long_side = max(frame.size)
            if dpi and 50 <= float(dpi[0]) <= 1200:
                ppm = page_ppm(long_side, float(dpi[0]) / 25.4 / scaled)
            else:
                ppm = long_side / 297.0  # assume the image is a whole A4 page
            factor = min(1.0, RENDER_LONG_SIDE / long_side)
            yield index, shrunk(frame, factor), ppm * factor


def decoded_frame(img, scale: float, *, flatten: bool = False):  # noqa: ANN001, ANN201 - PIL
    """The current frame of an open image as RGB with its EXIF rotation applied, and by how much
    decoding reduced it: a JPEG to be shown at under half its size is decoded at 1/2, 1/4 or 1/8
    (no smaller than ``scale``). With ``flatten`` transparent parts are made white (not the
    colour hidden under them). A frame over MAX_PIXELS (or Pillow's MAX_IMAGE_PIXELS, when lower)
    is refused with ValueError: a decompression bomb, or no page scan."""
    from PIL import Image, ImageOps

    limit = min(MAX_PIXELS, Image.MAX_IMAGE_PIXELS or MAX_PIXELS)
    if img.width * img.height > limit:
        raise ValueError("image too large to inspect")
    scaled = 1.0
    if img.format == "JPEG" and scale < 0.5:
        full = max(img.size)
        img.draft("RGB", (max(1, int(img.width * scale)), max(1, int(img.height * scale))))
        scaled = full / max(img.size)
    frame = ImageOps.exif_transpose(img.copy())
    if flatten and (frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        frame = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame.alpha_composite(rgba)
    return (frame if frame.mode == "RGB" else frame.convert("RGB")), scaled


def shrunk(image, factor: float):  # noqa: ANN001, ANN201 - PIL images
    """``image`` resized by ``factor`` when that makes it smaller, else as it is."""
    if factor >= 1.0:
        return image
    return image.resize((max(1, int(image.width * factor)), max(1, int(image.height * factor))))


def page_ppm(long_side_px: int, ppm: float) -> float:
    """Pixels per millimetre of a page image: as its header (or the PDF's page size) says, unless
    that makes the page larger than A3 or smaller than A6 (phone photos and PDFs saved at 72 dpi
    make a 40 mm seal look 90-200 mm): then the page is taken as A4."""
    long_mm = long_side_px / ppm if ppm > 0 else 0.0
    if not PAGE_MM[0] <= long_mm <= PAGE_MM[1]:
        return long_side_px / 297.0
    return ppm


def _frame_count(data: bytes) -> int:
    """The number of frames (pages) of an image file."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return getattr(img, "n_frames", 1)


def find_seal(image, ppm: float) -> str:
    """'found' (a seal-coloured ring of seal size with a seal's inside), 'absent' (a colour scan
    without any seal-like red) or 'unknown'."""
    return read_seal(image, ppm)[0]


def read_seal(image, ppm: float) -> tuple[str, str | None]:
    """``find_seal`` with the reason of an 'unknown': 'grayscale' (red could not show),
    'unclear_mark' (red ink, but no seal), 'square_mark' (a square stamp); see ``parsers.seal``."""
    from .seal import read_page

    return read_page(image, ppm)


def _grid_like(image) -> bool:  # noqa: ANN001 - a PIL image
    """A ruled table: several long dark horizontal lines and several long vertical ones."""
    import numpy as np

    dark = np.asarray(image.convert("L")) < 110
    height, width = dark.shape
    rows = int(np.count_nonzero(dark.sum(axis=1) > 0.5 * width))
    cols = int(np.count_nonzero(dark.sum(axis=0) > 0.3 * height))
    return rows >= 4 and cols >= 3


def scan_kind(filename: str, landscape: bool, grid: bool | None) -> tuple[str, str]:
    """The item of a scan and how sure we are: by name hint, else by the page's layout."""
    name = filename.rsplit("/", 1)[-1]
    summary_hint = any(word in name for word in SUMMARY_HINTS)
    table_hint = any(word in name for word in TABLE_HINTS) or ("表" in name and not summary_hint)
    if summary_hint != table_hint:
        return ("summary_scan" if summary_hint else "table_scan"), "high"
    by_layout = "table_scan" if (grid or landscape) else "summary_scan"
    agree = grid is not None and bool(grid) == landscape
    return by_layout, "medium" if agree else "low"


def parse_scan(
    filename: str,
    data: bytes,
    *,
    page_look: dict | None = None,
    profile: PdfProfile | None = None,
    first_page: DrawnPage | None = None,
) -> Finding:
    """Read a scanned PDF or image: which item it is, its pages, and what was seen of a seal
    (facts only; the rules in ``parsers.checks.scan`` judge them). ``page_look`` is how much a
    picture looks like a page, when the caller measured it (``parsers.pagelike``); ``profile`` is
    the PDF's ``inspect_pdf`` and ``first_page`` its first page (``draw_first_page``), when the
    caller read or drew them already (not a second time)."""
    finding = Finding(filename=filename, kind=None, size=len(data), data=data)
    is_pdf = data[:1024].find(b"%PDF") >= 0
    facts: dict = {"image": not is_pdf}
    try:
        if is_pdf:
            profile = profile or inspect_pdf(data)
            facts.update(
                pages=profile.pages, scan_pages=profile.scan_pages, text_chars=profile.text_chars
            )
            if profile.is_text:
                finding.kind, confidence = scan_kind(filename, profile.landscape, None)
                finding.facts.update(
                    facts, scan_kind_confidence=confidence, seal="unknown", text_pdf=True
                )
                return finding
            pages = _pdf_pages(data, first_page)
            total = profile.pages
        else:
            pages = _image_pages(data)
            total = _frame_count(data)
        readings, first = [], None
        for index, image, ppm in pages:
            if index == 0:
                first = (image.width > image.height, _grid_like(image))
            readings.append(read_seal(image, ppm))
            if readings[-1][0] == "found":
                break
    except Exception:  # noqa: BLE001 - a bad file is a problem, not a crash
        log_failure("reading scan", filename, data)
        finding.kind, _ = scan_kind(filename, False, None)
        return finding.refuse("unreadable", filename=filename)
    landscape, grid = first or (False, None)
    finding.kind, confidence = scan_kind(filename, landscape, grid)
    seal, reason = _seal_verdict(readings, total)
    facts.update(
        scan_kind_confidence=confidence,
        seal=seal,
        seal_reason=reason,
        landscape=landscape,
        grid=grid,
        inspected_pages=len(readings),
        text_pdf=False,
    )
    facts.setdefault("pages", total or len(readings))
    if page_look is not None:
        facts["page_look"] = page_look
    kind_doubt = _kind_doubt(filename, facts)
    if kind_doubt:
        facts["kind_doubt"] = kind_doubt
    finding.facts.update(facts)
    return finding


def _seal_verdict(readings: list[tuple[str, str | None]], total: int) -> tuple[str, str | None]:
    """The scan's seal from its pages' readings: absence is concluded only from a complete
    inspection (a seal may be on a page not looked at)."""
    verdicts = [v for v, _ in readings]
    if "found" in verdicts:
        return "found", None
    if not readings:
        return "unknown", "undecided"
    if len(readings) < total:
        return "unknown", "pages_skipped"
    if all(v == "absent" for v in verdicts):
        return "absent", None
    reasons = [r for _, r in readings if r]
    return "unknown", (
        "unclear_mark" if "unclear_mark" in reasons else reasons[0] if reasons else "undecided"
    )


def _kind_doubt(filename: str, facts: dict) -> str | None:
    """Why the scan may not be the item it was taken for, from the file name, the seal and how much
    the picture looks like a page (``facts["page_look"]``, measured by ``parsers.pagelike``; absent
    when the picture was not measured):

    - a photo kept as a scan (its name says it is a material, or a seal was seen on it):
      ``name_and_content`` for a named one, ``photo_or_scan`` otherwise;
    - a page: none when named or sealed, ``no_hint`` when neither (some document, maybe not ours);
    - a picture that cannot be told: ``photo_or_scan`` unless a seal was seen on it, or (when not
      measured) unless it is named as a material."""
    from .pagelike import verdict_of

    if not facts.get("image"):
        return None
    name = filename.rsplit("/", 1)[-1]
    hinted = any(
        h in name.lower() for h in (*MATERIAL_HINTS, *SCAN_HINTS, *TABLE_HINTS, *SUMMARY_HINTS)
    )
    sealed = facts.get("seal") == "found"
    look = verdict_of(facts.get("page_look"))
    if look == "photo":
        return "name_and_content" if hinted else "photo_or_scan"
    if look == "page":
        return None if hinted or sealed else "no_hint"
    if sealed or (hinted and look is None):
        return None
    return "photo_or_scan"
