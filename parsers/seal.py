"""The official seal (公章) on a scanned page, read with OpenCV and numpy.

A page is read in four steps:

1. **Seal ink by hue.** Pixels whose hue lies between magenta, red and orange, with enough
   saturation to be ink rather than paper or grain (HSV, so faint, dark-red ≈(150,80,80),
   purple-red and orange-red ink count too). Long straight runs (red table rules, red title rules)
   are taken out, so that a seal touching a red form line is not merged with it.
2. **Gaps closed.** A morphological closing joins the arcs a ring splits into after downscaling
   or on a dry stamp pad; a wider dilation groups a seal's ring, text and star into one region.
3. **Ellipses fitted.** The outline of each seal-sized region is fitted with an ellipse (round
   and oval seals); its size in millimetres must be an official seal's.
4. **Inner structure.** A seal is a ring all the way round with ink inside it: ring text in
   the band inside the ring, a star or text in the middle, an ink density of a stamp, not of a
   filled emblem. A red circle drawn by pen (empty inside), a letterhead emblem (filled, or
   without ring text) and a square stamp are not found: they are a doubt ('unclear_mark',
   'square_mark').

The verdict is ``found``, ``absent`` or ``unknown`` with its reason. ``absent`` is given only on a
colour page (coloured ink proves that red would show) with no seal-coloured ink at all: a false
'no seal' asks a unit to send its material again, so red ink that is no seal (a red title, a red
emblem, pen marks) gives ``unknown``, never ``absent``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SEAL_MM = (25.0, 65.0)  # the long axis of an official seal (round 38–42 mm, oval 40–50 mm)
MIN_AXIS_RATIO = 0.5  # an oval seal is at most twice as long as it is high
SEAL_LIKE_MM = 12.0  # a red region this big in both directions could be a seal
COLOUR_EVIDENCE = 0.002  # share of coloured ink among inked pixels proving a colour scan
MIN_RED_SHARE = 0.00005  # less seal-coloured ink than this on a page is none
MAX_RED_SHARE = 0.2  # a page more red than this is a photo or a coloured form
RING_SECTORS = 36


def _hsv(image) -> np.ndarray:
    rgb = np.asarray(image.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)


def seal_ink(hsv: np.ndarray) -> np.ndarray:
    """Seal-coloured ink (uint8 0/255): magenta through red to orange, faint and dark included."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    hue = (h <= 13) | (h >= 140)  # OpenCV hue is 0..179: orange-red ≤ 13 (brown desks and
    #                                       skin are 14-25), magenta ≥ 140
    ink = (s >= 50) & (v >= 60)  # saturated enough not to be paper, light enough not black
    faint = (s >= 35) & (v >= 150) & ((h <= 12) | (h >= 160))  # a faint red stamp on white paper
    return np.where(hue & (ink | faint), 255, 0).astype(np.uint8)


def weak_ink(hsv: np.ndarray) -> np.ndarray:
    """Pale seal-coloured ink (uint8 0/255): thin ring text turns pale pink when a page is
    downscaled; read only inside a ring already found."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    hue = (h <= 10) | (h >= 150)
    return np.where(hue & (s >= 22) & (v >= 60), 255, 0).astype(np.uint8)


def colour_share(hsv: np.ndarray) -> float:
    """The share of coloured pixels among inked ones (a blue signature, a red mark, a photo)."""
    s, v = hsv[..., 1], hsv[..., 2]
    inked = v < 200
    inked |= s > 70
    count = int(np.count_nonzero(inked))
    if not count:
        return 0.0
    return int(np.count_nonzero(inked & (s > 70) & (v > 40))) / count


def _kernel(px: float) -> np.ndarray:
    size = max(1, int(round(px)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _remove_lines(mask: np.ndarray, ppm: float) -> np.ndarray:
    """The mask without long straight horizontal or vertical runs (red rules, red table lines):
    a seal's ring never runs straight for 25 mm."""
    length = max(15, int(25 * ppm))
    lines = cv2.morphologyEx(
        mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1))
    )
    lines |= cv2.morphologyEx(
        mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length))
    )
    if not lines.any():
        return mask
    lines = cv2.dilate(lines, _kernel(max(3, 0.6 * ppm)))
    return cv2.bitwise_and(mask, cv2.bitwise_not(lines))


def _ring_reading(ink: np.ndarray, ellipse, ppm: float) -> str | None:
    """'found' when the ink around a fitted ellipse is a seal's: a ring all the way round, text
    in the band inside it, and not filled; else the reason it is not ('unclear_mark')."""
    (cx, cy), (d1, d2), angle = ellipse
    a, b = d1 / 2.0, d2 / 2.0
    if a < 2 or b < 2:
        return "unclear_mark"
    ys, xs = np.nonzero(ink)
    if xs.size == 0:
        return "unclear_mark"
    t = math.radians(angle)
    dx, dy = xs - cx, ys - cy
    u = dx * math.cos(t) + dy * math.sin(t)
    w = -dx * math.sin(t) + dy * math.cos(t)
    rho = np.sqrt((u / a) ** 2 + (w / b) ** 2)
    sector = ((np.arctan2(w / b, u / a) + math.pi) / (2 * math.pi) * RING_SECTORS).astype(
        int
    ) % RING_SECTORS
    thickness = max(0.08, 1.8 * ppm / min(a, b))  # ring ± fitting error, relative
    ring = (rho >= 1 - thickness) & (rho <= 1 + 0.6 * thickness)
    ring_cover = np.unique(sector[ring]).size / RING_SECTORS
    band = (rho >= 0.45) & (rho < 1 - thickness)
    band_cover = np.unique(sector[band]).size / RING_SECTORS
    band_area = math.pi * a * b * ((1 - thickness) ** 2 - 0.45**2)
    band_density = int(np.count_nonzero(band)) / band_area if band_area > 0 else 1.0
    inside = rho < 1 - thickness
    inside_density = int(np.count_nonzero(inside)) / (math.pi * a * b * (1 - thickness) ** 2)
    if ring_cover < 0.7:
        return "unclear_mark"
    if inside_density > 0.55 or band_density > 0.6:
        return "unclear_mark"  # a filled emblem, a red badge: no stamp
    if band_cover < 0.35 or band_density < 0.02:
        return "unclear_mark"  # a ring with nothing written along it: a pen circle, an emblem
    return "found"


def _square(contour, ink: np.ndarray) -> bool:
    """A square or rectangular stamp: its outline fills its rotated bounding box."""
    hull = cv2.convexHull(contour)
    (_, _), (w, h), _ = cv2.minAreaRect(hull)
    if w * h <= 0:
        return False
    area = cv2.contourArea(hull)
    approx = cv2.approxPolyDP(hull, 0.04 * cv2.arcLength(hull, True), True)
    return area / (w * h) > 0.9 and len(approx) <= 6


def _pale_seal_like(weak: np.ndarray, ppm: float) -> bool:
    """Pale seal-coloured ink that, grouped, is as big as a seal in both directions (a seal
    stamped with a dry pad): enough to doubt an absence."""
    if np.count_nonzero(weak) < weak.size * MIN_RED_SHARE:
        return False
    weak = cv2.morphologyEx(weak, cv2.MORPH_OPEN, _kernel(2))
    grouped = cv2.dilate(weak, _kernel(max(5, 3.0 * ppm)))
    contours, _ = cv2.findContours(grouped, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in contours:
        _, _, w, h = cv2.boundingRect(contour)
        if min(w, h) / ppm >= SEAL_LIKE_MM:
            return True
    return False


def read_page(image, ppm: float) -> tuple[str, str | None]:
    """A page's seal: ('found', None), ('absent', None) or ('unknown', reason)."""
    hsv = _hsv(image)
    height, width = hsv.shape[:2]
    total = width * height
    ink = seal_ink(hsv)
    red = int(np.count_nonzero(ink))
    if red < total * MIN_RED_SHARE:
        if colour_share(hsv) < COLOUR_EVIDENCE:
            return "unknown", "grayscale"
        if _pale_seal_like(weak_ink(hsv), ppm):
            return "unknown", "unclear_mark"  # too pale to read, but a seal may be there
        return "absent", None
    if red > total * MAX_RED_SHARE:
        return "unknown", "unclear_mark"
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, _kernel(2)) if ppm >= 4 else ink  # JPEG speckle
    ink = _remove_lines(ink, ppm)
    ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, _kernel(max(3, 1.0 * ppm)))  # arcs joined
    grouped = cv2.dilate(ink, _kernel(max(5, 3.0 * ppm)))  # ring, text and star as one region
    contours, _ = cv2.findContours(grouped, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    seal_like = False
    reason = "unclear_mark"
    grow = max(5, 3.0 * ppm) / 2
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        w_mm, h_mm = (w - 2 * grow) / ppm, (h - 2 * grow) / ppm
        if min(w_mm, h_mm) < SEAL_LIKE_MM or max(w_mm, h_mm) / max(min(w_mm, h_mm), 1e-6) > 3:
            continue
        seal_like = True
        if max(w_mm, h_mm) > SEAL_MM[1] * 1.3:
            continue
        region = np.zeros_like(ink[y : y + h, x : x + w])
        cv2.drawContours(region, [contour - [x, y]], -1, 255, thickness=cv2.FILLED)
        local = cv2.bitwise_and(ink[y : y + h, x : x + w], region)
        points = cv2.findNonZero(local)
        if points is None or len(points) < 20:
            continue
        hull = cv2.convexHull(points)
        if len(hull) < 5:
            continue
        if _square(hull, local):
            reason = "square_mark"
            continue
        ellipse = cv2.fitEllipse(hull)
        (_, _), (d1, d2), _ = ellipse
        major, minor = max(d1, d2) / ppm, min(d1, d2) / ppm
        if not (SEAL_MM[0] <= major <= SEAL_MM[1] and minor >= MIN_AXIS_RATIO * major):
            continue
        weak = cv2.bitwise_or(local, cv2.bitwise_and(weak_ink(hsv[y : y + h, x : x + w]), region))
        if _ring_reading(weak, ellipse, ppm) == "found":
            return "found", None
    # red ink that is no seal (a red title, red pen marks) might still hide a faint or partial one:
    # never 'absent' then, a doubt for staff
    return "unknown", reason if seal_like else "unclear_mark"
