"""Page-likeness (``parsers.pagelike``): scans and phone photos of pages are pages; photos of people
and landscapes, and screenshots of neither text nor table, are photos and are ignored; flat or
blank pictures cannot be told. The pictures are made in code, as hard as real ones: gradients,
noise textures, a crowd of blobs under a sky (a white overcast one too), a meeting room with a red
banner, phone screenshots with UI bars, and phone photos of stamped pages (turned, on a desk,
unevenly lit, blurred, in perspective)."""

import io
import logging
import math
import random
from functools import cache

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from parsers import pagelike
from tests.helpers.judging import examine

try:
    from intake.samples import scans
except ImportError:  # the sample builders before their move
    from intake import samplescans as scans


def _noise(rng, h, w, scale, amp):
    small = rng.normal(0, 1, (max(2, h // scale), max(2, w // scale), 1))
    img = Image.fromarray(
        ((small[..., 0] - small.min()) / (np.ptp(small) + 1e-9) * 255).astype(np.uint8)
    )
    return (np.asarray(img.resize((w, h), Image.BICUBIC), dtype=np.float32) / 255 - 0.5) * 2 * amp


def _fine(rng, h, w, amp):
    return rng.normal(0, amp, (h, w, 1)).astype(np.float32)


def _vertical(h, w, top, bottom):
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    return np.broadcast_to(
        np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t, (h, w, 3)
    ).copy()


def _to_img(arr):
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def crowd(seed=1, size=(1600, 1200), sky=((70, 130, 210), (190, 215, 240))):
    """A crowd under a sky: gradient sky, a building, a square, and hundreds of people-blobs."""
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    w, h = size
    arr = _vertical(h, w, *sky)
    horizon = int(h * 0.45)
    arr[horizon:] = _vertical(h - horizon, w, (150, 140, 125), (110, 100, 90))
    arr += _noise(rng, h, w, 40, 12)[..., None] + _fine(rng, h, w, 6)
    img = _to_img(arr)
    d = ImageDraw.Draw(img)
    d.rectangle([w * 0.1, h * 0.18, w * 0.7, horizon], fill=(185, 170, 150))
    for i in range(14):
        x = w * 0.12 + i * w * 0.04
        d.rectangle([x, h * 0.24, x + w * 0.02, horizon - 10], fill=(90, 100, 120))
    d.rectangle([w * 0.3, h * 0.3, w * 0.55, h * 0.36], fill=(200, 25, 30))  # a red banner
    for _ in range(420):
        y = r.uniform(horizon - h * 0.02, h * 1.02)
        s = 8 + (y - horizon) / h * 90
        x = r.uniform(-20, w + 20)
        body = r.choice(
            [
                (30, 40, 90),
                (180, 30, 40),
                (240, 240, 235),
                (40, 40, 40),
                (60, 120, 70),
                (200, 170, 60),
            ]
        )
        d.ellipse(
            [x - s * 0.6, y, x + s * 0.6, y + s * 2.2],
            fill=tuple(c + r.randint(-20, 20) for c in body),
        )
        skin = (r.randint(180, 230), r.randint(130, 170), r.randint(100, 140))
        d.ellipse([x - s * 0.35, y - s * 0.8, x + s * 0.35, y], fill=skin)
        d.ellipse([x - s * 0.36, y - s * 0.85, x + s * 0.36, y - s * 0.45], fill=(20, 15, 10))
    return img.filter(ImageFilter.GaussianBlur(0.8))


def landscape(seed=2, size=(1800, 1200)):
    """Mountains, a lake, grass and trees under a hazy sky."""
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    w, h = size
    arr = _vertical(h, w, (120, 160, 215), (225, 230, 235))
    img = _to_img(arr + _fine(rng, h, w, 3))
    d = ImageDraw.Draw(img)
    for layer, colour in enumerate([(120, 130, 150), (80, 100, 90), (50, 80, 50)]):
        base = h * (0.42 + layer * 0.08)
        pts = (
            [(0, h)]
            + [
                (x, base - r.uniform(20, 160) * (1 + math.sin(x / 200 + layer)))
                for x in range(0, w + 60, 60)
            ]
            + [(w, h)]
        )
        d.polygon(pts, fill=colour)
    d.rectangle([0, h * 0.66, w, h * 0.74], fill=(90, 130, 160))
    for _ in range(80):
        x, y = r.uniform(0, w), r.uniform(h * 0.7, h)
        s = r.uniform(20, 70)
        d.ellipse(
            [x - s, y - 2 * s, x + s, y],
            fill=(r.randint(20, 60), r.randint(70, 120), r.randint(20, 50)),
        )
    arr = np.asarray(img, np.float32)
    grass = np.zeros_like(arr[..., 0])
    grass[int(h * 0.74) :] = 1
    arr += (_noise(rng, h, w, 8, 22) * (0.4 + grass))[..., None] + _fine(rng, h, w, 5)
    return _to_img(arr)


def overcast(seed=3, size=(1600, 1200)):
    """The hard one: a white overcast sky over half the picture, a crowd with red flags below."""
    img = crowd(seed, size, sky=((228, 230, 232), (236, 236, 236)))
    d = ImageDraw.Draw(img)
    r = random.Random(seed)
    for _ in range(8):
        x, y = r.uniform(0, size[0]), r.uniform(size[1] * 0.3, size[1] * 0.5)
        d.line([x, y, x, y + 160], fill=(90, 80, 70), width=4)
        d.rectangle([x, y, x + 90, y + 60], fill=(215, 20, 25))
    return img


def meeting(seed=4, size=(1600, 1200)):
    """A meeting room: beige wall, a red banner with white lettering, a table and people."""
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    w, h = size
    arr = _vertical(h, w, (225, 215, 195), (205, 195, 175)) + _noise(rng, h, w, 60, 10)[..., None]
    img = _to_img(arr + _fine(rng, h, w, 4))
    d = ImageDraw.Draw(img)
    d.rectangle([w * 0.1, h * 0.08, w * 0.9, h * 0.2], fill=(190, 20, 30))
    for i in range(16):
        x = w * 0.14 + i * w * 0.045
        for _ in range(4):
            y = h * 0.1 + r.uniform(0, h * 0.08)
            d.line([x, y, x + w * 0.03, y], fill=(250, 240, 200), width=4)
    d.rectangle([0, h * 0.62, w, h * 0.8], fill=(120, 70, 40))
    for i in range(9):
        x = w * 0.08 + i * w * 0.105
        d.ellipse(
            [x, h * 0.38, x + 120, h * 0.72],
            fill=r.choice([(30, 30, 40), (40, 60, 110), (230, 230, 230)]),
        )
        d.ellipse([x + 30, h * 0.28, x + 90, h * 0.4], fill=(210, 160, 130))
        d.ellipse([x + 28, h * 0.27, x + 92, h * 0.33], fill=(25, 20, 15))
    for i in range(9):
        d.rectangle(
            [w * 0.1 + i * w * 0.1, h * 0.6, w * 0.13 + i * w * 0.1, h * 0.63], fill=(245, 245, 245)
        )
    arr = np.asarray(img, np.float32) + _fine(rng, h, w, 5)
    return _to_img(arr).filter(ImageFilter.GaussianBlur(0.7))


def screenshot(content, size=(1080, 2340)):
    """A phone screenshot: status bar, app bar, ``content`` in between, a bottom navigation bar."""
    w, h = size
    img = Image.new("RGB", size, (245, 245, 245))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, 80], fill=(20, 20, 20))
    for i in range(4):
        d.rectangle([w - 60 - i * 40, 25, w - 35 - i * 40, 55], fill=(240, 240, 240))
    d.rectangle([0, 80, w, 230], fill=(7, 193, 96))
    d.rectangle([40, 130, 400, 180], fill=(255, 255, 255))
    body = content.resize((w, int(content.height * w / content.width)))
    top = 230 + max(0, (h - 400 - body.height) // 2)
    img.paste(body.crop((0, 0, w, min(body.height, h - 400))), (0, top))
    d.rectangle([0, h - 170, w, h], fill=(250, 250, 250))
    for i in range(4):
        d.ellipse(
            [90 + i * 260, h - 140, 160 + i * 260, h - 70],
            fill=(7, 193, 96) if i == 0 else (150, 150, 150),
        )
    return img


def video_call(seed=5):
    """A screenshot of a video meeting: dark UI, a grid of webcam faces, control bar."""
    w, h = 1920, 1080
    img = Image.new("RGB", (w, h), (30, 32, 36))
    d = ImageDraw.Draw(img)
    for i in range(3):
        for j in range(3):
            tile = crowd(seed + i * 3 + j, (600, 320))
            img.paste(tile, (20 + i * 630, 20 + j * 340))
    d.rectangle([0, h - 60, w, h], fill=(20, 20, 22))
    return img


def phone_photo_of_page(
    page, seed=6, angle=4.0, background=(120, 118, 112), size=(1500, 2000), light=True
):
    """A phone photo of a printed page: turned a little, on a desk that shows round it, unevenly
    lit, saved as a phone saves it (no dpi, JPEG)."""
    rng = np.random.default_rng(seed)
    w, h = size
    desk = (
        _vertical(h, w, background, tuple(c * 0.8 for c in background))
        + _noise(rng, h, w, 30, 14)[..., None]
    )
    canvas = _to_img(desk + _fine(rng, h, w, 4))
    scale = min(w * 0.82 / page.width, h * 0.82 / page.height)
    sheet = page.resize((int(page.width * scale), int(page.height * scale)), Image.BICUBIC)
    mask = Image.new("L", sheet.size, 255)
    sheet, mask = (
        sheet.rotate(angle, expand=True, resample=Image.BICUBIC),
        mask.rotate(angle, expand=True),
    )
    canvas.paste(sheet, ((w - sheet.width) // 2, (h - sheet.height) // 2), mask)
    arr = np.asarray(canvas, np.float32)
    if light:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        shade = 0.78 + 0.22 * (1 - ((xx / w - 0.3) ** 2 + (yy / h - 0.2) ** 2))
        arr = arr * shade[..., None] * np.array([1.0, 0.97, 0.9], np.float32)
    return _to_img(arr + _fine(rng, h, w, 3))


def jpeg(img, quality=85, **kw):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def png(img):
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


UNIT = "机关党委"


def _perspective(img, k=0.08):
    w, h = img.size
    return img.transform((w, h), Image.QUAD, (w * k, 0, 0, h, w, h, w * (1 - k), 0), Image.BICUBIC)


def _blank_scan_page():
    page = Image.new("RGB", (1240, 1754), (250, 250, 247))
    return Image.blend(page, Image.effect_noise(page.size, 40).convert("RGB"), 0.06)


PAGES = {
    "summary_100dpi": lambda: scans.scan_page("summary_scan", UNIT),
    "table_200dpi": lambda: scans.scan_page("table_scan", UNIT, dpi=200),
    "table_30dpi": lambda: scans.scan_page("table_scan", UNIT, dpi=30),
    "grayscale": lambda: scans.scan_page("summary_scan", UNIT, dpi=150).convert("L"),
    "one_bit": lambda: scans.scan_page("table_scan", UNIT, dpi=150).convert("1"),
    "jpeg_q15": lambda: Image.open(
        io.BytesIO(jpeg(scans.scan_page("summary_scan", UNIT, dpi=150), 15))
    ),
    "red_header": lambda: scans.scan_page("summary_scan", UNIT, red_header=True, red_marks=True),
    "phone_grey_desk": lambda: phone_photo_of_page(scans.scan_page("summary_scan", UNIT, dpi=150)),
    "phone_landscape": lambda: phone_photo_of_page(
        scans.scan_page("table_scan", UNIT, dpi=150), angle=-3, size=(2000, 1500)
    ),
    "phone_wood_desk": lambda: phone_photo_of_page(
        scans.scan_page("summary_scan", UNIT, dpi=150), angle=6, background=(150, 100, 60)
    ),
    "phone_far": lambda: phone_photo_of_page(
        scans.scan_page("summary_scan", UNIT, dpi=150), angle=2, size=(2000, 1500)
    ),
    "phone_perspective_blur": lambda: _perspective(
        phone_photo_of_page(
            scans.scan_page("summary_scan", UNIT, dpi=150), angle=5, background=(150, 100, 60)
        )
    ).filter(ImageFilter.GaussianBlur(3)),
    "phone_dim": lambda: Image.eval(
        phone_photo_of_page(
            scans.scan_page("table_scan", UNIT, dpi=150), angle=-6, size=(2000, 1500)
        ),
        lambda v: int(v * 0.6),
    ),
    "screenshot_of_a_document": lambda: screenshot(
        scans.scan_page("summary_scan", UNIT, seal=False)
    ),
}
PHOTOS = {
    "crowd": crowd,
    "landscape": landscape,
    "overcast_sky_and_flags": overcast,
    "meeting_room_banner": meeting,
    "screenshot_of_a_photo": lambda: screenshot(crowd(7, (1200, 900))),
    "video_call": video_call,
}


def _flat_field():
    img = Image.new("RGB", (1600, 1200), (90, 140, 60))
    for x in range(0, 1600, 40):
        for y in range(0, 1200, 40):
            img.putpixel((x, y), (200, 180, 40))
    return img


UNSURE = {
    "flat_field_with_dots": _flat_field,
    "blank_white": lambda: Image.new("RGB", (1240, 1754), "white"),
}


@cache
def _picture(group: str, name: str):
    """A picture of PAGES, PHOTOS or UNSURE, made once."""
    return {"pages": PAGES, "photos": PHOTOS, "unsure": UNSURE}[group][name]()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_pages_look_like_pages(name):
    assert pagelike.look(_picture("pages", name)).verdict == "page"


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_photos_look_like_photos(name):
    assert pagelike.look(_picture("photos", name)).verdict == "photo"


@pytest.mark.parametrize("name", sorted(UNSURE))
def test_flat_and_blank_pictures_cannot_be_told(name):
    assert pagelike.look(_picture("unsure", name)).verdict == "unsure"


def test_a_tilted_page_is_measured_level():
    measured = pagelike.look(
        phone_photo_of_page(scans.scan_page("summary_scan", UNIT, dpi=150), angle=4)
    )
    assert measured.verdict == "page" and -5 <= measured.skew <= -3 and measured.text_lines >= 10


def test_measures_are_json_facts():
    fact = pagelike.look(_picture("photos", "crowd")).as_fact()
    assert fact["verdict"] == "photo" and isinstance(fact["ruled"], list)
    assert pagelike.verdict_of(fact) == "photo" and pagelike.verdict_of(None) is None


# ---------------------------------------------------------------- through the registry


def _codes(items):
    return [p.code for p in items]


@pytest.mark.parametrize(
    "name", ["IMG_20220330_101512.jpg", "微信图片_20220330.jpg", "Screenshot_2022.png"]
)
@pytest.mark.parametrize("photo", ["crowd", "meeting_room_banner", "screenshot_of_a_photo"])
def test_an_activity_photo_is_ignored_not_a_scan(name, photo):
    data = (
        png(_picture("photos", photo)) if name.endswith(".png") else jpeg(_picture("photos", photo))
    )
    [finding] = examine(name, data)
    assert finding.kind is None and finding.facts["ignored"] == "photo"
    assert finding.problems == [] and finding.doubts == []
    assert finding.facts["page_look"]["verdict"] == "photo"


def test_a_photo_named_as_a_material_is_a_kind_doubt_not_ignored():
    [finding] = examine("立项结果汇总表（盖章）.jpg", jpeg(_picture("photos", "crowd")))
    assert finding.facts.get("ignored") is None
    assert finding.facts["kind_doubt"] == "name_and_content"
    assert _codes(finding.doubts) == ["kind_unsure"] and finding.problems == []


def test_the_sample_stamped_scan_named_as_such_is_a_scan():
    [finding] = examine("汇总表（盖章扫描件）.jpg", scans.scan_image("table_scan", UNIT))
    assert finding.kind == "table_scan" and finding.facts["page_look"]["verdict"] == "page"
    assert finding.doubts == [] and finding.problems == [] and "kind_doubt" not in finding.facts


@cache
def _twelve_megapixel_photo(kind: str) -> bytes:
    """A phone's full-size JPEG of a stamped page, turned 3 degrees on a grey desk, no dpi."""
    size = (4000, 3000) if kind == "table_scan" else (3000, 4000)
    return jpeg(phone_photo_of_page(scans.scan_page(kind, UNIT, dpi=150), angle=-3, size=size), 80)


@pytest.mark.parametrize("name", ["IMG_20220330_101512.jpg", "汇总表盖章.jpg"])
@pytest.mark.parametrize("kind", ["summary_scan", "table_scan"])
def test_a_phone_photo_of_a_stamped_page_is_never_ignored(name, kind):
    [finding] = examine(name, _twelve_megapixel_photo(kind))
    assert finding.facts.get("ignored") is None and finding.kind in ("summary_scan", "table_scan")
    assert "seal_not_found" not in _codes(finding.problems)
    assert finding.doubts == [] or _codes(finding.doubts) == ["kind_unsure"]


def test_a_page_without_name_hint_or_seal_is_a_kind_doubt():
    [finding] = examine("IMG_2032.jpg", scans.scan_image("summary_scan", UNIT, seal=False))
    assert finding.facts["kind_doubt"] == "no_hint" and finding.problems == []
    assert _codes(finding.doubts) == ["kind_unsure"]


def test_a_flat_picture_is_a_kind_doubt():
    [finding] = examine("IMG_0001.jpg", jpeg(_picture("unsure", "flat_field_with_dots")))
    assert finding.facts["kind_doubt"] == "photo_or_scan" and _codes(finding.doubts) == [
        "kind_unsure"
    ]


def _empty_pdf(pages=2) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(595, 842)
    buf = io.BytesIO()
    pdf.save(buf)
    pdf.close()
    return buf.getvalue()


def _image_pdf(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PDF", resolution=150)
    return buf.getvalue()


@pytest.mark.parametrize(
    "maker", [_empty_pdf, lambda: _image_pdf(_blank_scan_page())], ids=["empty", "blank_scan"]
)
def test_a_blank_pdf_is_unreadable_with_its_own_sentence(maker):
    [finding] = examine("立项结果汇总表（盖章）.pdf", maker())
    assert _codes(finding.problems) == ["unreadable"] and finding.doubts == []
    assert "文件中没有任何文字或图像" in finding.problems[0].message


def test_a_faint_scan_is_not_blank_and_other_unreadables_keep_their_sentence():
    faint = (
        scans.scan_page("summary_scan", UNIT, seal=False)
        .convert("L")
        .point(lambda v: 255 - (255 - v) // 3)
    )
    [finding] = examine("总结（盖章）.pdf", _image_pdf(faint))
    assert "unreadable" not in _codes(finding.problems)
    [broken] = examine("总结（盖章）.pdf", b"%PDF-1.4\n garbage")
    assert _codes(broken.problems) == ["unreadable"]
    assert "文件损坏、加密或不完整" in broken.problems[0].message


def test_measuring_failures_are_logged_once_with_the_sha256(caplog, monkeypatch):
    import hashlib

    def broken(image):
        raise RuntimeError("boom")

    monkeypatch.setattr(pagelike, "look", broken)
    data = scans.scan_image("table_scan", UNIT)
    with caplog.at_level(logging.WARNING, logger="parsers.registry"):
        [finding] = examine("汇总表（盖章）.jpg", data)
    assert finding.kind == "table_scan"
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and hashlib.sha256(data).hexdigest() in warned[0].getMessage()


@pytest.mark.parametrize(
    ("name", "doubt"),
    [("活动照片.pdf", "photo_or_scan"), ("汇总表（盖章）.pdf", "name_and_content")],
)
def test_a_photo_saved_as_pdf_is_a_kind_doubt(name, doubt):
    [finding] = examine(name, _image_pdf(_picture("photos", "crowd")))
    assert finding.facts["kind_doubt"] == doubt and finding.facts["page_look"]["verdict"] == "photo"
    assert _codes(finding.doubts) == ["kind_unsure"] and finding.problems == []


def test_a_scan_pdf_is_no_kind_doubt():
    [finding] = examine(
        "总结（盖章）.pdf", scans.scan_pdf("summary_scan", UNIT, seal=False, signature=True)
    )
    assert "kind_doubt" not in finding.facts and finding.facts["page_look"]["verdict"] == "page"
