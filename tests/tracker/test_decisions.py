"""Staff decisions laid over item status: accept, reject, mark, extend, exempt, undone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from tests.helpers.campaign import DEADLINE
from tracker.decisions import Overrides
from tracker.models import StaffDecision
from tracker.status import unit_complete, unit_statuses

SEAL_DOUBT = {"code": "seal_unsure", "message": "扫描件《a.jpg》上的公章系统无法自动确认"}
KIND_DOUBT = {"code": "kind_unsure", "message": "《IMG_2022.jpg》无法自动判断是哪一项材料"}
BEST = {"code": "best_ratio_exceeded", "message": "“最佳”等次超过 30%"}


@dataclass
class Version:
    id: int
    item: str
    filename: str
    sha256: str
    received_at: object
    problems: list = field(default_factory=list)
    doubts: list = field(default_factory=list)


def decision(number: int, action: str, **fields) -> StaffDecision:  # noqa: ANN003
    return StaffDecision(
        id=number,
        subcommittee_id=1,
        action=action,
        reason=fields.pop("reason", "核对过"),
        decided_by="张老师",
        decided_at=DEADLINE + timedelta(hours=number),
        **fields,
    )


def versions() -> list[Version]:
    early = DEADLINE - timedelta(days=1)
    return [
        Version(1, "summary", "总结.docx", "s1", early),
        Version(2, "summary_scan", "总结扫描.jpg", "s2", early, doubts=[SEAL_DOUBT]),
        Version(3, "table", "汇总表.xlsx", "s3", early, problems=[BEST]),
        Version(4, "table_scan", "IMG_2022.jpg", "s4", early, doubts=[KIND_DOUBT]),
    ]


def statuses(*decisions: StaffDecision):  # noqa: ANN201
    return unit_statuses(
        versions(), DEADLINE, overrides=Overrides(decisions, {"table_scan": "汇总表扫描件"})
    )


def test_without_decisions_the_system_verdicts_stand():
    got = statuses()
    assert got["summary_scan"].doubts == [SEAL_DOUBT]
    assert got["table"].problems == [BEST]
    assert got["table_scan"].status == "missing"  # a photo is not counted while in doubt
    assert not unit_complete(got)


def test_accepting_settles_doubts_waives_problems_and_counts_the_file():
    got = statuses(
        decision(1, "accept", item="summary_scan", code="seal_unsure", sha256="s2"),
        decision(2, "accept", item="table", code="best_ratio_exceeded", sha256="s3"),
        decision(3, "accept", item="table_scan", code="kind_unsure", sha256="s4"),
    )
    assert got["summary_scan"].doubts == [] and [d.id for d in got["summary_scan"].decisions] == [1]
    assert got["table"].problems == [] and [d.id for d in got["table"].decisions] == [2]
    assert got["table_scan"].status == "on_time" and got["table_scan"].filename == "IMG_2022.jpg"
    assert unit_complete(got)


def test_a_decision_binds_to_its_file_only():
    got = statuses(decision(1, "accept", item="table", code="best_ratio_exceeded", sha256="other"))
    assert got["table"].problems == [BEST] and got["table"].decisions == []


def test_rejecting_a_doubt_makes_a_problem_with_the_staff_reason():
    got = statuses(
        decision(
            1,
            "reject",
            item="summary_scan",
            code="seal_unsure",
            sha256="s2",
            filename="总结扫描.jpg",
            reason="未盖公章",
        )
    )
    problem = got["summary_scan"].problems[0]
    assert problem["code"] == "seal_unsure" and problem["decision"] == 1
    assert "《总结扫描.jpg》" in problem["message"] and "未盖公章" in problem["message"]
    assert got["summary_scan"].doubts == []
    assert not unit_complete(got)


def test_rejecting_a_kind_doubt_keeps_the_photo_out_of_the_item():
    got = statuses(
        decision(1, "reject", item="table_scan", code="kind_unsure", sha256="s4", reason="活动照片")
    )
    assert got["table_scan"].status == "missing" and got["table_scan"].doubts == []
    assert [d.id for d in got["table_scan"].decisions] == [1]


def test_mark_extend_and_exempt():
    paper_time = DEADLINE + timedelta(days=1)
    got = statuses(
        decision(1, "mark", item="table_scan", moment=paper_time, reason="纸质版当面交来"),
        decision(2, "extend", moment=DEADLINE + timedelta(days=2), reason="学院换届"),
        decision(3, "exempt", item="table", reason="该单位本年度无立项"),
    )
    scan = got["table_scan"]
    assert scan.status == "on_time"  # judged against the unit's own deadline
    assert scan.filename == "（线下提交）" and scan.received_at == paper_time
    assert {d.id for d in scan.decisions} == {1, 2}
    assert got["table"].status == "exempt" and got["table"].problems == []
    assert not got["table"].required


def test_an_extension_can_be_shortened_and_late_is_judged_against_it():
    got = statuses(
        decision(1, "extend", moment=DEADLINE + timedelta(days=5)),
        decision(2, "extend", moment=DEADLINE - timedelta(days=2)),
        decision(3, "mark", item="table_scan", moment=DEADLINE - timedelta(hours=1)),
    )
    assert got["summary"].status == "late" and got["table_scan"].status == "late"


def test_undone_decisions_no_longer_apply():
    undone = decision(1, "exempt", item="table")
    undone.undone_at, undone.undone_by = DEADLINE + timedelta(days=1), "李老师"
    got = statuses(undone)
    assert got["table"].status == "on_time" and got["table"].problems == [BEST]
    assert got["table"].decisions == []
