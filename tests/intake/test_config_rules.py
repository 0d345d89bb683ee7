"""``[rules]`` and ``[[items]]``: absent, the 2022 notice; a mistake, one line naming the key."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from intake.config import ConfigError, load_settings, parse_settings
from parsers.rules import DEFAULT_RULES, ItemSetting, default_items
from parsers.vocabulary import ITEM_KEYS, ITEM_LABELS, ITEM_SHORT_LABELS

ROOT = Path(__file__).resolve().parents[2]

BASE: dict[str, Any] = {
    "campaign": {"name": "测试活动", "deadline": "2022-04-01T17:00:00+08:00"},
    "smtp": {"from": "组织部 <zzb@example.edu.cn>", "outbox_dir": "outbox"},
    "subcommittees": [
        {
            "name": "机械工程与自动化学院分党委",
            "aliases": ["机械学院"],
            "emails": ["jixie@example.edu.cn"],
        }
    ],
}


def settings_with(tmp_path: Path, **sections: Any):
    raw = copy.deepcopy(BASE)
    raw.update(sections)
    return parse_settings(raw, base_dir=tmp_path)


def test_absent_rules_and_items_are_the_2022_notice(tmp_path):
    rules = settings_with(tmp_path).rules
    assert rules == DEFAULT_RULES
    assert (rules.basic_max_zi, rules.cases, rules.case_zi, rules.photos_per_case) == (
        1000,
        (1, 2),
        (300, 500),
        (2, 3),
    )
    assert rules.grades == ("最佳", "优秀", "培育") and rules.best_share == 0.30
    assert rules.items == default_items()
    assert rules.required_keys == ITEM_KEYS


def test_empty_rules_section_and_item_list_keep_the_defaults(tmp_path):
    assert settings_with(tmp_path, rules={}, items=[]).rules == DEFAULT_RULES


def test_every_rules_key_is_parsed(tmp_path):
    rules = settings_with(
        tmp_path,
        rules={
            "basic_max_zi": 800,
            "cases": [2, 4],
            "case_zi": [0, 600],
            "photos_per_case": [0, 5],
            "grades": [" 一等 ", "二等"],
            "best_share": 0.25,
        },
    ).rules
    assert rules.basic_max_zi == 800
    assert rules.cases == (2, 4) and rules.case_zi == (0, 600) and rules.photos_per_case == (0, 5)
    assert rules.grades == ("一等", "二等") and rules.best_grade == "一等"
    assert rules.best_share == 0.25 and isinstance(rules.best_share, float)
    assert rules.best_limit(10) == 3
    assert rules.items == default_items()


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("cases", [1, 1], (1, 1)),
        ("case_zi", [500, 500], (500, 500)),
        ("photos_per_case", [0, 1], (0, 1)),
        ("best_share", 1, 1.0),
        ("grades", ["最佳"], ("最佳",)),
    ],
)
def test_edge_values_are_accepted(tmp_path, key, value, expected):
    assert getattr(settings_with(tmp_path, rules={key: value}).rules, key) == expected


def test_items_override_labels_and_required_and_keep_item_order(tmp_path):
    rules = settings_with(
        tmp_path,
        items=[
            {"key": "table_scan", "label": " 汇总表盖章件 ", "required": False},
            {"key": "summary", "short_label": "总结文档"},
        ],
    ).rules
    assert tuple(item.key for item in rules.items) == ITEM_KEYS
    assert rules.item("table_scan") == ItemSetting(
        "table_scan", "汇总表盖章件", ITEM_SHORT_LABELS["table_scan"], False
    )
    assert rules.item("summary") == ItemSetting("summary", ITEM_LABELS["summary"], "总结文档", True)
    assert (
        rules.item("summary_scan") == default_items()[1]
        and rules.item("table") == default_items()[2]
    )
    assert rules.required_keys == ("summary", "summary_scan", "table")
    assert rules.labels["table_scan"] == "汇总表盖章件"


def test_toml_rules_and_items_load_from_a_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        """
[campaign]
name = "2023年活动"
deadline = 2023-04-01T17:00:00+08:00
[smtp]
from = "组织部 <zzb@example.edu.cn>"
outbox_dir = "outbox"
[rules]
basic_max_zi = 1200
cases = [2, 3]
best_share = 0.2
[[items]]
key = "summary_scan"
required = false
[[items]]
key = "table"
label = "立项汇总表"
""",
        encoding="utf-8",
    )
    rules = load_settings(path).rules
    assert (rules.basic_max_zi, rules.cases, rules.best_share) == (1200, (2, 3), 0.2)
    assert rules.case_zi == DEFAULT_RULES.case_zi and rules.grades == DEFAULT_RULES.grades
    assert rules.required_keys == ("summary", "table", "table_scan")
    assert rules.label("table") == "立项汇总表"


def test_example_config_rules_are_the_2022_notice(monkeypatch):
    monkeypatch.setenv("INTAKE_IMAP_PASSWORD", "imap-secret")
    monkeypatch.setenv("INTAKE_SMTP_PASSWORD", "smtp-secret")
    assert load_settings(ROOT / "config.example.toml").rules == DEFAULT_RULES


BAD_RULES = [
    ({"colour": 1}, "rules.colour"),
    ({"basic_max_zi": 0}, "rules.basic_max_zi"),
    ({"basic_max_zi": -5}, "rules.basic_max_zi"),
    ({"basic_max_zi": True}, "rules.basic_max_zi"),
    ({"basic_max_zi": 1.5}, "rules.basic_max_zi"),
    ({"basic_max_zi": "1000"}, "rules.basic_max_zi"),
    ({"cases": [0, 2]}, "rules.cases"),
    ({"cases": [2, 1]}, "rules.cases"),
    ({"cases": [1]}, "rules.cases"),
    ({"cases": [1, 2, 3]}, "rules.cases"),
    ({"cases": "1-2"}, "rules.cases"),
    ({"cases": 2}, "rules.cases"),
    ({"cases": [1, "2"]}, "rules.cases"),
    ({"cases": [True, 2]}, "rules.cases"),
    ({"cases": [1.0, 2]}, "rules.cases"),
    ({"case_zi": [500, 300]}, "rules.case_zi"),
    ({"case_zi": [-1, 300]}, "rules.case_zi"),
    ({"case_zi": [0, 0]}, "rules.case_zi"),
    ({"photos_per_case": [3, 2]}, "rules.photos_per_case"),
    ({"photos_per_case": [-1, 2]}, "rules.photos_per_case"),
    ({"photos_per_case": [0, 0]}, "rules.photos_per_case"),
    ({"grades": []}, "rules.grades"),
    ({"grades": ["最佳", "最佳"]}, "rules.grades"),
    ({"grades": ["最佳", " 最佳 "]}, "rules.grades"),
    ({"grades": ["最佳", ""]}, "rules.grades"),
    ({"grades": "最佳"}, "rules.grades"),
    ({"grades": [1, 2]}, "rules.grades"),
    ({"best_share": 0}, "rules.best_share"),
    ({"best_share": -0.1}, "rules.best_share"),
    ({"best_share": 1.5}, "rules.best_share"),
    ({"best_share": 30}, "rules.best_share"),
    ({"best_share": True}, "rules.best_share"),
    ({"best_share": "0.3"}, "rules.best_share"),
    ({"best_share": float("nan")}, "rules.best_share"),
]

BAD_ITEMS = [
    ({"key": "table"}, "items"),
    (["table"], "items[1]"),
    ([{}], "items[1].key"),
    ([{"key": "photos"}], "items[1].key"),
    ([{"key": 1}], "items[1].key"),
    ([{"key": "table"}, {"key": "table", "label": "又一个"}], "items[2].key"),
    ([{"key": "table", "colour": "red"}], "items[1].colour"),
    ([{"key": "table", "label": ""}], "items[1].label"),
    ([{"key": "table", "label": "   "}], "items[1].label"),
    ([{"key": "table", "label": 5}], "items[1].label"),
    ([{"key": "table", "short_label": ""}], "items[1].short_label"),
    ([{"key": "table", "required": "yes"}], "items[1].required"),
    ([{"key": "table", "required": 1}], "items[1].required"),
    ([{"key": key, "required": False} for key in ITEM_KEYS], "items"),
]


@pytest.mark.parametrize(
    "sections, key",
    [({"rules": rules}, key) for rules, key in BAD_RULES]
    + [({"rules": "strict"}, "rules")]
    + [({"items": items}, key) for items, key in BAD_ITEMS],
)
def test_each_bad_value_is_one_line_naming_the_key(tmp_path, sections, key):
    with pytest.raises(ConfigError) as caught:
        settings_with(tmp_path, **sections)
    message = str(caught.value)
    assert key in message and "\n" not in message


def test_cli_reports_a_bad_rules_value_in_one_line_without_traceback(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        """
[campaign]
name = "测试活动"
deadline = 2022-04-01T17:00:00+08:00
[smtp]
from = "组织部 <zzb@example.edu.cn>"
outbox_dir = "outbox"
[rules]
case_zi = [500, 300]
""",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "intake", "--config", str(path), "report"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "rules.case_zi" in done.stderr
