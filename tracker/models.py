"""The database schema: the one place tables are defined (SQLAlchemy 2.0 declarative)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as UTC and read back aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201 - SQLAlchemy hook
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # noqa: ANN001, ANN201 - SQLAlchemy hook
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


class SubCommittee(Base):
    """A sub-committee (分党委 / 直属党总支), synchronised from the configuration."""

    __tablename__ = "subcommittees"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    emails: Mapped[list[Any]] = mapped_column(default=list)
    position: Mapped[int] = mapped_column(default=0)


class LearnedAddress(Base):
    """A sender address learned from earlier mail that was identified by its content."""

    __tablename__ = "learned_addresses"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    subcommittee_id: Mapped[int] = mapped_column(ForeignKey("subcommittees.id"))
    learned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FolderState(Base):
    """How far a mailbox folder has been read: its UIDVALIDITY and the last stored UID."""

    __tablename__ = "folder_states"

    folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)


class Message(Base):
    """One received message: where it came from, its stored raw bytes and what became of it.

    ``state`` walks ``stored`` -> ``processed`` (or ``failed``, ``duplicate``); ``source`` is the
    IMAP folder or ``import``.
    """

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("source", "uidvalidity", "uid", name="uq_message_origin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    truncated: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_addr: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="stored", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    machine_reason: Mapped[str | None] = mapped_column(String(200))
    identified_by: Mapped[str | None] = mapped_column(String(40))
    subcommittee_id: Mapped[int | None] = mapped_column(ForeignKey("subcommittees.id"))
    problems: Mapped[list[Any]] = mapped_column(default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)

    subcommittee: Mapped[SubCommittee | None] = relationship()
    versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="message", cascade="all, delete-orphan"
    )


class MessageClaim(Base):
    """Which stored message holds a Message-ID (or, lacking one, the raw bytes' hash): the
    primary key makes the first copy win across processes, at ingest, before any work is done;
    every later copy is stored as a ``duplicate``."""

    __tablename__ = "message_claims"

    key: Mapped[str] = mapped_column(String(1000), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", name="fk_claim_message"))


class ItemVersion(Base):
    """One file received for one item of one sub-committee (each correction is a new version).

    ``problems`` and ``doubts`` are the verdicts of the checks on it; a version with a
    ``kind_unsure`` doubt is kept but not counted as the item until staff decide."""

    __tablename__ = "item_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    subcommittee_id: Mapped[int] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    item: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    problems: Mapped[list[Any]] = mapped_column(default=list)
    doubts: Mapped[list[Any]] = mapped_column(default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)

    message: Mapped[Message] = relationship(back_populates="versions")
    subcommittee: Mapped[SubCommittee] = relationship()


class OutboxEntry(Base):
    """A mail waiting to be sent, or sent: a receipt per message, reminders, digests.

    ``state`` is ``queued``, ``sent``, ``failed`` (refused for good) or ``held`` (too old to send
    without a staff decision). ``next_attempt_at`` delays a retry after a temporary failure.
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("message_id", "kind", name="uq_outbox_reply"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    kind: Mapped[str] = mapped_column(String(40), default="receipt")
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(Text)
    smtp_message_id: Mapped[str] = mapped_column(String(998), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_approved: Mapped[bool] = mapped_column(default=False)
    subcommittee_id: Mapped[int | None] = mapped_column(
        ForeignKey("subcommittees.id", name="fk_outbox_subcommittee")
    )


class Notice(Base):
    """A message to a staff work chat (``[[notify]]``: 企业微信, 钉钉, 飞书), queued like mail.

    ``target`` is the notify entry's name (never its URL, which holds a key); ``body`` the
    provider's JSON request (a signature is added when sent); ``key`` says which event it is
    for, once per target. ``state`` is ``queued``, ``sent`` or ``failed`` (too old to send).
    """

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("target", "key", name="uq_notice_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(100), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReminderSent(Base):
    """That a reminder (``key``: ``before-3d``, ``after-deadline``…) went to a unit, once."""

    __tablename__ = "reminders_sent"

    subcommittee_id: Mapped[int] = mapped_column(ForeignKey("subcommittees.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class ServiceState(Base):
    """Small facts the running service records for ``intake status`` (last poll, last error)."""

    __tablename__ = "service_state"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffDecision(Base):
    """A staff decision that overrules the system: who, when, what, why; undone, not deleted.

    ``action`` is ``accept`` (a doubt settled or a problem waived), ``reject`` (a doubt turned
    into a problem), ``mark`` (an item handed in another way, at ``moment``), ``extend`` (the
    unit's own deadline, ``moment``) or ``exempt``. ``accept`` and ``reject`` name the ``code``
    and the file (``sha256``) they judge, so they survive reprocessing and bind to that file only.
    """

    __tablename__ = "staff_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    subcommittee_id: Mapped[int] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    item: Mapped[str | None] = mapped_column(String(40))
    code: Mapped[str | None] = mapped_column(String(60))
    sha256: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(Text)
    moment: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(200))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", name="fk_decision_outbox")
    )

    subcommittee: Mapped[SubCommittee] = relationship()

    @property
    def active(self) -> bool:
        """Whether the decision still applies (it has not been undone)."""
        return self.undone_at is None
