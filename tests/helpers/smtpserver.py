"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1 that keeps what it accepts."""

from __future__ import annotations

from dataclasses import dataclass

from tests.helpers.servers import HOST, free_port


@dataclass
class ReceivedMail:
    """One message the test SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 that stores every message it accepts in ``messages``.

    Set ``tempfail_data`` (or ``tempfail_rcpt``) to answer ``451 4.3.0 try again later``.
    With ``credentials=(user, password)`` it offers AUTH PLAIN/LOGIN without TLS and records
    successful logins in ``logins``; without them it offers no AUTH at all.
    """

    def __init__(
        self, *, port: int | None = None, credentials: tuple[str, str] | None = None
    ) -> None:
        self.host = HOST
        self.port = port or free_port()
        self.credentials = credentials
        self.messages: list[ReceivedMail] = []  # accepted so far, oldest first
        self.logins: list[str] = []
        self.tempfail_data = False  # while true, DATA gets 451
        self.tempfail_rcpt = False  # while true, RCPT gets 451
        self.refused: set[str] = set()  # recipients answered 550 (see refuse)
        self._controller = None

    def refuse(self, address: str) -> None:
        """Answer ``550 5.1.1 user unknown`` to RCPT TO ``address`` from now on."""
        self.refused.add(address.lower())

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        """aiosmtpd hook: accept the recipient unless ``tempfail_rcpt``."""
        if self.tempfail_rcpt:
            return "451 4.3.0 try again later"
        if address.lower() in self.refused:
            return "550 5.1.1 user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        """aiosmtpd hook: store the message unless ``tempfail_data``."""
        if self.tempfail_data:
            return "451 4.3.0 try again later"
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), data))
        return "250 2.0.0 OK queued"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword) and self.credentials is not None:
            user = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if (user, password) == self.credentials:
                self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        """Listen (again) on the same port."""
        from aiosmtpd.controller import Controller

        if self._controller is not None:
            return
        kwargs: dict[str, object] = {}
        if self.credentials is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        controller = Controller(
            self, hostname=self.host, port=self.port, ready_timeout=10, **kwargs
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening; ``messages`` are kept."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
