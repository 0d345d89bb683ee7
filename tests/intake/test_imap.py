"""intake.imap against a real Dovecot (see tests/helpers/servers.py)."""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from intake.imap import IMAPLIB_LOGGER, FetchedMessage, ImapError, ImapSource
from tests.helpers.servers import free_port, mailbox_settings

CHINA = timezone(timedelta(hours=8))


def make_message(n: int, *, body_bytes: int = 0) -> bytes:
    """A small RFC 5322 message with CRLF line ends (Dovecot stores it byte for byte)."""
    body = f"材料 {n}\r\n".encode() + b"x" * body_bytes + b"\r\n"
    return (
        f"From: unit{n}@example.edu.cn\r\n"
        f"To: dept@example.edu.cn\r\n"
        f"Subject: submission {n}\r\n"
        f"Message-ID: <m{n}@example.edu.cn>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"\r\n"
    ).encode() + body


def fetch_all(settings, checkpoint=None, **kwargs) -> list[FetchedMessage]:
    kwargs.setdefault("max_message_bytes", 1 << 20)
    with ImapSource(settings, **kwargs) as source:
        return list(source.fetch_new(checkpoint))


def checkpoint_of(messages: list[FetchedMessage]) -> tuple[int, int]:
    return messages[-1].uidvalidity, messages[-1].uid


def test_fetch_yields_messages_in_uid_order_with_server_internaldate(dovecot):
    dates = [
        datetime(2022, 4, 1, 16, 59, 59, tzinfo=CHINA),
        datetime(2022, 3, 30, 9, 0, 0, tzinfo=CHINA),  # older date, later UID
        datetime(2022, 4, 1, 17, 0, 1, tzinfo=CHINA),
    ]
    raws = [make_message(i) for i in range(3)]
    for raw, date in zip(raws, dates, strict=True):
        dovecot.append(raw, date)

    messages = fetch_all(mailbox_settings(dovecot))

    assert [m.uid for m in messages] == [1, 2, 3]
    assert [m.raw for m in messages] == raws
    assert [m.internaldate for m in messages] == dates
    for message in messages:
        assert message.internaldate.utcoffset() == timedelta(hours=8)  # aware, server's zone
        assert message.folder == "INBOX"
        assert message.size == len(message.raw)
        assert message.headers == b""
    assert len({m.uidvalidity for m in messages}) == 1


def test_idle_announces_mail_that_arrived_after_the_last_look_but_before_idle(dovecot):
    # Dovecot watches the folder only from the start of IDLE: this message, stored between the
    # NOOP of the last look and IDLE, was announced only by its next periodic check (minutes).
    with ImapSource(mailbox_settings(dovecot), max_message_bytes=1 << 20) as source:
        assert list(source.fetch_new(None)) == []
        dovecot.append(make_message(1))
        started = time.monotonic()
        assert source.wait_for_new_mail(20) is True
        assert time.monotonic() - started < 5
        assert [m.uid for m in source.fetch_new(None)] == [1]


def test_idle_announces_mail_that_arrives_while_waiting(dovecot):
    with ImapSource(mailbox_settings(dovecot), max_message_bytes=1 << 20) as source:
        assert list(source.fetch_new(None)) == []
        threading.Timer(0.5, dovecot.append, [make_message(1)]).start()
        started = time.monotonic()
        assert source.wait_for_new_mail(20) is True
        assert 0.4 < time.monotonic() - started < 5
        assert source.wait_for_new_mail(1) is False  # announced once: the next wait is quiet


def test_checkpoint_yields_nothing_then_only_the_new_message(dovecot):
    for i in range(3):
        dovecot.append(make_message(i))
    settings = mailbox_settings(dovecot)
    first = fetch_all(settings)
    checkpoint = checkpoint_of(first)

    # "UID 4:*" matches UID 3 on the server: it must not come back.
    assert fetch_all(settings, checkpoint) == []

    dovecot.append(make_message(99))
    again = fetch_all(settings, checkpoint)
    assert [m.uid for m in again] == [4]
    assert b"submission 99" in again[0].raw


def test_one_source_serves_several_fetches(dovecot):
    dovecot.append(make_message(1))
    with ImapSource(mailbox_settings(dovecot), max_message_bytes=1 << 20) as source:
        first = list(source.fetch_new(None))
        dovecot.append(make_message(2))
        second = list(source.fetch_new(checkpoint_of(first)))
    assert [m.uid for m in first] == [1]
    assert [m.uid for m in second] == [2]


def test_uidvalidity_change_rescans_from_uid_1(dovecot):
    dovecot.create_folder("Submissions")
    for i in range(2):
        dovecot.append(make_message(i), folder="Submissions")
    settings = mailbox_settings(dovecot, folder="Submissions")
    old = fetch_all(settings)
    checkpoint = checkpoint_of(old)

    dovecot.delete_folder("Submissions")
    dovecot.create_folder("Submissions")
    dovecot.append(make_message(7), folder="Submissions")

    new = fetch_all(settings, checkpoint)
    assert [m.uid for m in new] == [1]
    assert new[0].uidvalidity != checkpoint[0]
    assert b"submission 7" in new[0].raw
    assert new[0].folder == "Submissions"


def test_checkpoint_of_another_folder_rescans(dovecot):
    dovecot.append(make_message(1))
    dovecot.create_folder("Other")
    for i in range(3):
        dovecot.append(make_message(i), folder="Other")
    other = fetch_all(mailbox_settings(dovecot, folder="Other"))
    assert other[0].uidvalidity != 0

    inbox = fetch_all(mailbox_settings(dovecot), (other[0].uidvalidity + 1, 3))
    assert [m.uid for m in inbox] == [1]


def test_oversize_message_is_not_loaded_but_headers_are(dovecot):
    dovecot.append(make_message(1))
    dovecot.append(make_message(2, body_bytes=5000))
    dovecot.append(make_message(3))

    messages = fetch_all(mailbox_settings(dovecot), max_message_bytes=2000)

    assert [m.uid for m in messages] == [1, 2, 3]
    small1, big, small3 = messages
    assert big.raw is None
    assert big.size > 5000
    assert b"Subject: submission 2" in big.headers
    assert b"xxxx" not in big.headers
    assert small1.raw is not None and small3.raw is not None
    assert small1.headers == small3.headers == b""


def test_small_messages_are_fetched_in_size_bounded_chunks(dovecot):
    raws = [make_message(i, body_bytes=900) for i in range(5)]
    for raw in raws:
        dovecot.append(raw)
    # Each message is ~1 KB; the limit allows one body per request.
    messages = fetch_all(mailbox_settings(dovecot, batch_size=5), max_message_bytes=1100)
    assert [m.raw for m in messages] == raws


def test_fetch_does_not_set_seen(dovecot):
    for i in range(2):
        dovecot.append(make_message(i))
    messages = fetch_all(mailbox_settings(dovecot))
    assert len(messages) == 2

    flags = dovecot.flags()
    assert set(flags) == {1, 2}
    for uid_flags in flags.values():
        assert b"\\Seen" not in uid_flags
    assert "flag_change" not in dovecot.log_text()


def test_bodies_are_not_formatted_for_an_imaplib_debug_log_that_is_off(
    dovecot, monkeypatch, caplog
):
    from imapclient.imapclient import IMAPlibLoggerAdapter

    logged: list[str] = []
    monkeypatch.setattr(
        IMAPlibLoggerAdapter, "debug", lambda self, msg, *a, **k: logged.append(msg)
    )
    raw = make_message(1).replace(b"x", b"") + b"ZZ-BODY-MARK\r\n"
    dovecot.append(raw)
    assert [m.raw for m in fetch_all(mailbox_settings(dovecot))] == [raw]
    assert not any("ZZ-BODY-MARK" in str(m) for m in logged)
    caplog.set_level(logging.DEBUG, logger=IMAPLIB_LOGGER)  # someone debugging the conversation
    assert [m.raw for m in fetch_all(mailbox_settings(dovecot))] == [raw]
    assert any("ZZ-BODY-MARK" in str(m) for m in logged)


def test_id_command_is_sent(dovecot):
    fetch_all(mailbox_settings(dovecot))
    assert "ID sent: name=intake" in dovecot.log_text()


def test_dropped_connection_mid_batch_yields_each_message_once(dovecot, tcp_proxy):
    for i in range(10):
        dovecot.append(make_message(i))
    settings = mailbox_settings(tcp_proxy, batch_size=3)
    seen = []
    with ImapSource(settings, max_message_bytes=1 << 20, reconnect_delay=0.05) as source:
        for message in source.fetch_new(None):
            seen.append(message.uid)
            if len(seen) in (4, 8):
                assert tcp_proxy.drop_connections() >= 1
    assert seen == list(range(1, 11))
    assert tcp_proxy.accepted == 3


def test_dropped_connection_at_batch_boundary(dovecot, tcp_proxy):
    for i in range(7):
        dovecot.append(make_message(i))
    settings = mailbox_settings(tcp_proxy, batch_size=3)
    seen = []
    with ImapSource(settings, max_message_bytes=1 << 20, reconnect_delay=0.05) as source:
        for message in source.fetch_new((source.uidvalidity, 1)):
            seen.append(message.uid)
            if message.uid == 4:  # last of the first batch (2, 3, 4)
                tcp_proxy.drop_connections()
    assert seen == [2, 3, 4, 5, 6, 7]


def test_server_restart_during_fetch_is_survived(dovecot):
    for i in range(4):
        dovecot.append(make_message(i))
    settings = mailbox_settings(dovecot, batch_size=2)
    seen = []
    restart = threading.Timer(0.3, dovecot.start)
    try:
        with ImapSource(
            settings, max_message_bytes=1 << 20, reconnect_attempts=20, reconnect_delay=0.1
        ) as source:
            for message in source.fetch_new(None):
                seen.append(message.uid)
                if message.uid == 2:
                    dovecot.stop()  # server down for a while, then up again
                    restart.start()
    finally:
        restart.join()
    assert seen == [1, 2, 3, 4]
    assert dovecot.log_text().count("ID sent: name=intake") == 2  # one reconnect


def test_uidvalidity_change_while_reconnecting_restarts_from_1(dovecot, tcp_proxy):
    dovecot.create_folder("Submissions")
    for i in range(4):
        dovecot.append(make_message(i), folder="Submissions")
    settings = mailbox_settings(tcp_proxy, folder="Submissions", batch_size=2)
    seen = []
    with ImapSource(settings, max_message_bytes=1 << 20, reconnect_delay=0.05) as source:
        for message in source.fetch_new(None):
            seen.append((message.uidvalidity, message.uid, message.raw))
            if len(seen) == 2:
                dovecot.delete_folder("Submissions")
                dovecot.create_folder("Submissions")
                for i in range(10, 13):
                    dovecot.append(make_message(i), folder="Submissions")
                tcp_proxy.drop_connections()
    old_validity = seen[0][0]
    assert [(v == old_validity, uid) for v, uid, _ in seen] == [
        (True, 1),
        (True, 2),
        (False, 1),
        (False, 2),
        (False, 3),
    ]
    assert b"submission 10" in seen[2][2]


def test_wrong_password_raises_one_line_imap_error(dovecot):
    settings = mailbox_settings(dovecot, password="wrong")
    started = time.monotonic()
    with pytest.raises(ImapError) as info:
        fetch_all(settings, reconnect_delay=0.01)
    message = str(info.value)
    assert "\n" not in message
    assert "login refused" in message
    assert dovecot.user in message
    assert "wrong" not in message
    assert time.monotonic() - started < 5  # no retries on a refusal


def test_missing_folder_raises_imap_error(dovecot):
    with pytest.raises(ImapError) as info:
        fetch_all(mailbox_settings(dovecot, folder="NoSuchFolder"))
    assert "NoSuchFolder" in str(info.value)
    assert "\n" not in str(info.value)


def test_unreachable_server_raises_imap_error_after_retries():
    port = free_port()
    settings = mailbox_settings(
        type("S", (), {"host": "127.0.0.1", "port": port, "user": "u", "password": "p"})()
    )
    with pytest.raises(ImapError) as info:
        fetch_all(settings, reconnect_attempts=2, reconnect_delay=0.01)
    message = str(info.value)
    assert "unreachable" in message and "3 attempt" in message
    assert "\n" not in message


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_modes(dovecot_tls, monkeypatch, security):
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_tls.ca_file))  # trust the test CA
    dovecot_tls.append(make_message(1))
    port = dovecot_tls.tls_port if security == "ssl" else dovecot_tls.port
    messages = fetch_all(mailbox_settings(dovecot_tls, security=security, port=port))
    assert [m.uid for m in messages] == [1]
    assert re.search(r"Login: user=.*, TLS\b", dovecot_tls.log_text())


def test_untrusted_certificate_raises_imap_error(dovecot_tls, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    settings = mailbox_settings(dovecot_tls, security="ssl", port=dovecot_tls.tls_port)
    with pytest.raises(ImapError) as info:
        fetch_all(settings, reconnect_delay=0.01)
    assert "certificate" in str(info.value)
    assert "\n" not in str(info.value)


def test_bodies_are_fetched_a_few_mb_at_a_time(dovecot, monkeypatch):
    import intake.imap

    raws = [make_message(i, body_bytes=900) for i in range(6)]
    for raw in raws:
        dovecot.append(raw)
    monkeypatch.setattr(intake.imap, "FETCH_CHUNK_BYTES", 2500)  # two ~1 KB bodies a command
    commands = []
    fetch_part = ImapSource._fetch_part

    def counted(self, uids, item, key):  # noqa: ANN001, ANN202
        if uids:
            commands.append(list(uids))
        return fetch_part(self, uids, item, key)

    monkeypatch.setattr(ImapSource, "_fetch_part", counted)
    messages = fetch_all(mailbox_settings(dovecot, batch_size=6), max_message_bytes=1 << 20)
    assert [m.raw for m in messages] == raws
    assert commands == [[1, 2], [3, 4], [5, 6]]
