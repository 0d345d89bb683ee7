"""Shared fixtures: real servers (Dovecot, a TCP proxy, aiosmtpd) started per test.

The machinery lives in ``tests/helpers/``; this file only wires it into pytest and makes sure
every server is stopped, even when the test fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.helpers.servers import DovecotServer, TcpProxy, mailbox_settings
from tests.helpers.smtpserver import SmtpServer

__all__ = ["mailbox_settings"]


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A running private Dovecot on 127.0.0.1 (IMAP, plaintext, one user)."""
    server = DovecotServer()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def dovecot_tls() -> Iterator[DovecotServer]:
    """Like ``dovecot``, with a self-signed certificate (``ca_file``): STARTTLS on ``port``,
    implicit TLS on ``tls_port``."""
    server = DovecotServer(tls=True)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def tcp_proxy(dovecot: DovecotServer) -> Iterator[TcpProxy]:
    """A TCP forwarder in front of ``dovecot``; ``drop_connections()`` cuts live links."""
    proxy = TcpProxy(dovecot.host, dovecot.port, upstream=dovecot)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running aiosmtpd server that records every accepted message (no AUTH)."""
    server = SmtpServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201 - pytest hook
    """On CI a skipped test (a tool the set-up should have installed is missing) is a failure."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped on CI, where .ci/run installs everything: {report.longrepr}"


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest hook
    """Say how many kill points, fuzz cases and hostile messages the run tried."""
    from tests.helpers.tally import COUNTS

    for what, count in sorted(COUNTS.items()):
        terminalreporter.write_line(f"tried: {count} {what}")
