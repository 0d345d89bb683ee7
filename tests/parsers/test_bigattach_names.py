"""超大附件 names are taken whole from the link text: full-width brackets, spaces and several
links in one mail, in QQ and 163 layouts, HTML and plain text; each link gives its own sentence."""

from datetime import datetime

import pytest

try:
    from intake.samples import mail as sample_mail
except ImportError:  # the sample builders before their move
    from intake import samples as sample_mail
from parsers.bigattach import find_in_html, find_in_text, merge
from parsers.checks import CheckContext
from parsers.checks.registry import MESSAGE, run_checks
from parsers.mail import parse_message

SENT = datetime(2022, 4, 1, 9, 30)
NAMES = ["机关党委工作总结（盖章）.pdf", "2022 立项结果汇总表【定稿】(1).xlsx"]


def _mail(layout: str, files: list[tuple[str, str]]) -> bytes:
    build = sample_mail.qq_big_attachment if layout == "qq" else sample_mail.netease_big_attachment
    return build(
        sender="jiguan@qq.com",
        to="zzb@example.edu.cn",
        subject="机关党委材料",
        files=files,
        date=SENT,
    )


@pytest.mark.parametrize("layout", ["qq", "netease"])
def test_names_with_full_width_brackets_are_whole(layout):
    mail = parse_message(_mail(layout, [(NAMES[0], "80.2M")]))
    assert [b.filename for b in mail.big_attachments] == [NAMES[0]]


@pytest.mark.parametrize("layout", ["qq", "netease"])
def test_two_links_give_two_names_and_two_sentences(layout):
    mail = parse_message(_mail(layout, [(NAMES[0], "80.2M"), (NAMES[1], "1.3M")]))
    assert [b.filename for b in mail.big_attachments] == NAMES
    problems, _ = run_checks(
        MESSAGE, {"big_attachments": [vars(b) for b in mail.big_attachments]}, CheckContext()
    )
    assert [p.code for p in problems] == ["oversize_link", "oversize_link"]
    assert len({p.message for p in problems}) == 2
    for name, problem in zip(NAMES, problems, strict=True):
        assert f"（{name}）" in problem.message


def test_plain_text_names_keep_brackets_and_drop_an_unclosed_one():
    text = (
        "从QQ邮箱发来的超大附件\n\n"
        "机关党委工作总结（盖章）.pdf (80M, 2022年04月15日 10:00 到期)\n"
        "进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?k=abc&t=exs_ftn_download\n\n"
        "附件(汇总表（盖章）.zip) (3M, 2022年04月15日 10:00 到期)\n"
        "进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?k=abd&t=exs_ftn_download\n"
        "请下载“总结【终稿】.docx”：https://mail.qq.com/cgi-bin/ftnExs_download?k=abe\n"
    )
    assert [b.filename for b in find_in_text(text)] == [
        "机关党委工作总结（盖章）.pdf",
        "汇总表（盖章）.zip",
        "总结【终稿】.docx",
    ]


def test_html_anchor_text_is_the_whole_name_and_merge_keeps_the_fuller():
    url = "https://wx.mail.qq.com/ftn/download?func=3&k=abc"
    markup = (
        f'<div id="QQMailBigAttach"><a href="{url}">2022年 机关党委 工作总结（盖章）.pdf</a></div>'
    )
    html_links = find_in_html(markup)
    assert [b.filename for b in html_links] == ["2022年 机关党委 工作总结（盖章）.pdf"]
    text_links = find_in_text(
        f"超大附件\n2022年 机关党委 工作总结（盖章）.pdf\n进入下载页面：{url}\n"
    )
    assert [b.filename for b in text_links] == ["工作总结（盖章）.pdf"]  # plain text: the last word
    assert [b.filename for b in merge(text_links, html_links)] == [
        "2022年 机关党委 工作总结（盖章）.pdf"
    ]


def test_existing_names_are_unchanged():
    mail = parse_message(_mail("netease", [("a.zip", "58.3M"), ("汇总表.rar", "1.2G")]))
    assert [b.filename for b in mail.big_attachments] == ["a.zip", "汇总表.rar"]
