"""Where passwords may come from: the environment, or a file only its owner can read.

A password written into the config itself is accepted only when the config file is private
(no group or other permissions), since the config is otherwise shared and copied around.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any


class SecretError(Exception):
    """A password that cannot be read safely; the message names the key."""


class SecretMissing(SecretError):
    """A password that is not there (its variable unset, its file absent): a command that only reads
    runs without it; one that connects stops with this message."""


def is_private(path: Path) -> bool:
    """True when ``path`` belongs to this user and neither group nor others may read it."""
    info = path.stat()
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def read_password(
    table: dict[str, Any], section: str, *, base_dir: Path, config_private: bool
) -> str:
    """The password of ``[section]``: ``password_env``, ``password_file`` or (private config only)
    ``password``."""
    if "password_env" in table:
        value = os.environ.get(str(table["password_env"]))
        if value is None:
            raise SecretMissing(
                f"环境变量 {table['password_env']} 未设置 / environment variable "
                f"{table['password_env']} is not set ({section}.password_env)"
            )
        return value
    if "password_file" in table:
        path = Path(str(table["password_file"])).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if not path.exists():
            raise SecretMissing(f"密码文件不存在 / {section}.password_file does not exist: {path}")
        try:
            if not is_private(path):
                raise SecretError(
                    f"密码文件必须仅属主可读（chmod 600）/ {section}.password_file must be "
                    f"readable by its owner only (chmod 600): {path}"
                )
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecretError(
                f"无法读取密码文件 / cannot read {section}.password_file {path}: {exc.strerror}"
            ) from None
    if "password" in table:
        if not config_private:
            raise SecretError(
                f"配置文件中写有密码时，配置文件必须仅属主可读（chmod 600），或改用 password_env / "
                f"{section}.password in a config readable by others: chmod 600 it or use "
                f"{section}.password_env"
            )
        return str(table["password"])
    raise SecretError(
        f"缺少配置项 / missing config key: {section}.password_env (或 {section}.password_file)"
    )
