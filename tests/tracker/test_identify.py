"""Identification: registered address, then unit names in the content, then learned addresses."""

from __future__ import annotations

from tracker.identify import UnitNames, identify, units_named_in

UNITS = [
    UnitNames(1, "机械工程与自动化学院分党委", ("机械学院",), ("jixie@example.edu.cn",)),
    UnitNames(2, "材料科学与工程学院分党委", ("材料学院",), ("cailiao@example.edu.cn",)),
    UnitNames(3, "信息学院分党委", ("信息学院",), ()),
    UnitNames(5, "电子信息学院分党委", ("电子学院",), ()),
    UnitNames(4, "图书馆直属党总支", ("图书馆",), ()),
]


def test_registered_address_wins_over_content():
    found = identify(UNITS, sender="JiXie@example.edu.cn", texts=["材料学院 总结"], learned={})
    assert (found.unit_id, found.method) == (1, "registered_address")


def test_alias_in_subject_identifies_a_personal_address():
    found = identify(UNITS, sender="12345@qq.com", texts=["机械学院立项材料", ""], learned={})
    assert (found.unit_id, found.method) == (1, "content")


def test_name_without_suffix_counts():
    assert units_named_in("2021年材料科学与工程学院开展支部立项工作总结", UNITS) == {2}


def test_alias_inside_another_units_longer_name_does_not_count():
    assert units_named_in("电子信息学院分党委 汇总表", UNITS) == {5}
    assert units_named_in("信息学院分党委 汇总表", UNITS) == {3}
    assert units_named_in("图书馆直属党总支", UNITS) == {4}


def test_two_units_named_is_a_conflict_and_unassigned():
    found = identify(
        UNITS, sender="someone@163.com", texts=["机械学院、材料学院联合材料"], learned={}
    )
    assert found.unit_id is None and found.conflict and found.candidates == {1, 2}


def test_learned_address_used_only_when_content_names_nobody():
    learned = {"sec@qq.com": 2}
    assert (
        identify(UNITS, sender="sec@qq.com", texts=["材料", "见附件"], learned=learned).unit_id == 2
    )
    assert (
        identify(UNITS, sender="sec@qq.com", texts=["机械学院材料"], learned=learned).unit_id == 1
    )


def test_nothing_known_is_unassigned():
    found = identify(UNITS, sender="x@gmail.com", texts=["材料", "请查收"], learned={})
    assert found.unit_id is None and not found.conflict and found.method is None
