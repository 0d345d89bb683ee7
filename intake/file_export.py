"""Every unit's files in one zip for the configured campaign, as ``intake export-files`` and the
dashboard's download write it (the zip itself is ``tracker.file_export``)."""

from __future__ import annotations

from typing import IO

from sqlalchemy.orm import Session, sessionmaker

from tracker.file_export import FileExport, build_file_export

from .config import Settings
from .store import RawStore


def export_files(
    settings: Settings,
    sessions: sessionmaker[Session],
    target: object | IO[bytes],
    *,
    all_versions: bool = False,
) -> FileExport:
    """Write the zip of the configured campaign to ``target`` (a path or a writable binary file):
    the stored attachments read from ``storage.dir`` in blocks, named by ``[export] file_name``."""
    store = RawStore(settings.storage_dir)
    with sessions() as session:
        return build_file_export(
            session,
            target,
            open_file=lambda digest: store.path(digest, "attachments").open("rb"),
            rules=settings.rules,
            deadline=settings.deadline,
            file_name=settings.export_file_name,
            all_versions=all_versions,
            campaign=settings.campaign_name,
        )
