"""Composing the Chinese receipt that answers one message, from a Jinja2 template."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from jinja2 import Environment, PackageLoader, StrictUndefined

from parsers.text_safety import shown, shown_line
from tracker.status import is_on_time
from tracker.zones import zone_label

_ENV = Environment(
    loader=PackageLoader("notifier", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=shown_line,  # every value a template prints (a file name, a subject) made visible
)
_ENV.filters["zone"] = zone_label


@dataclass
class ArrivedFile:
    """One file of the answered message as the receipt lists it."""

    filename: str
    item_label: str | None
    problems: list[str] = field(default_factory=list)
    timing: str = ""
    doubts: list[str] = field(default_factory=list)
    counted: bool = True

    @property
    def verdict(self) -> str:
        """'problem' (需更正), 'doubt' (待工作人员核对) or 'pass' (检查通过)."""
        return "problem" if self.problems else "doubt" if self.doubts else "pass"


@dataclass
class Receipt:
    """Everything a receipt says; the template turns it into text."""

    campaign: str
    deadline: datetime
    reference: str
    received_at: datetime
    unit_name: str | None
    files: list[ArrivedFile] = field(default_factory=list)
    message_problems: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    other_problems: list[tuple[str, str]] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)
    assigned_by_staff: bool = False
    all_items_required: bool = True

    @property
    def on_time(self) -> bool:
        """Whether this message arrived by the deadline."""
        return is_on_time(self.received_at, self.deadline)

    @property
    def has_problems(self) -> bool:
        """Whether the receipt asks for any correction."""
        return bool(
            self.message_problems or self.other_problems or any(f.problems for f in self.files)
        )

    @property
    def asks_correction(self) -> bool:
        """Whether a file sent needs correcting (this message's or an earlier one's); a message
        problem alone (a download link, a message too large) asks for the files, not a
        correction."""
        return bool(self.other_problems or any(f.problems for f in self.files))

    @property
    def has_doubts(self) -> bool:
        """Whether staff will check something of this message."""
        return any(f.doubts for f in self.files)


def render_receipt(receipt: Receipt) -> str:
    """The receipt's plain-text body in Chinese."""
    zone = receipt.deadline.tzinfo
    return _ENV.get_template("receipt.txt.j2").render(
        r=receipt, received=receipt.received_at.astimezone(zone), deadline=receipt.deadline
    )


def compose_reply(
    *,
    sender: str,
    recipient: str,
    original_subject: str,
    original_message_id: str | None,
    original_references: list[str],
    body: str,
    now: datetime,
) -> EmailMessage:
    """A reply message with threading headers and ``Auto-Submitted: auto-replied``."""
    subject = (original_subject or "").strip() or "（无主题）"
    reply = compose_message(
        sender=sender,
        recipient=recipient,
        subject=f"【自动回执】{subject}",
        body=body,
        now=now,
        auto_submitted="auto-replied",
    )
    if original_message_id:
        reply["In-Reply-To"] = f"<{original_message_id}>"
        reply["References"] = " ".join(
            [*(f"<{r}>" for r in original_references), f"<{original_message_id}>"]
        )
    return reply


def compose_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
    auto_submitted: str = "auto-generated",
    attachments: list[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """A plain-text message from the department, marked as machine-sent (RFC 3834).

    ``attachments`` are (file name, MIME type, bytes).
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = shown_line(subject, 998)
    message["Date"] = format_datetime(now)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "intake.local"
    message["Message-ID"] = make_msgid("intake", domain=domain)
    message["Auto-Submitted"] = auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    message["Precedence"] = "auto_reply" if auto_submitted == "auto-replied" else "bulk"
    message.set_content(shown(body), charset="utf-8", cte="base64")
    for filename, mime_type, data in attachments:
        maintype, _, subtype = mime_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def render(template: str, **context: object) -> str:
    """Render one of the Chinese templates in ``notifier/templates``."""
    return _ENV.get_template(template).render(**context)
