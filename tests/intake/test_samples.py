"""intake.samples.campaign: the demo campaign is written safely and reads back."""

from __future__ import annotations

import io
import mailbox
import tomllib
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from intake.samples.campaign import DemoCampaign, write_demo_campaign
from parsers.mail import parse_message

CN = timezone(timedelta(hours=8))
DEADLINE = datetime(2022, 4, 1, 17, 0, tzinfo=CN)
EXPECTED_MESSAGES = 16


def _snapshot(maildir):
    return sorted(str(p.relative_to(maildir)) for p in maildir.rglob("*") if p.is_file())


def _mails(maildir):
    box = mailbox.Maildir(str(maildir), factory=None, create=False)
    return [parse_message(box.get_bytes(key)) for key in sorted(box.keys())]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo")
    first = write_demo_campaign(directory)
    snapshot = (
        _snapshot(first.maildir),
        first.config_path.read_bytes(),
        [m.message_id for m in _mails(first.maildir)],
    )
    second = write_demo_campaign(directory)
    return first, second, snapshot


def test_writing_twice_gives_the_same_files(written):
    first, second, (names, config, ids) = written
    assert isinstance(second, DemoCampaign) and second == first
    assert _snapshot(second.maildir) == names
    assert second.config_path.read_bytes() == config
    assert [m.message_id for m in _mails(second.maildir)] == ids
    assert len(mailbox.Maildir(str(second.maildir), create=False)) == EXPECTED_MESSAGES
    assert all(name.startswith("new/") for name in names)


def test_config_parses(written):
    campaign = written[1]
    config = tomllib.loads(campaign.config_path.read_text(encoding="utf-8"))
    assert config["campaign"]["deadline"] == DEADLINE
    assert config["smtp"] == {"from": "党委组织部 <zzb@example.edu.cn>", "outbox_dir": "outbox"}
    units = config["subcommittees"]
    assert len(units) == 12 and [u["name"] for u in units] == campaign.units
    labels = [(u["name"], label) for u in units for label in [u["name"], *u["aliases"]]]
    for owner, label in labels:
        for other, other_label in labels:
            if owner != other:
                assert label not in other_label, (label, other_label)


def test_the_mail_mix(written):
    mails = _mails(written[1].maildir)
    by_subject = {m.subject: m for m in mails}
    assert by_subject["材料"].from_addr == "lixiaoming1990@163.com"
    late = by_subject["经济管理学院分党委立项材料报送"]
    assert late.date < DEADLINE < late.received_at
    assert by_subject["机关直属党总支2022年立项材料（王喆）"].from_addr == "wangzhe1986@qq.com"
    assert any(m.big_attachments and not m.attachments for m in mails)
    assert any(m.content_type == "multipart/report" for m in mails)
    assert any(m.headers.get("auto-submitted") == "auto-replied" for m in mails)
    ids = [m.message_id for m in mails]
    assert len(ids) - len(set(ids)) == 1
    assert max(len(m.attachments) for m in mails) == 4
    archive = next(a for m in mails for a in m.attachments if a.filename.endswith(".zip"))
    names = zipfile.ZipFile(io.BytesIO(archive.data), metadata_encoding="gbk").namelist()
    assert any(name.endswith("开展支部立项工作总结.docx") for name in names)
    assert any(m.received_at > DEADLINE and "更正" in m.subject for m in mails)
