"""The work summary (工作总结): its 基本情况 part, its featured cases, their photos and captions.

``parsers.summary_read`` turns a .docx, a .doc (through LibreOffice) or a text PDF into one
list of blocks in document order (a paragraph or a PDF line, with
the photos anchored in it), and the same rules find the parts in that list. The rules are
conservative: a false correction request is worse than a missed one, so when the structure is
unclear the length and photo checks are left out rather than guessed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from .failures import log_failure
from .findings import Finding
from .summary_read import Block, Unreadable, read_blocks
from .wordcount import count_zi

log = logging.getLogger(__name__)
_NUM = "一二三四五六七八九十"
_MARKER = re.compile(
    r"^\s*(?:第[一二三四五六七八九十\d]+部分|[一二三四五六七八九十]+\s*[、.．]|"
    r"[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|\d+\s*[、.．](?!\d))\s*"
)
_TOP_MARKER = re.compile(
    r"^\s*(?:第([一二三四五六七八九十\d]+)部分|([一二三四五六七八九十]+)\s*[、.．])"
)
_CASE = re.compile(
    r"^(?:特色|典型)?案例\s*([一二三四五六七八九十\d]+)\s*(?:[：:、.．\-—]|\s|$)\s*(.*)$"
)
_CASES_SECTION = re.compile(r"^(?:特色|典型)案例")
_CAPTION = re.compile(r"^\s*(?:[（(]?图\s*[\d一二三四五六七八九十]|图[：:\s为]|照片)")
_CAPTION_MARKS = re.compile(r"图\s*\d+")
_CAPTION_RANGE = re.compile(r"图\s*(\d+)\s*[-－—–~～至到]\s*(\d+)")
_SIGN_OFF = re.compile(
    r"(\d{4}|[〇零一二]{4})\s*年.{1,3}月.{1,3}日$|(分党委|党总支|党委|总支|委员会)(（盖章）)?$"
)


def parse_summary(filename: str, data: bytes) -> Finding:
    """Read a summary (.docx, .doc or text .pdf): its title, unit, basic part and cases (facts only;
    the rules in ``parsers.checks.summary`` judge them)."""
    finding = Finding(filename=filename, kind="summary", size=len(data), data=data)
    try:
        blocks, source = read_blocks(data)
    except Unreadable as exc:
        return finding.refuse(str(exc) or "unreadable", filename=filename)
    except Exception:  # noqa: BLE001 - any failure of a library on a bad file is "unreadable"
        log_failure("reading summary", filename, data)
        return finding.refuse("unreadable", filename=filename)
    finding.facts.update(analyse(blocks), format=source)
    return finding


# ---------------------------------------------------------------- structure


def _bare(text: str) -> str:
    """The text without its leading numbering (一、/（一）/1./第一部分)."""
    return _MARKER.sub("", text, count=1).strip()


def _heading_like(block: Block, limit: int = 30) -> bool:
    """Short, without a sentence end: could be a heading."""
    return 0 < block.chars <= limit and not block.text.endswith(("。", "！", "？", "；"))


def _top_ordinal(block: Block) -> int | None:
    """The ordinal of a top-level heading (一、 or 第一部分), None for other blocks."""
    if not _heading_like(block, 25):
        return None
    match = _TOP_MARKER.match(block.text)
    if not match:
        return None
    raw = match.group(1) or match.group(2)
    if raw.isdigit():
        return int(raw)
    if raw == "十":
        return 10
    if raw.startswith("十"):
        return 10 + _NUM.index(raw[1]) + 1
    return _NUM.index(raw[0]) + 1 if len(raw) == 1 else None


def _is_basic_heading(block: Block) -> bool:
    """A heading of the 基本情况 part (whatever its numbering), perhaps with text after a colon."""
    bare = _bare(block.text)
    head = re.split(r"[：:]", bare, maxsplit=1)[0]
    return (
        "基本情况" in head
        and count_zi(head) <= 20
        and (
            bare.startswith(("基本情况", "工作基本情况"))
            or bool(_MARKER.match(block.text))
            or _heading_like(block, 20)
        )
    )


def _case_heading(block: Block) -> str | None:
    """The title of a case heading (案例一：…, 特色案例1 …), None for other blocks."""
    if block.chars > 60 or block.photos:
        return None
    match = _CASE.match(_bare(block.text))
    if not match:
        return None
    return match.group(2).strip() or _bare(block.text)


def _is_cases_section(block: Block) -> bool:
    """The heading of the 特色案例 part itself."""
    return (
        _heading_like(block, 20)
        and bool(_CASES_SECTION.match(_bare(block.text)))
        and _case_heading(block) is None
    )


def _is_caption(block: Block, after_photo: bool) -> bool:
    """A photo caption: 图1…/照片…, a Caption/题注 style, or a short centred line under a photo."""
    if not block.text:
        return False
    style = block.style.lower()
    if "caption" in style or "题注" in style or _CAPTION.match(block.text):
        return True
    return (
        after_photo
        and block.centered
        and _heading_like(block, 40)
        and not block.style.lower().startswith(("heading", "title"))
    )


@dataclass
class _Part:
    """A stretch of blocks: the basic part, or one case."""

    title: str
    blocks: list[Block]
    ordinal: int | None = None


def _split_parts(blocks: list[Block]):
    """Find the basic part, the cases section and the cases: (basic, section, cases)."""
    basic: _Part | None = None
    section: _Part | None = None
    cases: list[_Part] = []
    current: _Part | None = None
    for block in blocks:
        ordinal = _top_ordinal(block)
        title = _case_heading(block)
        if basic is None and _is_basic_heading(block):
            basic = current = _Part("基本情况", [], ordinal)
            rest = re.split(r"[：:]", _bare(block.text), maxsplit=1)
            if len(rest) == 2 and rest[1].strip():
                basic.blocks.append(Block(text=rest[1].strip()))
            continue
        if title is not None:
            current = _Part(title, [])
            cases.append(current)
            continue
        if section is None and _is_cases_section(block):
            section = current = _Part(_bare(block.text), [], ordinal)
            continue
        opener = section or basic
        if (
            ordinal is not None
            and opener is not None
            and opener.ordinal is not None
            and ordinal > opener.ordinal
        ):
            current = None  # a later top-level part (三、下一步打算…) ends the current one
            continue
        if current is not None:
            current.blocks.append(block)
    return basic, section, cases


def _is_sign_off(block: Block) -> bool:
    """A closing line: the unit name (with 盖章) or the date, short, and no caption."""
    return (
        bool(block.text)
        and block.chars <= 30
        and bool(_SIGN_OFF.search(block.text))
        and not _CAPTION.match(block.text)
    )


def _blank(block: Block) -> bool:
    return not block.text and not block.photos


def _drop_pictures(block: Block, keep) -> Block:
    """The block without the pictures ``keep`` rejects (a copy; the photo count follows)."""
    if not block.pictures or len(block.pictures) != block.photos:
        return block
    kept = [p for p in block.pictures if keep(p)]
    if len(kept) == len(block.pictures):
        return block
    return Block(
        text=block.text,
        photos=len(kept),
        style=block.style,
        centered=block.centered,
        pictures=kept,
        table=block.table,
        row=block.row,
    )


def _seal_picture_block(block: Block, near_sign_off: bool) -> bool:
    """A block of pictures only, each of them an electronic seal: red stamp pixels, or (next to
    the closing lines) seal-sized and square."""
    if block.text or not block.photos or len(block.pictures) != block.photos:
        return False
    return all(p.stamp or (near_sign_off and p.small_square) for p in block.pictures)


def _trim_sign_off(part: _Part) -> None:
    """Drop the closing lines at the end of a part: the unit name and date, and the pictures among
    or after them (an electronic seal is no case photo); a seal-like picture just above them too."""
    blocks = part.blocks
    start = len(blocks)
    while start > 0 and (
        _blank(blocks[start - 1])
        or _is_sign_off(blocks[start - 1])
        or (blocks[start - 1].photos and not blocks[start - 1].text)
    ):
        start -= 1
    zone = blocks[start:]
    sign_off = next((i for i, b in enumerate(zone) if _is_sign_off(b)), None)
    keep = sign_off if sign_off is not None else len(zone)
    while keep > 0 and (
        _blank(zone[keep - 1]) or _seal_picture_block(zone[keep - 1], sign_off is not None)
    ):
        keep -= 1
    part.blocks = blocks[: start + keep]
    if part.blocks and (sign_off is not None or keep < len(zone)):
        # a stamp anchored in the last text line above the closing lines is no photo either
        part.blocks[-1] = _drop_pictures(part.blocks[-1], lambda p: not p.stamp)


def _fallback_cases(section: _Part) -> list[_Part]:
    """Cases headed without the word 案例: numbered or heading-styled short lines in the section."""
    cases: list[_Part] = []
    for block in section.blocks:
        styled = block.style.lower().startswith(("heading", "标题"))
        if (styled or _MARKER.match(block.text)) and _heading_like(block, 40) and not block.photos:
            cases.append(_Part(_bare(block.text), []))
        elif cases:
            cases[-1].blocks.append(block)
    return cases


def _caption_count(text: str) -> int:
    """How many photos a caption names: 图1-3 names three, 图1、图2 two, any other one."""
    ranged = sum(min(10, max(1, int(b) - int(a) + 1)) for a, b in _CAPTION_RANGE.findall(text))
    if ranged:
        return ranged + len(_CAPTION_MARKS.findall(_CAPTION_RANGE.sub("", text)))
    return max(1, len(_CAPTION_MARKS.findall(text)))


def _run_captions(items: list[list]) -> int:
    """The photos the captions of a run cover. ``items`` are ["g", n] (a group of n pictures
    side by side, in one paragraph or one table row) and ["c", n] (a caption naming n); a caption
    right under (or right above) a group covers the whole group."""
    covered = 0
    for i, (kind, count) in enumerate(items):
        if kind != "c":
            continue
        before = items[i - 1] if i > 0 else None
        after = items[i + 1] if i + 1 < len(items) else None
        if before is not None and before[0] == "g":
            count = max(count, before[1])
        elif after is not None and after[0] == "g":
            count = max(count, after[1])
        covered += count
    return covered


def _case_facts(part: _Part) -> tuple[dict, list[int]]:
    """Length, photos and captions of one case; also the 1-based numbers of uncaptioned photos."""
    chars = photos = captions = 0
    missing: list[int] = []
    run: list[list] = []
    group_row: int | None = None
    previous_photo = False
    photo_tables = {b.table for b in part.blocks if b.photos and b.table is not None}

    def close_run() -> None:
        """Match the photos of the run just ended with its captions."""
        nonlocal captions, group_row
        run_photos = sum(n for kind, n in run if kind == "g")
        done = min(run_photos, _run_captions(run))
        captions += done
        start = photos - run_photos
        missing.extend(range(start + done + 1, start + run_photos + 1))
        run.clear()
        group_row = None

    texts = []
    for block in part.blocks:
        if not block.text and not block.photos:
            continue
        if block.photos:
            photos += block.photos
            if run and run[-1][0] == "g" and block.row is not None and block.row == group_row:
                run[-1][1] += block.photos  # side by side in one table row: one group
            else:
                run.append(["g", block.photos])
            group_row = block.row
            if block.text and _is_caption(block, False):
                run.append(["c", _caption_count(block.text)])
            elif block.text:
                chars += block.chars
                texts.append(block.text)
            previous_photo = True
            continue
        in_photo_table = (
            block.table is not None and block.table in photo_tables and _heading_like(block, 40)
        )
        if _is_caption(block, previous_photo) or in_photo_table:
            run.append(["c", _caption_count(block.text)])
        else:
            close_run()
            chars += block.chars
            texts.append(block.text)
        previous_photo = False
    close_run()
    facts = {
        "title": part.title,
        "chars": chars,
        "photos": photos,
        "captions": captions,
        "text": "\n".join(texts),
    }
    return facts, missing


def _title_and_unit(blocks: list[Block]) -> tuple[str | None, str | None]:
    """The document title (the first lines holding 总结) and the unit it names."""
    head = [b for b in blocks[:8] if b.text]
    title = next(
        (b.text for b in head if "总结" in b.text and b.chars <= 80), head[0].text if head else None
    )
    if not title:
        return None, None
    name = re.sub(r"^[《〈]|[》〉]$", "", title.strip())
    name = re.sub(r"^中共", "", name)
    name = re.sub(r"^\s*\d{4}\s*年度?", "", name)
    unit = None
    if "开展" in name:
        unit = name.split("开展", 1)[0]
    else:
        match = re.match(r"(.+?(?:分党委|党总支|直属党支部|党委|总支))", name)
        unit = match.group(1) if match else None
    unit = re.sub(r"\s*\d{4}\s*年度?$", "", unit or "").strip() or None
    return title, unit


def analyse(blocks: list[Block]) -> dict:
    """The facts of a summary from its blocks in document order: the title and unit, the 字 of
    the basic part (None when not found), whether a 特色案例 section and case-like headings were
    seen, and each case's 字, photos, captions and uncaptioned photos (1-based)."""
    title, unit = _title_and_unit(blocks)
    basic, section, cases = _split_parts(blocks)
    for part in (basic, section, *cases):
        if part is not None:
            _trim_sign_off(part)
    structure = "clear"
    if not cases and section is not None:
        cases = _fallback_cases(section)
        if not cases and any(b.text or b.photos for b in section.blocks):
            cases, structure = [section], "unclear"
    facts: dict = {
        "title": title,
        "unit": unit,
        "basic_chars": None,
        "cases": [],
        "cases_structure": structure,
        "section_found": section is not None,
        "case_words": any("案例" in b.text for b in blocks if _heading_like(b, 40)),
    }
    if basic is not None:
        facts["basic_chars"] = sum(b.chars for b in basic.blocks if not _is_caption(b, False))
    for part in cases:
        case, uncaptioned = _case_facts(part)
        facts["cases"].append({**case, "uncaptioned": uncaptioned})
    return facts
