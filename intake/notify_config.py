"""``[[notify]]``: the staff work chats that hear of doubts, corrections, completions, failures
and the digest (``notifier.webhooks``). Each entry names the environment variables that hold
its webhook address (it holds the robot's key) and, for 钉钉 and 飞书's signed variant, its
secret; the values are read only when a notice is sent, so commands that only read need none.
"""

from __future__ import annotations

import re
from typing import Any

from notifier.webhooks import EVENTS, KINDS, SIGNED_KINDS, NotifyTarget

from .config_base import ConfigError, list_of_tables, positive_int

NOTIFY_KEYS = {"name", "kind", "url_env", "secret_env", "events", "max_per_minute"}

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def parse_notify(entries: Any) -> tuple[NotifyTarget, ...]:
    """The validated ``[[notify]]`` entries; a mistake is one ConfigError naming the key."""
    targets, names = [], set()
    for where, entry in list_of_tables(entries, "notify", NOTIFY_KEYS):
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ConfigError(
                f"无效的配置项 / invalid config key: {where}.kind (应为 / expected one of "
                f"{', '.join(KINDS)})"
            )
        url_env = _env_name(entry, "url_env", where, required=True)
        secret_env = _env_name(entry, "secret_env", where)
        if secret_env and kind not in SIGNED_KINDS:
            raise ConfigError(
                f"无效的配置项 / invalid config key: {where}.secret_env "
                f"(仅钉钉、飞书支持加签 / only dingtalk and feishu sign)"
            )
        events = entry.get("events", list(EVENTS))
        if (
            not isinstance(events, list)
            or not events
            or any(e not in EVENTS for e in events)
            or len(set(events)) != len(events)
        ):
            raise ConfigError(
                f"无效的配置项 / invalid config key: {where}.events (应为 / a list of "
                f"{', '.join(EVENTS)})"
            )
        name = entry.get("name", url_env)
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ConfigError(f"无效的配置项 / invalid config key: {where}.name")
        if name in names:
            raise ConfigError(f"重复的通知名称 / notify name listed twice: {where}.name = {name}")
        names.add(name)
        targets.append(
            NotifyTarget(
                name=name,
                kind=kind,
                url_env=url_env,
                events=tuple(events),
                secret_env=secret_env,
                max_per_minute=positive_int(entry, "max_per_minute", 20, where),
            )
        )
    return tuple(targets)


def _env_name(entry: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not ENV_NAME.fullmatch(value):
        raise ConfigError(
            f"无效的配置项 / invalid config key: {where}.{key} "
            f"(应为环境变量名，不是地址 / expected an environment variable's name, not the URL)"
        )
    return value
