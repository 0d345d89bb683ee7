"""The seal detector (parsers.seal through parsers.scan) on code-made seals drawn like real ones:
a ring, a star, and characters along the ring, pressed on a scanned page. Each stamped case is one
the detector before OpenCV got wrong (a ring split into arcs, an oval seal, dark-red, purple-red,
orange-red or faint ink, a 72-dpi phone photo, a ring touching a red table line); each negative
is red that is no seal, or a page that cannot show red."""

import io
import math
import random

import pytest
from PIL import Image, ImageChops, ImageDraw

from intake.samples import scans
from parsers.scan import find_seal, read_seal
from parsers.vocabulary import SEAL_UNSURE_REASONS
from tests.helpers.judging import parse_scan

UNIT = "机械工程与自动化学院分党委"
RED = (205, 35, 40)


def seal_ink(ppm, *, colour=RED, width_mm=42.0, height_mm=42.0, ring_mm=0.9, gaps=0, seed=1):
    """A seal as an ink layer on white: an outer ring (split into ``gaps`` arcs when given), a star,
    and strokes standing for characters along 250 degrees of the ring, as a rubber stamp prints."""
    rng = random.Random(seed)
    w, h = int(width_mm * ppm), int(height_mm * ppm)
    img = Image.new("RGB", (w + 4, h + 4), "white")
    draw = ImageDraw.Draw(img)
    cx, cy, a, b = (w + 4) / 2, (h + 4) / 2, w / 2, h / 2
    ring = max(1, int(ring_mm * ppm))
    if gaps:
        step = 360 / gaps
        for i in range(gaps):
            draw.arc(
                [cx - a, cy - b, cx + a, cy + b],
                i * step,
                i * step + step * 0.8,
                fill=colour,
                width=ring,
            )
    else:
        draw.ellipse([cx - a, cy - b, cx + a, cy + b], outline=colour, width=ring)
    s = min(a, b) * 0.3
    star = []
    for k in range(10):
        r = s if k % 2 == 0 else s * 0.4
        t = -math.pi / 2 + k * math.pi / 5
        star.append((cx + r * math.cos(t), cy + r * math.sin(t)))
    draw.polygon(star, fill=colour)
    em = 0.16 * min(a, b)
    stroke = max(1, int(0.45 * ppm))
    for k in range(
        14
    ):  # characters along the ring, from the lower left over the top to the lower right
        t = math.radians(145 + k * 250 / 13)
        px, py = cx + (a - ring - em * 1.1) * math.cos(t), cy + (b - ring - em * 1.1) * math.sin(t)
        for _ in range(4):
            if rng.random() < 0.5:
                yy = py + rng.uniform(-em / 2, em / 2)
                draw.line([px - em / 2, yy, px + em / 2, yy], fill=colour, width=stroke)
            else:
                xx = px + rng.uniform(-em / 2, em / 2)
                draw.line([xx, py - em / 2, xx, py + em / 2], fill=colour, width=stroke)
    return img


def page(*, dpi=200, signature=True, red_header=False, kind="summary_scan", unit=UNIT):
    return scans.scan_page(
        kind, unit, seal=False, dpi=dpi, signature=signature, red_header=red_header
    )


def stamp(img, ink, at=None):
    ppm = img.width / (297 if img.width > img.height else 210)
    x, y = at or (img.width - int(60 * ppm), img.height - int(45 * ppm))
    x, y = x - ink.width // 2, y - ink.height // 2
    img.paste(ImageChops.multiply(img.crop((x, y, x + ink.width, y + ink.height)), ink), (x, y))
    return img


def jpeg(img, dpi=200, quality=85):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    return buf.getvalue()


def pdf(img, dpi=200):
    buf = io.BytesIO()
    img.save(buf, "PDF", resolution=dpi)
    return buf.getvalue()


def seal_of(data, name="总结.pdf"):
    finding = parse_scan(name, data)
    codes = [p.code for p in finding.problems] + [d.code for d in finding.doubts]
    return finding.facts["seal"], finding.facts.get("seal_reason"), codes


PPM = 200 / 25.4


# ------------------------------------------------------------------ stamped pages: found


def test_ring_split_into_arcs_after_downscaling_is_found():
    data = jpeg(stamp(page(), seal_ink(PPM, gaps=10, ring_mm=0.6)))
    assert seal_of(data, "总结.jpg")[0] == "found"


def test_oval_seal_is_found():
    data = pdf(stamp(page(), seal_ink(PPM, width_mm=45, height_mm=30)))
    assert seal_of(data)[0] == "found"


@pytest.mark.parametrize(
    "colour",
    [(150, 80, 80), (165, 35, 115), (235, 95, 45), (240, 150, 150)],
    ids=["dark_red", "purple_red", "orange_red", "faint"],
)
def test_seal_in_any_seal_ink_is_found(colour):
    data = jpeg(stamp(page(), seal_ink(PPM, colour=colour)))
    assert seal_of(data, "总结.jpg")[0] == "found"


def test_phone_photo_with_a_72_dpi_header_is_found():
    # a phone photo: 3024 x 4032 pixels saying 72 dpi, i.e. a 1.4 m page on which a 42 mm seal
    # would look 100 mm wide; the page is taken as A4 instead
    img = (
        stamp(page(), seal_ink(PPM))
        .resize((3024, 4032), Image.BICUBIC)
        .rotate(3, fillcolor=(130, 110, 90))
    )
    assert seal_of(jpeg(img, dpi=72), "扫描件.jpg")[0] == "found"


def test_pdf_saved_at_72_dpi_is_found():
    data = pdf(stamp(page(), seal_ink(PPM)), dpi=72)
    assert seal_of(data)[0] == "found"


def test_ring_touching_red_table_lines_is_found():
    img = page(kind="table_scan")
    draw = ImageDraw.Draw(img)
    x, y = img.width - int(60 * PPM), img.height - int(45 * PPM)
    for dy in (-int(21 * PPM), int(8 * PPM)):  # one line along the ring's top, one across the seal
        draw.line(
            [int(20 * PPM), y + dy, img.width - int(20 * PPM), y + dy], fill=(210, 40, 45), width=3
        )
    draw.line(
        [x + int(21 * PPM), int(30 * PPM), x + int(21 * PPM), img.height - 10],
        fill=(210, 40, 45),
        width=3,
    )
    assert seal_of(jpeg(stamp(img, seal_ink(PPM))), "汇总表.jpg")[0] == "found"


def test_public_functions_take_a_pil_image():
    img = stamp(page(dpi=100), seal_ink(100 / 25.4)).convert("RGB")
    assert find_seal(img, 100 / 25.4) == "found"
    assert read_seal(img, 100 / 25.4) == ("found", None)


# ------------------------------------------------------------------ red that is no seal


def emblem_page():
    """A letterhead with a red emblem: a filled red disc with a white star, no ring text."""
    img = page(red_header=True)
    draw = ImageDraw.Draw(img)
    cx, cy, r = int(35 * PPM), int(22 * PPM), int(12 * PPM)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(210, 25, 30))
    draw.regular_polygon((cx, cy, r // 2), 5, fill="white")
    return img


def ring_emblem_page():
    """An emblem drawn as a ring with a star and nothing written along it (seal size)."""
    img = page()
    draw = ImageDraw.Draw(img)
    cx, cy, r = img.width // 2, int(70 * PPM), int(20 * PPM)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(210, 25, 30), width=int(1.2 * PPM))
    draw.regular_polygon((cx, cy, r // 3), 5, fill=(210, 25, 30))
    return img


def pen_circle_page():
    """A red pen circle drawn round a line of text: thin, uneven, empty inside."""
    img = page()
    draw = ImageDraw.Draw(img)
    rng = random.Random(3)
    cx, cy, r = img.width // 2, img.height // 2, 20 * PPM
    points = [
        (
            cx + r * (1 + 0.04 * rng.uniform(-1, 1)) * math.cos(math.radians(t)),
            cy + r * (1 + 0.04 * rng.uniform(-1, 1)) * math.sin(math.radians(t)),
        )
        for t in range(0, 372, 6)
    ]
    draw.line(points, fill=(220, 40, 50), width=3)
    return img


@pytest.mark.parametrize(
    "build",
    [emblem_page, pen_circle_page, lambda: page(red_header=True)],
    ids=["letterhead_emblem", "pen_circle", "red_title"],
)
@pytest.mark.parametrize("encode", [pdf, jpeg], ids=["pdf", "jpeg"])
def test_red_that_is_certainly_no_seal_is_seal_not_found(build, encode):
    # a red title line (wide, low, a straight row of characters), a solid round emblem in the
    # letterhead, a thin pen circle with nothing red inside: none can be a seal
    seal, _, codes = seal_of(encode(build()), "总结.jpg" if encode is jpeg else "总结.pdf")
    assert seal == "absent"
    assert codes == ["seal_not_found"]


def test_a_ring_with_a_star_and_no_text_is_a_doubt():
    # a seal whose ring text did not print looks like this: never ruled out
    seal, reason, codes = seal_of(pdf(ring_emblem_page()))
    assert seal == "unknown"
    assert reason in SEAL_UNSURE_REASONS
    assert codes == ["seal_unsure"]


def test_a_stamped_page_with_a_red_title_above_is_found():
    for encode, name in ((pdf, "总结.pdf"), (jpeg, "总结.jpg")):
        data = encode(stamp(page(red_header=True), seal_ink(PPM)))
        assert seal_of(data, name)[0] == "found", name


@pytest.mark.parametrize(
    "colour", [(250, 222, 222), (246, 205, 205)], ids=["barely_pink", "very_pale"]
)
def test_a_pale_seal_beside_a_red_title_is_never_an_absence(colour):
    # the red title is explained away; a stamp too pale to read beside it must still be a doubt
    data = pdf(stamp(page(red_header=True), seal_ink(PPM, colour=colour)))
    seal, _, codes = seal_of(data)
    assert seal in ("found", "unknown")
    assert "seal_not_found" not in codes


def test_a_seal_pressed_over_the_red_title_is_never_an_absence():
    img = page(red_header=True)
    data = jpeg(
        stamp(img, seal_ink(PPM, colour=(235, 160, 160)), at=(img.width // 2, int(20 * PPM)))
    )
    seal, _, codes = seal_of(data, "总结.jpg")
    assert seal in ("found", "unknown")
    assert "seal_not_found" not in codes


def test_red_pen_marks_beside_a_red_title_are_a_doubt():
    # a red title is no seal, but red pen ticks and a red block are not ruled out with certainty
    finding = parse_scan(
        "总结.pdf",
        scans.scan_pdf(
            "summary_scan", UNIT, seal=False, signature=True, red_header=True, red_marks=True
        ),
    )
    assert finding.facts["seal"] == "unknown"
    assert [p.code for p in finding.problems] == []


def test_square_stamp_is_a_doubt():
    img = page()
    draw = ImageDraw.Draw(img)
    x, y, s = int(120 * PPM), int(230 * PPM), int(22 * PPM)
    draw.rectangle([x, y, x + s, y + s], outline=RED, width=int(1.2 * PPM))
    for k in range(4):
        cx, cy = x + s // 4 + (k % 2) * s // 2, y + s // 4 + (k // 2) * s // 2
        draw.rectangle([cx - s // 6, cy - s // 6, cx + s // 6, cy + s // 6], outline=RED, width=3)
    seal, reason, codes = seal_of(pdf(img))
    assert seal == "unknown" and codes == ["seal_unsure"]
    assert reason in ("square_mark", "unclear_mark")


# ------------------------------------------------------------------ pages that cannot show red


@pytest.mark.parametrize("mode", ["L", "1"])
def test_grayscale_and_1_bit_scans_of_a_stamped_page_are_unknown(mode):
    stamped = stamp(page(), seal_ink(PPM))
    converted = (
        stamped.convert("L")
        if mode == "L"
        else stamped.convert("L").point(lambda v: 255 if v > 170 else 0).convert("1")
    )
    seal, reason, codes = seal_of(pdf(converted))
    assert (seal, reason) == ("unknown", "grayscale")
    assert "seal_not_found" not in codes


def test_colour_page_with_a_blue_signature_and_no_red_is_absent():
    seal, _, codes = seal_of(pdf(page(signature=True)))
    assert seal == "absent"
    assert codes == ["seal_not_found"]


def test_a_seal_too_pale_to_read_is_a_doubt_not_an_absence():
    # a dry stamp pad: the ink is barely pink, yet no 'no seal' correction may be asked for
    seal, _, codes = seal_of(pdf(stamp(page(), seal_ink(PPM, colour=(250, 222, 222)))))
    assert seal in ("found", "unknown")
    assert "seal_not_found" not in codes


def test_ink_masks_are_the_hsv_thresholds_they_name():
    """The OpenCV masks select exactly the pixels the stated thresholds do, edges included."""
    import numpy as np

    from parsers import seal

    rng = np.random.default_rng(7)
    grid = np.stack(
        np.meshgrid(
            np.arange(180),
            [0, 21, 22, 34, 35, 49, 50, 70, 71, 255],
            [0, 40, 41, 59, 60, 149, 150, 199, 200, 255],
            indexing="ij",
        ),
        -1,
    )
    hsv = np.concatenate(
        [grid.reshape(-1, 1, 3), rng.integers(0, [180, 256, 256], (20000, 1, 3))]
    ).astype(np.uint8)
    h, s, v = (hsv[..., i].astype(int) for i in range(3))
    hue = (h <= 13) | (h >= 140)
    ink = hue & (((s >= 50) & (v >= 60)) | ((s >= 35) & (v >= 150) & ((h <= 12) | (h >= 160))))
    assert np.array_equal(seal.seal_ink(hsv) == 255, ink)
    weak = ((h <= 10) | (h >= 150)) & (s >= 22) & (v >= 60)
    assert np.array_equal(seal.weak_ink(hsv) == 255, weak)
    inked = (v < 200) | (s > 70)
    share = np.count_nonzero(inked & (s > 70) & (v > 40)) / np.count_nonzero(inked)
    assert seal.colour_share(hsv) == pytest.approx(share)
    assert seal.colour_share(np.full((4, 4, 3), (0, 0, 255), np.uint8)) == 0.0  # white paper
