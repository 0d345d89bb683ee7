"""Once per Message-ID, decided when a message is stored: a second copy (another UID, another
worker) is stored as a duplicate before any work is done; units copied into the database by an
upsert, so workers starting together never collide."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

from intake.config import load_settings
from intake.pipeline import Pipeline
from intake.service import open_database
from tests.helpers.campaign import DEADLINE, submission, write_config
from tracker import records
from tracker.models import Message, MessageClaim, SubCommittee

JIXIE = "机械工程与自动化学院分党委"
BEFORE = DEADLINE - timedelta(days=1)


def pipeline(tmp_path):  # noqa: ANN001, ANN201
    settings = load_settings(write_config(tmp_path))
    sessions = open_database(settings.database_url)
    return Pipeline(settings, sessions, reply=True), sessions


def test_a_second_delivery_of_a_message_id_is_stored_as_a_duplicate(tmp_path):
    pipe, sessions = pipeline(tmp_path)
    raw = submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, message_id="<twice@x.cn>")
    first = pipe.ingest(raw, received_at=BEFORE, source="INBOX", uidvalidity=1, uid=1)
    second = pipe.ingest(raw, received_at=BEFORE, source="INBOX", uidvalidity=1, uid=2)
    resent = submission(  # the same Message-ID with other bytes (a client resending)
        JIXIE, "jixie@example.edu.cn", arrived=BEFORE, message_id="<twice@x.cn>", subject="再发"
    )
    third = pipe.ingest(resent, received_at=BEFORE, source="INBOX", uidvalidity=1, uid=3)
    with sessions() as session:
        states = {m.id: m.state for m in session.query(Message)}
        assert states == {first: "stored", second: "duplicate", third: "duplicate"}
        assert records.claim_holder(session, "twice@x.cn") == first
    outcomes = pipe.process_pending()
    assert [o.message_id for o in outcomes] == [first]
    with sessions() as session:
        assert session.get(Message, first).state == "processed"
        assert len(records.unit_versions(session, session.get(Message, first).subcommittee_id)) == 4


def test_without_a_message_id_the_raw_hash_is_the_claim(tmp_path):
    pipe, sessions = pipeline(tmp_path)
    raw = submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE)
    raw = b"\r\n".join(
        line for line in raw.split(b"\r\n") if not line.lower().startswith(b"message-id:")
    )
    first = pipe.ingest(raw, received_at=BEFORE, source="INBOX", uidvalidity=1, uid=1)
    second = pipe.ingest(raw, received_at=BEFORE, source="INBOX", uidvalidity=1, uid=2)
    with sessions() as session:
        assert session.get(Message, second).state == "duplicate"
        [claim] = session.query(MessageClaim).all()
        assert claim.key.startswith("sha256:") and claim.message_id == first


def test_workers_starting_together_copy_the_units_once(tmp_path):
    settings = load_settings(write_config(tmp_path))
    sessions = open_database(settings.database_url)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            Pipeline(settings, sessions)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    workers = [threading.Thread(target=start) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with sessions() as session:
        names = [u.name for u in session.query(SubCommittee).order_by(SubCommittee.position)]
    assert names == [u.name for u in settings.subcommittees]


def test_a_database_failure_leaves_the_message_stored_for_the_next_run(tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    pipe, sessions = pipeline(tmp_path)
    raw = submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, message_id="<gone@x.cn>")
    stored = pipe.ingest(raw, received_at=BEFORE, source="INBOX", uidvalidity=1, uid=1)
    real = Pipeline._process

    def database_gone(self, session, message, **options):  # noqa: ANN001, ANN003, ANN202
        raise OperationalError("UPDATE messages", {}, Exception("server closed the connection"))

    monkeypatch.setattr(Pipeline, "_process", database_gone)
    try:
        pipe.process_pending()
    except OperationalError:
        pass
    else:
        raise AssertionError("a database failure must stop the pass")
    with sessions() as session:
        assert session.get(Message, stored).state == "stored"  # not parked as failed
    monkeypatch.setattr(Pipeline, "_process", real)
    assert [o.state for o in pipe.process_pending()] == ["processed"]


def test_a_failure_of_the_message_itself_still_parks_it(tmp_path, monkeypatch):
    pipe, sessions = pipeline(tmp_path)
    raw = submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, message_id="<bad@x.cn>")
    stored = pipe.ingest(raw, received_at=BEFORE, source="INBOX", uidvalidity=1, uid=1)

    def broken(self, session, message, **options):  # noqa: ANN001, ANN003, ANN202
        raise ValueError("a tree no reader handles")

    monkeypatch.setattr(Pipeline, "_process", broken)
    assert [o.state for o in pipe.process_pending()] == ["failed"]
    with sessions() as session:
        assert session.get(Message, stored).state == "failed"


def test_the_report_counts_messages_left_stored_apart_from_failed(tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from intake.reporting import report_data
    from tracker.report import summary_counts

    pipe, sessions = pipeline(tmp_path)
    raw = submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, message_id="<wait@x.cn>")
    pipe.ingest(raw, received_at=BEFORE, source="INBOX", uidvalidity=1, uid=1)

    def database_gone(self, session, message, **options):  # noqa: ANN001, ANN003, ANN202
        raise OperationalError("UPDATE messages", {}, Exception("server closed the connection"))

    monkeypatch.setattr(Pipeline, "_process", database_gone)
    with contextlib.suppress(OperationalError):
        pipe.process_pending()
    counts = summary_counts(report_data(pipe.settings, sessions))
    assert counts["pending"] == 1 and counts["failed"] == 0
