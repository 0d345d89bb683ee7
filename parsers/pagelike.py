"""Whether a picture looks like a document page: light paper carrying text lines or a ruled table.

One job: measure a picture (a JPG/PNG/TIFF attachment, or a rendered PDF page) and say ``"page"``,
``"photo"`` or ``"unsure"``. A scanned or photographed page is mostly light, unsaturated paper, and
its dark ink lies in text lines (rows of ink separated by rows of bare paper) or in long ruled
lines. A camera photo of people or a landscape has neither: little paper, colour, texture
everywhere. ``"photo"`` needs positive evidence of a photo *and* no sign of a page; anything in
between (a flat colour field, a blank picture, a page filling a small part of a photo) is
``"unsure"``, for staff. The page's slight rotation (a phone photo) is measured and undone
before the text lines are looked for.

Measured with numpy on a downscaled grey/HSV copy (long side MEASURE_SIDE pixels), a few tens of
milliseconds a picture.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

MEASURE_SIDE = 800  # pixels: the long side the picture is measured at
MAX_PIXELS = 80_000_000  # a bigger picture is not measured (the scan reader refuses it too)
STRIPS = 8  # vertical strips in which text lines are looked for
SKEW_ANGLES = tuple(a / 2 for a in range(-16, 17))  # degrees tried to undo a phone photo's tilt
INK_DROP = 40  # ink: this much darker than the local mean (0-255)
LOCAL = 15  # half-size of the local-mean window, pixels


@dataclass
class PageLook:
    """The measures of one picture and the verdict drawn from them."""

    verdict: str  # "page" | "photo" | "unsure"
    paper: float  # share of light, unsaturated pixels
    ink: float  # share of pixels darker than their surroundings
    saturated: float  # share of strongly coloured pixels
    texture: float  # share of pixels on an edge
    spread: float  # standard deviation of the grey levels (0-255)
    busy_paper: float  # share of paper in the rows that are not one flat colour (UI bars, margins)
    text_strips: float  # share of vertical strips showing at least MIN_LINES text lines
    text_lines: int  # text lines in the best strip
    ruled: tuple[int, int] = (0, 0)  # long horizontal and vertical lines
    skew: float = 0.0  # degrees the ink was turned back by

    def as_fact(self) -> dict:
        """The JSON form kept in a finding's facts."""
        fact = asdict(self)
        fact["ruled"] = list(self.ruled)
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in fact.items()}


MIN_LINES = 4


def look(image) -> PageLook:
    """Measure a Pillow image and say whether it is a page, a photo, or cannot be told."""
    from PIL import Image

    rgb = image if image.mode == "RGB" else image.convert("RGB")
    factor = MEASURE_SIDE / max(rgb.size)
    if factor < 1.0:
        rgb = rgb.resize(
            (max(1, round(rgb.width * factor)), max(1, round(rgb.height * factor))), Image.BILINEAR
        )
    hsv = np.asarray(rgb.convert("HSV"), dtype=np.int16)
    sat, val = hsv[..., 1], hsv[..., 2]
    grey = np.asarray(rgb.convert("L"), dtype=np.float32)

    bright = float(np.percentile(val, 99)) if val.size else 0.0
    paper = (sat < 50) & (val > max(100.0, 0.62 * bright))
    saturated = (sat > 80) & (val > 60)
    ink = grey < _local_mean(grey, LOCAL) - INK_DROP
    gx = np.abs(np.diff(grey, axis=1))[:-1, :]
    gy = np.abs(np.diff(grey, axis=0))[:, :-1]
    texture = float(((gx + gy) > 24).mean()) if gx.size else 0.0

    skew = _skew(ink)
    if skew:
        ink, paper_turned = _turn(ink, skew), _turn(paper, skew)
    else:
        paper_turned = paper
    strips, lines = _text_strips(ink, paper_turned)
    ruled = _ruled(ink)
    result = PageLook(
        verdict="unsure",
        paper=float(paper.mean()),
        ink=float(ink.mean()),
        saturated=float(saturated.mean()),
        texture=texture,
        spread=float(grey.std()) if grey.size else 0.0,
        busy_paper=_busy_paper(grey, paper),
        text_strips=strips,
        text_lines=lines,
        ruled=ruled,
        skew=skew,
    )
    result.verdict = _verdict(result)
    return result


def verdict_of(fact: dict | None) -> str | None:
    """The verdict kept in a ``page_look`` fact (None when the picture was not measured)."""
    return fact.get("verdict") if isinstance(fact, dict) else None


def _verdict(m: PageLook) -> str:
    """Page, photo or unsure from the measures."""
    ruled = m.ruled[0] >= 3 and m.ruled[1] >= 2
    texty = m.text_strips >= 0.25 and m.text_lines >= MIN_LINES
    if (texty or ruled) and m.paper >= 0.3 and m.saturated < 0.6:
        return "page"
    some_page = m.text_strips >= 0.125 or (m.ruled[0] >= 2 and m.ruled[1] >= 1) or m.paper >= 0.75
    photo_like = m.saturated >= 0.08 and (
        m.texture >= 0.08 or m.spread >= 35 and m.saturated >= 0.2 and m.busy_paper < 0.7
    )
    if not some_page and photo_like:
        return "photo"
    return "unsure"


def _busy_paper(grey: np.ndarray, paper: np.ndarray) -> float:
    """The share of paper among the rows that are not one flat colour: a screenshot's bars and
    letterboxing, a page's blank margins left out."""
    if grey.size == 0:
        return 0.0
    busy = grey.std(axis=1) >= 4
    return float(paper[busy].mean()) if busy.any() else float(paper.mean())


def _local_mean(grey: np.ndarray, half: int) -> np.ndarray:
    """The mean of a (2*half+1)-square window round each pixel (integral image, edges clamped)."""
    padded = np.pad(grey, half + 1, mode="edge").astype(np.float64)
    total = padded.cumsum(0).cumsum(1)
    size = 2 * half + 1
    h, w = grey.shape
    a = total[size : size + h, size : size + w]
    b = total[0:h, size : size + w]
    c = total[size : size + h, 0:w]
    d = total[0:h, 0:w]
    return ((a - b - c + d) / (size * size)).astype(np.float32)


def _skew(ink: np.ndarray) -> float:
    """The tilt (degrees) under which the ink's rows are sharpest, 0 when ink is scarce."""
    ys, xs = np.nonzero(ink)
    if len(ys) < 200:
        return 0.0
    if len(ys) > 120_000:
        pick = np.random.default_rng(0).choice(len(ys), 120_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    height = ink.shape[0]
    spread = int(ink.shape[1] * 0.15) + 2
    best, best_score = 0.0, -1.0
    for angle in SKEW_ANGLES:
        shifted = ys - xs * np.tan(np.radians(angle)) + spread
        profile = np.bincount(shifted.astype(np.int64).clip(0), minlength=height + 2 * spread)
        score = float((profile.astype(np.float64) ** 2).sum())
        if score > best_score * 1.02 or (
            abs(score - best_score) <= best_score * 0.02 and abs(angle) < abs(best)
        ):
            best, best_score = angle, max(score, best_score)
    return best


def _turn(mask: np.ndarray, angle: float) -> np.ndarray:
    """A mask turned by ``angle`` degrees so that rows sheared by that tilt lie level."""
    from PIL import Image

    img = Image.fromarray(mask.astype(np.uint8) * 255)
    return np.asarray(img.rotate(angle, resample=Image.NEAREST, fillcolor=0)) > 127


def _text_strips(ink: np.ndarray, paper: np.ndarray) -> tuple[float, int]:
    """The share of vertical strips showing MIN_LINES or more text lines (bands of ink rows between
    rows of bare paper), and the most lines seen in one strip."""
    height, width = ink.shape
    if height < 20 or width < STRIPS * 8:
        return 0.0, 0
    edges = np.linspace(0, width, STRIPS + 1).astype(int)
    counts = []
    for left, right in zip(edges[:-1], edges[1:], strict=True):
        row_ink = ink[:, left:right].mean(axis=1)
        row_paper = paper[:, left:right].mean(axis=1)
        counts.append(_bands(row_ink, row_paper, height))
    good = sum(1 for c in counts if c >= MIN_LINES)
    return good / STRIPS, max(counts)


def _bands(row_ink: np.ndarray, row_paper: np.ndarray, height: int) -> int:
    """Text lines in a strip's row profile: runs of inked rows, not too tall, with a gap of bare
    paper right above and right below."""
    state = np.where(row_ink > 0.03, 1, np.where((row_ink <= 0.012) & (row_paper > 0.7), 2, 0))
    starts = np.flatnonzero(np.r_[True, state[1:] != state[:-1]])
    kinds = state[starts]
    lengths = np.diff(np.r_[starts, state.size])
    tallest = max(4, height // 12)
    inner = np.arange(1, len(kinds) - 1)
    line = (
        (kinds[inner] == 1)
        & (lengths[inner] <= tallest)
        & (kinds[inner - 1] == 2)
        & (kinds[inner + 1] == 2)
    )
    return int(np.count_nonzero(line))


def _ruled(ink: np.ndarray) -> tuple[int, int]:
    """Long straight dark lines: horizontal ones over 40% of the width, vertical ones over 25% of
    the height (neighbouring rows or columns count once)."""

    def count(profile: np.ndarray, need: float) -> int:
        hits = profile >= need
        return int(np.count_nonzero(hits[1:] & ~hits[:-1]) + (1 if hits.size and hits[0] else 0))

    if ink.size == 0:
        return 0, 0
    return count(_longest_runs(ink), 0.4 * ink.shape[1]), count(
        _longest_runs(ink.T), 0.25 * ink.shape[0]
    )


def _longest_runs(mask: np.ndarray) -> np.ndarray:
    """The length of the longest run of set pixels in each row (gaps of one pixel bridged)."""
    bridged = mask.copy()
    bridged[:, 1:-1] |= mask[:, :-2] & mask[:, 2:]
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = bridged
    change = np.diff(padded, axis=1)
    longest = np.zeros(mask.shape[0], dtype=np.int64)
    rows_s, cols_s = np.nonzero(change == 1)
    rows_e, cols_e = np.nonzero(change == -1)
    if rows_s.size:
        np.maximum.at(longest, rows_s, cols_e - cols_s)
    return longest
