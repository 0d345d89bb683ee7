"""``intake import`` keeps ``[limits] max_message_bytes`` as IMAP does: a message over it is
never loaded whole; its header block is stored, it is marked truncated with its real size, and
the sender is answered with ``too_large``. Files are real, on disk, written here."""

from __future__ import annotations

import base64
import mailbox
import os
import tracemalloc
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from intake.config import load_settings
from intake.localsource import HEADER_LIMIT, LocalMessage, header_block, iter_messages
from intake.service import import_messages, open_pipeline
from intake.store import RawStore
from parsers.vocabulary import human_size
from tests.helpers.campaign import DEADLINE, submission, write_config
from tests.intake.test_cli_local import report, run, unit
from tracker import records

BEFORE = DEADLINE - timedelta(days=1)
JIXIE = "机械工程与自动化学院分党委"
CAILIAO = "材料科学与工程学院分党委"
LIMIT = 1024 * 1024


def big_message(path: Path, megabytes: int, *, sender: str = "jixie@example.edu.cn") -> bytes:
    """Write a message of about ``megabytes`` MB (one base64 attachment) a line at a time;
    returns its header block."""
    head = (
        f"From: 机械学院 <{sender}>\r\nTo: zzb@example.edu.cn\r\n"
        "Subject: =?utf-8?b?" + base64.b64encode("立项材料".encode()).decode() + "?=\r\n"
        f"Message-ID: <big-{path.name}@example.edu.cn>\r\n"
        "Date: Thu, 31 Mar 2022 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    ).encode()
    line = base64.b64encode(os.urandom(57)) + b"\r\n"
    with path.open("ab") as out:
        out.write(head)
        out.write(
            b'--b\r\nContent-Type: application/zip; name="a.zip"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n"
        )
        for _ in range(megabytes):
            out.write(line * (1024 * 1024 // len(line)))
        out.write(b"--b--\r\n")
    return head


def replies(config: Path) -> list[str]:
    texts = []
    for path in sorted((config.parent / "outbox").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=default)
        texts.append(message.get_body(("plain",)).get_content())
    return texts


def stored_messages(config: Path):  # noqa: ANN201
    settings = load_settings(config)
    sessions, _ = open_pipeline(settings, reply=False)
    with sessions() as session:
        found = records.messages_in_state(session, "processed", "failed", "duplicate", "stored")
        return [(m.size, m.truncated, m.raw_sha256, m.subject) for m in found], settings


def test_an_eml_over_the_limit_is_refused_as_imap_refuses_it_without_loading_it(tmp_path, capsys):
    config = write_config(tmp_path, max_message_bytes=LIMIT)
    eml = tmp_path / "big.eml"
    head = big_message(eml, 30)
    size = eml.stat().st_size
    tracemalloc.start()
    assert run(config, "import", str(eml)) == 0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < size / 5  # the 30 MB file was never read whole
    data = report(config, capsys)
    assert [p["code"] for p in unit(data, JIXIE)["problems"]] == ["too_large"]
    [text] = replies(config)
    # the sentence IMAP gives, word for word
    assert f"来信大小为 {human_size(size)}，超过系统上限 1.0 MB，未能接收" in text
    [(stored_size, truncated, digest, subject)], settings = stored_messages(config)
    assert (stored_size, truncated, subject) == (size, True, "立项材料")
    assert RawStore(settings.storage_dir).get(digest) == head  # the header block, byte for byte


def test_an_eml_within_the_limit_is_stored_whole(tmp_path, capsys):
    config = write_config(tmp_path, max_message_bytes=50 * LIMIT)
    eml = tmp_path / "one.eml"
    raw = submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE)
    eml.write_bytes(raw)
    assert run(config, "import", str(eml)) == 0
    assert unit(report(config, capsys), JIXIE)["complete"]
    [(size, truncated, digest, _)], settings = stored_messages(config)
    assert (size, truncated) == (len(raw), False)
    assert RawStore(settings.storage_dir).get(digest) == raw


def test_an_mbox_with_one_oversized_message_keeps_the_others(tmp_path, capsys):
    path = tmp_path / "old.mbox"
    box = mailbox.mbox(path)
    box.add(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    box.flush()
    big = tmp_path / "big.part"
    big_message(big, 8, sender="cailiao@example.edu.cn")
    with path.open("ab") as out:
        out.write(b"\nFrom cailiao@example.edu.cn Thu Mar 31 10:00:00 2022\n")
        out.write(big.read_bytes().replace(b"\r\n", b"\n"))
    box = mailbox.mbox(path)
    box.add(submission("经济管理学院分党委", "jingguan@example.edu.cn", arrived=BEFORE))
    box.flush()
    sizes = [len(box.get_bytes(key)) for key in box.keys()]
    assert len(sizes) == 3 and sizes[1] > 2 * LIMIT > max(sizes[0], sizes[2])
    config = write_config(tmp_path, max_message_bytes=2 * LIMIT)
    assert run(config, "import", str(path)) == 0
    data = report(config, capsys)
    assert unit(data, JIXIE)["complete"] and unit(data, "经济管理学院分党委")["complete"]
    assert [p["code"] for p in unit(data, CAILIAO)["problems"]] == ["too_large"]
    stored, _ = stored_messages(config)
    assert sorted((size, truncated) for size, truncated, _, _ in stored) == sorted(
        [(sizes[0], False), (sizes[1], True), (sizes[2], False)]
    )
    assert sum("超过系统上限 2.0 MB" in text for text in replies(config)) == 1


def test_an_mbox_is_read_without_loading_its_big_message(tmp_path):
    path = tmp_path / "old.mbox"
    path.write_bytes(b"From a@b Thu Mar 31 10:00:00 2022\nSubject: small\n\nhello\n\n")
    big = tmp_path / "big.part"
    big_message(big, 20)
    with path.open("ab") as out:
        out.write(b"From a@b Thu Mar 31 11:00:00 2022\n")
        out.write(big.read_bytes())
    big.unlink()
    tracemalloc.start()
    messages = [
        (m.truncated, m.size, len(m.raw)) for m in iter_messages([path], max_message_bytes=LIMIT)
    ]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * 1024 * 1024  # 20 MB in the file; blocks of 1 MB scanned
    assert [t for t, _, _ in messages] == [False, True]
    assert messages[1][1] > 19 * 1024 * 1024 and messages[1][2] <= HEADER_LIMIT


def test_mbox_messages_are_split_exactly_as_the_mailbox_module_splits_them(tmp_path):
    import random

    rng = random.Random(20220401)
    lines = [b"\n", b"line\n", b"From x\n", b">From y\n", b"\r\n", b"From \n", b"abc"]
    for trial in range(200):
        parts = [
            b"From a@b" + rng.choice([b" x\n", b"\n", b""]) + b"Subject: s\n\n"
            + b"".join(rng.choice(lines) for _ in range(rng.randint(0, 12)))
            for _ in range(rng.randint(1, 5))
        ]  # fmt: skip
        path = tmp_path / f"{trial}.mbox"
        path.write_bytes(b"".join(parts))
        box = mailbox.mbox(path, create=False)
        expected = [box.get_bytes(key) for key in box.keys()]
        assert [m.raw for m in iter_messages([path])] == expected


def test_a_maildir_reads_each_file_only_when_its_turn_comes(tmp_path, capsys):
    maildir = mailbox.Maildir(tmp_path / "maildir", create=True)
    maildir.add(submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE))
    big_message(tmp_path / "maildir" / "new" / "big.eml", 3, sender="cailiao@example.edu.cn")
    config = write_config(tmp_path, max_message_bytes=LIMIT)
    assert run(config, "import", str(tmp_path / "maildir")) == 0
    data = report(config, capsys)
    assert unit(data, JIXIE)["complete"]
    assert [p["code"] for p in unit(data, CAILIAO)["problems"]] == ["too_large"]


def test_messages_handed_over_in_memory_get_the_same_limit(tmp_path):
    settings = load_settings(write_config(tmp_path, max_message_bytes=50_000))
    sessions, pipeline = open_pipeline(settings, reply=False)
    raw = submission(JIXIE, "jixie@example.edu.cn", arrived=BEFORE)
    assert len(raw) > 50_000
    import_messages(settings, pipeline, sessions, [LocalMessage("x.eml", raw, BEFORE)], reply=False)
    with sessions() as session:
        [message] = records.messages_in_state(session, "processed")
        assert message.truncated and message.size == len(raw)
        stored = RawStore(settings.storage_dir).get(message.raw_sha256)
    assert stored == header_block(raw) and raw.startswith(stored)
