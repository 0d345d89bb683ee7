"""The branch roster (支部名册): every party branch of every sub-committee, from staff's workbook.

The roster is staff configuration (``[roster] branches = "branches.xlsx"``), not mail, so a bad
file raises ``RosterError`` with a one-line message instead of becoming a finding. Its columns:
分党委, 党支部, 类型 (教工/学生), 毕业年级 (是/否), 样板支部 (是/否); synonyms and a title row
above the header are accepted. With it the rules in
``parsers.checks.table`` check a results table for coverage (``coverage_incomplete``),
graduating-year branches (``graduating_branch_listed``) and model branches not graded 最佳
(``model_branch_not_best``), on the rows ``match_rows`` matched.

Names are matched loosely (white space, full-width forms, 中共, 党支部/支部, 1/一) and a table
row counts for a roster branch only when the match is unambiguous: a false correction request
is worse than a missed one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .table import units_match
from .workbook import WorkbookError, load_sheets

_COLUMNS = {
    "unit": (
        "分党委",
        "分党委（直属党总支）",
        "分党委(直属党总支)",
        "单位",
        "所属分党委",
        "所属单位",
        "二级党组织",
        "党委（党总支）",
    ),
    "branch": ("党支部", "党支部名称", "支部名称", "支部"),
    "type": ("类型", "支部类型"),
    "graduating": ("毕业年级", "是否毕业年级", "毕业班", "是否毕业班", "毕业年级支部"),
    "model": ("样板支部", "是否样板支部", "样板党支部", "是否样板党支部"),
}
_REQUIRED = ("unit", "branch")
_YES = {"是", "y", "yes", "true", "1", "√", "✓", "✔", "对"}
_NO = {"", "否", "n", "no", "false", "0", "×", "无", "-", "—"}
_DIGITS = {str(i): c for i, c in enumerate("〇一二三四五六七八九")}


class RosterError(Exception):
    """The roster file cannot be used; the message is one line, in Chinese and English."""


@dataclass(frozen=True)
class Branch:
    """One branch of the roster."""

    unit: str
    name: str
    kind: str = ""  # 教工 or 学生 (as written)
    graduating: bool = False
    model: bool = False


@dataclass(frozen=True)
class Roster:
    """All branches of the roster, answering the branches of one unit."""

    branches: tuple[Branch, ...]

    @property
    def units(self) -> list[str]:
        """The unit names of the roster, in the order first seen."""
        return list(dict.fromkeys(b.unit for b in self.branches))

    def unit_for(self, name: str | None) -> str | None:
        """The roster's unit for ``name`` (exact, then loose match), None when none or ambiguous."""
        if not name:
            return None
        units = self.units
        wanted = _key(name)
        exact = [u for u in units if _key(u) == wanted]
        if len(exact) == 1:
            return exact[0]
        loose = [u for u in units if units_match(u, name)]
        return loose[0] if len(loose) == 1 else None

    def branches_of(self, unit: str | None) -> list[Branch]:
        """The branches of the unit named ``unit`` (loosely matched); [] when it is not found."""
        found = self.unit_for(unit)
        return [b for b in self.branches if b.unit == found] if found else []


def load_roster(data: bytes) -> Roster:
    """Read the roster workbook (.xlsx or .xls); raises RosterError when it cannot be used."""
    try:
        sheets = load_sheets(data)
    except WorkbookError as exc:
        raise RosterError(
            f"支部名册无法读取（{exc.code}）/ branch roster cannot be read ({exc})"
        ) from exc
    for rows in sheets:
        header = _header(rows)
        if header is not None:
            index, columns = header
            branches = _branches(rows[index + 1 :], columns)
            if not branches:
                raise RosterError("支部名册中没有党支部 / the branch roster lists no branch")
            return Roster(tuple(branches))
    raise RosterError(
        "支部名册缺少“分党委”“党支部”列 / the branch roster lacks the columns 分党委 and 党支部"
    )


def _cell(value) -> str:
    """A cell as trimmed text without inner white space."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", "", str(value))


def _header(rows: list[tuple]) -> tuple[int, dict[str, int]] | None:
    """The header row (within the first 20) holding at least the unit and branch columns."""
    for index, row in enumerate(rows[:20]):
        columns: dict[str, int] = {}
        for col, value in enumerate(row):
            text = _cell(value)
            for key, names in _COLUMNS.items():
                if text in names and key not in columns:
                    columns[key] = col
        if all(key in columns for key in _REQUIRED):
            return index, columns
    return None


def _flag(value, row: int, column: str) -> bool:
    """是/否 (and the usual spellings) as a bool; anything else is an error in staff's file."""
    text = _cell(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise RosterError(
        f"支部名册第 {row} 行“{column}”应填“是”或“否”，而不是“{text}” / "
        f"roster row {row}: {column} must be 是 or 否"
    )


def _branches(rows: list[tuple], columns: dict[str, int]) -> list[Branch]:
    """The branch rows under the header; blank rows skipped, a blank unit repeats the one above."""
    branches: list[Branch] = []
    unit = ""

    def get(row: tuple, key: str):
        col = columns.get(key)
        return row[col] if col is not None and col < len(row) else None

    for number, row in enumerate(rows, start=1):
        unit = _cell(get(row, "unit")) or unit  # merged cells: the unit written once for its block
        name = _cell(get(row, "branch"))
        if not name:
            continue
        if not unit:
            raise RosterError(
                f"支部名册中“{name}”没有所属分党委 / roster branch {name} has no unit"
            )
        branches.append(
            Branch(
                unit=unit,
                name=name,
                kind=_cell(get(row, "type")),
                graduating=_flag(get(row, "graduating"), number, "毕业年级"),
                model=_flag(get(row, "model"), number, "样板支部"),
            )
        )
    return branches


def _key(name: str) -> str:
    """A name reduced for comparison: NFKC, no spaces or brackets, 中共 and 党 dropped, 1 → 一."""
    text = unicodedata.normalize("NFKC", name or "")
    text = re.sub(r"[\s()（）【】\[\]“”\"'《》·]", "", text)
    text = re.sub(r"^(中国共产党|中共)", "", text)
    text = text.replace("委员会", "委").replace("党支部", "支部")
    text = re.sub(r"\d+", lambda m: _numeral(m.group(0)), text)
    return text


def _numeral(digits: str) -> str:
    """1..99 as Chinese numerals (as branch names write them); longer numbers kept."""
    value = int(digits)
    if not 0 < value < 100:
        return digits
    tens, ones = divmod(value, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[str(tens)] + "十")
    return head + (_DIGITS[str(ones)] if ones else "")


def _matches(row_name: str, branches: list[Branch]) -> list[Branch]:
    """The roster branches a table row names: exact key first, else one name ending the other."""
    key = _key(row_name)
    if not key:
        return []
    exact = [b for b in branches if _key(b.name) == key]
    if exact:
        return exact
    return [
        b
        for b in branches
        if len(min(key, _key(b.name), key=len)) >= 4
        and (key.endswith(_key(b.name)) or _key(b.name).endswith(key))
    ]


@dataclass(frozen=True)
class RosterMatch:
    """A table's rows against the roster's branches of one unit: each row matched to exactly one
    branch, and the non-graduating branches no row covers."""

    unit: str
    expected: int
    matched: tuple[tuple[dict, Branch], ...]
    missing: tuple[str, ...]


def match_rows(roster: Roster, rows: list[dict], unit: str | None) -> RosterMatch | None:
    """Match a table's normalised ``rows`` to the roster branches of ``unit`` (None when the
    roster does not know the unit). A row matching no branch, or several, is left out: say nothing
    rather than something wrong."""
    branches = roster.branches_of(unit)
    if not branches:
        return None
    covered: set[Branch] = set()
    matched = []
    for row in rows:
        found = _matches(row.get("branch") or "", branches)
        covered.update(found)
        if len(found) == 1:
            matched.append((row, found[0]))
    expected = [b for b in branches if not b.graduating]
    missing = tuple(b.name for b in expected if b not in covered)
    return RosterMatch(branches[0].unit, len(expected), tuple(matched), missing)
