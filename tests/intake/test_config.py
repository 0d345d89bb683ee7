"""Config loading: the example is valid, and each mistake is one line naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from intake.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
[campaign]
name = "测试活动"
deadline = 2022-04-01T17:00:00+08:00
[smtp]
from = "组织部 <zzb@example.edu.cn>"
outbox_dir = "outbox"
[[subcommittees]]
name = "机械工程与自动化学院分党委"
aliases = ["机械学院"]
emails = ["JiXie@example.edu.cn"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_with_passwords_from_environment(monkeypatch):
    monkeypatch.setenv("INTAKE_IMAP_PASSWORD", "imap-secret")
    monkeypatch.setenv("INTAKE_SMTP_PASSWORD", "smtp-secret")
    settings = load_settings(ROOT / "config.example.toml")
    assert settings.deadline.isoformat() == "2022-04-01T17:00:00+08:00"
    assert settings.mailbox.password == "imap-secret"
    assert settings.mailbox.security == "ssl" and settings.mailbox.port == 993
    assert settings.smtp.server.password == "smtp-secret"
    assert "imap-secret" not in repr(settings)
    assert [u.name for u in settings.subcommittees][:1] == ["机械工程与自动化学院分党委"]
    assert settings.database_url == f"sqlite:///{ROOT / 'intake.db'}"


def test_minimal_config_resolves_relative_paths(tmp_path):
    settings = load_settings(write(tmp_path, MINIMAL))
    assert settings.smtp.outbox_dir == tmp_path / "outbox"
    assert settings.storage_dir == tmp_path / "data"
    assert settings.subcommittees[0].emails == ("jixie@example.edu.cn",)
    assert settings.own_addresses == ("zzb@example.edu.cn",)


@pytest.mark.parametrize(
    "change, key",
    [
        (("[campaign]", "[campaign]\ncolour = 1"), "campaign.colour"),
        (
            ("deadline = 2022-04-01T17:00:00+08:00", "deadline = 2022-04-01T17:00:00"),
            "campaign.deadline",
        ),
        (("deadline = 2022-04-01T17:00:00+08:00", 'deadline = "4月1日"'), "campaign.deadline"),
        (
            (
                'outbox_dir = "outbox"',
                'host = "smtp.example"\nusername = "u"\npassword = "y"',
            ),
            "smtp.password",
        ),
        (('emails = ["JiXie@example.edu.cn"]', 'emails = ["jixie"]'), "subcommittees[1].emails"),
        (("[smtp]", "[smpt]\nx=1\n[smtp]"), "smpt"),
    ],
)
def test_each_mistake_is_one_line_naming_the_key(tmp_path, change, key):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, MINIMAL.replace(*change)))
    message = str(caught.value)
    assert key in message and "\n" not in message


def test_an_unset_password_variable_is_an_error_only_when_connecting(tmp_path):
    server = 'host = "smtp.example"\nusername = "u"\npassword_env = "NOPE_NOT_SET_X"'
    settings = load_settings(write(tmp_path, MINIMAL.replace('outbox_dir = "outbox"', server)))
    assert settings.smtp.server.password is None
    with pytest.raises(ConfigError) as caught:
        settings.smtp.server.login_password()
    message = str(caught.value)
    assert "NOPE_NOT_SET_X" in message and "smtp.password_env" in message and "\n" not in message


def test_cli_reports_a_bad_config_in_one_line_without_traceback(tmp_path):
    path = write(tmp_path, MINIMAL.replace("+08:00", ""))
    done = subprocess.run(
        [sys.executable, "-m", "intake", "--config", str(path), "report"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "campaign.deadline" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_missing_config_file_is_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "intake", "--config", str(tmp_path / "none.toml"), "report"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2 and "none.toml" in done.stderr and "Traceback" not in done.stderr
