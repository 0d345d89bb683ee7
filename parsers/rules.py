"""A campaign's rules: the notice's numbers and the items it asks for (``[rules]``, ``[[items]]``).

The defaults are the 2022 notice. Next year's campaign changes them in its configuration, and
every check, receipt, reminder and report reads them from here, never from a constant of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .vocabulary import ITEM_KEYS, ITEM_LABELS, ITEM_SHORT_LABELS


@dataclass(frozen=True)
class ItemSetting:
    """One of the four items as this campaign names it, and whether units must send it."""

    key: str
    label: str
    short_label: str
    required: bool = True


def default_items() -> tuple[ItemSetting, ...]:
    """The four items with their standard labels, all required."""
    return tuple(ItemSetting(key, ITEM_LABELS[key], ITEM_SHORT_LABELS[key]) for key in ITEM_KEYS)


@dataclass(frozen=True)
class CampaignRules:
    """The numbers the checks judge by, and the campaign's items (in ``ITEM_KEYS`` order)."""

    basic_max_zi: int = 1000
    cases: tuple[int, int] = (1, 2)
    case_zi: tuple[int, int] = (300, 500)
    photos_per_case: tuple[int, int] = (2, 3)
    grades: tuple[str, ...] = ("最佳", "优秀", "培育")
    best_share: float = 0.30
    items: tuple[ItemSetting, ...] = field(default_factory=default_items)

    @property
    def best_grade(self) -> str:
        """The top grade, whose share is limited (最佳)."""
        return self.grades[0]

    def best_limit(self, plans: int) -> int:
        """round-half-up(best_share × plans), at least 1: the most top-graded plans allowed."""
        exact = Decimal(str(self.best_share)) * plans
        return max(1, int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))

    def item(self, key: str) -> ItemSetting:
        """The setting of one item key."""
        return next(item for item in self.items if item.key == key)

    def label(self, key: str) -> str:
        """The Chinese label of an item in this campaign."""
        return self.item(key).label

    def short_label(self, key: str) -> str:
        """The short Chinese label (a table column) of an item in this campaign."""
        return self.item(key).short_label

    @property
    def required_keys(self) -> tuple[str, ...]:
        """The items every unit must send."""
        return tuple(item.key for item in self.items if item.required)

    @property
    def labels(self) -> dict[str, str]:
        """Item key -> label, for templates and exports."""
        return {item.key: item.label for item in self.items}


DEFAULT_RULES = CampaignRules()
