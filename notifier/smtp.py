"""Sending a composed reply: over SMTP (ssl, starttls or none) or into a folder of .eml files."""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
import tempfile
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol


class PermanentSendError(Exception):
    """The server refused the reply for good (5xx); retrying will not help."""


class Transport(Protocol):
    """Something that delivers one reply's bytes to one recipient."""

    def send(self, recipient: str, data: bytes, message_id: str) -> None:
        """Deliver or raise OSError (try again later) or PermanentSendError."""


class SmtpTransport:
    """Delivers through an SMTP server with smtplib."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        username: str,
        password: str,
        sender: str,
        timeout: float = 60.0,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout
        self.sender = parseaddr(sender)[1] or sender

    def send(self, recipient: str, data: bytes, message_id: str) -> None:
        """Open a connection, send one message, close.

        Only a 5xx answer about this message (its recipient or its data) is permanent. Network
        errors, 4xx answers and refusals of our own login or sender (a configuration problem
        that staff fix, after which the reply must still go) raise OSError: try again later.
        """
        try:
            recipient.encode("ascii")
        except UnicodeError:
            raise PermanentSendError(
                f"收件地址含非 ASCII 字符 / recipient address is not ASCII: {recipient}"
            ) from None
        try:
            with self._connect() as client:
                if self.username:
                    client.login(self.username, self.password)
                client.sendmail(self.sender, [recipient], data)
        except (
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPHeloError,
        ) as exc:
            raise OSError(
                f"SMTP 登录或发件人被拒 / SMTP login or sender refused: {exc.smtp_code} "
                f"{_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentSendError(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
            raise OSError(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{c} {_text(m)}" for c, m in exc.recipients.values())
            if all(500 <= c < 600 for c in codes):
                raise PermanentSendError(detail) from exc
            raise OSError(detail) from exc
        except smtplib.SMTPException as exc:
            raise OSError(str(exc)) from exc

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        return client


class DirectoryTransport:
    """Writes each reply as ``<message-id hash>.eml`` into a folder (the demo's outbox)."""

    rate_limited = False

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, recipient: str, data: bytes, message_id: str) -> None:
        """Write the reply atomically; writing the same reply again replaces the same file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(message_id.encode()).hexdigest()[:16] + ".eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, self.directory / name)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
