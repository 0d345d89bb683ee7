"""Each stage of the pipeline on its own, on a real SQLite database and raw store."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from intake.pipeline import stages
from intake.pipeline.stages import Handling
from intake.samples import documents, mail, scans
from intake.service import open_pipeline
from tests.helpers.campaign import DEADLINE, DEPT, make_settings, submission
from tracker.models import Message, OutboxEntry

JIXIE = "机械工程与自动化学院分党委"
BEFORE = DEADLINE - timedelta(days=1)


@pytest.fixture
def pipeline(tmp_path):  # noqa: ANN001, ANN201
    settings = make_settings(tmp_path, security='authserv_id = "mx.example.edu.cn"')
    sessions, pipeline = open_pipeline(settings)
    return pipeline


def handling(pipeline, session, raw: bytes, upto, **options) -> Handling:  # noqa: ANN001
    """A Handling of a freshly stored ``raw`` message after every stage before ``upto``."""
    message_id = pipeline.ingest(raw, received_at=BEFORE)
    h = Handling(pipeline, session, session.get(Message, message_id), reply=True, **options)
    for stage in stages.STAGES[: stages.STAGES.index(upto)]:
        stage(h)
    return h


def test_the_stages_are_one_readable_list():
    assert [s.__name__ for s in stages.STAGES] == [
        "parse_mail",
        "skip_duplicates",
        "skip_machine_mail",
        "examine_attachments",
        "identify_unit",
        "verify_sender",
        "judge_for_unit",
        "record_versions",
        "queue_reply",
        "notify_staff",
    ]
    assert all(s.__doc__ for s in stages.STAGES)


def test_parse_mail_notes_sender_and_subject(pipeline):
    with pipeline.sessions() as session:
        h = handling(
            pipeline,
            session,
            submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE),
            stages.parse_mail,
        )
        stages.parse_mail(h)
        assert h.message.from_addr == "jixie@example.edu.cn" and JIXIE in h.message.subject
        assert h.mail.attachments and h.state is None


def test_skip_duplicates_ends_a_second_copy(pipeline):
    raw = submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, message_id="<same@x>")
    with pipeline.sessions() as session:
        first = handling(pipeline, session, raw, stages.skip_duplicates)
        stages.skip_duplicates(first)
        assert first.state is None
        session.commit()
        again = raw.replace(b"Subject:", b"X-Copy: 2\r\nSubject:", 1)
        second = handling(pipeline, session, again, stages.skip_duplicates)
        stages.skip_duplicates(second)
        assert second.state == "duplicate" == second.message.state


def test_skip_machine_mail_ends_an_auto_reply(pipeline):
    raw = mail.auto_reply(sender="jixie@example.edu.cn", to=DEPT, subject="材料", date=BEFORE)
    with pipeline.sessions() as session:
        h = handling(pipeline, session, raw, stages.skip_machine_mail)
        stages.skip_machine_mail(h)
        assert h.state == "processed" and h.message.machine_reason


def test_examine_attachments_reads_and_judges_every_file(pipeline):
    with pipeline.sessions() as session:
        h = handling(
            pipeline,
            session,
            submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE),
            stages.examine_attachments,
        )
        stages.examine_attachments(h)
        assert sorted(f.kind for f in h.findings) == [
            "summary",
            "summary_scan",
            "table",
            "table_scan",
        ]
        assert all(f.problems == [] and f.doubts == [] for f in h.findings)
        assert h.message_facts == {"big_attachments": []}


def test_identify_unit_by_registered_address(pipeline):
    with pipeline.sessions() as session:
        h = handling(
            pipeline,
            session,
            submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE),
            stages.identify_unit,
        )
        stages.identify_unit(h)
        assert (h.unit_name, h.method) == (JIXIE, "registered_address")


def test_verify_sender_holds_a_forged_registered_address(pipeline):
    forged = mail.build_message(
        sender="jixie@example.edu.cn",
        to=DEPT,
        subject="材料",
        body="见附件",
        date=BEFORE,
        extra_headers={
            "Authentication-Results": "mx.example.edu.cn; "
            "spf=fail smtp.mailfrom=jixie@example.edu.cn; dkim=fail header.d=example.edu.cn"
        },
    )
    with pipeline.sessions() as session:
        h = handling(pipeline, session, forged, stages.verify_sender)
        stages.verify_sender(h)
        assert h.unit_id is None and h.reply is False
        assert h.message_facts["forged"] == {"address": "jixie@example.edu.cn", "unit": JIXIE}


def test_judge_for_unit_applies_unit_rules_to_the_facts_already_read(pipeline):
    table = documents.table_xlsx(JIXIE, named_unit="计算机学院分党委")
    raw = submission(
        JIXIE, "jixie@example.edu.cn", arrived=BEFORE, attachments=[("汇总表.xlsx", table)]
    )
    with pipeline.sessions() as session:
        h = handling(pipeline, session, raw, stages.judge_for_unit)
        [finding] = h.findings
        assert finding.problems == []  # the unit was not known when the file was read
        facts = finding.facts
        stages.judge_for_unit(h)
        assert [p.code for p in h.findings[0].problems] == ["subcommittee_mismatch"]
        assert h.findings[0].facts is facts


def test_record_versions_keeps_doubts_and_does_not_count_a_photo(pipeline):
    buf = io.BytesIO()
    scans.scan_page("table_scan", JIXIE).convert("L").save(buf, "PDF", resolution=100)
    big_photo = io.BytesIO()
    Image.open(io.BytesIO(documents.photo_png())).convert("RGB").resize((1600, 1200)).save(
        big_photo, "JPEG"
    )
    raw = submission(
        JIXIE,
        "jixie@example.edu.cn",
        arrived=BEFORE,
        attachments=[
            ("汇总表（盖章扫描件）.pdf", buf.getvalue()),
            ("IMG_20220330_1015.jpg", big_photo.getvalue()),
        ],
    )
    with pipeline.sessions() as session:
        h = handling(pipeline, session, raw, stages.record_versions)
        stages.record_versions(h)
        versions = {v.filename: v for v in h.message.versions}
        assert [d["code"] for d in versions["汇总表（盖章扫描件）.pdf"].doubts] == ["seal_unsure"]
        assert [d["code"] for d in versions["IMG_20220330_1015.jpg"].doubts] == ["kind_unsure"]
        assert h.message.state == "processed"


def test_queue_reply_queues_one_receipt(pipeline):
    with pipeline.sessions() as session:
        h = handling(
            pipeline,
            session,
            submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE),
            stages.queue_reply,
        )
        stages.queue_reply(h)
        stages.queue_reply(h)
        entries = session.query(OutboxEntry).all()
        assert h.replied and len(entries) == 1 and entries[0].recipient == "jixie@example.edu.cn"
