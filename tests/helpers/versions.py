"""Item versions written straight into a campaign's database, for tests of what reads them (the
file export) that need many or odd files without parsing any: one message and one version each."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker.models import ItemVersion, Message


def add_version(
    session: Session,
    unit_id: int,
    item: str,
    filename: str,
    digest: str,
    size: int,
    at: datetime,
    *,
    problems: list[dict[str, Any]] | None = None,
    doubts: list[dict[str, Any]] | None = None,
) -> ItemVersion:
    """A processed message from the unit, received ``at``, with one file stored as ``digest``."""
    message = Message(
        source="import",
        raw_sha256=hashlib.sha256(f"{digest}{filename}{at}".encode()).hexdigest(),
        size=size,
        received_at=at,
        stored_at=at,
        state="processed",
        subcommittee_id=unit_id,
    )
    session.add(message)
    session.flush()
    version = ItemVersion(
        message_id=message.id,
        subcommittee_id=unit_id,
        item=item,
        filename=filename,
        sha256=digest,
        size=size,
        received_at=at,
        problems=problems or [],
        doubts=doubts or [],
    )
    session.add(version)
    return version
