"""Builders of sample scans: image-only PDF pages and JPG/PNG pages with a red seal ring, and a
born-digital text PDF, for the tests and the demo.

No CJK font is installed with the project, so the scanned pages draw strokes standing for text:
the layout (portrait prose, landscape grid, seal) is what matters, not readability.
"""

from __future__ import annotations

import io
import itertools
import random
import zlib
from datetime import datetime

from PIL import Image, ImageDraw

_FIXED_TIME = datetime(2022, 3, 25, 9, 0, 0)


def _fake_text(
    draw: ImageDraw.ImageDraw, rng: random.Random, x: int, y: int, width: int, em: int
) -> None:
    """Strokes standing for a line of Chinese characters of height ``em`` from (x, y)."""
    cx = x
    while cx + em <= x + width:
        for _ in range(rng.randrange(2, 5)):
            if rng.random() < 0.5:
                yy = y + rng.randrange(em)
                draw.line([cx + 1, yy, cx + em - 2, yy], fill=(35, 35, 35), width=1)
            else:
                xx = cx + rng.randrange(em)
                draw.line([xx, y + 1, xx, y + em - 2], fill=(35, 35, 35), width=1)
        cx += em + max(1, em // 6)


def _fake_text_colour(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    x: int,
    y: int,
    width: int,
    em: int,
    colour: tuple[int, int, int],
) -> None:
    """Thick strokes in ``colour`` standing for a line of large characters (a red header)."""
    cx = x
    while cx + em <= x + width:
        for _ in range(3):
            yy = y + rng.randrange(em)
            draw.line([cx + 1, yy, cx + em - 2, yy], fill=colour, width=max(2, em // 8))
        xx = cx + rng.randrange(em)
        draw.line([xx, y + 1, xx, y + em - 2], fill=colour, width=max(2, em // 8))
        cx += em + max(1, em // 6)


def draw_seal(draw: ImageDraw.ImageDraw, cx: int, cy: int, px_per_mm: float) -> None:
    """A red round official seal (42 mm): ring, star, and strokes for the arc of text."""
    red = (215, 30, 35)
    r = int(21 * px_per_mm)
    ring = max(2, int(1.2 * px_per_mm))
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=red, width=ring)
    s = int(5 * px_per_mm)
    draw.polygon(
        [
            (cx, cy - s),
            (cx + s * 0.3, cy - s * 0.3),
            (cx + s, cy - s * 0.3),
            (cx + s * 0.45, cy + s * 0.15),
            (cx + s * 0.6, cy + s * 0.9),
            (cx, cy + s * 0.45),
            (cx - s * 0.6, cy + s * 0.9),
            (cx - s * 0.45, cy + s * 0.15),
            (cx - s, cy - s * 0.3),
            (cx - s * 0.3, cy - s * 0.3),
        ],
        fill=red,
    )
    inner = r - ring - int(5 * px_per_mm)
    draw.arc(
        [cx - inner, cy - inner, cx + inner, cy + inner],
        150,
        390,
        fill=red,
        width=max(2, int(2.5 * px_per_mm)),
    )


def scan_page(
    kind: str,
    unit: str,
    *,
    seal: bool = True,
    dpi: int = 100,
    page: int = 0,
    signature: bool = False,
    red_header: bool = False,
    red_marks: bool = False,
) -> Image.Image:
    """One scanned page as a Pillow image: portrait prose for summaries, landscape grid for tables.

    ``red_header`` prints a red document header (红头: a red title and a red rule), ``red_marks``
    adds red pen ticks, a red underline and a red flag-like block, all of which are no seal."""
    landscape = kind == "table_scan"
    w_mm, h_mm = (297, 210) if landscape else (210, 297)
    ppm = dpi / 25.4
    img = Image.new("RGB", (int(w_mm * ppm), int(h_mm * ppm)), (250, 250, 247))
    draw = ImageDraw.Draw(img)
    rng = random.Random(zlib.crc32(f"{kind}/{unit}/{page}".encode()))
    em = max(6, int(4.2 * ppm))
    margin = int(25 * ppm)
    width = img.width - 2 * margin
    _fake_text(draw, rng, margin + width // 4, margin, width // 2, int(em * 1.4))
    if landscape:
        top, rows, cols = margin + 3 * em, 12, (0.06, 0.2, 0.08, 0.08, 0.34, 0.1, 0.14)
        row_h = int(8 * ppm)
        xs = [margin]
        for frac in cols:
            xs.append(xs[-1] + int(frac * width))
        for i in range(rows + 1):
            draw.line(
                [margin, top + i * row_h, xs[-1], top + i * row_h], fill=(20, 20, 20), width=2
            )
        for x in xs:
            draw.line([x, top, x, top + rows * row_h], fill=(20, 20, 20), width=2)
        for i in range(rows):
            for a, b in itertools.pairwise(xs):
                _fake_text(
                    draw,
                    rng,
                    a + em // 2,
                    top + i * row_h + (row_h - em) // 2,
                    (b - a) * 2 // 3,
                    em,
                )
        seal_at = (img.width - margin - int(40 * ppm), img.height - margin - int(15 * ppm))
    else:
        y = margin + 3 * em
        while y < img.height - margin - 6 * em:
            indent = 2 * em if rng.random() < 0.2 else 0
            _fake_text(draw, rng, margin + indent, y, width - indent - rng.randrange(3) * em, em)
            y += int(em * 1.8)
        seal_at = (img.width - margin - int(35 * ppm), img.height - margin - int(10 * ppm))
    _fake_text(draw, rng, seal_at[0] - int(25 * ppm), seal_at[1] - em, int(50 * ppm), em)
    if signature:
        points = [
            (
                margin + int(20 * ppm) + i * 6,
                img.height - margin - int(20 * ppm) + rng.randrange(-12, 12),
            )
            for i in range(20)
        ]
        draw.line(points, fill=(30, 50, 190), width=3)
    if red_header:
        _fake_text_colour(
            draw,
            rng,
            margin + width // 6,
            margin // 3,
            width * 2 // 3,
            int(em * 2.2),
            (210, 25, 30),
        )
        draw.line(
            [margin, margin + 2 * em, img.width - margin, margin + 2 * em],
            fill=(210, 25, 30),
            width=max(2, em // 4),
        )
    if red_marks:
        draw.line(
            [margin, img.height // 2, margin + width // 2, img.height // 2],
            fill=(220, 40, 40),
            width=3,
        )
        for i in range(6):
            x, y = margin + int(30 * ppm) * i, img.height // 3
            draw.line([x, y, x + 8, y + 12, x + 30, y - 20], fill=(220, 40, 40), width=3)
        draw.rectangle(
            [
                img.width - margin - int(30 * ppm),
                img.height // 4,
                img.width - margin,
                img.height // 4 + int(20 * ppm),
            ],
            fill=(225, 30, 30),
        )
    if seal:
        draw_seal(draw, seal_at[0], seal_at[1], ppm)
    grain = Image.frombytes("L", img.size, rng.randbytes(img.width * img.height)).convert("RGB")
    return Image.blend(img, grain, 0.06)


def scan_pdf(
    kind: str,
    unit: str,
    *,
    seal: bool = True,
    pages: int = 1,
    dpi: int = 100,
    signature: bool = False,
    seal_page: int | None = None,
    **marks: bool,
) -> bytes:
    """An image-only PDF of ``pages`` scanned pages (kind "summary_scan" or "table_scan"); ``marks``
    are scan_page's red_header/red_marks. The seal is on the last page, as on a stamped document,
    or on page ``seal_page`` (0-based) when given."""
    at = pages - 1 if seal_page is None else seal_page
    images = [
        scan_page(kind, unit, seal=seal and i == at, dpi=dpi, page=i, signature=signature, **marks)
        for i in range(pages)
    ]
    buf = io.BytesIO()
    images[0].save(
        buf,
        "PDF",
        resolution=dpi,
        save_all=True,
        append_images=images[1:],
        creationDate=_FIXED_TIME.timetuple(),
        modDate=_FIXED_TIME.timetuple(),
    )
    return buf.getvalue()


def scan_image(
    kind: str,
    unit: str,
    *,
    seal: bool = True,
    fmt: str = "JPEG",
    dpi: int = 100,
    signature: bool = False,
) -> bytes:
    """One scanned page as JPEG or PNG bytes."""
    buf = io.BytesIO()
    scan_page(kind, unit, seal=seal, dpi=dpi, signature=signature).save(buf, fmt, dpi=(dpi, dpi))
    return buf.getvalue()


def text_pdf(text_lines: list[str]) -> bytes:
    """A born-digital text PDF, one A4 page per 40 lines (CJK through the standard STSong font)."""
    pages = [text_lines[i : i + 40] for i in range(0, len(text_lines), 40)] or [[]]
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages (filled in last)
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")  # 3
    objects.append(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [5 0 R] >>"
    )  # 4
    objects.append(
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        b"/FontDescriptor 6 0 R /DW 1000 >>"
    )  # 5
    objects.append(
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
    )  # 6
    kids = []
    for lines in pages:
        ops = []
        for i, line in enumerate(lines):
            y = 800 - 18 * i
            if line.isascii():
                esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(f"BT /F1 11 Tf 60 {y} Td ({esc}) Tj ET")
            else:
                ops.append(f"BT /F2 11 Tf 60 {y} Td <{line.encode('utf-16-be').hex()}> Tj ET")
        stream = zlib.compress("\n".join(ops).encode("ascii"))
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream"
        )
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % content
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def pdf_drawing_image(width: int, height: int, stream: bytes) -> bytes:
    """A one-page A4 PDF drawing one grey image object that declares ``width`` x ``height``
    pixels, with ``stream`` (FlateDecode) as its data: whole, or broken off, for the bombs."""
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
        % (width, height, len(stream))
        + stream
        + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % at for at in offsets))
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()
