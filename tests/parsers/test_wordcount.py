"""Tests of the 字 count against hand-counted samples."""

import pytest

from parsers.wordcount import count_zi


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   \n\t\u3000", 0),
        ("基本情况", 4),
        ("一、基本情况：", 7),  # 一 、 基 本 情 况 ：
        ("（一）党建引领", 7),  # （ 一 ） 党 建 引 领
        ("2021年", 2),  # 2021 | 年
        ("2021年机械学院开展支部立项工作", 14),  # 2021 + 13 characters
        ("共有36个党支部，覆盖率100%。", 14),  # 共 有 36 个 党 支 部 ， 覆 盖 率 100 % 。
        ("Hello, world!", 4),  # Hello , world !
    ],
)
def test_hand_counted(text, expected):
    assert count_zi(text) == expected


def test_mixed_latin_and_cjk():
    # PPT | 和 | Word | 文 | 档
    assert count_zi("PPT和Word文档") == 5
    # “ 学 思 践 悟 ” 主 题 党 日
    assert count_zi("“学思践悟”主题党日") == 10


def test_runs_of_letters_and_digits_count_once():
    assert count_zi("abc123def") == 1
    assert count_zi("abc 123 def") == 3
    assert count_zi("3.5") == 3  # 3 | . | 5


def test_full_width_letters_count_each():
    assert count_zi("ＡＢＣ１２") == 5


def test_white_space_between_cjk_is_free():
    assert count_zi("党 建\n引\u3000领") == 4
