"""parsers.mail: every client style and special message, round-tripped through parse_message."""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from intake.samples import mail as sample_mail
from parsers.charsets import decode_words, parse_header_params
from parsers.mail import header_message_id, parse_message

CN = timezone(timedelta(hours=8))
SENT = datetime(2022, 3, 31, 16, 30, tzinfo=CN)
ARRIVED = datetime(2022, 3, 31, 16, 30, 25, tzinfo=CN)
LONG_NAME = "2021年机关直属党总支开展支部立项工作总结（终稿）修订版第二次提交.docx"
SUBJECT = "机关直属党总支立项材料（王喆、朱镕基）"
BODY = "组织部老师：\n您好！附件是立项材料，请查收。\n王喆 朱镕"


def _b64(text: str, codec: str) -> str:
    return base64.b64encode(text.encode(codec)).decode()


@pytest.mark.parametrize("style", sample_mail.STYLES)
def test_every_style_round_trips(style):
    files = [
        (LONG_NAME, b"PK\x03\x04docx"),
        ("汇总表（机关党总支）.xlsx", b"PK\x03\x04xlsx"),
        ("scan.pdf", b"%PDF-1.4"),
    ]
    raw = sample_mail.build_message(
        sender="王喆 <WangZhe1986@QQ.com>",
        to="党委组织部 <zzb@example.edu.cn>",
        subject=SUBJECT,
        body=BODY,
        attachments=files,
        style=style,
        date=SENT,
        arrived=ARRIVED,
        message_id="<abc.123@qq.com>",
    )
    mail = parse_message(raw)
    assert mail.subject == SUBJECT
    assert mail.from_addr == "wangzhe1986@qq.com"
    assert mail.from_name == "王喆"
    assert "朱镕" in mail.body_text and "王喆" in mail.body_text
    assert [a.filename for a in mail.attachments] == [name for name, _ in files]
    assert [a.data for a in mail.attachments] == [data for _, data in files]
    assert not any(a.inline for a in mail.attachments)
    assert mail.message_id == "abc.123@qq.com"
    assert mail.date == SENT and mail.received_at == ARRIVED
    assert mail.return_path is None and mail.reply_to is None
    assert mail.content_type == "multipart/mixed"


def test_foxmail_labels_gbk_bytes_as_gb2312():
    raw = sample_mail.build_message(
        sender="王喆 <wz@qq.com>",
        to="zzb@example.edu.cn",
        subject=SUBJECT,
        body=BODY,
        attachments=[("总结.docx", b"x")],
        style="foxmail",
        date=SENT,
    )
    assert b"=?GB2312?B?" in raw and b'filename="=?GB2312?B?' in raw and b'charset="GB2312"' in raw
    assert b"Foxmail" in raw
    with pytest.raises(UnicodeEncodeError):
        "镕喆".encode("gb2312")  # the point: these are GBK-only characters
    mail = parse_message(raw)
    assert "朱镕" in mail.body_text and mail.attachments[0].filename == "总结.docx"


def test_outlook_uses_rfc2231_continuations_and_qq_splits_words():
    outlook = sample_mail.build_message(
        sender="a@example.edu.cn",
        to="b@example.edu.cn",
        subject="s",
        body="b",
        attachments=[(LONG_NAME, b"x")],
        style="outlook",
        date=SENT,
    )
    assert b"filename*0*=utf-8''" in outlook and b"filename*1*=" in outlook
    qq = sample_mail.build_message(
        sender="a@qq.com",
        to="b@example.edu.cn",
        subject=SUBJECT,
        body="b",
        attachments=[(LONG_NAME, b"x")],
        style="qq",
        date=SENT,
    )
    assert b"X-QQ-mid" in qq and qq.count(b"=?utf-8?B?") >= 4
    assert parse_message(qq).attachments[0].filename == LONG_NAME


def test_raw_8bit_headers():
    raw = sample_mail.build_message(
        sender="图书馆 <lib@example.edu.cn>",
        to="zzb@example.edu.cn",
        subject=SUBJECT,
        body=BODY,
        attachments=[("立项材料.zip", b"PK")],
        style="raw8bit",
        date=SENT,
    )
    assert SUBJECT.encode("gbk") in raw and "立项材料.zip".encode("gbk") in raw
    mail = parse_message(raw)
    assert mail.subject == SUBJECT and mail.attachments[0].filename == "立项材料.zip"
    utf8 = b"Subject: " + "材料报送".encode() + b"\nFrom: a@b.cn\n\nbody\n"
    assert parse_message(utf8).subject == "材料报送"


def test_hand_written_encodings():
    raw = (
        "Subject: =?big5?B?" + _b64("資料報送", "big5") + "?=\n"
        "From: =?gbk?Q?=D5=C5=C8=FD?= <zhang@example.edu.cn>\n"
        "Message-ID:  <  id-1@example.edu.cn >\n"
        "Return-Path: <>\n"
        "References: <r1@x> <r2@x>\n"
        "In-Reply-To: <r2@x>\n"
        "Content-Type: multipart/mixed; boundary=b1\n\n"
        "--b1\nContent-Type: text/plain; charset=big5\nContent-Transfer-Encoding: base64\n\n"
        + _b64("繁體內容", "big5")
        + "\n"
        '--b1\nContent-Type: application/octet-stream; name="=?big5?B?'
        + _b64("繁體.docx", "big5")
        + '?="\n\nAA==\n'
        "--b1\nContent-Type: application/octet-stream\n"
        "Content-Disposition: attachment; filename*=gbk''"
        + "".join(f"%{b:02X}" for b in "汇总表.xlsx".encode("gbk"))
        + "\n\nAA==\n"
        "--b1\nContent-Type: application/pdf\n"
        "Content-Disposition: attachment;\n filename*0*=utf-8''%E6%89%AB%E6%8F%8F;\n "
        'filename*1=".pdf"\n\nAA==\n'
        "--b1\nContent-Type: application/pdf\nContent-Disposition: attachment; "
        'filename="..\\\\..\\\\tmp\\\\evil/报告.pdf"\n\nAA==\n'
        "--b1\nContent-Type: application/pdf\nContent-Disposition: attachment\n\nAA==\n"
        "--b1--\n"
    ).encode("utf-8")
    mail = parse_message(raw)
    assert mail.subject == "資料報送"
    assert mail.from_name == "张三"
    assert mail.body_text == "繁體內容"
    assert [a.filename for a in mail.attachments] == [
        "繁體.docx",
        "汇总表.xlsx",
        "扫描.pdf",
        "报告.pdf",
        "attachment-5.pdf",
    ]
    assert mail.message_id == "id-1@example.edu.cn"
    assert mail.return_path == ""
    assert mail.references == ["r1@x", "r2@x"] and mail.in_reply_to == "r2@x"


def test_header_helpers():
    split = (
        "=?UTF-8?B?"
        + base64.b64encode("朱镕".encode()[:4]).decode()
        + "?=\r\n =?UTF-8?B?"
        + base64.b64encode("朱镕".encode()[4:]).decode()
        + "?="
    )
    assert decode_words(split) == "朱镕"
    assert decode_words("=?gb2312?B?" + _b64("王喆", "gbk") + "?=") == "王喆"
    main, params = parse_header_params(
        'attachment; filename="=?GBK?B?' + _b64("总结.docx", "gbk") + '?="'
    )
    assert main == "attachment" and params["filename"] == "总结.docx"


def test_received_is_the_newest_header_and_date_may_lie():
    raw = sample_mail.build_message(
        sender="a@example.edu.cn",
        to="b@example.edu.cn",
        subject="s",
        body="b",
        date=datetime(2022, 4, 1, 16, 40, tzinfo=CN),
        arrived=datetime(2022, 4, 1, 17, 20, 5, tzinfo=CN),
    )
    mail = parse_message(raw)
    assert mail.received_at == datetime(2022, 4, 1, 17, 20, 5, tzinfo=CN)
    assert mail.date == datetime(2022, 4, 1, 16, 40, tzinfo=CN)
    assert parse_message(b"From: a@b.cn\nSubject: x\n\nhi\n").received_at is None


def test_cp936_zip_member_names():
    members = [
        ("图书馆直属党总支立项材料/2021年工作总结.docx", b"docx" * 50),
        ("汇总表（盖章）.pdf", b"%PDF"),
    ]
    data = sample_mail.zip_cp936(members)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert not any(info.flag_bits & 0x800 for info in archive.infolist())
    assert archive.namelist()[0] != members[0][0]  # cp437 mojibake without the right encoding
    gbk = zipfile.ZipFile(io.BytesIO(data), metadata_encoding="gbk")
    assert gbk.namelist() == [name for name, _ in members]
    assert gbk.read(members[0][0]) == members[0][1]
    raw = sample_mail.build_message(
        sender="a@example.edu.cn",
        to="b@example.edu.cn",
        subject="zip",
        body="b",
        attachments=[("材料.zip", data)],
        style="raw8bit",
        date=SENT,
    )
    attached = parse_message(raw).attachments[0]
    assert attached.filename == "材料.zip" and attached.data == data


def test_nested_rfc822_attachments_and_body():
    inner = sample_mail.build_message(
        sender="王喆 <wz@qq.com>",
        to="x@example.edu.cn",
        subject="内层：立项材料",
        body="内层正文 朱镕",
        attachments=[("内层总结.docx", b"inner")],
        style="foxmail",
        date=SENT,
    )
    raw = sample_mail.forwarded(
        inner,
        sender="机关党总支 <jiguan@example.edu.cn>",
        to="zzb@example.edu.cn",
        subject="转发：立项材料",
        body="转发王喆老师的材料。",
        date=SENT,
    )
    mail = parse_message(raw)
    assert mail.subject == "转发：立项材料"
    assert "转发王喆老师的材料" in mail.body_text and "内层正文 朱镕" in mail.body_text
    assert [a.filename for a in mail.attachments] == ["内层总结.docx"]
    assert mail.attachments[0].data == b"inner"


def test_big_attachment_links():
    qq = parse_message(
        sample_mail.qq_big_attachment(
            sender="a@qq.com",
            to="zzb@example.edu.cn",
            subject="化工学院材料",
            files=[("化工学院材料.zip", "126.5M")],
            expires="2022-04-15 10:00",
            date=SENT,
        )
    )
    assert [(b.filename, b.provider, b.expires) for b in qq.big_attachments] == [
        ("化工学院材料.zip", "qq", "2022-04-15 10:00")
    ]
    assert qq.big_attachments[0].url.startswith("https://wx.mail.qq.com/ftn/download?")
    assert qq.attachments == []
    netease = parse_message(
        sample_mail.netease_big_attachment(
            sender="a@163.com",
            to="zzb@example.edu.cn",
            subject="材料",
            files=[("a.zip", "58.3M"), ("汇总表.rar", "1.2G")],
            expires="2022年4月16日 09:30",
            date=SENT,
        )
    )
    assert [(b.filename, b.provider, b.expires) for b in netease.big_attachments] == [
        ("a.zip", "netease", "2022年4月16日 09:30"),
        ("汇总表.rar", "netease", "2022年4月16日 09:30"),
    ]
    assert "large-attachment-download" in netease.big_attachments[0].url
    text_only = parse_message(
        (
            "Subject: x\nFrom: a@qq.com\nContent-Type: text/plain; charset=utf-8\n\n"
            "从QQ邮箱发来的超大附件\n\n"
            "材料.zip (80M, 2022年04月15日 10:00 到期)\n进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?k=abc&t=exs_ftn_download\n"
        ).encode()
    )
    assert [(b.filename, b.provider, b.expires) for b in text_only.big_attachments] == [
        ("材料.zip", "qq", "2022年04月15日 10:00")
    ]
    plain_163 = sample_mail.build_message(
        sender="a@163.com",
        to="b@example.edu.cn",
        subject="s",
        body="无超大附件",
        style="netease",
        date=SENT,
        html_body='<html><head><style id="cloudAttachStyle">'
        "#divNeteaseBigAttach{display:none;}</style></head><body>正文</body></html>",
    )
    assert parse_message(plain_163).big_attachments == []


def test_inline_signature_image_and_html_only_body():
    raw = (
        b"From: a@b.cn\nSubject: s\nContent-Type: multipart/related; boundary=r\n\n"
        b"--r\nContent-Type: text/html; charset=gb2312\n\n"
        + "<p>您好&nbsp;<b>镕</b></p><div>第二行</div>".encode("gbk")
        + b"\n--r\nContent-Type: image/png\nContent-ID: <logo>\nContent-Transfer-Encoding: base64\n"
        b"\niVBORw0KGgo=\n--r--\n"
    )
    mail = parse_message(raw)
    assert mail.body_text == "您好 镕\n第二行"
    assert len(mail.attachments) == 1 and mail.attachments[0].inline
    assert mail.attachments[0].filename == "attachment-1.png"


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@b.cn\nSubject: broken\nContent-Type: multipart/mixed; boundary=zz\n\n--yy\n"
        b"Content-Type: text/plain\n\nhello\n",
        b"From: a@b.cn\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: "
        b"application/pdf\n"
        b'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="a.pdf\n\n'
        b"!!!not base64\n",
        b"\x00\xff\xfe garbage without headers",
        b"Content-Type: multipart/mixed\n\nno boundary at all\n",
        b"From: =?bogus-charset?B?@@@?= <<<>>>\nDate: yesterday\nReceived: nonsense\nSubject: "
        b"=?utf-8?Q?=E6=9D?=\n\nx",
    ],
)
def test_broken_input_does_not_raise(raw):
    mail = parse_message(raw)
    assert isinstance(mail.body_text, str)


def test_broken_boundary_keeps_text_and_records_defect():
    raw = (
        b"From: a@b.cn\nSubject: broken\nContent-Type: multipart/mixed; boundary=zz\n\n"
        b"--zz\nContent-Type: text/plain\n\nhello\n"
    )
    mail = parse_message(raw)
    assert "hello" in mail.body_text and mail.defects


def test_empty_input_raises():
    with pytest.raises(ValueError):
        parse_message(b"")
    with pytest.raises(ValueError):
        parse_message(b"  \r\n")


def test_bounce_and_auto_reply_headers():
    bounce = parse_message(
        sample_mail.bounce(
            to="zzb@example.edu.cn",
            failed_recipient="old@example.edu.cn",
            original_subject="通知",
            date=SENT,
        )
    )
    assert bounce.content_type == "multipart/report" and bounce.report_type == "delivery-status"
    assert bounce.return_path == "" and bounce.from_addr == "mailer-daemon@mx.example.edu.cn"
    assert "5.1.1" in bounce.body_text
    auto = parse_message(
        sample_mail.auto_reply(
            sender="a@example.edu.cn",
            to="zzb@example.edu.cn",
            subject="通知",
            date=SENT,
            in_reply_to="<n1@example.edu.cn>",
        )
    )
    assert auto.subject == "自动回复: 通知" and auto.headers["auto-submitted"] == "auto-replied"
    assert auto.in_reply_to == "n1@example.edu.cn"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Message-ID: <a@b.cn>\r\nX: 1\r\n\r\nbody\n\nMessage-ID: <later@b.cn>\n", "a@b.cn"),
        (b"Message-ID: <a@b.cn>\nX: 1\n\nbody\r\n\r\nMessage-ID: <later@b.cn>\r\n", "a@b.cn"),
        (b"X: 1\n\nMessage-ID: <in-body@b.cn>\r\n\r\n", None),  # the LF blank line comes first
        (b"X: 1\r\n\r\nMessage-ID: <in-body@b.cn>\n\n", None),  # the CRLF one comes first
        (b"Message-ID: <only-headers@b.cn>", "only-headers@b.cn"),
    ],
)
def test_the_message_id_is_read_from_the_header_block_alone(raw, expected):
    assert header_message_id(raw) == expected
