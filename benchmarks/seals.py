"""Real-seal benchmark: real seal impressions (benchmarks/data/seals, see PROVENANCE) composited
onto generated pages and varied as scanners and phones vary them; each page is read by
``parse_scan``.

    python benchmarks/seals.py            # the current detector (or python -m benchmarks.seals)
    python -m benchmarks.seals --old FILE # a copy of an older parsers/scan.py (git show HEAD~:...)

Prints, per group, how many pages got found / not_found (seal_not_found) / unsure (seal_unsure),
the false seal_not_found on stamped pages, seconds per page, and the peak RSS of reading a 30 MB
scan PDF in a fresh process.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
if Path(sys.path[0] or ".").resolve() == ROOT / "benchmarks":
    # run as a script: benchmarks/parsers.py would shadow the parsers package
    sys.path[0] = str(ROOT)

from intake.samples import scans  # noqa: E402

DATA = Path(__file__).parent / "data" / "seals"
UNIT = "机械工程与自动化学院分党委"
DPI = 150
RED = (210, 25, 30)
# the real seals and their physical long side in millimetres
SEALS = {"round_company.png": 42.0, "round_finance.png": 38.0, "round_coop.jpg": 42.0}
SQUARE = {"square_personal.png": 20.0}


def _ink(
    name: str, size_mm: float, ppm: float, *, stretch: float = 1.0, tint=None, fade: float = 0.0
):
    """A seal impression as an 'ink layer' (paper white), scaled to its physical size; ``tint``
    recolours the ink (dark red, purple-red, orange), ``fade`` lightens it (a dry stamp pad)."""
    img = Image.open(DATA / name).convert("RGB")
    # paper to white: divide each band by its paper level (the 85th percentile)
    total = img.width * img.height
    bands = []
    for band in img.split():
        ref = sorted(band.tobytes())[int(total * 0.85)] or 1
        bands.append(band.point(lambda v, ref=ref: min(255, int(v * 255 / ref))))
    img = Image.merge("RGB", bands)
    long_px = max(1, int(size_mm * ppm))
    w, h = img.size
    factor = long_px / max(w, h)
    img = img.resize((max(1, int(w * factor * stretch)), max(1, int(h * factor))), Image.LANCZOS)
    if tint or fade:
        r, g, b = img.split()
        # the ink's strength: how much less green than white
        strength = g.point(lambda v: 255 - v)
        ink = tint or (205, 35, 40)
        layers = []
        for channel in ink:
            layers.append(
                strength.point(lambda s, c=channel: int(255 - (255 - c) * (s / 255) * (1 - fade)))
            )
        img = Image.merge("RGB", layers)
    return img


def _stamp(page: Image.Image, ink: Image.Image, at: tuple[int, int]) -> None:
    """Press the ink onto the page (multiply, as ink over print)."""
    from PIL import ImageChops

    x, y = at[0] - ink.width // 2, at[1] - ink.height // 2
    region = page.crop((x, y, x + ink.width, y + ink.height))
    page.paste(ImageChops.multiply(region, ink), (x, y))


def _page(
    kind="summary_scan", *, signature=True, red_header=False, unit=UNIT, dpi=DPI
) -> Image.Image:
    return scans.scan_page(
        kind, unit, seal=False, dpi=dpi, signature=signature, red_header=red_header
    )


def _seal_at(page: Image.Image, ppm: float) -> tuple[int, int]:
    return page.width - int(60 * ppm), page.height - int(45 * ppm)


def _emblem(draw, cx, cy, ppm):
    """A letterhead emblem: a red filled disc with a white star and a white band, no ring text."""
    r = int(11 * ppm)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=RED)
    s = int(5 * ppm)
    draw.polygon(
        [
            (cx, cy - s),
            (cx + s // 3, cy - s // 3),
            (cx + s, cy - s // 3),
            (cx + s // 2, cy + s // 5),
            (cx + 2 * s // 3, cy + s),
            (cx, cy + s // 2),
            (cx - 2 * s // 3, cy + s),
            (cx - s // 2, cy + s // 5),
            (cx - s, cy - s // 3),
            (cx - s // 3, cy - s // 3),
        ],
        fill="white",
    )


def _pen_circle(draw, cx, cy, ppm, rng):
    """A circle drawn by a red pen round a line of text: wobbly, thin, empty inside."""
    points = []
    r = 20 * ppm
    for i in range(0, 380, 6):
        t = i * 3.14159 / 180
        rr = r * (1 + 0.05 * rng.uniform(-1, 1))
        points.append((cx + rr * 1.3 * math.cos(t), cy + rr * math.sin(t)))
    draw.line(points, fill=(220, 40, 50), width=max(2, int(0.5 * ppm)))


def _encode(page: Image.Image, how: str, dpi: int = DPI) -> tuple[str, bytes]:
    buf = io.BytesIO()
    if how == "pdf":
        page.save(buf, "PDF", resolution=dpi)
        return "总结.pdf", buf.getvalue()
    if how == "pdf72":
        page.save(buf, "PDF", resolution=72)  # a PDF 'saved at 72 dpi': the page is metres long
        return "总结.pdf", buf.getvalue()
    if how == "jpeg":
        page.save(buf, "JPEG", quality=85, dpi=(dpi, dpi))
        return "总结.jpg", buf.getvalue()
    if how == "jpeg15":
        page.save(buf, "JPEG", quality=15, dpi=(dpi, dpi))
        return "总结.jpg", buf.getvalue()
    if how == "gray":
        page.convert("L").save(buf, "PDF", resolution=dpi)
        return "总结.pdf", buf.getvalue()
    if how == "bw":
        page.convert("L").point(lambda v: 255 if v > 170 else 0).convert("1").save(
            buf, "PDF", resolution=dpi
        )
        return "总结.pdf", buf.getvalue()
    if how == "photo":
        # a phone photo: rotated, on a desk, warm light, slightly blurred, 72 dpi header, 3024 px
        rotated = page.rotate(4, resample=Image.BICUBIC, expand=True, fillcolor=(120, 100, 80))
        desk = Image.new(
            "RGB", (int(rotated.width * 1.12), int(rotated.height * 1.08)), (120, 100, 80)
        )
        desk.paste(
            rotated, ((desk.width - rotated.width) // 2, (desk.height - rotated.height) // 2)
        )
        desk = desk.resize((int(4032 * desk.width / desk.height), 4032), Image.BICUBIC)
        r, g, b = desk.split()
        desk = Image.merge(
            "RGB", (r, g.point(lambda v: int(v * 0.96)), b.point(lambda v: int(v * 0.88)))
        )
        desk = desk.filter(ImageFilter.GaussianBlur(1.2))
        desk.save(buf, "JPEG", quality=80, dpi=(72, 72))
        return "IMG_2022总结.jpg", buf.getvalue()
    raise ValueError(how)


def cases():
    """(group, stamped?, filename, bytes) for every benchmark page."""
    ppm = DPI / 25.4
    rng = random.Random(7)
    out = []
    stamped_variants = ["pdf", "jpeg", "jpeg15", "photo", "pdf72", "gray", "bw"]
    inks = [
        ("plain", {}),
        ("dark_red", {"tint": (150, 80, 80)}),
        ("purple_red", {"tint": (170, 40, 120)}),
        ("orange_red", {"tint": (230, 90, 40)}),
        ("faint", {"fade": 0.55}),
        ("oval", {"stretch": 1.4}),
    ]
    for n, (name, size) in enumerate(SEALS.items()):
        for ink_name, opts in inks:
            for variant in stamped_variants:
                if ink_name != "plain" and variant in ("gray", "bw", "pdf72"):
                    continue
                kind = "table_scan" if n == 1 else "summary_scan"
                page = _page(kind, red_header=(n == 2), unit=f"{UNIT}{n}{ink_name}")
                ink = _ink(
                    name, 32.0 if ink_name == "oval" else size, ppm, **opts
                )  # oval: 45 x 32 mm
                _stamp(page, ink, _seal_at(page, ppm))
                group = f"stamped {variant}" + ("" if ink_name == "plain" else f" {ink_name}")
                out.append((group, True) + _encode(page, variant))
        # a seal pressed over a red form line (a red-ruled table)
        page = _page("table_scan", unit=f"{UNIT}{n}line")
        draw = ImageDraw.Draw(page)
        cx, cy = _seal_at(page, ppm)
        for dy in (-int(12 * ppm), int(9 * ppm)):
            draw.line(
                [int(25 * ppm), cy + dy, page.width - int(25 * ppm), cy + dy],
                fill=(205, 40, 45),
                width=3,
            )
        draw.line(
            [cx - int(8 * ppm), int(40 * ppm), cx - int(8 * ppm), page.height - int(20 * ppm)],
            fill=(205, 40, 45),
            width=3,
        )
        _stamp(page, _ink(name, size, ppm), (cx, cy))
        out.append(("stamped red_form_lines", True) + _encode(page, "jpeg"))
    for name, size in SQUARE.items():
        for variant in ("pdf", "jpeg"):
            page = _page(unit=f"{UNIT}square")
            _stamp(page, _ink(name, size, ppm), _seal_at(page, ppm))
            out.append(("square stamp only", True) + _encode(page, variant))
    for n in range(6):
        unit = f"{UNIT}u{n}"
        for variant in ("pdf", "jpeg", "jpeg15", "photo"):
            out.append(("unstamped blue signature", False) + _encode(_page(unit=unit), variant))
        for variant in ("gray", "bw"):
            out.append(("unstamped gray/1-bit", False) + _encode(_page(unit=unit), variant))
        out.append(
            ("unstamped red title", False) + _encode(_page(unit=unit, red_header=True), "jpeg")
        )
        page = _page(unit=unit)
        _emblem(ImageDraw.Draw(page), int(30 * ppm), int(20 * ppm), ppm)
        out.append(("unstamped red emblem", False) + _encode(page, "pdf"))
        page = _page(unit=unit)
        _pen_circle(ImageDraw.Draw(page), page.width // 2, page.height // 2, ppm, rng)
        out.append(("unstamped pen circle", False) + _encode(page, "jpeg"))
    return out


def _load(old: str | None):
    if not old:
        from parsers.scan import parse_scan

        return parse_scan
    spec = importlib.util.spec_from_file_location("parsers._bench_old_scan", old)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "parsers"
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.parse_scan


def _verdict(finding) -> str:
    codes = [p.code for p in finding.problems]
    seal = finding.facts.get("seal")
    if seal == "found":
        return "found"
    if seal == "absent" or "seal_not_found" in codes:
        return "not_found"
    return "unsure"


def _rss(old: str | None, path: str) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of reading the PDF at ``path`` in a fresh process."""
    code = (  # VmHWM: ru_maxrss would carry over this (big) process's peak through fork and exec
        "import sys, time\n"
        "sys.path.insert(0, '.')\n"
        "from benchmarks.seals import _load\n"
        f"parse = _load({old!r})\n"
        f"data = open({path!r}, 'rb').read()\n"
        "t = time.perf_counter(); f = parse('总结.pdf', data); t = time.perf_counter() - t\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(t, int(hwm) / 1024, f.facts.get('inspected_pages'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]), out[2]


def big_pdf(path: str) -> int:
    """A ~30 MB scan PDF: 11 colour pages at 300 dpi, stamped on its page 6 (7 read before it)."""
    ppm = 300 / 25.4
    pages = []
    for i in range(11):
        page = _page(unit=f"{UNIT}big{i}", dpi=300)
        if i == 5:
            _stamp(page, _ink("round_company.png", 42, ppm), _seal_at(page, ppm))
        grain = Image.effect_noise(page.size, 40).convert("RGB")
        pages.append(Image.blend(page, grain, 0.08))
    pages[0].save(path, "PDF", resolution=300, save_all=True, append_images=pages[1:], quality=92)
    return Path(path).stat().st_size


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", help="path of an older parsers/scan.py to benchmark instead")
    args = parser.parse_args(argv)
    parse = _load(args.old)
    table: dict[str, dict[str, int]] = {}
    stamped_colour = [0, 0]
    unstamped_colour = [0, 0, 0]  # pages, not_found, found
    unstamped_all = [0, 0]  # colour pages without a seal, red marks included: pages, not_found
    false_nf = 0
    elapsed = 0.0
    all_cases = cases()
    for group, stamped, filename, data in all_cases:
        t = time.perf_counter()
        verdict = _verdict(parse(filename, data))
        elapsed += time.perf_counter() - t
        row = table.setdefault(group, {"pages": 0, "found": 0, "not_found": 0, "unsure": 0})
        row["pages"] += 1
        row[verdict] += 1
        colour = not any(w in group for w in ("gray", "bw", "square"))
        if stamped and verdict == "not_found":
            false_nf += 1
        if stamped and colour:
            stamped_colour[0] += 1
            stamped_colour[1] += verdict == "found"
        if not stamped and group == "unstamped blue signature":
            unstamped_colour[0] += 1
            unstamped_colour[1] += verdict == "not_found"
        if not stamped:
            unstamped_colour[2] += verdict == "found"
        if not stamped and "gray" not in group:
            unstamped_all[0] += 1
            unstamped_all[1] += verdict == "not_found"
    print(f"{'group':40} {'pages':>5} {'found':>6} {'not_found':>9} {'unsure':>6}")
    for group, row in table.items():
        print(
            f"{group:40} {row['pages']:5} {row['found']:6} {row['not_found']:9} {row['unsure']:6}"
        )
    print(f"false seal_not_found on stamped pages: {false_nf}")
    print(
        f"seal found on colour stamped pages: {stamped_colour[1]}/{stamped_colour[0]}"
        f" = {stamped_colour[1] / max(1, stamped_colour[0]):.0%}"
    )
    print(
        f"seal_not_found on colour unstamped pages (blue signature, no red): {unstamped_colour[1]}/"
        f"{unstamped_colour[0]} = {unstamped_colour[1] / max(1, unstamped_colour[0]):.0%};"
        f" 'found' on any unstamped page: {unstamped_colour[2]}"
    )
    pages, not_found = unstamped_all
    print(
        "seal_not_found on all colour unstamped pages (red title, emblem, pen circle included):"
        f" {not_found}/{pages} = {not_found / max(1, pages):.0%}"
    )
    print(f"seconds per page: {elapsed / len(all_cases):.3f} ({len(all_cases)} pages)")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "big.pdf")
        size = big_pdf(path)
        seconds, rss, inspected = _rss(args.old, path)
        print(
            f"30 MB scan PDF ({size / 1e6:.1f} MB, 11 pages at 300 dpi): {seconds:.2f} s,"
            f" {inspected} pages inspected ({seconds / max(1, int(inspected)):.2f} s per page),"
            f" peak RSS {rss:.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
