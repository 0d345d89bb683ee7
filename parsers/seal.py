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
5. **Red that is certainly no seal.** When no seal is found, each red mark is explained if it
   can be: a long straight rule, a solid round disc of emblem size in the letterhead (a stamp is
   never solid), a line of red title characters (wider than any seal, lower than any seal, a
   straight row of character cells of one height: not an arc, not ring text), a thin closed
   pen line with no red at all inside it (a seal has its star and text there).

The verdict is ``found``, ``absent`` or ``unknown`` with its reason. ``absent`` is given only on a
colour page (coloured ink proves that red would show) whose seal-coloured ink is none, or all
explained as above with no seal-sized pale pink ink left beside or across it: a false 'no seal'
asks a unit to send its material again, so any other red mark (a ring without text, pen ticks, a
red block, a seal-sized pale mark) gives ``unknown``, never ``absent``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# One thread: a page is small, and the parsing workers (``[service] workers``, one per core)
# already keep every core busy; OpenCV's own threads only contend with them.
cv2.setNumThreads(1)

SEAL_MM = (25.0, 65.0)  # the long axis of an official seal (round 38–42 mm, oval 40–50 mm)
MIN_AXIS_RATIO = 0.5  # an oval seal is at most twice as long as it is high
SEAL_LIKE_MM = 12.0  # a red region this big in both directions could be a seal
COLOUR_EVIDENCE = 0.002  # share of coloured ink among inked pixels proving a colour scan
MIN_RED_SHARE = 0.00005  # less seal-coloured ink than this on a page is none
MAX_RED_SHARE = 0.2  # a page more red than this is a photo or a coloured form
RING_SECTORS = 36


def _hsv(image) -> np.ndarray:
    rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)


def seal_ink(hsv: np.ndarray) -> np.ndarray:
    """Seal-coloured ink (uint8 0/255): magenta through red to orange, faint and dark included."""
    # OpenCV hue is 0..179: orange-red <= 13 (brown desks and skin are 14-25), magenta >= 140;
    # saturated enough not to be paper (s >= 50), light enough not to be black (v >= 60); a faint
    # red stamp on white paper is less saturated but light (s >= 35, v >= 150, a narrower hue)
    return _any_in(
        hsv,
        ((0, 50, 60), (13, 255, 255)),
        ((140, 50, 60), (179, 255, 255)),
        ((0, 35, 150), (12, 255, 255)),
        ((160, 35, 150), (179, 255, 255)),
    )


def weak_ink(hsv: np.ndarray) -> np.ndarray:
    """Pale seal-coloured ink (uint8 0/255): thin ring text turns pale pink when a page is
    downscaled; read only inside a ring already found."""
    return _any_in(hsv, ((0, 22, 60), (10, 255, 255)), ((150, 22, 60), (179, 255, 255)))


def colour_share(hsv: np.ndarray) -> float:
    """The share of coloured pixels among inked ones (a blue signature, a red mark, a photo)."""
    inked = cv2.countNonZero(
        _any_in(hsv, ((0, 0, 0), (179, 255, 199)), ((0, 71, 0), (179, 255, 255)))
    )
    if not inked:
        return 0.0
    return cv2.countNonZero(cv2.inRange(hsv, (0, 71, 41), (179, 255, 255))) / inked


def _any_in(hsv: np.ndarray, *ranges: tuple[tuple[int, int, int], tuple[int, int, int]]):
    """The pixels (uint8 0/255) whose (h, s, v) lies in any of the inclusive ``ranges``: one
    pass of OpenCV's ``inRange`` each, not a numpy temporary per comparison."""
    mask = cv2.inRange(hsv, *ranges[0])
    for low, high in ranges[1:]:
        mask |= cv2.inRange(hsv, low, high)
    return mask


def _kernel(px: float) -> np.ndarray:
    size = max(1, int(round(px)))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _line_mask(mask: np.ndarray, ppm: float) -> np.ndarray:
    """Long straight horizontal or vertical runs of the mask (red rules, red table lines), widened
    a little: a seal's ring never runs straight for 25 mm."""
    length = max(15, int(25 * ppm))
    lines = cv2.morphologyEx(
        mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1))
    )
    lines |= cv2.morphologyEx(
        mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length))
    )
    if not lines.any():
        return lines
    return cv2.dilate(lines, _kernel(max(3, 0.6 * ppm)))


def _remove_lines(mask: np.ndarray, ppm: float) -> np.ndarray:
    """The mask without long straight horizontal or vertical runs (see ``_line_mask``)."""
    lines = _line_mask(mask, ppm)
    if not lines.any():
        return mask
    return cv2.bitwise_and(mask, cv2.bitwise_not(lines))


def _polar(ink: np.ndarray, ellipse) -> tuple[np.ndarray, np.ndarray]:
    """For each inked pixel, its distance from the ellipse's centre relative to the ellipse (1 on
    the ellipse) and the sector (of RING_SECTORS) it lies in."""
    (cx, cy), (d1, d2), angle = ellipse
    a, b = d1 / 2.0, d2 / 2.0
    ys, xs = np.nonzero(ink)
    t = math.radians(angle)
    dx, dy = xs - cx, ys - cy
    u = dx * math.cos(t) + dy * math.sin(t)
    w = -dx * math.sin(t) + dy * math.cos(t)
    rho = np.sqrt((u / a) ** 2 + (w / b) ** 2)
    sector = ((np.arctan2(w / b, u / a) + math.pi) / (2 * math.pi) * RING_SECTORS).astype(
        int
    ) % RING_SECTORS
    return rho, sector


def _ring_reading(ink: np.ndarray, ellipse, ppm: float) -> str | None:
    """'found' when the ink around a fitted ellipse is a seal's: a ring all the way round, text
    in the band inside it, and not filled; else the reason it is not ('unclear_mark')."""
    (_, _), (d1, d2), _ = ellipse
    a, b = d1 / 2.0, d2 / 2.0
    if a < 2 or b < 2 or not ink.any():
        return "unclear_mark"
    rho, sector = _polar(ink, ellipse)
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


# red that is certainly no seal (see ``_no_seal_marks``)
TITLE_MIN_MM = SEAL_MM[1] * 1.1  # a red title line is wider than any seal
TITLE_MAX_MM = 20.0  # and lower than any seal (SEAL_MM[0])
TITLE_MIN_CHARS = 5
TITLE_GAP_MM = 15.0  # the widest space between the characters of one title line
EMBLEM_MM = (8.0, 35.0)  # the diameter of a letterhead emblem
EMBLEM_DENSITY = 0.6  # a solid disc; a stamp's ring, text and star cover about a third
LETTERHEAD = 0.25  # the top share of the page a letterhead emblem sits in
PEN_MAX_STROKE_MM = 1.0  # a pen line; a seal's ring is 1-1.5 mm wide
PALE_SATURATION = 12  # the palest seal ink looked for beside red that is no seal (paper: < 8)
PEN_MAX_INSIDE = 0.002  # red inside a pen circle: none (a seal has a star and text there)


def _components(mask: np.ndarray, min_px: int = 1):
    """The connected components of a mask, as (x, y, w, h, pixel count, component mask crop)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area >= min_px:
            yield x, y, w, h, area, (labels[y : y + h, x : x + w] == i)


def _fit_ellipse(mask: np.ndarray):  # noqa: ANN202 - an OpenCV rotated rectangle, or None
    """The ellipse fitted to the convex hull of a boolean mask, or None when too little is inked."""
    points = cv2.findNonZero(mask.astype(np.uint8))
    if points is None or len(points) < 20:
        return None
    hull = cv2.convexHull(points)
    return cv2.fitEllipse(hull) if len(hull) >= 5 else None


def _emblem(raw: np.ndarray, part: np.ndarray, box, ppm: float, page_h: int) -> bool:
    """A letterhead emblem: a solid round red disc (a white star or figure in it) of emblem size
    in the top of the page. A stamp is never solid: its ring, text and star leave paper between."""
    x, y, w, h = box
    ellipse = _fit_ellipse(part)
    if ellipse is None:
        return False
    (cx, cy), (d1, d2), _ = ellipse
    major, minor = max(d1, d2) / ppm, min(d1, d2) / ppm
    if not (EMBLEM_MM[0] <= major <= EMBLEM_MM[1] and minor >= 0.8 * major):
        return False
    if y + cy > LETTERHEAD * page_h:
        return False
    local = raw[y : y + h, x : x + w]
    rho, _ = _polar(local, ellipse)
    area = math.pi * d1 * d2 / 4
    return int(np.count_nonzero(rho <= 1.0)) / area >= EMBLEM_DENSITY


def _title_line(local: np.ndarray, ppm: float) -> bool:
    """A line of red title characters (``local``: the ink of one row of marks, cropped): wider
    than any seal and lower than any seal, cut by bare columns into at least TITLE_MIN_CHARS
    character cells, each filling the line's height, all on one straight (nearly horizontal)
    row. An arc of a ring is one curved run, ring text follows a curve, and a seal is never
    65 mm wide and 20 mm high."""
    local = local > 0
    columns = local.any(axis=0)
    inked = np.flatnonzero(columns)
    if inked.size == 0:
        return False
    h = int(np.ptp(np.flatnonzero(local.any(axis=1)))) + 1
    w = inked[-1] - inked[0] + 1
    if w / ppm < TITLE_MIN_MM or h / ppm > TITLE_MAX_MM or w < 4 * h:
        return False
    edges = np.flatnonzero(np.diff(np.concatenate(([0], columns.astype(np.int8), [0]))))
    total = int(np.count_nonzero(local))
    cells = []
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        cell = local[:, start:stop]
        if np.count_nonzero(cell) < 0.01 * total:
            continue  # a speck
        rows = np.flatnonzero(cell.any(axis=1))
        filled = cell[:, cell.any(axis=0)]
        extent = len(cell) - np.argmax(filled[::-1], axis=0) - np.argmax(filled, axis=0)
        cells.append(((start + stop) / 2, rows[0], rows[-1], stop - start, np.median(extent)))
    if len(cells) < TITLE_MIN_CHARS:
        return False
    xs = np.array([c[0] for c in cells], dtype=float)
    tops = np.array([c[1] for c in cells], dtype=float)
    bottoms = np.array([c[2] for c in cells], dtype=float)
    heights = bottoms - tops + 1
    line = float(np.median(heights))
    if line < 2 or np.any(heights < 0.6 * line) or np.any(heights > 1.4 * line):
        return False
    for _, _, _, width, extent in cells:
        if width > 3.5 * line or (width > 1.6 * line and extent < 0.3 * line):
            return False  # a run wider than a few characters, or thin: an arc, a stroke
    centres = (tops + bottoms) / 2
    slope, offset = np.polyfit(xs, centres, 1)
    if abs(slope) > math.tan(math.radians(8)):
        return False
    return float(np.max(np.abs(centres - (slope * xs + offset)))) <= 0.25 * line


def _pen_circle(raw: np.ndarray, red: np.ndarray, part: np.ndarray, box, ppm: float) -> bool:
    """A circle drawn by pen: a thin closed line all the way round with no red at all inside it
    (a seal has its star and its text there, however faint). ``red`` is every seal-coloured
    pixel, pale ones included."""
    x, y, w, h = box
    local = raw[y : y + h, x : x + w] & part
    ellipse = _fit_ellipse(local)
    if ellipse is None:
        return False
    (_, _), (d1, d2), _ = ellipse
    a, b = d1 / 2.0, d2 / 2.0
    if min(a, b) / ppm < 5:
        return False
    rho, sector = _polar(local, ellipse)
    band = max(0.12, 2.5 * ppm / min(a, b))  # a hand-drawn line wobbles
    ring = np.abs(rho - 1) <= band
    if np.unique(sector[ring]).size / RING_SECTORS < 0.85:
        return False
    if np.count_nonzero(~ring) > 0.03 * rho.size:
        return False  # more than a line
    perimeter = math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b)))
    if np.count_nonzero(ring) / perimeter > PEN_MAX_STROKE_MM * ppm:
        return False  # as wide as a seal's ring
    inner, _ = _polar(red[y : y + h, x : x + w], ellipse)
    inside = np.count_nonzero(inner < 1 - band)
    return inside <= PEN_MAX_INSIDE * math.pi * a * b * (1 - band) ** 2


def _no_seal_marks(hsv: np.ndarray, raw: np.ndarray, ppm: float) -> bool:
    """Whether every seal-coloured mark on a page is certainly no seal: long straight rules, a
    solid round emblem in the letterhead, lines of red title characters, and thin circles drawn
    by pen with nothing red inside. What is left must be less ink than MIN_RED_SHARE and no pale
    seal-sized ink; anything else is a doubt."""
    page_h = raw.shape[0]
    raw_b = raw > 0
    explained = _line_mask(raw, ppm) > 0
    ink = raw.copy()
    ink[explained] = 0
    if ppm >= 4:
        ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, _kernel(2))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, _kernel(max(3, 1.0 * ppm)))
    for x, y, w, h, _, part in _components(closed, 20):
        if _emblem(raw_b, part, (x, y, w, h), ppm, page_h):
            explained[y : y + h, x : x + w] |= part
    closed[explained] = 0
    gap = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(TITLE_GAP_MM * ppm)), 1))
    rows = cv2.dilate(closed, gap)
    for x, y, w, h, _, part in _components(rows):
        line = np.where(part, closed[y : y + h, x : x + w], 0)
        if _title_line(line, ppm):
            explained[y : y + h, x : x + w] |= line > 0  # its ink, not the space around it
    closed[explained] = 0
    red = raw_b | (weak_ink(hsv) > 0)
    grouped = cv2.dilate(closed, _kernel(max(5, 3.0 * ppm)))
    for x, y, w, h, _, part in _components(grouped):
        if min(w, h) / ppm >= SEAL_LIKE_MM and _pen_circle(raw_b, red, part, (x, y, w, h), ppm):
            explained[y : y + h, x : x + w] |= part & (closed[y : y + h, x : x + w] > 0)
    explained = cv2.dilate(explained.astype(np.uint8) * 255, _kernel(max(3, 1.5 * ppm))) > 0
    left = raw_b & ~explained
    if np.count_nonzero(left) >= raw.size * MIN_RED_SHARE:
        return False
    # a seal too faint for seal_ink may hide beside them or across them: no seal-sized group of
    # the palest seal-coloured ink may hold a seal-sized line of it outside the marks explained
    # (and their fringe: JPEG spreads their colour over 8-pixel blocks)
    fringe = cv2.dilate(explained.astype(np.uint8) * 255, _kernel(max(9, 7.0 * ppm))) > 0
    return not _pale_mark(pale_ink(hsv) | raw, fringe, ppm)


def pale_ink(hsv: np.ndarray) -> np.ndarray:
    """The palest seal-coloured ink (uint8 0/255): a stamp from a nearly dry pad, barely pink."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    hue = (h <= 10) | (h >= 150)
    return np.where(hue & (s >= PALE_SATURATION) & (v >= 120), 255, 0).astype(np.uint8)


def _pale_mark(pale: np.ndarray, known: np.ndarray, ppm: float) -> bool:
    """Pale ink that, grouped, is as big as a seal in both directions and holds at least a
    seal-sized line of ink outside ``known`` (marks that are no seal)."""
    grouped = cv2.dilate(pale, _kernel(max(3, 1.5 * ppm)))
    for x, y, w, h, _, part in _components(grouped):
        if min(w, h) / ppm < SEAL_LIKE_MM:
            continue
        ink = (pale[y : y + h, x : x + w] > 0) & part & ~known[y : y + h, x : x + w]
        if np.count_nonzero(ink) >= SEAL_LIKE_MM * ppm:
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
    raw = ink
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
    # red ink that is no seal might still hide a faint or partial one: 'absent' only when every
    # red mark is certainly something else (a rule, a letterhead emblem, a red title, a pen
    # circle), else a doubt for staff
    if reason != "square_mark" and _no_seal_marks(hsv, raw, ppm):
        return "absent", None
    return "unknown", reason if seal_like else "unclear_mark"
