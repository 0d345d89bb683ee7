"""Reading and writing the campaign's records: every query of the project lives here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, defer

from .db import upsert_insert
from .identify import UnitNames
from .models import (
    FolderState,
    ItemVersion,
    LearnedAddress,
    Message,
    MessageClaim,
    OutboxEntry,
    ReminderSent,
    ServiceState,
    SubCommittee,
)


def sync_subcommittees(
    session: Session, units: Iterable[tuple[str, Sequence[str], Sequence[str]]]
) -> None:
    """Make the subcommittees table match the configuration (name, aliases, emails), in order:
    one upsert per unit, so any number of workers starting at once (or a unit added to the
    configuration while they run) never collide on a name."""
    insert = upsert_insert(session)
    for position, (name, aliases, emails) in enumerate(units):
        values = {
            "aliases": list(aliases),
            "emails": [e.lower() for e in emails],
            "position": position,
        }
        if insert is None:
            unit = session.scalar(select(SubCommittee).where(SubCommittee.name == name))
            unit = unit or SubCommittee(name=name)
            unit.aliases, unit.emails, unit.position = values.values()
            session.add(unit)
            continue
        session.execute(
            insert(SubCommittee)
            .values(name=name, **values)
            .on_conflict_do_update(index_elements=[SubCommittee.name], set_=values)
        )
    session.flush()


def all_subcommittees(session: Session) -> list[SubCommittee]:
    """Every sub-committee in configuration order."""
    return list(
        session.scalars(select(SubCommittee).order_by(SubCommittee.position, SubCommittee.id))
    )


def find_subcommittee(session: Session, name: str) -> SubCommittee | None:
    """The sub-committee called ``name`` or having it as an alias."""
    for unit in all_subcommittees(session):
        if name == unit.name or name in (unit.aliases or []):
            return unit
    return None


def unit_names(session: Session) -> list[UnitNames]:
    """What identification needs to know of every sub-committee."""
    return [
        UnitNames(u.id, u.name, tuple(u.aliases or ()), tuple(u.emails or ()))
        for u in all_subcommittees(session)
    ]


def learned_addresses(session: Session) -> dict[str, int]:
    """Sender addresses learned from identified mail, to their sub-committee ids."""
    return {row.address: row.subcommittee_id for row in session.scalars(select(LearnedAddress))}


def learn_address(session: Session, address: str, unit_id: int, when: datetime) -> None:
    """Remember that ``address`` writes for ``unit_id`` (the newest identification wins)."""
    row = session.get(LearnedAddress, address) or LearnedAddress(address=address)
    row.subcommittee_id, row.learned_at = unit_id, when
    session.add(row)


def checkpoint(session: Session, folder: str) -> tuple[int, int] | None:
    """The (UIDVALIDITY, last stored UID) of an IMAP folder, if it was read before."""
    row = session.get(FolderState, folder)
    return (row.uidvalidity, row.last_uid) if row else None


def save_checkpoint(session: Session, folder: str, uidvalidity: int, uid: int) -> None:
    """Record that every UID up to ``uid`` of ``folder`` is stored."""
    row = session.get(FolderState, folder) or FolderState(
        folder=folder, uidvalidity=uidvalidity, last_uid=0
    )
    if row.uidvalidity != uidvalidity:
        row.uidvalidity, row.last_uid = uidvalidity, 0
    row.last_uid = max(row.last_uid, uid)
    session.add(row)


def message_from_origin(
    session: Session, source: str, uidvalidity: int, uid: int
) -> Message | None:
    """The message already stored from this (folder, UIDVALIDITY, UID), if any."""
    return session.scalar(
        select(Message).where(
            Message.source == source, Message.uidvalidity == uidvalidity, Message.uid == uid
        )
    )


def message_with_raw(session: Session, raw_sha256: str) -> Message | None:
    """A message already stored with exactly these raw bytes, if any."""
    return session.scalar(
        select(Message).where(Message.raw_sha256 == raw_sha256).order_by(Message.id).limit(1)
    )


def claim_holder(session: Session, key: str) -> int | None:
    """The id of the message that claimed ``key`` (a Message-ID, or ``sha256:`` and the raw
    hash), if any."""
    return session.scalar(select(MessageClaim.message_id).where(MessageClaim.key == key))


def claim(session: Session, key: str, message_id: int) -> None:
    """Claim ``key`` for the message (the primary key refuses a second claim: IntegrityError)."""
    session.add(MessageClaim(key=key, message_id=message_id))
    session.flush()


def earlier_copy(session: Session, message: Message) -> Message | None:
    """An earlier message with the same Message-ID (or, lacking one, the same bytes)."""
    same = (
        (Message.message_id == message.message_id)
        if message.message_id
        else (Message.raw_sha256 == message.raw_sha256)
    )
    return session.scalar(
        select(Message)
        .where(same, Message.id < message.id, Message.state != "duplicate")
        .order_by(Message.id)
        .limit(1)
    )


def messages_in_state(session: Session, *states: str) -> list[Message]:
    """Messages in any of ``states``, oldest first."""
    return list(
        session.scalars(select(Message).where(Message.state.in_(states)).order_by(Message.id))
    )


def find_message(session: Session, key: str) -> Message | None:
    """A message by database id, reference number (ZZB…-id) or Message-ID."""
    key = key.strip().strip("<>")
    tail = key.rsplit("-", 1)[-1]
    if tail.isdigit() and (key.isdigit() or key.upper().startswith("ZZB")):
        found = session.get(Message, int(tail))
        if found:
            return found
    return session.scalar(
        select(Message).where(Message.message_id == key).order_by(Message.id).limit(1)
    )


def unassigned_messages(session: Session) -> list[Message]:
    """Processed messages from people (not machines) that no sub-committee could be found for."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.state == "processed",
                Message.subcommittee_id.is_(None),
                Message.machine_reason.is_(None),
            )
            .order_by(Message.received_at)
        )
    )


def unit_messages(session: Session, unit_id: int) -> list[Message]:
    """Processed messages filed under one sub-committee, oldest first."""
    return list(
        session.scalars(
            select(Message)
            .where(Message.subcommittee_id == unit_id, Message.state == "processed")
            .order_by(Message.received_at)
        )
    )


def unit_message_problems(session: Session) -> list[tuple[int, list[Any]]]:
    """(unit id, problems) of every processed message filed under a unit, oldest first."""
    rows = session.execute(
        select(Message.subcommittee_id, Message.problems)
        .where(Message.subcommittee_id.is_not(None), Message.state == "processed")
        .order_by(Message.received_at)
    )
    return [(unit_id, problems) for unit_id, problems in rows]


def unit_versions(session: Session, unit_id: int, *, facts: bool = True) -> list[ItemVersion]:
    """Every item version received for one sub-committee; without ``facts`` their facts (the
    largest column: a summary's cases, a table's rows) are read only if asked for."""
    query = (
        select(ItemVersion)
        .where(ItemVersion.subcommittee_id == unit_id)
        .order_by(ItemVersion.received_at, ItemVersion.id)
    )
    if not facts:
        query = query.options(defer(ItemVersion.facts))
    return list(session.scalars(query))


def queued_replies(session: Session, now: datetime | None = None) -> list[OutboxEntry]:
    """Replies not yet sent (and, given ``now``, due for an attempt), oldest first."""
    query = select(OutboxEntry).where(OutboxEntry.state == "queued")
    if now is not None:
        query = query.where(
            or_(OutboxEntry.next_attempt_at.is_(None), OutboxEntry.next_attempt_at <= now)
        )
    return list(session.scalars(query.order_by(OutboxEntry.id)))


def replies_awaiting_retry(session: Session) -> int:
    """How many replies wait to be tried again after a temporary failure."""
    query = select(func.count(OutboxEntry.id)).where(
        OutboxEntry.state == "queued", OutboxEntry.last_error.is_not(None)
    )
    return session.scalar(query) or 0


def lock_queued_reply(session: Session, entry_id: int) -> OutboxEntry | None:
    """The queued entry, locked for this transaction; None if another sender holds or sent it.

    PostgreSQL locks the row and other senders skip it. SQLite has no row locks: a write takes
    the database's write lock until commit, so another sender waits, then finds it sent.
    """
    queued = (OutboxEntry.id == entry_id, OutboxEntry.state == "queued")
    if session.get_bind().dialect.name == "sqlite":
        claimed = session.execute(
            update(OutboxEntry).where(*queued).values(attempts=OutboxEntry.attempts)
        )
        return session.get(OutboxEntry, entry_id) if claimed.rowcount == 1 else None
    return session.scalar(select(OutboxEntry).where(*queued).with_for_update(skip_locked=True))


def release_held_replies(session: Session) -> int:
    """Let replies held back after an outage be sent (a staff decision); returns how many."""
    held = list(session.scalars(select(OutboxEntry).where(OutboxEntry.state == "held")))
    for entry in held:
        entry.state, entry.release_approved, entry.next_attempt_at = "queued", True, None
    return len(held)


def replies_in_state(session: Session, state: str) -> list[OutboxEntry]:
    """The outbox entries in ``state`` (``review``: held for staff), oldest first."""
    return list(
        session.scalars(
            select(OutboxEntry).where(OutboxEntry.state == state).order_by(OutboxEntry.id)
        )
    )


def undelivered_replies(session: Session) -> list[OutboxEntry]:
    """Mail refused for good or held back, newest first, for the report and the dashboard."""
    return list(
        session.scalars(
            select(OutboxEntry)
            .where(OutboxEntry.state.in_(("failed", "held")))
            .order_by(OutboxEntry.id.desc())
        )
    )


def claim_stored_message(session: Session, message_id: int) -> bool:
    """Take a stored message for processing in this transaction; False if another process has it."""
    done = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.state == "stored")
        .values(state="processing")
    )
    return done.rowcount == 1


def reply_for(session: Session, message_id: int, kind: str) -> OutboxEntry | None:
    """The reply of ``kind`` already queued for a message, if any."""
    return session.scalar(
        select(OutboxEntry).where(OutboxEntry.message_id == message_id, OutboxEntry.kind == kind)
    )


def replies_to_since(session: Session, recipient: str, since: datetime) -> int:
    """How many replies were queued for ``recipient`` since ``since``."""
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.recipient == recipient, OutboxEntry.created_at >= since)
        )
        or 0
    )


def counts(session: Session) -> dict[str, int]:
    """Queue sizes for the report: failed messages, messages awaiting processing, replies queued."""

    def count(*conditions) -> int:  # noqa: ANN002 - SQL expressions
        return (
            session.scalar(select(func.count()).select_from(conditions[0]).where(*conditions[1:]))
            or 0
        )

    return {
        "failed": count(Message, Message.state == "failed"),
        "pending": count(Message, Message.state == "stored"),
        "outbox_queued": count(OutboxEntry, OutboxEntry.state == "queued"),
        "outbox_failed": count(OutboxEntry, OutboxEntry.state == "failed"),
        "outbox_held": count(OutboxEntry, OutboxEntry.state == "held"),
    }


# -- staff views: the dashboard, the unit page and the exports ------------------------------------


def subcommittee_by_id(session: Session, unit_id: int) -> SubCommittee | None:
    """The sub-committee with database id ``unit_id``, if any."""
    return session.get(SubCommittee, unit_id)


def message_by_id(session: Session, message_id: int) -> Message | None:
    """The message with database id ``message_id``, if any."""
    return session.get(Message, message_id)


def version_by_id(session: Session, version_id: int) -> ItemVersion | None:
    """The item version with database id ``version_id``, if any."""
    return session.get(ItemVersion, version_id)


def outbox_entry_by_id(session: Session, entry_id: int) -> OutboxEntry | None:
    """The outbox entry (a reply) with database id ``entry_id``, if any."""
    return session.get(OutboxEntry, entry_id)


def unit_replies(session: Session, unit_id: int) -> list[OutboxEntry]:
    """Every reply queued or sent for the messages filed under one sub-committee, oldest first."""
    return list(
        session.scalars(
            select(OutboxEntry)
            .join(Message, OutboxEntry.message_id == Message.id)
            .where(Message.subcommittee_id == unit_id)
            .order_by(OutboxEntry.id)
        )
    )


def reminder_sent(session: Session, unit_id: int, key: str) -> bool:
    """Whether reminder ``key`` already went to this sub-committee."""
    return session.get(ReminderSent, (unit_id, key)) is not None


def last_reminder(session: Session, unit_id: int, key_prefix: str) -> datetime | None:
    """When the newest reminder whose key starts with ``key_prefix`` went to this unit."""
    return session.scalar(
        select(func.max(ReminderSent.sent_at)).where(
            ReminderSent.subcommittee_id == unit_id, ReminderSent.key.startswith(key_prefix)
        )
    )


def record_reminder(
    session: Session, unit_id: int, key: str, when: datetime, outbox_id: int | None
) -> None:
    """Remember that reminder ``key`` went to this unit (the primary key refuses a second)."""
    session.add(ReminderSent(subcommittee_id=unit_id, key=key, sent_at=when, outbox_id=outbox_id))


def unit_addresses(session: Session, unit: SubCommittee) -> list[str]:
    """Where to write to a unit: its registered addresses, then those learned from its mail."""
    learned = session.scalars(
        select(LearnedAddress.address)
        .where(LearnedAddress.subcommittee_id == unit.id)
        .order_by(LearnedAddress.address)
    )
    return list(dict.fromkeys([*(unit.emails or []), *learned]))


def messages_received_since(session: Session, since: datetime) -> list[Message]:
    """Processed messages from people that arrived since ``since``, oldest first."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.received_at >= since,
                Message.state == "processed",
                Message.machine_reason.is_(None),
            )
            .order_by(Message.received_at)
        )
    )


def set_service_state(session: Session, key: str, value: str, when: datetime) -> None:
    """Record a fact about the running service (last poll, last error): one upsert, so two
    processes recording the same key at once both succeed (the later one wins)."""
    insert = upsert_insert(session)
    if insert is None:
        row = session.get(ServiceState, key) or ServiceState(key=key)
        row.value, row.updated_at = value, when
        session.add(row)
        return
    statement = insert(ServiceState).values(key=key, value=value, updated_at=when)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[ServiceState.key], set_={"value": value, "updated_at": when}
        )
    )


def service_state(session: Session) -> dict[str, ServiceState]:
    """Everything the running service recorded, by key."""
    return {row.key: row for row in session.scalars(select(ServiceState))}
