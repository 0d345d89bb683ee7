"""Reminders name only the items the campaign requires, under its labels."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy

from notifier.reminders import queue_reminders
from parsers.rules import CampaignRules, ItemSetting, default_items
from tracker import records
from tracker.db import open_database
from tracker.models import OutboxEntry

DEADLINE = datetime(2022, 4, 1, 9, 0, tzinfo=UTC)


def reminder_bodies(tmp_path, rules: CampaignRules) -> list[str]:  # noqa: ANN001
    sessions = open_database(f"sqlite:///{tmp_path / 'r.db'}")
    with sessions() as session:
        records.sync_subcommittees(
            session, [("机械工程与自动化学院分党委", ["机械学院"], ["jixie@example.edu.cn"])]
        )
        queue_reminders(
            session,
            key="before-1d",
            campaign="立项",
            deadline=DEADLINE,
            sender="zzb@example.edu.cn",
            now=DEADLINE - timedelta(days=1),
            rules=rules,
        )
        session.commit()
        entries = session.query(OutboxEntry).all()
        return [
            email.message_from_bytes(e.body, policy=default_policy)
            .get_body(("plain",))
            .get_content()
            for e in entries
        ]


def test_a_reminder_lists_the_required_items_under_the_campaign_labels(tmp_path):
    items = tuple(
        ItemSetting(
            i.key,
            "汇总表盖章件（可不交）" if i.key == "table_scan" else i.label,
            i.short_label,
            i.key != "table_scan",
        )
        for i in default_items()
    )
    [body] = reminder_bodies(tmp_path, CampaignRules(items=items))
    assert "工作总结（电子版）" in body and "立项结果汇总表（电子版）" in body
    assert "可不交" not in body and "盖章扫描件）" in body  # the summary scan is still required


def test_no_reminder_when_only_optional_items_are_missing(tmp_path):
    items = tuple(ItemSetting(i.key, i.label, i.short_label, False) for i in default_items())
    assert reminder_bodies(tmp_path, CampaignRules(items=items)) == []
