"""Hostile mail: mutated messages never lose the raw bytes or stop the batch; forged senders are
held."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from intake.localsource import LocalMessage
from intake.reporting import report_data
from intake.samples import documents, mail
from intake.service import import_messages, open_pipeline
from intake.store import RawStore
from parsers.authresults import sender_verdict
from tests.helpers import tally
from tests.helpers.campaign import DEADLINE, DEPT, make_settings, submission
from tracker import records

BEFORE = DEADLINE - timedelta(days=1)
JIXIE = "机械工程与自动化学院分党委"


def seeds() -> list[bytes]:
    """Realistic messages of every kind to mutate."""
    table = documents.table_xlsx(JIXIE)
    return [
        submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=BEFORE,
            style="foxmail",
            attachments=[("汇总表.xlsx", table)],
        ),
        submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=BEFORE,
            style="qq",
            attachments=[("材料.zip", mail.zip_cp936([("机械学院汇总表.xlsx", table)]))],
        ),
        mail.qq_big_attachment(
            sender="1@qq.com",
            to=DEPT,
            subject="机械学院超大附件",
            files=[("a.zip", "60M")],
            date=BEFORE,
            arrived=BEFORE,
        ),
        mail.bounce(
            to=DEPT, failed_recipient="x@example.edu.cn", original_subject="催交", date=BEFORE
        ),
        mail.forwarded(
            submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, attachments=[]),
            sender="jixie@example.edu.cn",
            to=DEPT,
            subject="转发",
            body="见附件",
            date=BEFORE,
        ),
    ]


def mutations(rng: random.Random, raw: bytes) -> list[bytes]:
    """Damaged versions of ``raw``: broken boundaries, wrong charsets, truncation, flipped bytes."""
    out = []
    boundary = raw.find(b"boundary=")
    if boundary != -1:
        out.append(
            raw[: boundary + 10] + b"XX" + raw[boundary + 12 :]
        )  # the boundary no longer matches
    out.append(raw.replace(b"charset=", b"charset=x-unknown-", 3))
    out.append(raw.replace(b"charset=", b"charset=utf-16", 3))
    out.append(raw.replace(b"base64", b"quoted-printable", 2))
    for _ in range(6):
        cut = rng.randrange(1, len(raw))
        out.append(raw[:cut])
    for _ in range(6):
        data = bytearray(raw)
        for _ in range(rng.randrange(1, 50)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        out.append(bytes(data))
    return out


def monsters() -> list[bytes]:
    """Hand-made hostile messages: 10 000 headers, a 50 MB line, recursive message/rfc822."""
    many_headers = b"".join(b"X-Spam-%d: %d\r\n" % (i, i) for i in range(10_000))
    huge_line = (
        b"From: a@b.c\r\nSubject: line\r\nMessage-ID: <huge@x>\r\n\r\n"
        + b"A" * (50 * 1000 * 1000)
        + b"\r\n"
    )
    nested = b"From: jixie@example.edu.cn\r\nSubject: inner\r\n\r\nbody\r\n"
    for depth in range(200):
        nested = (
            b"From: jixie@example.edu.cn\r\nSubject: level %d\r\nMessage-ID: <nest%d@x>\r\n"
            b"Content-Type: message/rfc822\r\n\r\n" % (depth, depth)
        ) + nested
    return [
        b"From: a@b.c\r\nMessage-ID: <headers@x>\r\n" + many_headers + b"\r\nbody\r\n",
        huge_line,
        nested,
        b"\x00\xff" * 1000,
        b"Subject: =?gb2312?B?" + b"=" * 5000 + b"?=\r\n\r\n",
    ]


def test_mutated_and_monstrous_mail_keeps_every_raw_message_and_the_batch_goes_on(tmp_path):
    settings = make_settings(tmp_path)
    sessions, pipeline = open_pipeline(settings, reply=False)
    rng = random.Random(20220401)
    mutated = [m for raw in seeds() for m in mutations(rng, raw)]
    # Each mutant gets its own Message-ID so it is parsed in full rather than skipped as a
    # duplicate.
    hostile = [b"Message-ID: <mutant%d@x>\r\n" % i + m for i, m in enumerate(mutated)] + monsters()
    normal = submission(
        JIXIE, "jixie@example.edu.cn", arrived=BEFORE, message_id="<after-the-storm@x>"
    )
    batch = [
        LocalMessage(f"h{i}.eml", raw, BEFORE + timedelta(seconds=i))
        for i, raw in enumerate(hostile)
    ]
    batch.append(LocalMessage("normal.eml", normal, BEFORE + timedelta(hours=1)))
    import_messages(settings, pipeline, sessions, batch, reply=False)
    store = RawStore(settings.storage_dir)
    with sessions() as session:
        stored = records.messages_in_state(session, "processed", "failed", "duplicate", "stored")
        states = Counter(m.state for m in stored)
        kept = {m.raw_sha256 for m in stored}
        for message in stored:
            assert store.get(message.raw_sha256)  # byte for byte, whatever became of it
    assert "stored" not in states and states["duplicate"] == 0
    assert {RawStore(settings.storage_dir).put(raw) for raw in hostile + [normal]} <= kept
    unit = next(u for u in report_data(settings, sessions)["subcommittees"] if u["name"] == JIXIE)
    assert unit["complete"]
    tally.add("hostile messages through the pipeline", len(hostile))


FORGED = (
    "mx.example.edu.cn; spf=fail smtp.mailfrom=jixie@example.edu.cn; dkim=none; "
    "dmarc=fail header.from=example.edu.cn"
)
GENUINE = (
    "mx.example.edu.cn; spf=pass smtp.mailfrom=jixie@example.edu.cn; "
    "dkim=pass header.d=example.edu.cn"
)


def test_sender_verdict_trusts_only_our_servers_topmost_header():
    assert sender_verdict([FORGED], "mx.example.edu.cn") == "fail"
    assert sender_verdict([GENUINE], "mx.example.edu.cn") == "pass"
    assert (
        sender_verdict(["mx.example.edu.cn; spf=softfail; dkim=none"], "MX.example.edu.cn")
        == "fail"
    )
    assert sender_verdict(["evil.example; spf=fail; dmarc=fail"], "mx.example.edu.cn") == "none"
    assert sender_verdict([GENUINE, FORGED], "mx.example.edu.cn") == "pass"
    assert sender_verdict([], "mx.example.edu.cn") == "none"


def test_a_forged_registered_sender_is_not_counted_but_held_for_staff(tmp_path):
    settings = make_settings(tmp_path, security='authserv_id = "mx.example.edu.cn"')
    sessions, pipeline = open_pipeline(settings)
    forged = submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE, message_id="<forged@x>")
    forged = b"Authentication-Results: " + FORGED.encode() + b"\r\n" + forged
    genuine = (
        b"Authentication-Results: "
        + GENUINE.encode()
        + b"\r\n"
        + submission(
            JIXIE,
            "jixie@example.edu.cn",
            arrived=BEFORE,
            message_id="<genuine@x>",
            attachments=[("汇总表.xlsx", documents.table_xlsx(JIXIE))],
        )
    )
    import_messages(
        settings,
        pipeline,
        sessions,
        [LocalMessage("f.eml", forged, BEFORE), LocalMessage("g.eml", genuine, BEFORE)],
    )
    report = report_data(settings, sessions)
    unit = next(u for u in report["subcommittees"] if u["name"] == JIXIE)
    assert (
        unit["items"]["summary"]["status"] == "missing"
        and unit["items"]["table"]["status"] == "on_time"
    )
    [held] = report["unassigned"]
    assert held["message_id"] == "forged@x"
    assert [p["code"] for p in held["problems"]] == ["sender_unverified"]
    replies = sorted((settings.smtp.outbox_dir).glob("*.eml"))
    assert len(replies) == 1  # only the genuine message is answered: no reply to a forged sender

    from intake.web.app import create_app

    page = create_app(settings, sessions, pipeline).test_client().get("/").get_data(as_text=True)
    assert "未通过收信服务器的发信验证" in page
