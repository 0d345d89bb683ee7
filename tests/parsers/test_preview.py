"""Tests of the previews staff see of a file: scan pages as images, a summary's text and photos."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

from docx import Document
from docx.shared import Inches
from PIL import Image

from parsers import preview
from parsers.preview import scan_page, scan_pages, summary_photo, summary_preview


def _pdf(pages: int) -> bytes:
    colours = [(250, 250, 250), (200, 30, 30), (30, 30, 200), (30, 160, 30)]
    images = [Image.new("RGB", (850, 1100), colours[i % 4]) for i in range(pages)]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=100, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def _near(pixel: tuple, colour: tuple) -> bool:
    return all(abs(a - b) <= 8 for a, b in zip(pixel, colour, strict=False))


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_three_page_pdf_gives_three_page_images_900_pixels_wide():
    shown = scan_pages("总结扫描件.pdf", _pdf(3))
    assert (shown.total, len(shown.pages), shown.left_out, shown.reason) == (3, 3, 0, "")
    images = [_open(page) for page in shown.pages]
    assert all(image.format == "PNG" and abs(image.width - 900) <= 1 for image in images)
    assert all(abs(image.height - 1165) <= 2 for image in images)  # 850x1100, upright
    assert _near(images[1].getpixel((450, 600)), (200, 30, 30))  # the pages in order
    assert preview.mimetype(shown.pages[0]) == "image/png"


def test_pages_over_the_limit_are_counted_and_one_page_can_be_asked_for():
    data = _pdf(4)
    shown = scan_pages("scan.pdf", data, max_pages=2, width=300)
    assert (shown.total, len(shown.pages), shown.left_out) == (4, 2, 2)
    assert abs(_open(shown.pages[0]).width - 300) <= 1
    assert scan_pages("scan.pdf", data, max_pages=0).total == 4  # only counted
    fourth = _open(scan_page("scan.pdf", data, 4))
    assert _near(fourth.getpixel((450, 600)), (30, 160, 30))
    assert scan_page("scan.pdf", data, 5) is None and scan_page("scan.pdf", data, 0) is None


def test_a_jpeg_is_turned_upright_by_its_exif_orientation_and_downscaled():
    stored = Image.new("RGB", (2400, 1200), (220, 20, 20))
    stored.paste((20, 20, 220), (1200, 0, 2400, 1200))  # stored: red left, blue right
    exif = Image.Exif()
    exif[0x0112] = 6  # to be shown turned 90 degrees clockwise
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    shown = scan_pages("IMG_0001.jpg", buffer.getvalue())
    assert (shown.total, len(shown.pages)) == (1, 1)
    page = _open(shown.pages[0])
    assert page.size == (900, 1800)  # upright: taller than wide
    top, bottom = page.getpixel((450, 100)), page.getpixel((450, 1700))
    assert top[0] > 150 and top[2] < 100 and bottom[2] > 150 and bottom[0] < 100


def test_a_small_png_is_not_enlarged_and_a_tiff_shows_each_frame():
    small = io.BytesIO()
    Image.new("RGB", (400, 500), "white").save(small, "PNG")
    assert _open(scan_pages("盖章页.png", small.getvalue()).pages[0]).size == (400, 500)
    tiff = io.BytesIO()
    frames = [Image.new("RGB", (1200, 1600), c) for c in ("white", "gray", "black")]
    frames[0].save(tiff, "TIFF", save_all=True, append_images=frames[1:])
    shown = scan_pages("扫描.tif", tiff.getvalue(), max_pages=2)
    assert (shown.total, len(shown.pages), shown.left_out) == (3, 2, 1)
    assert _open(shown.pages[1]).size == (900, 1200)


def test_corrupt_bytes_give_an_empty_preview_with_a_reason():
    for name, data in [
        ("扫描件.pdf", b"%PDF-1.4\n1 0 obj garbage"),
        ("扫描件.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"),
        ("扫描件.png", b""),
    ]:
        shown = scan_pages(name, data)
        assert shown.pages == [] and shown.reason == preview.UNREADABLE, name
        assert scan_page(name, data, 1) is None
    other = scan_pages("汇总表.xlsx", b"PK\x03\x04 a workbook")
    assert other.pages == [] and other.reason == preview.UNSUPPORTED
    for data in (b"PK\x03\x04broken zip", b"\x00" * 50, b"%PDF-1.7 broken"):
        summary = summary_preview("总结.docx", data)
        assert summary.paragraphs == [] and summary.photos == [] and summary.reason
        assert "无法" in summary.reason or "不支持" in summary.reason
        assert summary_photo("总结.docx", data, 1) is None


def _png_header(width: int, height: int) -> bytes:
    """A PNG claiming ``width`` x ``height`` 1-bit pixels, with a few bytes of image data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_without_decoding_it():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns of the first one as it opens it
        for size in (12_000, 100_000):  # over MAX_IMAGE_PIXELS; over twice it (Pillow refuses)
            bomb = _png_header(size, size)
            shown = scan_pages("盖章扫描件.png", bomb)
            assert shown.pages == [] and shown.reason == preview.TOO_LARGE
            assert scan_page("盖章扫描件.png", bomb, 1) is None


def _photo(colour: tuple[int, int, int], size: tuple[int, int]) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def _summary_docx() -> bytes:
    doc = Document()
    doc.add_paragraph("2021年机械工程与自动化学院分党委开展支部立项工作总结", style="Title")
    doc.add_heading("一、基本情况", level=1)
    doc.add_paragraph("学院共有 12 个党支部参加立项，<b>全部</b>按时结项。")
    doc.add_heading("案例一：红色走读", level=2)
    doc.add_paragraph("支部组织党员走访革命旧址。")
    doc.add_paragraph().add_run().add_picture(_photo((200, 40, 40), (1600, 1200)), width=Inches(4))
    doc.add_paragraph("图1 走访现场")
    doc.add_paragraph().add_run().add_picture(_photo((40, 40, 200), (300, 200)), width=Inches(2))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def test_a_docx_summary_gives_its_paragraphs_headings_and_two_photos():
    data = _summary_docx()
    shown = summary_preview("总结.docx", data)
    assert shown.reason == "" and shown.note == "" and shown.photo_count == 2
    assert [(p.text, p.heading) for p in shown.paragraphs if not p.photos] == [
        ("2021年机械工程与自动化学院分党委开展支部立项工作总结", 1),
        ("一、基本情况", 2),
        ("学院共有 12 个党支部参加立项，<b>全部</b>按时结项。", 0),  # as written, not markup
        ("案例一：红色走读", 3),
        ("支部组织党员走访革命旧址。", 0),
        ("图1 走访现场", 0),
    ]
    assert [p.photos for p in shown.paragraphs if p.photos] == [[0], [1]]
    assert shown.paragraphs[5].photos == [0] and shown.paragraphs[6].text == "图1 走访现场"
    big, small = (_open(photo) for photo in shown.photos)
    assert big.format == "JPEG" and big.size == (640, 480)  # downscaled to fit 640 x 640
    assert small.size == (300, 200) and small.getpixel((150, 100))[2] > 150
    assert summary_photo("总结.docx", data, 2) == shown.photos[1]
    assert summary_photo("总结.docx", data, 3) is None
    outline = summary_preview("总结.docx", data, photos=False)
    assert outline.photos == [] and outline.paragraphs == shown.paragraphs


def test_a_text_pdf_summary_gives_its_text_only():
    from intake.samples import scans

    lines = ["2021年外国语学院分党委开展支部立项工作总结", "一、基本情况", "学院各支部按时结项。"]
    shown = summary_preview("总结.pdf", scans.text_pdf(lines))
    assert [p.text for p in shown.paragraphs] == lines and shown.photos == []
    assert summary_photo("总结.pdf", scans.text_pdf(lines), 1) is None
    assert shown.reason == "" and shown.note == ""  # no pictures in it: nothing left out
