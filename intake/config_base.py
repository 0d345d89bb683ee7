"""The pieces every part of the configuration is parsed with: the one error a mistake in the
file raises, and the checks of values that several sections share."""

from __future__ import annotations

from typing import Any


class ConfigError(Exception):
    """A configuration mistake, worded as one line for the person who wrote the file."""


def positive_int(table: dict[str, Any], key: str, default: int, section: str) -> int:
    """``table[key]`` as a positive integer, ``default`` when absent; ``section`` names it."""
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(
            f"无效的配置项 / invalid config key: {section}.{key} "
            "(需要正整数 / expected a positive integer)"
        )
    return value


def list_of_tables(value: Any, section: str, allowed: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """The entries of a ``[[section]]`` list, each with its place (``staff[2]``), keys checked."""
    if not isinstance(value, list):
        raise ConfigError(f"无效的配置项 / invalid config key: {section} (需要 [[{section}]] 列表)")
    entries = []
    for index, entry in enumerate(value, start=1):
        where = f"{section}[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"无效的配置项 / invalid config key: {where}")
        for key in entry:
            if key not in allowed:
                raise ConfigError(f"未知的配置项 / unknown config key: {where}.{key}")
        entries.append((where, entry))
    return entries
