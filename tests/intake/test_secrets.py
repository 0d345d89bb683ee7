"""Secrets: passwords come from the environment or an owner-only file, and never show up
anywhere."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from intake.config import ConfigError, load_settings
from tests.helpers.campaign import DEADLINE, INTAKE, INTAKE_ENV, submission, write_config

SECRET = "Zq7-not-in-any-log-9xK"


def test_an_inline_password_needs_an_owner_only_config(tmp_path, dovecot):
    config = write_config(tmp_path, dovecot=dovecot)
    config.chmod(0o644)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "mailbox.password" in str(caught.value) and "chmod 600" in str(caught.value)
    config.chmod(0o600)
    assert load_settings(config).mailbox.password == dovecot.password


def test_a_password_file_must_be_readable_by_its_owner_only(tmp_path, dovecot):
    config = write_config(tmp_path, dovecot=dovecot)
    secret = tmp_path / "imap.pass"
    secret.write_text(dovecot.password + "\n", encoding="utf-8")
    secret.chmod(0o640)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            f'password = "{dovecot.password}"', 'password_file = "imap.pass"'
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "mailbox.password_file" in str(caught.value) and "\n" not in str(caught.value)
    secret.chmod(0o600)
    assert load_settings(config).mailbox.password == dovecot.password


def run(config: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*INTAKE, "-v", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env={**INTAKE_ENV, **env},
        timeout=120,
        cwd=config.parent,
    )


def test_the_password_never_appears_in_logs_reports_or_the_database(tmp_path, dovecot, smtp_server):
    dovecot.set_password(SECRET)
    config = write_config(tmp_path, dovecot=dovecot, smtp=smtp_server)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            f'password = "{SECRET}"', 'password_env = "TEST_IMAP_PASSWORD"'
        ),
        encoding="utf-8",
    )
    config.chmod(0o644)  # no secret inside: it may be shared
    before = DEADLINE - timedelta(days=1)
    dovecot.append(
        submission("机械工程与自动化学院分党委", "jixie@example.edu.cn", arrived=before),
        internaldate=before,
    )
    outputs = []
    for args in (
        ("poll",),
        ("report", "--format", "json"),
        ("report", "--format", "csv"),
        ("status",),
    ):
        done = run(config, *args, env={"TEST_IMAP_PASSWORD": SECRET})
        assert done.returncode == 0, done.stderr
        outputs += [done.stdout, done.stderr]
    refused = run(config, "poll", env={"TEST_IMAP_PASSWORD": SECRET + "-wrong"})
    assert refused.returncode == 1
    outputs += [refused.stdout, refused.stderr]
    assert len(smtp_server.messages) == 1
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "intake.db" for p in files) and any("data" in p.parts for p in files)
    for text in outputs:
        assert SECRET not in text
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET.encode() not in b"".join(m.data for m in smtp_server.messages)
    assert os.environ.get("TEST_IMAP_PASSWORD") is None
