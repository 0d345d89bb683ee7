"""The results table (立项结果汇总表): its header, its rows and the unit it names.

The workbook (.xlsx/.xlsm, or BIFF .xls/.et, told by its bytes) is read by ``parsers.workbook``
(its values, merged cells and hidden columns from one opening of the file); the header row is
found by its column names under the title and 填报单位 rows, so a table that moved a row or
renamed a column a little is still read. The notice's own template has a two-row
header with merged cells (党支部 over 名称/类型, 立项方案 over 名称/等级): a column's name is then
the union of its cells in the two header rows (党支部 + 名称 = 党支部名称). A hidden column is
still data, but a hidden column naming the same column as a visible one (an old copy left in
the sheet) gives way to the visible one.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime

from .failures import log_failure
from .findings import Finding
from .rules import DEFAULT_RULES
from .workbook import MAX_COLS, MAX_ROWS, Range, WorkbookError, read_book, readable_bytes

log = logging.getLogger(__name__)
REQUIRED = ("branch", "plan", "grade")
COLUMN_LABELS = {"branch": "党支部名称", "plan": "立项方案名称", "grade": "立项等级"}

# Exact header names first, then words a header may contain; checked in this order so that
# 支部书记 is the secretary and not the branch.
_EXACT = {
    "序号": "index",
    "党支部名称": "branch",
    "支部名称": "branch",
    "党支部": "branch",
    "支部": "branch",
    "立项方案名称": "plan",
    "方案名称": "plan",
    "项目名称": "plan",
    "活动方案名称": "plan",
    "方案": "plan",
    "立项等级": "grade",
    "评审等级": "grade",
    "等级": "grade",
    "立项结果": "grade",
    "评定等级": "grade",
    "支部类型": "type",
    "类型": "type",
    "支部书记": "secretary",
    "书记": "secretary",
    "负责人": "secretary",
    "经费预算": "budget",
    "经费预算（元）": "budget",
    "经费预算(元)": "budget",
    "预算": "budget",
}
_CONTAINS = (
    ("书记", "secretary"),
    ("负责人", "secretary"),
    ("类型", "type"),
    ("经费", "budget"),
    ("预算", "budget"),
    ("等级", "grade"),
    ("方案名称", "plan"),
    ("项目名称", "plan"),
    ("支部名称", "branch"),
)
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９．", "0123456789.")
_NOTE = re.compile(
    r"^(备注|说明|注[：:]|注\s*\d|填表人|填报人|联系人|联系电话|审核人|负责人签字|合计|总计|小计)"
)
# Closing lines under a table: signatures, seals, who made it and when, the approval sentence.
_CLOSING = re.compile(
    r"^(制表|填表|填报|审核|审批|审定|复核|签字|签名|盖章|日期|时间|以上|本表|此表|经分党委|经党总支|经.{0,8}会议)"
    r"|签字|签名|签章|盖章|公章|审议通过|研究通过|会议通过|(填表|填报|报送|制表)(日期|时间)"
)
_UNIT = re.compile(r"填报单位\s*(?:[（(]\s*(?:盖章|公章)\s*[）)])?\s*[：:]?\s*(.*)")
_UNIT_END = re.compile(r"\s*(填报|填表|报送)?日期.*$|\s*[（(]\s*(盖章|公章)\s*[）)]\s*$")


def parse_table(
    filename: str, data: bytes, *, grades: tuple[str, ...] = DEFAULT_RULES.grades
) -> Finding:
    """Read a results table: its header, its plan rows and the unit it names (facts only; the
    rules in ``parsers.checks.table`` judge them). ``grades`` are the campaign's, which tell a
    plan row from a closing line."""
    finding = Finding(filename=filename, kind="table", size=len(data), data=data)
    try:
        readable = readable_bytes(data)  # an .xls xlrd cannot read: LibreOffice's .xlsx of it
        book = read_book(readable)  # values, merges and hidden columns: one opening
    except WorkbookError as exc:
        return finding.refuse(exc.code, filename=filename)
    except Exception:  # noqa: BLE001 - a library failing on a bad file means "unreadable"
        log_failure("reading table", filename, data)
        return finding.refuse("unreadable", filename=filename)
    sheets, filled = fill_merged(book.sheets, book.merges)
    finding.facts.update(analyse(sheets, filled=filled, grades=grades, hidden=book.hidden))
    return finding


def fill_merged(
    sheets: list[list[tuple]], merges: list[list[Range]] | None
) -> tuple[list[list[tuple]], list[set[tuple[int, int]]]]:
    """The sheets with every cell of a merged range holding the range's top-left value, and per
    sheet the (row, col) cells so filled (all cells of a range but its top-left one)."""
    if not merges or len(merges) != len(sheets):
        return sheets, [set() for _ in sheets]
    result, filled_all = [], []
    for rows, ranges in zip(sheets, merges, strict=True):
        grid = [list(row) for row in rows]
        filled: set[tuple[int, int]] = set()
        for r0, c0, r1, c1 in ranges:
            if not (0 <= r0 < len(grid)) or c0 < 0 or c0 >= len(grid[r0]):
                continue
            value = grid[r0][c0]
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            for r in range(r0, min(r1, len(grid) - 1, MAX_ROWS - 1) + 1):
                for c in range(c0, min(c1, len(grid[r]) - 1, MAX_COLS - 1) + 1):
                    if (r, c) != (r0, c0):
                        grid[r][c] = value
                        filled.add((r, c))
        result.append([tuple(row) for row in grid])
        filled_all.append(filled)
    return result, filled_all


def _text(value) -> str:
    """A cell value as trimmed text ('' for empty)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", str(value)).strip()


def _column_key(value) -> str | None:
    """Which column a header cell names (branch, plan, grade, ...), or None."""
    text = re.sub(r"\s+", "", _text(value))
    if not text:
        return None
    if text in _EXACT:
        return _EXACT[text]
    bare = re.sub(r"[（(].*?[）)]", "", text)
    if bare in _EXACT:
        return _EXACT[bare]
    for word, key in _CONTAINS:
        if word in text:
            return key
    return None


def _header_columns(keys: list[str | None], hidden: set[int]) -> dict[str, int]:
    """The column map of a header: each key at its first visible column (a hidden column only
    when no visible column names that key)."""
    columns: dict[str, int] = {}
    for col, key in enumerate(keys):
        if key and (key not in columns or (columns[key] in hidden and col not in hidden)):
            columns[key] = col
    return columns


def _two_row_key(upper, lower) -> str | None:
    """The column a two-row header names: the union of its two cells (党支部 + 名称), else the
    lower cell, else the upper one."""
    top, bottom = re.sub(r"\s+", "", _text(upper)), re.sub(r"\s+", "", _text(lower))
    if not top or not bottom or top == bottom:
        return _column_key(top or bottom)
    return _column_key(top + bottom) or _column_key(bottom) or _column_key(top)


def _find_header(
    rows: list[tuple], hidden: set[int] | None = None
) -> tuple[int, dict[str, int], int] | None:
    """The header in the first 20 rows: its first row's index, its column map and its height
    (1, or 2 for a two-row header with merged cells), or None."""
    hidden = hidden or set()
    head = rows[:21]
    singles = [_header_columns([_column_key(v) for v in row], hidden) for row in head]
    hits = [len(set(columns) - {"index"}) for columns in singles]
    best: tuple[int, dict[str, int], int] | None = None
    best_hits = 1
    for index, row in enumerate(head[:20]):
        if hits[index] > best_hits:
            best, best_hits = (index, singles[index], 1), hits[index]
        if index + 1 < len(head):
            below = head[index + 1]
            keys = [
                _two_row_key(row[c] if c < len(row) else None, below[c] if c < len(below) else None)
                for c in range(max(len(row), len(below)))
            ]
            columns = _header_columns(keys, hidden)
            pair = len(set(columns) - {"index"})
            # two rows only when together they name more than either alone (a title or 填报单位
            # row above a full header stays out of it)
            if pair > max(hits[index], hits[index + 1]) and pair > best_hits:
                best, best_hits = (index, columns, 2), pair
    return best


def _named_unit(rows: list[tuple]) -> str | None:
    """The value of the 填报单位 cell above the header (or of the next cell in its row)."""
    for row in rows:
        cells = [_text(v) for v in row]
        for col, text in enumerate(cells):
            match = _UNIT.search(text)
            if not match:
                continue
            value = _UNIT_END.sub("", match.group(1)).strip()
            if not value:
                value = next((_UNIT_END.sub("", c).strip() for c in cells[col + 1 :] if c), "")
            if value and "日期" not in value:
                return value
    return None


def normalise_grade(value) -> str:
    """最佳方案 → 最佳, 优秀等级 → 优秀, white space removed; other text kept as written."""
    text = re.sub(r"\s+", "", _text(value))
    text = re.sub(r"(方案|项目|等级|级)$", "", text)
    return text


def _core_unit(name: str) -> str:
    """A unit name without white space, 中共 and the party-body suffix, for comparison."""
    core = re.sub(r"\s+", "", name)
    core = re.sub(r"^(中国共产党|中共)", "", core)
    core = core.replace("委员会", "委")
    return re.sub(r"(直属党总支|直属党支部|分党委|党总支|党委|总支)$", "", core) or core


def _is_subsequence(short: str, long: str) -> bool:
    """True when the characters of ``short`` appear in ``long`` in order
    (机械学院 in 机械工程…学院)."""
    it = iter(long)
    return all(ch in it for ch in short)


def units_match(named: str, expected: str) -> bool:
    """Whether a table's 填报单位 can be the expected unit (conservative: abbreviations match)."""
    a, b = _core_unit(named), _core_unit(expected)
    if not a or not b or a in b or b in a or named in expected or expected in named:
        return True
    return _is_subsequence(a, b) or _is_subsequence(b, a)


def _json_value(value):
    """A cell value fit for JSON facts."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def _number(value):
    """A number stored as text ("3,000", "3000元", "３０００") as a number; other values
    unchanged."""
    if not isinstance(value, str):
        return int(value) if isinstance(value, float) and value.is_integer() else value
    text = value.translate(_FULL_WIDTH_DIGITS).replace(",", "").replace("，", "").strip()
    text = re.sub(r"\s*元$", "", text)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return value


def _is_note_row(
    cells: list[str], branch: str, plan: str, grade: str, grades: tuple[str, ...]
) -> bool:
    """A line under (or between) the plans that is no plan: a note, a signature, a seal or date
    line, the approval sentence, or one text merged across the row."""
    texts = [c for c in cells if c]
    first = re.sub(r"\s+", "", texts[0]) if texts else ""
    if not first or _NOTE.match(first):
        return True
    if not plan and not grade:
        return (
            True  # no plan and no grade: nothing to check (a closing line, or a bare branch name)
        )
    if len(texts) >= 2 and len(set(texts)) == 1:
        return True  # one text merged across the whole row
    names = sum(
        1 for c in cells if _EXACT.get(re.sub(r"\s+", "", c)) in ("branch", "plan", "grade")
    )
    if names >= 2:
        return True  # the header again (a second header line, or repeated on a new page)
    if grade in grades:
        return False  # a graded plan row, whatever its first cell says
    return bool(_CLOSING.search(first))


def _rows(
    rows: list[tuple], start: int, columns: dict[str, int], grades: tuple[str, ...]
) -> list[dict]:
    """The plan rows under the header: blank rows, notes and closing lines skipped, values
    normalised."""
    result = []
    for number, row in enumerate(rows[start:], start=start + 1):
        cells = [_text(v) for v in row]
        item = {
            key: (row[col] if col < len(row) else None)
            for key, col in columns.items()
            if key != "index"
        }
        branch, plan = _text(item.get("branch")), _text(item.get("plan"))
        if _is_note_row(cells, branch, plan, normalise_grade(item.get("grade")), grades):
            continue
        if not branch and not plan:
            continue
        record = {key: _json_value(item.get(key)) for key in ("type", "secretary", "budget")}
        record["budget"] = _number(record["budget"])
        record.update(
            branch=branch, plan=plan, grade=normalise_grade(item.get("grade")), row=number
        )
        for key in ("type", "secretary"):
            record[key] = _text(record[key]) or None
        result.append(record)
    return result


def analyse(
    sheets: list[list[tuple]],
    *,
    filled: list[set[tuple[int, int]]] | None = None,
    grades: tuple[str, ...] = DEFAULT_RULES.grades,
    hidden: list[set[int]] | None = None,
) -> dict:
    """The facts of a table from its sheets' values: whether a header was found, the required
    columns it lacks, the unit it names and the plan rows.

    ``filled`` (from ``fill_merged``) names the cells that hold a merged range's value: a branch
    cell merged over several plan rows is one branch with several plans (``branch_merged``)."""
    facts: dict = {
        "header_found": False,
        "missing_columns": [],
        "grade_column": False,
        "unit": None,
        "rows": [],
        "plans": 0,
        "best": 0,
    }
    header = None
    rows: list[tuple] = []
    merged: set[tuple[int, int]] = set()
    for number, candidate in enumerate(sheets):
        header = _find_header(
            candidate, hidden[number] if hidden and number < len(hidden) else None
        )
        if header:
            rows = candidate
            merged = filled[number] if filled and number < len(filled) else set()
            break
    if header is None:
        return facts
    index, columns, height = header
    branch_col = columns.get("branch")
    records = _rows(rows, index + height, columns, grades)
    for record in records:
        record["branch_merged"] = (record["row"] - 1, branch_col) in merged
    facts.update(
        header_found=True,
        missing_columns=[COLUMN_LABELS[k] for k in REQUIRED if k not in columns],
        grade_column="grade" in columns,
        unit=_named_unit(rows[:index]),
        rows=records,
        plans=len(records),
        best=sum(1 for r in records if r["grade"] == grades[0]),
    )
    return facts
