"""Loading and validating the TOML configuration into typed settings.

Every mistake a person can make in the file (an unknown key, a deadline without a time zone, a
malformed staff password hash) becomes one ``ConfigError`` line that names the key. A mailbox
password that is not there (its variable unset, its file absent) is no mistake for the commands that
only read: the settings load without it, and a command that connects asks for it
(``ServerSettings.login_password``, ``require_mail_passwords``) and stops with that one line.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from parsers.rules import DEFAULT_RULES, CampaignRules, ItemSetting, default_items
from parsers.vocabulary import ITEM_KEYS

from .config_base import ConfigError, list_of_tables, positive_int
from .notify_config import NOTIFY_KEYS, parse_notify
from .secrets import SecretError, SecretMissing, is_private, read_password
from .web.auth import hash_problem

DEFAULT_MAX_MESSAGE_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ATTACHMENT_BYTES = 30 * 1024 * 1024
SECURITY_MODES = ("ssl", "starttls", "none")
STAFF_ROLES = ("editor", "viewer")
LEGACY_STAFF_NAME = "工作人员"
"""The one editor account an old ``[dashboard] password_hash`` stands for."""


@dataclass(frozen=True)
class ServerSettings:
    """How to reach and log in to an IMAP or SMTP server.

    ``password`` is None when it is not set (``password_missing`` then says which variable or file
    is missing): only connecting needs it, through ``login_password``.
    """

    host: str
    port: int
    security: str
    username: str
    password: str | None = field(repr=False)
    timeout: float = 60.0
    password_missing: str | None = field(default=None, repr=False, compare=False)

    def login_password(self) -> str:
        """The password to log in with; a one-line ``ConfigError`` naming the key when unset."""
        if self.password is None:
            raise ConfigError(self.password_missing or "缺少密码 / no password for the mail server")
        return self.password


@dataclass(frozen=True)
class MailboxSettings(ServerSettings):
    """The department's IMAP mailbox."""

    folder: str = "INBOX"
    batch_size: int = 25

    @property
    def source_key(self) -> str:
        """What the messages of this folder are recorded under: account, server and folder."""
        return f"{self.username}@{self.host}/{self.folder}"


@dataclass(frozen=True)
class SmtpSettings:
    """Where replies go (an SMTP server, or a folder of .eml files: ``outbox_dir``), how fast."""

    sender: str
    server: ServerSettings | None
    outbox_dir: Path | None
    max_per_minute: int = 20
    retry_initial_seconds: int = 60
    retry_max_seconds: int = 3600
    max_reply_age_hours: int = 48


@dataclass(frozen=True)
class ServiceSettings:
    """How ``intake run`` behaves: polling, IDLE, reminders and the staff digest."""

    poll_interval: int = 60
    idle_timeout: int = 1500
    reminders: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1), timedelta(hours=3))
    reminder_grace_hours: int = 12
    after_deadline_notice: timedelta | None = timedelta(hours=1)
    digest_time: time | None = time(8, 0)
    staff: tuple[str, ...] = ()
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)


@dataclass(frozen=True)
class StaffAccount:
    """One dashboard account: ``editor`` may change things, ``viewer`` only reads."""

    name: str
    password_hash: str = field(repr=False)
    role: str = "editor"

    @property
    def can_edit(self) -> bool:
        """Whether this account may post changes (assign, decisions)."""
        return self.role == "editor"


@dataclass(frozen=True)
class SubCommitteeSettings:
    """One sub-committee as the configuration registers it."""

    name: str
    aliases: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """The whole validated configuration."""

    campaign_name: str
    deadline: datetime
    database_url: str
    storage_dir: Path
    smtp: SmtpSettings
    subcommittees: tuple[SubCommitteeSettings, ...]
    mailbox: MailboxSettings | None = None
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    max_replies_per_address_per_day: int = 5
    own_addresses: tuple[str, ...] = ()
    base_dir: Path = Path(".")
    service: ServiceSettings = ServiceSettings()
    roster_path: Path | None = None
    dashboard_password_hash: str | None = field(default=None, repr=False)
    staff_accounts: tuple[StaffAccount, ...] = ()
    authserv_id: str | None = None
    rules: CampaignRules = DEFAULT_RULES
    export_file_name: str = "{unit}-{item}{ext}"
    hold_corrections: bool = False
    dashboard_behind_tls: bool = False
    notify: tuple = ()  # notifier.webhooks.NotifyTarget per [[notify]] (intake.notify_config)


_ALLOWED: dict[str, set[str]] = {
    "": {
        "campaign",
        "mailbox",
        "smtp",
        "database",
        "storage",
        "limits",
        "replies",
        "roster",
        "subcommittees",
        "service",
        "dashboard",
        "security",
        "rules",
        "items",
        "staff",
        "export",
        "notify",
    },
    "notify": NOTIFY_KEYS,
    "export": {"file_name"},
    "staff": {"name", "password_hash", "role"},
    "rules": {"basic_max_zi", "cases", "case_zi", "photos_per_case", "grades", "best_share"},
    "items": {"key", "label", "short_label", "required"},
    "security": {"authserv_id"},
    "service": {
        "poll_interval",
        "idle_timeout",
        "reminders",
        "reminder_grace_hours",
        "after_deadline_notice",
        "digest_time",
        "staff",
        "workers",
    },
    "dashboard": {"password_hash", "behind_tls"},
    "campaign": {"name", "deadline"},
    "mailbox": {
        "host",
        "port",
        "security",
        "username",
        "password",
        "password_env",
        "password_file",
        "folder",
        "batch_size",
        "timeout",
    },
    "smtp": {
        "host",
        "port",
        "security",
        "username",
        "password",
        "password_env",
        "password_file",
        "from",
        "outbox_dir",
        "timeout",
        "max_per_minute",
        "retry_initial_seconds",
        "retry_max_seconds",
        "max_reply_age_hours",
    },
    "database": {"url"},
    "storage": {"dir"},
    "limits": {"max_message_bytes", "max_attachment_bytes"},
    "replies": {"max_per_address_per_day", "hold_corrections"},
    "roster": {"branches"},
    "subcommittees": {"name", "aliases", "emails"},
}


def default_config_path() -> Path:
    """The config file used when ``--config`` is not given."""
    return Path(os.environ.get("INTAKE_CONFIG", "config.toml"))


def load_settings(path: Path) -> Settings:
    """Read and validate the configuration at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"配置文件不存在 / config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"无法读取配置文件 / cannot read config file {path}: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件格式错误 / invalid TOML in {path}: {exc}") from None
    return parse_settings(raw, base_dir=path.resolve().parent, private=is_private(path))


def parse_settings(raw: dict[str, Any], *, base_dir: Path, private: bool = True) -> Settings:
    """Validate an already-parsed TOML document; relative paths are taken from ``base_dir``.

    ``private`` says the document came from a file only its owner can read (passwords allowed).
    """
    _check_keys(raw, "")
    campaign = _table(raw, "campaign", required=True)
    name = _string(campaign, "campaign.name")
    deadline = _deadline(campaign.get("deadline"))

    database = _table(raw, "database")
    database_url = _sqlite_relative(database.get("url", "sqlite:///intake.db"), base_dir)
    storage = _table(raw, "storage")
    storage_dir = _path(storage.get("dir", "data"), base_dir, "storage.dir")

    mailbox = _mailbox(raw["mailbox"], base_dir, private) if "mailbox" in raw else None
    smtp = _smtp(_table(raw, "smtp", required=True), base_dir, private)

    limits = _table(raw, "limits")
    replies = _table(raw, "replies")
    units = _subcommittees(raw.get("subcommittees", []))
    roster = _table(raw, "roster")
    dashboard = _table(raw, "dashboard")
    legacy_hash = None
    if "password_hash" in dashboard:
        legacy_hash = _password_hash(dashboard, "dashboard.password_hash")
    security = _table(raw, "security")
    own = {_address(smtp.sender)}
    if mailbox:
        own.add(mailbox.username.lower())
    return Settings(
        campaign_name=name,
        deadline=deadline,
        database_url=database_url,
        storage_dir=storage_dir,
        smtp=smtp,
        subcommittees=units,
        mailbox=mailbox,
        max_message_bytes=positive_int(
            limits, "max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES, "limits"
        ),
        max_attachment_bytes=positive_int(
            limits, "max_attachment_bytes", DEFAULT_MAX_ATTACHMENT_BYTES, "limits"
        ),
        max_replies_per_address_per_day=positive_int(
            replies, "max_per_address_per_day", 5, "replies"
        ),
        own_addresses=tuple(sorted(a for a in own if a)),
        base_dir=base_dir,
        service=parse_service(_table(raw, "service")),
        roster_path=_path(roster["branches"], base_dir, "roster.branches")
        if "branches" in roster
        else None,
        dashboard_password_hash=legacy_hash,
        staff_accounts=_staff_accounts(raw.get("staff", []), legacy_hash),
        authserv_id=_string(security, "security.authserv_id")
        if "authserv_id" in security
        else None,
        rules=parse_rules(_table(raw, "rules"), raw.get("items", [])),
        export_file_name=_export_file_name(_table(raw, "export")),
        hold_corrections=_flag(replies, "hold_corrections", "replies"),
        dashboard_behind_tls=_flag(dashboard, "behind_tls", "dashboard"),
        notify=_notify(raw.get("notify", [])),
    )


def _notify(entries: Any) -> tuple:

    return parse_notify(entries)


def _flag(table: dict[str, Any], key: str, section: str) -> bool:
    """A true/false setting (false when absent)."""
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{section}.{key} 应为 true 或 false / must be true or false")
    return value


def _export_file_name(table: dict[str, Any]) -> str:
    """``[export] file_name``: the names inside ``export-files``, placeholders checked now."""
    if "file_name" not in table:
        return Settings.export_file_name
    from tracker.file_export import FileNameError, check_file_name

    pattern = _string(table, "export.file_name")
    try:
        return check_file_name(pattern)
    except FileNameError as exc:
        raise ConfigError(f"无效的配置项 / invalid config key: export.file_name ({exc})") from None


def _check_keys(table: dict[str, Any], section: str) -> None:
    allowed = _ALLOWED[section]
    for key in table:
        if key not in allowed:
            where = f"{section}.{key}" if section else key
            raise ConfigError(f"未知的配置项 / unknown config key: {where}")


def _table(raw: dict[str, Any], name: str, *, required: bool = False) -> dict[str, Any]:
    value = raw.get(name)
    if value is None:
        if required:
            raise ConfigError(f"缺少配置节 / missing config section: [{name}]")
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"配置项必须是一个表 / config key must be a table: [{name}]")
    _check_keys(value, name)
    return value


def _string(table: dict[str, Any], key: str, default: str | None = None) -> str:
    short = key.rsplit(".", 1)[-1]
    value = table.get(short, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"缺少或无效的配置项 / missing or invalid config key: {key} "
            "(需要文本 / expected a string)"
        )
    return value.strip()


def _deadline(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise ConfigError(
            "无效的配置项 / invalid config key: campaign.deadline "
            "(需要日期时间，如 2022-04-01T17:00:00+08:00 / expected a date-time)"
        )
    if value.tzinfo is None:
        raise ConfigError(
            "无效的配置项 / invalid config key: campaign.deadline "
            "(需要时区，如 +08:00 / a time zone offset is required)"
        )
    return value


def _path(value: Any, base_dir: Path, key: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"无效的配置项 / invalid config key: {key} (需要路径 / expected a path)")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _sqlite_relative(url: Any, base_dir: Path) -> str:
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(
            "无效的配置项 / invalid config key: database.url "
            "(需要 SQLAlchemy URL / expected a SQLAlchemy URL)"
        )
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
        rest = url[len(prefix) :]
        if rest and rest != ":memory:":
            return prefix + str(base_dir / rest)
    return url


def _server(
    table: dict[str, Any],
    section: str,
    default_port: dict[str, int],
    *,
    login_required: bool = True,
    base_dir: Path,
    private: bool,
) -> ServerSettings:
    host = _string(table, f"{section}.host")
    security = table.get("security", "ssl")
    if security not in SECURITY_MODES:
        raise ConfigError(
            f"无效的配置项 / invalid config key: {section}.security "
            "(只能是 / one of: ssl, starttls, none)"
        )
    port = table.get("port", default_port[security])
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"无效的配置项 / invalid config key: {section}.port")
    timeout = table.get("timeout", 60)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"无效的配置项 / invalid config key: {section}.timeout")
    if not login_required and not table.get("username"):
        return ServerSettings(
            host=host,
            port=port,
            security=security,
            username="",
            password="",
            timeout=float(timeout),
        )
    password, missing = _password(table, section, base_dir, private)
    return ServerSettings(
        host=host,
        port=port,
        security=security,
        username=_string(table, f"{section}.username"),
        password=password,
        timeout=float(timeout),
        password_missing=missing,
    )


def _password(
    table: dict[str, Any], section: str, base_dir: Path, private: bool
) -> tuple[str | None, str | None]:
    """The password and, when it is not there, the line saying so; an unsafe one is an error."""
    try:
        return read_password(table, section, base_dir=base_dir, config_private=private), None
    except SecretMissing as exc:
        return None, str(exc)
    except SecretError as exc:
        raise ConfigError(str(exc)) from None


def require_mail_passwords(settings: Settings, *, imap: bool = True, smtp: bool = True) -> None:
    """Stop with the one-line ``ConfigError`` before connecting when a password is not set.

    ``imap``: the mailbox (when configured); ``smtp``: the SMTP server (when it logs in; an
    ``outbox_dir`` needs none).
    """
    if imap and settings.mailbox is not None:
        settings.mailbox.login_password()
    if smtp and settings.smtp.outbox_dir is None and settings.smtp.server is not None:
        if settings.smtp.server.username:
            settings.smtp.server.login_password()


def _mailbox(table: Any, base_dir: Path, private: bool) -> MailboxSettings:
    if not isinstance(table, dict):
        raise ConfigError("配置项必须是一个表 / config key must be a table: [mailbox]")
    _check_keys(table, "mailbox")
    server = _server(
        table,
        "mailbox",
        {"ssl": 993, "starttls": 143, "none": 143},
        base_dir=base_dir,
        private=private,
    )
    folder = table.get("folder", "INBOX")
    if not isinstance(folder, str) or not folder:
        raise ConfigError("无效的配置项 / invalid config key: mailbox.folder")
    return MailboxSettings(
        **server.__dict__,
        folder=folder,
        batch_size=positive_int(table, "batch_size", 25, "mailbox"),
    )


def _smtp(table: dict[str, Any], base_dir: Path, private: bool) -> SmtpSettings:
    sender = _string(table, "smtp.from")
    if "@" not in sender:
        raise ConfigError(
            "无效的配置项 / invalid config key: smtp.from (需要邮件地址 / expected an address)"
        )
    outbox_dir = (
        _path(table["outbox_dir"], base_dir, "smtp.outbox_dir") if "outbox_dir" in table else None
    )
    server = None
    if "host" in table:
        server = _server(
            table,
            "smtp",
            {"ssl": 465, "starttls": 587, "none": 25},
            login_required=False,
            base_dir=base_dir,
            private=private,
        )
    elif outbox_dir is None:
        raise ConfigError("缺少配置项 / missing config key: smtp.host (或 smtp.outbox_dir)")
    return SmtpSettings(
        sender=sender,
        server=server,
        outbox_dir=outbox_dir,
        max_per_minute=positive_int(table, "max_per_minute", 20, "smtp"),
        retry_initial_seconds=positive_int(table, "retry_initial_seconds", 60, "smtp"),
        retry_max_seconds=positive_int(table, "retry_max_seconds", 3600, "smtp"),
        max_reply_age_hours=positive_int(table, "max_reply_age_hours", 48, "smtp"),
    )


def _subcommittees(items: Any) -> tuple[SubCommitteeSettings, ...]:
    seen: set[str] = set()
    units = []
    for where, item in list_of_tables(items, "subcommittees", _ALLOWED["subcommittees"]):
        name = _unique_name(item, where, seen, "重复的分党委名称 / duplicate sub-committee name")
        aliases = _string_list(item.get("aliases", []), f"{where}.aliases")
        emails = tuple(e.lower() for e in _string_list(item.get("emails", []), f"{where}.emails"))
        for email in emails:
            if "@" not in email:
                raise ConfigError(f"无效的邮件地址 / invalid address in {where}.emails: {email}")
        units.append(SubCommitteeSettings(name=name, aliases=aliases, emails=emails))
    return tuple(units)


def _unique_name(entry: dict[str, Any], where: str, seen: set[str], duplicate: str) -> str:
    """The entry's ``name``, added to ``seen``; one already there is the ``duplicate`` error."""
    name = _string(entry, f"{where}.name")
    if name in seen:
        raise ConfigError(f"{duplicate}: {where}.name = {name}")
    seen.add(name)
    return name


def _password_hash(table: dict[str, Any], key: str) -> str:
    stored = _string(table, key)
    problem = hash_problem(stored)
    if problem:
        raise ConfigError(
            f"无效的密码哈希 / invalid config key: {key} "
            f"({problem}；请用 intake hash-password 生成 / make one with intake hash-password)"
        )
    return stored


def _staff_accounts(entries: Any, legacy_hash: str | None) -> tuple[StaffAccount, ...]:
    """``[[staff]]``, and the old ``[dashboard] password_hash`` as the editor 工作人员."""
    accounts: list[StaffAccount] = []
    seen: set[str] = set()
    for where, entry in list_of_tables(entries, "staff", _ALLOWED["staff"]):
        name = _unique_name(entry, where, seen, "重复的账号名称 / duplicate staff name")
        role = entry.get("role", "editor")
        if role not in STAFF_ROLES:
            raise ConfigError(
                f"无效的配置项 / invalid config key: {where}.role "
                f"(只能是 / one of: {', '.join(STAFF_ROLES)})"
            )
        accounts.append(
            StaffAccount(
                name=name, password_hash=_password_hash(entry, f"{where}.password_hash"), role=role
            )
        )
    if legacy_hash is not None:
        if LEGACY_STAFF_NAME in seen:
            raise ConfigError(
                f"重复的账号名称 / duplicate staff name: {LEGACY_STAFF_NAME} "
                "([dashboard] password_hash 即此账号 / dashboard.password_hash is this account)"
            )
        accounts.append(StaffAccount(name=LEGACY_STAFF_NAME, password_hash=legacy_hash))
    return tuple(accounts)


def _string_list(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(
            f"无效的配置项 / invalid config key: {key} (需要文本列表 / expected a list of strings)"
        )
    return tuple(v.strip() for v in value)


def _address(value: str) -> str:
    from email.utils import parseaddr

    return parseaddr(value)[1].lower()


def parse_service(table: dict[str, Any]) -> ServiceSettings:
    """The ``[service]`` section: intervals in seconds, reminders as durations like "3d", "3h"."""
    defaults = ServiceSettings()
    reminders = table.get("reminders")
    notice = table.get("after_deadline_notice")
    digest = table.get("digest_time", "08:00")
    staff = tuple(a.lower() for a in _string_list(table.get("staff", []), "service.staff"))
    if any("@" not in a for a in staff):
        raise ConfigError(
            "无效的配置项 / invalid config key: service.staff (需要邮件地址 / expected addresses)"
        )
    return ServiceSettings(
        poll_interval=positive_int(table, "poll_interval", defaults.poll_interval, "service"),
        idle_timeout=positive_int(table, "idle_timeout", defaults.idle_timeout, "service"),
        reminders=defaults.reminders
        if reminders is None
        else tuple(
            _duration(v, "service.reminders") for v in _string_list(reminders, "service.reminders")
        ),
        reminder_grace_hours=positive_int(
            table, "reminder_grace_hours", defaults.reminder_grace_hours, "service"
        ),
        after_deadline_notice=defaults.after_deadline_notice
        if notice is None
        else (None if notice == "" else _duration(notice, "service.after_deadline_notice")),
        digest_time=None if digest == "" else _clock_time(digest, "service.digest_time"),
        staff=staff,
        workers=positive_int(table, "workers", defaults.workers, "service"),
    )


def _duration(value: Any, key: str) -> timedelta:
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    text = str(value).strip().lower()
    if len(text) >= 2 and text[-1] in units and text[:-1].isdigit():
        return timedelta(**{units[text[-1]]: int(text[:-1])})
    raise ConfigError(
        f"无效的配置项 / invalid config key: {key} "
        "(时长如 3d、3h、30m / a duration like 3d, 3h, 30m)"
    )


def _clock_time(value: Any, key: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"无效的配置项 / invalid config key: {key} (时间如 08:00 / a time like 08:00)"
        ) from None


def parse_rules(table: dict[str, Any], items: Any = ()) -> CampaignRules:
    """The ``[rules]`` section and the ``[[items]]`` list; what is absent keeps the 2022 notice."""
    _check_keys(table, "rules")
    defaults = DEFAULT_RULES
    return CampaignRules(
        basic_max_zi=positive_int(table, "basic_max_zi", defaults.basic_max_zi, "rules"),
        cases=_range(table, "cases", defaults.cases, min_low=1),
        case_zi=_range(table, "case_zi", defaults.case_zi),
        photos_per_case=_range(table, "photos_per_case", defaults.photos_per_case),
        grades=_grades(table.get("grades", list(defaults.grades))),
        best_share=_share(table.get("best_share", defaults.best_share)),
        items=_items(items),
    )


def _range(
    table: dict[str, Any], key: str, default: tuple[int, int], *, min_low: int = 0
) -> tuple[int, int]:
    """``[low, high]``: two integers, ``min_low <= low <= high``, ``high >= 1``."""
    where = f"rules.{key}"
    value = table.get(key, list(default))
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in value)
    ):
        raise ConfigError(
            f"无效的配置项 / invalid config key: {where} "
            f"(需要两个整数 [下限, 上限] / expected two integers [low, high])"
        )
    low, high = value
    if low < min_low:
        raise ConfigError(
            f"无效的配置项 / invalid config key: {where} "
            f"(下限至少为 {min_low} / the lower bound must be at least {min_low})"
        )
    if low > high:
        raise ConfigError(
            f"无效的配置项 / invalid config key: {where} "
            "(范围上下限颠倒 / lower bound above upper bound)"
        )
    if high < 1:
        raise ConfigError(
            f"无效的配置项 / invalid config key: {where} "
            "(上限须为正整数 / the upper bound must be positive)"
        )
    return (low, high)


def _grades(value: Any) -> tuple[str, ...]:
    """The grades a table may use, best first (the first one's share is limited)."""
    grades = _string_list(value, "rules.grades")
    if not grades:
        raise ConfigError(
            "无效的配置项 / invalid config key: rules.grades (至少一个等级 / at least one grade)"
        )
    if len(set(grades)) != len(grades):
        raise ConfigError(
            "无效的配置项 / invalid config key: rules.grades (等级重复 / a grade is listed twice)"
        )
    return grades


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ConfigError(
            "无效的配置项 / invalid config key: rules.best_share "
            "(需要 0 到 1 之间的比例，如 0.30 / expected a share above 0 and at most 1)"
        )
    return float(value)


def _items(entries: Any) -> tuple[ItemSetting, ...]:
    """``[[items]]``: each entry changes an item's labels or whether it is required."""
    if not isinstance(entries, list | tuple):
        raise ConfigError(
            "无效的配置项 / invalid config key: items "
            "(需要 [[items]] 列表 / expected a list of [[items]])"
        )
    settings = {item.key: item for item in default_items()}
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        where = f"items[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(
                f"无效的配置项 / invalid config key: {where} (需要一个表 / expected a table)"
            )
        for key in entry:
            if key not in _ALLOWED["items"]:
                raise ConfigError(f"未知的配置项 / unknown config key: {where}.{key}")
        key = entry.get("key")
        if key not in ITEM_KEYS:
            raise ConfigError(
                f"缺少或无效的配置项 / missing or invalid config key: {where}.key "
                f"(只能是 / one of: {', '.join(ITEM_KEYS)})"
            )
        if key in seen:
            raise ConfigError(f"重复的材料 / item listed twice: {where}.key = {key}")
        seen.add(key)
        current = settings[key]
        required = entry.get("required", current.required)
        if not isinstance(required, bool):
            raise ConfigError(
                f"无效的配置项 / invalid config key: {where}.required "
                f"(需要 true 或 false / expected true or false)"
            )
        settings[key] = ItemSetting(
            key=key,
            label=_string(entry, f"{where}.label") if "label" in entry else current.label,
            short_label=_string(entry, f"{where}.short_label")
            if "short_label" in entry
            else current.short_label,
            required=required,
        )
    if not any(item.required for item in settings.values()):
        raise ConfigError(
            "无效的配置项 / invalid config key: items.required "
            "(至少一项材料须为必交 / at least one item must stay required)"
        )
    return tuple(settings[key] for key in ITEM_KEYS)
